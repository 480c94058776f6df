//! The OpenAPI 3.1 document, written from the route table (`routes::table`)
//! with the schemas of the wire types (schemars, JSON Schema 2020-12, which
//! OpenAPI 3.1 uses as it is) under `#/components/schemas`.

use std::sync::LazyLock;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::problem::Body as ProblemBody;
use crate::reference::{INTRODUCTION, Tag};
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
        // The day every documented example is about.
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
            Content::Json(schema, example) => {
                response["content"] = json!({
                    "application/json": { "schema": schema(&mut generators.written), "example": example() },
                });
            }
            Content::Text(media_type, example) => {
                response["content"] = json!({ *media_type: { "schema": { "type": "string" }, "example": example } });
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
            "content": {
                crate::problem::PROBLEM_JSON: { "schema": problem, "example": crate::problem::example(status) },
            },
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
    let tags: Vec<&str> = Tag::of(route.path).map(Tag::name).into_iter().collect();
    let mut operation = json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": tags,
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

/// The routes the reference lists, in its order: by tag, then as the
/// table has them (a stable sort). Tagless ones (which the tests refuse)
/// come last.
fn listed() -> Vec<Route> {
    let mut listed: Vec<Route> = routes::table().into_iter().filter(|route| route.listed).collect();
    listed.sort_by_key(|route| Tag::of(route.path).map_or(Tag::ALL.len(), |tag| tag as usize));
    listed
}

/// The document as `/openapi.json` answers it: built once, as the route
/// table does not change while the process runs.
pub(crate) fn json() -> &'static [u8] {
    static DOCUMENT: LazyLock<Vec<u8>> = LazyLock::new(|| text(false).into_bytes());
    DOCUMENT.as_slice()
}

/// The document as text, its paths in the reference's order (`listed`),
/// which a `Value` cannot keep: its objects sort their keys. Redoc lists a
/// tag's operations in the order of the text.
pub fn text(pretty: bool) -> String {
    let document = document();
    let mut order: Vec<(&'static str, Vec<String>)> = Vec::new();
    for route in listed() {
        let method = route.method.as_str().to_ascii_lowercase();
        match order.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, methods)) => methods.push(method),
            None => order.push((route.path, vec![method])),
        }
    }
    let paths = InOrder(
        order
            .iter()
            .map(|(path, methods)| {
                let item = &document["paths"][*path];
                (
                    *path,
                    Member::Ordered(InOrder(methods.iter().map(|m| (m.as_str(), Member::Value(&item[m]))).collect())),
                )
            })
            .collect(),
    );
    let mut top: Vec<(&str, Member)> = Vec::new();
    for (key, value) in document.as_object().into_iter().flatten() {
        top.push((key.as_str(), Member::Value(value)));
    }
    // Readers meet the head first, and `paths` before `components`.
    const HEAD: [&str; 4] = ["openapi", "info", "tags", "paths"];
    top.sort_by_key(|(key, _)| HEAD.iter().position(|head| head == key).unwrap_or(HEAD.len()));
    if let Some(member) = top.iter_mut().find(|(key, _)| *key == "paths") {
        member.1 = Member::Ordered(paths);
    }
    let ordered = InOrder(top);
    let written = if pretty { serde_json::to_string_pretty(&ordered) } else { serde_json::to_string(&ordered) };
    // Strings and numbers only: writing them cannot fail.
    written.unwrap_or_default()
}

/// An object written with its members in this order.
struct InOrder<'a>(Vec<(&'a str, Member<'a>)>);

