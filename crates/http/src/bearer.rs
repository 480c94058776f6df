//! The bearer token of a request: read by the rate limits before anything
//! else, and by authentication.

use actix_web::HttpRequest;
use actix_web::http::header;

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
pub(crate) fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
