//! Meal plans, scheduling (overlaps, the calendar's end), the schedule of a
//! day and deleting scheduled meals and plans.

mod common;

use actix_web::http::Method;
use common::TestApp;
use serde_json::{Value, json};

fn item(day: i64, meal: &str, recipe: i64, servings: f64) -> Value {
    json!({"day": day, "meal": meal, "recipe_id": recipe, "servings": servings})
}

#[actix_web::test]
async fn plans_keep_their_items_and_name_every_bad_field() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("paula").await;
    let t = Some(token.as_str());
    let recipe = client.recipe(t, "Soup", 1).await;
    let body = json!({"name": " Week ", "days": 7, "items": [item(6, "snack", recipe, 0.333), item(0, "dinner", recipe, 100.0)]});
    let plan = client.post("/v1/meal-plans", t, body).await.ok(201);
    let id = plan["id"].as_i64().unwrap();
    let expected = json!({"id": id, "name": "Week", "days": 7, "items": [item(6, "snack", recipe, 0.33), item(0, "dinner", recipe, 100.0)]});
    assert_eq!(plan, expected);
    assert_eq!(client.get(&format!("/v1/meal-plans/{id}"), t).await.ok(200), expected);
    client.get("/v1/meal-plans/987654321", t).await.problem(404);
    assert_eq!(client.get("/v1/meal-plans/x", t).await.problem(400), ["id"]);

    for days in [0, 367, -1] {
        let body = json!({"name": "x", "days": days, "items": [item(0, "lunch", recipe, 1.0)]});
        assert_eq!(client.post("/v1/meal-plans", t, body).await.problem(422), ["days"], "{days}");
    }
    let year = json!({"name": "Leap year", "days": 366, "items": [item(365, "lunch", recipe, 1.0)]});
    client.post("/v1/meal-plans", t, year).await.ok(201);
    let bad = json!({"name": "", "days": 2, "items": [
        item(2, "lunch", recipe, 1.0),
        item(-1, "tea", recipe, 0.0),
        {"day": "0", "meal": "lunch", "recipe_id": 1.5, "servings": 100.01},
        [],
        {},
    ]});
    assert_eq!(
        client.post("/v1/meal-plans", t, bad).await.problem(422),
        [
            "name",
            "items.0.day",
            "items.1.day",
            "items.1.meal",
            "items.1.servings",
            "items.2.day",
            "items.2.recipe_id",
            "items.2.servings",
            "items.3",
            "items.4.day",
            "items.4.meal",
            "items.4.recipe_id",
            "items.4.servings",
        ]
    );
    assert_eq!(client.post("/v1/meal-plans", t, json!({"days": 1.5})).await.problem(422), ["name", "days", "items"]);
    for items in [vec![], vec![item(0, "lunch", recipe, 1.0); 501]] {
        let body = json!({"name": "x", "days": 1, "items": items});
        assert_eq!(client.post("/v1/meal-plans", t, body).await.problem(422), ["items"]);
    }
    let most = json!({"name": "x", "days": 1, "items": vec![item(0, "lunch", recipe, 1.0); 500]});
    client.post("/v1/meal-plans", t, most).await.ok(201);
    let unknown =
        json!({"name": "x", "days": 1, "items": [item(0, "lunch", recipe, 1.0), item(0, "lunch", 987654321, 1.0)]});
    assert_eq!(client.post("/v1/meal-plans", t, unknown).await.problem(422), ["items.1.recipe_id"]);
    let food_not_recipe =
        json!({"name": "x", "days": 1, "items": [{"day": 0, "meal": "lunch", "food_id": 1, "servings": 1}]});
    assert_eq!(client.post("/v1/meal-plans", t, food_not_recipe).await.problem(422), ["items.0.recipe_id"]);
    let json_type = Some("application/json");
    client.raw(Method::POST, "/v1/meal-plans", t, json_type, "\"plan\"").await.problem(400);
    client.raw(Method::POST, "/v1/meal-plans", t, None, "{}").await.problem(415);
    let huge = json!({"name": "x".repeat(300 * 1024)}).to_string();
    client.raw(Method::POST, "/v1/meal-plans", t, json_type, huge).await.problem(413);
}

