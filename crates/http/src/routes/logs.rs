//! `POST /v1/logs` (a batch, all or nothing), `GET /v1/logs?date=`,
//! `PATCH /v1/logs/{id}`, `DELETE /v1/logs/{id}`.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{
    AmountInput, Day, LogEntry, LogEntryId, LogEntryInput, LogEntryPatch, Meal, NewLogEntry, QuickInput,
    ValidationErrors,
};
use macrotrack_ports::KeptAnswer;
use macrotrack_service::ETag;
use schemars::JsonSchema;
use serde::Serialize;

use crate::body::{self, Id, Item, Nested, Optional, Required};
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
    /// A batch of 1 to 100 entries, logged all or nothing. (An entry by
    /// portion names one of its food's `portions` and a `quantity`:
    /// `{"food_id": 3, "portion_id": 4, "quantity": 0.5}`.)
    #[schemars(example = serde_json::json!({"entries": [
        {"date": "2026-11-24", "meal": "breakfast", "food_id": 1, "servings": 1.5},
        {"date": "2026-11-24", "meal": "lunch", "food_id": 2, "grams": 150},
        {"date": "2026-11-25", "meal": "dinner", "recipe_id": 1, "servings": 1},
        {"date": "2026-11-25", "meal": "snack", "quick": {"name": "Latte", "calories": 190,
            "protein_g": 10, "carbs_g": 18, "fat_g": 7}},
    ]}))]
    pub struct CreateLogsRequest {
        #[schemars(length(min = 1, max = 100))]
        entries: Required<Vec<Item<LogEntryRequest>>>,
    }
}

body! {
    /// Calories and macros logged without a food or recipe (quick add):
    /// the entry is one serving of them.
    #[schemars(example = serde_json::json!({"name": "Latte", "calories": 190, "protein_g": 10, "carbs_g": 18, "fat_g": 7}))]
    pub struct QuickRequest {
        /// 1 to 200 characters after trimming; absent: "Quick add" for a
        /// new entry, the entry's name kept in a PATCH.
        #[schemars(length(min = 1, max = 200), pattern(body::TEXT_PATTERN))]
        name: Optional<String>,
        #[schemars(range(min = 0, max = 10000))]
        calories: Required<f64>,
        #[schemars(range(min = 0, max = 1000))]
        protein_g: Required<f64>,
        #[schemars(range(min = 0, max = 1000))]
        carbs_g: Required<f64>,
        #[schemars(range(min = 0, max = 1000))]
        fat_g: Required<f64>,
    }
}

body! {
    /// One entry: exactly one of `food_id`, `recipe_id` and `quick`; a
    /// food's or recipe's amount as exactly one of `servings`, `grams` (of
    /// a food with `grams_per_serving`) and `portion_id` (one of the food's
    /// portions) with `quantity` (null reads as absent); a quick add has no
    /// amount. Grams and portions are converted through the food's
    /// `grams_per_serving`.
    // As `oneOf` branches, each with one id and one amount present and the
    // others absent: openapi-typescript renders that as the entry's type
    // and one branch (an `anyOf`, or a `not`, it renders as `unknown`: no
    // type at all). A recipe is logged by servings only.
    #[schemars(extend("oneOf" = [
        {"required": ["food_id", "servings"], "properties": {"food_id": true, "servings": true,
            "recipe_id": false, "quick": false, "grams": false, "portion_id": false, "quantity": false}},
        {"required": ["food_id", "grams"], "properties": {"food_id": true, "grams": true,
            "recipe_id": false, "quick": false, "servings": false, "portion_id": false, "quantity": false}},
        {"required": ["food_id", "portion_id", "quantity"], "properties": {
            "food_id": true, "portion_id": true, "quantity": true, "recipe_id": false, "quick": false,
            "servings": false, "grams": false}},
        {"required": ["recipe_id", "servings"], "properties": {"recipe_id": true, "servings": true,
            "food_id": false, "quick": false, "grams": false, "portion_id": false, "quantity": false}},
        {"required": ["quick"], "properties": {"quick": true, "food_id": false, "recipe_id": false,
            "servings": false, "grams": false, "portion_id": false, "quantity": false}},
    ]))]
    pub struct LogEntryRequest {
        date: Required<Day>,
        meal: Required<Meal>,
        food_id: Optional<Id>,
        recipe_id: Optional<Id>,
        /// In (0, 100].
        #[schemars(range(min = body::MIN_SERVINGS, max = 100))]
        servings: Optional<f64>,
        /// In (0, 5000].
        #[schemars(range(min = body::MIN_SERVINGS, max = 5000))]
        grams: Optional<f64>,
        portion_id: Optional<Id>,
        /// How many of the portion, in (0, 100]; only with `portion_id`.
        #[schemars(range(min = body::MIN_SERVINGS, max = 100))]
        quantity: Optional<f64>,
        quick: Optional<Nested<QuickRequest>>,
    }
}

