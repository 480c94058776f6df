//! Thin actix-web delivery: parse, authenticate, call the service, map
//! errors to problem bodies. No database or cache-store crate here: the
//! store is picked at run time behind `Arc<dyn CacheStore>`.

#![warn(missing_docs)]

mod auth;
mod bearer;
#[macro_use]
mod body;
mod cached;
mod examples;
mod extract;
mod gauges;
mod idempotency;
mod input;
mod limits;
mod observe;
mod openapi;
#[cfg(test)]
mod openapi_examples;
mod problem;
mod reference;
mod request_id;
mod routes;
mod state;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, ResponseError, web};

pub use gauges::GAUGES;
pub use idempotency::{REPLAYED, request_fingerprint};
pub use input::BODY_LIMIT;
pub use input::IDEMPOTENCY_KEY;
pub use limits::{Bounds, ClientAddress, RATE_LIMITED_TOTAL, RateLimits};
pub use observe::{REQUEST_DURATION, REQUESTS_TOTAL};
pub use openapi::{document as openapi_document, text as openapi_text};
pub use problem::{PROBLEM_JSON, Problem};
pub use state::{AppService, HttpState, MetricsRender};

use routes::Access;

/// The whole application: routes, the problem fallbacks, request logging
/// with request ids, and HTTP metrics. Used by the server and by tests.
pub fn app(
    state: HttpState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let bounds = state.bounds.clone();
    App::new()
        .configure(configure(state))
        // Inside the error net and the request log: its 429s are counted
        // and carry the request id like any answer.
        .wrap(from_fn(move |req, next| limits::admit(bounds.clone(), req, next)))
        .wrap(ErrorHandlers::new().default_handler(observe::ensure_problem))
        .wrap(from_fn(observe::record))
}

/// The metrics listener's application (MACROTRACK_METRICS_BIND): `/metrics`
/// alone, the same handler as the public one; any other path is a 404
/// problem. Scrapes here are not counted among the HTTP requests.
pub fn metrics_app(
    state: HttpState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state))
        .route("/metrics", web::get().to(routes::ops::metrics))
        .default_service(web::to(|| async { Problem::new(StatusCode::NOT_FOUND, "no such route").error_response() }))
}

/// Every (method, path template) the route table holds, admin routes
/// included, in registration order.
pub fn route_list() -> Vec<(String, &'static str)> {
    routes::table().iter().map(|route| (route.method.to_string(), route.path)).collect()
}

/// Registers every route of the table (the admin ones only with an admin
/// token), the 404 and 405 problem answers and problem bodies for actix's
/// own extractor errors.
pub fn configure(state: HttpState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        let admin_enabled = state.admin_token.is_some();
        config
            .app_data(web::Data::new(state))
            .app_data(web::Data::new(routes::ops::OpenApiJson(openapi::json)))
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .app_data(
                web::JsonConfig::default().limit(BODY_LIMIT).error_handler(|error, _| json_problem(&error).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|error, _| path_problem(&error).into()))
            .app_data(web::QueryConfig::default().error_handler(|error, _| query_problem(&error).into()));
        // Without an admin token the admin routes do not exist: 404, not 401.
        let table: Vec<routes::Route> =
            routes::table().into_iter().filter(|route| admin_enabled || route.access != Access::Admin).collect();
        let mut paths: Vec<&str> = Vec::new();
        for route in &table {
            if !paths.contains(&route.path) {
                paths.push(route.path);
            }
        }
        // Static paths first: actix tries resources in order, and each
        // dynamic one costs a regex match on every request that passes it.
        paths.sort_by_key(|path| path.contains('{'));
        for path in paths {
            let on_path: Vec<&routes::Route> = table.iter().filter(|route| route.path == path).collect();
            let mut methods: Vec<&str> = on_path.iter().map(|route| route.method.as_str()).collect();
            methods.sort_unstable();
            let resource = on_path
                .iter()
                .fold(endpoint(path, methods.join(", ")), |resource, route| resource.route(route.handler()));
            config.service(resource);
        }
        config.default_service(web::to(|| async {
            Problem::new(StatusCode::NOT_FOUND, "no such route").error_response()
        }));
    }
}

/// A resource whose other methods answer 405 with `Allow`.
fn endpoint(path: &'static str, allow: String) -> actix_web::Resource {
    web::resource(path).app_data(observe::RouteMetrics::new(path)).default_service(web::to(move || {
        let allow = allow.clone();
        async move { Problem::method_not_allowed(allow).error_response() }
    }))
}

fn json_problem(error: &JsonPayloadError) -> Problem {
    match error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            Problem::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the body exceeds {} KiB", BODY_LIMIT / 1024))
        }
        JsonPayloadError::ContentType => {
            Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "the body must be application/json")
        }
        JsonPayloadError::Deserialize(error) if error.is_data() => {
            Problem::unprocessable(macrotrack_domain::ValidationErrors::single("body", error.to_string()))
        }
        _ => Problem::bad_request("malformed JSON"),
    }
}

fn path_problem(error: &PathError) -> Problem {
    Problem::bad_request(format!("a path parameter does not parse: {error}"))
}

fn query_problem(error: &QueryPayloadError) -> Problem {
    Problem::bad_request(format!("the query does not parse: {error}"))
}
