//! Behaviours of the catalogue import's writes (`CatalogueImport`).

use chrono::{DateTime, Duration, Utc};
use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{
    FoodId, FoodOwner, FoodSource, Gtin, ImportedFood, ImportedPortion, LogAmount, LogItem, Macros, Meal, Timestamp,
    fold, search_text,
};
use macrotrack_ports::{CatalogueImport, FoodRepository, ImportCounts, LogRepository, UserRepository};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::support::*;

fn imported(fdc_id: u64, name: &str) -> ImportedFood {
    ImportedFood {
        source: FoodSource::Fdc(fdc_id),
        name: name.to_owned(),
        brand: None,
        generic: true,
        barcode: None,
        barcode_rejected: false,
        per_100g: macros(39300, 240, 290, 4100),
        portions: vec![portion("1 tbsp", 1500), portion("0.5 cup", 11500)],
    }
}

fn portion(name: &str, grams: i64) -> ImportedPortion {
    ImportedPortion { name: name.to_owned(), grams: hundredths(grams) }
}

fn counts(imported: u64, updated: u64, unchanged: u64) -> ImportCounts {
    ImportCounts { imported, updated, unchanged }
}

/// An import's time, `hours` after the first one.
fn at(hours: i64) -> Timestamp {
    let first = DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z").unwrap().with_timezone(&Utc);
    Timestamp::new(first + Duration::hours(hours))
}

/// What the import wrote of the food stored under `source`.
#[derive(Debug, PartialEq)]
struct Row {
    id: i64,
    name: String,
    brand: Option<String>,
    generic: bool,
    barcode: Option<String>,
    imported_at: DateTime<Utc>,
    search_folded: String,
    /// (id, position, name, hundredths of grams), by position.
    portions: Vec<(i64, i32, String, i64)>,
}

async fn rows(repo: &SeaOrmRepository, sql: &str) -> Vec<sea_orm::QueryResult> {
    let db = repo.connection();
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap()
}

async fn row(repo: &SeaOrmRepository, source: &str) -> Option<Row> {
    let sql = format!(
        "SELECT id, name, brand, generic, barcode, imported_at, search_folded FROM foods WHERE source = '{source}'"
    );
    let found = rows(repo, &sql).await.into_iter().next()?;
    let id: i64 = found.try_get_by_index(0).unwrap();
    let portions = rows(
        repo,
        &format!("SELECT id, position, name, grams FROM food_portions WHERE food_id = {id} ORDER BY position"),
    )
    .await
    .iter()
    .map(|p| {
        (
            p.try_get_by_index(0).unwrap(),
            p.try_get_by_index(1).unwrap(),
            p.try_get_by_index(2).unwrap(),
            p.try_get_by_index(3).unwrap(),
        )
    })
    .collect();
    Some(Row {
        id,
        name: found.try_get_by_index(1).unwrap(),
        brand: found.try_get_by_index(2).unwrap(),
        generic: found.try_get_by_index(3).unwrap(),
        barcode: found.try_get_by_index(4).unwrap(),
        imported_at: found.try_get_by_index(5).unwrap(),
        search_folded: found.try_get_by_index(6).unwrap(),
        portions,
    })
}

pub async fn an_import_adds_global_foods_and_the_same_batch_again_writes_nothing(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let mut branded = imported(2700001, "PEANUT BUTTER, CREAMY");
    branded.brand = Some("Jif".into());
    branded.generic = false;
    branded.barcode = Some(Gtin::parse("051500255162").unwrap());
    branded.portions = vec![portion("2 Tbsp", 3200)];
    let batch = [imported(171705, "Crème fraîche"), branded];
    let globals_before = global_foods(repo).await.len();

    assert_eq!(repo.upsert_imported_foods(&batch, at(0)).await.unwrap(), counts(2, 0, 0));
    assert_eq!(global_foods(repo).await.len(), globals_before + 2);
    let creme = row(repo, "fdc:171705").await.unwrap();
    assert_eq!((creme.name.as_str(), creme.generic, creme.barcode.as_deref()), ("Crème fraîche", true, None));
    assert_eq!(creme.search_folded, "creme fraiche");
    assert_eq!(creme.imported_at, at(0).instant());
    let portions: Vec<_> =
        creme.portions.iter().map(|(_, position, name, grams)| (*position, name.as_str(), *grams)).collect();
    assert_eq!(portions, [(0, "1 tbsp", 1500), (1, "0.5 cup", 11500)]);
    let jif = row(repo, "fdc:2700001").await.unwrap();
    assert_eq!((jif.brand.as_deref(), jif.generic), (Some("Jif"), false));
    assert_eq!(jif.barcode.as_deref(), Some("00051500255162"));
    assert_eq!(jif.search_folded, "peanut butter, creamy jif");

    // Read as any global food: 100 g servings, macros per 100 g, and found
    // by today's search.
    let food = repo.food(alice.id, FoodId(creme.id)).await.unwrap().expect("visible to every user");
    assert_eq!(food.owner, FoodOwner::Global);
    assert_eq!((food.serving_size, food.serving_unit.as_str()), (hundredths(10000), "g"));
    assert_eq!(food.per_serving, macros(39300, 240, 290, 4100));
    let found = repo.search_foods(alice.id, "crème", 10).await.unwrap();
    assert_eq!(found.iter().map(|food| food.id).collect::<Vec<_>>(), [FoodId(creme.id)]);

    // The same batch later: nothing is written, not even the time stamp.
    assert_eq!(repo.upsert_imported_foods(&batch, at(1)).await.unwrap(), counts(0, 0, 2));
    assert_eq!(row(repo, "fdc:171705").await.unwrap(), creme);
    assert_eq!(row(repo, "fdc:2700001").await.unwrap(), jif);
    assert_eq!(global_foods(repo).await.len(), globals_before + 2);
}