enum Member<'a> {
    Value(&'a Value),
    Ordered(InOrder<'a>),
}

impl serde::Serialize for InOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, member) in &self.0 {
            match member {
                Member::Value(value) => map.serialize_entry(key, value)?,
                Member::Ordered(ordered) => map.serialize_entry(key, ordered)?,
            }
        }
        map.end()
    }
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
    for route in listed() {
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
            "description": INTRODUCTION,
        },
        "tags": Tag::ALL.map(|tag| json!({ "name": tag.name(), "description": tag.description() })),
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

    /// The methods of the document's operations, path by path, in the
    /// order of its text.
    fn operations_in_order(text: &str) -> Vec<(String, String)> {
        // A `Value` would sort the keys: read the text as it is ordered.
        let ordered = serde_json::from_str::<PathsOnly>(text).expect("the document's text").paths.0;
        ordered
            .into_iter()
            .flat_map(|(path, methods)| methods.0.into_iter().map(move |(m, _)| (m, path.clone())))
            .collect()
    }

    #[derive(serde::Deserialize)]
    struct PathsOnly {
        paths: Pairs<Pairs<serde::de::IgnoredAny>>,
    }

    /// A JSON object's members in the order written.
    struct Pairs<T>(Vec<(String, T)>);

    impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Pairs<T> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visit<T>(std::marker::PhantomData<T>);
            impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
                type Value = Pairs<T>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Pairs<T>, A::Error> {
                    let mut pairs = Vec::new();
                    while let Some(pair) = map.next_entry()? {
                        pairs.push(pair);
                    }
                    Ok(Pairs(pairs))
                }
            }
            deserializer.deserialize_map(Visit(std::marker::PhantomData))
        }
    }

    #[test]
    fn the_text_is_the_document_with_operations_by_tag_in_the_references_order() {
        assert_eq!(serde_json::from_str::<Value>(&text(true)).unwrap(), document());
        let text = text(false);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), document());
        let document = document();
        let tag_of = |method: &str, path: &str| {
            let tags = document["paths"][path][method]["tags"].as_array().unwrap();
            assert_eq!(tags.len(), 1, "{method} {path}: {tags:?}");
            let name = tags[0].as_str().unwrap();
            Tag::ALL.iter().position(|tag| tag.name() == name).unwrap_or_else(|| panic!("{method} {path}: {name}"))
        };
        let order: Vec<usize> = operations_in_order(&text).iter().map(|(m, path)| tag_of(m, path)).collect();
        assert!(order.is_sorted(), "{order:?}");
        // Every tag has operations, and the document names the tags in order.
        assert_eq!(order.iter().copied().collect::<std::collections::BTreeSet<_>>().len(), Tag::ALL.len());
        let names: Vec<&str> =
            document["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, Tag::ALL.map(Tag::name));
        // Within a tag, the route table's order: the day's logs before creating entries.
        let logs: Vec<String> = operations_in_order(&text)
            .into_iter()
            .filter(|(_, path)| path.starts_with("/v1/logs"))
            .map(|(m, path)| format!("{m} {path}"))
            .collect();
        assert_eq!(logs, ["get /v1/logs", "post /v1/logs", "patch /v1/logs/{id}", "delete /v1/logs/{id}"]);
    }

    #[test]
    fn every_listed_route_has_a_tag_and_only_head_twins_and_the_docs_page_are_unlisted() {
        let unlisted: Vec<String> = routes::table()
            .iter()
            .filter(|route| !route.listed && route.method != actix_web::http::Method::HEAD)
            .map(|route| route.path.to_owned())
            .collect();
        assert_eq!(unlisted, ["/docs", crate::routes::docs::SCRIPT_PATH]);
        for route in routes::table().iter().filter(|route| route.listed) {
            assert!(
                Tag::of(route.path).is_some(),
                "{} {}: no tag names its path; add it to Tag::of",
                route.method,
                route.path
            );
        }
        let document = document();
        assert!(document["paths"].get("/docs").is_none());
        assert!(document["paths"].as_object().unwrap().keys().all(|path| !path.starts_with("/docs")));
        let heads = document["paths"].as_object().unwrap().values().filter(|item| item.get("head").is_some()).count();
        assert_eq!(heads, 0);
        assert!(document["info"]["description"].as_str().unwrap().contains("# HEAD"));
    }

    #[test]
    fn every_request_body_and_json_answer_has_an_example() {
        let document = document();
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let mut contents: Vec<(String, &Value)> = Vec::new();
                if let Some(body) = operation.get("requestBody") {
                    contents.extend(body["content"].as_object().unwrap().iter().map(|(t, c)| (format!("body {t}"), c)));
                }
                for (status, response) in operation["responses"].as_object().unwrap() {
                    for (media_type, content) in
                        response.get("content").and_then(Value::as_object).into_iter().flatten()
                    {
                        contents.push((format!("{status} {media_type}"), content));
                    }
                }
                for (what, content) in contents {
                    // A request body's example may be its schema's (`examples`).
                    let schema = content["schema"]["$ref"]
                        .as_str()
                        .and_then(|target| document.pointer(target.trim_start_matches('#')))
                        .unwrap_or(&content["schema"]);
                    let examples = schema.get("examples").and_then(Value::as_array).map_or(0, Vec::len);
                    assert!(content.get("example").is_some() || examples > 0, "{method} {path}: {what} has no example");
                    checked += 1;
                }
            }
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn every_route_is_documented_with_its_statuses() {
        let document = document();
        for route in listed() {
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
