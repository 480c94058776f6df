//! The window of cached dates and the guards' lifetimes, against mocked
//! ports: a read of a date more than 400 days from the user's today (a
//! streak's `today` more than a day from it) writes nothing to the store, at
//! any read path: far from every zone's window it makes no call at all,
//! and near the edge only the user's `me` entry (their zone) is read; one
//! inside it is cached; and each guard is made to live as long as its
//! family's entries can, no longer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use macrotrack_cache::{Engine, EngineConfig, MemoryStore, Policy, observed::Observed};
use macrotrack_cache_keys::ReadFamily;
use macrotrack_domain::{
    Amount, Day, DayLogs, FoodId, LogAmount, LogEntry, LogEntryId, LogItem, Macros, Meal, NewLogEntry, ScheduleDay,
    Streak, Timestamp, User, UserId,
};
use macrotrack_ports::{
    BumpOutcome, CacheStore, Clock, Committed, MockCacheStore, MockCompletionRepository, MockFoodRepository,
    MockLogRepository, MockOutboxRepository, MockPlanRepository, MockRecipeRepository, MockUserRepository, OutboxId,
    Snapshot, StoreOutcome,
};
use macrotrack_service::{Policies, Repositories, Service};

const USER: UserId = UserId(42);

/// Noon on 6 December 2026, always.
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
    }
}

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

fn today() -> Day {
    day("2026-12-06")
}

fn days_from_today(days: i64) -> Day {
    today().plus_days(days).unwrap()
}

