//! Quick add and copy through the API, on both backends: `quick` entries in
//! `POST /v1/logs` and `PATCH /v1/logs/{id}`, and `POST
//! /v1/days/{date}/copy`, with every 422 the contract names; each cached
//! read is warmed before the write and must answer the new state after it.

mod common;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use common::{Client, TestApp};
use serde_json::{Value, json};

#[actix_web::test]
async fn quick_add_and_copy_on_sqlite() {
    let app = TestApp::sqlite().await;
    quick_add(&app).await;
    copy(&app).await;
}

#[actix_web::test]
async fn quick_add_and_copy_on_postgres_and_redis() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        let app = TestApp::with(settings, None).await;
        quick_add(&app).await;
        copy(&app).await;
    })
    .await;
}

const DAY: &str = "2026-11-24";

fn latte() -> Value {
    json!({"name": "Latte", "calories": 190, "protein_g": 10.004, "carbs_g": 18, "fat_g": 7})
}

fn quick(date: &str, meal: &str, quick: Value) -> Value {
    json!({"date": date, "meal": meal, "quick": quick})
}

/// The reads a quick add must leave as they were (no food has a new use).
async fn food_lists<S, B>(client: &Client<S>, t: Option<&str>) -> Value
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let frequent = client.get("/v1/foods/frequent", t).await.ok(200);
    let recent = client.get("/v1/foods/recent", t).await.ok(200);
    let search = client.get("/v1/foods?query=oats", t).await.ok(200);
    json!([frequent, recent, search])
}

async fn quick_add(app: &TestApp) {
    let client = app.client().await;
    let (_, token) = client.user("quick").await;
    let t = Some(token.as_str());
    let oats = client.post("/v1/foods", t, common::oats()).await.ok(201)["id"].as_i64().unwrap();
    client.post("/v1/logs", t, json!({"entries": [common::entry(DAY, "breakfast", oats, 1.0)]})).await.ok(201);
    let lists = food_lists(&client, t).await;
    let day = client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200);
    let summary_uri = format!("/v1/summary?from={DAY}&to={DAY}");
    let summary = client.get(&summary_uri, t).await.ok(200);

    let unnamed = json!({"calories": 250, "protein_g": 0, "carbs_g": 30, "fat_g": 12.5});
    let batch = json!({"entries": [quick(DAY, "snack", latte()), quick(DAY, "dinner", unnamed)]});
    let created = client.post("/v1/logs", t, batch).await.ok(201)["entries"].as_array().unwrap().clone();
    let entry = &created[0];
    assert_eq!((&entry["food_id"], &entry["recipe_id"], &entry["grams"]), (&json!(null), &json!(null), &json!(null)));
    assert_eq!((&entry["name"], &entry["servings"], &entry["portion"]), (&json!("Latte"), &json!(1.0), &json!(null)));
    let macros = |entry: &Value| json!([entry["calories"], entry["protein_g"], entry["carbs_g"], entry["fat_g"]]);
    assert_eq!(macros(entry), json!([190.0, 10.0, 18.0, 7.0]), "rounded to two decimals");
    assert_eq!(created[1]["name"], "Quick add", "the default name");

    // The day and its summary answer them; frequent and recent foods and
    // searches do not move.
    let now = client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200);
    assert_eq!(now["entries"].as_array().unwrap().len(), 3);
    let calories = day["totals"]["calories"].as_f64().unwrap() + 190.0 + 250.0;
    assert_eq!(now["totals"]["calories"].as_f64().unwrap(), calories);
    assert_ne!(client.get(&summary_uri, t).await.ok(200), summary);
    assert_eq!(food_lists(&client, t).await, lists, "a quick add is no use of a food");

    // Exactly one of food_id, recipe_id and quick; no amount with quick; the food bounds.
    let rules = [
        (json!({"date": DAY, "meal": "lunch", "food_id": oats, "quick": latte()}), "entries.0"),
        (json!({"date": DAY, "meal": "lunch", "quick": latte(), "servings": 2}), "entries.0.servings"),
        (json!({"date": DAY, "meal": "lunch", "quick": latte(), "grams": 2}), "entries.0.grams"),
        (
            quick(DAY, "lunch", json!({"calories": 10000.01, "protein_g": 0, "carbs_g": 0, "fat_g": 0})),
            "entries.0.quick.calories",
        ),
        (
            quick(DAY, "lunch", json!({"calories": 1, "protein_g": 1000.01, "carbs_g": 0, "fat_g": 0})),
            "entries.0.quick.protein_g",
        ),
        (
            quick(DAY, "lunch", json!({"name": " ", "calories": 1, "protein_g": 1, "carbs_g": 0, "fat_g": 0})),
            "entries.0.quick.name",
        ),
        (quick(DAY, "lunch", json!({"calories": 1, "protein_g": 1, "carbs_g": 0})), "entries.0.quick.fat_g"),
        (quick(DAY, "lunch", json!([1])), "entries.0.quick"),
    ];
    for (bad, field) in rules {
        let errors = client.post("/v1/logs", t, json!({"entries": [bad.clone()]})).await.problem(422);
        assert_eq!(errors, [field], "{bad}");
    }
    assert_eq!(client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200), now, "nothing was written");

    // PATCH: new macros (a name kept when none is given), a move; an amount
    // on a quick add and quick on a food entry are 422.
    let uri = format!("/v1/logs/{}", entry["id"]);
    let patched = client
        .patch(&uri, t, json!({"quick": {"calories": 95, "protein_g": 5, "carbs_g": 9, "fat_g": 3.5}, "meal": "lunch"}))
        .await
        .ok(200);
    assert_eq!(
        (&patched["name"], &patched["meal"], macros(&patched)),
        (&json!("Latte"), &json!("lunch"), json!([95.0, 5.0, 9.0, 3.5]))
    );
    let renamed = client
        .patch(
            &uri,
            t,
            json!({"quick": {"name": "Cappuccino", "calories": 80, "protein_g": 4, "carbs_g": 6, "fat_g": 3}}),
        )
        .await
        .ok(200);
    assert_eq!(renamed["name"], "Cappuccino");
    let read = client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200);
    assert!(read["entries"].as_array().unwrap().contains(&renamed), "the day answers the edit");
    for (body, field) in [
        (json!({"servings": 2}), "servings"),
        (json!({"grams": 20}), "grams"),
        (json!({"quantity": 2}), "quantity"),
        (json!({"quick": latte(), "servings": 2}), "servings"),
    ] {
        assert_eq!(client.patch(&uri, t, body.clone()).await.problem(422), [field], "{body}");
    }
    let food_entry = read["entries"].as_array().unwrap().iter().find(|entry| entry["food_id"] == oats).unwrap().clone();
    let food_uri = format!("/v1/logs/{}", food_entry["id"]);
    assert_eq!(client.patch(&food_uri, t, json!({"quick": latte()})).await.problem(422), ["quick"]);
    assert_eq!(client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200), read, "refusals change nothing");
    client.deleted(&uri, t).await;
    assert_eq!(food_lists(&client, t).await, lists, "deleting a quick add is no use either");
}