body! {
    /// A change to a log entry: at least one field (null reads as absent);
    /// at most one of `servings`, `grams` and `portion_id` (with
    /// `quantity`), or `quantity` alone for an entry logged by portion;
    /// `quick` (new macros, and a name if given) only for a quick add,
    /// which takes no amount.
    #[schemars(extend("minProperties" = 1))]
    // The amount's branches, as the entry's: none (where quick may be),
    // one of the three, or a quantity alone.
    #[schemars(extend("oneOf" = [
        {"properties": {"servings": false, "grams": false, "portion_id": false, "quantity": false}},
        {"required": ["servings"], "properties": {"servings": true, "grams": false, "portion_id": false,
            "quantity": false, "quick": false}},
        {"required": ["grams"], "properties": {"grams": true, "servings": false, "portion_id": false,
            "quantity": false, "quick": false}},
        {"required": ["portion_id", "quantity"], "properties": {
            "portion_id": true, "quantity": true, "servings": false, "grams": false, "quick": false}},
        {"required": ["quantity"], "properties": {"quantity": true, "servings": false, "grams": false,
            "portion_id": false, "quick": false}},
    ]))]
    #[schemars(example = serde_json::json!({"date": "2026-11-25", "servings": 2}))]
    pub struct UpdateLogRequest {
        date: Optional<Day>,
        meal: Optional<Meal>,
        /// In (0, 100].
        #[schemars(range(min = body::MIN_SERVINGS, max = 100))]
        servings: Optional<f64>,
        /// In (0, 5000].
        #[schemars(range(min = body::MIN_SERVINGS, max = 5000))]
        grams: Optional<f64>,
        portion_id: Optional<Id>,
        /// In (0, 100].
        #[schemars(range(min = body::MIN_SERVINGS, max = 100))]
        quantity: Optional<f64>,
        quick: Optional<Nested<QuickRequest>>,
    }
}

