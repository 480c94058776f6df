//! `/v1/admin/*`: registered only when an admin token is configured.

use actix_web::{HttpResponse, web};
use macrotrack_domain::{Day, UserId};
use schemars::JsonSchema;
use serde::Serialize;

use crate::body::{self, Each, Id, Required};
use crate::extract::{Admin, Body, FromBody, Read};
use crate::problem::Problem;
use crate::state::HttpState;

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

/// The name, when it is a string (the service checks the rest).
impl FromBody for CreateUserRequest {
    type Output = String;
    const READ: Read<Self::Output> = |object| {
        let (request, errors) = body::read::<CreateUserRequest>(object);
        request.name.value().ok_or(errors)
    };
}

/// Creates a user and shows their token once.
pub async fn create_user(
    state: web::Data<HttpState>,
    _: Admin,
    Body(name): Body<CreateUserRequest>,
) -> Result<HttpResponse, Problem> {
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

/// The user and their tags, when every field is well typed.
impl FromBody for InvalidateRequest {
    type Output = (UserId, Vec<String>);
    const READ: Read<Self::Output> = |object| {
        let (request, errors) = body::read::<InvalidateRequest>(object);
        let (Some(Id(user)), Some(tags), true) = (request.user_id.value(), request.tags.value(), errors.is_empty())
        else {
            return Err(errors);
        };
        Ok((UserId(user), tags.into_iter().filter_map(|Each(tag)| tag.ok()).collect()))
    };
}

/// The user and the day, when both are well typed.
impl FromBody for RefreshRequest {
    type Output = (UserId, Day);
    const READ: Read<Self::Output> = |object| {
        let (request, errors) = body::read::<RefreshRequest>(object);
        let (Some(Id(user)), Some(date)) = (request.user_id.value(), request.date.value()) else {
            return Err(errors);
        };
        Ok((UserId(user), date))
    };
}

/// Invalidates tags of a user, as an operator asks.
pub async fn invalidate(
    state: web::Data<HttpState>,
    _: Admin,
    Body((user, tags)): Body<InvalidateRequest>,
) -> Result<HttpResponse, Problem> {
    let invalidated = state.service.admin_invalidate(user, &tags).await?;
    Ok(HttpResponse::Ok().json(Invalidated { invalidated }))
}

/// Reads a user's day into the cache again, as an operator asks.
pub async fn refresh(
    state: web::Data<HttpState>,
    _: Admin,
    Body((user, date)): Body<RefreshRequest>,
) -> Result<HttpResponse, Problem> {
    Ok(HttpResponse::Ok().json(state.service.admin_refresh(user, date).await?))
}
