//! `POST /v1/logs` (a batch, all or nothing), `GET /v1/logs?date=`,
//! `PATCH /v1/logs/{id}`, `DELETE /v1/logs/{id}`.

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::validation::MAX_BATCH;
use macrotrack_domain::{Day, LogEntry, LogEntryId, LogEntryInput, LogEntryPatch, Meal, NewLogEntry, ValidationErrors};
use macrotrack_service::{ETag, ReadAhead};
use schemars::JsonSchema;
use serde::Serialize;

use crate::cached::{self, Members};
use crate::input::{self, Fields, Optional};
use crate::problem::Problem;
use crate::{HttpState, auth};

/// The logged entries.
#[derive(Serialize, JsonSchema)]
pub struct CreatedLogs {
    /// In the order of the request.
    entries: Vec<LogEntry>,
}

/// A batch of 1 to 100 entries, logged all or nothing.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct CreateLogsRequest {
    #[schemars(length(min = 1, max = 100))]
    entries: Vec<LogEntryRequest>,
}

/// One entry: exactly one of `food_id` and `recipe_id`.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct LogEntryRequest {
    date: Day,
    meal: Meal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    food_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recipe_id: Option<i64>,
    /// In (0, 100].
    #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
    servings: f64,
}

/// A change to a log entry: at least one field (null reads as absent).
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct UpdateLogRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    meal: Option<Meal>,
    /// In (0, 100].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
    servings: Option<f64>,
}

/// An optional id. One present with the wrong type counts as present for
/// the exactly-one-of rule, so its entry is not also told it has none.
fn item_id(fields: &Fields<'_>, key: &str, errors: &mut ValidationErrors) -> Option<i64> {
    match fields.optional_id(key, errors) {
        Optional::Absent => None,
        Optional::Valid(id) => Some(id),
        Optional::Invalid => Some(0),
    }
}

fn entry(fields: &Fields<'_>, errors: &mut ValidationErrors) -> LogEntryInput {
    LogEntryInput {
        date: fields.day("date", errors),
        meal: fields.meal("meal", errors),
        food_id: item_id(fields, "food_id", errors),
        recipe_id: item_id(fields, "recipe_id", errors),
        servings: fields.number("servings", errors),
    }
}

/// Every type and rule mistake of the batch, or the validated entries.
fn parse(body: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<NewLogEntry>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let Some(items) = Fields::new(body).array("entries", &mut errors) else {
        return Err(errors);
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        // Checked before reading the entries so a huge batch is one error.
        errors.add("entries", format!("must hold 1 to {MAX_BATCH} entries"));
        return Err(errors);
    }
    // A non-object entry's placeholder is one the domain finds nothing more to say about.
    let placeholder = || LogEntryInput { food_id: Some(0), ..LogEntryInput::default() };
    let inputs = Fields::objects(items, "entries", &mut errors, placeholder, entry);
    let complete = errors.is_empty();
    let rules = match NewLogEntry::parse_batch(inputs, complete) {
        Ok(entries) => return Ok(entries),
        Err(rules) => rules,
    };
    errors.extend(rules);
    Err(by_entry(errors))
}

/// Groups the errors by entry: `entries` first, then `entries.N.*` by N.
fn by_entry(errors: ValidationErrors) -> ValidationErrors {
    input::ordered(errors, |field| field.split('.').nth(1).and_then(|n| n.parse::<usize>().ok()).map_or(0, |n| n + 1))
}

pub async fn create(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let body = input::json_object(&req, payload).await?;
    let entries = parse(&body).map_err(Problem::unprocessable)?;
    let entries = state.service.create_log_entries(user, entries).await?;
    Ok(HttpResponse::Created().json(CreatedLogs { entries }))
}

/// The hot path: a cache hit's stored JSON is the body as it is.
/// The hot read: a valid date is read ahead with the credential (one store
/// round trip); a bad one is reported after the token is checked.
pub async fn day(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let date = input::query_param(&req, "date").and_then(|text| input::day_param("date", &text));
    let ahead: Vec<ReadAhead> = date.iter().map(|date| ReadAhead::DayLogs(*date)).collect();
    auth::as_user(&state, &req, &ahead, async |user| {
        let (json, report) = state.service.reported(state.service.day_logs_json(user, date?)).await;
        let json = json?;
        // The stored JSON is the body, and its stored digest the tag.
        let etag = report.etag().unwrap_or_else(|| ETag::of_json(&json));
        Ok(cached::answer(&req, &etag, &report, Members::One, |mut ok| {
            ok.insert_header(ContentType::json()).body(json)
        }))
    })
    .await
}

/// The patch's type mistakes and rule breaks, or the patch. No field to
/// change is one error on the body itself (field `""`).
fn patch(body: &serde_json::Map<String, serde_json::Value>) -> Result<LogEntryPatch, ValidationErrors> {
    let fields = Fields::new(body);
    let mut errors = ValidationErrors::new();
    let date = fields.optional_parsed::<Day>("date", &mut errors);
    let meal = fields.optional_parsed::<Meal>("meal", &mut errors);
    let servings = fields.optional_number("servings", &mut errors);
    let mistyped = [date == Optional::Invalid, meal == Optional::Invalid, servings == Optional::Invalid];
    let (date, meal, servings) = (date.valid(), meal.valid(), servings.valid());
    match LogEntryPatch::parse(date, meal, servings) {
        Ok(patch) if errors.is_empty() => Ok(patch),
        Ok(_) => Err(errors),
        Err(rules) => {
            // "No field" is not news when a field was there with a mistake.
            let present = mistyped.contains(&true);
            for rule in rules.errors() {
                if !(present && rule.field.is_empty()) {
                    errors.add(rule.field.clone(), rule.message.clone());
                }
            }
            let rank = |field: &str| ["", "date", "meal", "servings"].iter().position(|known| *known == field);
            Err(input::ordered(errors, |field| rank(field).unwrap_or(4)))
        }
    }
}

pub async fn update(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let id = input::id_param(&req, "id")?;
    let body = input::json_object(&req, payload).await?;
    let patch = patch(&body).map_err(Problem::unprocessable)?;
    Ok(HttpResponse::Ok().json(state.service.update_log_entry(user, LogEntryId(id), patch).await?))
}

pub async fn delete(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let id = input::id_param(&req, "id")?;
    state.service.delete_log_entry(user, LogEntryId(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn fields_of(body: Value) -> Vec<String> {
        let Value::Object(body) = body else { unreachable!() };
        parse(&body).unwrap_err().errors().iter().map(|e| e.field.clone()).collect()
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
        patch(&body).unwrap_err().errors().iter().map(|e| e.field.clone()).collect()
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
        assert_eq!(patch(&body).unwrap().meal, Some(Meal::Snack));
    }

    #[test]
    fn a_valid_batch_parses() {
        let Value::Object(body) = json!({"entries": [good_entry(), {"date": "2026-11-25", "meal": "snack", "recipe_id": 3, "food_id": null, "servings": 2.5}]})
        else {
            unreachable!()
        };
        assert_eq!(parse(&body).unwrap().len(), 2);
    }
}
