//! Reading requests by hand, so every mistake gets its contract status and a
//! problem body: the content type (415), the size (413), a body too slow to
//! arrive (408), the JSON (400), the
//! query and path parameters (400, or 422 for a date out of range). The
//! fields of a body are read by its type (`body.rs`); rules beyond types
//! belong to the domain parsers, whose errors are merged in order here.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, web};
use macrotrack_domain::{Day, DayError, ValidationErrors};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::limits::BodyDeadline;
use crate::problem::Problem;

/// The request header naming an idempotency key (`idempotency.rs`): the
/// body's reader leaves the body's digest for it.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// SHA-256 of the body's bytes, left by the body's reader on a request
/// that carries an idempotency key (the body itself is gone once read).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyDigest(pub [u8; 32]);

/// Leaves the digest of `body` for the request's fingerprint, when the
/// request has an idempotency key.
fn note_body(req: &HttpRequest, body: &[u8]) {
    if req.headers().contains_key(IDEMPOTENCY_KEY) {
        req.extensions_mut().insert(BodyDigest(Sha256::digest(body).into()));
    }
}

/// The largest body accepted (413 above it).
pub const BODY_LIMIT: usize = 256 * 1024;

/// `application/json` or `application/*+json`, with no charset or UTF-8.
fn is_json(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let json_type =
        essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    let charset_ok = parts.all(|parameter| match parameter.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    });
    json_type && charset_ok
}

/// The body as a JSON object. Call after authentication.
pub async fn json_object(req: &HttpRequest, payload: web::Payload) -> Result<Map<String, Value>, Problem> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    if !content_type.is_some_and(is_json) {
        return Err(Problem::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json",
        ));
    }
    let too_large = || {
        Problem::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body exceeds {} KiB", BODY_LIMIT / 1024),
        )
    };
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return Err(too_large());
    }
    let deadline = req.extensions().get::<BodyDeadline>().copied();
    let reading = payload.to_bytes_limited(BODY_LIMIT);
    let read = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.at.into(), reading)
            .await
            .map_err(|_| Problem::body_timeout(deadline.seconds))?,
        // Only an app built without `app()` (a test's) sets no deadline.
        None => reading.await,
    };
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return Err(Problem::bad_request("the body could not be read")),
        Err(_) => return Err(too_large()),
    };
    note_body(req, &bytes);
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Problem::bad_request("the body must be a JSON object")),
        Err(error) => Err(Problem::bad_request(format!("malformed JSON: {error}"))),
    }
}

/// The query string's pairs; 400 when it does not decode.
fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, Problem> {
    Ok(web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| Problem::bad_request("the query string does not decode"))?
        .into_inner())
}

/// The first value of query parameter `name`, if present; 400 when the
/// query string does not decode.
pub fn optional_query_param(req: &HttpRequest, name: &str) -> Result<Option<String>, Problem> {
    Ok(query_pairs(req)?.into_iter().find(|(key, _)| key == name).map(|(_, value)| value))
}

/// The first value of query parameter `name`; 400 when the query string
/// does not decode or the parameter is absent.
pub fn query_param(req: &HttpRequest, name: &str) -> Result<String, Problem> {
    optional_query_param(req, name)?.ok_or_else(|| Problem::bad_parameter(name, "is required"))
}

/// `limit`: absent is `None` (the service's default); 400 when it is not an
/// integer. Its range is the service's rule (422).
pub fn limit_param(req: &HttpRequest) -> Result<Option<i64>, Problem> {
    optional_query_param(req, "limit")?
        .map(|text| text.parse::<i64>().map_err(|_| Problem::bad_parameter("limit", "must be an integer")))
        .transpose()
}

/// `offset`: absent is `None` (from the first); 400 when it is not an
/// integer. Its range is the service's rule (422).
pub fn offset_param(req: &HttpRequest) -> Result<Option<i64>, Problem> {
    optional_query_param(req, "offset")?
        .map(|text| text.parse::<i64>().map_err(|_| Problem::bad_parameter("offset", "must be an integer")))
        .transpose()
}

