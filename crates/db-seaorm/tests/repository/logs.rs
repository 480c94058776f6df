//! Behaviours of log batches and day logs.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_db_seaorm::entities::day_completion;
use macrotrack_domain::{FoodId, LogAmount, LogEntry, LogItem, Meal, RecipeId};
use macrotrack_ports::{CreateLogsError, FoodRepository, LogRepository};
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;

use crate::support::*;

pub async fn batch_snapshots_macros_in_input_order_and_counts_uses(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let bar = repo.create_food(alice.id, &bar("Protein bar")).await.unwrap().value;
    let oats = global_food(repo, "Oats, rolled").await;
    let now = now();
    let batch = [
        entry("2026-11-24", Meal::Dinner, LogItem::Food(bar.id), 150),
        entry("2026-11-24", Meal::Breakfast, LogItem::Food(oats), 200),
        entry("2026-11-25", Meal::Snack, LogItem::Food(bar.id), 100),
    ];
    let created = repo.create_log_entries(alice.id, &batch, now).await.unwrap().value;

    assert_eq!(created.len(), 3);
    for (entry, input) in created.iter().zip(&batch) {
        assert_eq!(
            (entry.date, entry.meal, LogAmount::Servings(entry.servings)),
            (input.date, input.meal, input.amount)
        );
        assert_eq!((entry.created_at, entry.updated_at, entry.recipe_id), (now, now, None));
    }
    assert!(created.windows(2).all(|pair| pair[0].id < pair[1].id), "ids follow the input order");
    assert_eq!(created[0].food_id, Some(bar.id));
    assert_eq!(created[0].name, "Protein bar");
    // 52.13 × 1.5 = 78.195 → 78.20; 3.33 × 1.5 = 4.995 → 5.00; 0.01 × 1.5 → 0.02.
    assert_eq!(created[0].macros, macros(7820, 500, 2, 0));
    assert_eq!(created[1].food_id, Some(oats));
    assert_eq!(created[1].name, "Oats, rolled");
    assert_eq!(created[1].macros, macros(75800, 2630, 13540, 1304)); // 379 kcal, 13.15/67.7/6.52 g × 2
    assert_eq!(created[2].macros, macros(5213, 333, 1, 0));

    assert_eq!(uses(repo, alice.id, bar.id).await, Some(2));
    assert_eq!(uses(repo, alice.id, oats).await, Some(1));
    repo.create_log_entries(alice.id, &[entry("2026-11-26", Meal::Lunch, LogItem::Food(bar.id), 50)], now)
        .await
        .unwrap();
    assert_eq!(uses(repo, alice.id, bar.id).await, Some(3));
    assert_eq!(uses(repo, bob.id, oats).await, None);

    // What was written reads back identically (timestamps to the microsecond).
    let logs = repo.day_logs(alice.id, day("2026-11-24")).await.unwrap();
    assert_eq!(logs.entries, vec![created[1].clone(), created[0].clone()]);
    assert_eq!(logs.totals, macros(83620, 3130, 13542, 1304));
}

pub async fn batch_with_an_unknown_item_writes_nothing(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bar = repo.create_food(alice.id, &bar("Protein bar")).await.unwrap().value;
    let oats = global_food(repo, "Oats, rolled").await;
    let date = "2026-11-24";

    let batch = [
        entry(date, Meal::Lunch, LogItem::Food(bar.id), 100),
        entry(date, Meal::Dinner, LogItem::Food(FoodId(999_999)), 100),
    ];
    let error = repo.create_log_entries(alice.id, &batch, now()).await.unwrap_err();
    assert!(matches!(error, CreateLogsError::UnknownFood { index: 1 }), "{error:?}");

    let batch = [
        entry(date, Meal::Lunch, LogItem::Food(oats), 100),
        entry(date, Meal::Dinner, LogItem::Recipe(RecipeId(1)), 100),
    ];
    let error = repo.create_log_entries(alice.id, &batch, now()).await.unwrap_err();
    assert!(matches!(error, CreateLogsError::UnknownRecipe { index: 1 }), "{error:?}");

    assert!(repo.day_logs(alice.id, day(date)).await.unwrap().entries.is_empty());
    assert_eq!(uses(repo, alice.id, bar.id).await, None);
    assert_eq!(uses(repo, alice.id, oats).await, None);

    // The failed batches left no transaction or lock behind.
    repo.create_log_entries(alice.id, &[entry(date, Meal::Lunch, LogItem::Food(bar.id), 100)], now()).await.unwrap();
    assert_eq!(repo.day_logs(alice.id, day(date)).await.unwrap().entries.len(), 1);
    assert_eq!(uses(repo, alice.id, bar.id).await, Some(1));
}

