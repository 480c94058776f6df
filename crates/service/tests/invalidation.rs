//! Every mutation against mocked ports: the exact set of guards it asks the
//! cache store to bump and entries to delete (nothing missing, nothing
//! extra), and that a failed write forgets nothing. Expected sets are
//! written out by hand from the cache contract and the guard names of
//! docs/caching-matrix.md, independently of the derivation. (What happens
//! to each mutation's outbox row is in `outbox.rs`.)

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use macrotrack_cache::{Engine, EngineConfig};
use macrotrack_domain::{
    Amount, AmountChange, Day, FoodId, FoodInput, LogAmount, LogEntry, LogEntryId, LogEntryPatch, LogItem, Macros,
    Meal, MealPlanId, NewLogEntry, RecipeId, ScheduledMealId, ScheduledPlan, ScheduledPlanId, Timestamp, UserId,
};
use macrotrack_ports::{
    BumpOutcome, Committed, CreateLogsError, MockCacheStore, MockCompletionRepository, MockFoodRepository,
    MockLogRepository, MockOutboxRepository, MockPlanRepository, MockRecipeRepository, MockUserRepository, OutboxId,
    SystemClock, Unavailable,
};
use macrotrack_service::{ErrorKind, Failure, Policies, Repositories, Service};

const USER: UserId = UserId(42);

/// The outbox row every mocked mutation reports.
fn committed<T>(value: T) -> Committed<T> {
    Committed::new(value, OutboxId(7))
}

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

fn new_entry(date: &str, item: LogItem) -> NewLogEntry {
    NewLogEntry { date: day(date), meal: Meal::Lunch, item, amount: LogAmount::Servings(Amount::from_hundredths(100)) }
}

fn entry(id: i64, date: &str, item: LogItem) -> LogEntry {
    let now = Timestamp::new(chrono::Utc::now());
    let (food_id, recipe_id) = match item {
        LogItem::Food(food) => (Some(food), None),
        LogItem::Recipe(recipe) => (None, Some(recipe)),
        LogItem::Quick(_) => (None, None),
    };
    LogEntry {
        id: LogEntryId(id),
        date: day(date),
        meal: Meal::Lunch,
        food_id,
        recipe_id,
        name: "Oats".into(),
        servings: Amount::from_hundredths(100),
        grams: None,
        portion: None,
        macros: Macros::default(),
        created_at: now,
        updated_at: now,
    }
}

#[derive(Default)]
struct Mocks {
    users: MockUserRepository,
    foods: MockFoodRepository,
    recipes: MockRecipeRepository,
    logs: MockLogRepository,
    completions: MockCompletionRepository,
    plans: MockPlanRepository,
    outbox: MockOutboxRepository,
}

