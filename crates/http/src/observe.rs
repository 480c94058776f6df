//! Request metrics and logs, and the net that turns any error answer not
//! made by this crate (actix's own) into a problem body.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpMessage, ResponseError};
use tracing_actix_web::RequestId;

use crate::problem::Problem;

pub const REQUESTS_TOTAL: &str = "macrotrack_http_requests_total";
pub const REQUEST_DURATION: &str = "macrotrack_http_request_duration_seconds";

/// A bounded label: clients may send any method name.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN.iter().find(|known| *known == method).map_or("other", Method::as_str)
}

/// Counts and times each request by route pattern (never the raw path, so
/// ids do not explode the label set), logs its outcome inside the request
/// span of `TracingLogger`, and echoes the request id.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
    let mut result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let elapsed = started.elapsed();
    metrics::counter!(REQUESTS_TOTAL, "route" => route.clone(), "method" => method, "status" => status.as_str().to_owned()).increment(1);
    metrics::histogram!(REQUEST_DURATION, "route" => route, "method" => method).record(elapsed.as_secs_f64());
    tracing::info!(status = status.as_u16(), elapsed_ms = elapsed.as_secs_f64() * 1000.0, "request finished");
    if let (Ok(response), Some(id)) = (&mut result, request_id)
        && let Ok(value) = HeaderValue::from_str(&id)
    {
        response.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    result
}

/// For `ErrorHandlers::default_handler`: keeps JSON error answers (problem
/// bodies, `/readyz`'s report) and replaces any other body of an error
/// status with a problem of that status, keeping `Allow`.
pub fn ensure_problem<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
    }
    let status = response.status();
    let allow = response.headers().get(header::ALLOW).cloned();
    let (req, _) = response.into_parts();
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the body is too large",
        StatusCode::NOT_FOUND => "no such resource",
        _ if status.is_server_error() => "the server could not answer",
        _ => "the request was not understood",
    };
    let mut replacement = Problem::new(status, detail).error_response();
    if let Some(allow) = allow {
        replacement.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, replacement).map_into_right_body()))
}
