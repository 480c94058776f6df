//! `GET /v1/export` on both backends: RFC 4180 CSV with CRLF line endings
//! and the contract's header row, one row per entry of the user in day
//! order (across the pages it is read in), numbers as the JSON answers
//! write them, names quoted and escaped; a range of at most 3660 days (else
//! 422); an empty range is the header alone.

mod common;

use common::postgres::on_postgres_and_redis;
use common::{Client, TestApp, sqlite_settings};
use macrotrack_db_seaorm::entities::log_entry;
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_domain::Day;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const HEADER: &str = "date,meal,name,servings,grams,calories,protein_g,carbs_g,fat_g,food_id,recipe_id\r\n";

/// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or
/// a line break, its quotes doubled.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// A JSON value as a CSV field: numbers as JSON writes them, null empty.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => field(text),
        other => other.to_string(),
    }
}

/// The row an entry (as the JSON answers show it) is exported as.
fn row(entry: &Value) -> String {
    let columns = ["date", "meal", "name", "servings", "grams", "calories", "protein_g", "carbs_g", "fat_g"];
    let mut cells: Vec<String> = columns.iter().map(|name| cell(entry.get(*name).unwrap_or(&Value::Null))).collect();
    cells.push(cell(&entry["food_id"]));
    cells.push(cell(&entry["recipe_id"]));
    format!("{}\r\n", cells.join(","))
}

async fn scenario<S, B>(client: &Client<S>, database_url: &str)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (_, token) = client.user("exporter").await;
    let (_, other) = client.user("someone else").await;
    let t = Some(token.as_str());
    let creme = client.food(t, "Crème, \"brûlée\"", 300.0).await;
    let oats = client.food(t, "Oats", 150.0).await;
    let stew = client.recipe(t, "Stew", oats).await;
    let logged = |body: Value| async move { client.post("/v1/logs", t, body).await.ok(201)["entries"].clone() };
    // Created out of day order, over three pages of the export's reads.
    let first = logged(json!({"entries": [
        {"date": "2026-11-24", "meal": "dinner", "food_id": creme, "servings": 1.5},
        {"date": "2026-12-20", "meal": "lunch", "food_id": oats, "servings": 2},
        {"date": "2026-11-24", "meal": "breakfast", "recipe_id": stew, "servings": 1},
        {"date": "2026-11-05", "meal": "snack", "food_id": oats, "servings": 0.33},
    ]}))
    .await;
    let second =
        logged(json!({"entries": [{"date": "2026-11-24", "meal": "dinner", "food_id": oats, "servings": 1}]})).await;
    client
        .post("/v1/logs", Some(&other), json!({"entries": [common::entry("2026-11-24", "lunch", 1, 1.0)]}))
        .await
        .ok(201);
    let in_day_order = [&first[3], &first[2], &first[0], &second[0], &first[1]];

    let answer = client.get("/v1/export?from=2026-11-01&to=2026-12-31", t).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(answer.header("content-type").unwrap_or_default().starts_with("text/csv"), "{:?}", answer.headers);
    let disposition = answer.header("content-disposition").unwrap_or_default();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let expected: String = std::iter::once(HEADER.to_owned()).chain(in_day_order.iter().map(|e| row(e))).collect();
    assert_eq!(answer.text, expected);
    assert!(answer.text.contains("\"Crème, \"\"brûlée\"\"\""), "{}", answer.text);
    assert!(answer.text.contains(",1.5,") && answer.text.contains(",450.0,"), "{}", answer.text);
    assert_eq!(answer.text.matches("\r\n").count(), 6, "every line ends in CRLF");
    assert_eq!(answer.text.matches('\n').count(), 6, "and no line in LF alone");

    // A stored name with a line break (as an older import could leave) is
    // quoted whole: the line break stays inside its field.
    let repository = SeaOrmRepository::connect(&DbConfig::new(database_url)).await.expect("the database");
    let id = first[0]["id"].as_i64().expect("an id");
    log_entry::Entity::update_many()
        .col_expr(log_entry::Column::Name, Expr::value("Line one,\n\"two\""))
        .filter(log_entry::Column::Id.eq(id))
        .exec(repository.connection())
        .await
        .expect("renamed");
    let text = client.get("/v1/export?from=2026-11-24&to=2026-11-24", t).await.text;
    let mut renamed = first[0].clone();
    renamed["name"] = json!("Line one,\n\"two\"");
    assert_eq!(text, format!("{HEADER}{}{}{}", row(&first[2]), row(&renamed), row(&second[0])));
    assert!(text.contains("\"Line one,\n\"\"two\"\"\""), "{text}");

    // Nothing in the range: the header alone.
    assert_eq!(client.get("/v1/export?from=2026-10-01&to=2026-10-31", t).await.text, HEADER);
    assert_eq!(client.get("/v1/export?from=2026-11-24&to=2026-11-24", Some(&other)).await.text.lines().count(), 2);

    // At most 3660 days: to - from <= 3659.
    let from: Day = "2017-01-01".parse().unwrap();
    let widest = from.plus_days(3659).unwrap();
    let answer = client.get(&format!("/v1/export?from={from}&to={widest}"), t).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text.matches("\r\n").count(), 6, "the widest range holds every entry");
    let too_wide = from.plus_days(3660).unwrap();
    assert_eq!(client.get(&format!("/v1/export?from={from}&to={too_wide}"), t).await.problem(422), ["to"]);
    assert_eq!(client.get("/v1/export?from=2026-11-25&to=2026-11-24", t).await.problem(422), ["from"]);
    assert_eq!(client.get("/v1/export?from=2026-11-25", t).await.problem(400), ["to"]);
    assert_eq!(client.get("/v1/export?from=2026-13-01&to=2026-11-24", t).await.problem(400), ["from"]);
    client.get("/v1/export?from=2026-11-01&to=2026-11-30", None).await.problem(401);
}

#[actix_web::test]
async fn export_is_rfc_4180_in_day_order_on_sqlite() {
    let (settings, dir) = sqlite_settings();
    let url = settings.database_url.clone();
    let app = TestApp::with(settings, Some(dir)).await;
    scenario(&app.client().await, &url).await;
}

#[actix_web::test]
async fn export_is_rfc_4180_in_day_order_on_postgres_and_redis() {
    on_postgres_and_redis(|settings| async move {
        let url = settings.database_url.clone();
        let app = TestApp::with(settings, None).await;
        scenario(&app.client().await, &url).await;
    })
    .await;
}
