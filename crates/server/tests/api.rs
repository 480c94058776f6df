//! The first slice end to end on SQLite with the in-process cache: users,
//! foods, logs, admin cache operations, auth, readiness and metrics.

mod common;

use actix_web::http::Method;
use common::{ADMIN, TestApp, entry, oats};
use serde_json::json;

#[actix_web::test]
async fn the_slice_end_to_end_without_stale_reads() {
    let app = TestApp::sqlite().await;
    common::slice(&app.client().await).await;
}

#[actix_web::test]
async fn unknown_food_in_a_batch_is_422_and_nothing_is_logged() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("bob").await;
    let token = Some(token.as_str());
    let batch = json!({"entries": [entry("2026-11-24", "lunch", 1, 1.0), entry("2026-11-24", "lunch", 999_999, 1.0)]});
    assert_eq!(client.post("/v1/logs", token, batch).await.problem(422), ["entries.1.food_id"]);
    let day = client.get("/v1/logs?date=2026-11-24", token).await.ok(200);
    assert_eq!(day["entries"], json!([]), "all or nothing");
}

#[actix_web::test]
async fn another_users_food_is_exactly_as_missing_as_a_missing_one() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, alice) = client.user("alice").await;
    let (_, bob) = client.user("bob").await;
    let food = client.post("/v1/foods", Some(&alice), oats()).await.ok(201);
    let id = food["id"].as_i64().unwrap();

    let foreign = client.get(&format!("/v1/foods/{id}"), Some(&bob)).await;
    let missing = client.get("/v1/foods/987654321", Some(&bob)).await;
    foreign.problem(404);
    // The same answer but for the request it names.
    assert_eq!(foreign.problem_body(), missing.problem_body());
    // Global foods are everyone's; bob cannot log alice's food either.
    assert_eq!(client.get("/v1/foods/1", Some(&bob)).await.ok(200)["owner"], "global");
    let batch = json!({"entries": [entry("2026-11-24", "lunch", id, 1.0)]});
    assert_eq!(client.post("/v1/logs", Some(&bob), batch).await.problem(422), ["entries.0.food_id"]);
}

#[actix_web::test]
async fn auth_failures_are_401_before_anything_else() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("carol").await;
    let unknown = format!("mt_{}_{}", "0".repeat(16), "a".repeat(64));
    for bad in [None, Some("nonsense"), Some(unknown.as_str()), Some(ADMIN)] {
        let answer = client.get("/v1/foods/1", bad).await;
        answer.problem(401);
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        // Whatever else is wrong with the request.
        client.get("/v1/foods/notanid", bad).await.problem(401);
        client.get("/v1/logs?date=notadate", bad).await.problem(401);
        client.raw(Method::POST, "/v1/foods", bad, None, "{").await.problem(401);
        client.raw(Method::POST, "/v1/logs", bad, Some("application/json"), vec![b' '; 300 * 1024]).await.problem(401);
    }
    let basic = actix_web::test::TestRequest::get()
        .uri("/v1/foods/1")
        .insert_header(("authorization", format!("Basic {token}")));
    client.send(basic).await.problem(401);
    // A user token on an admin route, or none.
    for bad in [None, Some(token.as_str()), Some("test-admin-token-012345678")] {
        client.post("/v1/admin/users", bad, json!({"name": "mallory"})).await.problem(401);
        client.post("/v1/admin/cache/invalidate", bad, json!({"user_id": 1, "tags": []})).await.problem(401);
        client.post("/v1/admin/cache/refresh", bad, json!({"user_id": 1, "date": "2026-11-24"})).await.problem(401);
    }
}

#[actix_web::test]
async fn admin_routes_do_not_exist_without_an_admin_token() {
    let app = TestApp::sqlite_with(|settings| settings.admin_token = None).await;
    let client = app.client().await;
    for token in [None, Some(ADMIN)] {
        client.post("/v1/admin/users", token, json!({"name": "x"})).await.problem(404);
        client.post("/v1/admin/cache/invalidate", token, json!({"user_id": 1, "tags": []})).await.problem(404);
        client.post("/v1/admin/cache/refresh", token, json!({"user_id": 1, "date": "2026-11-24"})).await.problem(404);
        client.get("/v1/admin/users", token).await.problem(404);
    }
    // An empty token is no token.
    let app = TestApp::sqlite_with(|settings| settings.admin_token = Some(String::new())).await;
    let client = app.client().await;
    client.raw(Method::POST, "/v1/admin/users", None, Some("application/json"), "{}").await.problem(404);
}

