//! `GET /v1/foods/barcode/{code}` on both backends: any GS1 length finds
//! the food by its GTIN-14; of several, the most recently imported; a
//! code of the wrong shape is 400, a wrong check digit 422, an unknown
//! one 404.

mod common;

use common::TestApp;
use macrotrack::Settings;
use macrotrack_domain::{Amount, FoodSource, Gtin, ImportedFood, Macros, Timestamp};
use macrotrack_ports::CatalogueImport;

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
    let newer = [imported(3, "Cola, newer listing", "00036000291452"), imported(4, "Gum", "96385074")];
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

    for malformed in ["123", "0360002914521234", "03600029145a", "%20036000291452"] {
        let answer = client.get(&format!("/v1/foods/barcode/{malformed}"), t).await;
        assert_eq!(answer.problem(400), ["code"], "{malformed}");
    }
    assert_eq!(client.get("/v1/foods/barcode/4006381333932", t).await.problem(422), ["code"]);
    client.get("/v1/foods/barcode/4006381333924", t).await.problem(404);
    client.get("/v1/foods/barcode/96385074", None).await.problem(401);
}
