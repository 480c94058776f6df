//! Behaviours of recipe entries, editing and deleting entries, summaries
//! and completed days.

use std::collections::BTreeSet;

use chrono::Duration;
use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{
    AmountChange, LogAmount, LogEntryId, LogEntryPatch, LogItem, Macros, Meal, SummaryDay, Timestamp,
};
use macrotrack_ports::{CompletionRepository, CreateLogsError, FoodRepository, LogRepository};
use sea_orm::ConnectionTrait;

use crate::support::*;

pub async fn recipe_entries_snapshot_the_recipe_per_serving(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let porridge = porridge(repo, alice.id).await;
    let oats = global_food(repo, "Oats, rolled").await;
    let date = "2026-11-24";
    let batch = [
        entry(date, Meal::Breakfast, LogItem::Recipe(porridge.id), 150),
        entry(date, Meal::Breakfast, LogItem::Food(oats), 100),
    ];
    let created = repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value;
    let logged = &created[0];
    assert_eq!((logged.recipe_id, logged.food_id, logged.name.as_str()), (Some(porridge.id), None, "Porridge"));
    // 99.83 × 1.5 = 149.745 → 149.75; 5.65 × 1.5 = 8.475 → 8.48; 15.22 × 1.5 = 22.83; 1.98 × 1.5 = 2.97
    assert_eq!(logged.macros, macros(14975, 848, 2283, 297));
    assert_eq!(repo.log_entry(alice.id, logged.id).await.unwrap(), Some(logged.clone()));
    // Only food entries count as uses.
    assert_eq!(repo.frequent_foods(alice.id, 20).await.unwrap().len(), 1);

    // Another user's recipe is unknown, and the batch writes nothing.
    let batch = [
        entry(date, Meal::Lunch, LogItem::Food(oats), 100),
        entry(date, Meal::Lunch, LogItem::Recipe(porridge.id), 100),
    ];
    let error = repo.create_log_entries(bob.id, &batch, now()).await.unwrap_err();
    assert!(matches!(error, CreateLogsError::UnknownRecipe { index: 1 }), "{error:?}");
    assert!(repo.day_logs(bob.id, day(date)).await.unwrap().entries.is_empty());
    assert_eq!(uses(repo, bob.id, oats).await, None);
}

pub async fn update_recomputes_the_snapshot_and_returns_before_and_after(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let bar = repo.create_food(alice.id, &bar("Protein bar")).await.unwrap().value;
    let porridge = porridge(repo, alice.id).await;
    let logged_at = now();
    let batch = [
        entry("2026-11-24", Meal::Lunch, LogItem::Food(bar.id), 100),
        entry("2026-11-24", Meal::Dinner, LogItem::Recipe(porridge.id), 100),
    ];
    let created = repo.create_log_entries(alice.id, &batch, logged_at).await.unwrap().value;
    let (food_entry, recipe_entry) = (&created[0], &created[1]);

    // The food's macros changed since logging: the snapshot follows them.
    let sql = format!("UPDATE foods SET calories = 10000, protein_g = 1 WHERE id = {}", bar.id);
    repo.connection().execute_unprepared(&sql).await.unwrap();
    let edited_at = Timestamp::new(logged_at.instant() + Duration::seconds(5));
    let patch = LogEntryPatch {
        date: Some(day("2026-11-25")),
        meal: Some(Meal::Snack),
        amount: Some(AmountChange::To(LogAmount::Servings(hundredths(250)))),
        quick: None,
    };
    let (before, after) =
        repo.update_log_entry(alice.id, food_entry.id, patch, edited_at).await.unwrap().unwrap().value;
    assert_eq!(&before, food_entry);
    assert_eq!((after.date, after.meal, after.servings), (day("2026-11-25"), Meal::Snack, hundredths(250)));
    assert_eq!(after.macros, macros(25000, 3, 3, 0)); // 100 × 2.5; 0.01 × 2.5 = 0.025 → 0.03
    assert_eq!((after.created_at, after.updated_at), (logged_at, edited_at));
    assert_eq!((after.id, &after.name, after.food_id), (before.id, &before.name, before.food_id));
    assert_eq!(repo.log_entry(alice.id, food_entry.id).await.unwrap(), Some(after.clone()));
    assert_eq!(repo.day_logs(alice.id, day("2026-11-25")).await.unwrap().entries, std::slice::from_ref(&after));
    assert_eq!(repo.day_logs(alice.id, day("2026-11-24")).await.unwrap().entries, std::slice::from_ref(recipe_entry));

    // A patch of the meal alone keeps the servings and still recomputes.
    let sql = format!("UPDATE foods SET calories = 200 WHERE id = {}", bar.id);
    repo.connection().execute_unprepared(&sql).await.unwrap();
    let patch = LogEntryPatch { meal: Some(Meal::Breakfast), ..LogEntryPatch::default() };
    let (_, again) = repo.update_log_entry(alice.id, food_entry.id, patch, edited_at).await.unwrap().unwrap().value;
    assert_eq!((again.servings, again.macros.calories, again.date), (hundredths(250), hundredths(500), after.date));

    let patch = LogEntryPatch {
        amount: Some(AmountChange::To(LogAmount::Servings(hundredths(50)))),
        ..LogEntryPatch::default()
    };
    let (_, half) = repo.update_log_entry(alice.id, recipe_entry.id, patch, edited_at).await.unwrap().unwrap().value;
    // 99.83 × 0.5 = 49.915 → 49.92; 5.65 × 0.5 = 2.825 → 2.83; 15.22 × 0.5 = 7.61; 1.98 × 0.5 = 0.99
    assert_eq!((half.macros, half.name.as_str()), (macros(4992, 283, 761, 99), "Porridge"));

    // Another user's entry, or a missing one, is not theirs to change.
    let patch = LogEntryPatch {
        amount: Some(AmountChange::To(LogAmount::Servings(hundredths(100)))),
        ..LogEntryPatch::default()
    };
    assert_eq!(repo.update_log_entry(bob.id, food_entry.id, patch.clone(), now()).await.unwrap(), None);
    assert_eq!(repo.update_log_entry(alice.id, LogEntryId(food_entry.id.0 + 1000), patch, now()).await.unwrap(), None);
    assert_eq!(repo.log_entry(bob.id, food_entry.id).await.unwrap(), None);
    assert_eq!(repo.log_entry(alice.id, food_entry.id).await.unwrap(), Some(again));
    // Editing does not count as another use.
    assert_eq!(uses(repo, alice.id, bar.id).await, Some(1));
}

