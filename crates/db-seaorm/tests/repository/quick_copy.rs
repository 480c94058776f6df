//! Quick adds (macros without a food or recipe) and copies of a day or a
//! meal, as `LogRepository` stores them.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{
    Amount, DayCopy, FoodSource, ImportedFood, ImportedPortion, LogAmount, LogEntry, LogEntryPatch, LogItem, Meal,
    NewLogEntry, QuickAdd, QuickChange, validation,
};
use macrotrack_ports::{CatalogueImport, CopyDayError, FoodRepository, LogRepository, UpdateLogError};

use crate::support::*;

fn quick(date: &str, meal: Meal, name: &str, calories: i64) -> NewLogEntry {
    let item = LogItem::Quick(QuickAdd { name: name.to_owned(), macros: macros(calories, 1000, 2000, 300) });
    NewLogEntry { date: day(date), meal, item, amount: LogAmount::Servings(Amount::ONE) }
}

/// What a copy keeps of its source: everything but id, date, meal and times.
fn as_logged(entry: &LogEntry) -> impl PartialEq + std::fmt::Debug {
    (
        entry.food_id,
        entry.recipe_id,
        entry.name.clone(),
        entry.servings,
        entry.grams,
        entry.portion.clone(),
        entry.macros,
    )
}

pub async fn a_quick_add_logs_its_macros_as_one_serving_and_counts_no_use(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let oats = own_food(repo, alice.id, "Oats", macros(38900, 1690, 6630, 690)).await;
    let batch = [
        quick("2026-11-24", Meal::Snack, "Latte", 19000),
        entry("2026-11-24", Meal::Lunch, LogItem::Food(oats.id), 100),
    ];
    let created = repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value;
    let latte = &created[0];
    assert_eq!((latte.food_id, latte.recipe_id, latte.name.as_str()), (None, None, "Latte"));
    assert_eq!((latte.servings, latte.grams, latte.portion.clone()), (Amount::ONE, None, None));
    assert_eq!(latte.macros, macros(19000, 1000, 2000, 300));
    assert_eq!(uses(repo, alice.id, oats.id).await, Some(1), "the food entry only");
    assert_eq!(count_where(repo, "food_uses", "user_id", alice.id.0).await, 1);
    let logs = repo.day_logs(alice.id, day("2026-11-24")).await.unwrap();
    assert_eq!(logs.entries.iter().find(|entry| entry.id == latte.id), Some(latte));
    assert_eq!(logs.totals.calories, hundredths(19000 + 38900));
    assert!(logs.check().is_ok(), "{:?}", logs.check());

    // New macros; no name: the entry keeps its own.
    let change = QuickChange { name: None, macros: macros(25000, 1200, 2400, 800) };
    let patch = LogEntryPatch { quick: Some(change), meal: Some(Meal::Breakfast), ..LogEntryPatch::default() };
    let (_, after) = repo.update_log_entry(alice.id, latte.id, patch, now()).await.unwrap().unwrap().value;
    assert_eq!((after.name.as_str(), after.meal, after.servings), ("Latte", Meal::Breakfast, Amount::ONE));
    assert_eq!(after.macros, macros(25000, 1200, 2400, 800));
    let renamed = QuickChange { name: Some("Flat white".into()), macros: macros(12000, 0, 0, 0) };
    let patch = LogEntryPatch { quick: Some(renamed), ..LogEntryPatch::default() };
    let (_, renamed) = repo.update_log_entry(alice.id, latte.id, patch, now()).await.unwrap().unwrap().value;
    assert_eq!((renamed.name.as_str(), renamed.macros.calories), ("Flat white", hundredths(12000)));
    // A date or meal alone keeps the macros.
    let patch = LogEntryPatch { date: Some(day("2026-11-25")), ..LogEntryPatch::default() };
    let (_, moved) = repo.update_log_entry(alice.id, latte.id, patch, now()).await.unwrap().unwrap().value;
    assert_eq!((moved.date, moved.macros, moved.name.as_str()), (day("2026-11-25"), renamed.macros, "Flat white"));

    // An amount on a quick add, and quick macros on a food entry: refused, nothing changes.
    let servings = LogEntryPatch {
        amount: Some(macrotrack_domain::AmountChange::To(LogAmount::Servings(hundredths(200)))),
        ..LogEntryPatch::default()
    };
    let refused = repo.update_log_entry(alice.id, latte.id, servings, now()).await;
    assert!(matches!(refused, Err(UpdateLogError::QuickAmount("servings"))), "{refused:?}");
    let not_quick = LogEntryPatch { quick: Some(QuickChange::default()), ..LogEntryPatch::default() };
    let refused = repo.update_log_entry(alice.id, created[1].id, not_quick, now()).await;
    assert!(matches!(refused, Err(UpdateLogError::NotQuick)), "{refused:?}");
    assert_eq!(repo.log_entry(alice.id, latte.id).await.unwrap(), Some(moved));
    assert_eq!(repo.log_entry(alice.id, created[1].id).await.unwrap().as_ref(), Some(&created[1]));

    let deleted = repo.delete_log_entry(alice.id, latte.id).await.unwrap().unwrap().value;
    assert_eq!(deleted.id, latte.id);
    assert_eq!(uses(repo, alice.id, oats.id).await, Some(1), "deleting a quick add takes no use back");
}

