//! `GET /v1/me`, `PUT /v1/me/targets`, `PUT /v1/me/settings`, `DELETE /v1/me`.

use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{Macros, TimeZone, ValidationErrors};

use crate::body::{self, Required};
use crate::cached::{self, Members, TagOf};
use crate::extract::{Body, FromBody, Read, User};
use crate::input;
use crate::problem::Problem;
use crate::state::HttpState;

body! {
    /// Daily targets, bounded like a food's macros.
    #[schemars(example = serde_json::json!({"calories": 2200, "protein_g": 140, "carbs_g": 250, "fat_g": 70}))]
    pub struct TargetsRequest {
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
    /// The user's settings: their time zone, which says what their today is.
    #[schemars(example = serde_json::json!({"timezone": "Europe/Berlin"}))]
    pub struct SettingsRequest {
        timezone: Required<TimeZone>,
    }
}

/// The settings as stored (`PUT /v1/me/settings`).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Settings {
    timezone: TimeZone,
}

/// The time zone of a settings body, or what is wrong with it.
pub(crate) fn settings(body: serde_json::Map<String, serde_json::Value>) -> Result<TimeZone, ValidationErrors> {
    let (settings, errors) = body::read::<SettingsRequest>(body);
    match settings.timezone.value() {
        Some(zone) if errors.is_empty() => Ok(zone),
        _ => Err(errors),
    }
}

impl FromBody for SettingsRequest {
    type Output = TimeZone;
    const READ: Read<Self::Output> = settings;
}

/// Sets the user's settings (their time zone).
pub async fn set_settings(
    state: web::Data<HttpState>,
    User(user): User,
    Body(zone): Body<SettingsRequest>,
) -> Result<HttpResponse, Problem> {
    let timezone = state.service.set_timezone(user, zone).await?;
    Ok(HttpResponse::Ok().json(Settings { timezone }))
}

/// The user and their targets (cached).
pub async fn get(state: web::Data<HttpState>, User(user): User, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let (me, report) = state.service.reported(state.service.me(user)).await;
    Ok(cached::json(&req, &report, Members::One, TagOf::Reads, &me?))
}

/// Type mistakes and bound breaks of the four numbers, every one named.
pub(crate) fn macros(body: serde_json::Map<String, serde_json::Value>) -> Result<Macros, ValidationErrors> {
    let (targets, mut errors) = body::read::<TargetsRequest>(body);
    // A missing or mistyped value is already reported; 0 breaks no bound.
    let value = |number: Required<f64>| number.value().unwrap_or(0.0);
    let (calories, protein_g) = (value(targets.calories), value(targets.protein_g));
    match Macros::parse("", calories, protein_g, value(targets.carbs_g), value(targets.fat_g)) {
        Ok(macros) if errors.is_empty() => Ok(macros),
        Ok(_) => Err(errors),
        Err(rules) => {
            errors.extend(rules);
            let fields = TargetsRequest::FIELDS;
            let rank = |field: &str| fields.iter().position(|known| *known == field).unwrap_or(fields.len());
            Err(input::ordered(errors, rank))
        }
    }
}

impl FromBody for TargetsRequest {
    type Output = Macros;
    const READ: Read<Self::Output> = macros;
}

/// Sets the daily targets.
pub async fn set_targets(
    state: web::Data<HttpState>,
    User(user): User,
    Body(targets): Body<TargetsRequest>,
) -> Result<HttpResponse, Problem> {
    Ok(HttpResponse::Ok().json(state.service.set_targets(user, targets).await?))
}

/// Deletes the user and everything of theirs.
pub async fn delete(state: web::Data<HttpState>, User(user): User) -> Result<HttpResponse, Problem> {
    state.service.delete_user(user).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn fields_of(body: Value) -> Vec<String> {
        let Value::Object(body) = body else { unreachable!() };
        macros(body).unwrap_err().errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn every_bad_number_is_named_in_order() {
        assert_eq!(fields_of(json!({"fat_g": -1, "calories": "x", "carbs_g": 1000.01})), TargetsRequest::FIELDS);
        assert_eq!(fields_of(json!({"calories": 1, "protein_g": 1, "carbs_g": 1, "fat_g": 1001})), ["fat_g"]);
        let Value::Object(good) = json!({"calories": 2000.005, "protein_g": 0, "carbs_g": 1000, "fat_g": 70}) else {
            unreachable!()
        };
        assert_eq!(macros(good).unwrap().calories.to_string(), "2000.01");
    }
}
