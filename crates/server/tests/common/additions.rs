//! The contract's additions through the API: `GET /v1/weeks/{start}` and
//! `PATCH /v1/foods/{id}`, each read (and so cached) before the writes that
//! must change it. Writes go through `w`, reads through `r`: one instance,
//! or two sharing a database and a cache store.

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use serde_json::{Value, json};

use super::{Client, entry, oats};

/// `(date, entries, completed, calories)` of each day of a week.
fn days(week: &Value) -> Vec<(String, i64, bool, f64)> {
    week["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_owned(),
                d["entries"].as_i64().unwrap(),
                d["completed"].as_bool().unwrap(),
                d["totals"]["calories"].as_f64().unwrap(),
            )
        })
        .collect()
}

pub async fn weeks<S, B>(w: &Client<S>, r: &Client<S>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (_, token) = w.user("weeks").await;
    let t = Some(token.as_str());
    // Thursday 26 November to Wednesday 2 December 2026: two ISO weeks.
    let week = "/v1/weeks/2026-11-26";
    let empty = r.get(week, t).await.ok(200);
    assert_eq!((&empty["start"], &empty["end"]), (&json!("2026-11-26"), &json!("2026-12-02")));
    assert_eq!(days(&empty).len(), 7);
    assert!(
        days(&empty).iter().all(|(_, entries, completed, calories)| *entries == 0 && !completed && *calories == 0.0)
    );
    assert_eq!(
        (&empty["average"], &empty["targets"], &empty["on_target_days"]),
        (&Value::Null, &Value::Null, &json!(0))
    );

    // A log entry on each side of the ISO weeks' border (food 1: a global
    // food of the catalogue), read at once.
    let food = w.post("/v1/foods", t, json!({"name": "Bar", "serving_size": 1, "serving_unit": "bar", "calories": 1000, "protein_g": 10, "carbs_g": 100, "fat_g": 30})).await.ok(201);
    let food = food["id"].as_i64().unwrap();
    let batch = json!({"entries": [entry("2026-11-27", "lunch", food, 2.0), entry("2026-12-01", "dinner", food, 1.0)]});
    w.post("/v1/logs", t, batch).await.ok(201);
    let logged = r.get(week, t).await.ok(200);
    assert_eq!(days(&logged)[1], ("2026-11-27".to_owned(), 1, false, 2000.0));
    assert_eq!(days(&logged)[5], ("2026-12-01".to_owned(), 1, false, 1000.0));
    assert_eq!(logged["average"]["calories"], 1500.0);

    // Targets of 2000 kcal: 2000 is on target, 1000 is not.
    w.put("/v1/me/targets", t, json!({"calories": 2000, "protein_g": 100, "carbs_g": 200, "fat_g": 70})).await.ok(200);
    let targeted = r.get(week, t).await.ok(200);
    assert_eq!(targeted["targets"]["calories"], 2000.0);
    assert_eq!(targeted["on_target_days"], 1, "2000 of 2000 is on target, 1000 is not");

    // A completion in the week, and one outside it that changes nothing here.
    w.bare(Method::PUT, "/v1/days/2026-12-02/completion", t).await.ok(200);
    w.bare(Method::PUT, "/v1/days/2026-12-03/completion", t).await.ok(200);
    let completed = r.get(week, t).await.ok(200);
    assert_eq!(days(&completed)[6], ("2026-12-02".to_owned(), 0, true, 0.0));
    assert_eq!(days(&completed).iter().filter(|day| day.2).count(), 1);

    // Moving an entry out of the week, and deleting the other.
    let day = r.get("/v1/logs?date=2026-12-01", t).await.ok(200);
    let id = day["entries"][0]["id"].as_i64().unwrap();
    w.patch(&format!("/v1/logs/{id}"), t, json!({"date": "2026-12-10"})).await.ok(200);
    let moved = r.get(week, t).await.ok(200);
    assert_eq!(days(&moved)[5].1, 0, "the entry left the week");
    assert_eq!(moved["average"]["calories"], 2000.0);
    let day = r.get("/v1/logs?date=2026-11-27", t).await.ok(200);
    w.deleted(&format!("/v1/logs/{}", day["entries"][0]["id"]), t).await;
    let none = r.get(week, t).await.ok(200);
    assert_eq!((&none["average"], &none["on_target_days"]), (&Value::Null, &json!(0)));

    // Bounds: the last start leaves seven days in range.
    assert_eq!(r.get("/v1/weeks/2200-12-25", t).await.ok(200)["end"], "2200-12-31");
    assert_eq!(r.get("/v1/weeks/2200-12-26", t).await.problem(422), ["start"]);
    r.get("/v1/weeks/2026-02-30", t).await.problem(400);
    r.get("/v1/weeks/notadate", t).await.problem(400);
    r.get("/v1/weeks/2026-11-26", None).await.problem(401);
}

