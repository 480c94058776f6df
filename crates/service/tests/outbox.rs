//! The outbox against mocked ports: a mutation's row is marked done exactly
//! when its invalidation was applied, left when it was deferred, and never
//! touched by a write that failed; the drain bumps the epoch of each user
//! with a row and deletes the row only once the bump was applied.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use macrotrack_cache::{Engine, EngineConfig};
use macrotrack_cache_keys::Target;
use macrotrack_domain::{
    Amount, Day, FoodId, FoodInput, LogAmount, LogEntry, LogEntryId, LogEntryPatch, LogItem, Macros, Meal, MealPlanId,
    NewLogEntry, ScheduledMealId, ScheduledPlan, ScheduledPlanId, Timestamp, UserId,
};
use macrotrack_ports::{
    BumpOutcome, Committed, CreateLogsError, MockCacheStore, MockCompletionRepository, MockFoodRepository,
    MockLogRepository, MockOutboxRepository, MockPlanRepository, MockRecipeRepository, MockUserRepository, OutboxId,
    StoreError, SystemClock, Unavailable,
};
use macrotrack_service::{DrainReport, ErrorKind, Failure, Fault, Policies, Repositories, Service};

const USER: UserId = UserId(42);
const ROW: OutboxId = OutboxId(7);

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

fn committed<T>(value: T) -> Committed<T> {
    Committed::new(value, ROW)
}

fn log_entry(id: i64) -> LogEntry {
    let now = Timestamp::new(chrono::Utc::now());
    LogEntry {
        id: LogEntryId(id),
        date: day("2026-11-24"),
        meal: Meal::Lunch,
        food_id: Some(FoodId(1)),
        recipe_id: None,
        name: "Oats".into(),
        servings: Amount::from_hundredths(100),
        grams: None,
        portion: None,
        macros: Macros::default(),
        created_at: now,
        updated_at: now,
    }
}

fn scheduled_plan() -> ScheduledPlan {
    ScheduledPlan {
        id: ScheduledPlanId(3),
        meal_plan_id: MealPlanId(2),
        name: "Week".into(),
        start_date: day("2026-11-24"),
        end_date: day("2026-11-30"),
    }
}

/// Repositories whose every covered mutation commits with row `ROW`, and
/// whose outbox is `outbox`.
fn committing(outbox: MockOutboxRepository) -> Repositories {
    let mut users = MockUserRepository::new();
    users.expect_set_targets().returning(|_, _| Ok(Some(committed(()))));
    users.expect_set_timezone().returning(|_, _| Ok(Some(committed(()))));
    users.expect_delete_user().returning(|_| Ok(Some(committed(()))));
    let mut logs = MockLogRepository::new();
    logs.expect_create_log_entries().returning(|_, _, _| Ok(committed(vec![log_entry(1)])));
    logs.expect_update_log_entry().returning(|_, id, _, _| Ok(Some(committed((log_entry(id.0), log_entry(id.0))))));
    logs.expect_delete_log_entry().returning(|_, id| Ok(Some(committed(log_entry(id.0)))));
    let mut completions = MockCompletionRepository::new();
    completions.expect_complete_day().returning(|_, _| Ok(committed(())));
    completions.expect_undo_day().returning(|_, _| Ok(committed(())));
    let mut plans = MockPlanRepository::new();
    plans.expect_schedule_meal_plan().returning(|_, _, _| Ok(committed(scheduled_plan())));
    plans.expect_delete_scheduled_meal().returning(|_, _| Ok(Some(committed(day("2026-11-24")))));
    plans.expect_delete_scheduled_plan().returning(|_, _| Ok(Some(committed(scheduled_plan()))));
    let mut foods = MockFoodRepository::new();
    foods.expect_create_food().returning(|_, food| {
        Ok(committed(macrotrack_domain::Food {
            id: FoodId(100),
            name: food.name.clone(),
            brand: None,
            serving_size: food.serving_size,
            serving_unit: food.serving_unit.clone(),
            per_serving: food.per_serving,
            owner: macrotrack_domain::FoodOwner::User,
            generic: false,
            source: None,
            barcode: None,
            grams_per_serving: None,
            portions: Vec::new(),
        }))
    });
    Repositories {
        users: Arc::new(users),
        foods: Arc::new(foods),
        recipes: Arc::new(MockRecipeRepository::new()),
        logs: Arc::new(logs),
        completions: Arc::new(completions),
        plans: Arc::new(plans),
        outbox: Arc::new(outbox),
        idempotency: Arc::new(macrotrack_ports::MockIdempotencyRepository::new()),
    }
}

