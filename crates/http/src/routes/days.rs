//! `POST /v1/days/{date}/copy`, `PUT|DELETE /v1/days/{date}/completion`, `GET /v1/streaks?today=`,
//! `GET /v1/summary?from=&to=`, `GET /v1/days/{date}?today=`,
//! `GET /v1/weeks/{start}`.

use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{Day, DayCopy, Meal, ValidationErrors};
use macrotrack_service::ReadAhead;

use crate::body::{self, Optional, Required};
use crate::cached::{self, Members, TagOf};
use crate::extract::{Body, FromBody, Read, User};
use crate::idempotency::Idempotency;
use crate::problem::Problem;
use crate::routes::logs;
use crate::state::HttpState;
use crate::{auth, input};

body! {
    /// Where the day's entries go: to `to`, each into its own meal, or
    /// only `meal`'s entries, into `to_meal` when given (which needs
    /// `meal`). `to` may be the day itself (a meal into another meal).
    #[schemars(example = serde_json::json!({"to": "2026-11-25", "meal": "breakfast"}))]
    #[schemars(extend("dependentRequired" = {"to_meal": ["meal"]}))]
    pub struct CopyDayRequest {
        to: Required<Day>,
        meal: Optional<Meal>,
        to_meal: Optional<Meal>,
    }
}

/// Where to copy: the day, the meal copied and the meal copied into.
pub(crate) type CopyTarget = (Day, Option<Meal>, Option<Meal>);

/// The body's type mistakes, then its rule (`to_meal` needs `meal`).
pub(crate) fn parse_copy(body: serde_json::Map<String, serde_json::Value>) -> Result<CopyTarget, ValidationErrors> {
    let (request, mut errors) = body::read::<CopyDayRequest>(body);
    let given = |field: &Optional<Meal>| !matches!(field, Optional::Absent);
    if let Err(broken) = DayCopy::meals_rule(given(&request.meal), given(&request.to_meal)) {
        errors.extend(broken);
    }
    let (to, meal, to_meal) = (request.to.value(), request.meal.value(), request.to_meal.value());
    match to {
        Some(to) if errors.is_empty() => Ok((to, meal, to_meal)),
        _ => Err(errors),
    }
}

impl FromBody for CopyDayRequest {
    type Output = CopyTarget;
    const READ: Read<Self::Output> = parse_copy;
}

/// Copies a day or a meal: 201 with the copies, or 422 naming `date` or
/// `meal` (nothing to copy) or `to` (its day would pass its bound).
pub async fn copy(
    state: web::Data<HttpState>,
    User(user): User,
    idempotency: Idempotency,
    req: HttpRequest,
    Body((to, meal, to_meal)): Body<CopyDayRequest>,
) -> Result<HttpResponse, Problem> {
    let from = input::path_day(&req, "date")?;
    let copy = DayCopy::parse(from, to, meal, to_meal).map_err(Problem::unprocessable)?;
    idempotency.run(&state, user, logs::created, |keep| state.service.copy_day_keeping(user, copy, keep)).await
}

/// Marks a day completed.
pub async fn complete(
    state: web::Data<HttpState>,
    User(user): User,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let date = input::path_day(&req, "date")?;
    Ok(HttpResponse::Ok().json(state.service.complete_day(user, date).await?))
}

/// Undoes a day's completion.
pub async fn undo(state: web::Data<HttpState>, User(user): User, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let date = input::path_day(&req, "date")?;
    Ok(HttpResponse::Ok().json(state.service.undo_day(user, date).await?))
}

/// Completed-day streaks (cached).
pub async fn streak(state: web::Data<HttpState>, User(user): User, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let today = input::optional_query_day(&req, "today")?;
    let (streak, report) = state.service.reported(state.service.streak_on(user, today)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Reads, &streak?))
}

/// Daily totals over a range (cached).
pub async fn summary(state: web::Data<HttpState>, User(user): User, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let from = input::optional_query_param(&req, "from")?;
    let to = input::optional_query_param(&req, "to")?;
    let [from, to] = match (from, to) {
        (Some(from), Some(to)) => input::day_params([("from", &from), ("to", &to)])?,
        (from, to) => {
            let mut missing = macrotrack_domain::ValidationErrors::new();
            for (name, value) in [("from", from), ("to", to)] {
                if value.is_none() {
                    missing.add(name, "is required");
                }
            }
            return Err(Problem::bad_parameters(missing));
        }
    };
    let (summary, report) = state.service.reported(state.service.summary(user, from, to)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Body, &summary?))
}

/// The day screen: its four entries are read ahead with the credential
/// (one store round trip) when the date and today parse.
pub async fn dashboard(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let date = input::path_day(&req, "date");
    let today = input::optional_query_day(&req, "today");
    let ahead: Vec<ReadAhead> = match (&date, &today) {
        (Ok(date), Ok(today)) => vec![ReadAhead::Dashboard { date: *date, today: *today }],
        _ => Vec::new(),
    };
    auth::as_user(&state, &req, &ahead, async |user| {
        let (date, today) = (date?, today?);
        let (day, report) = state.service.reported(state.service.dashboard_on(user, date, today)).await;
        Ok(cached::json(&req, &report, Members::PerPart, TagOf::Reads, &day?))
    })
    .await
}

/// A week at a glance (cached).
pub async fn week(state: web::Data<HttpState>, User(user): User, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let start = input::path_day(&req, "start")?;
    let (week, report) = state.service.reported(state.service.week(user, start)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Body, &week?))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn fields_of(body: Value) -> Vec<String> {
        let Value::Object(body) = body else { unreachable!() };
        parse_copy(body).unwrap_err().errors().iter().map(|error| error.field.clone()).collect()
    }

    #[test]
    fn a_copy_needs_a_day_and_names_to_meal_without_meal() {
        assert_eq!(fields_of(json!({})), ["to"]);
        assert_eq!(fields_of(json!({"to": "2026-11-25", "to_meal": "lunch"})), ["to_meal"]);
        assert_eq!(fields_of(json!({"to": "x", "meal": "brunch", "to_meal": "lunch"})), ["to", "meal"]);
        let Value::Object(body) = json!({"to": "2026-11-25", "meal": "breakfast", "to_meal": "lunch"}) else {
            unreachable!()
        };
        assert_eq!(
            parse_copy(body).unwrap(),
            ("2026-11-25".parse().unwrap(), Some(Meal::Breakfast), Some(Meal::Lunch))
        );
    }
}
