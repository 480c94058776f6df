//! `POST /v1/foods`, `GET /v1/foods/{id}`, `GET /v1/foods?query=&limit=`,
//! `GET /v1/foods/frequent?limit=`.

use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{FoodId, FoodInput, ValidationErrors};
use schemars::JsonSchema;

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
    Ok(HttpResponse::Ok().json(state.service.frequent_foods(user, limit).await?))
}