pub async fn a_copy_keeps_each_entry_as_logged_in_the_days_order(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let bar = repo.create_food(alice.id, &bar("Protein bar")).await.unwrap().value;
    let porridge = porridge(repo, alice.id).await;
    let milk = ImportedFood {
        source: FoodSource::Fdc(171265),
        name: "Milk, whole, 3.25% milkfat".into(),
        brand: None,
        generic: true,
        barcode: None,
        barcode_rejected: false,
        per_100g: macros(6100, 315, 480, 325),
        portions: vec![ImportedPortion { name: "1 cup".into(), grams: hundredths(24400) }],
    };
    repo.upsert_imported_foods(&[milk], now()).await.unwrap();
    let milk = global_food(repo, "Milk, whole, 3.25% milkfat").await;
    let milk = repo.food(alice.id, milk).await.unwrap().expect("an imported food is visible");
    let cup = milk.portions[0].id;
    let from = "2026-11-24";
    let batch = [
        entry(from, Meal::Dinner, LogItem::Recipe(porridge.id), 150),
        NewLogEntry {
            date: day(from),
            meal: Meal::Breakfast,
            item: LogItem::Food(milk.id),
            amount: LogAmount::Portion { id: cup, quantity: hundredths(150) },
        },
        quick(from, Meal::Snack, "Latte", 19000),
        NewLogEntry {
            date: day(from),
            meal: Meal::Breakfast,
            item: LogItem::Food(bar.id),
            amount: LogAmount::Grams(hundredths(9000)),
        },
    ];
    let sources = repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value;
    // Bob's entries on the same day are not Alice's to copy.
    repo.create_log_entries(bob.id, &[quick(from, Meal::Breakfast, "Bob's", 100)], now()).await.unwrap();
    let source_day = repo.day_logs(alice.id, day(from)).await.unwrap();

    let whole = DayCopy::parse(day(from), day("2026-11-30"), None, None).unwrap();
    let copies = repo.copy_day(alice.id, whole, now(), None).await.unwrap().value;
    let kept: Vec<_> = copies.iter().map(as_logged).collect();
    let expected: Vec<_> = source_day.entries.iter().map(as_logged).collect();
    assert_eq!(kept, expected, "every entry as it was logged, in the day's order");
    assert!(copies.iter().all(|copy| copy.date == day("2026-11-30")));
    let meals: Vec<Meal> = copies.iter().map(|copy| copy.meal).collect();
    assert_eq!(meals, [Meal::Breakfast, Meal::Breakfast, Meal::Dinner, Meal::Snack]);
    assert!(copies.windows(2).all(|pair| pair[0].id < pair[1].id), "ids grow in the day's order");
    assert!(copies.iter().all(|copy| sources.iter().all(|source| source.id != copy.id)));
    let copied_day = repo.day_logs(alice.id, day("2026-11-30")).await.unwrap();
    assert_eq!(copied_day.entries, copies);
    assert_eq!(copied_day.totals, source_day.totals);
    assert_eq!(uses(repo, alice.id, bar.id).await, Some(2), "a copied food entry is a use");
    assert_eq!(uses(repo, alice.id, milk.id).await, Some(2));
    assert_eq!(repo.day_logs(alice.id, day(from)).await.unwrap(), source_day, "the source is untouched");

    // A copy of a portion's entry is measured by the portion it was logged
    // by: a later quantity applies to that portion's grams.
    let milk_copy = copies.iter().find(|copy| copy.food_id == Some(milk.id)).unwrap();
    let quantity = LogEntryPatch {
        amount: Some(macrotrack_domain::AmountChange::Quantity(hundredths(300))),
        ..LogEntryPatch::default()
    };
    let (_, doubled) = repo.update_log_entry(alice.id, milk_copy.id, quantity, now()).await.unwrap().unwrap().value;
    assert_eq!(doubled.grams, Some(hundredths(73200)), "3 cups of 244 g");

    // One meal into another, on the same day.
    let breakfast = DayCopy::parse(day(from), day(from), Some(Meal::Breakfast), Some(Meal::Lunch)).unwrap();
    let lunch = repo.copy_day(alice.id, breakfast, now(), None).await.unwrap().value;
    assert_eq!(lunch.len(), 2);
    assert!(lunch.iter().all(|copy| copy.meal == Meal::Lunch && copy.date == day(from)));
    let from_breakfast: Vec<_> =
        source_day.entries.iter().filter(|entry| entry.meal == Meal::Breakfast).map(as_logged).collect();
    assert_eq!(lunch.iter().map(as_logged).collect::<Vec<_>>(), from_breakfast);
}