pub async fn a_later_release_updates_what_changed_in_place_and_deletes_nothing(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let first = [imported(1, "Milk, whole"), imported(2, "Egg, whole, fried"), imported(3, "Butter")];
    repo.upsert_imported_foods(&first, at(0)).await.unwrap();
    let [milk, egg, butter] =
        [row(repo, "fdc:1").await.unwrap(), row(repo, "fdc:2").await.unwrap(), row(repo, "fdc:3").await.unwrap()];
    let lunch = entry("2026-12-06", Meal::Lunch, LogItem::Food(FoodId(milk.id)), 100);
    let logged = repo.create_log_entries(alice.id, &[lunch], now()).await.unwrap();

    // Milk's macros change (its portions do not), the egg gains a portion,
    // honey (4) is new and butter (3) is absent.
    let mut milk_v2 = imported(1, "Milk, whole");
    milk_v2.per_100g = macros(6100, 315, 480, 325);
    let mut egg_v2 = imported(2, "Egg, whole, fried");
    egg_v2.portions.push(portion("1 large", 4600));
    let second = [milk_v2, egg_v2, imported(4, "Honey")];
    assert_eq!(repo.upsert_imported_foods(&second, at(1)).await.unwrap(), counts(1, 2, 0));

    let milk_now = row(repo, "fdc:1").await.unwrap();
    assert_eq!(milk_now.id, milk.id, "updated in place: log entries keep pointing at it");
    assert_eq!(milk_now.imported_at, at(1).instant());
    assert_eq!(milk_now.portions, milk.portions, "portions that did not change keep their ids");
    let food = repo.food(alice.id, FoodId(milk.id)).await.unwrap().unwrap();
    assert_eq!(food.per_serving, macros(6100, 315, 480, 325));
    assert_eq!(
        repo.day_logs(alice.id, day("2026-12-06")).await.unwrap().entries,
        logged.value,
        "entries keep their snapshot"
    );

    let egg_now = row(repo, "fdc:2").await.unwrap();
    assert_eq!((egg_now.id, egg_now.portions.len()), (egg.id, 3));
    assert!(egg_now.portions.iter().all(|portion| !egg.portions.contains(portion)), "changed portions are replaced");
    assert_eq!(row(repo, "fdc:3").await.unwrap(), butter, "absent from the release, kept as it was");
    assert!(row(repo, "fdc:4").await.is_some());

    // Renamed and rebranded: the folded search text follows.
    let mut renamed = imported(4, "Honey, raw");
    renamed.brand = Some("Ruche Dorée".into());
    assert_eq!(repo.upsert_imported_foods(&[renamed], at(2)).await.unwrap(), counts(0, 1, 0));
    assert_eq!(row(repo, "fdc:4").await.unwrap().search_folded, "honey, raw ruche doree");
}

