//! Log entries by grams or by a household portion, on both backends:
//! `POST /v1/logs` and `PATCH /v1/logs/{id}` take exactly one of
//! `servings`, `grams` and `portion_id` with `quantity`; the entry answers
//! its `grams` and `portion`; what cannot be measured is 422 on the field
//! the contract names, and changes nothing.

mod common;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use common::{Client, TestApp};
use macrotrack::Settings;
use macrotrack_domain::{Amount, FoodSource, ImportedFood, ImportedPortion, Macros, Timestamp};
use macrotrack_ports::CatalogueImport;
use serde_json::{Value, json};

#[actix_web::test]
async fn amounts_on_sqlite() {
    let (settings, dir) = common::sqlite_settings();
    let app = TestApp::with(settings.clone(), Some(dir)).await;
    amounts(&app, &settings).await;
}

#[actix_web::test]
async fn amounts_on_postgres_and_redis() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        let app = TestApp::with(settings.clone(), None).await;
        amounts(&app, &settings).await;
    })
    .await;
}

const DAY: &str = "2026-11-24";

/// An imported food of 100 g servings (403 kcal, 24.9 protein, 1.3 carbs,
/// 33.1 fat per 100 g) with the portions given as (name, hundredths of g).
fn cheese(fdc_id: u64, name: &str, portions: &[(&str, i64)]) -> ImportedFood {
    let hundredths = Amount::from_hundredths;
    ImportedFood {
        source: FoodSource::Fdc(fdc_id),
        name: name.to_owned(),
        brand: None,
        generic: true,
        barcode: None,
        barcode_rejected: false,
        per_100g: Macros {
            calories: hundredths(40300),
            protein_g: hundredths(2490),
            carbs_g: hundredths(130),
            fat_g: hundredths(3310),
        },
        portions: portions
            .iter()
            .map(|(name, grams)| ImportedPortion { name: (*name).to_owned(), grams: hundredths(*grams) })
            .collect(),
    }
}

/// Imports `foods` (and runs `sql` after, if any) through a connection of
/// its own, closed after.
async fn import(settings: &Settings, foods: &[ImportedFood], sql: Option<&str>) {
    let repo = macrotrack::database(settings).await.expect("the database");
    repo.upsert_imported_foods(foods, Timestamp::new(chrono::Utc::now())).await.unwrap();
    if let Some(sql) = sql {
        sea_orm::ConnectionTrait::execute_unprepared(repo.connection(), sql).await.unwrap();
    }
    repo.connection().close_by_ref().await.unwrap();
}

/// An entry's amount and macros, as one comparable value.
fn measured(entry: &Value) -> Value {
    json!([entry["servings"], entry["grams"], entry["calories"], entry["protein_g"], entry["carbs_g"], entry["fat_g"]])
}

fn food_entry(food: i64, amount: Value) -> Value {
    let mut entry = json!({"date": DAY, "meal": "lunch", "food_id": food});
    entry.as_object_mut().unwrap().extend(amount.as_object().unwrap().clone());
    entry
}

