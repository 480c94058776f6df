//! `/v1/admin/*`: registered only when an admin token is configured.

use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{Day, UserId};
use schemars::JsonSchema;
use serde::Serialize;

use crate::body::{self, Each, Id, Required};
use crate::input;
use crate::problem::Problem;
use crate::{HttpState, auth};

body! {
    /// A user to create.
    #[schemars(example = serde_json::json!({"name": "Alice"}))]
    pub struct CreateUserRequest {
        /// 1 to 200 characters after trimming.
        #[schemars(length(min = 1, max = 200), pattern(body::TEXT_PATTERN))]
        name: Required<String>,
    }
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
    let (request, errors) = body::read::<CreateUserRequest>(input::json_object(&req, payload).await?);
    let name = request.name.value().ok_or_else(|| Problem::unprocessable(errors))?;
    let created = state.service.create_user(&name).await?;
    Ok(HttpResponse::Created().json(CreatedUser { id: created.user.id, name: created.user.name, token: created.token }))
}

body! {
    /// Tags of one user to invalidate.
    #[schemars(example = serde_json::json!({"user_id": 1, "tags": ["user_1_food", "user_1_scheduled_2026-11-24"]}))]
    pub struct InvalidateRequest {
        user_id: Required<Id>,
        /// Rendered tags of that user, e.g. `user_42`, `user_42_food`, `user_42_scheduled_2026-11-24`.
        tags: Required<Vec<Each<String>>>,
    }
}

body! {
    /// A day of one user to re-read into the cache.
    #[schemars(example = serde_json::json!({"user_id": 1, "date": "2026-11-24"}))]
    pub struct RefreshRequest {
        user_id: Required<Id>,
        date: Required<Day>,
    }
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
    let (request, errors) = body::read::<InvalidateRequest>(input::json_object(&req, payload).await?);
    let (Some(Id(user)), Some(tags), true) = (request.user_id.value(), request.tags.value(), errors.is_empty()) else {
        return Err(Problem::unprocessable(errors));
    };
    let tags: Vec<String> = tags.into_iter().filter_map(|Each(tag)| tag.ok()).collect();
    let invalidated = state.service.admin_invalidate(UserId(user), &tags).await?;
    Ok(HttpResponse::Ok().json(Invalidated { invalidated }))
}

pub async fn refresh(
    state: web::Data<HttpState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    auth::admin(&state, &req)?;
    let (request, errors) = body::read::<RefreshRequest>(input::json_object(&req, payload).await?);
    let (Some(Id(user)), Some(date)) = (request.user_id.value(), request.date.value()) else {
        return Err(Problem::unprocessable(errors));
    };
    let logs = state.service.admin_refresh(UserId(user), date).await?;
    Ok(HttpResponse::Ok().json(logs))
}