pub async fn delete_removes_the_entry_and_takes_one_use_back(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let bar = repo.create_food(alice.id, &bar("Protein bar")).await.unwrap().value;
    let porridge = porridge(repo, alice.id).await;
    let date = "2026-11-24";
    let batch = [
        entry(date, Meal::Lunch, LogItem::Food(bar.id), 100),
        entry(date, Meal::Snack, LogItem::Food(bar.id), 200),
        entry(date, Meal::Dinner, LogItem::Recipe(porridge.id), 100),
    ];
    let created = repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value;
    assert_eq!(uses(repo, alice.id, bar.id).await, Some(2));

    assert_eq!(repo.delete_log_entry(bob.id, created[0].id).await.unwrap(), None);
    assert_eq!(
        repo.delete_log_entry(alice.id, created[0].id).await.unwrap().map(|c| c.value),
        Some(created[0].clone())
    );
    assert_eq!(repo.delete_log_entry(alice.id, created[0].id).await.unwrap(), None);
    assert_eq!(repo.log_entry(alice.id, created[0].id).await.unwrap(), None);
    assert_eq!(uses(repo, alice.id, bar.id).await, Some(1));
    assert_eq!(
        repo.delete_log_entry(alice.id, created[2].id).await.unwrap().map(|c| c.value),
        Some(created[2].clone())
    );
    assert_eq!(uses(repo, alice.id, bar.id).await, Some(1));
    assert_eq!(
        repo.delete_log_entry(alice.id, created[1].id).await.unwrap().map(|c| c.value),
        Some(created[1].clone())
    );
    assert_eq!(uses(repo, alice.id, bar.id).await.unwrap_or(0), 0);
    assert!(repo.frequent_foods(alice.id, 20).await.unwrap().is_empty());
    assert!(repo.day_logs(alice.id, day(date)).await.unwrap().entries.is_empty());
}

