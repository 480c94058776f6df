//! Every class of bad input gets its contract status and a problem body:
//! 400, 404, 405, 413, 415 and 422 with every offending field named.

mod common;

use actix_web::http::Method;
use common::TestApp;
use serde_json::{Value, json};

fn food() -> serde_json::Value {
    json!({"name": "Rice", "serving_size": 100, "serving_unit": "g", "calories": 130, "protein_g": 2.7, "carbs_g": 28, "fat_g": 0.3})
}

#[actix_web::test]
async fn body_classes_400_413_415() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("ann").await;
    let token = Some(token.as_str());
    let json = Some("application/json");

    for malformed in ["{", "{\"name\": }", "", "nul", "{\"a\":1}}", "\u{feff}{}"] {
        assert!(
            client.raw(Method::POST, "/v1/foods", token, json, malformed).await.problem(400).is_empty(),
            "{malformed:?}"
        );
    }
    for not_object in ["[1, 2]", "\"food\"", "42", "null", "true"] {
        client.raw(Method::POST, "/v1/foods", token, json, not_object).await.problem(400);
        client.raw(Method::POST, "/v1/logs", token, json, not_object).await.problem(400);
    }
    let body = food().to_string();
    for wrong_type in
        [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/json; charset=latin1")]
    {
        client.raw(Method::POST, "/v1/foods", token, wrong_type, body.clone()).await.problem(415);
    }
    for fine in ["application/json; charset=utf-8", "Application/JSON"] {
        client.raw(Method::POST, "/v1/foods", token, Some(fine), body.clone()).await.ok(201);
    }
    let huge = json!({"name": "x".repeat(300 * 1024)}).to_string();
    client.raw(Method::POST, "/v1/foods", token, json, huge.clone()).await.problem(413);
    client.raw(Method::POST, "/v1/logs", token, json, huge).await.problem(413);
    // Just under the limit is read (and then judged on its fields).
    let near = json!({"name": "x".repeat(255 * 1024)}).to_string();
    assert!(client.raw(Method::POST, "/v1/foods", token, json, near).await.problem(422).contains(&"name".to_owned()));
}

#[actix_web::test]
async fn food_fields_422_names_every_offending_field() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("ben").await;
    let token = Some(token.as_str());
    let bad = json!({"name": "  ", "brand": 5, "serving_size": "40", "calories": 10000.01, "protein_g": -0.01, "carbs_g": 1000, "fat_g": null});
    assert_eq!(
        client.post("/v1/foods", token, bad).await.problem(422),
        ["name", "brand", "serving_size", "serving_unit", "calories", "protein_g", "fat_g"]
    );
    let mut bounds = food();
    bounds["serving_size"] = json!(0);
    bounds["serving_unit"] = json!("u".repeat(21));
    bounds["brand"] = json!("");
    assert_eq!(client.post("/v1/foods", token, bounds).await.problem(422), ["brand", "serving_size", "serving_unit"]);
    assert_eq!(client.post("/v1/foods", token, json!({})).await.problem(422).len(), 7, "all required but brand");
    let mut with_brand = food();
    with_brand["brand"] = json!(" Acme ");
    assert_eq!(client.post("/v1/foods", token, with_brand).await.ok(201)["brand"], "Acme");
}

#[actix_web::test]
async fn log_batch_422_names_every_offending_field() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("cat").await;
    let token = Some(token.as_str());
    let good = json!({"date": "2026-11-24", "meal": "lunch", "food_id": 1, "servings": 1});
    let batch = json!({"entries": [
        good,
        {"date": "2026-11-24", "meal": "lunch", "food_id": 1, "recipe_id": 1, "servings": 1},
        {"date": "2026-11-24", "meal": "lunch", "servings": 1},
        {"date": "2026-11-24", "meal": "lunch", "food_id": 1, "servings": 100.004},
        {"date": "2026-02-30", "meal": "elevenses", "food_id": "1", "servings": "1"},
        {"date": "2201-01-01", "meal": "lunch", "food_id": 1, "servings": 0},
        [],
        {"meal": 3, "food_id": 1.5},
    ]});
    assert_eq!(
        client.post("/v1/logs", token, batch).await.problem(422),
        [
            "entries.1",
            "entries.2",
            "entries.3.servings",
            "entries.4.date",
            "entries.4.meal",
            "entries.4.food_id",
            "entries.4.servings",
            "entries.5.date",
            "entries.5.servings",
            "entries.6",
            "entries.7.date",
            "entries.7.meal",
            "entries.7.food_id",
            "entries.7.servings",
        ]
    );
    assert_eq!(client.post("/v1/logs", token, json!({"entries": []})).await.problem(422), ["entries"]);
    assert_eq!(client.post("/v1/logs", token, json!({"entries": vec![good; 101]})).await.problem(422), ["entries"]);
    assert_eq!(client.post("/v1/logs", token, json!({"entry": []})).await.problem(422), ["entries"]);
    let day = client.get("/v1/logs?date=2026-11-24", token).await.ok(200);
    assert_eq!(day["entries"], json!([]), "nothing of a rejected batch was logged");
}

