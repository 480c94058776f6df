//! Operations: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`. No
//! authentication.

use std::borrow::Cow;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

use crate::problem::Problem;
use crate::state::HttpState;

#[derive(Serialize, JsonSchema)]
pub struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// 200 while the process serves: what a liveness probe asks.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Whether the database and the cache store answer.
#[derive(Serialize, JsonSchema)]
pub struct Readiness {
    #[schemars(extend("enum" = ["ok", "down"]))]
    database: &'static str,
    #[schemars(extend("enum" = ["ok", "down", "in-process", "off"]))]
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

/// The Prometheus exposition, the gauges measured now (404 when off).
pub async fn metrics(state: web::Data<HttpState>) -> Result<HttpResponse, Problem> {
    let render = state.metrics.as_ref().ok_or_else(Problem::not_found)?;
    crate::gauges::measure(&state.service).await;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8")))
        .body(render()))
}

/// The schema of `/openapi.json`'s answer (its own meta-schema is OpenAPI's).
pub struct OpenApiDocument;

impl JsonSchema for OpenApiDocument {
    fn schema_name() -> Cow<'static, str> {
        "OpenApiDocument".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "type": "object",
            "required": ["openapi", "info", "paths"],
            // Each required member named, as the open object it is, so a
            // generated client types it.
            "properties": {
                "openapi": { "const": "3.1.0" },
                "info": { "type": "object", "additionalProperties": true },
                "paths": { "type": "object", "additionalProperties": true }
            }
        })
    }
}

/// Where `/openapi.json` gets the document, given by the app (`configure`):
/// the document is written from the route table, which names this handler.
#[derive(Clone, Copy)]
pub struct OpenApiJson(pub fn() -> &'static [u8]);

/// The OpenAPI document, built on first use.
pub async fn openapi(document: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body((document.0)())
}