/// A service over the mocks and a store that records what is forgotten:
/// guard keys bumped and entry keys deleted.
fn service(mut mocks: Mocks) -> (Service<MockCacheStore>, Arc<Mutex<BTreeSet<String>>>) {
    mocks.outbox.expect_done().returning(|_| Ok(()));
    let forgotten = Arc::new(Mutex::new(BTreeSet::new()));
    let mut store = MockCacheStore::new();
    let sink = forgotten.clone();
    store.expect_bump().returning(move |guards, delete, _| {
        let mut sink = sink.lock().unwrap();
        sink.extend(guards.iter().map(|(guard, _)| guard.clone()));
        sink.extend(delete.iter().map(|key| format!("delete {key}")));
        Ok(BumpOutcome::Durable)
    });
    let repos = Repositories {
        users: Arc::new(mocks.users),
        foods: Arc::new(mocks.foods),
        recipes: Arc::new(mocks.recipes),
        logs: Arc::new(mocks.logs),
        completions: Arc::new(mocks.completions),
        plans: Arc::new(mocks.plans),
        outbox: Arc::new(mocks.outbox),
        idempotency: Arc::new(macrotrack_ports::MockIdempotencyRepository::new()),
    };
    let engine = Engine::new(store, Arc::new(SystemClock), EngineConfig::default());
    (Service::new(repos, engine, Arc::new(SystemClock), Policies::default()), forgotten)
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const LOGS_24: &str = "macro:{user:42}:gen:logs:2026-11-24";
const LOGS_25: &str = "macro:{user:42}:gen:logs:2026-11-25";
const DEL_24: &str = "delete macro:{user:42}:logs:2026-11-24";
const DEL_25: &str = "delete macro:{user:42}:logs:2026-11-25";
const FREQUENT: &str = "macro:{user:42}:gen:frequent_foods";
const FOOD_SEARCH: &str = "macro:{user:42}:gen:food_search";
const FOOD_BY_ID: &str = "macro:{user:42}:gen:food";
const RECENT: &str = "macro:{user:42}:gen:recent_foods";
/// The month and the ISO week of 24 and 25 November 2026 (Monday 23 to Sunday 29).
const NOVEMBER: &str = "macro:{user:42}:gen:summary:2026-11";
const WEEK_48: &str = "macro:{user:42}:gen:week:2026-W48";
const SCHED_24: &str = "macro:{user:42}:gen:schedule:2026-11-24";
const SCHED_25: &str = "macro:{user:42}:gen:schedule:2026-11-25";
const STREAK: &str = "macro:{user:42}:gen:streak";
const ME: &str = "macro:{user:42}:gen:me";
const EVERY_WEEK: &str = "macro:{user:42}:gen:week";
const EPOCH: &str = "macro:{user:42}:epoch";

fn creating(mocks: &mut Mocks) {
    mocks.logs.expect_create_log_entries().times(1).returning(|_, entries, _| {
        Ok(committed(
            entries.iter().enumerate().map(|(i, e)| entry(i as i64 + 1, &e.date.to_string(), e.item.clone())).collect(),
        ))
    });
}

#[tokio::test]
async fn food_batch_over_two_dates() {
    let mut mocks = Mocks::default();
    creating(&mut mocks);
    let (service, forgotten) = service(mocks);
    let batch = vec![
        new_entry("2026-11-24", LogItem::Food(FoodId(1))),
        new_entry("2026-11-25", LogItem::Food(FoodId(2))),
        new_entry("2026-11-24", LogItem::Food(FoodId(3))),
    ];
    service.create_log_entries(USER, batch).await.unwrap();
    assert_eq!(
        *forgotten.lock().unwrap(),
        set(&[LOGS_24, LOGS_25, DEL_24, DEL_25, FREQUENT, FOOD_SEARCH, RECENT, NOVEMBER, WEEK_48])
    );
}

#[tokio::test]
async fn recipe_batch_forgets_the_schedule_of_its_dates_not_user_food() {
    let mut mocks = Mocks::default();
    creating(&mut mocks);
    let (service, forgotten) = service(mocks);
    let batch =
        vec![new_entry("2026-11-24", LogItem::Recipe(RecipeId(1))), new_entry("2026-11-25", LogItem::Food(FoodId(2)))];
    service.create_log_entries(USER, batch).await.unwrap();
    assert_eq!(
        *forgotten.lock().unwrap(),
        set(&[LOGS_24, LOGS_25, DEL_24, DEL_25, FREQUENT, FOOD_SEARCH, RECENT, NOVEMBER, WEEK_48, SCHED_24])
    );
}

#[tokio::test]
async fn update_moving_a_recipe_entry_forgets_both_dates() {
    let mut mocks = Mocks::default();
    mocks.logs.expect_update_log_entry().times(1).returning(|_, id, _, _| {
        Ok(Some(committed((
            entry(id.0, "2026-11-24", LogItem::Recipe(RecipeId(1))),
            entry(id.0, "2026-11-25", LogItem::Recipe(RecipeId(1))),
        ))))
    });
    let (service, forgotten) = service(mocks);
    let patch = LogEntryPatch { date: Some(day("2026-11-25")), ..LogEntryPatch::default() };
    service.update_log_entry(USER, LogEntryId(5), patch).await.unwrap();
    assert_eq!(
        *forgotten.lock().unwrap(),
        set(&[LOGS_24, LOGS_25, DEL_24, DEL_25, NOVEMBER, WEEK_48, SCHED_24, SCHED_25])
    );
}

#[tokio::test]
async fn update_of_a_food_entry_in_place() {
    let mut mocks = Mocks::default();
    mocks.logs.expect_update_log_entry().times(1).returning(|_, id, _, _| {
        Ok(Some(committed((
            entry(id.0, "2026-11-24", LogItem::Food(FoodId(1))),
            entry(id.0, "2026-11-24", LogItem::Food(FoodId(1))),
        ))))
    });
    let (service, forgotten) = service(mocks);
    let patch = LogEntryPatch {
        amount: Some(AmountChange::To(LogAmount::Servings(Amount::from_hundredths(250)))),
        ..LogEntryPatch::default()
    };
    service.update_log_entry(USER, LogEntryId(5), patch).await.unwrap();
    // Not frequent foods: an update changes no use count. Recent foods, as
    // any update of a food entry (matrix.rs, beyond the contract).
    assert_eq!(*forgotten.lock().unwrap(), set(&[LOGS_24, DEL_24, NOVEMBER, WEEK_48, RECENT]));
}

#[tokio::test]
async fn delete_of_a_food_entry() {
    let mut mocks = Mocks::default();
    mocks
        .logs
        .expect_delete_log_entry()
        .times(1)
        .returning(|_, id| Ok(Some(committed(entry(id.0, "2026-11-24", LogItem::Food(FoodId(1)))))));
    let (service, forgotten) = service(mocks);
    service.delete_log_entry(USER, LogEntryId(5)).await.unwrap();
    assert_eq!(*forgotten.lock().unwrap(), set(&[LOGS_24, DEL_24, FREQUENT, FOOD_SEARCH, RECENT, NOVEMBER, WEEK_48]));
}

#[tokio::test]
async fn delete_of_a_recipe_entry() {
    let mut mocks = Mocks::default();
    mocks
        .logs
        .expect_delete_log_entry()
        .times(1)
        .returning(|_, id| Ok(Some(committed(entry(id.0, "2026-11-24", LogItem::Recipe(RecipeId(1)))))));
    let (service, forgotten) = service(mocks);
    service.delete_log_entry(USER, LogEntryId(5)).await.unwrap();
    assert_eq!(*forgotten.lock().unwrap(), set(&[LOGS_24, DEL_24, NOVEMBER, WEEK_48, SCHED_24]));
}

#[tokio::test]
async fn complete_and_undo_a_day() {
    for undo in [false, true] {
        let mut mocks = Mocks::default();
        mocks.completions.expect_complete_day().returning(|_, _| Ok(committed(())));
        mocks.completions.expect_undo_day().returning(|_, _| Ok(committed(())));
        let (service, forgotten) = service(mocks);
        if undo {
            service.undo_day(USER, day("2026-11-24")).await.unwrap();
        } else {
            service.complete_day(USER, day("2026-11-24")).await.unwrap();
        }
        assert_eq!(*forgotten.lock().unwrap(), set(&[LOGS_24, DEL_24, STREAK, WEEK_48]), "undo: {undo}");
    }
}

#[tokio::test]
async fn create_food() {
    let mut mocks = Mocks::default();
    mocks.foods.expect_create_food().times(1).returning(|_, food| {
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
            grams_per_serving: macrotrack_domain::grams_per_serving(food.serving_size, &food.serving_unit),
            portions: Vec::new(),
        }))
    });
    let (service, forgotten) = service(mocks);
    let input = FoodInput {
        name: Some("Oats".into()),
        brand: None,
        serving_size: Some(40.0),
        serving_unit: Some("g".into()),
        calories: Some(150.0),
        protein_g: Some(5.0),
        carbs_g: Some(27.0),
        fat_g: Some(3.0),
    };
    service.create_food(USER, input).await.unwrap();
    assert_eq!(*forgotten.lock().unwrap(), set(&[FOOD_SEARCH]), "the user's searches show it; nothing else did");
}

