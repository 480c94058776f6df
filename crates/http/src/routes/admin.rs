//! `/v1/admin/*`: registered only when an admin token is configured.

use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{UserId, ValidationErrors};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::input::{self, Fields};
use crate::problem::Problem;
use crate::{HttpState, auth};

/// A user to create.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct CreateUserRequest {
    /// 1 to 200 characters after trimming.
    #[schemars(length(min = 1, max = 200))]
    name: String,
}

#[derive(Serialize, JsonSchema)]
pub struct CreatedUser {
    id: UserId,
    name: String,
    token: String,
}

pub async fn create_user(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    auth::admin(&state, &req)?;
    let body = input::json_object(&req, payload).await?;
    let mut errors = ValidationErrors::new();
    let name = Fields::new(&body).string("name", &mut errors).ok_or_else(|| Problem::unprocessable(errors))?;
    let created = state.service.create_user(&name).await?;
    Ok(HttpResponse::Created().json(CreatedUser { id: created.user.id, name: created.user.name, token: created.token }))
}

/// Tags of one user to invalidate.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct InvalidateRequest {
    user_id: i64,
    /// Rendered tags of that user, e.g. `user_42`, `user_42_food`, `user_42_scheduled_2026-11-24`.
    tags: Vec<String>,
}

/// A day of one user to re-read into the cache.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct RefreshRequest {
    user_id: i64,
    date: macrotrack_domain::Day,
}

#[derive(Serialize, JsonSchema)]
pub struct Invalidated {
    invalidated: usize,
}

pub async fn invalidate(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    auth::admin(&state, &req)?;
    let body = input::json_object(&req, payload).await?;
    let fields = Fields::new(&body);
    let mut errors = ValidationErrors::new();
    let user = fields.id("user_id", &mut errors);
    let tags: Option<Vec<String>> = fields.array("tags", &mut errors).map(|items| {
        items
            .iter()
            .enumerate()
            .filter_map(|(index, tag)| match tag {
                Value::String(tag) => Some(tag.clone()),
                _ => {
                    errors.add(format!("tags.{index}"), "must be a string");
                    None
                }
            })
            .collect()
    });
    let (Some(user), Some(tags), true) = (user, tags, errors.is_empty()) else {
        return Err(Problem::unprocessable(errors));
    };
    let invalidated = state.service.admin_invalidate(UserId(user), &tags).await?;
    Ok(HttpResponse::Ok().json(Invalidated { invalidated }))
}

pub async fn refresh(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    auth::admin(&state, &req)?;
    let body = input::json_object(&req, payload).await?;
    let fields = Fields::new(&body);
    let mut errors = ValidationErrors::new();
    let user = fields.id("user_id", &mut errors);
    let date = fields.day("date", &mut errors);
    let (Some(user), Some(date)) = (user, date) else {
        return Err(Problem::unprocessable(errors));
    };
    let logs = state.service.admin_refresh(UserId(user), date).await?;
    Ok(HttpResponse::Ok().json(logs))
}
