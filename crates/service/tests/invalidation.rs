//! Use cases against mocked ports: what each mutation asks the cache store
//! to forget, exactly, and that a failed write forgets nothing.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use macrotrack_cache::{Engine, EngineConfig};
use macrotrack_domain::{
    Amount, Day, FoodId, LogEntry, LogEntryId, LogItem, Macros, Meal, NewLogEntry, Timestamp, UserId,
};
use macrotrack_ports::{
    CreateLogsError, MockCacheStore, MockFoodRepository, MockLogRepository, MockUserRepository, SystemClock,
    Unavailable,
};
use macrotrack_service::{Policies, Repositories, Service, WriteError};

const USER: UserId = UserId(42);

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

fn new_entry(date: &str, item: LogItem) -> NewLogEntry {
    NewLogEntry { date: day(date), meal: Meal::Lunch, item, servings: Amount::from_hundredths(100) }
}

fn stored(entry: &NewLogEntry, id: i64) -> LogEntry {
    let now = Timestamp::new(chrono::Utc::now());
    let (food_id, recipe_id) = match entry.item {
        LogItem::Food(food) => (Some(food), None),
        LogItem::Recipe(recipe) => (None, Some(recipe)),
    };
    LogEntry {
        id: LogEntryId(id),
        date: entry.date,
        meal: entry.meal,
        food_id,
        recipe_id,
        name: "Oats".into(),
        servings: entry.servings,
        macros: Macros::default(),
        created_at: now,
        updated_at: now,
    }
}

/// A store that records every guard bumped and every key deleted.
fn recording_store() -> (MockCacheStore, Arc<Mutex<BTreeSet<String>>>) {
    let bumped = Arc::new(Mutex::new(BTreeSet::new()));
    let mut store = MockCacheStore::new();
    let sink = bumped.clone();
    store.expect_bump().returning(move |guards, delete, _| {
        let mut sink = sink.lock().unwrap();
        sink.extend(guards.iter().map(|(guard, _)| guard.clone()));
        sink.extend(delete.iter().map(|key| format!("delete {key}")));
        Ok(())
    });
    (store, bumped)
}

fn service(logs: MockLogRepository, store: MockCacheStore) -> Service<MockCacheStore> {
    let repos = Repositories {
        users: Arc::new(MockUserRepository::new()),
        foods: Arc::new(MockFoodRepository::new()),
        logs: Arc::new(logs),
    };
    let engine = Engine::new(store, Arc::new(SystemClock), EngineConfig::default());
    Service::new(repos, engine, Arc::new(SystemClock), Policies::default())
}

#[tokio::test]
async fn batch_over_two_dates_forgets_exactly_its_matrix_row() {
    let mut logs = MockLogRepository::new();
    logs.expect_create_log_entries()
        .times(1)
        .returning(|_, entries, _| Ok(entries.iter().enumerate().map(|(i, e)| stored(e, i as i64 + 1)).collect()));
    let (store, bumped) = recording_store();
    let service = service(logs, store);
    let batch = vec![
        new_entry("2026-11-24", LogItem::Food(FoodId(1))),
        new_entry("2026-11-25", LogItem::Food(FoodId(2))),
        new_entry("2026-11-24", LogItem::Food(FoodId(3))),
    ];
    let created = service.create_log_entries(USER, batch).await.unwrap();
    assert_eq!(created.len(), 3);
    let expected: BTreeSet<String> = [
        "macro:{user:42}:gen:logs:2026-11-24",
        "macro:{user:42}:gen:logs:2026-11-25",
        "delete macro:{user:42}:logs:2026-11-24",
        "delete macro:{user:42}:logs:2026-11-25",
        "macro:{user:42}:tag:user_42_food",
        "macro:{user:42}:tag:user_42_logs",
    ]
    .map(String::from)
    .into();
    assert_eq!(*bumped.lock().unwrap(), expected);
}

#[tokio::test]
async fn failed_batch_forgets_nothing() {
    for failure in [0, 1] {
        let mut logs = MockLogRepository::new();
        logs.expect_create_log_entries().times(1).returning(move |_, _, _| {
            Err(if failure == 0 {
                CreateLogsError::UnknownFood { index: 0 }
            } else {
                CreateLogsError::Unavailable(Unavailable::new(anyhow::anyhow!("down")))
            })
        });
        let mut store = MockCacheStore::new();
        store.expect_bump().never();
        let service = service(logs, store);
        let error = service
            .create_log_entries(USER, vec![new_entry("2026-11-24", LogItem::Food(FoodId(9)))])
            .await
            .unwrap_err();
        match (failure, error) {
            (0, WriteError::Invalid(errors)) => assert_eq!(errors.errors()[0].field, "entries.0.food_id"),
            (1, WriteError::Unavailable(_)) => {}
            (_, other) => panic!("unexpected {other:?}"),
        }
    }
}