#[tokio::test]
async fn set_targets() {
    let mut mocks = Mocks::default();
    mocks.users.expect_set_targets().times(1).returning(|_, _| Ok(Some(committed(()))));
    let (service, forgotten) = service(mocks);
    service.set_targets(USER, Macros::default()).await.unwrap();
    assert_eq!(*forgotten.lock().unwrap(), set(&[ME, EVERY_WEEK]));
}

#[tokio::test]
async fn set_the_time_zone() {
    let mut mocks = Mocks::default();
    let zone = macrotrack_domain::TimeZone::parse("Pacific/Auckland").unwrap();
    mocks
        .users
        .expect_set_timezone()
        .withf(move |_, set| *set == zone)
        .times(1)
        .returning(|_, _| Ok(Some(committed(()))));
    let (service, forgotten) = service(mocks);
    service.set_timezone(USER, zone).await.unwrap();
    // Streaks and day screens are addressed by their date: the default
    // today is read from `me`, the one entry that shows the zone.
    assert_eq!(*forgotten.lock().unwrap(), set(&[ME]));
}

#[tokio::test]
async fn edit_a_food() {
    let mut mocks = Mocks::default();
    mocks.foods.expect_update_food().times(1).returning(|_, id, _, _| {
        Ok(committed(macrotrack_domain::Food {
            id,
            name: "Porridge".into(),
            brand: None,
            serving_size: Amount::from_hundredths(4000),
            serving_unit: "g".into(),
            per_serving: Macros::default(),
            owner: macrotrack_domain::FoodOwner::User,
            generic: false,
            source: None,
            barcode: None,
            grams_per_serving: Some(Amount::from_hundredths(4000)),
            portions: Vec::new(),
        }))
    });
    let (service, forgotten) = service(mocks);
    let input = FoodInput { name: Some("Porridge".into()), ..FoodInput::default() };
    service.edit_food(USER, FoodId(100), input).await.unwrap();
    assert_eq!(
        *forgotten.lock().unwrap(),
        set(&[FREQUENT, FOOD_SEARCH, RECENT, FOOD_BY_ID]),
        "log entries keep their snapshot"
    );
}

