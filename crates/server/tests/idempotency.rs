//! `Idempotency-Key` through the API, on both backends: a repeat replays
//! the first answer and writes nothing; the key on another request is 422,
//! while the first runs 409, past its bound 400; keys are per user; a
//! refusal is kept too.

mod common;

use actix_web::test::TestRequest;
use common::{Answer, Client, TestApp, entry};
use macrotrack_domain::{IdempotencyKey, UserId};
use macrotrack_ports::Claimed;
use serde_json::{Value, json};

#[actix_web::test]
async fn idempotency_on_sqlite() {
    let app = TestApp::sqlite().await;
    repeats_replay_the_first_answer(&app).await;
}

#[actix_web::test]
async fn idempotency_on_postgres_and_redis() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        let app = TestApp::with(settings, None).await;
        repeats_replay_the_first_answer(&app).await;
    })
    .await;
}

async fn keyed<S, B>(client: &Client<S>, uri: &str, token: &str, key: &str, body: &Value) -> Answer
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let request = TestRequest::post()
        .uri(uri)
        .insert_header(("authorization", format!("Bearer {token}")))
        .insert_header(("idempotency-key", key))
        .set_json(body);
    client.send(request).await
}

fn assert_replayed(first: &Answer, again: &Answer) {
    assert_eq!(again.status, first.status, "{}", again.text);
    assert_eq!(again.text, first.text, "a replay answers the first body, byte for byte");
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("content-type"), first.header("content-type"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.header("idempotent-replayed"), None);
}