/// A store whose bumps succeed (`up`) or fail, counting them.
fn store(up: bool, bumps: Arc<Mutex<Vec<Vec<String>>>>) -> MockCacheStore {
    let mut store = MockCacheStore::new();
    store.expect_bump().returning(move |guards, _, _| {
        bumps.lock().unwrap().push(guards.iter().map(|(guard, _)| guard.clone()).collect());
        if up { Ok(BumpOutcome::Durable) } else { Err(StoreError::Unavailable("down".into())) }
    });
    store
}

fn service(repos: Repositories, store: MockCacheStore) -> Service<MockCacheStore> {
    let engine = Engine::new(store, Arc::new(SystemClock), EngineConfig::default());
    Service::new(repos, engine, Arc::new(SystemClock), Policies::default())
}

const MUTATIONS: usize = 12;

fn oats() -> FoodInput {
    FoodInput {
        name: Some("Oats".into()),
        brand: None,
        serving_size: Some(40.0),
        serving_unit: Some("g".into()),
        calories: Some(150.0),
        protein_g: Some(5.0),
        carbs_g: Some(27.0),
        fat_g: Some(3.0),
    }
}

/// Runs covered mutation number `which` (0..MUTATIONS).
async fn mutate(service: &Service<MockCacheStore>, which: usize) -> Result<(), ErrorKind> {
    let date = day("2026-11-24");
    let batch = vec![NewLogEntry {
        date,
        meal: Meal::Lunch,
        item: LogItem::Food(FoodId(1)),
        amount: LogAmount::Servings(Amount::from_hundredths(100)),
    }];
    match which {
        0 => service.create_log_entries(USER, batch).await.map(drop).map_err(|e| e.kind()),
        1 => service
            .update_log_entry(USER, LogEntryId(5), LogEntryPatch::default())
            .await
            .map(drop)
            .map_err(|e| e.kind()),
        2 => service.delete_log_entry(USER, LogEntryId(5)).await.map_err(|e| e.kind()),
        3 => service.complete_day(USER, date).await.map(drop).map_err(|e| e.kind()),
        4 => service.undo_day(USER, date).await.map(drop).map_err(|e| e.kind()),
        5 => service.set_targets(USER, Macros::default()).await.map(drop).map_err(|e| e.kind()),
        6 => service.schedule_meal_plan(USER, MealPlanId(2), date).await.map(drop).map_err(|e| e.kind()),
        7 => service.delete_scheduled_meal(USER, ScheduledMealId(9)).await.map_err(|e| e.kind()),
        8 => service.delete_scheduled_plan(USER, ScheduledPlanId(3)).await.map_err(|e| e.kind()),
        9 => service.create_food(USER, oats()).await.map(drop).map_err(|e| e.kind()),
        10 => service.set_timezone(USER, macrotrack_domain::TimeZone::UTC).await.map(drop).map_err(|e| e.kind()),
        _ => service.delete_user(USER).await.map_err(|e| e.kind()),
    }
}

#[tokio::test]
async fn the_row_is_deleted_on_the_next_flush_exactly_when_the_invalidation_was_applied() {
    for which in 0..MUTATIONS {
        let mut outbox = MockOutboxRepository::new();
        let deletes = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&deletes);
        outbox.expect_done().withf(|ids| ids == [ROW]).times(1).returning(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        let bumps = Arc::default();
        let service = service(committing(outbox), store(true, Arc::clone(&bumps)));
        mutate(&service, which).await.unwrap();
        assert_eq!(bumps.lock().unwrap().len(), 1, "mutation {which}: one atomic bump");
        assert!(service.cache().pending().is_empty());
        assert_eq!(deletes.load(Ordering::SeqCst), 0, "mutation {which}: no second statement on the write path");
        assert_eq!(service.flush_applied_outbox_rows().await, 1, "mutation {which}");
        assert_eq!(service.flush_applied_outbox_rows().await, 0, "mutation {which}: deleted once");
    }
}