/// Every date of the plan, 24 to 30 November.
fn plan_dates() -> Vec<String> {
    (24..=30).map(|day| format!("macro:{{user:42}}:gen:schedule:2026-11-{day}")).collect()
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

#[tokio::test]
async fn schedule_a_meal_plan() {
    let mut mocks = Mocks::default();
    mocks.plans.expect_schedule_meal_plan().times(1).returning(|_, _, _| Ok(committed(scheduled_plan())));
    let (service, forgotten) = service(mocks);
    service.schedule_meal_plan(USER, MealPlanId(2), day("2026-11-24")).await.unwrap();
    assert_eq!(*forgotten.lock().unwrap(), plan_dates().into_iter().collect());
}

#[tokio::test]
async fn delete_a_scheduled_meal() {
    let mut mocks = Mocks::default();
    mocks.plans.expect_delete_scheduled_meal().times(1).returning(|_, _| Ok(Some(committed(day("2026-11-24")))));
    let (service, forgotten) = service(mocks);
    service.delete_scheduled_meal(USER, ScheduledMealId(9)).await.unwrap();
    assert_eq!(*forgotten.lock().unwrap(), set(&[SCHED_24]));
}

#[tokio::test]
async fn delete_a_scheduled_plan() {
    let mut mocks = Mocks::default();
    mocks.plans.expect_delete_scheduled_plan().times(1).returning(|_, _| Ok(Some(committed(scheduled_plan()))));
    let (service, forgotten) = service(mocks);
    service.delete_scheduled_plan(USER, ScheduledPlanId(3)).await.unwrap();
    assert_eq!(*forgotten.lock().unwrap(), plan_dates().into_iter().collect());
}

#[tokio::test]
async fn delete_the_user() {
    let mut mocks = Mocks::default();
    mocks.users.expect_delete_user().times(1).returning(|_| Ok(Some(committed(()))));
    let (service, forgotten) = service(mocks);
    service.delete_user(USER).await.unwrap();
    assert_eq!(*forgotten.lock().unwrap(), set(&[EPOCH]));
}

#[tokio::test]
async fn failed_or_refused_writes_forget_nothing() {
    for failure in 0..4 {
        let mut mocks = Mocks::default();
        mocks.logs.expect_create_log_entries().returning(move |_, _, _| {
            Err(match failure {
                0 => CreateLogsError::UnknownFood { index: 0 },
                _ => CreateLogsError::Unavailable(Unavailable::new(anyhow::anyhow!("down"))),
            })
        });
        mocks.logs.expect_delete_log_entry().returning(|_, _| Ok(None));
        mocks.users.expect_set_targets().returning(|_, _| Ok(None));
        mocks.outbox.expect_done().never();
        let mut store = MockCacheStore::new();
        store.expect_bump().never();
        let repos = Repositories {
            users: Arc::new(mocks.users),
            foods: Arc::new(mocks.foods),
            recipes: Arc::new(mocks.recipes),
            logs: Arc::new(mocks.logs),
            completions: Arc::new(mocks.completions),
            plans: Arc::new(mocks.plans),
            outbox: Arc::new(mocks.outbox),
            idempotency: Arc::new(macrotrack_ports::MockIdempotencyRepository::new()),
        };
        let service = Service::new(
            repos,
            Engine::new(store, Arc::new(SystemClock), EngineConfig::default()),
            Arc::new(SystemClock),
            Policies::default(),
        );
        let (kind, invalid) = match failure {
            0 | 1 => {
                let batch = vec![new_entry("2026-11-24", LogItem::Food(FoodId(9)))];
                let error = service.create_log_entries(USER, batch).await.unwrap_err();
                (error.kind(), error.invalid().cloned())
            }
            2 => (service.delete_log_entry(USER, LogEntryId(1)).await.unwrap_err().kind(), None),
            _ => (service.set_targets(USER, Macros::default()).await.unwrap_err().kind(), None),
        };
        match (failure, kind) {
            (0, ErrorKind::Invalid) => assert_eq!(invalid.unwrap().errors()[0].field, "entries.0.food_id"),
            (1, ErrorKind::Unavailable) | (2 | 3, ErrorKind::NotFound) => {}
            (_, other) => panic!("case {failure}: unexpected {other:?}"),
        }
    }
}
