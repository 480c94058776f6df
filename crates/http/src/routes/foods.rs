//! `POST /v1/foods`, `GET /v1/foods/{id}`, `PATCH /v1/foods/{id}`,
//! `GET /v1/foods?query=&limit=`, `GET /v1/foods/frequent?limit=`.

use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{FoodId, FoodInput, ValidationErrors};
use schemars::JsonSchema;

use crate::cached::{self, Members, TagOf};
use crate::input::{self, Fields, Optional};
use crate::problem::Problem;
use crate::{HttpState, auth};

/// The fields of a food body, in the order errors are reported.
const FIELDS: [&str; 8] =
    ["name", "brand", "serving_size", "serving_unit", "calories", "protein_g", "carbs_g", "fat_g"];

/// A food to create, with its macros per serving.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct CreateFoodRequest {
    /// 1 to 200 characters after trimming.
    #[schemars(length(min = 1, max = 200))]
    name: String,
    /// Null, absent, or 1 to 200 characters after trimming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    brand: Option<String>,
    /// In (0, 10000].
    #[schemars(range(max = 10000), extend("exclusiveMinimum" = 0))]
    serving_size: f64,
    /// 1 to 20 characters after trimming, e.g. `g`.
    #[schemars(length(min = 1, max = 20))]
    serving_unit: String,
    #[schemars(range(min = 0, max = 10000))]
    calories: f64,
    #[schemars(range(min = 0, max = 1000))]
    protein_g: f64,
    #[schemars(range(min = 0, max = 1000))]
    carbs_g: f64,
    #[schemars(range(min = 0, max = 1000))]
    fat_g: f64,
}

pub async fn create(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let body = input::json_object(&req, payload).await?;
    let fields = Fields::new(&body);
    let mut errors = ValidationErrors::new();
    let brand = match fields.nullable_string("brand", &mut errors) {
        Optional::Valid(brand) => Some(brand),
        Optional::Absent | Optional::Invalid => None,
    };
    let food = FoodInput {
        name: fields.string("name", &mut errors),
        brand,
        serving_size: fields.number("serving_size", &mut errors),
        serving_unit: fields.string("serving_unit", &mut errors),
        calories: fields.number("calories", &mut errors),
        protein_g: fields.number("protein_g", &mut errors),
        carbs_g: fields.number("carbs_g", &mut errors),
        fat_g: fields.number("fat_g", &mut errors),
    };
    if !errors.is_empty() {
        // Type mistakes plus every rule the well-typed fields break.
        if let Err(rules) = macrotrack_domain::NewFood::parse(food) {
            errors.extend(rules);
        }
        let rank = |field: &str| FIELDS.iter().position(|known| *known == field).unwrap_or(FIELDS.len());
        return Err(Problem::unprocessable(input::ordered(errors, rank)));
    }
    let created = state.service.create_food(user, food).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Fields of one's own food to change; at least one.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct EditFoodRequest {
    /// 1 to 200 characters after trimming.
    #[schemars(length(min = 1, max = 200))]
    name: Option<String>,
    /// Null clears it; else 1 to 200 characters after trimming.
    #[schemars(length(min = 1, max = 200))]
    brand: Option<Option<String>>,
    /// In (0, 10000].
    #[schemars(range(max = 10000), extend("exclusiveMinimum" = 0))]
    serving_size: Option<f64>,
    #[schemars(length(min = 1, max = 20))]
    serving_unit: Option<String>,
    #[schemars(range(min = 0, max = 10000))]
    calories: Option<f64>,
    #[schemars(range(min = 0, max = 1000))]
    protein_g: Option<f64>,
    #[schemars(range(min = 0, max = 1000))]
    carbs_g: Option<f64>,
    #[schemars(range(min = 0, max = 1000))]
    fat_g: Option<f64>,
}

/// The food is looked up before its body is read: a missing, foreign or
/// global food is 404 or 409 whatever the body holds.
pub async fn edit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let id = FoodId(input::id_param(&req, "id")?);
    state.service.editable_food(user, id).await?;
    let body = input::json_object(&req, payload).await?;
    let fields = Fields::new(&body);
    let mut errors = ValidationErrors::new();
    let brand = match body.get("brand") {
        None => None,
        Some(serde_json::Value::Null) => Some(None),
        Some(serde_json::Value::String(text)) => Some(Some(text.clone())),
        Some(_) => {
            errors.add("brand", "must be a string or null");
            None
        }
    };
    let food = FoodInput {
        name: fields.optional_parsed::<String>("name", &mut errors).valid(),
        brand,
        serving_size: fields.optional_number("serving_size", &mut errors).valid(),
        serving_unit: fields.optional_parsed::<String>("serving_unit", &mut errors).valid(),
        calories: fields.optional_number("calories", &mut errors).valid(),
        protein_g: fields.optional_number("protein_g", &mut errors).valid(),
        carbs_g: fields.optional_number("carbs_g", &mut errors).valid(),
        fat_g: fields.optional_number("fat_g", &mut errors).valid(),
    };
    if !errors.is_empty() {
        // Rules the well-typed fields break; not "no field to change", which
        // a mistyped field (reported) makes look true.
        if let Err(rules) = macrotrack_domain::FoodPatch::parse(food) {
            for rule in rules.errors().iter().filter(|rule| !rule.field.is_empty()) {
                errors.add(rule.field.clone(), rule.message.clone());
            }
        }
        let rank = |field: &str| FIELDS.iter().position(|known| *known == field).unwrap_or(FIELDS.len());
        return Err(Problem::unprocessable(input::ordered(errors, rank)));
    }
    Ok(HttpResponse::Ok().json(state.service.edit_food(user, id, food).await?))
}

pub async fn get(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let id = input::id_param(&req, "id")?;
    let food = state.service.food(user, FoodId(id)).await?;
    Ok(HttpResponse::Ok().json(food))
}

pub async fn search(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let query = input::optional_query_param(&req, "query")?.unwrap_or_default();
    let limit = input::limit_param(&req)?;
    Ok(HttpResponse::Ok().json(state.service.search_foods(user, &query, limit).await?))
}

pub async fn frequent(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let limit = input::limit_param(&req)?;
    let (frequent, report) = state.service.reported(state.service.frequent_foods(user, limit)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Reads, &frequent?))
}
