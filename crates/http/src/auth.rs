//! Bearer authentication. Runs before anything reads the request, so a
//! request without a valid token is 401 whatever else is wrong with it.

use actix_web::HttpRequest;
use actix_web::http::header;
use macrotrack_domain::UserId;
use macrotrack_service::ReadAhead;
use subtle::ConstantTimeEq;

use crate::problem::Problem;
use crate::state::HttpState;

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
pub(crate) fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The user a request's bearer `token` (if it has one) belongs to.
pub(crate) async fn user(state: &HttpState, token: Option<&str>) -> Result<UserId, Problem> {
    let token = token.ok_or_else(Problem::unauthorized)?;
    Ok(state.service.authenticate(token).await?)
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
    state.service.authenticated(token, ahead, body).await?
}

/// Succeeds only for the configured admin token, compared in constant time.
/// Admin routes are not registered at all when no token is configured.
pub(crate) fn admin(state: &HttpState, req: &HttpRequest) -> Result<(), Problem> {
    let expected = state.admin_token.as_deref().ok_or_else(Problem::not_found)?;
    let presented = bearer(req).ok_or_else(Problem::unauthorized)?;
    if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) { Ok(()) } else { Err(Problem::unauthorized()) }
}