pub async fn a_copy_with_nothing_to_copy_or_past_the_days_bound_writes_nothing(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let from = "2026-11-24";
    let batch: Vec<_> = (0..3).map(|n| quick(from, Meal::Lunch, "Soup", 100 * n)).collect();
    repo.create_log_entries(alice.id, &batch, now()).await.unwrap();
    let outbox_before = count_all(repo, "cache_outbox").await;

    let empty_day = DayCopy::parse(day("2026-11-23"), day("2026-11-25"), None, None).unwrap();
    assert!(matches!(repo.copy_day(alice.id, empty_day, now(), None).await, Err(CopyDayError::Nothing)));
    let empty_meal = DayCopy::parse(day(from), day("2026-11-25"), Some(Meal::Dinner), None).unwrap();
    assert!(matches!(repo.copy_day(alice.id, empty_meal, now(), None).await, Err(CopyDayError::Nothing)));

    // The day copied to holds all but two of its bound: three do not fit.
    let to = "2026-11-26";
    let room = validation::MAX_DAY_ENTRIES as i64 - 2;
    for chunk in (0..room).collect::<Vec<_>>().chunks(validation::MAX_BATCH) {
        let fill: Vec<_> = chunk.iter().map(|n| quick(to, Meal::Snack, "Filler", *n)).collect();
        repo.create_log_entries(alice.id, &fill, now()).await.unwrap();
    }
    let outbox_filled = count_all(repo, "cache_outbox").await;
    let full = DayCopy::parse(day(from), day(to), None, None).unwrap();
    assert!(matches!(repo.copy_day(alice.id, full, now(), None).await, Err(CopyDayError::DayFull)));
    assert_eq!(repo.day_logs(alice.id, day(to)).await.unwrap().entries.len() as i64, room, "nothing of it was written");
    assert_eq!(count_all(repo, "cache_outbox").await, outbox_filled, "and no outbox row");
    assert!(outbox_filled > outbox_before);
    // Two fit exactly: one lunch less to copy.
    let lunch = repo.day_logs(alice.id, day(from)).await.unwrap().entries[0].id;
    repo.delete_log_entry(alice.id, lunch).await.unwrap();
    assert_eq!(repo.copy_day(alice.id, full, now(), None).await.unwrap().value.len(), 2);
    let to_day = repo.day_logs(alice.id, day(to)).await.unwrap();
    assert_eq!(to_day.entries.len() as u32, validation::MAX_DAY_ENTRIES);
    // A full day copies whole: one statement of as many rows as a day holds.
    let whole = DayCopy::parse(day(to), day("2026-11-27"), None, None).unwrap();
    let copies = repo.copy_day(alice.id, whole, now(), None).await.unwrap().value;
    assert_eq!(copies.len() as u32, validation::MAX_DAY_ENTRIES);
    assert_eq!(repo.day_logs(alice.id, day("2026-11-27")).await.unwrap().totals, to_day.totals);
}