pub async fn a_source_given_twice_in_a_batch_is_applied_in_order(repo: &SeaOrmRepository) {
    let v1 = imported(7, "Oats");
    let mut v2 = imported(7, "Oats, rolled");
    v2.portions.clear();
    let batch = [v1.clone(), imported(8, "Rye"), v1.clone(), v2.clone()];
    // New, new, then the same again (unchanged), then a change.
    assert_eq!(repo.upsert_imported_foods(&batch, at(0)).await.unwrap(), counts(2, 1, 1));
    let oats = row(repo, "fdc:7").await.unwrap();
    assert_eq!((oats.name.as_str(), oats.portions.len()), ("Oats, rolled", 0));
    let one_row = rows(repo, "SELECT COUNT(*) FROM foods WHERE source = 'fdc:7'").await;
    assert_eq!(one_row[0].try_get_by_index::<i64>(0).unwrap(), 1);
}

/// A trigger that refuses a portion named `name`, inside the database.
async fn refuse_portions_named(repo: &SeaOrmRepository, name: &str) {
    let db = repo.connection();
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => format!(
            "CREATE TRIGGER refuse_portion BEFORE INSERT ON food_portions WHEN NEW.name = '{name}' \
             BEGIN SELECT RAISE(ABORT, 'planned failure'); END"
        ),
        _ => format!(
            "CREATE FUNCTION refuse_portion() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.name = '{name}' THEN RAISE EXCEPTION 'planned failure'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER refuse_portion BEFORE INSERT ON food_portions FOR EACH ROW EXECUTE FUNCTION refuse_portion();"
        ),
    };
    db.execute_unprepared(&sql).await.unwrap();
}

pub async fn a_batch_that_fails_writes_nothing_and_a_rerun_finishes_it(repo: &SeaOrmRepository) {
    repo.upsert_imported_foods(&[imported(1, "Milk")], at(0)).await.unwrap();
    let milk = row(repo, "fdc:1").await.unwrap();
    refuse_portions_named(repo, "boom").await;
    let mut changed = imported(1, "Milk");
    changed.portions = vec![portion("1 glass", 25000)];
    let mut failing = imported(3, "Cheese");
    failing.portions = vec![portion("boom", 100)];
    let batch = [changed.clone(), imported(2, "Bread"), failing];
    assert!(repo.upsert_imported_foods(&batch, at(1)).await.is_err());
    assert_eq!(row(repo, "fdc:1").await.unwrap(), milk, "the change was rolled back");
    assert!(row(repo, "fdc:2").await.is_none() && row(repo, "fdc:3").await.is_none());

    let mut fixed = batch.clone();
    fixed[2].portions = vec![portion("1 slice", 2800)];
    assert_eq!(repo.upsert_imported_foods(&fixed, at(2)).await.unwrap(), counts(2, 1, 0));
    assert_eq!(row(repo, "fdc:1").await.unwrap().portions[0].2, "1 glass");
}

pub async fn batches_larger_than_a_statement_are_written_whole(repo: &SeaOrmRepository) {
    // 2,500 foods with three portions each: more rows than one INSERT of
    // foods (500) or portions (2,000) holds, more keys than one IN list.
    let batch: Vec<ImportedFood> = (0..2500)
        .map(|n| {
            let mut food = imported(n, &format!("Food {n}"));
            food.portions.push(portion("1 piece", 100 + n as i64));
            food.barcode = Some(Gtin::parse("96385074").unwrap());
            food
        })
        .collect();
    assert_eq!(repo.upsert_imported_foods(&batch, at(0)).await.unwrap(), counts(2500, 0, 0));
    assert_eq!(count_all(repo, "food_portions").await, 7500);
    let shared = rows(repo, "SELECT COUNT(*) FROM foods WHERE barcode = '00000096385074'").await;
    assert_eq!(shared[0].try_get_by_index::<i64>(0).unwrap(), 2500, "a barcode may be on many foods");
    assert_eq!(row(repo, "fdc:2499").await.unwrap().portions[2].3, 2599);

    let mut again = batch.clone();
    again[1234].per_100g = Macros { calories: hundredths(1), ..again[1234].per_100g };
    assert_eq!(repo.upsert_imported_foods(&again, at(1)).await.unwrap(), counts(0, 1, 2499));
    assert_eq!(count_all(repo, "food_portions").await, 7500);
}

