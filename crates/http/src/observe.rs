//! Request metrics and logs, and the net that turns any error answer not
//! made by this crate (actix's own) into a problem body.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, ResponseError};
use metrics::{Counter, Histogram};
use tracing::Instrument;
use tracing::field::Empty;

use crate::problem::Problem;
use crate::request_id;

/// Requests answered, by route pattern, method and status.
pub const REQUESTS_TOTAL: &str = "macrotrack_http_requests_total";
/// Time to answer, by route pattern and method.
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

/// A resource's route pattern and its metric handles, attached to the
/// resource as app data. Profiles of the hot read showed what this replaces:
/// `match_pattern` runs the router's regexes again on every request, and
/// the `counter!` macros look their labels up in the registry every time.
pub(crate) struct RouteMetrics {
    pattern: &'static str,
    handles: Mutex<Handles>,
}

#[derive(Default)]
struct Handles {
    requests: Vec<(&'static str, StatusCode, Counter)>,
    durations: Vec<(&'static str, Histogram)>,
}

impl RouteMetrics {
    /// Handles for `pattern`, made on first use.
    pub(crate) fn new(pattern: &'static str) -> Self {
        RouteMetrics { pattern, handles: Mutex::default() }
    }

    /// Handles are made on first use, once the server installed its recorder.
    fn record(&self, method: &'static str, status: StatusCode, elapsed: f64) {
        let mut handles = self.handles.lock().unwrap_or_else(PoisonError::into_inner);
        let known = handles.requests.iter().find(|(m, s, _)| *m == method && *s == status).map(|(.., c)| c.clone());
        let requests = known.unwrap_or_else(|| {
            let counter = requests_counter(self.pattern, method, status);
            handles.requests.push((method, status, counter.clone()));
            counter
        });
        let known = handles.durations.iter().find(|(m, _)| *m == method).map(|(_, h)| h.clone());
        let durations = known.unwrap_or_else(|| {
            let histogram = metrics::histogram!(REQUEST_DURATION, "route" => self.pattern, "method" => method);
            handles.durations.push((method, histogram.clone()));
            histogram
        });
        drop(handles);
        requests.increment(1);
        durations.record(elapsed);
    }
}

fn requests_counter(route: &'static str, method: &'static str, status: StatusCode) -> Counter {
    metrics::counter!(REQUESTS_TOTAL, "route" => route, "method" => method, "status" => status.as_str().to_owned())
}

/// Counts and times each request by route pattern (never the raw path, so
/// ids do not explode the label set), runs it inside a span that carries
/// its request id, logs its outcome there, and echoes the request id.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let id = request_id::request_id(&req);
    // Visible ASCII only (`request_id`), so never the empty fallback.
    let span = tracing::info_span!(
        "request",
        method,
        path = req.path(),
        request_id = id.to_str().unwrap_or(""),
        route = Empty
    );
    // Problem bodies made while answering name the request (`instance`).
    let mut result = request_id::scope(id.clone(), next.call(req).instrument(span.clone())).await;
    let (status, route) = match &result {
        Ok(response) => (response.status(), response.request().app_data::<RouteMetrics>()),
        Err(error) => (error.as_response_error().status_code(), None),
    };
    let elapsed = started.elapsed();
    match route {
        Some(route) => {
            route.record(method, status, elapsed.as_secs_f64());
            span.record("route", route.pattern);
        }
        None => {
            requests_counter("unmatched", method, status).increment(1);
            metrics::histogram!(REQUEST_DURATION, "route" => "unmatched", "method" => method)
                .record(elapsed.as_secs_f64());
        }
    }
    span.in_scope(|| {
        tracing::info!(status = status.as_u16(), elapsed_ms = elapsed.as_secs_f64() * 1000.0, "request finished");
    });
    if let Ok(response) = &mut result {
        response.headers_mut().insert(HeaderName::from_static(request_id::REQUEST_ID_HEADER), id);
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