/// A date in a query or path: 400 when it is not a real date, 422 when it
/// is one outside the supported range.
pub fn day_param(name: &str, text: &str) -> Result<Day, Problem> {
    let [day] = day_params([(name, text)])?;
    Ok(day)
}

/// Several dates at once, so every offending one is named: 400 when any is
/// not a real date (naming those), else 422 when any is out of range.
pub fn day_params<const N: usize>(params: [(&str, &str); N]) -> Result<[Day; N], Problem> {
    let mut malformed = ValidationErrors::new();
    let mut out_of_range = ValidationErrors::new();
    let parsed = params.map(|(name, text)| {
        text.parse::<Day>()
            .map_err(|error| match error {
                DayError::Malformed => malformed.add(name, error.to_string()),
                DayError::OutOfRange => out_of_range.add(name, error.to_string()),
            })
            .ok()
    });
    if !malformed.is_empty() {
        return Err(Problem::bad_parameters(malformed));
    }
    if !out_of_range.is_empty() {
        return Err(Problem::unprocessable(out_of_range));
    }
    Ok(parsed.map(|day| day.unwrap_or_else(|| unreachable!("every failure was recorded"))))
}

/// The date of path segment `name`.
pub fn path_day(req: &HttpRequest, name: &str) -> Result<Day, Problem> {
    day_param(name, req.match_info().get(name).unwrap_or_default())
}

/// A date of query parameter `name`, or `None` when it is absent (the
/// service knows the default: the user's today).
pub fn optional_query_day(req: &HttpRequest, name: &str) -> Result<Option<Day>, Problem> {
    optional_query_param(req, name)?.map(|text| day_param(name, &text)).transpose()
}

/// An id in a path: 400 when it is not an i64.
pub fn id_param(req: &HttpRequest, name: &str) -> Result<i64, Problem> {
    let text = req.match_info().get(name).unwrap_or_default();
    text.parse().map_err(|_| Problem::bad_parameter(name, "must be an integer id"))
}

/// The errors of a body holding a list: its fields' type errors, its
/// items' (`item_errors`) and the domain's `rules`, ordered by `rank`. A
/// list of the wrong length is one error on `list`, not one per item.
pub fn with_list_errors(
    mut errors: ValidationErrors,
    item_errors: ValidationErrors,
    rules: ValidationErrors,
    list: &str,
    rank: impl Fn(&str) -> usize,
) -> ValidationErrors {
    if !rules.errors().iter().any(|error| error.field == list) {
        errors.extend(item_errors);
    }
    errors.extend(rules);
    ordered(errors, rank)
}

/// Type mistakes and the domain's rule errors in one order: by `rank` of
/// the field, stable within a rank.
pub fn ordered(errors: ValidationErrors, rank: impl Fn(&str) -> usize) -> ValidationErrors {
    let mut list = errors.errors().to_vec();
    list.sort_by_key(|error| rank(&error.field));
    let mut sorted = ValidationErrors::new();
    for error in list {
        sorted.add(error.field, error.message);
    }
    sorted
}

/// The rank of `field` in a body of top-level fields `top` (one of them a
/// list) whose items have fields `item`: the top-level fields in order, then
/// the list's items by index, each item's own fields in order
/// (`items.3`, `items.3.day`, `items.3.meal`, ...).
pub fn list_rank(field: &str, top: &[&str], item: &[&str]) -> usize {
    if let Some(position) = top.iter().position(|known| *known == field) {
        return position;
    }
    let mut parts = field.splitn(3, '.').skip(1);
    let Some(index) = parts.next().and_then(|n| n.parse::<usize>().ok()) else {
        return usize::MAX;
    };
    let within = match parts.next() {
        None => 0,
        Some(key) => item.iter().position(|known| *known == key).map_or(item.len() + 1, |p| p + 1),
    };
    top.len().saturating_add(index.saturating_mul(item.len() + 2)).saturating_add(within)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        for good in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=\"UTF-8\"",
            "application/merge-patch+json",
        ] {
            assert!(is_json(good), "{good}");
        }
        for bad in ["", "text/plain", "application/jsonx", "application/json; charset=latin1", "text/json"] {
            assert!(!is_json(bad), "{bad}");
        }
    }
}