#[actix_web::test]
async fn scheduling_conflicts_the_calendar_end_and_the_schedule_of_a_day() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("otis").await;
    let t = Some(token.as_str());
    let recipe = client.recipe(t, "Stew", 1).await;
    let body = json!({"name": "Three", "days": 3, "items": [item(0, "dinner", recipe, 1.0), item(0, "breakfast", recipe, 2.0), item(2, "lunch", recipe, 1.0)]});
    let plan = client.post("/v1/meal-plans", t, body).await.ok(201)["id"].as_i64().unwrap();
    let schedule = |start: &str| {
        let (client, uri, body) = (&client, format!("/v1/meal-plans/{plan}/schedule"), json!({"start_date": start}));
        async move { client.post(&uri, t, body).await }
    };

    let first = schedule("2026-12-30").await.ok(201);
    let first_id = first["id"].as_i64().unwrap();
    assert_eq!(
        first,
        json!({"id": first_id, "meal_plan_id": plan, "name": "Three", "start_date": "2026-12-30", "end_date": "2027-01-01"})
    );
    // Any shared day is a conflict; the days just around are free.
    for start in ["2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01"] {
        let answer = schedule(start).await;
        answer.problem(409);
        assert!(answer.json()["detail"].as_str().unwrap().contains(&first_id.to_string()), "{start}: {}", answer.text);
    }
    schedule("2026-12-27").await.ok(201);
    schedule("2027-01-02").await.ok(201);

    // Meals order by meal, then id; a day without meals still shows its plan.
    let day = client.get("/v1/schedule?date=2026-12-30", t).await.ok(200);
    let meals: Vec<(&str, f64)> = day["meals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["meal"].as_str().unwrap(), m["servings"].as_f64().unwrap()))
        .collect();
    assert_eq!(meals, [("breakfast", 2.0), ("dinner", 1.0)]);
    assert_eq!(day["plan"], first);
    assert_eq!(day["meals"][0]["name"], "Stew");
    let middle = client.get("/v1/schedule?date=2026-12-31", t).await.ok(200);
    assert_eq!(middle, json!({"date": "2026-12-31", "plan": first, "meals": []}));

    // The calendar ends at 2200-12-31.
    assert_eq!(schedule("2200-12-30").await.problem(422), ["start_date"]);
    let one = json!({"name": "One", "days": 1, "items": [item(0, "lunch", recipe, 1.0)]});
    let one = client.post("/v1/meal-plans", t, one).await.ok(201)["id"].as_i64().unwrap();
    let last = client.post(&format!("/v1/meal-plans/{one}/schedule"), t, json!({"start_date": "2200-12-31"})).await;
    assert_eq!(last.ok(201)["end_date"], "2200-12-31");
    for (body, status) in [
        (json!({}), 422),
        (json!({"start_date": "2026-02-30"}), 422),
        (json!({"start_date": "1899-12-31"}), 422),
        (json!({"start_date": 20261124}), 422),
    ] {
        let answer = client.post(&format!("/v1/meal-plans/{plan}/schedule"), t, body.clone()).await;
        assert_eq!(answer.problem(status), ["start_date"], "{body}");
    }
    client.post("/v1/meal-plans/987654321/schedule", t, json!({"start_date": "2030-01-01"})).await.problem(404);
    assert_eq!(
        client.post("/v1/meal-plans/x/schedule", t, json!({"start_date": "2030-01-01"})).await.problem(400),
        ["id"]
    );
    let uri = format!("/v1/meal-plans/{plan}/schedule");
    client.raw(Method::POST, &uri, t, Some("text/plain"), "{}").await.problem(415);
    client.raw(Method::POST, &uri, t, Some("application/json"), "[]").await.problem(400);
    let huge = json!({"start_date": "2030-01-01", "pad": "x".repeat(300 * 1024)}).to_string();
    client.raw(Method::POST, &uri, t, Some("application/json"), huge).await.problem(413);

    for malformed in ["notadate", "2026-02-30", ""] {
        assert_eq!(client.get(&format!("/v1/schedule?date={malformed}"), t).await.problem(400), ["date"]);
    }
    assert_eq!(client.get("/v1/schedule", t).await.problem(400), ["date"]);
    assert_eq!(client.get("/v1/schedule?date=2201-01-01", t).await.problem(422), ["date"]);
}

#[actix_web::test]
async fn deleting_scheduled_meals_and_plans() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("dmitri").await;
    let t = Some(token.as_str());
    let recipe = client.recipe(t, "Salad", 1).await;
    let body = json!({"name": "Two", "days": 2, "items": [item(0, "lunch", recipe, 1.0), item(0, "dinner", recipe, 1.0), item(1, "lunch", recipe, 1.0)]});
    let plan = client.post("/v1/meal-plans", t, body).await.ok(201)["id"].as_i64().unwrap();
    let uri = format!("/v1/meal-plans/{plan}/schedule");
    let scheduled = client.post(&uri, t, json!({"start_date": "2026-11-24"})).await.ok(201);
    let scheduled_id = scheduled["id"].as_i64().unwrap();
    let day = client.get("/v1/schedule?date=2026-11-24", t).await.ok(200);
    let lunch = day["meals"][0]["id"].as_i64().unwrap();

    client.deleted(&format!("/v1/scheduled-meals/{lunch}"), t).await;
    client.delete(&format!("/v1/scheduled-meals/{lunch}"), t).await.problem(404);
    let day = client.get("/v1/schedule?date=2026-11-24", t).await.ok(200);
    assert_eq!(day["meals"].as_array().unwrap().len(), 1);
    assert_eq!(day["meals"][0]["meal"], "dinner");
    assert_eq!(client.get("/v1/schedule?date=2026-11-25", t).await.ok(200)["meals"].as_array().unwrap().len(), 1);

    // The plan's days are taken until the scheduled plan is deleted.
    client.post(&uri, t, json!({"start_date": "2026-11-25"})).await.problem(409);
    client.deleted(&format!("/v1/scheduled-plans/{scheduled_id}"), t).await;
    client.delete(&format!("/v1/scheduled-plans/{scheduled_id}"), t).await.problem(404);
    for date in ["2026-11-24", "2026-11-25"] {
        let day = client.get(&format!("/v1/schedule?date={date}"), t).await.ok(200);
        assert_eq!(day, json!({"date": date, "plan": null, "meals": []}));
    }
    client.post(&uri, t, json!({"start_date": "2026-11-25"})).await.ok(201);
    // The plan itself stays.
    client.get(&format!("/v1/meal-plans/{plan}"), t).await.ok(200);
    for path in ["/v1/scheduled-meals/x", "/v1/scheduled-plans/9223372036854775808"] {
        assert_eq!(client.delete(path, t).await.problem(400), ["id"], "{path}");
    }
}
