//! `/v1/me` (targets, deletion), food search, frequent foods and recipes:
//! exact answers and every error class.

mod common;

use actix_web::http::Method;
use common::{ADMIN, TestApp};
use macrotrack_domain::{Day, UserId};
use serde_json::{Value, json};

fn targets() -> Value {
    json!({"calories": 2500, "protein_g": 180.555, "carbs_g": 0, "fat_g": 1000})
}

#[actix_web::test]
async fn targets_round_bound_and_name_every_field() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (id, token) = client.user("tina").await;
    let t = Some(token.as_str());
    let stored = client.put("/v1/me/targets", t, targets()).await.ok(200);
    assert_eq!(stored, json!({"calories": 2500.0, "protein_g": 180.56, "carbs_g": 0.0, "fat_g": 1000.0}));
    assert_eq!(
        client.get("/v1/me", t).await.ok(200),
        json!({"id": id, "name": "tina", "targets": stored, "timezone": "UTC"})
    );

    // Bounds apply before rounding: 1000.004 is over 1000.
    let bad = json!({"calories": 10000.01, "protein_g": -0.01, "carbs_g": "1", "fat_g": 1000.004});
    assert_eq!(client.put("/v1/me/targets", t, bad).await.problem(422), ["calories", "protein_g", "carbs_g", "fat_g"]);
    let edge = json!({"calories": 10000, "protein_g": 0, "carbs_g": 1000, "fat_g": 999.995});
    let edge = client.put("/v1/me/targets", t, edge).await.ok(200);
    assert_eq!(edge, json!({"calories": 10000.0, "protein_g": 0.0, "carbs_g": 1000.0, "fat_g": 1000.0}));
    let stored = client.put("/v1/me/targets", t, targets()).await.ok(200);
    let bad = json!({"fat_g": 1000.01, "carbs_g": null});
    assert_eq!(client.put("/v1/me/targets", t, bad).await.problem(422), ["calories", "protein_g", "carbs_g", "fat_g"]);
    let json_type = Some("application/json");
    client.raw(Method::PUT, "/v1/me/targets", t, json_type, "[1]").await.problem(400);
    client.raw(Method::PUT, "/v1/me/targets", t, json_type, "{").await.problem(400);
    client.raw(Method::PUT, "/v1/me/targets", t, Some("text/plain"), targets().to_string()).await.problem(415);
    client.raw(Method::PUT, "/v1/me/targets", t, None, targets().to_string()).await.problem(415);
    let huge = json!({"calories": 1, "pad": "x".repeat(300 * 1024)}).to_string();
    client.raw(Method::PUT, "/v1/me/targets", t, json_type, huge).await.problem(413);
    // Nothing of the rejected bodies was stored.
    assert_eq!(client.get("/v1/me", t).await.ok(200)["targets"], stored);
}

#[actix_web::test]
async fn deleting_the_user_removes_their_data_and_cached_copies() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (id, token) = client.user("dora").await;
    let (_, other) = client.user("otto").await;
    let t = Some(token.as_str());
    let food = client.food(t, "Dora's stew", 300.0).await;
    let batch = json!({"entries": [{"date": "2026-11-24", "meal": "dinner", "food_id": food, "servings": 1}]});
    client.post("/v1/logs", t, batch.clone()).await.ok(201);
    client
        .post("/v1/logs", Some(&other), json!({"entries": [common::entry("2026-11-24", "lunch", 1, 1.0)]}))
        .await
        .ok(201);
    // Cached before the deletion: the day, me, frequent foods.
    assert_eq!(client.get("/v1/logs?date=2026-11-24", t).await.ok(200)["entries"].as_array().unwrap().len(), 1);
    client.get("/v1/me", t).await.ok(200);
    client.get("/v1/foods/frequent", t).await.ok(200);

    client.deleted("/v1/me", t).await;
    client.get("/v1/me", t).await.problem(401);
    client.delete("/v1/me", t).await.problem(401);
    // The service sees no trace, cached or not.
    let service = app.application.state().service;
    let day: Day = "2026-11-24".parse().unwrap();
    assert_eq!(service.day_logs(UserId(id), day).await.unwrap().entries, []);
    assert!(service.me(UserId(id)).await.is_err());
    assert_eq!(service.frequent_foods(UserId(id), None).await.unwrap(), []);
    assert!(service.food(UserId(id), macrotrack_domain::FoodId(food)).await.is_err());
    let refresh = json!({"user_id": id, "date": "2026-11-24"});
    assert_eq!(client.post("/v1/admin/cache/refresh", Some(ADMIN), refresh).await.problem(422), ["user_id"]);
    // The other user is untouched.
    let theirs = client.get("/v1/logs?date=2026-11-24", Some(&other)).await.ok(200);
    assert_eq!(theirs["entries"].as_array().unwrap().len(), 1);
    client.get("/v1/me", Some(&other)).await.ok(200);
}