#[tokio::test]
async fn applied_rows_are_deleted_in_one_statement_per_256() {
    let mut outbox = MockOutboxRepository::new();
    let batches = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&batches);
    outbox.expect_done().returning(move |ids| {
        sink.lock().unwrap().push(ids.len());
        Ok(())
    });
    let service = service(committing(outbox), store(true, Arc::default()));
    for _ in 0..300 {
        mutate(&service, 3).await.unwrap();
    }
    assert_eq!(*batches.lock().unwrap(), [256], "the 256th write flushed the queue inline");
    assert_eq!(service.flush_applied_outbox_rows().await, 44);
    assert_eq!(*batches.lock().unwrap(), [256, 44]);
}

#[tokio::test]
async fn the_row_stays_when_the_invalidation_was_deferred() {
    for which in 0..MUTATIONS {
        let mut outbox = MockOutboxRepository::new();
        outbox.expect_done().never();
        let bumps = Arc::default();
        let service = service(committing(outbox), store(false, Arc::clone(&bumps)));
        mutate(&service, which).await.expect("the write succeeds with the store down");
        assert_eq!(service.flush_applied_outbox_rows().await, 0, "mutation {which}: nothing to delete");
        assert!(!bumps.lock().unwrap().is_empty(), "mutation {which}: the bump was tried");
        assert!(service.cache().pending().contains_key(&USER), "mutation {which}: the user is distrusted");
    }
}

/// A bump the master applied but no replica acknowledged could be lost by
/// a failover for the other instances: the row stays for the drain, which
/// bumps again, and deletes the rows only once a bump was durable.
#[tokio::test]
async fn the_row_stays_when_no_replica_acknowledged_the_bump() {
    for which in 0..MUTATIONS {
        let mut outbox = MockOutboxRepository::new();
        outbox.expect_done().never();
        let mut store = MockCacheStore::new();
        store.expect_bump().returning(|_, _, _| Ok(BumpOutcome::NotReplicated));
        let service = service(committing(outbox), store);
        mutate(&service, which).await.expect("the write succeeds");
        assert_eq!(service.flush_applied_outbox_rows().await, 0, "mutation {which}: the row stays");
        assert!(service.cache().pending().is_empty(), "mutation {which}: applied on the master, not pending");
    }
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_pending().times(1).returning(|_, _| Ok(vec![(ROW, USER)]));
    outbox.expect_done().never();
    let mut store = MockCacheStore::new();
    store.expect_bump().times(1).returning(|_, _, _| Ok(BumpOutcome::NotReplicated));
    let service = service(committing(outbox), store);
    let report = service.drain_outbox(std::time::Duration::ZERO).await.unwrap();
    assert_eq!((report.rows, report.unreplicated), (0, 1), "the drain keeps the row for its next tick");
}

#[tokio::test]
async fn a_failed_write_touches_neither_the_outbox_nor_the_store() {
    let mut users = MockUserRepository::new();
    users.expect_set_targets().returning(|_, _| Err(Unavailable::new(anyhow::anyhow!("down"))));
    users.expect_set_timezone().returning(|_, _| Ok(None));
    users.expect_delete_user().returning(|_| Ok(None));
    let mut logs = MockLogRepository::new();
    logs.expect_create_log_entries()
        .returning(|_, _, _| Err(CreateLogsError::Unavailable(Unavailable::new(anyhow::anyhow!("rolled back")))));
    logs.expect_update_log_entry().returning(|_, _, _, _| Ok(None));
    logs.expect_delete_log_entry().returning(|_, _| Err(Unavailable::new(anyhow::anyhow!("down"))));
    let mut completions = MockCompletionRepository::new();
    completions.expect_complete_day().returning(|_, _| Err(Unavailable::new(anyhow::anyhow!("down"))));
    completions.expect_undo_day().returning(|_, _| Err(Unavailable::new(anyhow::anyhow!("down"))));
    let mut plans = MockPlanRepository::new();
    plans.expect_schedule_meal_plan().returning(|_, _, _| Err(macrotrack_ports::ScheduleError::NotFound));
    plans.expect_delete_scheduled_meal().returning(|_, _| Ok(None));
    plans.expect_delete_scheduled_plan().returning(|_, _| Ok(None));
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_done().never();
    outbox.expect_pending().never();
    let mut foods = MockFoodRepository::new();
    foods.expect_create_food().returning(|_, _| {
        Err(macrotrack_ports::CreateFoodError::Unavailable(Unavailable::new(anyhow::anyhow!("rolled back"))))
    });
    let repos = Repositories {
        users: Arc::new(users),
        foods: Arc::new(foods),
        recipes: Arc::new(MockRecipeRepository::new()),
        logs: Arc::new(logs),
        completions: Arc::new(completions),
        plans: Arc::new(plans),
        outbox: Arc::new(outbox),
        idempotency: Arc::new(macrotrack_ports::MockIdempotencyRepository::new()),
    };
    let mut store = MockCacheStore::new();
    store.expect_bump().never();
    let service = service(repos, store);
    for which in 0..MUTATIONS {
        let error = mutate(&service, which).await.unwrap_err();
        assert!(matches!(error, ErrorKind::Unavailable | ErrorKind::NotFound), "{which}: {error:?}");
    }
}

