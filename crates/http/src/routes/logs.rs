//! `POST /v1/logs` (a batch, all or nothing), `GET /v1/logs?date=`,
//! `PATCH /v1/logs/{id}`, `DELETE /v1/logs/{id}`.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{Day, LogEntry, LogEntryId, LogEntryInput, LogEntryPatch, Meal, NewLogEntry, ValidationErrors};
use macrotrack_ports::KeptAnswer;
use macrotrack_service::ETag;
use schemars::JsonSchema;
use serde::Serialize;

use crate::body::{self, Id, Item, Optional, Required};
use crate::cached::{self, Members};
use crate::extract::{Body, FromBody, PathId, Read, User};
use crate::idempotency::{Idempotency, json_answer};
use crate::problem::Problem;
use crate::state::HttpState;
use crate::{auth, input};

/// The logged entries.
#[derive(Serialize, JsonSchema)]
pub struct CreatedLogs {
    /// In the order of the request.
    entries: Vec<LogEntry>,
}

body! {
    /// A batch of 1 to 100 entries, logged all or nothing.
    #[schemars(example = serde_json::json!({"entries": [
        {"date": "2026-11-24", "meal": "breakfast", "food_id": 1, "servings": 1.5},
        {"date": "2026-11-25", "meal": "dinner", "recipe_id": 1, "servings": 1},
    ]}))]
    pub struct CreateLogsRequest {
        #[schemars(length(min = 1, max = 100))]
        entries: Required<Vec<Item<LogEntryRequest>>>,
    }
}

body! {
    /// One entry: exactly one of `food_id` and `recipe_id` (null reads as
    /// absent).
    // As `oneOf` branches, each with one id present and the other absent:
    // openapi-typescript renders that as the entry's type and one branch
    // (an `anyOf`, or a `not`, it renders as `unknown`: no type at all).
    #[schemars(extend("oneOf" = [
        {"required": ["food_id"], "properties": {"food_id": true, "recipe_id": false}},
        {"required": ["recipe_id"], "properties": {"recipe_id": true, "food_id": false}},
    ]))]
    pub struct LogEntryRequest {
        date: Required<Day>,
        meal: Required<Meal>,
        food_id: Optional<Id>,
        recipe_id: Optional<Id>,
        /// In (0, 100].
        #[schemars(range(min = body::MIN_SERVINGS, max = 100))]
        servings: Required<f64>,
    }
}

body! {
    /// A change to a log entry: at least one field (null reads as absent).
    #[schemars(extend("minProperties" = 1))]
    #[schemars(example = serde_json::json!({"date": "2026-11-25", "servings": 2}))]
    pub struct UpdateLogRequest {
        date: Optional<Day>,
        meal: Optional<Meal>,
        /// In (0, 100].
        #[schemars(range(min = body::MIN_SERVINGS, max = 100))]
        servings: Optional<f64>,
    }
}

/// An optional id. One present with the wrong type counts as present for
/// the exactly-one-of rule, so its entry is not also told it has none.
fn item_id(id: Optional<Id>) -> Option<i64> {
    match id {
        Optional::Absent => None,
        Optional::Value(Id(id)) => Some(id),
        Optional::Mistyped(_) => Some(0),
    }
}

fn entry(item: Item<LogEntryRequest>) -> LogEntryInput {
    match item {
        Item::Object(entry) => LogEntryInput {
            date: entry.date.value(),
            meal: entry.meal.value(),
            food_id: item_id(entry.food_id),
            recipe_id: item_id(entry.recipe_id),
            servings: entry.servings.value(),
        },
        // One the domain finds nothing more to say about.
        Item::NotObject => LogEntryInput { food_id: Some(0), ..LogEntryInput::default() },
    }
}

/// Every type and rule mistake of the batch, or the validated entries.
pub(crate) fn parse(body: serde_json::Map<String, serde_json::Value>) -> Result<Vec<NewLogEntry>, ValidationErrors> {
    let (request, errors) = body::read::<CreateLogsRequest>(body);
    let Some(items) = request.entries.value() else {
        return Err(errors);
    };
    let inputs = items.into_iter().map(entry).collect();
    let complete = errors.is_empty();
    let rules = match NewLogEntry::parse_batch(inputs, complete) {
        Ok(entries) => return Ok(entries),
        Err(rules) => rules,
    };
    if rules.errors().iter().any(|rule| rule.field == "entries") {
        // A batch of the wrong size (the domain's rule) is one error, not
        // one per entry.
        return Err(rules);
    }
    let mut errors = errors;
    errors.extend(rules);
    Err(by_entry(errors))
}

/// Groups the errors by entry: `entries` first, then `entries.N.*` by N.
fn by_entry(errors: ValidationErrors) -> ValidationErrors {
    input::ordered(errors, |field| field.split('.').nth(1).and_then(|n| n.parse::<usize>().ok()).map_or(0, |n| n + 1))
}

impl FromBody for CreateLogsRequest {
    type Output = Vec<NewLogEntry>;
    const READ: Read<Self::Output> = parse;
}

/// Logs a batch.
pub async fn create(
    state: web::Data<HttpState>,
    User(user): User,
    idempotency: Idempotency,
    Body(entries): Body<CreateLogsRequest>,
) -> Result<HttpResponse, Problem> {
    idempotency.run(&state, user, created, |keep| state.service.create_log_entries_keeping(user, entries, keep)).await
}

#[allow(clippy::ptr_arg, reason = "the use case's value is a Vec, and `Idempotency::run` renders `&T`")]
fn created(entries: &Vec<LogEntry>) -> KeptAnswer {
    json_answer(StatusCode::CREATED, None, &CreatedLogs { entries: entries.clone() })
}

