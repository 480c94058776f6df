//! Operations: `/healthz`, `/readyz`, `/metrics`. No authentication.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::HttpState;
use crate::problem::Problem;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

#[derive(Serialize)]
struct Readiness {
    database: &'static str,
    cache: &'static str,
}

/// 200 when the database answers a real query; the cache is reported only,
/// since reads fall back to the database when it is down.
pub async fn readyz(state: web::Data<HttpState>) -> HttpResponse {
    // Both at once, so a slow cache store does not delay the database check.
    let (database, cache) = tokio::join!(state.service.database_ready(), state.service.cache_status());
    if let Err(error) = &database {
        tracing::warn!(error = %error, "readiness: the database does not answer");
    }
    let body = Readiness { database: if database.is_ok() { "ok" } else { "down" }, cache: cache.label() };
    if database.is_ok() { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

pub async fn metrics(state: web::Data<HttpState>) -> Result<HttpResponse, Problem> {
    let render = state.metrics.as_ref().ok_or_else(Problem::not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8")))
        .body(render()))
}
