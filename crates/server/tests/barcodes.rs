//! `GET /v1/foods/barcode/{code}` on both backends: any GS1 length finds
//! the food by its GTIN-14; of several, the most recently imported; a
//! code of the wrong shape is 400, a wrong check digit 422, an unknown
//! one 404. And the catalogue's fields of a food (`generic`, `source`,
//! `barcode`, `grams_per_serving`, `portions`) as the contract gives them.

mod common;

use common::TestApp;
use macrotrack::Settings;
use macrotrack_domain::{Amount, FoodSource, Gtin, ImportedFood, ImportedPortion, Macros, Timestamp};
use macrotrack_ports::CatalogueImport;
use serde_json::json;

#[actix_web::test]
async fn barcodes_on_sqlite() {
    let (settings, dir) = common::sqlite_settings();
    let app = TestApp::with(settings.clone(), Some(dir)).await;
    barcodes_find_their_food(&app, &settings).await;
}

#[actix_web::test]
async fn barcodes_on_postgres_and_redis() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        let app = TestApp::with(settings.clone(), None).await;
        barcodes_find_their_food(&app, &settings).await;
    })
    .await;
}

fn imported(fdc_id: u64, name: &str, barcode: &str) -> ImportedFood {
    let grams = |value: i64| Amount::from_hundredths(value);
    ImportedFood {
        source: FoodSource::Fdc(fdc_id),
        name: name.to_owned(),
        brand: Some("Brand".to_owned()),
        generic: false,
        barcode: Some(Gtin::parse(barcode).unwrap()),
        barcode_rejected: false,
        per_100g: Macros { calories: grams(5000), protein_g: grams(100), carbs_g: grams(1000), fat_g: grams(100) },
        portions: Vec::new(),
    }
}

async fn barcodes_find_their_food(app: &TestApp, settings: &Settings) {
    let repo = macrotrack::database(settings).await.expect("the database");
    let first = chrono::Utc::now() - chrono::Duration::hours(1);
    let older = [imported(1, "Cola, older listing", "036000291452"), imported(2, "Spread", "4006381333931")];
    repo.upsert_imported_foods(&older, Timestamp::new(first)).await.unwrap();
    // The same GTIN under another food, imported later: it answers.
    let mut gum = imported(4, "Gum", "96385074");
    gum.portions = vec![
        ImportedPortion { name: "1 stick".to_owned(), grams: Amount::from_hundredths(270) },
        ImportedPortion { name: "1 pack".to_owned(), grams: Amount::from_hundredths(4050) },
    ];
    let newer = [imported(3, "Cola, newer listing", "00036000291452"), gum];
    repo.upsert_imported_foods(&newer, Timestamp::new(chrono::Utc::now())).await.unwrap();
    repo.connection().close_by_ref().await.unwrap();

    let client = app.client().await;
    let (_, token) = client.user("scanner").await;
    let t = Some(token.as_str());
    for code in ["036000291452", "0036000291452", "00036000291452"] {
        let food = client.get(&format!("/v1/foods/barcode/{code}"), t).await.ok(200);
        assert_eq!(food["name"], "Cola, newer listing", "{code}");
    }
    assert_eq!(client.get("/v1/foods/barcode/4006381333931", t).await.ok(200)["name"], "Spread");
    let gum = client.get("/v1/foods/barcode/96385074", t).await;
    assert_eq!(gum.json()["name"], "Gum");
    assert!(gum.header("etag").is_some(), "a food read answers its ETag");

    // The catalogue's fields: an imported branded food, with its portions
    // in order, on every read that shows it.
    let gum = gum.json();
    assert_eq!(
        (&gum["generic"], &gum["source"], &gum["barcode"], &gum["grams_per_serving"]),
        (&json!(false), &json!("fdc:4"), &json!("00000096385074"), &json!(100.0))
    );
    let portions: Vec<(&str, f64)> = gum["portions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|portion| (portion["name"].as_str().unwrap(), portion["grams"].as_f64().unwrap()))
        .collect();
    assert_eq!(portions, [("1 stick", 2.7), ("1 pack", 40.5)]);
    assert!(gum["portions"][0]["id"].is_i64());
    let id = gum["id"].as_i64().unwrap();
    assert_eq!(client.get(&format!("/v1/foods/{id}"), t).await.ok(200), gum);
    let found = client.get("/v1/foods?query=gum", t).await.ok(200);
    assert_eq!(found[0], gum, "search shows the same food");
    // The seed is generic, with gram servings; a user's food has no source,
    // barcode or portions, and grams per serving only for a serving in grams.
    let seeded = client.get("/v1/foods?query=oats", t).await.ok(200)[0].clone();
    assert_eq!((&seeded["generic"], &seeded["source"], &seeded["portions"]), (&json!(true), &json!(null), &json!([])));
    assert_eq!(seeded["grams_per_serving"], seeded["serving_size"]);
    let own = client.food(t, "Toast", 80.0).await;
    let own = client.get(&format!("/v1/foods/{own}"), t).await.ok(200);
    assert_eq!(
        (&own["generic"], &own["source"], &own["barcode"], &own["grams_per_serving"], &own["portions"]),
        (&json!(false), &json!(null), &json!(null), &json!(100.0), &json!([]))
    );
    let slice = json!({"name": "Bread", "serving_size": 1, "serving_unit": "slice", "calories": 80, "protein_g": 3, "carbs_g": 15, "fat_g": 1});
    assert_eq!(client.post("/v1/foods", t, slice).await.ok(201)["grams_per_serving"], json!(null));

    for malformed in ["123", "0360002914521234", "03600029145a", "%20036000291452"] {
        let answer = client.get(&format!("/v1/foods/barcode/{malformed}"), t).await;
        assert_eq!(answer.problem(400), ["code"], "{malformed}");
    }
    assert_eq!(client.get("/v1/foods/barcode/4006381333932", t).await.problem(422), ["code"]);
    client.get("/v1/foods/barcode/4006381333924", t).await.problem(404);
    client.get("/v1/foods/barcode/96385074", None).await.problem(401);
}
