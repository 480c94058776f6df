//! `/openapi.json`: an OpenAPI 3.1 document whose every `$ref` resolves,
//! that documents every served route, and whose every documented operation
//! is served (CI also validates it with openapi-spec-validator and runs
//! schemathesis against it).

mod common;

use std::collections::BTreeSet;

use actix_web::http::Method;
use common::{ADMIN, TestApp};
use serde_json::{Value, json};

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

// No `head`: the introduction says once that every `GET` answers it.
const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// (METHOD, path) of every documented operation.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("path item") {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}");
            found.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    found
}

#[actix_web::test]
async fn the_document_is_openapi_3_1_and_every_ref_resolves() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let answer = client.get("/openapi.json", None).await;
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let document = answer.ok(200);
    assert_eq!(document, macrotrack_http::openapi_document());
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["info"]["title"].is_string() && document["info"]["version"].is_string());
    let mut found = Vec::new();
    refs(&document, &mut found);
    for target in &found {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("{target} is not local"));
        assert!(pointer.starts_with("/components/schemas/"), "{target}");
        assert!(document.pointer(pointer).is_some(), "{target} does not resolve");
    }
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for name in ["Food", "Recipe", "LogEntry", "DayLogs", "ScheduleDay", "Streak", "DayDashboard", "Summary", "Problem"]
    {
        assert!(schemas.contains_key(name), "{name}");
        assert!(found.contains(&format!("#/components/schemas/{name}").as_str()), "{name} is never referenced");
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["userToken"], json!({"type": "http", "scheme": "bearer", "description": "A user's token."}));
    assert_eq!(schemes["adminToken"]["scheme"], "bearer");

    for (method, path) in operations(&document) {
        let operation = &document["paths"][&path][method.to_ascii_lowercase()];
        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .map(|list| list.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect())
            .unwrap_or_default();
        let templated: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        assert_eq!(declared, templated, "{method} {path}");
        let responses = operation["responses"].as_object().unwrap();
        let security = operation["security"].as_array().unwrap();
        if path.starts_with("/v1/admin/") {
            assert_eq!(security, &[json!({"adminToken": []})], "{method} {path}");
        } else if path.starts_with("/v1/") {
            assert_eq!(security, &[json!({"userToken": []})], "{method} {path}");
            for status in ["401", "503"] {
                assert!(responses.contains_key(status), "{method} {path} lacks {status}");
            }
        } else {
            assert!(security.is_empty(), "{method} {path}");
        }
        for (status, response) in responses {
            if status.starts_with('4') {
                let schema = &response["content"]["application/problem+json"]["schema"];
                assert_eq!(schema, &json!({"$ref": "#/components/schemas/Problem"}), "{method} {path} {status}");
            }
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(responses.contains_key(status), "{method} {path} lacks {status}");
            }
        }
    }
}

/// A food's GET answers its ETag (and 304); its PATCH takes If-Match,
/// answers the new ETag and documents 412.
#[test]
fn a_foods_etag_and_if_match_are_documented() {
    let document = macrotrack_http::openapi_document();
    let food = &document["paths"]["/v1/foods/{id}"];
    let headers = |operation: &Value| -> Vec<String> {
        let parameters = operation["parameters"].as_array().unwrap();
        parameters.iter().filter(|p| p["in"] == "header").map(|p| p["name"].as_str().unwrap().to_owned()).collect()
    };
    assert!(food["get"]["responses"]["200"]["headers"]["ETag"].is_object());
    assert!(food["get"]["responses"]["304"].is_object());
    assert!(headers(&food["get"]).contains(&"If-None-Match".to_owned()));
    assert!(food["patch"]["responses"]["200"]["headers"]["ETag"].is_object());
    assert!(food["patch"]["responses"]["412"]["content"]["application/problem+json"].is_object());
    assert!(headers(&food["patch"]).contains(&"If-Match".to_owned()));
    // Only the conditional write takes If-Match.
    let takes_if_match = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter(|operation| headers(operation).contains(&"If-Match".to_owned()))
        .count();
    assert_eq!(takes_if_match, 1);
}

/// The TypeScript client's copy is this document: without Node.js at hand,
/// `cargo test` already says when `cargo xtask client` is due (CI's
/// `cargo xtask client --check` also compares the generated types).
#[test]
fn the_typescript_clients_document_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../clients/typescript/openapi.json");
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("the client's openapi.json"))
        .expect("the client's openapi.json is JSON");
    assert!(
        committed == macrotrack_http::openapi_document(),
        "clients/typescript is out of date: run `cargo xtask client` and commit the result"
    );
}

/// The docs page's own routes: served, but not part of the reference.
const DOCS_PAGE: [&str; 2] = ["/docs", "/docs/redoc-2.5.4.standalone.js"];

