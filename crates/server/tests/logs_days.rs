//! Log edits and deletions, day completions, streaks, summaries and the day
//! dashboard: exact answers, bounds and every error class.

mod common;

use actix_web::http::Method;
use common::{TestApp, entry};
use serde_json::json;

#[actix_web::test]
async fn log_edits_recompute_the_snapshot_and_name_every_bad_field() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("lena").await;
    let t = Some(token.as_str());
    // Banana (global #22): 89 kcal, 1.09 / 22.84 / 0.33 g per 100 g.
    let created = client.post("/v1/logs", t, json!({"entries": [entry("2026-11-24", "snack", 22, 1.0)]})).await;
    let original = created.ok(201)["entries"][0].clone();
    let id = original["id"].as_i64().unwrap();
    let uri = format!("/v1/logs/{id}");

    let edited = client.patch(&uri, t, json!({"servings": 2.505})).await.ok(200);
    for (key, value) in
        [("servings", 2.51), ("calories", 223.39), ("protein_g", 2.74), ("carbs_g", 57.33), ("fat_g", 0.83)]
    {
        assert_eq!(edited[key], value, "{key}: {edited}");
    }
    for key in ["id", "date", "meal", "food_id", "recipe_id", "name", "created_at"] {
        assert_eq!(edited[key], original[key], "{key}");
    }
    assert!(edited["updated_at"].as_str() >= original["updated_at"].as_str());
    let day = client.get("/v1/logs?date=2026-11-24", t).await.ok(200);
    assert_eq!(day["entries"], json!([edited]));
    assert_eq!(day["totals"]["calories"], 223.39);

    let moved = client.patch(&uri, t, json!({"date": "2026-11-30", "meal": "breakfast", "servings": null})).await;
    let moved = moved.ok(200);
    assert_eq!(
        (moved["date"].as_str(), moved["meal"].as_str(), moved["servings"].as_f64()),
        (Some("2026-11-30"), Some("breakfast"), Some(2.51))
    );

    // No field to change: one error on the body itself.
    for body in [json!({}), json!({"date": null, "meal": null, "servings": null}), json!({"food_id": 3})] {
        assert_eq!(client.patch(&uri, t, body.clone()).await.problem(422), [""], "{body}");
    }
    let cases = [
        (json!({"servings": 0}), vec!["servings"]),
        (json!({"servings": 100.004}), vec!["servings"]),
        (json!({"servings": "1"}), vec!["servings"]),
        (json!({"meal": "brunch"}), vec!["meal"]),
        (json!({"date": "2026-02-30"}), vec!["date"]),
        (json!({"date": "1899-12-31", "meal": 4, "servings": -1}), vec!["date", "meal", "servings"]),
    ];
    for (body, fields) in cases {
        assert_eq!(client.patch(&uri, t, body.clone()).await.problem(422), fields, "{body}");
    }
    assert_eq!(client.get("/v1/logs?date=2026-11-30", t).await.ok(200)["entries"], json!([moved]), "unchanged");
    client.patch("/v1/logs/987654321", t, json!({"servings": 1})).await.problem(404);
    assert_eq!(client.patch("/v1/logs/x", t, json!({"servings": 1})).await.problem(400), ["id"]);
    let json_type = Some("application/json");
    client.raw(Method::PATCH, &uri, t, json_type, "1").await.problem(400);
    client.raw(Method::PATCH, &uri, t, Some("text/plain"), "{\"servings\":1}").await.problem(415);
    client.raw(Method::PATCH, &uri, t, Some("application/merge-patch+json"), "{\"servings\":1}").await.ok(200);
    let huge = json!({"servings": 1, "pad": "x".repeat(300 * 1024)}).to_string();
    client.raw(Method::PATCH, &uri, t, json_type, huge).await.problem(413);

    client.deleted(&uri, t).await;
    client.delete(&uri, t).await.problem(404);
    client.patch(&uri, t, json!({"servings": 1})).await.problem(404);
    assert_eq!(client.delete("/v1/logs/1.5", t).await.problem(400), ["id"]);
    assert_eq!(client.get("/v1/logs?date=2026-11-30", t).await.ok(200)["entries"], json!([]));
}