pub async fn food_edits<S, B>(w: &Client<S>, r: &Client<S>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (_, token) = w.user("cook").await;
    let t = Some(token.as_str());
    let food = w.post("/v1/foods", t, oats()).await.ok(201);
    let id = food["id"].as_i64().unwrap();
    let recipe = w.recipe(t, "Porridge", id).await;
    let before = r.get(&format!("/v1/recipes/{recipe}"), t).await.ok(200);
    w.post("/v1/logs", t, json!({"entries": [entry("2026-11-24", "breakfast", id, 2.0)]})).await.ok(201);
    let frequent = r.get("/v1/foods/frequent", t).await.ok(200);
    assert_eq!(frequent[0]["food"]["name"], "Oats");
    let logged = r.get("/v1/logs?date=2026-11-24", t).await.ok(200);

    let edited = w
        .patch(&format!("/v1/foods/{id}"), t, json!({"name": "  Steel-cut oats\t", "calories": 200, "brand": null}))
        .await
        .ok(200);
    assert_eq!(
        (&edited["name"], &edited["calories"], &edited["brand"]),
        (&json!("Steel-cut oats"), &json!(200.0), &Value::Null)
    );
    assert_eq!(edited["protein_g"], food["protein_g"], "untouched fields stay");
    // Every read that shows the food shows the edit at once.
    assert_eq!(r.get(&format!("/v1/foods/{id}"), t).await.ok(200), edited);
    assert_eq!(r.get("/v1/foods?query=steel", t).await.ok(200)[0], edited);
    let frequent = r.get("/v1/foods/frequent", t).await.ok(200);
    assert_eq!((&frequent[0]["food"], &frequent[0]["uses"]), (&edited, &json!(1)));
    let recipe_now = r.get(&format!("/v1/recipes/{recipe}"), t).await.ok(200);
    assert_ne!(recipe_now["per_serving"], before["per_serving"], "the recipe follows its food");
    // Log entries keep their snapshot, until they are edited.
    let day = r.get("/v1/logs?date=2026-11-24", t).await.ok(200);
    assert_eq!(day, logged);
    let entry_id = day["entries"][0]["id"].as_i64().unwrap();
    let patched = w.patch(&format!("/v1/logs/{entry_id}"), t, json!({"servings": 2})).await.ok(200);
    assert_eq!((&patched["name"], &patched["calories"]), (&json!("Steel-cut oats"), &json!(400.0)));

    // Looked up first: another user's or a missing food is 404 and a global
    // one 409, whatever the body holds; then the body's mistakes, each named.
    let (_, other) = w.user("other").await;
    let o = Some(other.as_str());
    w.patch(&format!("/v1/foods/{id}"), o, json!({"name": "mine"})).await.problem(404);
    w.patch("/v1/foods/999999", t, json!({})).await.problem(404);
    w.patch("/v1/foods/1", t, json!({"name": 3})).await.problem(409);
    w.raw(Method::PATCH, "/v1/foods/1", t, Some("application/json"), "{").await.problem(409);
    w.patch(&format!("/v1/foods/{id}"), None, json!({"name": "x"})).await.problem(401);
    assert_eq!(w.patch(&format!("/v1/foods/{id}"), t, json!({})).await.problem(422), [""]);
    let bad = json!({"name": " ", "brand": 7, "serving_size": 0, "calories": "many", "fat_g": 1000.01});
    let fields = w.patch(&format!("/v1/foods/{id}"), t, bad).await.problem(422);
    assert_eq!(fields, ["name", "brand", "serving_size", "calories", "fat_g"]);
    assert_eq!(r.get(&format!("/v1/foods/{id}"), t).await.ok(200), edited, "a refused edit changes nothing");
}