#[actix_web::test]
async fn query_and_path_parameters_400_vs_422() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("dan").await;
    let token = Some(token.as_str());
    for malformed in ["2026-02-30", "notadate", "2026-1-01", "", "2026-11-24%20", "%FF"] {
        let answer = client.get(&format!("/v1/logs?date={malformed}"), token).await;
        assert_eq!(answer.problem(400), ["date"], "{malformed:?}");
    }
    assert_eq!(client.get("/v1/logs", token).await.problem(400), ["date"]);
    assert_eq!(client.get("/v1/logs?day=2026-11-24", token).await.problem(400), ["date"]);
    for out_of_range in ["1899-12-31", "2201-01-01"] {
        assert_eq!(client.get(&format!("/v1/logs?date={out_of_range}"), token).await.problem(422), ["date"]);
    }
    client.get("/v1/logs?date=2200-12-31", token).await.ok(200);
    for bad_id in ["abc", "1.5", "99999999999999999999", "-", "%20"] {
        assert_eq!(client.get(&format!("/v1/foods/{bad_id}"), token).await.problem(400), ["id"], "{bad_id}");
    }
    client.get("/v1/foods/-1", token).await.problem(404);
}

#[actix_web::test]
async fn unknown_routes_404_and_wrong_methods_405() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("eve").await;
    for token in [None, Some(token.as_str())] {
        for path in ["/", "/v1", "/v1/nothing", "/v1/foods/1/extra", "/v2/foods", "/v1/foods/"] {
            client.get(path, token).await.problem(404);
        }
    }
    for (method, path, allow) in [
        (Method::DELETE, "/v1/foods", "GET, HEAD, POST"),
        (Method::PUT, "/v1/foods/1", "GET, HEAD, PATCH"),
        (Method::PUT, "/v1/foods/frequent", "GET, HEAD"),
        (Method::PATCH, "/v1/logs", "GET, HEAD, POST"),
        (Method::GET, "/v1/logs/1", "DELETE, PATCH"),
        (Method::POST, "/v1/me", "DELETE, GET, HEAD"),
        (Method::GET, "/v1/me/targets", "PUT"),
        (Method::GET, "/v1/days/2026-11-24/completion", "DELETE, PUT"),
        (Method::POST, "/v1/days/2026-11-24", "GET, HEAD"),
        (Method::GET, "/v1/meal-plans/1/schedule", "POST"),
        (Method::GET, "/v1/scheduled-plans/1", "DELETE"),
        (Method::POST, "/openapi.json", "GET, HEAD"),
        (Method::POST, "/healthz", "GET, HEAD"),
        (Method::DELETE, "/metrics", "GET, HEAD"),
        (Method::GET, "/v1/admin/users", "POST"),
    ] {
        let answer = client.raw(method.clone(), path, None, None, "").await;
        answer.problem(405);
        assert_eq!(answer.header("allow"), Some(allow), "{method} {path}");
    }
}

