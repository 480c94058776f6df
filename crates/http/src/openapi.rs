//! The OpenAPI 3.1 document, written from the route table (`routes::table`)
//! with the schemas of the wire types (schemars, JSON Schema 2020-12, which
//! OpenAPI 3.1 uses as it is) under `#/components/schemas`.

use std::sync::LazyLock;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::problem::Body as ProblemBody;
use crate::routes::{self, Access, Content, Kind, Location, Param, Route};

/// Where the definitions live; every `$ref` points there.
const COMPONENTS: &str = "/components/schemas";

/// What each problem status means on this API.
fn problem_description(status: u16) -> &'static str {
    match status {
        400 => "The body is not a JSON object, or a query or path parameter is missing or does not parse.",
        401 => "The bearer token is missing or unknown.",
        404 => "No such resource (another user's is missing too).",
        409 => {
            "The state refuses the request: a global food is read-only, a plan's days overlap another scheduled \
             plan, the user owns as many foods, recipes or meal plans as one may, or a request with the same \
             Idempotency-Key is still running."
        }
        408 => {
            "The body did not arrive within MACROTRACK_BODY_TIMEOUT seconds of the headers; the connection is closed."
        }
        412 => "If-Match names no current ETag of the resource: nothing was changed.",
        413 => "The body exceeds 256 KiB.",
        415 => "The content type is not JSON.",
        422 => "A well-formed request that breaks a rule; errors[] names every offending field.",
        429 => "Too many requests of this user, or failed authentications from this address; retry after Retry-After.",
        503 => "A backing service is unavailable, or the write queue is full; retry after Retry-After.",
        _ => "An error.",
    }
}

fn param_schema(kind: Kind) -> Value {
    match kind {
        Kind::Id => json!({ "type": "integer", "format": "int64" }),
        // The example is the day CI's schemathesis run fills (its examples
        // phase sends examples as they are): a copy's example copies from it.
        Kind::Date => json!({
            "type": "string",
            "format": "date",
            "pattern": "^(19[0-9]{2}|2[01][0-9]{2}|2200)-[0-9]{2}-[0-9]{2}$",
            "examples": ["2026-11-24"],
        }),
        Kind::Limit => json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 }),
        // The shape only: a wrong check digit is the 422 of a valid shape.
        Kind::Barcode => json!({ "type": "string", "pattern": "^([0-9]{8}|[0-9]{12,14})$" }),
        Kind::Offset => json!({ "type": "integer", "minimum": 0, "maximum": 10000, "default": 0 }),
        // Control characters are Unicode's Cc, as `char::is_control` reads
        // them (the same ranges as a name's pattern, body.rs).
        Kind::SearchText => json!({
            "type": "string",
            "maxLength": 100,
            "pattern": r"^[^\u0000-\u001F\u007F-\u009F]*$",
        }),
    }
}

fn parameter(param: &Param) -> Value {
    json!({
        "name": param.name,
        "in": match param.location { Location::Path => "path", Location::Query => "query" },
        "required": param.required,
        "description": param.description,
        "schema": param_schema(param.kind),
    })
}

/// The headers of a cached read's answers (200 and 304 alike).
fn caching_headers() -> Value {
    json!({
        "ETag": {
            "description": "A strong entity tag: equal bodies have equal tags on every instance and across restarts.",
            "schema": { "type": "string" },
        },
        "Cache-Control": {
            "description": "`private, no-cache`: keep the body, and ask again with If-None-Match.",
            "schema": { "type": "string" },
        },
        "Cache-Status": {
            "description": "How the server's cache answered (RFC 9211), e.g. `macrotrack; hit; ttl=273` or \
                `macrotrack; fwd=uri-miss; stored`; the day screen has one member per part.",
            "schema": { "type": "string" },
        },
    })
}

/// Every answer's own header.
fn request_id_header() -> Value {
    json!({
        "description": "The request's id: the client's X-Request-Id when it is 1 to 128 visible ASCII characters, \
            else a new UUID; problem bodies name it as `instance`.",
        "schema": { "type": "string" },
    })
}

