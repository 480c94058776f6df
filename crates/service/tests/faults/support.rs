//! Shared by the fault tests: databases and Redis servers of their own,
//! cached and uncached services over one database, and a load of writers
//! that check every read after their own write against the database.

#![allow(dead_code)] // each test uses a different part

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use macrotrack_cache::{BreakerConfig, Engine, EngineConfig, MemoryStore};
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_domain::{Amount, Day, FoodId, LogAmount, LogItem, Meal, NewLogEntry, UserId};
use macrotrack_ports::{CacheStore, Clock, SystemClock};
use macrotrack_service::{Policies, Repositories, Service};
use macrotrack_testkit::unique_name;

/// Every fault test holds this: they start and stop servers, restart one
/// on a port it freed, and measure time windows on a 2-core machine.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Short, so a paused Redis is noticed quickly.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(100);

/// A SQLite file in a directory of its own, removed on drop.
pub struct SqliteFile {
    pub url: String,
    dir: PathBuf,
}

impl SqliteFile {
    pub fn new() -> SqliteFile {
        let dir = std::env::temp_dir().join(unique_name("macrotrack_faults"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        SqliteFile { url: format!("sqlite://{}", dir.join("macrotrack.db").display()), dir }
    }

    /// A new pool on the file, migrated.
    pub async fn connect(&self) -> SeaOrmRepository {
        connect(&self.url).await
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub async fn connect(url: &str) -> SeaOrmRepository {
    let repository = SeaOrmRepository::connect(&DbConfig::new(url)).await.expect("database");
    repository.migrate().await.expect("migrate");
    repository
}

/// A store on a test's own Redis, under `prefix`.
pub async fn redis_store(url: &str, prefix: &str) -> RedisStore {
    let config = RedisConfig {
        key_prefix: prefix.to_owned(),
        command_timeout: COMMAND_TIMEOUT,
        connect_timeout: Duration::from_millis(500),
        ..RedisConfig::new(url)
    };
    RedisStore::connect(config).await.expect("the test's own redis-server answers")
}

/// The engine's defaults, with a breaker that probes again after 500 ms
/// (5 s by default) so recovery fits in a test, and the server's window
/// against a store behind this instance's own bumps (failovers).
pub fn engine_config() -> EngineConfig {
    EngineConfig {
        breaker: BreakerConfig { failure_threshold: 3, open_for: Duration::from_millis(500) },
        own_bumps_window: Some(Duration::from_secs(30)),
        ..EngineConfig::default()
    }
}

pub fn cached<S: CacheStore>(repos: Repositories, store: S) -> Service<S> {
    cached_with_clock(repos, store, Arc::new(SystemClock))
}

pub fn cached_with_clock<S: CacheStore>(repos: Repositories, store: S, clock: Arc<dyn Clock>) -> Service<S> {
    Service::new(repos, Engine::new(store, clock.clone(), engine_config()), clock, Policies::default())
}

/// The database's answer: the same use cases with the cache off.
pub fn uncached(repos: Repositories) -> Service<MemoryStore> {
    let config = EngineConfig { enabled: false, ..EngineConfig::default() };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Service::new(repos, Engine::new(MemoryStore::new(1 << 20), clock.clone(), config), clock, Policies::default())
}

/// A clock the test moves by hand.
#[derive(Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.0.load(Ordering::SeqCst))
    }
}

pub fn day(offset: i64) -> Day {
    "2026-11-24".parse::<Day>().ok().and_then(|d| d.plus_days(offset)).expect("a day in range")
}

pub fn food_entry(date: Day, food: FoodId) -> NewLogEntry {
    NewLogEntry {
        date,
        meal: Meal::Lunch,
        item: LogItem::Food(food),
        amount: LogAmount::Servings(Amount::from_hundredths(100)),
    }
}

pub async fn some_food<S: CacheStore>(service: &Service<S>, user: UserId) -> FoodId {
    service.search_foods(user, "", Some(5), None).await.expect("the seeded catalogue")[0].id
}

/// What a run of requests did.
#[derive(Debug, Default)]
pub struct Tally {
    pub requests: AtomicU64,
    pub failures: AtomicU64,
    pub stale: AtomicU64,
}

impl Tally {
    pub fn get(&self) -> (u64, u64, u64) {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        (load(&self.requests), load(&self.failures), load(&self.stale))
    }

    fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn failed(&self, what: &str, error: impl std::fmt::Debug) {
        eprintln!("failed request: {what}: {error:?}");
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    fn stale(&self, what: &str, user: UserId) {
        eprintln!("stale read: {what} of user {user}");
        self.stale.fetch_add(1, Ordering::Relaxed);
    }
}

/// Every cached read of `user` that a log entry on `date` changes, compared
/// with the database. Counts requests, failures and stale answers.
pub async fn check_reads<S: CacheStore>(
    cached: &Service<S>,
    plain: &Service<MemoryStore>,
    user: UserId,
    date: Day,
    tally: &Tally,
) {
    tally.request();
    match (cached.day_logs(user, date).await, plain.day_logs(user, date).await) {
        (Ok(got), Ok(truth)) if got != truth => tally.stale("day logs", user),
        (Err(error), _) => tally.failed("day logs", error),
        _ => {}
    }
    tally.request();
    match (cached.frequent_foods(user, None).await, plain.frequent_foods(user, None).await) {
        (Ok(got), Ok(truth)) if got != truth => tally.stale("frequent foods", user),
        (Err(error), _) => tally.failed("frequent foods", error),
        _ => {}
    }
    tally.request();
    match (cached.summary(user, day(0), day(2)).await, plain.summary(user, day(0), day(2)).await) {
        (Ok(got), Ok(truth)) if got != truth => tally.stale("summary", user),
        (Err(error), _) => tally.failed("summary", error),
        _ => {}
    }
}

/// Until `until`: one writer per user, each logging an entry and then
/// checking every read of it against the database (read-your-writes), and
/// `readers` tasks reading all users (racing the writers' invalidations
/// with their stores). Returns the writes made and when each answered.
pub async fn load<S: CacheStore>(
    cached: &Service<S>,
    plain: &Service<MemoryStore>,
    users: &[UserId],
    food: FoodId,
    readers: usize,
    until: Instant,
    tally: &Arc<Tally>,
) -> Vec<(Instant, UserId, Day)> {
    let mut tasks = Vec::new();
    for (index, user) in users.iter().copied().enumerate() {
        let (cached, plain, tally) = (cached.clone(), plain.clone(), Arc::clone(tally));
        tasks.push(tokio::spawn(async move {
            let mut writes = Vec::new();
            let mut round = index as i64;
            while Instant::now() < until {
                let date = day(round % 3);
                round += 1;
                tally.request();
                if let Err(error) = cached.create_log_entries(user, vec![food_entry(date, food)]).await {
                    tally.failed("create log entries", error);
                    continue;
                }
                writes.push((Instant::now(), user, date));
                check_reads(&cached, &plain, user, date, &tally).await;
            }
            writes
        }));
    }
    for reader in 0..readers {
        let (cached, users, tally) = (cached.clone(), users.to_vec(), Arc::clone(tally));
        tasks.push(tokio::spawn(async move {
            let mut round = reader;
            while Instant::now() < until {
                let user = users[round % users.len()];
                let date = day((round % 3) as i64);
                round += 1;
                tally.request();
                if let Err(error) = cached.day_logs_json(user, date).await {
                    tally.failed("day logs json", error);
                }
                tally.request();
                if let Err(error) = cached.frequent_foods(user, None).await {
                    tally.failed("frequent foods", error);
                }
            }
            Vec::new()
        }));
    }
    let mut writes = Vec::new();
    for task in tasks {
        writes.extend(task.await.expect("no task panics"));
    }
    writes
}

/// Waits until `condition` holds, polling; panics after `limit`.
pub async fn eventually(what: &str, limit: Duration, mut condition: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !condition().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
