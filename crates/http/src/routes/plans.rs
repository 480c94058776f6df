//! `POST /v1/meal-plans`, `GET /v1/meal-plans/{id}`,
//! `POST /v1/meal-plans/{id}/schedule`, `GET /v1/schedule?date=`,
//! `DELETE /v1/scheduled-meals/{id}`, `DELETE /v1/scheduled-plans/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{
    Day, Meal, MealPlanId, MealPlanInput, MealPlanItemInput, NewMealPlan, ScheduledMealId, ScheduledPlanId,
    ValidationErrors,
};
use schemars::JsonSchema;
use serde_json::{Map, Value};

use crate::cached::{self, Members, TagOf};
use crate::input::{self, Fields};
use crate::problem::Problem;
use crate::{HttpState, auth};

/// A meal plan to create: recipes on the days of the plan.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct CreateMealPlanRequest {
    /// 1 to 200 characters after trimming.
    #[schemars(length(min = 1, max = 200))]
    name: String,
    /// How many days the plan covers: 1 to 366.
    #[schemars(range(min = 1, max = 366))]
    days: i64,
    /// 1 to 500 items, kept in this order.
    #[schemars(length(min = 1, max = 500))]
    items: Vec<MealPlanItemRequest>,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct MealPlanItemRequest {
    /// 0-based day of the plan, less than `days`.
    #[schemars(range(min = 0, max = 365))]
    day: i64,
    meal: Meal,
    /// One of the user's recipes.
    recipe_id: i64,
    /// In (0, 100].
    #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
    servings: f64,
}

/// Where to place a plan on the calendar.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct ScheduleRequest {
    /// The plan's day 0; its last day must not pass 2200-12-31.
    start_date: Day,
}

/// The order errors are reported in: the top-level fields, then each
/// item's by index, in field order.
fn rank(field: &str) -> usize {
    input::list_rank(field, &["name", "days", "items"], &["day", "meal", "recipe_id", "servings"])
}

fn item(fields: &Fields<'_>, errors: &mut ValidationErrors) -> MealPlanItemInput {
    MealPlanItemInput {
        day: fields.integer("day", errors),
        meal: fields.meal("meal", errors),
        recipe_id: fields.id("recipe_id", errors),
        servings: fields.number("servings", errors),
    }
}

/// Every type and rule mistake of the body, or the plan input.
fn parse(body: &Map<String, Value>) -> Result<MealPlanInput, ValidationErrors> {
    let fields = Fields::new(body);
    let mut errors = ValidationErrors::new();
    let name = fields.string("name", &mut errors);
    let days = fields.integer("days", &mut errors);
    let mut item_errors = ValidationErrors::new();
    let items = fields
        .array("items", &mut errors)
        .map(|items| Fields::objects(items, "items", &mut item_errors, MealPlanItemInput::default, item));
    let input = MealPlanInput { name, days, items };
    let rules = match NewMealPlan::parse(input.clone()) {
        Ok(_) if errors.is_empty() && item_errors.is_empty() => return Ok(input),
        Ok(_) => ValidationErrors::new(),
        Err(rules) => rules,
    };
    Err(input::with_list_errors(errors, item_errors, rules, "items", rank))
}

pub async fn create(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let body = input::json_object(&req, payload).await?;
    let plan = parse(&body).map_err(Problem::unprocessable)?;
    Ok(HttpResponse::Created().json(state.service.create_meal_plan(user, plan).await?))
}

pub async fn get(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let id = input::id_param(&req, "id")?;
    Ok(HttpResponse::Ok().json(state.service.meal_plan(user, MealPlanId(id)).await?))
}

pub async fn schedule(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let id = input::id_param(&req, "id")?;
    let body = input::json_object(&req, payload).await?;
    let mut errors = ValidationErrors::new();
    let start = Fields::new(&body).day("start_date", &mut errors).ok_or_else(|| Problem::unprocessable(errors))?;
    Ok(HttpResponse::Created().json(state.service.schedule_meal_plan(user, MealPlanId(id), start).await?))
}

pub async fn schedule_day(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let date = input::day_param("date", &input::query_param(&req, "date")?)?;
    let (schedule, report) = state.service.reported(state.service.schedule_day(user, date)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Reads, &schedule?))
}

pub async fn delete_meal(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let id = input::id_param(&req, "id")?;
    state.service.delete_scheduled_meal(user, ScheduledMealId(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn delete_plan(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let id = input::id_param(&req, "id")?;
    state.service.delete_scheduled_plan(user, ScheduledPlanId(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields_of(body: Value) -> Vec<String> {
        let Value::Object(body) = body else { unreachable!() };
        parse(&body).unwrap_err().errors().iter().map(|e| e.field.clone()).collect()
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
