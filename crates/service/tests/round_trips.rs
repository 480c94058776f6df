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
use macrotrack_domain::{Amount, Day, LogItem, Meal, NewLogEntry};
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
    let food = cached.search_foods(user, "", Some(1)).await.unwrap()[0].id;
    let entry =
        NewLogEntry { date, meal: Meal::Lunch, item: LogItem::Food(food), servings: Amount::from_hundredths(150) };
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
    let dashboard = ReadAhead::Dashboard { date, today };
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