fn request_id_parameter() -> Value {
    json!({
        "name": "X-Request-Id",
        "in": "header",
        "required": false,
        "description": "An id of the client's for this request (1 to 128 visible ASCII characters), kept and answered.",
        "schema": { "type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$" },
    })
}

fn idempotency_key() -> Value {
    json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "A key of the client's for this request (1 to 255 visible ASCII characters). A repeat with \
            the same key, path and body within 24 hours answers the first answer again (status, body, Location) \
            with Idempotent-Replayed: true and changes nothing; the key with another path or body is 422; a repeat \
            while the first runs is 409; a 5xx answer is not kept. Keys are per user.",
        "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$" },
    })
}

fn if_match() -> Value {
    json!({
        "name": "If-Match",
        "in": "header",
        "required": false,
        "description": "`*` or ETags of the resource (strong comparison): the write applies only when one is its \
            current tag, else 412 and nothing changes. Without it, the write is unconditional.",
        "schema": { "type": "string" },
    })
}

/// The header of a conditional write's success.
fn new_etag_header() -> Value {
    json!({
        "description": "The strong entity tag of the resource as written: send it as If-Match to edit it again.",
        "schema": { "type": "string" },
    })
}

fn if_none_match() -> Value {
    json!({
        "name": "If-None-Match",
        "in": "header",
        "required": false,
        "description": "ETags the client holds (or `*`): the answer is 304 with no body when one is current.",
        "schema": { "type": "string" },
    })
}

/// The schemas of what the server writes and of what it reads: schemars
/// requires a property of a written struct even when it is an `Option`, but
/// of a read one only when it is not.
struct Generators {
    written: schemars::SchemaGenerator,
    read: schemars::SchemaGenerator,
}

fn operation(route: &Route, generators: &mut Generators, problem: &Value) -> Value {
    let mut responses = Map::new();
    for (status, description, content) in &route.answers {
        let mut response = json!({ "description": description });
        if route.cached && *status == 200 {
            response["headers"] = caching_headers();
        }
        if route.conditional && *status == 200 {
            response["headers"]["ETag"] = new_etag_header();
        }
        if route.idempotent() && *status == 201 {
            response["headers"]["Idempotent-Replayed"] = json!({
                "description": "`true` on the kept answer of an earlier request with this Idempotency-Key.",
                "schema": { "type": "string", "enum": ["true"] },
            });
            response["headers"]["Location"] = json!({
                "description": "The created resource, when it has a path of its own.",
                "schema": { "type": "string" },
            });
        }
        response["headers"]["X-Request-Id"] = request_id_header();
        match content {
            Content::Json(schema) => {
                response["content"] = json!({ "application/json": { "schema": schema(&mut generators.written) } });
            }
            Content::Text(media_type) => {
                response["content"] = json!({ *media_type: { "schema": { "type": "string" } } });
                if *media_type == "text/csv" {
                    response["headers"]["Content-Disposition"] = json!({
                        "description": "`attachment`, with a file name: the answer is a file to save.",
                        "schema": { "type": "string" },
                    });
                }
            }
            Content::Empty => {}
        }
        responses.insert(status.to_string(), response);
    }
    if route.cached {
        let mut not_modified = json!({
            "description": "The ETag in If-None-Match is current: no body, the same caching headers.",
            "headers": caching_headers(),
        });
        not_modified["headers"]["X-Request-Id"] = request_id_header();
        responses.insert("304".to_owned(), not_modified);
    }
    for status in route.problem_statuses() {
        let mut response = json!({
            "description": problem_description(status),
            "headers": { "X-Request-Id": request_id_header() },
            "content": { crate::problem::PROBLEM_JSON: { "schema": problem } },
        });
        if matches!(status, 429 | 503) {
            response["headers"]["Retry-After"] = json!({
                "description": "Whole seconds to wait before retrying, at least 1.",
                "schema": { "type": "integer", "minimum": 1 },
            });
        }
        responses.insert(status.to_string(), response);
    }
    let security = match route.access {
        Access::Public => json!([]),
        Access::User => json!([{ "userToken": [] }]),
        Access::Admin => json!([{ "adminToken": [] }]),
    };
    let mut operation = json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "security": security,
        "responses": responses,
    });
    let mut parameters: Vec<Value> = route.params.iter().map(parameter).collect();
    if route.cached {
        parameters.push(if_none_match());
    }
    if route.conditional {
        parameters.push(if_match());
    }
    if route.idempotent() {
        parameters.push(idempotency_key());
    }
    parameters.push(request_id_parameter());
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = route.body {
        operation["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": body(&mut generators.read) } } });
    }
    operation
}

