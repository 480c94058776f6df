//! `POST /v1/meal-plans`, `GET /v1/meal-plans/{id}`,
//! `POST /v1/meal-plans/{id}/schedule`, `GET /v1/schedule?date=`,
//! `DELETE /v1/scheduled-meals/{id}`, `DELETE /v1/scheduled-plans/{id}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{
    Day, Meal, MealPlan, MealPlanId, MealPlanInput, MealPlanItemInput, NewMealPlan, ScheduledMealId, ScheduledPlan,
    ScheduledPlanId, ValidationErrors,
};
use macrotrack_ports::KeptAnswer;
use serde_json::{Map, Value};

use crate::body::{self, Id, Item, Required};
use crate::cached::{self, Members, TagOf};
use crate::extract::{Body, FromBody, PathId, Read, User};
use crate::idempotency::{Idempotency, json_answer};
use crate::input;
use crate::problem::Problem;
use crate::state::HttpState;

body! {
    /// A meal plan to create: recipes on the days of the plan.
    #[schemars(example = serde_json::json!({
        "name": "Two porridge days", "days": 2,
        "items": [
            {"day": 0, "meal": "breakfast", "recipe_id": 1, "servings": 1},
            {"day": 1, "meal": "breakfast", "recipe_id": 1, "servings": 1.5},
        ],
    }))]
    pub struct CreateMealPlanRequest {
        /// 1 to 200 characters after trimming.
        #[schemars(length(min = 1, max = 200), pattern(body::TEXT_PATTERN))]
        name: Required<String>,
        /// How many days the plan covers: 1 to 366.
        #[schemars(range(min = 1, max = 366))]
        days: Required<i64>,
        /// 1 to 500 items, kept in this order.
        #[schemars(length(min = 1, max = 500))]
        items: Required<Vec<Item<MealPlanItemRequest>>>,
    }
}

body! {
    pub struct MealPlanItemRequest {
        /// 0-based day of the plan, less than `days`.
        #[schemars(range(min = 0, max = 365))]
        day: Required<i64>,
        meal: Required<Meal>,
        /// One of the user's recipes.
        recipe_id: Required<Id>,
        /// In (0, 100].
        #[schemars(range(min = body::MIN_SERVINGS, max = 100))]
        servings: Required<f64>,
    }
}

body! {
    /// Where to place a plan on the calendar.
    #[schemars(example = serde_json::json!({"start_date": "2026-11-30"}))]
    pub struct ScheduleRequest {
        /// The plan's day 0; its last day must not pass 2200-12-31.
        start_date: Required<Day>,
    }
}

/// The order errors are reported in: the top-level fields, then each
/// item's by index, in field order.
fn rank(field: &str) -> usize {
    input::list_rank(field, CreateMealPlanRequest::FIELDS, MealPlanItemRequest::FIELDS)
}

/// Every type and rule mistake of the body, or the plan input.
pub(crate) fn parse(body: Map<String, Value>) -> Result<MealPlanInput, ValidationErrors> {
    let (request, errors) = body::read::<CreateMealPlanRequest>(body);
    let (errors, item_errors) = body::split_list(errors, "items");
    let items = request.items.value().map(|items| {
        items
            .into_iter()
            .map(|item| match item {
                Item::Object(item) => MealPlanItemInput {
                    day: item.day.value(),
                    meal: item.meal.value(),
                    recipe_id: item.recipe_id.value().map(|Id(id)| id),
                    servings: item.servings.value(),
                },
                Item::NotObject => MealPlanItemInput::default(),
            })
            .collect()
    });
    let input = MealPlanInput { name: request.name.value(), days: request.days.value(), items };
    let rules = match NewMealPlan::parse(input.clone()) {
        Ok(_) if errors.is_empty() && item_errors.is_empty() => return Ok(input),
        Ok(_) => ValidationErrors::new(),
        Err(rules) => rules,
    };
    Err(input::with_list_errors(errors, item_errors, rules, "items", rank))
}

