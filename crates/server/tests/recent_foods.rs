//! `GET /v1/foods/recent` on both backends: the user's distinct logged
//! foods by their most recently created entry, newest first, ties by food
//! id, with that entry's date; fresh after every log write and food edit;
//! `limit` bounded; never another user's.

mod common;

use common::TestApp;
use serde_json::{Value, json};

#[actix_web::test]
async fn recent_foods_on_sqlite() {
    recent_foods_follow_the_log(&TestApp::sqlite().await).await;
}

#[actix_web::test]
async fn recent_foods_on_postgres_and_redis() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        recent_foods_follow_the_log(&TestApp::with(settings, None).await).await;
    })
    .await;
}

/// (food id, last_logged) of an answer.
fn recent(answer: &Value) -> Vec<(i64, String)> {
    let entries = answer.as_array().expect("an array");
    entries.iter().map(|recent| (recent["food"]["id"].as_i64().unwrap(), recent["last_logged"].to_string())).collect()
}

fn on(date: &str) -> String {
    format!("\"{date}\"")
}

async fn recent_foods_follow_the_log(app: &TestApp) {
    let client = app.client().await;
    let (_, token) = client.user("rosa").await;
    let t = Some(token.as_str());
    assert_eq!(client.get("/v1/foods/recent", t).await.ok(200), json!([]));
    let mine = client.food(t, "Rosa's muesli", 380.0).await;
    let batch = |entries: Vec<Value>| json!({ "entries": entries });
    // One batch: its entries are created together, so ties go by food id.
    client
        .post(
            "/v1/logs",
            t,
            batch(vec![common::entry("2026-11-20", "lunch", 2, 1.0), common::entry("2026-11-21", "lunch", 1, 1.0)]),
        )
        .await
        .ok(201);
    assert_eq!(
        recent(&client.get("/v1/foods/recent", t).await.ok(200)),
        [(1, on("2026-11-21")), (2, on("2026-11-20"))]
    );
    // A later entry makes its food the newest, with its date.
    let later = client.post("/v1/logs", t, batch(vec![common::entry("2026-11-18", "snack", mine, 1.0)])).await.ok(201);
    let answer = client.get("/v1/foods/recent", t).await.ok(200);
    assert_eq!(recent(&answer), [(mine, on("2026-11-18")), (1, on("2026-11-21")), (2, on("2026-11-20"))]);
    assert_eq!(answer[0]["food"], client.get(&format!("/v1/foods/{mine}"), t).await.ok(200), "the food as it is");
    assert_eq!(recent(&client.get("/v1/foods/recent?limit=1", t).await.ok(200)), [(mine, on("2026-11-18"))]);
    // Moving that entry moves the date shown; editing the food shows the edit.
    let entry = later["entries"][0]["id"].as_i64().unwrap();
    client.patch(&format!("/v1/logs/{entry}"), t, json!({"date": "2026-11-25"})).await.ok(200);
    client.patch(&format!("/v1/foods/{mine}"), t, json!({"name": "Rosa's bircher"})).await.ok(200);
    let answer = client.get("/v1/foods/recent", t).await.ok(200);
    assert_eq!(recent(&answer)[0], (mine, on("2026-11-25")));
    assert_eq!(answer[0]["food"]["name"], "Rosa's bircher");
    // Deleting a food's only entry drops it.
    client.deleted(&format!("/v1/logs/{entry}"), t).await;
    assert_eq!(
        recent(&client.get("/v1/foods/recent", t).await.ok(200)),
        [(1, on("2026-11-21")), (2, on("2026-11-20"))]
    );
    // Recipe entries are not foods.
    let recipe = client.recipe(t, "Rosa's bowl", 1).await;
    let recipe_entry = json!({"date": "2026-11-26", "meal": "dinner", "recipe_id": recipe, "servings": 1});
    client.post("/v1/logs", t, batch(vec![recipe_entry])).await.ok(201);
    assert_eq!(recent(&client.get("/v1/foods/recent", t).await.ok(200)).len(), 2);
    // Another user's view is their own.
    let (_, other) = client.user("sam").await;
    assert_eq!(client.get("/v1/foods/recent", Some(&other)).await.ok(200), json!([]));
    for limit in ["0", "101", "-1"] {
        assert_eq!(client.get(&format!("/v1/foods/recent?limit={limit}"), t).await.problem(422), ["limit"]);
    }
    assert_eq!(client.get("/v1/foods/recent?limit=x", t).await.problem(400), ["limit"]);
}
