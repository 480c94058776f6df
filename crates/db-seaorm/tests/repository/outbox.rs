//! The cache outbox: every covered mutation writes exactly one row for its
//! user in its own transaction; refused or failed ones write none; rows
//! come back by age and go when done.

use std::time::Duration;

use chrono::{SubsecRound, Utc};
use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_db_seaorm::entities::cache_outbox;
use macrotrack_domain::{
    AmountChange, LogAmount, LogEntryId, LogEntryPatch, LogItem, Meal, ScheduledMealId, ScheduledPlanId, UserId,
};
use macrotrack_ports::{
    CompletionRepository, CreateLogsError, FoodRepository, LogRepository, OutboxBacklog, OutboxId, OutboxRepository,
    PlanRepository, UserRepository,
};
use sea_orm::{EntityTrait, QueryOrder};

use crate::support::*;

async fn rows(repo: &SeaOrmRepository) -> Vec<(OutboxId, UserId)> {
    let all = cache_outbox::Entity::find().order_by_asc(cache_outbox::Column::Id).all(repo.connection()).await;
    all.unwrap().into_iter().map(|row| (OutboxId(row.id), UserId(row.user_id))).collect()
}

/// The newest row must be `id`, about `user`.
async fn one_row(repo: &SeaOrmRepository, user: UserId, what: &str, id: OutboxId) {
    let all = rows(repo).await;
    assert_eq!(all.last(), Some(&(id, user)), "{what}: {all:?}");
}

pub async fn every_covered_mutation_writes_one_row_in_its_transaction(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let oats = LogItem::Food(global_food(repo, "Oats, rolled").await);
    let porridge = porridge(repo, alice.id).await;
    // Recipes and plans change no cached read: no row (the porridge's own
    // food, made by a create, has its row).
    let before = rows(repo).await.len();
    let plan = plan(repo, alice.id, 2, vec![item(1, Meal::Lunch, porridge.id, 100)]).await;
    assert_eq!(rows(repo).await.len(), before);

    let mut expected = before;
    let mut check = async |what: &str, id: OutboxId| {
        expected += 1;
        one_row(repo, alice.id, what, id).await;
        assert_eq!(rows(repo).await.len(), expected, "{what}: one row per mutation");
    };
    // A new food joins the user's searches.
    check("create food", repo.create_food(alice.id, &bar("Bar")).await.unwrap().outbox).await;
    let created =
        repo.create_log_entries(alice.id, &[entry("2026-11-24", Meal::Lunch, oats.clone(), 100)], now()).await;
    let created = created.unwrap();
    check("create", created.outbox).await;
    let entry_id = created.value[0].id;
    let patch = LogEntryPatch {
        amount: Some(AmountChange::To(LogAmount::Servings(hundredths(200)))),
        ..LogEntryPatch::default()
    };
    check("update", repo.update_log_entry(alice.id, entry_id, patch.clone(), now()).await.unwrap().unwrap().outbox)
        .await;
    check("delete", repo.delete_log_entry(alice.id, entry_id).await.unwrap().unwrap().outbox).await;
    check("complete", repo.complete_day(alice.id, day("2026-11-24")).await.unwrap().outbox).await;
    check("complete again", repo.complete_day(alice.id, day("2026-11-24")).await.unwrap().outbox).await;
    check("undo", repo.undo_day(alice.id, day("2026-11-24")).await.unwrap().outbox).await;
    check("targets", repo.set_targets(alice.id, macros(1, 2, 3, 4)).await.unwrap().unwrap().outbox).await;
    let zone = macrotrack_domain::TimeZone::parse("Asia/Tokyo").unwrap();
    check("time zone", repo.set_timezone(alice.id, zone).await.unwrap().unwrap().outbox).await;
    let scheduled = repo.schedule_meal_plan(alice.id, plan.id, day("2026-11-24")).await.unwrap();
    check("schedule", scheduled.outbox).await;
    let meal = repo.schedule_day(alice.id, day("2026-11-25")).await.unwrap().meals[0].id;
    check("delete meal", repo.delete_scheduled_meal(alice.id, meal).await.unwrap().unwrap().outbox).await;
    let plan_id = scheduled.value.id;
    check("delete plan", repo.delete_scheduled_plan(alice.id, plan_id).await.unwrap().unwrap().outbox).await;

    // Refused and failed mutations roll their row back with them.
    let before = rows(repo).await;
    let unknown = LogItem::Food(macrotrack_domain::FoodId(999_999));
    let batch =
        [entry("2026-11-24", Meal::Lunch, oats.clone(), 100), entry("2026-11-24", Meal::Lunch, unknown.clone(), 100)];
    let refused = repo.create_log_entries(alice.id, &batch, now()).await;
    assert!(matches!(refused, Err(CreateLogsError::UnknownFood { index: 1 })), "{refused:?}");
    assert_eq!(repo.update_log_entry(bob.id, entry_id, patch.clone(), now()).await.unwrap(), None);
    assert_eq!(repo.delete_log_entry(alice.id, LogEntryId(entry_id.0 + 1000)).await.unwrap(), None);
    assert_eq!(repo.set_targets(UserId(bob.id.0 + 1000), macros(1, 1, 1, 1)).await.unwrap(), None);
    let utc = macrotrack_domain::TimeZone::UTC;
    assert_eq!(repo.set_timezone(UserId(bob.id.0 + 1000), utc).await.unwrap(), None);
    assert_eq!(repo.delete_user(UserId(bob.id.0 + 1000)).await.unwrap(), None);
    assert_eq!(repo.delete_scheduled_meal(bob.id, ScheduledMealId(meal.0)).await.unwrap(), None);
    assert_eq!(repo.delete_scheduled_plan(alice.id, ScheduledPlanId(plan_id.0)).await.unwrap(), None);
    assert!(repo.schedule_meal_plan(bob.id, plan.id, day("2026-11-24")).await.is_err());
    assert_eq!(rows(repo).await, before, "no row without a change");

    // Deleting the user writes a row that outlives the user.
    let deleted = repo.delete_user(alice.id).await.unwrap().unwrap();
    assert_eq!(rows(repo).await.last(), Some(&(deleted.outbox, alice.id)));
    assert_eq!(repo.user(alice.id).await.unwrap(), None);
}