async fn amounts(app: &TestApp, settings: &Settings) {
    import(
        settings,
        &[
            cheese(21, "Cheddar cheese", &[("1 slice", 2800), ("1 cup, diced", 13200)]),
            cheese(22, "Brie", &[("1 oz", 2835)]),
        ],
        // A portion of a food whose serving is not in grams: no import
        // makes one (their servings are 100 g), an operator's edit could.
        Some("UPDATE foods SET serving_unit = 'oz' WHERE source = 'fdc:22'"),
    )
    .await;
    let client = app.client().await;
    let (_, token) = client.user("weigher").await;
    let t = Some(token.as_str());
    let found = imported(&client, t, "fdc:21").await;
    let cheddar = found["id"].as_i64().unwrap();
    let slice = found["portions"][0]["id"].as_i64().unwrap();
    let brie = imported(&client, t, "fdc:22").await;
    let (brie, brie_oz) = (brie["id"].as_i64().unwrap(), brie["portions"][0]["id"].as_i64().unwrap());
    // 40 g servings of 150.46 kcal, 5 protein, 27 carbs, 2.5 fat.
    let oats = client.post("/v1/foods", t, common::oats()).await.ok(201)["id"].as_i64().unwrap();
    let bread = json!({"name": "Bread", "serving_size": 1, "serving_unit": "slice", "calories": 80, "protein_g": 3, "carbs_g": 15, "fat_g": 1});
    let bread = client.post("/v1/foods", t, bread).await.ok(201)["id"].as_i64().unwrap();
    let porridge = client.recipe(t, "Porridge", oats).await;

    let batch = json!({"entries": [
        food_entry(oats, json!({"grams": 100})),
        food_entry(oats, json!({"servings": 1.5})),
        food_entry(oats, json!({"grams": 5000})),
        food_entry(cheddar, json!({"portion_id": slice, "quantity": 2})),
        food_entry(cheddar, json!({"grams": 33.333})),
        food_entry(bread, json!({"servings": 2})),
        {"date": DAY, "meal": "dinner", "recipe_id": porridge, "servings": 1},
    ]});
    let created = client.post("/v1/logs", t, batch).await.ok(201)["entries"].as_array().unwrap().clone();
    // 100 g of a 40 g serving: 2.5 servings, round2(per serving × 100 ÷ 40).
    assert_eq!(measured(&created[0]), json!([2.5, 100.0, 376.15, 12.5, 67.5, 6.25]));
    assert_eq!(created[0]["portion"], json!(null));
    // Servings of a food with grams per serving answer their grams.
    assert_eq!(measured(&created[1]), json!([1.5, 60.0, 225.69, 7.5, 40.5, 3.75]));
    // The servings bound does not limit the servings grams come to.
    assert_eq!(measured(&created[2]), json!([125.0, 5000.0, 18807.5, 625.0, 3375.0, 312.5]));
    // Two slices of 28 g: 56 g of 100 g servings.
    assert_eq!(measured(&created[3]), json!([0.56, 56.0, 225.68, 13.94, 0.73, 18.54]));
    assert_eq!(created[3]["portion"], json!({"id": slice, "name": "1 slice", "quantity": 2.0}));
    // Grams are rounded on entry: 33.33 g.
    assert_eq!(measured(&created[4]), json!([0.33, 33.33, 134.32, 8.3, 0.43, 11.03]));
    // Neither a serving that is not in grams nor a recipe has grams.
    assert_eq!(
        (&created[5]["grams"], &created[6]["grams"], &created[6]["portion"]),
        (&json!(null), &json!(null), &json!(null))
    );
    let logs = client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200);
    let read: Vec<&Value> = logs["entries"].as_array().unwrap().iter().filter(|e| e["meal"] == "lunch").collect();
    assert_eq!(read, created[..6].iter().collect::<Vec<_>>(), "the day reads the entries as created");

    // What cannot be measured is 422 on its field, and the batch writes nothing.
    for (amount, item, field) in [
        (json!({"grams": 10}), json!({"food_id": bread}), "grams"),
        (json!({"grams": 10}), json!({"recipe_id": porridge}), "grams"),
        (json!({"portion_id": slice, "quantity": 1}), json!({"food_id": oats}), "portion_id"),
        (json!({"portion_id": slice, "quantity": 1}), json!({"recipe_id": porridge}), "portion_id"),
        (json!({"portion_id": brie_oz, "quantity": 1}), json!({"food_id": brie}), "portion_id"),
        (json!({}), json!({"food_id": oats}), "servings"),
        (json!({"grams": 5000.01}), json!({"food_id": oats}), "grams"),
        (json!({"grams": 0.004}), json!({"food_id": oats}), "grams"),
        (json!({"portion_id": slice, "quantity": 0}), json!({"food_id": cheddar}), "quantity"),
        (json!({"portion_id": slice, "quantity": 100.01}), json!({"food_id": cheddar}), "quantity"),
        (json!({"portion_id": slice}), json!({"food_id": cheddar}), "quantity"),
        (json!({"quantity": 1, "grams": 10}), json!({"food_id": cheddar}), "quantity"),
    ] {
        let mut bad = food_entry(0, amount.clone());
        bad.as_object_mut().unwrap().remove("food_id");
        bad.as_object_mut().unwrap().extend(item.as_object().unwrap().clone());
        let batch = json!({"entries": [food_entry(oats, json!({"servings": 1})), bad]});
        let errors = client.post("/v1/logs", t, batch).await.problem(422);
        assert_eq!(errors, [format!("entries.1.{field}")], "{amount} of {item}");
    }
    let both = json!({"entries": [food_entry(oats, json!({"servings": 1, "grams": 10}))]});
    assert_eq!(client.post("/v1/logs", t, both).await.problem(422), ["entries.0.servings", "entries.0.grams"]);
    assert_eq!(client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200), logs, "nothing was written");

    // A keyed batch (its answer kept in the write's transaction) measures
    // the same, and its repeat replays it.
    let keyed = |body: Value| {
        actix_web::test::TestRequest::post()
            .uri("/v1/logs")
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("idempotency-key", "amounts-1"))
            .set_json(body)
    };
    let batch = json!({"entries": [{"date": "2026-11-25", "meal": "lunch", "food_id": cheddar, "portion_id": slice, "quantity": 2}]});
    let first = client.send(keyed(batch.clone())).await;
    let kept = first.ok(201)["entries"][0].clone();
    assert_eq!((measured(&kept), &kept["portion"]), (measured(&created[3]), &created[3]["portion"]));
    let again = client.send(keyed(batch)).await;
    assert_eq!((again.header("idempotent-replayed"), &again.text), (Some("true"), &first.text));
    assert_eq!(client.get("/v1/logs?date=2026-11-25", t).await.ok(200)["entries"].as_array().unwrap().len(), 1);

    patches(&client, t, &created, slice).await;
    follows_the_food(&client, t, oats).await;
    outlives_its_portion(&client, settings, t, &created[3], slice).await;
}