/// The contract's routes, `/healthz`, `/readyz`, `/metrics` and the document
/// itself, each documented; and nothing documented that is not served. The
/// served routes are those and the docs page's, and `HEAD` on every `GET`,
/// which the document's introduction says once instead of listing.
#[actix_web::test]
async fn the_document_and_the_served_routes_correspond() {
    let document = macrotrack_http::openapi_document();
    let documented = operations(&document);
    let registered: BTreeSet<(String, String)> =
        macrotrack_http::route_list().into_iter().map(|(method, path)| (method, path.to_owned())).collect();
    let (unlisted, listed): (BTreeSet<_>, BTreeSet<_>) =
        registered.iter().cloned().partition(|(method, path)| method == "HEAD" || DOCS_PAGE.contains(&path.as_str()));
    assert_eq!(documented, listed);
    let heads =
        registered.iter().filter(|(method, _)| method == "GET").map(|(_, path)| ("HEAD".to_owned(), path.clone()));
    let docs_page = DOCS_PAGE.map(|path| ("GET".to_owned(), path.to_owned()));
    assert_eq!(unlisted, heads.chain(docs_page).collect());
    assert!(document["info"]["description"].as_str().unwrap().contains("Every `GET` route also answers `HEAD`"));
    let contract = [
        "POST /v1/admin/users",
        "GET /v1/me",
        "PUT /v1/me/targets",
        "DELETE /v1/me",
        "POST /v1/foods",
        "GET /v1/foods/{id}",
        "GET /v1/foods",
        "GET /v1/foods/frequent",
        "POST /v1/recipes",
        "GET /v1/recipes/{id}",
        "POST /v1/logs",
        "GET /v1/logs",
        "PATCH /v1/logs/{id}",
        "DELETE /v1/logs/{id}",
        "PUT /v1/days/{date}/completion",
        "DELETE /v1/days/{date}/completion",
        "GET /v1/streaks",
        "GET /v1/summary",
        "POST /v1/meal-plans",
        "GET /v1/meal-plans/{id}",
        "POST /v1/meal-plans/{id}/schedule",
        "GET /v1/schedule",
        "DELETE /v1/scheduled-meals/{id}",
        "DELETE /v1/scheduled-plans/{id}",
        "GET /v1/days/{date}",
        "POST /v1/admin/cache/invalidate",
        "POST /v1/admin/cache/refresh",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /openapi.json",
        // Additions (December 2026).
        "PATCH /v1/foods/{id}",
        "GET /v1/weeks/{start}",
        // (The reference for people, issue 14, and its script are served
        // but not in the reference, issue 23.)
        // Second additions: the catalogue.
        "GET /v1/foods/barcode/{code}",
        // Second additions: what users do every day.
        "GET /v1/foods/recent",
        "PUT /v1/me/settings",
        "GET /v1/export",
        "POST /v1/days/{date}/copy",
    ];
    let contract: BTreeSet<(String, String)> =
        contract.iter().map(|line| line.split_once(' ').map(|(m, p)| (m.to_owned(), p.to_owned())).unwrap()).collect();
    assert_eq!(documented, contract);

    // Every documented operation is served, and HEAD on each GET (Additions):
    // neither "no such route" nor 405.
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("olga").await;
    // DELETE /v1/me last, or every later request would be 401.
    let last = ("DELETE".to_owned(), "/v1/me".to_owned());
    for (method, path) in
        registered.iter().filter(|op| **op != last && !DOCS_PAGE.contains(&op.1.as_str())).chain([&last])
    {
        let uri = path.replace("{id}", "1").replace("{date}", "2026-11-24").replace("{start}", "2026-11-23");
        let uri = format!("{uri}?date=2026-11-24&from=2026-11-24&to=2026-11-24");
        let token = if path.starts_with("/v1/admin/") { ADMIN } else { token.as_str() };
        let method: Method = method.parse().unwrap();
        let answer = if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
            client.json(method.clone(), &uri, Some(token), json!({})).await
        } else {
            client.bare(method.clone(), &uri, Some(token)).await
        };
        assert_ne!(answer.status.as_u16(), 405, "{method} {path}: {}", answer.text);
        assert_ne!(answer.status.as_u16(), 401, "{method} {path}: {}", answer.text);
        if answer.status == 404 {
            assert_eq!(answer.json()["detail"], "no such resource", "{method} {path} is not served");
        }
    }
    // And a method or path the document does not have is not served.
    assert_eq!(client.bare(Method::GET, "/v1/scheduled-plans/1", None).await.status, 405);
    assert_eq!(client.get("/v1/plans", None).await.json()["detail"], "no such route");
}