pub async fn pending_rows_come_by_age_and_go_when_done(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    assert!(repo.pending(Duration::ZERO, 10).await.unwrap().is_empty());
    assert!(repo.pending_users().await.unwrap().is_empty());
    assert_eq!(repo.backlog().await.unwrap(), OutboxBacklog { rows: 0, oldest: None });
    let before_first = Utc::now().trunc_subsecs(6);
    let first = repo.complete_day(bob.id, day("2026-11-24")).await.unwrap().outbox;
    let after_first = Utc::now();
    let second = repo.complete_day(alice.id, day("2026-11-24")).await.unwrap().outbox;
    let third = repo.complete_day(bob.id, day("2026-11-25")).await.unwrap().outbox;
    // Sub-second ages compare correctly (SQLite keeps timestamps as text).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let young = repo.complete_day(alice.id, day("2026-11-25")).await.unwrap().outbox;

    let all = vec![(first, bob.id), (second, alice.id), (third, bob.id), (young, alice.id)];
    assert_eq!(repo.pending(Duration::ZERO, 10).await.unwrap(), all, "oldest first");
    assert_eq!(repo.pending(Duration::ZERO, 2).await.unwrap(), all[..2]);
    assert_eq!(repo.pending(Duration::from_millis(200), 10).await.unwrap(), all[..3], "the young row waits");
    assert!(repo.pending(Duration::from_secs(3600), 10).await.unwrap().is_empty());
    let mut users = vec![alice.id, bob.id];
    users.sort();
    assert_eq!(repo.pending_users().await.unwrap(), users);
    let backlog = repo.backlog().await.unwrap();
    assert_eq!(backlog.rows, 4);
    let oldest = backlog.oldest.expect("an oldest row");
    assert!(before_first <= oldest && oldest <= after_first, "the first row is the oldest: {oldest}");

    repo.done(&[first, third]).await.unwrap();
    repo.done(&[first]).await.expect("a row already done is not an error");
    repo.done(&[]).await.expect("nothing to delete is not an error");
    assert_eq!(repo.pending(Duration::ZERO, 10).await.unwrap(), [(second, alice.id), (young, alice.id)]);
    assert_eq!(repo.pending_users().await.unwrap(), [alice.id]);
    let backlog = repo.backlog().await.unwrap();
    assert_eq!(backlog.rows, 2);
    assert!(backlog.oldest.is_some_and(|second| second > oldest), "the second row is the oldest now");
    repo.done(&[second, young]).await.unwrap();
    assert_eq!(repo.backlog().await.unwrap(), OutboxBacklog::default());
    assert!(repo.pending_users().await.unwrap().is_empty());

    // More ids than one statement takes: every chunk is deleted.
    let mut many = Vec::new();
    for offset in 0..1100 {
        let date = day("2026-01-01").plus_days(offset % 300).unwrap();
        many.push(repo.complete_day(bob.id, date).await.unwrap().outbox);
    }
    repo.done(&many).await.unwrap();
    assert!(repo.pending_users().await.unwrap().is_empty(), "all 1100 rows deleted");
}
