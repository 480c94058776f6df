//! The contract's bounds through the API: a day holds at most 200 entries
//! (a create past it is 422 on `entries`, a move 422 on `date`), a user owns
//! at most 10,000 foods, 1,000 recipes and 200 meal plans (409), each a
//! problem+json answer that changed nothing.

mod common;

use common::{TestApp, entry};
use macrotrack::Settings;
use macrotrack_db_seaorm::entities::{food, recipe};
use macrotrack_domain::validation::{MAX_DAY_ENTRIES, MAX_OWN_FOODS, MAX_OWN_MEAL_PLANS, MAX_OWN_RECIPES};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

#[actix_web::test]
async fn bounds_on_sqlite() {
    let (settings, dir) = common::sqlite_settings();
    let app = TestApp::with(settings.clone(), Some(dir)).await;
    bounds_are_refused_with_the_contracts_answers(app, settings).await;
}

#[actix_web::test]
async fn bounds_on_postgres_and_redis() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        let app = TestApp::with(settings.clone(), None).await;
        bounds_are_refused_with_the_contracts_answers(app, settings).await;
    })
    .await;
}

/// `n` foods and `n` recipes of `owner`'s, written behind the API's back:
/// reaching thousands through it would take minutes.
async fn own_many(settings: &Settings, owner: i64, foods: u32, recipes: u32) {
    let repo = macrotrack::database(settings).await.expect("the database");
    let db = repo.connection();
    for chunk in (0..foods).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|n| food::ActiveModel {
            id: NotSet,
            owner_user_id: Set(Some(owner)),
            name: Set(format!("Food {n}")),
            name_folded: Set(Some(format!("food {n}"))),
            brand: Set(None),
            serving_size: Set(10000),
            serving_unit: Set("g".to_owned()),
            calories: Set(100),
            protein_g: Set(0),
            carbs_g: Set(0),
            fat_g: Set(0),
            generic: NotSet,
            source: NotSet,
            barcode: NotSet,
        });
        food::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    }
    for chunk in (0..recipes).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|n| recipe::ActiveModel {
            id: NotSet,
            owner_user_id: Set(owner),
            name: Set(format!("Recipe {n}")),
            servings: Set(100),
            calories: Set(100),
            protein_g: Set(0),
            carbs_g: Set(0),
            fat_g: Set(0),
        });
        recipe::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    }
    db.close_by_ref().await.unwrap();
}

async fn bounds_are_refused_with_the_contracts_answers(app: TestApp, settings: Settings) {
    let client = app.client().await;
    let (id, token) = client.user("bounded").await;
    let t = Some(token.as_str());
    let food = client.food(t, "Oats", 100.0).await;
    let date = "2026-11-24";
    let day = |date: &str| format!("/v1/logs?date={date}");

    // A day of 200 entries, read (and cached) when full.
    let hundred: Vec<Value> = (0..100).map(|_| entry(date, "lunch", food, 1.0)).collect();
    for _ in 0..(MAX_DAY_ENTRIES / 100) {
        client.post("/v1/logs", t, json!({ "entries": hundred })).await.ok(201);
    }
    let full = client.get(&day(date), t).await.ok(200);
    assert_eq!(full["entries"].as_array().unwrap().len(), 200);

    let spanning = json!({"entries": [entry("2026-11-23", "dinner", food, 1.0), entry(date, "dinner", food, 1.0)]});
    let refused = client.post("/v1/logs", t, spanning).await;
    assert_eq!(refused.problem(422), ["entries"]);
    assert!(refused.json()["detail"].as_str().unwrap().contains(date), "{}", refused.text);
    assert_eq!(client.get(&day(date), t).await.ok(200), full, "a refused create changed the day");
    assert_eq!(client.get(&day("2026-11-23"), t).await.ok(200)["entries"], json!([]), "all or nothing");

    // A move into the full day, with another field: nothing of it applies.
    let moving =
        client.post("/v1/logs", t, json!({"entries": [entry("2026-11-25", "dinner", food, 1.0)]})).await.ok(201);
    let moving = &moving["entries"][0];
    let uri = format!("/v1/logs/{}", moving["id"]);
    assert_eq!(client.patch(&uri, t, json!({"date": date, "servings": 2})).await.problem(422), ["date"]);
    assert_eq!(client.get(&day("2026-11-25"), t).await.ok(200)["entries"], json!([moving]));
    assert_eq!(client.get(&day(date), t).await.ok(200), full);
    // An edit inside the full day is no move.
    let inside = format!("/v1/logs/{}", full["entries"][0]["id"]);
    client.patch(&inside, t, json!({"date": date, "meal": "snack"})).await.ok(200);

    // What a user may own: the last of each is created, the next is 409.
    own_many(&settings, id, MAX_OWN_FOODS - 2, MAX_OWN_RECIPES - 2).await;
    let last_food = client.food(t, "Last", 100.0).await;
    let recipe = client.recipe(t, "Last", last_food).await;
    client.recipe(t, "Really last", last_food).await;
    let conflict = client.post("/v1/foods", t, common::oats()).await;
    conflict.problem(409);
    assert!(conflict.json()["detail"].as_str().unwrap().contains("foods"), "{}", conflict.text);
    let one_more_recipe =
        json!({"name": "More", "servings": 1, "ingredients": [{"food_id": last_food, "servings": 1}]});
    client.post("/v1/recipes", t, one_more_recipe).await.problem(409);
    for _ in 0..MAX_OWN_MEAL_PLANS {
        client.plan(t, 1, recipe).await;
    }
    let one_more_plan =
        json!({"name": "More", "days": 1, "items": [{"day": 0, "meal": "lunch", "recipe_id": recipe, "servings": 1}]});
    client.post("/v1/meal-plans", t, one_more_plan).await.problem(409);
    // Input mistakes are still 422, whatever the count.
    let fields = client.post("/v1/meal-plans", t, json!({"name": "", "days": 1, "items": []})).await.problem(422);
    assert!(fields.contains(&"name".to_owned()), "{fields:?}");

    // Bounds are per user.
    let (_, other) = client.user("other").await;
    let other = Some(other.as_str());
    client.food(other, "Oats", 100.0).await;
    client.post("/v1/logs", other, json!({"entries": [entry(date, "lunch", 1, 1.0)]})).await.ok(201);
}

/// The document names the bounds' answers, so generated clients expect them.
#[test]
fn the_document_lists_the_bounds_answers() {
    let document = macrotrack_http::openapi_document();
    let responses = |path: &str, method: &str| document["paths"][path][method]["responses"].clone();
    for path in ["/v1/foods", "/v1/recipes", "/v1/meal-plans"] {
        assert!(responses(path, "post").get("409").is_some(), "POST {path}");
    }
    assert!(responses("/v1/logs", "post").get("422").is_some());
    assert!(responses("/v1/logs/{id}", "patch").get("422").is_some());
}
