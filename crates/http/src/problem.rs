//! RFC 9457 problem details: the one shape of every error answer.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use macrotrack_domain::{FieldError, ValidationErrors};
use macrotrack_service::{ErrorKind, Failure};
use schemars::JsonSchema;
use serde::Serialize;

/// The media type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer. `errors` is always written on 400 and 422 so clients
/// can rely on it there.
#[derive(Debug, Clone)]
pub struct Problem {
    status: StatusCode,
    detail: String,
    errors: Vec<FieldError>,
    allow: Option<String>,
    /// Whole seconds for `Retry-After`.
    retry_after: Option<u64>,
    /// Close the connection after answering (a body that never arrived
    /// leaves the stream in an unknown place).
    close: bool,
}

/// An error answer (RFC 9457 problem details, `application/problem+json`):
/// what is written, and its schema in the document.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Problem")]
pub(crate) struct Body<'a> {
    /// Always `about:blank`: the status says what happened.
    r#type: &'static str,
    title: &'a str,
    #[schemars(range(min = 400, max = 599))]
    status: u16,
    detail: &'a str,
    /// Present (possibly empty) on 400 and 422: every offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
    /// The request this answers, `urn:request:<X-Request-Id>`: what a
    /// support ticket names.
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<String>,
}

impl Problem {
    /// A problem of any status: for answers the helpers below do not name.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem { status, detail: detail.into(), errors: Vec::new(), allow: None, retry_after: None, close: false }
    }

    /// What the answer's status will be.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The offending fields, for callers that look before answering.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// 400: the request is not what the route reads (not JSON, a body not
    /// an object).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 400 naming the query or path parameter that does not parse.
    pub fn bad_parameter(field: &str, message: impl Into<String>) -> Self {
        Problem::bad_parameters(ValidationErrors::single(field, message))
    }

    /// 400 naming every query or path parameter that does not parse.
    pub fn bad_parameters(errors: ValidationErrors) -> Self {
        Problem { errors: errors.errors().to_vec(), ..Problem::bad_request(errors.to_string()) }
    }

    /// 401 with `WWW-Authenticate: Bearer`, whatever else is wrong.
    pub fn unauthorized() -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
    }

    /// 404: also another user's resource, so ids reveal nothing.
    pub fn not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "no such resource")
    }

    /// 405 with `Allow`, so a client learns what the resource answers.
    pub fn method_not_allowed(allow: impl Into<String>) -> Self {
        let allow = allow.into();
        let detail = format!("this resource answers {allow}");
        Problem { allow: Some(allow), ..Problem::new(StatusCode::METHOD_NOT_ALLOWED, detail) }
    }

    /// 422 naming every field that breaks a rule.
    pub fn unprocessable(errors: ValidationErrors) -> Self {
        // A short detail; `errors` carries every field however many there are.
        let detail = match errors.errors().len() {
            0 => "the request breaks a rule".to_owned(),
            1..=3 => errors.to_string(),
            many => format!("{many} fields break a rule; see errors"),
        };
        Problem { errors: errors.errors().to_vec(), ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail) }
    }

    /// 503 without internals; the cause goes to the log only. A second's
    /// `Retry-After`: an outage or a full write queue, either worth a retry
    /// soon rather than at once.
    pub fn unavailable(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %ErrorChain(cause), "a backing service is unavailable");
        let problem =
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "a backing service is unavailable; try again later");
        Problem { retry_after: Some(1), ..problem }
    }

    /// 429 with `Retry-After`: `wait` rounded up to whole seconds, at least
    /// one (a client told 0 would retry at once).
    pub fn too_many_requests(wait: std::time::Duration, detail: impl Into<String>) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Problem { retry_after: Some(seconds.max(1)), ..Problem::new(StatusCode::TOO_MANY_REQUESTS, detail) }
    }

    /// 408, and the connection is closed: the rest of the body may still
    /// come, and nothing could tell it from the next request.
    pub fn body_timeout(seconds: u64) -> Self {
        let detail = format!("the body did not arrive within {seconds} s of the request's headers");
        Problem { close: true, ..Problem::new(StatusCode::REQUEST_TIMEOUT, detail) }
    }
}

/// `error: cause: cause` on one line, for logs.
struct ErrorChain<'a>(&'a dyn std::error::Error);

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail)
    }
}

impl Problem {
    /// The answer's body.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let with_errors = matches!(self.status, StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY)
            || !self.errors.is_empty();
        let body = Body {
            r#type: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: with_errors.then_some(self.errors.as_slice()),
            instance: crate::request_id::current_request_id().map(|id| format!("urn:request:{id}")),
        };
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Some(allow) = self.allow.as_deref().and_then(|allow| HeaderValue::from_str(allow).ok()) {
            response.insert_header((header::ALLOW, allow));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        if self.close {
            response.force_close();
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.body(self.to_json())
    }
}

/// What a problem of `status` looks like, for the reference: the body such
/// an answer writes, with the `instance` a request's id gives it.
pub(crate) fn example(status: u16) -> serde_json::Value {
    let field = |field: &str, message: &str| ValidationErrors::single(field, message);
    let problem = match status {
        400 => Problem::bad_parameters(field("date", "is required")),
        401 => Problem::unauthorized(),
        404 => Problem::not_found(),
        408 => Problem::body_timeout(10),
        409 => Problem::new(StatusCode::CONFLICT, "global foods are read-only"),
        412 => Problem::new(StatusCode::PRECONDITION_FAILED, "the food has changed since the ETag in If-Match"),
        413 => Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "the body exceeds 256 KiB"),
        415 => Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "the body must be application/json"),
        422 => Problem::unprocessable(field("entries.0.servings", "must be more than 0 once rounded to two decimals")),
        429 => Problem::too_many_requests(std::time::Duration::from_secs(1), "too many requests for this user"),
        // Not `unavailable`, which logs its cause.
        503 => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "a backing service is unavailable; try again later"),
        other => Problem::new(StatusCode::from_u16(other).unwrap_or(StatusCode::BAD_REQUEST), "an error"),
    };
    let mut body: serde_json::Value = serde_json::from_slice(&problem.to_json()).unwrap_or_default();
    body["instance"] = "urn:request:3f1c9a52-8d7e-4b0a-9c61-2e5f7a8b4d10".into();
    body
}

/// Every use case's error becomes the problem of its kind.
impl<E: Failure> From<E> for Problem {
    fn from(error: E) -> Self {
        match error.kind() {
            ErrorKind::Invalid => Problem::unprocessable(error.invalid().cloned().unwrap_or_default()),
            ErrorKind::Unauthenticated => Problem::unauthorized(),
            ErrorKind::NotFound => Problem::not_found(),
            ErrorKind::Conflict => Problem::new(StatusCode::CONFLICT, error.to_string()),
            ErrorKind::PreconditionFailed => Problem::new(StatusCode::PRECONDITION_FAILED, error.to_string()),
            ErrorKind::Unavailable => Problem::unavailable(&error),
        }
    }
}

/// The status a kind of failure answers.
pub fn status_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::Invalid => 422,
        ErrorKind::Unauthenticated => 401,
        ErrorKind::NotFound => 404,
        ErrorKind::Conflict => 409,
        ErrorKind::PreconditionFailed => 412,
        ErrorKind::Unavailable => 503,
    }
}