pub async fn summary_totals_each_day_with_entries_in_range(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let bar = LogItem::Food(repo.create_food(alice.id, &bar("Protein bar")).await.unwrap().value.id);
    let porridge = LogItem::Recipe(porridge(repo, alice.id).await.id);
    let oats = LogItem::Food(global_food(repo, "Oats, rolled").await);
    // Written out of date order; one day before and one after the range.
    let batch = [
        entry("2026-11-26", Meal::Lunch, bar.clone(), 150),
        entry("2026-11-24", Meal::Lunch, bar.clone(), 150),
        entry("2026-11-24", Meal::Dinner, porridge, 150),
        entry("2026-11-24", Meal::Snack, bar.clone(), 150),
        entry("2026-11-23", Meal::Lunch, oats.clone(), 100),
        entry("2026-11-27", Meal::Lunch, oats.clone(), 100),
    ];
    let created = repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value;
    repo.create_log_entries(bob.id, &[entry("2026-11-24", Meal::Lunch, oats.clone(), 100)], now()).await.unwrap();

    let summary = repo.summary(alice.id, day("2026-11-24"), day("2026-11-26")).await.unwrap();
    let total = |date: &str| created.iter().filter(|e| e.date == day(date)).map(|e| e.macros).sum::<Macros>();
    let expected = vec![
        SummaryDay { date: day("2026-11-24"), totals: total("2026-11-24"), entries: 3 },
        SummaryDay { date: day("2026-11-26"), totals: total("2026-11-26"), entries: 1 },
    ];
    assert_eq!(summary, expected);
    // 78.20 + 149.75 + 78.20: the exact sum of the entries' snapshots.
    assert_eq!(summary[0].totals.calories, hundredths(30615));
    assert_eq!(repo.day_logs(alice.id, day("2026-11-24")).await.unwrap().totals, summary[0].totals);
    let one_day = repo.summary(alice.id, day("2026-11-23"), day("2026-11-23")).await.unwrap();
    assert_eq!(one_day.iter().map(|d| (d.date, d.entries)).collect::<Vec<_>>(), [(day("2026-11-23"), 1)]);
    assert!(repo.summary(alice.id, day("2026-11-28"), day("2027-02-27")).await.unwrap().is_empty());
    let bobs = repo.summary(bob.id, day("2026-11-01"), day("2026-11-30")).await.unwrap();
    assert_eq!(bobs.iter().map(|d| (d.date, d.entries)).collect::<Vec<_>>(), [(day("2026-11-24"), 1)]);
}

pub async fn completions_are_idempotent_and_read_up_to_a_day(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    for date in ["2026-11-20", "2026-11-22", "2026-11-22", "2026-11-24", "2026-11-21"] {
        repo.complete_day(alice.id, day(date)).await.unwrap();
    }
    for _ in 0..2 {
        repo.undo_day(alice.id, day("2026-11-21")).await.unwrap();
    }
    repo.undo_day(alice.id, day("2026-11-23")).await.unwrap();
    repo.undo_day(bob.id, day("2026-11-20")).await.unwrap();

    let read = |until: &'static str| async move {
        repo.completed_between(alice.id, day("1900-01-01"), day(until)).await.unwrap()
    };
    let sorted = |days: Vec<_>| days.into_iter().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>();
    let until_23 = read("2026-11-23").await;
    assert_eq!(until_23.len(), 2, "{until_23:?}");
    assert_eq!(sorted(until_23), [day("2026-11-20"), day("2026-11-22")]);
    assert_eq!(sorted(read("2026-11-24").await), [day("2026-11-20"), day("2026-11-22"), day("2026-11-24")]);
    assert!(read("2026-11-19").await.is_empty());
    let streak = repo.streak(alice.id, day("2026-11-24")).await.unwrap();
    assert_eq!((streak.current, streak.longest, streak.last_completed), (1, 1, Some(day("2026-11-24"))));
    let bobs = repo.streak(bob.id, day("2200-12-31")).await.unwrap();
    assert_eq!((bobs.current, bobs.longest, bobs.last_completed), (0, 0, None));
    assert!(repo.day_logs(alice.id, day("2026-11-22")).await.unwrap().completed);
    assert!(!repo.day_logs(alice.id, day("2026-11-21")).await.unwrap().completed);

    // A range, both ends included, of the user's completions only.
    let between = repo.completed_between(alice.id, day("2026-11-22"), day("2026-11-24")).await.unwrap();
    assert_eq!(sorted(between), [day("2026-11-22"), day("2026-11-24")]);
    assert!(repo.completed_between(alice.id, day("2026-11-25"), day("2026-12-01")).await.unwrap().is_empty());
    repo.complete_day(bob.id, day("2026-11-23")).await.unwrap();
    assert_eq!(
        repo.completed_between(bob.id, day("2026-11-20"), day("2026-11-24")).await.unwrap(),
        [day("2026-11-23")]
    );
}
