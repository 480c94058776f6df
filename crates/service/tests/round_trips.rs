//! The hot reads cost one store round trip: `authenticated` reads the
//! token's credential and the request's entries together, on the in-process
//! store and on a real Redis, and nothing read ahead is answered to a token
//! that does not check out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use macrotrack_cache::observed::Observed;
use macrotrack_cache::{Engine, EngineConfig, MemoryStore};
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_domain::{Amount, Day, LogAmount, LogItem, Meal, NewLogEntry};
use macrotrack_ports::{CacheStore, Clock, SystemClock};
use macrotrack_service::{AuthError, Policies, ReadAhead, Repositories, Service};
use macrotrack_testkit::{redis_url, skip_or_fail, unique_name};

/// The store's read round trips since the last call.
fn reads<S: CacheStore>(store: &Observed<S>) -> usize {
    store.take(&["read", "read_many"])
}

fn service<S: CacheStore>(repos: Repositories, store: S, enabled: bool) -> Service<S> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let config = EngineConfig { enabled, ..EngineConfig::default() };
    Service::new(repos, Engine::new(store, clock.clone(), config), clock, Policies::default())
}

async fn repositories() -> Repositories {
    let repository = SeaOrmRepository::connect(&DbConfig::new("sqlite::memory:")).await.expect("sqlite");
    repository.migrate().await.expect("migrate");
    Repositories::from_one(repository)
}

async fn one_round_trip_per_hot_read<S: CacheStore>(store: Arc<Observed<S>>) {
    let repos = repositories().await;
    let cached = service(repos.clone(), store.clone(), true);
    let plain = service(repos, MemoryStore::new(1 << 20), false);
    let created = cached.create_user("hot").await.unwrap();
    let (user, token) = (created.user.id, created.token);
    let date: Day = "2026-11-24".parse().unwrap();
    let food = cached.search_foods(user, "", Some(1), None).await.unwrap()[0].id;
    let entry = NewLogEntry {
        date,
        meal: Meal::Lunch,
        item: LogItem::Food(food),
        amount: LogAmount::Servings(Amount::from_hundredths(150)),
    };
    cached.create_log_entries(user, vec![entry]).await.unwrap();
    let truth = plain.day_logs_json(user, date).await.unwrap();
    let logs = async |as_user| cached.day_logs_json(as_user, date).await.unwrap();

    // Cold: misses fetch and store; then every entry is warm.
    assert_eq!(cached.authenticated(&token, &[ReadAhead::DayLogs(date)], logs).await.unwrap(), truth);
    reads(&store);
    for _ in 0..3 {
        let answer = cached.authenticated(&token, &[ReadAhead::DayLogs(date)], logs).await.unwrap();
        assert_eq!(answer, truth);
        assert_eq!(reads(&store), 1, "credential and day logs in one round trip");
    }
    // Without reading ahead, the same request costs two.
    let user_again = cached.authenticate(&token).await.unwrap();
    assert_eq!(cached.day_logs_json(user_again, date).await.unwrap(), truth);
    assert_eq!(reads(&store), 2, "the comparison: one round trip per read");

    // The dashboard reads ahead inside: still one round trip with the credential.
    let today = date;
    let screen = async |as_user| cached.dashboard(as_user, date, today).await.unwrap();
    let dashboard = ReadAhead::Dashboard { date, today: Some(today) };
    let first = cached.authenticated(&token, &[dashboard], screen).await.unwrap();
    reads(&store);
    assert_eq!(cached.authenticated(&token, &[dashboard], screen).await.unwrap(), first);
    assert_eq!(reads(&store), 1, "credential and the four entries of the day screen in one round trip");
    assert_eq!(first, plain.dashboard(user, date, today).await.unwrap());

    // A token with the right user id and selector but a wrong secret: the
    // read ahead happened, the body never runs, nothing is answered.
    let forged = format!("{}{}", &token[..token.len() - 64], "0".repeat(64));
    let ran = AtomicUsize::new(0);
    let refused = cached
        .authenticated(&forged, &[ReadAhead::DayLogs(date)], async |_| {
            ran.fetch_add(1, Ordering::SeqCst);
        })
        .await;
    assert!(matches!(refused, Err(AuthError::Unauthenticated)), "{refused:?}");
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    // A malformed token reads nothing at all.
    assert!(matches!(cached.authenticated("nonsense", &[], async |_| ()).await, Err(AuthError::Unauthenticated)));
    assert_eq!(reads(&store), 1, "only the forged token's read ahead");
}