/// The document as `/openapi.json` answers it: built once, as the route
/// table does not change while the process runs.
pub(crate) fn json() -> &'static [u8] {
    static DOCUMENT: LazyLock<Vec<u8>> = LazyLock::new(|| serde_json::to_vec(&document()).unwrap_or_default());
    DOCUMENT.as_slice()
}

/// The whole document: what `/openapi.json` answers and what the typed
/// clients are generated from.
pub fn document() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|settings| {
        settings.definitions_path = COMPONENTS.into();
        settings.meta_schema = None;
    });
    let mut generators = Generators {
        written: settings.clone().for_serialize().into_generator(),
        read: settings.for_deserialize().into_generator(),
    };
    let problem = generators.written.subschema_for::<ProblemBody<'static>>().to_value();
    let mut paths = Map::new();
    for route in routes::table() {
        let operation = operation(&route, &mut generators, &problem);
        let item = paths.entry(route.path).or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = operation;
    }
    let mut schemas = generators.written.take_definitions(true);
    for (name, schema) in generators.read.take_definitions(true) {
        // A type both read and written (a date, a meal) is one schema.
        if let Some(written) = schemas.get(&name) {
            assert_eq!(written, &schema, "{name}: read and written schemas differ under one name");
        }
        schemas.insert(name, schema);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Macrotrack",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Nutrition macro tracking. Errors are application/problem+json (RFC 9457). \
                A resource of another user answers 404 exactly as a missing one does.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "userToken": { "type": "http", "scheme": "bearer", "description": "A user's token." },
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "MACROTRACK_ADMIN_TOKEN; without it the admin routes answer 404.",
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in `value`.
    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|value| refs(value, found));
            }
            Value::Array(items) => items.iter().for_each(|value| refs(value, found)),
            _ => {}
        }
    }

    #[test]
    fn every_ref_resolves_under_components() {
        let document = document();
        assert_eq!(document["openapi"], "3.1.0");
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(found.len() > 20, "{found:?}");
        for target in found {
            let pointer = target.strip_prefix('#').expect("a local reference");
            assert!(pointer.starts_with(COMPONENTS), "{target}");
            assert!(document.pointer(pointer).is_some(), "{target} does not resolve");
        }
    }

    #[test]
    fn a_request_body_requires_only_its_required_fields() {
        // Read bodies: an absent Optional is fine. Written ones: every field.
        let schemas = &document()["components"]["schemas"];
        assert_eq!(schemas["LogEntryRequest"]["required"], json!(["date", "meal"]));
        assert_eq!(schemas["UpdateLogRequest"].get("required"), None);
        assert_eq!(
            schemas["LogEntry"]["required"].as_array().map(Vec::len),
            Some(schemas["LogEntry"]["properties"].as_object().unwrap().len())
        );
    }

    #[test]
    fn every_route_is_documented_with_its_statuses() {
        let document = document();
        for route in routes::table() {
            let method = route.method.as_str().to_ascii_lowercase();
            let operation = &document["paths"][route.path][&method];
            assert!(operation.is_object(), "{method} {}", route.path);
            let responses = operation["responses"].as_object().unwrap();
            for (status, _, _) in &route.answers {
                assert!(responses.contains_key(&status.to_string()));
            }
            if route.access != Access::Public {
                assert!(responses.contains_key("401"), "{method} {}", route.path);
                let too_many = &responses["429"];
                assert_eq!(too_many["headers"]["Retry-After"]["schema"]["minimum"], 1, "{method} {}", route.path);
            }
            if route.body.is_some() {
                assert!(responses.contains_key("408"), "{method} {}", route.path);
            }
            for param in route.params.iter().filter(|param| param.location == Location::Path) {
                assert!(route.path.contains(&format!("{{{}}}", param.name)));
            }
        }
    }
}
