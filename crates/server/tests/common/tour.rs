//! A walk over every kind of mutation of the contract, each followed by the
//! reads it must change, read (and so cached) before it: no read through the
//! API is ever stale. Writes go through `w`, reads through `r`: the same
//! instance, or two instances sharing a database and a cache store.

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use serde_json::{Value, json};

use super::{ADMIN, Client};

const D: &str = "2026-11-24";
const E: &str = "2026-11-25";

fn macros(calories: f64, protein_g: f64, carbs_g: f64, fat_g: f64) -> Value {
    json!({"calories": calories, "protein_g": protein_g, "carbs_g": carbs_g, "fat_g": fat_g})
}

/// `(id, meal, calories)` of a day's entries, in their order.
fn entries(day: &Value) -> Vec<(i64, String, f64)> {
    day["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["id"].as_i64().unwrap(), e["meal"].as_str().unwrap().to_owned(), e["calories"].as_f64().unwrap()))
        .collect()
}

pub async fn tour<S, B>(w: &Client<S>, r: &Client<S>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (id, token) = w.user("tour").await;
    let t = Some(token.as_str());
    let logs = |date: &str| format!("/v1/logs?date={date}");
    let schedule = |date: &str| format!("/v1/schedule?date={date}");

    // Targets: the cached me changes at once.
    assert_eq!(r.get("/v1/me", t).await.ok(200), json!({"id": id, "name": "tour", "targets": null, "timezone": "UTC"}));
    let body = json!({"calories": 2000.005, "protein_g": 150, "carbs_g": 200.4, "fat_g": 70});
    let targets = w.put("/v1/me/targets", t, body).await.ok(200);
    assert_eq!(targets, macros(2000.01, 150.0, 200.4, 70.0));
    assert_eq!(
        r.get("/v1/me", t).await.ok(200),
        json!({"id": id, "name": "tour", "targets": targets, "timezone": "UTC"})
    );
    // The time zone: the cached me, and the default today it says, change at once.
    assert_eq!(r.get("/v1/streaks", t).await.ok(200)["current"], 0);
    let zone = w.put("/v1/me/settings", t, json!({"timezone": "Pacific/Kiritimati"})).await.ok(200);
    assert_eq!(zone, json!({"timezone": "Pacific/Kiritimati"}));
    assert_eq!(r.get("/v1/me", t).await.ok(200)["timezone"], "Pacific/Kiritimati");
    w.put("/v1/me/settings", t, json!({"timezone": "UTC"})).await.ok(200);
    assert_eq!(r.get("/v1/me", t).await.ok(200)["timezone"], "UTC");

    // A food, found by search; frequent foods change with logging.
    let food = w.food(t, "Tour oats", 150.0).await;
    let food_json = r.get(&format!("/v1/foods/{food}"), t).await.ok(200);
    assert_eq!(r.get("/v1/foods?query=tOuR%20OA", t).await.ok(200), json!([food_json]));
    assert_eq!(r.get("/v1/foods/frequent", t).await.ok(200), json!([]));
    for date in [D, E] {
        assert_eq!(r.get(&logs(date), t).await.ok(200)["entries"], json!([]));
    }
    let batch = json!({"entries": [
        {"date": D, "meal": "lunch", "food_id": food, "servings": 1.5},
        {"date": E, "meal": "breakfast", "food_id": food, "servings": 1},
    ]});
    let created = w.post("/v1/logs", t, batch).await.ok(201);
    let oats_d = created["entries"][0]["id"].as_i64().unwrap();
    assert_eq!(r.get("/v1/foods/frequent", t).await.ok(200), json!([{"food": food_json, "uses": 2}]));

    // A recipe of the food and a global one; a plan of it, scheduled.
    let body = json!({"name": "Tour bowl", "servings": 2, "ingredients": [{"food_id": food, "servings": 1}, {"food_id": 1, "servings": 0.5}]});
    let recipe = w.post("/v1/recipes", t, body).await.ok(201);
    let recipe_id = recipe["id"].as_i64().unwrap();
    let expected = json!({"id": recipe_id, "name": "Tour bowl", "servings": 2.0,
        "ingredients": [{"food_id": food, "servings": 1.0}, {"food_id": 1, "servings": 0.5}],
        "per_serving": macros(169.75, 8.29, 26.93, 4.13)});
    assert_eq!(recipe, expected);
    assert_eq!(r.get(&format!("/v1/recipes/{recipe_id}"), t).await.ok(200), expected);
    let body = json!({"name": "Tour week", "days": 2, "items": [
        {"day": 0, "meal": "lunch", "recipe_id": recipe_id, "servings": 1},
        {"day": 1, "meal": "dinner", "recipe_id": recipe_id, "servings": 2},
    ]});
    let plan = w.post("/v1/meal-plans", t, body).await.ok(201);
    let plan_id = plan["id"].as_i64().unwrap();
    let expected = json!({"id": plan_id, "name": "Tour week", "days": 2, "items": [
        {"day": 0, "meal": "lunch", "recipe_id": recipe_id, "servings": 1.0},
        {"day": 1, "meal": "dinner", "recipe_id": recipe_id, "servings": 2.0},
    ]});
    assert_eq!(plan, expected);
    assert_eq!(r.get(&format!("/v1/meal-plans/{plan_id}"), t).await.ok(200), expected);
    for date in [D, E] {
        assert_eq!(r.get(&schedule(date), t).await.ok(200), json!({"date": date, "plan": null, "meals": []}));
    }
    let scheduled = w.post(&format!("/v1/meal-plans/{plan_id}/schedule"), t, json!({"start_date": D})).await.ok(201);
    let scheduled_id = scheduled["id"].as_i64().unwrap();
    let expected_plan =
        json!({"id": scheduled_id, "meal_plan_id": plan_id, "name": "Tour week", "start_date": D, "end_date": E});
    assert_eq!(scheduled, expected_plan);
    let day = r.get(&schedule(D), t).await.ok(200);
    let meal_id = day["meals"][0]["id"].as_i64().unwrap();
    let lunch = |logged: bool| json!({"id": meal_id, "meal": "lunch", "recipe_id": recipe_id, "name": "Tour bowl", "servings": 1.0, "logged": logged});
    assert_eq!(day, json!({"date": D, "plan": expected_plan, "meals": [lunch(false)]}));
    let day_e = r.get(&schedule(E), t).await.ok(200);
    assert_eq!(day_e["meals"][0]["servings"], 2.0);
    assert_eq!(day_e["meals"][0]["logged"], false);

    // Logging the recipe in that meal marks it logged.
    let batch = json!({"entries": [{"date": D, "meal": "lunch", "recipe_id": recipe_id, "servings": 1}]});
    let bowl_d = w.post("/v1/logs", t, batch).await.ok(201)["entries"][0]["id"].as_i64().unwrap();
    assert_eq!(r.get(&schedule(D), t).await.ok(200)["meals"], json!([lunch(true)]));

    // Completing and undoing a day: streaks and the day's logs follow.
    let streak = |today: &str| format!("/v1/streaks?today={today}");
    assert_eq!(r.get(&streak(D), t).await.ok(200), json!({"current": 0, "longest": 0, "last_completed": null}));
    assert_eq!(r.get(&logs(D), t).await.ok(200)["completed"], false);
    let completion = format!("/v1/days/{D}/completion");
    for _ in 0..2 {
        let done = w.bare(Method::PUT, &completion, t).await.ok(200);
        assert_eq!(done, json!({"date": D, "completed": true}), "idempotent");
    }
    assert_eq!(r.get(&streak(D), t).await.ok(200), json!({"current": 1, "longest": 1, "last_completed": D}));
    assert_eq!(r.get(&streak(E), t).await.ok(200)["current"], 1, "today or the day before");
    assert_eq!(r.get(&logs(D), t).await.ok(200)["completed"], true);
    for _ in 0..2 {
        assert_eq!(w.delete(&completion, t).await.ok(200), json!({"date": D, "completed": false}));
    }
    assert_eq!(r.get(&streak(D), t).await.ok(200), json!({"current": 0, "longest": 0, "last_completed": null}));
    assert_eq!(r.get(&logs(D), t).await.ok(200)["completed"], false);
    w.bare(Method::PUT, &completion, t).await.ok(200);

    // Summary, then edits and a deletion: every day and total follows.
    let summary = format!("/v1/summary?from={D}&to={E}");
    let row = |date: &str, totals: Value, count: u32| json!({"date": date, "totals": totals, "entries": count});
    assert_eq!(
        r.get(&summary, t).await.ok(200),
        json!({"from": D, "to": E, "days": [
            row(D, macros(394.75, 23.29, 56.93, 11.63), 2),
            row(E, macros(150.0, 10.0, 20.0, 5.0), 1),
        ]})
    );
    let edited = w.patch(&format!("/v1/logs/{oats_d}"), t, json!({"servings": 2})).await.ok(200);
    assert_eq!((edited["servings"].as_f64(), edited["calories"].as_f64()), (Some(2.0), Some(300.0)));
    assert_eq!(r.get(&summary, t).await.ok(200)["days"][0], row(D, macros(469.75, 28.29, 66.93, 14.13), 2));
    assert_eq!(
        entries(&r.get(&logs(D), t).await.ok(200)),
        [(oats_d, "lunch".into(), 300.0), (bowl_d, "lunch".into(), 169.75)]
    );
    let moved = w.patch(&format!("/v1/logs/{oats_d}"), t, json!({"date": E, "meal": "snack"})).await.ok(200);
    assert_eq!((moved["date"].as_str(), moved["meal"].as_str()), (Some(E), Some("snack")));
    assert_eq!(entries(&r.get(&logs(D), t).await.ok(200)), [(bowl_d, "lunch".into(), 169.75)]);
    assert_eq!(entries(&r.get(&logs(E), t).await.ok(200)).len(), 2);
    assert_eq!(r.get(&summary, t).await.ok(200)["days"][1], row(E, macros(450.0, 30.0, 60.0, 15.0), 2));
    // Moving the recipe out of the lunch slot unmarks the scheduled meal.
    w.patch(&format!("/v1/logs/{bowl_d}"), t, json!({"meal": "dinner"})).await.ok(200);
    assert_eq!(r.get(&schedule(D), t).await.ok(200)["meals"], json!([lunch(false)]));
    w.patch(&format!("/v1/logs/{bowl_d}"), t, json!({"meal": "lunch"})).await.ok(200);
    assert_eq!(r.get(&schedule(D), t).await.ok(200)["meals"], json!([lunch(true)]));

    // The dashboard is made of the same reads.
    let dashboard = r.get(&format!("/v1/days/{D}?today={D}"), t).await.ok(200);
    let day_logs = r.get(&logs(D), t).await.ok(200);
    assert_eq!(dashboard["logs"], day_logs);
    assert_eq!(dashboard["targets"], targets);
    assert_eq!(dashboard["remaining"], macros(1830.26, 141.71, 173.47, 65.87));
    assert_eq!(dashboard["schedule"], r.get(&schedule(D), t).await.ok(200));
    assert_eq!(dashboard["streak"], json!({"current": 1, "longest": 1, "last_completed": D}));
    assert_eq!(dashboard["date"], D);

    // Deleting an entry, then the schedule's meal and plan.
    w.deleted(&format!("/v1/logs/{bowl_d}"), t).await;
    assert_eq!(r.get(&logs(D), t).await.ok(200)["entries"], json!([]));
    assert_eq!(r.get(&summary, t).await.ok(200)["days"].as_array().unwrap().len(), 1);
    assert_eq!(r.get(&schedule(D), t).await.ok(200)["meals"], json!([lunch(false)]));
    w.deleted(&format!("/v1/scheduled-meals/{meal_id}"), t).await;
    assert_eq!(r.get(&schedule(D), t).await.ok(200), json!({"date": D, "plan": expected_plan, "meals": []}));
    w.deleted(&format!("/v1/scheduled-plans/{scheduled_id}"), t).await;
    for date in [D, E] {
        assert_eq!(r.get(&schedule(date), t).await.ok(200), json!({"date": date, "plan": null, "meals": []}));
    }

    // Deleting the user: the token is dead and the data is gone.
    let dashboard_before = r.get(&format!("/v1/days/{E}"), t).await.ok(200);
    assert_eq!(dashboard_before["logs"]["entries"].as_array().unwrap().len(), 2);
    w.deleted("/v1/me", t).await;
    for path in ["/v1/me".to_owned(), logs(E), format!("/v1/days/{E}"), format!("/v1/recipes/{recipe_id}")] {
        r.get(&path, t).await.problem(401);
    }
    let refresh = json!({"user_id": id, "date": E});
    assert_eq!(r.post("/v1/admin/cache/refresh", Some(ADMIN), refresh).await.problem(422), ["user_id"]);
}
