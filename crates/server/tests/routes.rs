//! Every route at once: the tour of every mutation without a stale read,
//! 401 before anything else on every authenticated route, and 404 for
//! another user's resource on every route that takes an id.

mod common;

use actix_web::http::Method;
use common::{ADMIN, TestApp, tour::tour};
use serde_json::{Value, json};

#[actix_web::test]
async fn every_mutation_is_read_at_once_on_sqlite() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    tour(&client, &client).await;
}

#[actix_web::test]
async fn every_mutation_is_read_at_once_with_the_cache_off() {
    let app = TestApp::sqlite_with(|settings| settings.cache = macrotrack::CacheMode::Off).await;
    let client = app.client().await;
    tour(&client, &client).await;
}

/// A concrete URI for a route template.
fn concrete(path: &str, id: &str, date: &str) -> String {
    path.replace("{id}", id).replace("{date}", date)
}

#[actix_web::test]
async fn every_authenticated_route_is_401_before_anything_else() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, user) = client.user("ursula").await;
    let unknown = format!("mt_{}_{}", "0".repeat(16), "a".repeat(64));
    let mut checked = 0;
    for (method, path) in macrotrack_http::route_list() {
        let admin = path.starts_with("/v1/admin/");
        if !path.starts_with("/v1/") {
            continue;
        }
        let method: Method = method.parse().unwrap();
        let bad_tokens: Vec<Option<&str>> = if admin {
            vec![None, Some(&user), Some("nonsense")]
        } else {
            vec![None, Some("nonsense"), Some(&unknown), Some(ADMIN)]
        };
        for token in bad_tokens {
            // A malformed path, query and body, and the wrong content type:
            // still 401.
            let uri = format!("{}?date=notadate&limit=x&from=1&today=%FF", concrete(path, "x", "notadate"));
            let answer = client.raw(method.clone(), &uri, token, Some("text/plain"), "{").await;
            assert_eq!(answer.problem(401), Vec::<String>::new(), "{method} {path} with {token:?}");
            assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
            let huge = vec![b' '; 300 * 1024];
            client
                .raw(method.clone(), &concrete(path, "1", "2026-11-24"), token, Some("application/json"), huge)
                .await
                .problem(401);
            checked += 1;
        }
    }
    assert!(checked >= 23 * 4 + 3 * 3, "{checked}");
}

/// Alice's resources of every kind with an id, and their ids.
struct Owned {
    food: i64,
    recipe: i64,
    log: i64,
    plan: i64,
    scheduled_plan: i64,
    scheduled_meal: i64,
}

#[actix_web::test]
async fn another_users_resource_is_404_exactly_like_a_missing_one_on_every_id_route() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, alice) = client.user("alice").await;
    let (_, bob) = client.user("bob").await;
    let a = Some(alice.as_str());
    let b = Some(bob.as_str());
    let food = client.food(a, "Alice's bread", 250.0).await;
    let recipe = client.recipe(a, "Alice's toast", food).await;
    let batch = json!({"entries": [{"date": "2026-11-24", "meal": "lunch", "recipe_id": recipe, "servings": 1}]});
    let log = client.post("/v1/logs", a, batch).await.ok(201)["entries"][0]["id"].as_i64().unwrap();
    let plan = client.plan(a, 3, recipe).await;
    let scheduled =
        client.post(&format!("/v1/meal-plans/{plan}/schedule"), a, json!({"start_date": "2026-11-24"})).await;
    let scheduled_plan = scheduled.ok(201)["id"].as_i64().unwrap();
    let day = client.get("/v1/schedule?date=2026-11-24", a).await.ok(200);
    let scheduled_meal = day["meals"][0]["id"].as_i64().unwrap();
    let owned = Owned { food, recipe, log, plan, scheduled_plan, scheduled_meal };

    let missing = 987_654_321;
    let cases = |o: &Owned| -> Vec<(Method, String, Option<Value>)> {
        vec![
            (Method::GET, format!("/v1/foods/{}", o.food), None),
            (Method::GET, format!("/v1/recipes/{}", o.recipe), None),
            (Method::PATCH, format!("/v1/logs/{}", o.log), Some(json!({"servings": 2}))),
            (Method::DELETE, format!("/v1/logs/{}", o.log), None),
            (Method::GET, format!("/v1/meal-plans/{}", o.plan), None),
            (Method::POST, format!("/v1/meal-plans/{}/schedule", o.plan), Some(json!({"start_date": "2030-01-01"}))),
            (Method::DELETE, format!("/v1/scheduled-meals/{}", o.scheduled_meal), None),
            (Method::DELETE, format!("/v1/scheduled-plans/{}", o.scheduled_plan), None),
        ]
    };
    let nothing = Owned {
        food: missing,
        recipe: missing,
        log: missing,
        plan: missing,
        scheduled_plan: missing,
        scheduled_meal: missing,
    };
    for ((method, uri, body), (_, missing_uri, _)) in cases(&owned).into_iter().zip(cases(&nothing)) {
        let send = |uri: String| {
            let (method, body, client) = (method.clone(), body.clone(), &client);
            async move {
                match body {
                    Some(body) => client.json(method, &uri, b, body).await,
                    None => client.bare(method, &uri, b).await,
                }
            }
        };
        let foreign = send(uri.clone()).await;
        foreign.problem(404);
        assert_eq!(foreign.problem_body(), send(missing_uri).await.problem_body(), "{method} {uri}");
    }
    // Nothing of alice's changed.
    client.get(&format!("/v1/foods/{food}"), a).await.ok(200);
    client.get(&format!("/v1/recipes/{recipe}"), a).await.ok(200);
    client.get(&format!("/v1/meal-plans/{plan}"), a).await.ok(200);
    let logs = client.get("/v1/logs?date=2026-11-24", a).await.ok(200);
    assert_eq!((logs["entries"][0]["id"].as_i64(), logs["entries"][0]["servings"].as_f64()), (Some(log), Some(1.0)));
    assert_eq!(client.get("/v1/schedule?date=2026-11-24", a).await.ok(200), day);
    // Bob sees none of it through his own reads either.
    assert_eq!(client.get("/v1/logs?date=2026-11-24", b).await.ok(200)["entries"], json!([]));
    assert_eq!(client.get("/v1/schedule?date=2026-11-24", b).await.ok(200)["plan"], Value::Null);
    assert_eq!(client.get("/v1/foods?query=alice", b).await.ok(200), json!([]));
    // Nor can he refer to it.
    let batch = json!({"entries": [{"date": "2026-11-24", "meal": "lunch", "recipe_id": recipe, "servings": 1}]});
    assert_eq!(client.post("/v1/logs", b, batch).await.problem(422), ["entries.0.recipe_id"]);
    let body = json!({"name": "x", "servings": 1, "ingredients": [{"food_id": 1, "servings": 1}, {"food_id": food, "servings": 1}]});
    assert_eq!(client.post("/v1/recipes", b, body).await.problem(422), ["ingredients.1.food_id"]);
    let body =
        json!({"name": "x", "days": 1, "items": [{"day": 0, "meal": "lunch", "recipe_id": recipe, "servings": 1}]});
    assert_eq!(client.post("/v1/meal-plans", b, body).await.problem(422), ["items.0.recipe_id"]);
}
