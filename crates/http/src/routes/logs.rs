//! `POST /v1/logs` (a batch, all or nothing), `GET /v1/logs?date=`.

use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::validation::MAX_BATCH;
use macrotrack_domain::{LogEntryInput, NewLogEntry, ValidationErrors};
use serde::Serialize;

use crate::input::{self, Fields, Optional};
use crate::problem::Problem;
use crate::{HttpState, auth};

#[derive(Serialize)]
struct Created {
    entries: Vec<macrotrack_domain::LogEntry>,
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
    let inputs = items
        .iter()
        .enumerate()
        .map(|(index, item)| match item.as_object() {
            Some(object) => entry(&Fields::nested(object, &format!("entries.{index}")), &mut errors),
            None => {
                errors.add(format!("entries.{index}"), "must be an object");
                // A placeholder the domain finds nothing more to say about,
                // keeping the indexes of the entries after it aligned.
                LogEntryInput { food_id: Some(0), ..LogEntryInput::default() }
            }
        })
        .collect();
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
    Ok(HttpResponse::Created().json(Created { entries }))
}

pub async fn day(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let date = input::day_param("date", &input::query_param(&req, "date")?)?;
    let logs = state.service.day_logs(user, date).await?;
    Ok(HttpResponse::Ok().json(logs))
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

    #[test]
    fn a_valid_batch_parses() {
        let Value::Object(body) = json!({"entries": [good_entry(), {"date": "2026-11-25", "meal": "snack", "recipe_id": 3, "food_id": null, "servings": 2.5}]})
        else {
            unreachable!()
        };
        assert_eq!(parse(&body).unwrap().len(), 2);
    }
}