async fn patch<S, B>(client: &Client<S>, t: Option<&str>, entry: &Value, body: Value) -> common::Answer
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    client.patch(&format!("/v1/logs/{}", entry["id"]), t, body).await
}

/// The imported food of `source` (the seed has a cheddar too).
async fn imported<S, B>(client: &Client<S>, t: Option<&str>, source: &str) -> Value
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let query = if source == "fdc:21" { "cheddar" } else { "brie" };
    let found = client.get(&format!("/v1/foods?query={query}"), t).await.ok(200);
    found.as_array().unwrap().iter().find(|food| food["source"] == source).cloned().unwrap()
}

async fn day<S, B>(client: &Client<S>, t: Option<&str>) -> Value
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    client.get(&format!("/v1/logs?date={DAY}"), t).await.ok(200)
}

async fn patches<S, B>(client: &Client<S>, t: Option<&str>, created: &[Value], slice: i64)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (by_grams, by_servings, by_portion, recipe) = (&created[0], &created[1], &created[3], &created[6]);
    let bread_entry = &created[5];
    // A cached day answers every change at once.
    let entry_of = |logs: &Value, entry: &Value| {
        logs["entries"].as_array().unwrap().iter().find(|e| e["id"] == entry["id"]).cloned().unwrap()
    };
    day(client, t).await;

    // The quantity alone changes the quantity of an entry logged by portion.
    let half = patch(client, t, by_portion, json!({"quantity": 0.5})).await.ok(200);
    assert_eq!(measured(&half), json!([0.14, 14.0, 56.42, 3.49, 0.18, 4.63]));
    assert_eq!(half["portion"], json!({"id": slice, "name": "1 slice", "quantity": 0.5}));
    assert_eq!(entry_of(&day(client, t).await, by_portion), half);
    // A patch without an amount keeps the amount as it was given.
    let moved = patch(client, t, by_portion, json!({"meal": "snack"})).await.ok(200);
    assert_eq!((measured(&moved), &moved["portion"]), (measured(&half), &half["portion"]));
    let moved = patch(client, t, by_grams, json!({"meal": "snack"})).await.ok(200);
    assert_eq!(measured(&moved), measured(by_grams));

    // Another amount replaces the one given before.
    let grams = patch(client, t, by_servings, json!({"grams": 20})).await.ok(200);
    assert_eq!(measured(&grams), json!([0.5, 20.0, 75.23, 2.5, 13.5, 1.25]));
    let servings = patch(client, t, by_grams, json!({"servings": 2})).await.ok(200);
    assert_eq!(measured(&servings), json!([2.0, 80.0, 300.92, 10.0, 54.0, 5.0]));
    let portion = patch(client, t, &created[4], json!({"portion_id": slice, "quantity": 1})).await.ok(200);
    assert_eq!(measured(&portion), json!([0.28, 28.0, 112.84, 6.97, 0.36, 9.27]));
    let back = patch(client, t, &portion, json!({"grams": 10})).await.ok(200);
    assert_eq!((measured(&back), &back["portion"]), (json!([0.1, 10.0, 40.3, 2.49, 0.13, 3.31]), &json!(null)));
    assert_eq!(entry_of(&day(client, t).await, &back), back);

    // What cannot be measured is 422 on its field, and changes nothing.
    let before = day(client, t).await;
    for (entry, body, field) in [
        (by_grams, json!({"quantity": 1}), "quantity"),
        (recipe, json!({"quantity": 1}), "quantity"),
        (recipe, json!({"grams": 10}), "grams"),
        (recipe, json!({"portion_id": slice, "quantity": 1}), "portion_id"),
        (bread_entry, json!({"grams": 10, "meal": "dinner"}), "grams"),
        (by_grams, json!({"portion_id": slice, "quantity": 1}), "portion_id"),
        (by_portion, json!({"portion_id": slice}), "quantity"),
        (by_portion, json!({"quantity": 0}), "quantity"),
        (by_portion, json!({"servings": 1, "quantity": 2}), "quantity"),
        (by_portion, json!({"grams": 5001, "date": "2026-11-25"}), "grams"),
    ] {
        assert_eq!(patch(client, t, entry, body.clone()).await.problem(422), [field], "{body} on {}", entry["id"]);
    }
    assert_eq!(day(client, t).await, before, "nothing changed");
}

