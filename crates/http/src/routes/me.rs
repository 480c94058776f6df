//! `GET /v1/me`, `PUT /v1/me/targets`, `DELETE /v1/me`.

use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{Macros, ValidationErrors};
use schemars::JsonSchema;

use crate::cached::{self, Members, TagOf};
use crate::input::{self, Fields};
use crate::problem::Problem;
use crate::{HttpState, auth};

/// The fields of a macros body, in the order errors are reported.
pub(crate) const MACRO_FIELDS: [&str; 4] = ["calories", "protein_g", "carbs_g", "fat_g"];

/// Daily targets, bounded like a food's macros.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct TargetsRequest {
    #[schemars(range(min = 0, max = 10000))]
    calories: f64,
    #[schemars(range(min = 0, max = 1000))]
    protein_g: f64,
    #[schemars(range(min = 0, max = 1000))]
    carbs_g: f64,
    #[schemars(range(min = 0, max = 1000))]
    fat_g: f64,
}

pub async fn get(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let (me, report) = state.service.reported(state.service.me(user)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Reads, &me?))
}

/// Type mistakes and bound breaks of the four numbers, every one named.
fn macros(body: &serde_json::Map<String, serde_json::Value>) -> Result<Macros, ValidationErrors> {
    let fields = Fields::new(body);
    let mut errors = ValidationErrors::new();
    let [calories, protein_g, carbs_g, fat_g] = MACRO_FIELDS.map(|key| fields.number(key, &mut errors));
    // A missing or mistyped value is already reported; 0 breaks no bound.
    let value = |number: Option<f64>| number.unwrap_or(0.0);
    match Macros::parse("", value(calories), value(protein_g), value(carbs_g), value(fat_g)) {
        Ok(macros) if errors.is_empty() => Ok(macros),
        Ok(_) => Err(errors),
        Err(rules) => {
            errors.extend(rules);
            let rank =
                |field: &str| MACRO_FIELDS.iter().position(|known| *known == field).unwrap_or(MACRO_FIELDS.len());
            Err(input::ordered(errors, rank))
        }
    }
}

pub async fn set_targets(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    let body = input::json_object(&req, payload).await?;
    let targets = macros(&body).map_err(Problem::unprocessable)?;
    Ok(HttpResponse::Ok().json(state.service.set_targets(user, targets).await?))
}

pub async fn delete(state: web::Data<HttpState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let user = auth::user(&state, &req).await?;
    state.service.delete_user(user).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn fields_of(body: Value) -> Vec<String> {
        let Value::Object(body) = body else { unreachable!() };
        macros(&body).unwrap_err().errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn every_bad_number_is_named_in_order() {
        assert_eq!(fields_of(json!({"fat_g": -1, "calories": "x", "carbs_g": 1000.01})), MACRO_FIELDS);
        assert_eq!(fields_of(json!({"calories": 1, "protein_g": 1, "carbs_g": 1, "fat_g": 1001})), ["fat_g"]);
        let Value::Object(good) = json!({"calories": 2000.005, "protein_g": 0, "carbs_g": 1000, "fat_g": 70}) else {
            unreachable!()
        };
        assert_eq!(macros(&good).unwrap().calories.to_string(), "2000.01");
    }
}
