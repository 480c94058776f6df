//! Hostile input through the API: SQL-like strings, huge and non-finite
//! numbers, deep nesting, unicode edge cases, 10 000-item arrays, duplicate
//! keys. Every answer is a 2xx or a 4xx (never a 5xx), and nothing stored
//! breaks a later read.

mod common;

use actix_web::http::Method;
use common::TestApp;
use serde_json::json;

const JSON: Option<&str> = Some("application/json");

#[actix_web::test]
async fn hostile_bodies_on_sqlite() {
    hostile_bodies_get_4xx_or_are_stored_harmlessly(TestApp::sqlite().await).await;
}

#[actix_web::test]
async fn hostile_bodies_on_postgres_and_redis() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        hostile_bodies_get_4xx_or_are_stored_harmlessly(TestApp::with(settings, None).await).await;
    })
    .await;
}

async fn hostile_bodies_get_4xx_or_are_stored_harmlessly(app: TestApp) {
    let client = app.client().await;
    let (_, token) = client.user("Mallory").await;
    let t = Some(token.as_str());
    let food = |name: &str| {
        format!(
            r#"{{"name":{},"serving_size":100,"serving_unit":"g","calories":100,"protein_g":1,"carbs_g":1,"fat_g":1}}"#,
            serde_json::to_string(name).unwrap()
        )
    };
    // Names a careless query would run, and unicode that trips naive code.
    let names = [
        "'; DROP TABLE foods; --",
        "\" OR 1=1 --",
        "%_\\%",
        "Robert'); DELETE FROM users;--",
        "\u{202e}evil\u{202d}",
        "a\u{200d}b\u{fe0f}",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🍎🍏",
        "e\u{301}\u{301}\u{301}",
        "\u{feff}bom",
        "nul\u{0}byte",
    ];
    let mut stored = Vec::new();
    for name in names {
        let answer = client.raw(Method::POST, "/v1/foods", t, JSON, food(name)).await;
        assert!(answer.status.is_success() || answer.status.is_client_error(), "{name:?}: {}", answer.status);
        if answer.status.is_success() {
            stored.push(answer.json()["id"].as_i64().unwrap());
        }
    }
    assert!(!stored.is_empty(), "hostile but valid names are stored as text");
    let bodies: Vec<(String, &str)> = vec![
        // Numbers JSON can carry but no bound accepts, and ones it cannot carry.
        (food("x").replace("\"calories\":100", "\"calories\":1e308"), "huge number"),
        (food("x").replace("\"calories\":100", "\"calories\":1e400"), "number beyond f64"),
        (food("x").replace("\"calories\":100", "\"calories\":-0.0"), "negative zero"),
        (food("x").replace("\"calories\":100", "\"calories\":NaN"), "NaN literal"),
        (food("x").replace("\"calories\":100", "\"calories\":Infinity"), "Infinity literal"),
        (food("x").replace("\"calories\":100", "\"calories\":123456789012345678901234567890"), "huge integer"),
        ("[".repeat(10_000) + &"]".repeat(10_000), "deep nesting"),
        (format!("{{\"name\":{}}}", "[".repeat(200) + &"]".repeat(200)), "nested value"),
        (r#"{"name":"\ud800","serving_size":1}"#.to_owned(), "lone surrogate"),
        (food("first").replace("{\"name\"", "{\"name\":\"second\",\"name\""), "duplicate keys"),
        (format!("{{\"entries\":[{}]}}", vec!["1"; 10_000].join(",")), "10 000-item array"),
    ];
    for (body, what) in &bodies {
        for path in ["/v1/foods", "/v1/logs", "/v1/recipes", "/v1/meal-plans"] {
            let answer = client.raw(Method::POST, path, t, JSON, body.clone()).await;
            assert!(
                answer.status.is_success() || answer.status.is_client_error(),
                "{what} on {path}: {}",
                answer.status
            );
        }
    }
    // 10 000 valid-looking entries: refused whole (at most 100), nothing logged.
    let entry = json!({"date": "2026-11-24", "meal": "lunch", "food_id": 1, "servings": 1});
    let many = json!({ "entries": vec![entry; 10_000] }).to_string();
    let answer = client.raw(Method::POST, "/v1/logs", t, JSON, many).await;
    assert!(answer.status.as_u16() == 413 || answer.status.as_u16() == 422, "{}", answer.status);
    // Hostile query strings.
    for uri in [
        "/v1/foods?query=%27%3B%20DROP%20TABLE%20foods%3B--",
        "/v1/foods?query=%25",
        "/v1/foods?query=%FF%FE",
        "/v1/foods?limit=99999999999999999999",
        "/v1/logs?date=2026-11-24%00",
        "/v1/summary?from=0000-01-01&to=9999-12-31",
    ] {
        let answer = client.get(uri, t).await;
        assert!(answer.status.is_success() || answer.status.is_client_error(), "{uri}: {}", answer.status);
    }
    // Whatever was stored reads back: search, each food, a logged day.
    let all = client.get("/v1/foods?query=&limit=100", t).await.ok(200);
    assert!(all.as_array().unwrap().len() >= stored.len());
    for id in &stored {
        let food = client.get(&format!("/v1/foods/{id}"), t).await.ok(200);
        let name = food["name"].as_str().unwrap();
        assert!(names.iter().any(|n| n.trim() == name), "{name:?} read back as stored");
    }
    let log = json!({"entries": [{"date": "2026-11-24", "meal": "lunch", "food_id": stored[0], "servings": 1}]});
    client.post("/v1/logs", t, log).await.ok(201);
    let day = client.get("/v1/logs?date=2026-11-24", t).await.ok(200);
    assert_eq!(day["entries"][0]["name"], json!(names[0]));
    client.get("/v1/foods/frequent", t).await.ok(200);
    client.get("/v1/days/2026-11-24", t).await.ok(200);
}