fn names(foods: &Value) -> Vec<&str> {
    foods.as_array().unwrap().iter().map(|food| food["name"].as_str().unwrap()).collect()
}

#[actix_web::test]
async fn food_search_ranks_own_foods_by_folded_name_then_id_and_bounds_limit() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("sam").await;
    let (_, other) = client.user("olaf").await;
    let t = Some(token.as_str());
    let b = client.food(t, "Zyx bravo", 10.0).await;
    let a2 = client.food(t, "zyx alpha", 20.0).await;
    let a1 = client.food(t, "ZYX ALPHA", 30.0).await;
    client.food(Some(&other), "Zyx other's", 1.0).await;

    let found = client.get("/v1/foods?query=zYx", t).await.ok(200);
    let ids: Vec<i64> = found.as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
    // Matching ignores case; among equal ranks the order is the folded
    // name, then id.
    assert_eq!(ids, [a2, a1, b], "{found}");
    assert_eq!(found[2], client.get(&format!("/v1/foods/{b}"), t).await.ok(200));
    let twins = [client.food(t, "Zyx twin", 1.0).await, client.food(t, "Zyx twin", 2.0).await];
    let found = client.get("/v1/foods?query=TWIN", t).await.ok(200);
    let ids: Vec<i64> = found.as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, twins, "equal names by id");
    assert_eq!(names(&client.get("/v1/foods?query=%20bravo%20&limit=1", t).await.ok(200)), ["Zyx bravo"]);
    assert_eq!(client.get("/v1/foods?query=zyx&limit=1", t).await.ok(200).as_array().unwrap().len(), 1);
    assert_eq!(client.get("/v1/foods?query=nothing-like-it", t).await.ok(200), json!([]));
    // No query, or an empty one: every visible food (the catalogue has
    // 30+), the user's own five first.
    for uri in ["/v1/foods", "/v1/foods?query=", "/v1/foods?limit=20"] {
        let all = client.get(uri, t).await.ok(200);
        assert_eq!(all.as_array().unwrap().len(), 20, "default limit 20: {uri}");
        let owners: Vec<&str> = all.as_array().unwrap().iter().map(|f| f["owner"].as_str().unwrap()).collect();
        assert_eq!(owners[..6], ["user", "user", "user", "user", "user", "global"], "{uri}");
    }
    let hundred = client.get("/v1/foods?limit=100", t).await.ok(200);
    let count = hundred.as_array().unwrap().len();
    assert!((35..=100).contains(&count), "{count}");
    assert!(!names(&hundred).contains(&"Zyx other's"), "another user's food is not visible");
    assert!(hundred.as_array().unwrap().iter().any(|f| f["owner"] == "global"));

    for limit in ["0", "101", "-1"] {
        assert_eq!(client.get(&format!("/v1/foods?limit={limit}"), t).await.problem(422), ["limit"], "{limit}");
        assert_eq!(client.get(&format!("/v1/foods/frequent?limit={limit}"), t).await.problem(422), ["limit"]);
    }
    for limit in ["x", "", "1.5", "99999999999999999999"] {
        assert_eq!(client.get(&format!("/v1/foods?limit={limit}"), t).await.problem(400), ["limit"], "{limit:?}");
        assert_eq!(client.get(&format!("/v1/foods/frequent?limit={limit}"), t).await.problem(400), ["limit"]);
    }
    // Undecodable bytes are replaced (U+FFFD), not refused: no food has them.
    assert_eq!(client.get("/v1/foods?query=%FF", t).await.ok(200), json!([]));
}