#[actix_web::test]
async fn the_day_logs_are_json_from_the_cache_path() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("hana").await;
    let t = Some(token.as_str());
    client.post("/v1/logs", t, json!({"entries": [entry("2026-11-24", "dinner", 1, 1.0)]})).await.ok(201);
    let first = client.get("/v1/logs?date=2026-11-24", t).await;
    let second = client.get("/v1/logs?date=2026-11-24", t).await;
    for answer in [&first, &second] {
        assert_eq!(answer.header("content-type"), Some("application/json"));
    }
    assert_eq!(first.text, second.text, "the hit serves the same bytes");
    assert_eq!(first.ok(200)["totals"], json!({"calories": 379.0, "protein_g": 13.15, "carbs_g": 67.7, "fat_g": 6.52}));
}

#[actix_web::test]
async fn completions_are_idempotent_and_path_dates_are_400_or_422() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("carl").await;
    let t = Some(token.as_str());
    for date in ["1900-01-01", "2200-12-31", "2024-02-29"] {
        let uri = format!("/v1/days/{date}/completion");
        for _ in 0..2 {
            assert_eq!(client.bare(Method::PUT, &uri, t).await.ok(200), json!({"date": date, "completed": true}));
        }
        for _ in 0..2 {
            assert_eq!(client.delete(&uri, t).await.ok(200), json!({"date": date, "completed": false}));
        }
    }
    for method in [Method::PUT, Method::DELETE] {
        for malformed in ["notadate", "2026-02-30", "2026-1-01", "20261124"] {
            let uri = format!("/v1/days/{malformed}/completion");
            assert_eq!(client.bare(method.clone(), &uri, t).await.problem(400), ["date"], "{method} {malformed}");
            assert_eq!(client.get(&format!("/v1/days/{malformed}"), t).await.problem(400), ["date"]);
        }
        for out_of_range in ["1899-12-31", "2201-01-01"] {
            let uri = format!("/v1/days/{out_of_range}/completion");
            assert_eq!(client.bare(method.clone(), &uri, t).await.problem(422), ["date"], "{method} {out_of_range}");
            assert_eq!(client.get(&format!("/v1/days/{out_of_range}"), t).await.problem(422), ["date"]);
        }
    }
    // A body is ignored.
    let uri = "/v1/days/2026-11-24/completion";
    client.raw(Method::PUT, uri, t, Some("text/plain"), "whatever").await.ok(200);
}

#[actix_web::test]
async fn streaks_count_to_today_which_defaults_to_the_utc_date() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("stella").await;
    let t = Some(token.as_str());
    let today = app.application.state().service.today();
    let day = |offset: i64| today.plus_days(offset).unwrap().to_string();
    assert_eq!(client.get("/v1/streaks", t).await.ok(200), json!({"current": 0, "longest": 0, "last_completed": null}));
    for offset in [-5, -4, -1, 0, 1] {
        client.bare(Method::PUT, &format!("/v1/days/{}/completion", day(offset)), t).await.ok(200);
    }
    // Tomorrow does not count; -1 and 0 run; -5 and -4 were a run of two.
    let expected = json!({"current": 2, "longest": 2, "last_completed": day(0)});
    assert_eq!(client.get("/v1/streaks", t).await.ok(200), expected);
    assert_eq!(client.get(&format!("/v1/streaks?today={}", day(0)), t).await.ok(200), expected);
    let as_of = json!({"current": 0, "longest": 2, "last_completed": day(-4)});
    assert_eq!(client.get(&format!("/v1/streaks?today={}", day(-2)), t).await.ok(200), as_of);
    client.delete(&format!("/v1/days/{}/completion", day(-1)), t).await.ok(200);
    assert_eq!(client.get("/v1/streaks", t).await.ok(200)["current"], 1);
    for malformed in ["notadate", "2026-02-30", ""] {
        assert_eq!(client.get(&format!("/v1/streaks?today={malformed}"), t).await.problem(400), ["today"]);
        assert_eq!(client.get(&format!("/v1/days/2026-11-24?today={malformed}"), t).await.problem(400), ["today"]);
    }
    assert_eq!(client.get("/v1/streaks?today=2201-01-01", t).await.problem(422), ["today"]);
    assert_eq!(client.get("/v1/days/2026-11-24?today=1899-12-31", t).await.problem(422), ["today"]);
    // The dashboard's default today is the same.
    assert_eq!(client.get(&format!("/v1/days/{}", day(0)), t).await.ok(200)["streak"]["current"], 1);
}