#[tokio::test]
async fn rows_that_cannot_be_deleted_are_left_to_the_drain() {
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_done().times(1).returning(|_| Err(Unavailable::new(anyhow::anyhow!("connection lost"))));
    let service = service(committing(outbox), store(true, Arc::default()));
    service.complete_day(USER, day("2026-11-24")).await.expect("committed and forgotten: a success");
    assert_eq!(service.flush_applied_outbox_rows().await, 0, "not deleted");
    assert_eq!(service.flush_applied_outbox_rows().await, 0, "not retried: the rows stay for a drain");
}

#[tokio::test]
async fn the_fault_knob_skips_the_invalidation_and_leaves_the_row() {
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_done().never();
    let mut store = MockCacheStore::new();
    store.expect_bump().never();
    let service = service(committing(outbox), store).with_fault(Fault::SkipInvalidation);
    for which in 0..MUTATIONS {
        mutate(&service, which).await.unwrap();
    }
    assert_eq!(service.flush_applied_outbox_rows().await, 0);
    assert!(service.cache().pending().is_empty(), "as if the process had died: nothing remembered");
}

const EPOCH_42: &str = "macro:{user:42}:epoch";
const EPOCH_43: &str = "macro:{user:43}:epoch";

#[tokio::test]
async fn the_drain_bumps_each_users_epoch_once_then_deletes_their_rows() {
    let mut outbox = MockOutboxRepository::new();
    outbox
        .expect_pending()
        .withf(|grace, _| *grace == Duration::from_secs(1))
        .times(1)
        .returning(|_, _| Ok(vec![(OutboxId(1), USER), (OutboxId(2), UserId(43)), (OutboxId(3), USER)]));
    let done = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&done);
    outbox.expect_done().times(1).returning(move |ids| {
        sink.lock().unwrap().extend(ids.iter().map(|id| id.0));
        Ok(())
    });
    let bumps = Arc::default();
    let service = service(committing(outbox), store(true, Arc::clone(&bumps)));
    let report = service.drain_outbox(Duration::from_secs(1)).await.unwrap();
    assert_eq!(report, DrainReport { rows: 3, users: 2, distrusted: 0, unreplicated: 0 });
    assert_eq!(*bumps.lock().unwrap(), vec![vec![EPOCH_42.to_owned()], vec![EPOCH_43.to_owned()]]);
    assert_eq!(*done.lock().unwrap(), [1, 3, 2], "one DELETE, by user");
}

#[tokio::test]
async fn with_the_store_down_the_drain_keeps_the_rows_and_distrusts_their_users() {
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_pending().returning(|_, _| Ok(vec![(OutboxId(1), USER), (OutboxId(2), UserId(43))]));
    outbox.expect_done().never();
    outbox.expect_pending_users().times(1).returning(|| Ok(vec![USER, UserId(43), UserId(44)]));
    let service = service(committing(outbox), store(false, Arc::default()));
    let report = service.recover_outbox().await.unwrap();
    assert_eq!(report, DrainReport { rows: 0, users: 0, distrusted: 3, unreplicated: 0 });
    let pending = service.cache().pending();
    for user in [USER, UserId(43), UserId(44)] {
        assert!(pending.get(&user).is_some_and(|targets| targets.contains(&Target::AllOfUser(user))), "{user}");
    }
}

#[tokio::test]
async fn an_empty_outbox_costs_one_query() {
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_pending().times(1).returning(|_, _| Ok(Vec::new()));
    outbox.expect_pending_users().never();
    let mut store = MockCacheStore::new();
    store.expect_bump().never();
    let report = service(committing(outbox), store).recover_outbox().await.unwrap();
    assert_eq!(report, DrainReport::default());
}