/// A quick add as given; one of the wrong type counts as given (with
/// nothing in it), so its entry is not also told it has no item.
fn quick(quick: Optional<Nested<QuickRequest>>) -> Option<QuickInput> {
    match quick {
        Optional::Absent => None,
        Optional::Value(Nested(quick)) => Some(QuickInput {
            name: quick.name.value(),
            calories: quick.calories.value(),
            protein_g: quick.protein_g.value(),
            carbs_g: quick.carbs_g.value(),
            fat_g: quick.fat_g.value(),
        }),
        Optional::Mistyped(_) => Some(QuickInput::default()),
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

/// An optional number. One present with the wrong type counts as present
/// for the exactly-one-of rules: NaN, whose bound error `without_repeats`
/// drops, since its type error names the field already.
fn number(number: Optional<f64>) -> Option<f64> {
    match number {
        Optional::Absent => None,
        Optional::Value(number) => Some(number),
        Optional::Mistyped(_) => Some(f64::NAN),
    }
}

fn amount(
    servings: Optional<f64>,
    grams: Optional<f64>,
    portion_id: Optional<Id>,
    quantity: Optional<f64>,
) -> AmountInput {
    AmountInput {
        servings: number(servings),
        grams: number(grams),
        portion_id: item_id(portion_id),
        quantity: number(quantity),
    }
}

/// `errors` with `rules` after them, but no rule about a field the type
/// errors name already, or inside one (an entry that is not an object).
fn without_repeats(mut errors: ValidationErrors, rules: ValidationErrors) -> ValidationErrors {
    let typed: Vec<String> = errors.errors().iter().map(|error| error.field.clone()).collect();
    let named = |field: &str| {
        typed.iter().any(|typed| {
            field.strip_prefix(typed.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    };
    for rule in rules.errors() {
        if rule.field.is_empty() || !named(&rule.field) {
            errors.add(rule.field.clone(), rule.message.clone());
        }
    }
    errors
}

fn entry(item: Item<LogEntryRequest>) -> LogEntryInput {
    match item {
        Item::Object(entry) => LogEntryInput {
            date: entry.date.value(),
            meal: entry.meal.value(),
            food_id: item_id(entry.food_id),
            recipe_id: item_id(entry.recipe_id),
            amount: amount(entry.servings, entry.grams, entry.portion_id, entry.quantity),
            quick: quick(entry.quick),
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
    Err(by_entry(without_repeats(errors, rules)))
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
pub(crate) fn created(entries: &Vec<LogEntry>) -> KeptAnswer {
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
    let (request, errors) = body::read::<UpdateLogRequest>(body);
    let amount = amount(request.servings, request.grams, request.portion_id, request.quantity);
    match LogEntryPatch::parse(request.date.value(), request.meal.value(), amount, quick(request.quick)) {
        Ok(patch) if errors.is_empty() => Ok(patch),
        Ok(_) => Err(errors),
        Err(rules) => {
            // "No field" is not news when a field was there with a mistake
            // (every type error is one).
            let mut kept = ValidationErrors::new();
            for rule in rules.errors().iter().filter(|rule| errors.is_empty() || !rule.field.is_empty()) {
                kept.add(rule.field.clone(), rule.message.clone());
            }
            let errors = without_repeats(errors, kept);
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

    fn with_amount(amount: Value) -> Value {
        let mut entry = json!({"date": "2026-11-24", "meal": "lunch", "food_id": 1});
        entry.as_object_mut().unwrap().extend(amount.as_object().unwrap().clone());
        json!({"entries": [entry]})
    }

    #[test]
    fn an_entry_gives_exactly_one_amount_each_mistake_named_once() {
        assert_eq!(fields_of(with_amount(json!({}))), ["entries.0.servings"]);
        assert_eq!(fields_of(with_amount(json!({"quantity": 1}))), ["entries.0.quantity", "entries.0.servings"]);
        assert_eq!(fields_of(with_amount(json!({"grams": "150"}))), ["entries.0.grams"]);
        assert_eq!(fields_of(with_amount(json!({"grams": 0}))), ["entries.0.grams"]);
        assert_eq!(
            fields_of(with_amount(json!({"grams": 1, "servings": 1}))),
            ["entries.0.servings", "entries.0.grams"]
        );
        assert_eq!(fields_of(with_amount(json!({"portion_id": 1}))), ["entries.0.quantity"]);
        assert_eq!(fields_of(with_amount(json!({"portion_id": "a", "quantity": 1}))), ["entries.0.portion_id"]);
        assert_eq!(fields_of(json!({"entries": [7]})), ["entries.0"], "nothing more about an entry that is no object");
        let Value::Object(body) = with_amount(json!({"portion_id": 3, "quantity": 0.5, "servings": null})) else {
            unreachable!()
        };
        assert!(parse(body).is_ok());
    }

    #[test]
    fn a_patch_gives_at_most_one_amount_or_a_quantity_alone() {
        assert_eq!(patch_fields(json!({"quantity": "2"})), ["quantity"]);
        assert_eq!(patch_fields(json!({"quantity": 1, "grams": 2})), ["quantity"]);
        assert_eq!(patch_fields(json!({"grams": 5000.01})), ["grams"]);
        assert_eq!(patch_fields(json!({"servings": 1, "portion_id": 2, "quantity": 1})), ["servings", "portion_id"]);
        assert_eq!(patch_fields(json!({"date": "x", "portion_id": 2})), ["date", "quantity"]);
        let Value::Object(body) = json!({"quantity": 2}) else { unreachable!() };
        assert!(patch(body).is_ok());
    }

    #[test]
    fn a_valid_batch_parses() {
        let Value::Object(body) = json!({"entries": [good_entry(), {"date": "2026-11-25", "meal": "snack", "recipe_id": 3, "food_id": null, "servings": 2.5}]})
        else {
            unreachable!()
        };
        assert_eq!(parse(body).unwrap().len(), 2);
    }

    fn quick_entry(quick: Value) -> Value {
        json!({"entries": [{"date": "2026-11-24", "meal": "snack", "quick": quick}]})
    }

    #[test]
    fn a_quick_add_takes_no_item_and_no_amount_and_names_each_mistake_once() {
        let latte = json!({"name": "Latte", "calories": 190, "protein_g": 10, "carbs_g": 18, "fat_g": 7});
        let Value::Object(body) = quick_entry(latte.clone()) else { unreachable!() };
        let entries = parse(body).unwrap();
        assert_eq!(entries[0].item.food(), None);
        assert_eq!(entries[0].item.recipe(), None);

        assert_eq!(
            fields_of(quick_entry(json!({"calories": 1}))),
            ["entries.0.quick.protein_g", "entries.0.quick.carbs_g", "entries.0.quick.fat_g"]
        );
        assert_eq!(fields_of(quick_entry(json!(5))), ["entries.0.quick"], "nothing more inside a non-object");
        assert_eq!(
            fields_of(quick_entry(
                json!({"name": "", "calories": 10000.01, "protein_g": "1", "carbs_g": 0, "fat_g": 0})
            )),
            ["entries.0.quick.protein_g", "entries.0.quick.name", "entries.0.quick.calories"]
        );
        let mut with_food = quick_entry(latte.clone());
        with_food["entries"][0]["food_id"] = json!(1);
        with_food["entries"][0]["servings"] = json!(1);
        assert_eq!(fields_of(with_food), ["entries.0", "entries.0.servings"]);
    }

    #[test]
    fn a_patch_changes_quick_macros_without_an_amount() {
        let quick = json!({"calories": 100, "protein_g": 1, "carbs_g": 2, "fat_g": 3});
        let Value::Object(body) = json!({"quick": quick.clone(), "meal": "lunch"}) else { unreachable!() };
        let patch = patch(body).unwrap();
        assert_eq!(
            patch.quick.as_ref().map(|quick| quick.name.clone()),
            Some(None),
            "no name: the entry keeps its own"
        );
        assert_eq!(patch_fields(json!({"quick": quick, "grams": 5})), ["grams"]);
        assert_eq!(
            patch_fields(json!({"quick": {"calories": 1}})),
            ["quick.protein_g", "quick.carbs_g", "quick.fat_g"]
        );
    }
}