#[actix_web::test]
async fn admin_invalidate_and_refresh() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (id, token) = client.user("dave").await;
    let admin = Some(ADMIN);
    let tags = json!({"user_id": id, "tags": [format!("user_{id}"), format!("user_{id}_food"), format!("user_{id}_scheduled_2026-11-24")]});
    assert_eq!(client.post("/v1/admin/cache/invalidate", admin, tags).await.ok(200), json!({"invalidated": 3}));
    let foreign = json!({"user_id": id, "tags": [format!("user_{id}"), format!("user_{}", id + 1), "bogus_family", 7]});
    assert_eq!(client.post("/v1/admin/cache/invalidate", admin, foreign).await.problem(422), ["tags.3"]);
    let foreign = json!({"user_id": id, "tags": [format!("user_{}", id + 1), "bogus"]});
    assert_eq!(client.post("/v1/admin/cache/invalidate", admin, foreign).await.problem(422), ["tags.0", "tags.1"]);
    assert_eq!(
        client.post("/v1/admin/cache/invalidate", admin, json!({"tags": "x"})).await.problem(422),
        ["user_id", "tags"]
    );
    // An unknown user in a body is a broken reference: 422 on the field.
    let unknown = json!({"user_id": 999_999, "tags": ["user_999999"]});
    assert_eq!(client.post("/v1/admin/cache/invalidate", admin, unknown).await.problem(422), ["user_id"]);

    let batch = json!({"entries": [entry("2026-11-24", "dinner", 1, 1.0)]});
    client.post("/v1/logs", Some(&token), batch).await.ok(201);
    let refreshed =
        client.post("/v1/admin/cache/refresh", admin, json!({"user_id": id, "date": "2026-11-24"})).await.ok(200);
    assert_eq!(refreshed, client.get("/v1/logs?date=2026-11-24", Some(&token)).await.ok(200));
    assert_eq!(refreshed["entries"].as_array().unwrap().len(), 1);
    let bad = json!({"user_id": "x", "date": "2026-02-30"});
    assert_eq!(client.post("/v1/admin/cache/refresh", admin, bad).await.problem(422), ["user_id", "date"]);
    let unknown = json!({"user_id": 999_999, "date": "2026-11-24"});
    assert_eq!(client.post("/v1/admin/cache/refresh", admin, unknown).await.problem(422), ["user_id"]);
    assert_eq!(client.post("/v1/admin/users", admin, json!({"name": "   "})).await.problem(422), ["name"]);
    assert_eq!(client.post("/v1/admin/users", admin, json!({})).await.problem(422), ["name"]);
}

#[actix_web::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    assert_eq!(client.get("/healthz", None).await.ok(200), json!({"status": "ok"}));
    assert_eq!(client.get("/readyz", None).await.ok(200), json!({"database": "ok", "cache": "in-process"}));

    let (_, token) = client.user("erin").await;
    client.get("/v1/logs?date=2026-11-24", Some(&token)).await.ok(200);
    let metrics = client.get("/metrics", None).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain"));
    for needle in [
        "macrotrack_cache_requests_total{tier=\"1\",family=\"logs\",outcome=\"miss\"}",
        "macrotrack_http_requests_total{route=\"/v1/logs\",method=\"GET\",status=\"200\"}",
        "macrotrack_http_request_duration_seconds_bucket{route=\"/v1/logs\",method=\"GET\",le=",
    ] {
        assert!(metrics.text.contains(needle), "{needle} missing from\n{}", metrics.text);
    }

    let off = TestApp::sqlite_with(|settings| settings.cache = macrotrack::CacheMode::Off).await;
    let client = off.client().await;
    assert_eq!(client.get("/readyz", None).await.ok(200), json!({"database": "ok", "cache": "off"}));
}

#[actix_web::test]
async fn cache_off_reads_are_still_correct() {
    let app = TestApp::sqlite_with(|settings| settings.cache = macrotrack::CacheMode::Off).await;
    let client = app.client().await;
    let (_, token) = client.user("frank").await;
    let token = Some(token.as_str());
    client.get("/v1/logs?date=2026-11-24", token).await.ok(200);
    client.post("/v1/logs", token, json!({"entries": [entry("2026-11-24", "snack", 1, 0.5)]})).await.ok(201);
    let day = client.get("/v1/logs?date=2026-11-24", token).await.ok(200);
    assert_eq!(day["entries"].as_array().unwrap().len(), 1);
}