async fn repeats_replay_the_first_answer(app: &TestApp) {
    let client = app.client().await;
    let (alice_id, alice) = client.user("alice").await;
    let (_, bob) = client.user("bob").await;
    let a = Some(alice.as_str());
    let oats = client.food(a, "Oats", 100.0).await;
    let date = "2026-11-24";
    let batch = json!({ "entries": [entry(date, "breakfast", oats, 1.0), entry(date, "lunch", oats, 2.0)] });

    // A batch sent twice, as a client retrying after a timeout: one write.
    let first = keyed(&client, "/v1/logs", &alice, "retry-1", &batch).await;
    assert_eq!(first.status.as_u16(), 201, "{}", first.text);
    let again = keyed(&client, "/v1/logs", &alice, "retry-1", &batch).await;
    assert_replayed(&first, &again);
    let day = client.get(&format!("/v1/logs?date={date}"), a).await.ok(200);
    assert_eq!(day["entries"].as_array().unwrap().len(), 2, "{day}");
    let frequent = client.get("/v1/foods/frequent", a).await.ok(200);
    assert_eq!(frequent[0]["uses"], 2, "uses counted once per entry, not per send: {frequent}");

    // The key on another body or path is refused, naming the header.
    let other_body = json!({ "entries": [entry(date, "dinner", oats, 1.0)] });
    let refused = keyed(&client, "/v1/logs", &alice, "retry-1", &other_body).await;
    assert_eq!(refused.problem(422), ["Idempotency-Key"]);
    let refused = keyed(&client, "/v1/foods", &alice, "retry-1", &common::oats()).await;
    assert_eq!(refused.problem(422), ["Idempotency-Key"]);
    let day = client.get(&format!("/v1/logs?date={date}"), a).await.ok(200);
    assert_eq!(day["entries"].as_array().unwrap().len(), 2, "a refused repeat wrote: {day}");

    // Keys are per user: Bob's "retry-1" is his own request.
    let bobs = keyed(&client, "/v1/foods", &bob, "retry-1", &common::oats()).await;
    assert_eq!(bobs.status.as_u16(), 201, "{}", bobs.text);
    assert_eq!(bobs.header("idempotent-replayed"), None);

    // Creates answer their Location, and replay it.
    let food = keyed(&client, "/v1/foods", &alice, "food-1", &common::oats()).await;
    assert_eq!(food.status.as_u16(), 201, "{}", food.text);
    let id = food.json()["id"].as_i64().unwrap();
    assert_eq!(food.header("location"), Some(format!("/v1/foods/{id}").as_str()));
    assert_replayed(&food, &keyed(&client, "/v1/foods", &alice, "food-1", &common::oats()).await);
    let recipe_body = json!({"name": "Porridge", "servings": 1, "ingredients": [{"food_id": oats, "servings": 1}]});
    let recipe = keyed(&client, "/v1/recipes", &alice, "recipe-1", &recipe_body).await;
    assert_replayed(&recipe, &keyed(&client, "/v1/recipes", &alice, "recipe-1", &recipe_body).await);
    let recipe_id = recipe.json()["id"].as_i64().unwrap();
    let plan_body = json!({"name": "Week", "days": 7, "items": [{"day": 0, "meal": "lunch", "recipe_id": recipe_id, "servings": 1}]});
    let plan = keyed(&client, "/v1/meal-plans", &alice, "plan-1", &plan_body).await;
    assert_replayed(&plan, &keyed(&client, "/v1/meal-plans", &alice, "plan-1", &plan_body).await);
    let plan_id = plan.json()["id"].as_i64().unwrap();
    let schedule = format!("/v1/meal-plans/{plan_id}/schedule");
    let start = json!({"start_date": "2026-12-01"});
    let scheduled = keyed(&client, &schedule, &alice, "schedule-1", &start).await;
    assert_eq!(scheduled.status.as_u16(), 201, "{}", scheduled.text);
    assert_replayed(&scheduled, &keyed(&client, &schedule, &alice, "schedule-1", &start).await);
    let foods = client.get("/v1/foods?query=oats&limit=100", a).await.ok(200);
    let own = foods.as_array().unwrap().iter().filter(|food| food["owner"] == "user").count();
    assert_eq!(own, 2, "one Oats by the helper, one by the keyed create: {foods}");

    // A refusal wrote nothing and is kept as it was answered.
    let unknown = json!({ "entries": [entry(date, "lunch", 999_999, 1.0)] });
    let refused = keyed(&client, "/v1/logs", &alice, "unknown-1", &unknown).await;
    assert_eq!(refused.problem(422), ["entries.0.food_id"]);
    assert_replayed(&refused, &keyed(&client, "/v1/logs", &alice, "unknown-1", &unknown).await);

    // While a request with the key runs, a repeat is 409 and writes nothing.
    let service = app.application.state().service;
    let running = json!({ "entries": [entry(date, "snack", oats, 1.0)] });
    let bytes = serde_json::to_vec(&running).unwrap();
    let print = macrotrack_http::request_fingerprint("POST", "/v1/logs", &bytes);
    let key = IdempotencyKey::parse("running-1").unwrap();
    let claimed = service.claim_idempotency_key(UserId(alice_id), &key, print).await.unwrap();
    assert!(matches!(claimed, Claimed::Run(_)), "{claimed:?}");
    let request = TestRequest::post()
        .uri("/v1/logs")
        .insert_header(("authorization", format!("Bearer {alice}")))
        .insert_header(("idempotency-key", "running-1"))
        .insert_header(("content-type", "application/json"))
        .set_payload(bytes);
    client.send(request).await.problem(409);
    let day = client.get(&format!("/v1/logs?date={date}"), a).await.ok(200);
    assert_eq!(day["entries"].as_array().unwrap().len(), 2, "{day}");

    // Keys past their bound are 400, before anything runs.
    for bad in [String::new(), "a b".to_owned(), "k".repeat(256)] {
        let answer = keyed(&client, "/v1/logs", &alice, &bad, &batch).await;
        assert_eq!(answer.problem(400), ["Idempotency-Key"], "{bad:?}");
    }
    let long = "k".repeat(255);
    assert_eq!(keyed(&client, "/v1/foods", &alice, &long, &common::oats()).await.status.as_u16(), 201);
}