/// The hot path: a cache hit's stored JSON is the body as it is.
/// A valid date is read ahead with the credential (one store
/// round trip); a bad one is reported after the token is checked.
pub async fn day(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let date = input::query_param(&req, "date").and_then(|text| input::day_param("date", &text));
    let token = auth::token(&req)?;
    let date = match date {
        Ok(date) => date,
        Err(problem) => {
            state.service.authenticate(token).await?;
            return Err(problem);
        }
    };
    let (json, report) = state.service.authenticated_day_logs_json(token, date).await?;
    let json = json?;
    // The stored JSON is the body, and its stored digest the tag.
    let etag = report.etag().unwrap_or_else(|| ETag::of_json(&json));
    Ok(cached::answer(&req, &etag, &report, Members::One, |mut ok| ok.insert_header(ContentType::json()).body(json)))
}

/// The patch's type mistakes and rule breaks, or the patch. No field to
/// change is one error on the body itself (field `""`).
pub(crate) fn patch(body: serde_json::Map<String, serde_json::Value>) -> Result<LogEntryPatch, ValidationErrors> {
    let (request, mut errors) = body::read::<UpdateLogRequest>(body);
    // "No field" is not news when a field was there with a mistake.
    let mistyped = request.date.is_mistyped() || request.meal.is_mistyped() || request.servings.is_mistyped();
    match LogEntryPatch::parse(request.date.value(), request.meal.value(), request.servings.value()) {
        Ok(patch) if errors.is_empty() => Ok(patch),
        Ok(_) => Err(errors),
        Err(rules) => {
            for rule in rules.errors() {
                if !(mistyped && rule.field.is_empty()) {
                    errors.add(rule.field.clone(), rule.message.clone());
                }
            }
            let fields = UpdateLogRequest::FIELDS;
            let rank = |field: &str| {
                if field.is_empty() {
                    0
                } else {
                    1 + fields.iter().position(|known| *known == field).unwrap_or(fields.len())
                }
            };
            Err(input::ordered(errors, rank))
        }
    }
}

impl FromBody for UpdateLogRequest {
    type Output = LogEntryPatch;
    const READ: Read<Self::Output> = patch;
}

/// Moves or edits an entry.
pub async fn update(
    state: web::Data<HttpState>,
    User(user): User,
    PathId(id): PathId,
    Body(patch): Body<UpdateLogRequest>,
) -> Result<HttpResponse, Problem> {
    Ok(HttpResponse::Ok().json(state.service.update_log_entry(user, LogEntryId(id), patch).await?))
}

/// Deletes an entry.
pub async fn delete(
    state: web::Data<HttpState>,
    User(user): User,
    PathId(id): PathId,
) -> Result<HttpResponse, Problem> {
    state.service.delete_log_entry(user, LogEntryId(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn fields_of(body: Value) -> Vec<String> {
        let Value::Object(body) = body else { unreachable!() };
        parse(body).unwrap_err().errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn every_offending_field_is_named() {
        let good = json!({"date": "2026-11-24", "meal": "lunch", "food_id": 1, "servings": 1});
        let body = json!({"entries": [
            good,
            {"date": "2026-11-24", "meal": "lunch", "food_id": "x", "servings": 1},
            {"date": "1800-01-01", "meal": "brunch", "food_id": 1, "recipe_id": 2, "servings": 0},
            7,
            {"meal": "lunch", "servings": "1"},
        ]});
        assert_eq!(
            fields_of(body),
            [
                "entries.1.food_id",
                "entries.2.date",
                "entries.2.meal",
                "entries.2",
                "entries.2.servings",
                "entries.3",
                "entries.4.date",
                "entries.4.servings",
                "entries.4",
            ]
        );
        assert_eq!(fields_of(json!({})), ["entries"]);
        assert_eq!(fields_of(json!({"entries": {}})), ["entries"]);
        assert_eq!(fields_of(json!({"entries": []})), ["entries"]);
        assert_eq!(fields_of(json!({"entries": vec![good_entry(); 101]})), ["entries"]);
    }

    fn good_entry() -> Value {
        json!({"date": "2026-11-24", "meal": "lunch", "food_id": 1, "servings": 1})
    }

    fn patch_fields(body: Value) -> Vec<String> {
        let Value::Object(body) = body else { unreachable!() };
        patch(body).unwrap_err().errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn patch_rules() {
        assert_eq!(patch_fields(json!({})), [""]);
        assert_eq!(patch_fields(json!({"date": null, "meal": null, "servings": null, "other": 1})), [""]);
        assert_eq!(patch_fields(json!({"servings": 0})), ["servings"]);
        assert_eq!(patch_fields(json!({"meal": "brunch"})), ["meal"]);
        assert_eq!(
            patch_fields(json!({"servings": "2", "meal": 1, "date": "2026-02-30"})),
            ["date", "meal", "servings"]
        );
        assert_eq!(patch_fields(json!({"date": "2201-01-01", "servings": 100.01})), ["date", "servings"]);
        let Value::Object(body) = json!({"meal": "snack", "date": null}) else { unreachable!() };
        assert_eq!(patch(body).unwrap().meal, Some(Meal::Snack));
    }

    #[test]
    fn a_valid_batch_parses() {
        let Value::Object(body) = json!({"entries": [good_entry(), {"date": "2026-11-25", "meal": "snack", "recipe_id": 3, "food_id": null, "servings": 2.5}]})
        else {
            unreachable!()
        };
        assert_eq!(parse(body).unwrap().len(), 2);
    }
}