impl FromBody for CreateMealPlanRequest {
    type Output = MealPlanInput;
    const READ: Read<Self::Output> = parse;
}

/// The plan's day 0, when it is a date.
impl FromBody for ScheduleRequest {
    type Output = Day;
    const READ: Read<Self::Output> = |object| {
        let (request, errors) = body::read::<ScheduleRequest>(object);
        request.start_date.value().ok_or(errors)
    };
}

/// Creates a meal plan of the user's.
pub async fn create(
    state: web::Data<HttpState>,
    User(user): User,
    idempotency: Idempotency,
    Body(plan): Body<CreateMealPlanRequest>,
) -> Result<HttpResponse, Problem> {
    idempotency.run(&state, user, created, |keep| state.service.create_meal_plan_keeping(user, plan, keep)).await
}

fn created(plan: &MealPlan) -> KeptAnswer {
    json_answer(StatusCode::CREATED, Some(format!("/v1/meal-plans/{}", plan.id.0)), plan)
}

/// One of the user's meal plans.
pub async fn get(state: web::Data<HttpState>, User(user): User, PathId(id): PathId) -> Result<HttpResponse, Problem> {
    Ok(HttpResponse::Ok().json(state.service.meal_plan(user, MealPlanId(id)).await?))
}

/// Places a plan on the calendar.
pub async fn schedule(
    state: web::Data<HttpState>,
    User(user): User,
    PathId(id): PathId,
    idempotency: Idempotency,
    Body(start): Body<ScheduleRequest>,
) -> Result<HttpResponse, Problem> {
    let plan = MealPlanId(id);
    idempotency
        .run(&state, user, scheduled, |keep| state.service.schedule_meal_plan_keeping(user, plan, start, keep))
        .await
}

fn scheduled(plan: &ScheduledPlan) -> KeptAnswer {
    json_answer(StatusCode::CREATED, None, plan)
}

/// What is scheduled on a day (cached).
pub async fn schedule_day(
    state: web::Data<HttpState>,
    User(user): User,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let date = input::day_param("date", &input::query_param(&req, "date")?)?;
    let (schedule, report) = state.service.reported(state.service.schedule_day(user, date)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Reads, &schedule?))
}

/// Deletes one scheduled meal.
pub async fn delete_meal(
    state: web::Data<HttpState>,
    User(user): User,
    PathId(id): PathId,
) -> Result<HttpResponse, Problem> {
    state.service.delete_scheduled_meal(user, ScheduledMealId(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes a scheduled plan and its meals.
pub async fn delete_plan(
    state: web::Data<HttpState>,
    User(user): User,
    PathId(id): PathId,
) -> Result<HttpResponse, Problem> {
    state.service.delete_scheduled_plan(user, ScheduledPlanId(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields_of(body: Value) -> Vec<String> {
        let Value::Object(body) = body else { unreachable!() };
        parse(body).unwrap_err().errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn every_offending_field_is_named_in_order() {
        let good = json!({"day": 0, "meal": "lunch", "recipe_id": 1, "servings": 1});
        let body = json!({"name": "Week", "days": 7, "items": [
            good,
            {"day": 7, "meal": "brunch", "recipe_id": 1, "servings": 0},
            {"day": -1, "meal": "lunch", "recipe_id": "x", "servings": 1},
            null,
            {"day": 1.5},
        ]});
        assert_eq!(
            fields_of(body),
            [
                "items.1.day",
                "items.1.meal",
                "items.1.servings",
                "items.2.day",
                "items.2.recipe_id",
                "items.3",
                "items.4.day",
                "items.4.meal",
                "items.4.recipe_id",
                "items.4.servings",
            ]
        );
        assert_eq!(fields_of(json!({"name": 1, "days": "7"})), ["name", "days", "items"]);
        for days in [0, 367] {
            assert_eq!(fields_of(json!({"name": "x", "days": days, "items": [good]})), ["days"]);
        }
        assert_eq!(fields_of(json!({"name": "x", "days": 1, "items": vec![json!(1); 501]})), ["items"]);
    }
}
