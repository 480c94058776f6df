//! What a cache hit costs, against the store's own round trip, and what a
//! tag invalidation costs with 1 vs 100 000 entries under the tag.
//! `cargo xtask bench` runs this and writes the ratios to docs/benchmarks.md.

use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use fred::prelude::{Builder, ClientLike, Config, Expiration, KeysInterface};
use macrotrack_cache::{Engine, EngineConfig, Freshness, MemoryStore, Policy};
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_cache_keys::{Bucket, EntryAddress, Guard, QueryKey, ReadFamily, Target, Tier1Key};
use macrotrack_domain::{Amount, Day, DayLogs, FoodId, LogEntry, LogEntryId, Macros, Meal, Timestamp, UserId};
use macrotrack_ports::{CacheStore, SystemClock};

const POLICY: Policy = Policy { ttl: Duration::from_secs(3600), swr: Duration::from_secs(3600) };

/// A day of six entries, the size of a typical `GET /v1/logs` answer.
fn day_logs(user: UserId, date: Day) -> DayLogs {
    let now = Timestamp::new(chrono::Utc::now());
    let entries = (0..6)
        .map(|i| LogEntry {
            id: LogEntryId(1000 + i),
            date,
            meal: Meal::ALL[(i % 4) as usize],
            food_id: Some(FoodId(i)),
            recipe_id: None,
            name: format!("Food number {i} with a name"),
            servings: Amount::from_hundredths(150),
            grams: None,
            portion: None,
            macros: Macros {
                calories: Amount::from_hundredths(31250),
                protein_g: Amount::from_hundredths(1225),
                carbs_g: Amount::from_hundredths(4010),
                fat_g: Amount::from_hundredths(875),
            },
            created_at: now,
            updated_at: now,
        })
        .collect();
    let _ = user;
    DayLogs::new(date, false, entries)
}

fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|url| url.starts_with("redis://"))
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into())
}

fn bench_hits(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let date: Day = "2026-11-24".parse().unwrap();
    let user = UserId(1);
    let address =
        EntryAddress::tier1(Tier1Key::DayLogs { user, date }, &[Guard::new(user, ReadFamily::Logs, Bucket::Day(date))]);
    let value = day_logs(user, date);
    let fetch = {
        let value = value.clone();
        move || std::future::ready(Ok::<DayLogs, String>(value.clone()))
    };
    let mut group = c.benchmark_group("hit");

    // In-process store.
    let memory = Engine::new(MemoryStore::new(64 << 20), Arc::new(SystemClock), EngineConfig::default());
    runtime.block_on(memory.read(&address, POLICY, Freshness::Cached, DayLogs::check, fetch.clone())).unwrap();
    group.bench_function("tier1_in_process", |b| {
        b.to_async(&runtime).iter(|| memory.read(&address, POLICY, Freshness::Cached, DayLogs::check, fetch.clone()))
    });
    group.bench_function("tier1_in_process_json", |b| {
        b.to_async(&runtime)
            .iter(|| memory.read_json(&address, POLICY, Freshness::Cached, DayLogs::check, fetch.clone()))
    });

    // Redis: the engine's hit against a raw GET of the very same bytes.
    let mut config = RedisConfig::new(redis_url());
    config.key_prefix = format!("bench{}:", std::process::id());
    let store = match runtime.block_on(RedisStore::connect(config.clone())) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("skipping the Redis benches: {error}");
            return;
        }
    };
    let redis = Engine::new(store.clone(), Arc::new(SystemClock), EngineConfig::default());
    runtime.block_on(redis.read(&address, POLICY, Freshness::Cached, DayLogs::check, fetch.clone())).unwrap();
    let stored = runtime.block_on(store.read(&address.key, &address.guards)).unwrap().value.unwrap();
    let raw = Builder::from_config(Config::from_url(&redis_url()).unwrap()).build().unwrap();
    runtime.block_on(raw.init()).unwrap();
    let raw_key = format!("{}raw", config.key_prefix);
    runtime.block_on(raw.set::<(), _, _>(&raw_key, stored.to_vec(), Some(Expiration::EX(600)), None, false)).unwrap();
    group.bench_function("raw_fred_get_same_bytes", |b| {
        b.to_async(&runtime).iter(|| async { raw.get::<bytes::Bytes, _>(&raw_key).await.unwrap() })
    });
    group.bench_function("tier1_redis", |b| {
        b.to_async(&runtime).iter(|| redis.read(&address, POLICY, Freshness::Cached, DayLogs::check, fetch.clone()))
    });
    group.bench_function("tier1_redis_json", |b| {
        b.to_async(&runtime)
            .iter(|| redis.read_json(&address, POLICY, Freshness::Cached, DayLogs::check, fetch.clone()))
    });
    group.finish();
}

fn bench_tag_invalidation(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut config = RedisConfig::new(redis_url());
    config.key_prefix = format!("benchtag{}:", std::process::id());
    config.pool_size = 8;
    let Ok(store) = runtime.block_on(RedisStore::connect(config)) else { return };
    let engine = Engine::new(store, Arc::new(SystemClock), EngineConfig::default());
    let mut group = c.benchmark_group("tag_invalidation");
    group.sample_size(30);
    for (user, entries) in [(UserId(10), 1u32), (UserId(11), 100_000u32)] {
        // Fill: `entries` cached queries, all under the user's user_food tag.
        runtime.block_on(async {
            futures_fill(&engine, user, entries).await;
        });
        let target = [Target::Guard(frequent_guard(user))];
        group.bench_function(format!("{entries}_entries"), |b| {
            b.to_async(&runtime).iter_batched(|| (), |_| engine.invalidate(&target), BatchSize::SmallInput)
        });
    }
    group.finish();
}

/// Caches `entries` frequent-foods queries (one per limit value) of `user`.
async fn futures_fill<S: CacheStore + Clone>(engine: &Engine<S>, user: UserId, entries: u32) {
    let guards = [frequent_guard(user)];
    let mut limit = 0;
    while limit < entries {
        let mut batch = tokio::task::JoinSet::new();
        for limit in limit..(limit + 500).min(entries) {
            let address = EntryAddress::tier2(QueryKey::FrequentFoods { user, limit }, &guards);
            let engine = engine.clone();
            batch.spawn(async move {
                let fetch = || std::future::ready(Ok::<u32, String>(7));
                engine.read(&address, POLICY, Freshness::Cached, |_| Ok(()), fetch).await.unwrap();
            });
        }
        batch.join_all().await;
        limit += 500;
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench_hits, bench_tag_invalidation
}
criterion_main!(benches);

/// The guard every frequent-foods entry of `user` records (what the
/// user_food tag was).
fn frequent_guard(user: UserId) -> Guard {
    Guard::new(user, ReadFamily::FrequentFoods, Bucket::Whole)
}