async fn copy(app: &TestApp) {
    let client = app.client().await;
    let (_, token) = client.user("copier").await;
    let t = Some(token.as_str());
    let oats = client.post("/v1/foods", t, common::oats()).await.ok(201)["id"].as_i64().unwrap();
    let porridge = client.recipe(t, "Porridge", oats).await;
    let yesterday = "2026-11-23";
    let batch = json!({"entries": [
        {"date": yesterday, "meal": "dinner", "recipe_id": porridge, "servings": 2},
        {"date": yesterday, "meal": "breakfast", "food_id": oats, "grams": 60},
        quick(yesterday, "snack", latte()),
        {"date": yesterday, "meal": "breakfast", "food_id": oats, "servings": 0.5},
    ]});
    client.post("/v1/logs", t, batch).await.ok(201);
    let source = client.get(&format!("/v1/logs?date={yesterday}"), t).await.ok(200);
    // Warm what the copy must change.
    let target = client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200);
    assert_eq!(target["entries"], json!([]));
    let frequent = client.get("/v1/foods/frequent", t).await.ok(200);
    assert_eq!(frequent[0]["uses"], 2);
    let week = client.get("/v1/weeks/2026-11-23", t).await.ok(200);

    let copies = client.post(&format!("/v1/days/{yesterday}/copy"), t, json!({"to": DAY})).await.ok(201)["entries"]
        .as_array()
        .unwrap()
        .clone();
    let as_logged = |entry: &Value| {
        let mut entry = entry.clone();
        for field in ["id", "date", "created_at", "updated_at"] {
            entry.as_object_mut().unwrap().remove(field);
        }
        entry
    };
    let sources: Vec<Value> = source["entries"].as_array().unwrap().iter().map(as_logged).collect();
    assert_eq!(copies.iter().map(as_logged).collect::<Vec<_>>(), sources, "each as logged, in the day's order");
    assert!(copies.iter().all(|copy| copy["date"] == DAY));
    let copied_day = client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200);
    assert_eq!(copied_day["entries"].as_array().unwrap(), &copies);
    assert_eq!(copied_day["totals"], source["totals"]);
    assert_eq!(client.get("/v1/foods/frequent", t).await.ok(200)[0]["uses"], 4, "copied food entries are uses");
    assert_ne!(client.get("/v1/weeks/2026-11-23", t).await.ok(200), week);
    let recent = client.get("/v1/foods/recent", t).await.ok(200);
    assert_eq!((&recent[0]["food"]["id"], &recent[0]["last_logged"]), (&json!(oats), &json!(DAY)));

    // One meal into another, on the same day.
    let uri = format!("/v1/days/{DAY}/copy");
    let lunch = client.post(&uri, t, json!({"to": DAY, "meal": "breakfast", "to_meal": "lunch"})).await.ok(201);
    let lunch = lunch["entries"].as_array().unwrap().clone();
    assert_eq!(lunch.len(), 2);
    assert!(lunch.iter().all(|copy| copy["meal"] == "lunch" && copy["date"] == DAY));
    let day = client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200);
    assert_eq!(day["entries"].as_array().unwrap().len(), 6);

    // The 422s the contract names; none writes anything.
    let cases = [
        (
            format!("/v1/days/{yesterday}/copy"),
            json!({"to": "2026-11-25", "meal": "lunch", "to_meal": "dinner"}),
            "meal",
        ),
        (format!("/v1/days/{DAY}/copy"), json!({"to": "2026-11-25", "to_meal": "lunch"}), "to_meal"),
        ("/v1/days/2026-11-20/copy".to_owned(), json!({"to": "2026-11-25"}), "date"),
        (format!("/v1/days/{DAY}/copy"), json!({"to": "2026-02-30"}), "to"),
        (format!("/v1/days/{DAY}/copy"), json!({"meal": "lunch"}), "to"),
    ];
    for (uri, body, field) in cases {
        assert_eq!(client.post(&uri, t, body.clone()).await.problem(422), [field], "{uri} {body}");
    }
    assert_eq!(client.get("/v1/logs?date=2026-11-25", t).await.ok(200)["entries"], json!([]));
    assert_eq!(client.post("/v1/days/2026-13-01/copy", t, json!({"to": DAY})).await.problem(400), ["date"]);

    // A copy that would pass the day's bound is 422 on `to`, all or nothing.
    let full = "2026-11-26";
    for _ in 0..2 {
        let entries: Vec<Value> = (0..99).map(|_| quick(full, "snack", latte())).collect();
        client.post("/v1/logs", t, json!({"entries": entries})).await.ok(201);
    }
    let before = client.get(&format!("/v1/logs?date={full}"), t).await.ok(200);
    assert_eq!(before["entries"].as_array().unwrap().len(), 198);
    let refused = client.post(&format!("/v1/days/{yesterday}/copy"), t, json!({"to": full})).await;
    assert_eq!(refused.problem(422), ["to"]);
    assert_eq!(client.get(&format!("/v1/logs?date={full}"), t).await.ok(200), before);
    let snack = client.post(&format!("/v1/days/{yesterday}/copy"), t, json!({"to": full, "meal": "snack"})).await;
    assert_eq!(snack.ok(201)["entries"].as_array().unwrap().len(), 1, "one more fits");

    // A keyed copy is replayed, not copied twice.
    let keyed = || {
        actix_web::test::TestRequest::post()
            .uri(&format!("/v1/days/{yesterday}/copy"))
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("idempotency-key", "copy-1"))
            .set_json(json!({"to": "2026-11-27", "meal": "dinner"}))
    };
    let first = client.send(keyed()).await;
    assert_eq!(first.ok(201)["entries"].as_array().unwrap().len(), 1);
    let again = client.send(keyed()).await;
    assert_eq!((again.header("idempotent-replayed"), &again.text), (Some("true"), &first.text));
    assert_eq!(client.get("/v1/logs?date=2026-11-27", t).await.ok(200)["entries"].as_array().unwrap().len(), 1);
}