#[actix_web::test]
async fn frequent_foods_most_used_first_ties_by_id_and_fresh_after_logging() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("fred").await;
    let t = Some(token.as_str());
    let mine = client.food(t, "Fred's granola", 450.0).await;
    assert_eq!(client.get("/v1/foods/frequent", t).await.ok(200), json!([]));
    let log = |food: i64, times: usize| {
        let entries: Vec<Value> = (0..times).map(|_| common::entry("2026-11-24", "snack", food, 1.0)).collect();
        json!({ "entries": entries })
    };
    client.post("/v1/logs", t, log(2, 1)).await.ok(201);
    client.post("/v1/logs", t, log(mine, 3)).await.ok(201);
    client.post("/v1/logs", t, log(1, 1)).await.ok(201);
    let uses = |answer: &Value| -> Vec<(i64, i64)> {
        answer
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["food"]["id"].as_i64().unwrap(), f["uses"].as_i64().unwrap()))
            .collect()
    };
    assert_eq!(uses(&client.get("/v1/foods/frequent", t).await.ok(200)), [(mine, 3), (1, 1), (2, 1)]);
    assert_eq!(uses(&client.get("/v1/foods/frequent?limit=2", t).await.ok(200)), [(mine, 3), (1, 1)]);
    client.post("/v1/logs", t, log(2, 4)).await.ok(201);
    assert_eq!(uses(&client.get("/v1/foods/frequent?limit=2", t).await.ok(200)), [(2, 5), (mine, 3)]);
    let top = client.get("/v1/foods/frequent?limit=1", t).await.ok(200);
    assert_eq!(top[0]["food"], client.get("/v1/foods/2", t).await.ok(200));
    // Not frozen in another user's view.
    let (_, other) = client.user("gina").await;
    assert_eq!(client.get("/v1/foods/frequent", Some(&other)).await.ok(200), json!([]));
}

#[actix_web::test]
async fn recipes_compute_per_serving_and_name_every_bad_field() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("rita").await;
    let t = Some(token.as_str());
    // Oats, rolled (global #1): 379 kcal, 13.15 / 67.7 / 6.52 g per 100 g.
    let body = json!({"name": "  Porridge ", "servings": 3, "ingredients": [{"food_id": 1, "servings": 0.5}, {"food_id": 1, "servings": 0.25}]});
    let recipe = client.post("/v1/recipes", t, body).await.ok(201);
    let id = recipe["id"].as_i64().unwrap();
    // 379 × 0.75 / 3 = 94.75; 13.15 × 0.75 / 3 = 3.2875 → 3.29.
    let expected = json!({"id": id, "name": "Porridge", "servings": 3.0,
        "ingredients": [{"food_id": 1, "servings": 0.5}, {"food_id": 1, "servings": 0.25}],
        "per_serving": {"calories": 94.75, "protein_g": 3.29, "carbs_g": 16.93, "fat_g": 1.63}});
    assert_eq!(recipe, expected);
    assert_eq!(client.get(&format!("/v1/recipes/{id}"), t).await.ok(200), expected);
    client.get("/v1/recipes/987654321", t).await.problem(404);
    assert_eq!(client.get("/v1/recipes/abc", t).await.problem(400), ["id"]);

    let bad = json!({"name": 7, "servings": 100.01, "ingredients": [
        {"food_id": 1, "servings": 0},
        {"food_id": 1.5, "servings": "1"},
        "x",
        {},
    ]});
    assert_eq!(
        client.post("/v1/recipes", t, bad).await.problem(422),
        [
            "name",
            "servings",
            "ingredients.0.servings",
            "ingredients.1.food_id",
            "ingredients.1.servings",
            "ingredients.2",
            "ingredients.3.food_id",
            "ingredients.3.servings"
        ]
    );
    let ingredient = json!({"food_id": 1, "servings": 1});
    for list in [vec![], vec![ingredient.clone(); 51]] {
        let body = json!({"name": "x", "servings": 1, "ingredients": list});
        assert_eq!(client.post("/v1/recipes", t, body).await.problem(422), ["ingredients"]);
    }
    let fifty = json!({"name": "x", "servings": 100, "ingredients": vec![ingredient.clone(); 50]});
    client.post("/v1/recipes", t, fifty).await.ok(201);
    let unknown =
        json!({"name": "x", "servings": 1, "ingredients": [ingredient, {"food_id": 987654321, "servings": 1}]});
    assert_eq!(client.post("/v1/recipes", t, unknown).await.problem(422), ["ingredients.1.food_id"]);
    let tiny = json!({"name": "x", "servings": 0.001, "ingredients": [{"food_id": 1, "servings": 1}]});
    assert_eq!(client.post("/v1/recipes", t, tiny).await.problem(422), ["servings"]);
    let json_type = Some("application/json");
    client.raw(Method::POST, "/v1/recipes", t, json_type, "[]").await.problem(400);
    client.raw(Method::POST, "/v1/recipes", t, Some("text/plain"), "{}").await.problem(415);
    let huge = json!({"name": "x".repeat(300 * 1024)}).to_string();
    client.raw(Method::POST, "/v1/recipes", t, json_type, huge).await.problem(413);
}
