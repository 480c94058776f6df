//! Bearer authentication. Runs before anything reads the request, so a
//! request without a valid token is 401 whatever else is wrong with it.

use actix_web::HttpRequest;
use macrotrack_domain::UserId;
use macrotrack_service::ReadAhead;
use subtle::ConstantTimeEq;

use crate::bearer::bearer;
use crate::problem::Problem;
use crate::state::HttpState;

/// The request's bearer token, unchecked: 401 when there is none.
pub(crate) fn token(req: &HttpRequest) -> Result<&str, Problem> {
    bearer(req).ok_or_else(Problem::unauthorized)
}

/// The user a request's bearer `token` (if it has one) belongs to.
pub(crate) async fn user(state: &HttpState, token: Option<&str>) -> Result<UserId, Problem> {
    let token = token.ok_or_else(Problem::unauthorized)?;
    let user = state.service.authenticate(token).await?;
    remember(state, token);
    Ok(user)
}

/// Runs `body` as the request's user, with `ahead` read in the same store
/// round trip as the token's credential. The token is checked before
/// `body` runs, so its 401 still comes before any other error of `body`.
pub(crate) async fn as_user<T>(
    state: &HttpState,
    req: &HttpRequest,
    ahead: &[ReadAhead],
    body: impl AsyncFnOnce(UserId) -> Result<T, Problem>,
) -> Result<T, Problem> {
    let token = bearer(req).ok_or_else(Problem::unauthorized)?;
    let as_known = async |user| {
        remember(state, token);
        body(user).await
    };
    state.service.authenticated(token, ahead, as_known).await?
}

/// A token that authenticated gets through its address's penalty (limits.rs).
fn remember(state: &HttpState, token: &str) {
    if let Some(limits) = &state.bounds.rate {
        limits.authenticated(token);
    }
}

/// Succeeds only for the configured admin token, compared in constant time.
/// Admin routes are not registered at all when no token is configured.
pub(crate) fn admin(state: &HttpState, req: &HttpRequest) -> Result<(), Problem> {
    let expected = state.admin_token.as_deref().ok_or_else(Problem::not_found)?;
    let presented = bearer(req).ok_or_else(Problem::unauthorized)?;
    if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) { Ok(()) } else { Err(Problem::unauthorized()) }
}
