//! Tokens that name nothing leave nothing behind: 1000 made-up, well-formed
//! tokens (unknown users, unknown selectors of a real user, a real selector
//! with a wrong secret) sent the ways requests send them, and the store
//! holds exactly the keys it held before, in process and on Redis.

use std::sync::Arc;

use fred::prelude::{Builder, ClientLike, Config};
use fred::types::{ClusterHash, CustomCommand, Value};
use macrotrack_cache::{Engine, EngineConfig, LeaseConfig, MemoryStore};
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_domain::{Amount, Day, FoodId, LogAmount, LogItem, Meal, NewLogEntry};
use macrotrack_ports::{CacheStore, Clock, SystemClock};
use macrotrack_service::{AuthError, Policies, ReadAhead, Repositories, Service};
use macrotrack_testkit::{redis_url, skip_or_fail, unique_name};

/// A made-up token of user `user`.
fn forged(user: i64, n: u64) -> String {
    format!("mt_{user}_{:016x}_{n:064x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Sends 1000 made-up tokens through `service` and answers how many keys
/// the store gained (`keys` counts them).
async fn keys_left_by_made_up_tokens<S: CacheStore>(store: S, keys: impl AsyncFn() -> usize) -> i64 {
    let repository = SeaOrmRepository::connect(&DbConfig::new("sqlite::memory:")).await.expect("sqlite");
    repository.migrate().await.expect("migrations");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // As with Redis in production: leases on, guards as long as entries.
    let policies = Policies::default();
    let config = EngineConfig {
        lease: Some(LeaseConfig::default()),
        guard_ttls: policies.guard_ttls(),
        ..EngineConfig::default()
    };
    let engine = Engine::new(store, clock.clone(), config);
    let service = Service::new(Repositories::from_one(repository), engine, clock, policies);
    // A real user with a cached day, so the store is not empty.
    let created = service.create_user("real").await.expect("a user");
    let date: Day = "2026-11-24".parse().unwrap();
    let entry = NewLogEntry {
        date,
        meal: Meal::Lunch,
        item: LogItem::Food(FoodId(1)),
        amount: LogAmount::Servings(Amount::from_hundredths(100)),
    };
    service.create_log_entries(created.user.id, vec![entry]).await.expect("an entry");
    let ahead = [ReadAhead::DayLogs(date)];
    let read = service.authenticated(&created.token, &ahead, async |user| service.day_logs_json(user, date).await);
    read.await.expect("a real token").expect("the day");
    let selector = created.token.split('_').nth(2).expect("a selector").to_owned();

    let before = keys().await;
    let real = created.user.id.0;
    let today = service.today();
    for n in 0..1000u64 {
        let token = match n % 10 {
            // A user id that does not exist.
            0..=5 => forged(1_000_000 + n as i64, n),
            // The real user, a selector they do not have.
            6..=8 => forged(real, n),
            // The real user's selector, a wrong secret.
            _ => format!("mt_{real}_{selector}_{n:064x}"),
        };
        let ahead = [ReadAhead::DayLogs(date), ReadAhead::Dashboard { date, today: Some(today) }];
        let refused = service.authenticated(&token, &ahead, async |_| ()).await;
        assert!(matches!(refused, Err(AuthError::Unauthenticated)), "{token}: {refused:?}");
        assert!(matches!(service.authenticate(&token).await, Err(AuthError::Unauthenticated)), "{token}");
    }
    keys().await as i64 - before as i64
}

#[tokio::test]
async fn made_up_tokens_leave_no_key_in_process() {
    let store = MemoryStore::new(64 << 20);
    let counted = store.clone();
    let added = keys_left_by_made_up_tokens(store, async || counted.len()).await;
    assert_eq!(added, 0, "keys added by 1000 made-up tokens");
}

#[tokio::test]
async fn made_up_tokens_leave_no_key_on_redis() {
    let prefix = format!("{}:", unique_name("unknown_tokens"));
    let config = RedisConfig { key_prefix: prefix.clone(), ..RedisConfig::new(redis_url()) };
    let store = match RedisStore::connect(config).await {
        Ok(store) => store,
        Err(error) => return skip_or_fail("Redis", error),
    };
    let raw = Builder::from_config(Config::from_url(&redis_url()).expect("url")).build().expect("a client");
    raw.init().await.expect("a raw connection");
    let keys = async || {
        let command = CustomCommand::new_static("KEYS", ClusterHash::Random, false);
        let found: Value = raw.custom(command, vec![format!("{prefix}*")]).await.expect("KEYS");
        found.into_array().len()
    };
    let added = keys_left_by_made_up_tokens(store, keys).await;
    assert_eq!(added, 0, "keys added by 1000 made-up tokens");
}
