//! `POST /v1/foods`, `GET /v1/foods/{id}`, `PATCH /v1/foods/{id}`,
//! `GET /v1/foods?query=&limit=`, `GET /v1/foods/frequent?limit=`, `GET /v1/foods/recent?limit=`.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{Food, FoodId, FoodInput, Gtin, GtinError, ValidationErrors};
use macrotrack_ports::KeptAnswer;
use macrotrack_service::ETag;

use crate::body::{self, Nullable, Optional, Required};
use crate::cached::{self, Members, TagOf};
use crate::extract::{Body, FromBody, LaterBody, PathId, Read, User};
use crate::idempotency::{Idempotency, json_answer};
use crate::input;
use crate::problem::Problem;
use crate::state::HttpState;

body! {
    /// A food to create, with its macros per serving.
    #[schemars(example = serde_json::json!({
        "name": "Overnight oats", "serving_size": 250, "serving_unit": "g",
        "calories": 310.5, "protein_g": 12, "carbs_g": 48.25, "fat_g": 7.5,
    }))]
    pub struct CreateFoodRequest {
        /// 1 to 200 characters after trimming.
        #[schemars(length(min = 1, max = 200), pattern(body::TEXT_PATTERN))]
        name: Required<String>,
        /// Null, absent, or 1 to 200 characters after trimming.
        #[schemars(length(min = 1, max = 200), pattern(body::TEXT_PATTERN))]
        brand: Optional<String>,
        /// In (0, 10000].
        #[schemars(range(min = body::MIN_SERVINGS, max = 10000))]
        serving_size: Required<f64>,
        /// 1 to 20 characters after trimming, e.g. `g`.
        #[schemars(length(min = 1, max = 20), pattern(body::TEXT_PATTERN))]
        serving_unit: Required<String>,
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
    /// Fields of one's own food to change; at least one (null reads as
    /// absent, but for `brand`, which null clears).
    #[schemars(extend("minProperties" = 1))]
    #[schemars(example = serde_json::json!({"name": "Steel-cut oats", "calories": 320}))]
    #[schemars(example = serde_json::json!({"brand": null}))]
    pub struct EditFoodRequest {
        /// 1 to 200 characters after trimming.
        #[schemars(length(min = 1, max = 200), pattern(body::TEXT_PATTERN))]
        name: Optional<String>,
        /// Null clears it; else 1 to 200 characters after trimming.
        #[serde(default)]
        #[schemars(length(min = 1, max = 200), pattern(body::TEXT_PATTERN))]
        brand: Nullable<String>,
        /// In (0, 10000].
        #[schemars(range(min = body::MIN_SERVINGS, max = 10000))]
        serving_size: Optional<f64>,
        #[schemars(length(min = 1, max = 20), pattern(body::TEXT_PATTERN))]
        serving_unit: Optional<String>,
        #[schemars(range(min = 0, max = 10000))]
        calories: Optional<f64>,
        #[schemars(range(min = 0, max = 1000))]
        protein_g: Optional<f64>,
        #[schemars(range(min = 0, max = 1000))]
        carbs_g: Optional<f64>,
        #[schemars(range(min = 0, max = 1000))]
        fat_g: Optional<f64>,
    }
}

/// Errors in the order of the body's fields.
fn rank(field: &str) -> usize {
    let fields = CreateFoodRequest::FIELDS;
    fields.iter().position(|known| *known == field).unwrap_or(fields.len())
}

/// Every type and rule mistake of a new food, or its input.
pub(crate) fn parse_new(body: serde_json::Map<String, serde_json::Value>) -> Result<FoodInput, ValidationErrors> {
    let (request, mut errors) = body::read::<CreateFoodRequest>(body);
    let food = FoodInput {
        name: request.name.value(),
        // Null or absent: no brand.
        brand: Some(request.brand.value()),
        serving_size: request.serving_size.value(),
        serving_unit: request.serving_unit.value(),
        calories: request.calories.value(),
        protein_g: request.protein_g.value(),
        carbs_g: request.carbs_g.value(),
        fat_g: request.fat_g.value(),
    };
    match macrotrack_domain::NewFood::parse(food.clone()) {
        Ok(_) if errors.is_empty() => Ok(food),
        // Type mistakes plus every rule the well-typed fields break.
        Ok(_) => Err(errors),
        Err(rules) => {
            errors.extend(rules);
            Err(input::ordered(errors, rank))
        }
    }
}

impl FromBody for CreateFoodRequest {
    type Output = FoodInput;
    const READ: Read<Self::Output> = parse_new;
}

