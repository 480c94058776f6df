//! Thin actix-web delivery: parse, authenticate, call the service, map
//! errors to problem bodies. No database or cache-store crate here: the
//! store is picked at run time behind `Arc<dyn CacheStore>`.

mod auth;
mod input;
mod observe;
mod problem;
mod routes;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, ResponseError, web};
use macrotrack_ports::CacheStore;
use macrotrack_service::Service;
use tracing_actix_web::TracingLogger;

pub use input::BODY_LIMIT;
pub use observe::{REQUEST_DURATION, REQUESTS_TOTAL};
pub use problem::{PROBLEM_JSON, Problem};

use routes::{admin, foods, logs, ops};

/// The service as the delivery sees it: the cache store is chosen at run
/// time (in-process or Redis).
pub type AppService = Service<Arc<dyn CacheStore>>;

/// Renders the metrics exposition text (`/metrics`).
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// Everything the handlers need. Cheap to clone (one per worker).
#[derive(Clone)]
pub struct HttpState {
    pub service: AppService,
    /// `None`: every admin route answers 404.
    pub admin_token: Option<String>,
    /// `None`: `/metrics` answers 404.
    pub metrics: Option<MetricsRender>,
}

impl HttpState {
    pub fn new(service: AppService) -> Self {
        HttpState { service, admin_token: None, metrics: None }
    }
}

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
    App::new()
        .configure(configure(state))
        .wrap(ErrorHandlers::new().default_handler(observe::ensure_problem))
        .wrap(from_fn(observe::record))
        .wrap(TracingLogger::default())
}

/// Registers the routes of this slice, the 404 and 405 problem answers and
/// problem bodies for actix's own extractor errors.
pub fn configure(state: HttpState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        let admin_enabled = state.admin_token.is_some();
        config
            .app_data(web::Data::new(state))
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .app_data(
                web::JsonConfig::default().limit(BODY_LIMIT).error_handler(|error, _| json_problem(&error).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|error, _| path_problem(&error).into()))
            .app_data(web::QueryConfig::default().error_handler(|error, _| query_problem(&error).into()))
            .service(endpoint("/healthz", "GET").route(web::get().to(ops::healthz)))
            .service(endpoint("/readyz", "GET").route(web::get().to(ops::readyz)))
            .service(endpoint("/metrics", "GET").route(web::get().to(ops::metrics)))
            .service(endpoint("/v1/foods", "POST").route(web::post().to(foods::create)))
            .service(endpoint("/v1/foods/{id}", "GET").route(web::get().to(foods::get)))
            .service(
                endpoint("/v1/logs", "GET, POST").route(web::get().to(logs::day)).route(web::post().to(logs::create)),
            );
        // Without an admin token the admin routes do not exist: 404, not 401.
        if admin_enabled {
            config
                .service(endpoint("/v1/admin/users", "POST").route(web::post().to(admin::create_user)))
                .service(endpoint("/v1/admin/cache/invalidate", "POST").route(web::post().to(admin::invalidate)))
                .service(endpoint("/v1/admin/cache/refresh", "POST").route(web::post().to(admin::refresh)));
        }
        config.default_service(web::to(|| async {
            Problem::new(StatusCode::NOT_FOUND, "no such route").error_response()
        }));
    }
}

/// A resource whose other methods answer 405 with `Allow`.
fn endpoint(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path)
        .default_service(web::to(move || async move { Problem::method_not_allowed(allow).error_response() }))
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