pub async fn another_users_food_in_a_batch_is_unknown(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let bobs = repo.create_food(bob.id, &bar("Bob's bar")).await.unwrap().value;
    let oats = global_food(repo, "Oats, rolled").await;
    let date = "2026-11-24";

    let error = repo
        .create_log_entries(alice.id, &[entry(date, Meal::Snack, LogItem::Food(bobs.id), 100)], now())
        .await
        .unwrap_err();
    assert!(matches!(error, CreateLogsError::UnknownFood { index: 0 }), "{error:?}");
    let batch =
        [entry(date, Meal::Breakfast, LogItem::Food(oats), 100), entry(date, Meal::Snack, LogItem::Food(bobs.id), 100)];
    let error = repo.create_log_entries(alice.id, &batch, now()).await.unwrap_err();
    assert!(matches!(error, CreateLogsError::UnknownFood { index: 1 }), "{error:?}");

    assert!(repo.day_logs(alice.id, day(date)).await.unwrap().entries.is_empty());
    assert_eq!(uses(repo, alice.id, bobs.id).await, None);
    assert_eq!(uses(repo, alice.id, oats).await, None);
    // Bob himself may log it.
    repo.create_log_entries(bob.id, &[entry(date, Meal::Snack, LogItem::Food(bobs.id), 100)], now()).await.unwrap();
}

/// What an export reads: a range's entries, by date, then meal, then id,
/// the user's only, the range's ends included.
pub async fn entries_between_are_in_day_order(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let oats = LogItem::Food(global_food(repo, "Oats, rolled").await);
    let batch = [
        entry("2026-11-25", Meal::Breakfast, oats.clone(), 100),
        entry("2026-11-24", Meal::Snack, oats.clone(), 100),
        entry("2026-11-23", Meal::Lunch, oats.clone(), 100),
        entry("2026-11-24", Meal::Breakfast, oats.clone(), 100),
        entry("2026-11-24", Meal::Snack, oats.clone(), 50),
        entry("2026-11-26", Meal::Breakfast, oats.clone(), 100),
    ];
    let written = repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value;
    repo.create_log_entries(bob.id, &[entry("2026-11-24", Meal::Breakfast, oats.clone(), 100)], now()).await.unwrap();
    let read = repo.entries_between(alice.id, day("2026-11-24"), day("2026-11-25")).await.unwrap();
    let ids: Vec<_> = read.iter().map(|entry| entry.id).collect();
    assert_eq!(ids, [written[3].id, written[1].id, written[4].id, written[0].id]);
    assert_eq!(read[0], written[3], "entries as they were written");
    assert!(repo.entries_between(alice.id, day("2026-11-27"), day("2026-12-31")).await.unwrap().is_empty());
}

pub async fn day_logs_order_by_meal_then_id_and_filter_by_user_and_date(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let bar = repo.create_food(alice.id, &bar("Protein bar")).await.unwrap().value;
    let oats = LogItem::Food(global_food(repo, "Oats, rolled").await);
    let bar = LogItem::Food(bar.id);
    let (d, next) = ("2026-11-24", "2026-11-25");
    let mut written: Vec<LogEntry> = Vec::new();
    for batch in [
        vec![entry(d, Meal::Snack, oats.clone(), 100), entry(d, Meal::Dinner, bar.clone(), 100)],
        vec![entry(d, Meal::Breakfast, bar.clone(), 100), entry(next, Meal::Lunch, oats.clone(), 100)],
        vec![entry(d, Meal::Breakfast, oats.clone(), 50), entry(d, Meal::Snack, bar.clone(), 200)],
    ] {
        written.extend(repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value);
    }
    repo.create_log_entries(bob.id, &[entry(d, Meal::Breakfast, oats.clone(), 100)], now()).await.unwrap();

    let logs = repo.day_logs(alice.id, day(d)).await.unwrap();
    let meals: Vec<Meal> = logs.entries.iter().map(|entry| entry.meal).collect();
    assert_eq!(meals, [Meal::Breakfast, Meal::Breakfast, Meal::Dinner, Meal::Snack, Meal::Snack]);
    let mut expected: Vec<LogEntry> = written.into_iter().filter(|entry| entry.date == day(d)).collect();
    expected.sort_by_key(|entry| (entry.meal, entry.id));
    assert_eq!(logs.entries, expected);
    assert_eq!(logs.totals, expected.iter().map(|entry| entry.macros).sum());
    assert_eq!((logs.date, logs.completed), (day(d), false));
    assert_eq!(logs.check(), Ok(()));

    let bobs = repo.day_logs(bob.id, day(d)).await.unwrap();
    assert_eq!(bobs.entries.len(), 1);
    let tomorrow = repo.day_logs(alice.id, day(next)).await.unwrap();
    assert_eq!(tomorrow.entries.iter().map(|entry| entry.meal).collect::<Vec<_>>(), [Meal::Lunch]);
    assert!(repo.day_logs(alice.id, day("2026-11-23")).await.unwrap().entries.is_empty());

    let completion = day_completion::ActiveModel { user_id: Set(alice.id.0), date: Set(day(d).date()) };
    completion.insert(repo.connection()).await.unwrap();
    assert!(repo.day_logs(alice.id, day(d)).await.unwrap().completed);
    assert!(!repo.day_logs(alice.id, day(next)).await.unwrap().completed);
    assert!(!repo.day_logs(bob.id, day(d)).await.unwrap().completed);
}