/// Creates a food of the user's.
pub async fn create(
    state: web::Data<HttpState>,
    User(user): User,
    idempotency: Idempotency,
    Body(food): Body<CreateFoodRequest>,
) -> Result<HttpResponse, Problem> {
    idempotency.run(&state, user, created, |keep| state.service.create_food_keeping(user, food, keep)).await
}

fn created(food: &Food) -> KeptAnswer {
    json_answer(StatusCode::CREATED, Some(format!("/v1/foods/{}", food.id.0)), food)
}

/// The food is looked up before its body is read: a missing, foreign or
/// global food is 404 or 409 whatever the body holds.
pub async fn edit(
    state: web::Data<HttpState>,
    User(user): User,
    PathId(id): PathId,
    req: HttpRequest,
    body: LaterBody<EditFoodRequest>,
) -> Result<HttpResponse, Problem> {
    state.service.editable_food(user, FoodId(id)).await?;
    let food = body.read().await?;
    let if_match = cached::if_match(&req);
    let edited = state.service.edit_food_if(user, FoodId(id), food, if_match.as_ref()).await?;
    // The new state's tag, so the client can make its next edit conditional.
    Ok(HttpResponse::Ok().insert_header((header::ETAG, cached::quoted(&ETag::of_value(&edited)))).json(edited))
}

impl FromBody for EditFoodRequest {
    type Output = FoodInput;
    const READ: Read<Self::Output> = parse_patch;
}

/// Every type and rule mistake of a food's patch, or its input.
pub(crate) fn parse_patch(body: serde_json::Map<String, serde_json::Value>) -> Result<FoodInput, ValidationErrors> {
    let (request, mut errors) = body::read::<EditFoodRequest>(body);
    let food = FoodInput {
        name: request.name.value(),
        brand: request.brand.value(),
        serving_size: request.serving_size.value(),
        serving_unit: request.serving_unit.value(),
        calories: request.calories.value(),
        protein_g: request.protein_g.value(),
        carbs_g: request.carbs_g.value(),
        fat_g: request.fat_g.value(),
    };
    if !errors.is_empty() {
        // Rules the well-typed fields break; not "no field to change", which
        // a mistyped field (reported) makes look true.
        if let Err(rules) = macrotrack_domain::FoodPatch::parse(food) {
            for rule in rules.errors().iter().filter(|rule| !rule.field.is_empty()) {
                errors.add(rule.field.clone(), rule.message.clone());
            }
        }
        return Err(input::ordered(errors, rank));
    }
    macrotrack_domain::FoodPatch::parse(food.clone())?;
    Ok(food)
}

/// A food the user may see, tagged with its state (not cached by the server:
/// the tag is of the body, so it is the one `PATCH`'s `If-Match` compares).
pub async fn get(
    state: web::Data<HttpState>,
    User(user): User,
    PathId(id): PathId,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let (food, report) = state.service.reported(state.service.food(user, FoodId(id))).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Body, &food?))
}

/// The food carrying a barcode: 400 for a code of the wrong shape, 422
/// for a wrong check digit (after the token is checked, by `User`).
pub async fn by_barcode(
    state: web::Data<HttpState>,
    User(user): User,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let code = req.match_info().get("code").unwrap_or_default();
    let code = Gtin::parse(code).map_err(|error| match error {
        GtinError::Malformed => Problem::bad_parameter("code", error.to_string()),
        GtinError::CheckDigit => Problem::unprocessable(ValidationErrors::single("code", error.to_string())),
    })?;
    let (food, report) = state.service.reported(state.service.food_by_barcode(user, &code)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Body, &food?))
}

/// Foods by name, a page at a time.
pub async fn search(state: web::Data<HttpState>, User(user): User, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let query = input::optional_query_param(&req, "query")?.unwrap_or_default();
    let (limit, offset) = (input::limit_param(&req)?, input::offset_param(&req)?);
    let (found, report) = state.service.reported(state.service.search_foods(user, &query, limit, offset)).await;
    // A page of what the reads hold: the tag is the page's own.
    Ok(cached::json(&req, &report, Members::One, TagOf::Body, &found?))
}

/// The user's most recently logged foods (cached).
pub async fn recent(state: web::Data<HttpState>, User(user): User, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let limit = input::limit_param(&req)?;
    let (recent, report) = state.service.reported(state.service.recent_foods(user, limit)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Reads, &recent?))
}

/// The user's most logged foods (cached).
pub async fn frequent(
    state: web::Data<HttpState>,
    User(user): User,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let limit = input::limit_param(&req)?;
    let (frequent, report) = state.service.reported(state.service.frequent_foods(user, limit)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Reads, &frequent?))
}