#[actix_web::test]
async fn summary_rows_bounds_and_parameters() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("sue").await;
    let t = Some(token.as_str());
    let batch = json!({"entries": [
        entry("2026-01-01", "lunch", 1, 1.0),
        entry("2026-01-01", "dinner", 1, 0.5),
        entry("2026-04-01", "snack", 22, 1.0),
        entry("2026-04-02", "snack", 22, 1.0),
    ]});
    client.post("/v1/logs", t, batch).await.ok(201);
    // 2026-01-01 + 91 days = 2026-04-02: 92 days, the most allowed.
    let summary = client.get("/v1/summary?from=2026-01-01&to=2026-04-02", t).await.ok(200);
    let oats = json!({"calories": 568.5, "protein_g": 19.73, "carbs_g": 101.55, "fat_g": 9.78});
    let banana = json!({"calories": 89.0, "protein_g": 1.09, "carbs_g": 22.84, "fat_g": 0.33});
    assert_eq!(
        summary,
        json!({"from": "2026-01-01", "to": "2026-04-02", "days": [
            {"date": "2026-01-01", "totals": oats, "entries": 2},
            {"date": "2026-04-01", "totals": banana, "entries": 1},
            {"date": "2026-04-02", "totals": banana, "entries": 1},
        ]})
    );
    let one_day = client.get("/v1/summary?from=2026-04-01&to=2026-04-01", t).await.ok(200);
    assert_eq!(one_day["days"].as_array().unwrap().len(), 1);
    assert_eq!(client.get("/v1/summary?from=2025-01-01&to=2025-01-31", t).await.ok(200)["days"], json!([]));

    let rule = |uri: &str| {
        let uri = uri.to_owned();
        let client = &client;
        async move { client.get(&uri, t).await.problem(422) }
    };
    assert_eq!(rule("/v1/summary?from=2026-01-01&to=2026-04-03").await, ["to"], "93 days");
    assert_eq!(rule("/v1/summary?from=2026-04-02&to=2026-04-01").await, ["from"], "from after to");
    assert_eq!(rule("/v1/summary?from=1899-12-31&to=2201-01-01").await, ["from", "to"]);
    assert_eq!(rule("/v1/summary?from=1899-12-31&to=1900-01-01").await, ["from"]);
    let bad = |uri: &str| {
        let uri = uri.to_owned();
        let client = &client;
        async move { client.get(&uri, t).await.problem(400) }
    };
    assert_eq!(bad("/v1/summary").await, ["from", "to"]);
    assert_eq!(bad("/v1/summary?from=2026-01-01").await, ["to"]);
    assert_eq!(bad("/v1/summary?to=2026-01-01").await, ["from"]);
    assert_eq!(bad("/v1/summary?from=x&to=2026-02-30").await, ["from", "to"]);
    assert_eq!(bad("/v1/summary?from=x&to=2201-01-01").await, ["from"], "400 before 422");
}

#[actix_web::test]
async fn the_dashboard_composes_the_days_reads() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("dina").await;
    let t = Some(token.as_str());
    let empty = client.get("/v1/days/2026-11-24?today=2026-11-24", t).await.ok(200);
    assert_eq!(
        empty,
        json!({
            "date": "2026-11-24",
            "logs": {"date": "2026-11-24", "completed": false, "entries": [],
                     "totals": {"calories": 0.0, "protein_g": 0.0, "carbs_g": 0.0, "fat_g": 0.0}},
            "targets": null,
            "remaining": null,
            "schedule": {"date": "2026-11-24", "plan": null, "meals": []},
            "streak": {"current": 0, "longest": 0, "last_completed": null},
        })
    );
    let targets = json!({"calories": 300, "protein_g": 10, "carbs_g": 50, "fat_g": 5});
    client.put("/v1/me/targets", t, targets).await.ok(200);
    client.post("/v1/logs", t, json!({"entries": [entry("2026-11-24", "lunch", 1, 1.0)]})).await.ok(201);
    client.bare(Method::PUT, "/v1/days/2026-11-24/completion", t).await.ok(200);
    let full = client.get("/v1/days/2026-11-24?today=2026-11-25", t).await.ok(200);
    assert_eq!(full["remaining"], json!({"calories": -79.0, "protein_g": -3.15, "carbs_g": -17.7, "fat_g": -1.52}));
    assert_eq!(full["logs"], client.get("/v1/logs?date=2026-11-24", t).await.ok(200));
    assert_eq!(full["logs"]["completed"], true);
    assert_eq!(full["streak"], json!({"current": 1, "longest": 1, "last_completed": "2026-11-24"}));
    assert_eq!(full["schedule"], json!({"date": "2026-11-24", "plan": null, "meals": []}));
}