#[tokio::test]
async fn hot_reads_cost_one_round_trip_in_process() {
    one_round_trip_per_hot_read(Observed::new(MemoryStore::new(1 << 24))).await;
}

#[tokio::test]
async fn hot_reads_cost_one_round_trip_on_redis() {
    let config =
        RedisConfig { key_prefix: format!("{}:", unique_name("round_trips")), ..RedisConfig::new(redis_url()) };
    let store = match RedisStore::connect(config).await {
        Ok(store) => store,
        Err(error) => return skip_or_fail("Redis", error),
    };
    one_round_trip_per_hot_read(Observed::new(store)).await;
}

/// With writes warming the days they change (as the server runs), the read
/// right after one's own write is a hit: one store round trip, no fetch,
/// and it holds the write; without, it is a miss.
async fn the_read_after_a_write<S: CacheStore>(store: Arc<Observed<S>>, warm_days: usize) -> (u64, u64, usize) {
    let repos = repositories().await;
    let cached = service(repos.clone(), store.clone(), true).warm_after_writes(warm_days);
    let created = cached.create_user("writer").await.unwrap();
    let (user, token) = (created.user.id, created.token);
    let date: Day = "2026-11-24".parse().unwrap();
    let food = cached.search_foods(user, "", Some(1), None).await.unwrap()[0].id;
    let logs = async |as_user| cached.day_logs_json(as_user, date).await.unwrap();
    cached.authenticated(&token, &[ReadAhead::DayLogs(date)], logs).await.unwrap();
    let entry = NewLogEntry {
        date,
        meal: Meal::Lunch,
        item: LogItem::Food(food),
        amount: LogAmount::Servings(Amount::from_hundredths(150)),
    };
    let stores = store.count("store_if_current");
    let written = cached.create_log_entries(user, vec![entry]).await.unwrap()[0].id;
    if warm_days > 0 {
        // The day is read again in a task of its own: let it store.
        for _ in 0..5_000 {
            if store.count("store_if_current") > stores {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    let before = cached.cache().stats();
    reads(&store);
    let day = cached.authenticated(&token, &[ReadAhead::DayLogs(date)], logs).await.unwrap();
    let after = cached.cache().stats();
    let day: serde_json::Value = serde_json::from_slice(&day).unwrap();
    assert_eq!(day["entries"][0]["id"], written.0, "the read holds the write");
    (after.hit - before.hit, after.fetches - before.fetches, reads(&store))
}

#[tokio::test]
async fn the_read_after_ones_own_write_is_a_hit_in_process() {
    let (hits, fetches, round_trips) = the_read_after_a_write(Observed::new(MemoryStore::new(1 << 24)), 3).await;
    assert_eq!((hits, fetches, round_trips), (2, 0, 1), "credential and day logs: hits, one round trip");
    let (hits, fetches, _) = the_read_after_a_write(Observed::new(MemoryStore::new(1 << 24)), 0).await;
    assert_eq!((hits, fetches), (1, 1), "not warmed: the day is a miss");
}

#[tokio::test]
async fn the_read_after_ones_own_write_is_a_hit_on_redis() {
    let config =
        RedisConfig { key_prefix: format!("{}:", unique_name("read_after_write")), ..RedisConfig::new(redis_url()) };
    let store = match RedisStore::connect(config).await {
        Ok(store) => store,
        Err(error) => return skip_or_fail("Redis", error),
    };
    let (hits, fetches, round_trips) = the_read_after_a_write(Observed::new(store), 3).await;
    assert_eq!((hits, fetches, round_trips), (2, 0, 1), "credential and day logs: hits, one round trip");
}