pub async fn the_seed_is_generic_and_folded_as_the_domain_folds(repo: &SeaOrmRepository) {
    let seeded =
        rows(repo, "SELECT name, brand, generic, search_folded, source FROM foods WHERE owner_user_id IS NULL").await;
    assert!(seeded.len() >= 30);
    for food in seeded {
        let name: String = food.try_get_by_index(0).unwrap();
        let brand: Option<String> = food.try_get_by_index(1).unwrap();
        assert!(food.try_get_by_index::<bool>(2).unwrap(), "{name} is generic");
        let folded: String = food.try_get_by_index(3).unwrap();
        assert_eq!(folded, search_text(&name, brand.as_deref()), "the migration folds as the domain does");
        assert_eq!(fold(&name), folded);
        assert_eq!(food.try_get_by_index::<Option<String>>(4).unwrap(), None);
    }
    // A user's food is not generic and has no source.
    let alice = user(repo, "alice").await;
    let own = repo.create_food(alice.id, &bar("Alice's bar")).await.unwrap().value;
    let sql = format!("SELECT generic, source FROM foods WHERE id = {}", own.id.0);
    let found = &rows(repo, &sql).await[0];
    assert!(!found.try_get_by_index::<bool>(0).unwrap());
    assert_eq!(found.try_get_by_index::<Option<String>>(1).unwrap(), None);
}

/// The generation moves once per import that changed anything, at its end,
/// and a batch's changes, once committed, are bumped by the next finish
/// even when that import's own batches change nothing (an interrupted one).
pub async fn the_generation_moves_once_after_batches_that_changed_the_catalogue(repo: &SeaOrmRepository) {
    let start = repo.catalogue_generation().await.unwrap();
    assert_eq!(repo.finish_import().await.unwrap(), None, "nothing marked: no bump");
    repo.upsert_imported_foods(&[imported(7001, "Oat bran")], at(0)).await.unwrap();
    repo.upsert_imported_foods(&[imported(7002, "Rice bran")], at(0)).await.unwrap();
    assert_eq!(repo.catalogue_generation().await.unwrap(), start, "batches alone move nothing");
    assert_eq!(repo.finish_import().await.unwrap(), Some(start + 1), "one bump for both batches");
    assert_eq!(repo.finish_import().await.unwrap(), None, "the mark was cleared with the bump");
    // The same foods again: unchanged, unmarked.
    repo.upsert_imported_foods(&[imported(7001, "Oat bran")], at(1)).await.unwrap();
    assert_eq!(repo.finish_import().await.unwrap(), None);
    // An import interrupted after a changing batch: the next run, changing
    // nothing itself, bumps.
    repo.upsert_imported_foods(&[imported(7001, "Oat bran, raw")], at(2)).await.unwrap();
    repo.upsert_imported_foods(&[imported(7001, "Oat bran, raw")], at(3)).await.unwrap();
    assert_eq!(repo.finish_import().await.unwrap(), Some(start + 2));
    assert_eq!(repo.catalogue_generation().await.unwrap(), start + 2);
}

/// The two halves of a search: the user's own and logged foods (most uses
/// first), and the catalogue's global foods alone, ranked without them.
pub async fn a_search_splits_into_the_users_part_and_the_catalogues(repo: &SeaOrmRepository) {
    let alice = repo.create_user("alice", "sel-split-a", [1; 32]).await.unwrap();
    let bob = repo.create_user("bob", "sel-split-b", [2; 32]).await.unwrap();
    repo.upsert_imported_foods(&[imported(7101, "Bran flakes"), imported(7102, "Bran muffin")], at(0)).await.unwrap();
    let catalogue = repo.search_catalogue("bran", 10).await.unwrap();
    let names: Vec<&str> = catalogue.iter().map(|food| food.name.as_str()).collect();
    assert_eq!(names, ["Bran flakes", "Bran muffin"]);
    assert!(catalogue.iter().all(|food| food.owner == FoodOwner::Global));
    let own = repo.create_food(alice.id, &bar("Bran bar")).await.unwrap().value;
    let muffin = catalogue[1].id;
    let log = |food: FoodId| macrotrack_domain::NewLogEntry {
        date: "2026-11-24".parse().unwrap(),
        meal: Meal::Lunch,
        item: LogItem::Food(food),
        amount: LogAmount::Servings(hundredths(100)),
    };
    let now = Timestamp::new(Utc::now());
    repo.create_log_entries(alice.id, &[log(muffin), log(muffin)], now).await.unwrap();
    let alices = repo.search_own_foods(alice.id, "bran", 10).await.unwrap();
    assert_eq!(alices.iter().map(|food| food.id).collect::<Vec<_>>(), [muffin, own.id], "most uses first");
    assert!(repo.search_own_foods(bob.id, "bran", 10).await.unwrap().is_empty(), "never another user's");
    assert_eq!(repo.search_catalogue("bran", 10).await.unwrap(), catalogue, "the catalogue's part is no user's");
    let merged = repo.search_foods(alice.id, "bran", 10).await.unwrap();
    assert_eq!(merged.iter().map(|food| food.id).collect::<Vec<_>>(), [muffin, own.id, catalogue[0].id]);
}