/// Entries keep their snapshot until edited; an edit takes the food as it
/// is now, keeping the grams given (servings follow the new serving), or
/// the servings once the serving is no longer in grams.
async fn follows_the_food<S, B>(client: &Client<S>, t: Option<&str>, oats: i64)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let batch = json!({"entries": [{"date": "2026-11-26", "meal": "lunch", "food_id": oats, "grams": 100}]});
    let logged = client.post("/v1/logs", t, batch).await.ok(201)["entries"][0].clone();
    client.patch(&format!("/v1/foods/{oats}"), t, json!({"serving_size": 50})).await.ok(200);
    let logs = client.get("/v1/logs?date=2026-11-26", t).await.ok(200);
    assert_eq!(logs["entries"][0], logged, "a snapshot");
    let edited = patch(client, t, &logged, json!({"meal": "dinner"})).await.ok(200);
    assert_eq!(measured(&edited), json!([2.0, 100.0, 300.92, 10.0, 54.0, 5.0]));
    client.patch(&format!("/v1/foods/{oats}"), t, json!({"serving_unit": "cup"})).await.ok(200);
    let edited = patch(client, t, &logged, json!({"meal": "lunch"})).await.ok(200);
    assert_eq!(measured(&edited), json!([2.0, null, 300.92, 10.0, 54.0, 5.0]));
    assert_eq!(patch(client, t, &logged, json!({"grams": 10})).await.problem(422), ["grams"]);
}

/// An import that replaces a food's portions leaves the entries logged by
/// them as they were: a new quantity applies to the portion as logged; the
/// old portion named anew is no longer one of the food's.
async fn outlives_its_portion<S, B>(client: &Client<S>, settings: &Settings, t: Option<&str>, entry: &Value, slice: i64)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    import(settings, &[cheese(21, "Cheddar cheese", &[("1 slice", 3000)])], None).await;
    let new_slice = imported(client, t, "fdc:21").await["portions"][0]["id"].as_i64().unwrap();
    assert_ne!(new_slice, slice, "the import replaced the portions");
    let one = patch(client, t, entry, json!({"quantity": 1})).await.ok(200);
    assert_eq!(measured(&one), json!([0.28, 28.0, 112.84, 6.97, 0.36, 9.27]));
    assert_eq!(one["portion"], json!({"id": slice, "name": "1 slice", "quantity": 1.0}));
    assert_eq!(patch(client, t, entry, json!({"portion_id": slice, "quantity": 1})).await.problem(422), ["portion_id"]);
    let new = patch(client, t, entry, json!({"portion_id": new_slice, "quantity": 1})).await.ok(200);
    assert_eq!(measured(&new)[1], json!(30.0));
}