/// Any value in any field of a well-formed object is 201 or 422: never a
/// 400 (the JSON is fine) and never a 5xx.
#[actix_web::test]
async fn any_value_in_any_field_is_201_or_422() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("fuzz").await;
    let token = Some(token.as_str());
    let values = [
        json!(null),
        json!(true),
        json!(""),
        json!(" "),
        json!("x"),
        json!("2026-11-24"),
        json!(-1),
        json!(0),
        json!(1.005),
        json!(1e308),
        json!(-1e-300),
        json!(18_446_744_073_709_551_615u64),
        json!(i64::MIN),
        json!([]),
        json!({}),
        json!("\u{0}"),
    ];
    let log = json!({"date": "2026-11-24", "meal": "lunch", "food_id": 1, "servings": 1});
    for (uri, template) in [("/v1/foods", food()), ("/v1/logs", json!({"entries": [log]}))] {
        let fields: Vec<String> = if uri == "/v1/foods" {
            template.as_object().unwrap().keys().cloned().collect()
        } else {
            log.as_object().unwrap().keys().map(|key| format!("entries.0.{key}")).collect()
        };
        for field in fields.iter().map(String::as_str).chain(["entries", "extra"]) {
            for value in &values {
                let mut body = template.clone();
                let target = match field.strip_prefix("entries.0.") {
                    Some(key) => &mut body["entries"][0][key],
                    None => &mut body[field],
                };
                *target = value.clone();
                let answer = client.post(uri, token, body.clone()).await;
                assert!(matches!(answer.status.as_u16(), 201 | 422), "{uri} {body}: {} {}", answer.status, answer.text);
                if answer.status == 422 {
                    answer.problem(422);
                }
            }
        }
    }
}

/// The same for every other body: any value in any field (top-level or in a
/// list's item) is answered with its success, 409 or 422; never 400 or 5xx.
#[actix_web::test]
async fn any_value_in_any_field_of_every_other_body_is_never_400_or_5xx() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("fuzz2").await;
    let t = Some(token.as_str());
    let recipe = client.recipe(t, "Fuzz soup", 1).await;
    let plan = client.plan(t, 1, recipe).await;
    let batch = json!({"entries": [{"date": "2026-11-24", "meal": "lunch", "food_id": 1, "servings": 1}]});
    let log = client.post("/v1/logs", t, batch).await.ok(201)["entries"][0]["id"].as_i64().unwrap();
    let values = [
        json!(null),
        json!(false),
        json!(""),
        json!("lunch"),
        json!("2026-11-24"),
        json!("2200-12-31"),
        json!(-1),
        json!(0),
        json!(0.004),
        json!(1),
        json!(365),
        json!(1e308),
        json!(18_446_744_073_709_551_615u64),
        json!(i64::MAX),
        json!([]),
        json!([1]),
        json!({}),
    ];
    let routes = [
        (
            Method::PUT,
            "/v1/me/targets".to_owned(),
            json!({"calories": 1, "protein_g": 1, "carbs_g": 1, "fat_g": 1}),
            200,
        ),
        (
            Method::POST,
            "/v1/recipes".to_owned(),
            json!({"name": "r", "servings": 1, "ingredients": [{"food_id": 1, "servings": 1}]}),
            201,
        ),
        (
            Method::POST,
            "/v1/meal-plans".to_owned(),
            json!({"name": "p", "days": 1, "items": [{"day": 0, "meal": "lunch", "recipe_id": recipe, "servings": 1}]}),
            201,
        ),
        (Method::POST, format!("/v1/meal-plans/{plan}/schedule"), json!({"start_date": "2026-11-24"}), 201),
        (Method::PATCH, format!("/v1/logs/{log}"), json!({"date": "2026-11-24", "meal": "lunch", "servings": 1}), 200),
    ];
    for (method, uri, template, success) in routes {
        // JSON pointers of every field, an item's fields included, and one unknown.
        let mut pointers = vec!["/extra".to_owned()];
        for (key, value) in template.as_object().unwrap() {
            pointers.push(format!("/{key}"));
            if let Some(item) = value.get(0).and_then(Value::as_object) {
                pointers.push(format!("/{key}/0"));
                pointers.extend(item.keys().map(|field| format!("/{key}/0/{field}")));
            }
        }
        for pointer in &pointers {
            for value in &values {
                let mut body = template.clone();
                match body.pointer_mut(pointer) {
                    Some(slot) => *slot = value.clone(),
                    None => body["extra"] = value.clone(),
                }
                let answer = client.json(method.clone(), &uri, t, body.clone()).await;
                let status = answer.status.as_u16();
                assert!(
                    status == success || status == 409 || status == 422,
                    "{method} {uri} {body}: {status} {}",
                    answer.text
                );
                if status != success {
                    answer.problem(status);
                }
            }
        }
    }
}