/// Repositories answering every read a test here makes, and the writes.
fn repositories() -> Repositories {
    let mut users = MockUserRepository::new();
    users
        .expect_user()
        .returning(|id| Ok(Some(User { id, name: "Ann".into(), targets: None, timezone: Default::default() })));
    users.expect_set_targets().returning(|_, _| Ok(Some(Committed::new((), OutboxId(1)))));
    let mut foods = MockFoodRepository::new();
    foods.expect_frequent_foods().returning(|_, _| Ok(Vec::new()));
    let mut logs = MockLogRepository::new();
    logs.expect_day_logs().returning(|_, date| Ok(DayLogs::new(date, false, Vec::new())));
    logs.expect_summary().returning(|_, _, _| Ok(Vec::new()));
    logs.expect_create_log_entries().returning(|_, entries, _| {
        let now = Timestamp::new(Utc::now());
        let created = entries
            .iter()
            .map(|new| LogEntry {
                id: LogEntryId(1),
                date: new.date,
                meal: new.meal,
                food_id: Some(FoodId(1)),
                recipe_id: None,
                name: "Oats".into(),
                servings: Amount::from_hundredths(100),
                grams: None,
                portion: None,
                macros: Macros::default(),
                created_at: now,
                updated_at: now,
            })
            .collect();
        Ok(Committed::new(created, OutboxId(2)))
    });
    let mut completions = MockCompletionRepository::new();
    completions.expect_completed_between().returning(|_, _, _| Ok(Vec::new()));
    completions.expect_streak().returning(|_, _| Ok(Streak { current: 0, longest: 0, last_completed: None }));
    completions.expect_complete_day().returning(|_, _| Ok(Committed::new((), OutboxId(3))));
    let mut plans = MockPlanRepository::new();
    plans.expect_schedule_day().returning(|_, date| Ok(ScheduleDay::new(date, None, Vec::new())));
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_done().returning(|_| Ok(()));
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

fn service<S: CacheStore>(store: S) -> Service<S> {
    let policies = Policies::default();
    let config = EngineConfig { guard_ttls: policies.guard_ttls(), ..EngineConfig::default() };
    let engine = Engine::new(store, Arc::new(Fixed), config);
    Service::new(repositories(), engine, Arc::new(Fixed), policies)
}

/// Every date-addressed read of `date` (a streak's of `date` as its today).
async fn read_every_way<S: CacheStore>(service: &Service<S>, date: Day) {
    service.day_logs(USER, date).await.unwrap();
    service.day_logs_json(USER, date).await.unwrap();
    service.schedule_day(USER, date).await.unwrap();
    service.week(USER, date.min(day("2200-12-25"))).await.unwrap();
    service.summary(USER, date, date).await.unwrap();
    service.streak(USER, date).await.unwrap();
}

#[tokio::test]
async fn reads_outside_every_zones_window_make_no_call_to_the_store() {
    // A mock with no expectation fails the test on any call at all.
    let service = service(MockCacheStore::new());
    for date in [days_from_today(-410), days_from_today(410), day("1900-01-01"), day("2200-12-31")] {
        read_every_way(&service, date).await;
    }
    // A streak as of three days from UTC's today is outside every zone's
    // streak window (every zone's today is within a day of UTC's).
    service.streak(USER, days_from_today(3)).await.unwrap();
    service.streak(USER, days_from_today(-3)).await.unwrap();
    // Each read is counted as a bypass (a week may be two entries).
    assert!(service.cache().stats().bypass >= 4 * 6 + 2, "{:?}", service.cache().stats());
}

#[tokio::test]
async fn reads_inside_the_window_are_cached_up_to_its_edges() {
    let store = Observed::new(MemoryStore::new(1 << 20));
    let service = service(store.clone());
    for edge in [-400, 400] {
        let date = days_from_today(edge);
        read_every_way(&service, date).await;
        // The day's own entries are stored (its week and month reach past the edge).
        for key in [format!("macro:{{user:42}}:logs:{date}"), format!("macro:{{user:42}}:q:schedule:{date}")] {
            assert_eq!(store.count_on("store_if_current", &key), 1, "{key}: the edge {edge} is inside the window");
        }
        store.take(&[]);
    }
    for near in [-1, 0, 1] {
        service.streak(USER, days_from_today(near)).await.unwrap();
        assert_eq!(store.take(&["store_if_current"]), 1, "a streak as of today {near:+} is cached");
    }
    for outside in [-410, 402] {
        read_every_way(&service, days_from_today(outside)).await;
        assert_eq!(store.methods(false), Vec::<&str>::new(), "{outside}: no call at all");
    }
    for outside in [-3, 3] {
        service.streak(USER, days_from_today(outside)).await.unwrap();
        assert_eq!(store.methods(false), Vec::<&str>::new(), "streak as of today {outside:+}: no call");
    }
    // Just past the edge, whether the date is in the window is asked of the
    // user's zone (their `me` entry, cached above): read, nothing written.
    for outside in [-401, 401] {
        read_every_way(&service, days_from_today(outside)).await;
        assert_eq!(store.methods(true), Vec::<&str>::new(), "{outside}: nothing written");
        store.take(&[]);
    }
    for outside in [-2, 2] {
        service.streak(USER, days_from_today(outside)).await.unwrap();
        assert_eq!(store.methods(true), Vec::<&str>::new(), "streak as of today {outside:+}: nothing written");
        assert_eq!(store.count_on("read", "macro:{user:42}:q:me"), 1, "{outside}: the zone is read");
        store.take(&[]);
    }
}

/// The window is centred on the user's today in their zone: at noon UTC on
/// 6 December, Kiritimati (UTC+14) is on the 7th, Pago Pago (UTC-11) on the
/// 6th, so a streak as of the 8th is cached for the one and not the other.
#[tokio::test]
async fn the_window_is_centred_on_the_users_today() {
    for (zone, kept) in [("Pacific/Kiritimati", true), ("Pacific/Pago_Pago", false), ("UTC", false)] {
        let zone = macrotrack_domain::TimeZone::parse(zone).unwrap();
        let mut users = MockUserRepository::new();
        users
            .expect_user()
            .returning(move |id| Ok(Some(User { id, name: "Ann".into(), targets: None, timezone: zone })));
        let repos = Repositories { users: Arc::new(users), ..repositories() };
        let store = Observed::new(MemoryStore::new(1 << 20));
        let policies = Policies::default();
        let engine = Engine::new(store.clone(), Arc::new(Fixed), EngineConfig::default());
        let service = Service::new(repos, engine, Arc::new(Fixed), policies);
        assert_eq!(service.today_of(USER).await, if kept { days_from_today(1) } else { today() });
        service.streak(USER, days_from_today(2)).await.unwrap();
        let stored = store.count_on("store_if_current", "macro:{user:42}:q:streak:2026-12-08");
        assert_eq!(stored, usize::from(kept), "{zone}");
    }
}

/// What the store was asked to keep, per guard key: the ttls it was given.
type Ttls = Arc<Mutex<BTreeMap<String, Vec<Duration>>>>;

/// A store recording the ttl of every guard it is asked to create or bump
/// (the entry key of an init, to tell which read it was for).
fn recording_store(inits: Ttls, bumps: Ttls) -> MockCacheStore {
    let mut store = MockCacheStore::new();
    store.expect_read().returning(|_, guards| Ok(Snapshot { value: None, guards: vec![None; guards.len()] }));
    store.expect_read_many().returning(|reads| {
        Ok(reads.iter().map(|(_, guards)| Snapshot { value: None, guards: vec![None; guards.len()] }).collect())
    });
    store.expect_init_guards().returning(move |guards, fresh, ttl| {
        let mut inits = inits.lock().unwrap();
        for guard in guards {
            inits.entry(guard.clone()).or_default().push(ttl);
        }
        Ok(fresh.to_vec())
    });
    store.expect_store_if_current().returning(|_, _, _, _, _, _| Ok(StoreOutcome::Stored));
    store.expect_bump().returning(move |guards, _, ttls| {
        let mut bumps = bumps.lock().unwrap();
        for ((guard, _), ttl) in guards.iter().zip(ttls) {
            bumps.entry(guard.clone()).or_default().push(*ttl);
        }
        Ok(BumpOutcome::Durable)
    });
    store
}

/// The family a guard key belongs to (`None`: the user's epoch).
fn family_of(guard: &str) -> Option<ReadFamily> {
    let label = guard.split(":gen:").nth(1)?.split(':').next()?;
    Some(ReadFamily::ALL.into_iter().find(|family| family.label() == label).expect("a known family"))
}

#[tokio::test]
async fn each_guard_lives_as_long_as_its_familys_entries_no_longer() {
    let (inits, bumps) = (Ttls::default(), Ttls::default());
    let service = service(recording_store(inits.clone(), bumps.clone()));
    let policies = Policies::default();
    let lifetime = |family: ReadFamily| {
        let Policy { ttl, swr } = policies.of(family);
        ttl + swr
    };
    // A guard of each family made by a read of it, then bumped by a write.
    service.me(USER).await.unwrap();
    service.frequent_foods(USER, None).await.unwrap();
    read_every_way(&service, today()).await;
    let servings = Amount::from_hundredths(100);
    let entry = NewLogEntry {
        date: today(),
        meal: Meal::Lunch,
        item: LogItem::Food(FoodId(1)),
        amount: LogAmount::Servings(servings),
    };
    service.create_log_entries(USER, vec![entry]).await.unwrap();
    service.complete_day(USER, today()).await.unwrap();
    service.set_targets(USER, Macros::default()).await.unwrap();

    let bumps = bumps.lock().unwrap();
    let bumped: Vec<ReadFamily> = bumps.keys().filter_map(|guard| family_of(guard)).collect();
    // (The credential has no guard but the epoch; a food entry leaves schedules be;
    // no user's write reaches the catalogue's shared reads, and no food was edited.)
    let unbumped = [
        ReadFamily::Credential,
        ReadFamily::Schedule,
        ReadFamily::CatalogueSearch,
        ReadFamily::Barcode,
        ReadFamily::Food,
    ];
    for family in ReadFamily::ALL.into_iter().filter(|family| !unbumped.contains(family)) {
        assert!(bumped.contains(&family), "no guard of {family:?} was bumped: {bumps:?}");
    }
    for (guard, ttls) in bumps.iter() {
        let expected = family_of(guard).map_or(policies.longest_lifetime(), lifetime);
        assert!(ttls.iter().all(|ttl| *ttl == expected), "{guard} bumped to live {ttls:?}, not {expected:?}");
    }
    // A family's own guards are created to live as long as its entries.
    let inits = inits.lock().unwrap();
    for (guard, ttls) in inits.iter().filter(|(guard, _)| family_of(guard).is_some()) {
        let expected = lifetime(family_of(guard).unwrap());
        assert!(ttls.iter().all(|ttl| *ttl == expected), "{guard} created to live {ttls:?}, not {expected:?}");
    }
    assert_eq!(lifetime(ReadFamily::Logs), Duration::from_secs(20 * 60), "the day's logs live 20 minutes");
}
