//! Connecting, key prefixes, script reloading and input checks.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{TTL, keys, store};
use fred::prelude::{ClientLike, LuaInterface};
use fred::types::{ClusterHash, CustomCommand};
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_ports::{CacheStore, Snapshot, StoreError, StoreOutcome};
use macrotrack_testkit::{RedisServer, redis_url};

const V1: Bytes = Bytes::from_static(b"v1");

#[tokio::test]
async fn the_prefix_isolates_two_stores_and_keeps_the_hash_tag() {
    let (Some(a), Some(b)) = (store().await, store().await) else {
        return;
    };
    let (key, guards) = keys(10);
    let taken = a.init_guards(&guards, &[1, 2], TTL).await.unwrap();
    assert_eq!(a.store_if_current(&key, V1, TTL, &guards, &taken, None).await.unwrap(), StoreOutcome::Stored);
    assert_eq!(b.read(&key, &guards).await.unwrap(), Snapshot { value: None, guards: vec![None, None] });
    assert_eq!(b.init_guards(&guards, &[3, 4], TTL).await.unwrap(), vec![3, 4]);
    b.bump(&[(guards[0].clone(), 5)], std::slice::from_ref(&key), &[TTL]).await.unwrap();
    b.delete(&key).await.unwrap();
    assert_eq!(a.read(&key, &guards).await.unwrap(), Snapshot { value: Some(V1), guards: vec![Some(1), Some(2)] });

    // A prefix with a brace would move every key off its user's slot.
    let mut config = common::config(&redis_url());
    config.key_prefix = "{tenant}:".to_owned();
    let refused = RedisStore::connect(config).await.unwrap_err().to_string();
    assert!(refused.contains("prefix"), "{refused}");
}

#[tokio::test]
async fn mismatched_guard_and_generation_counts_are_errors_not_panics() {
    let Some(store) = store().await else { return };
    let (key, guards) = keys(11);
    assert!(matches!(store.init_guards(&guards, &[1], TTL).await, Err(StoreError::Unavailable(_))));
    assert!(matches!(
        store.store_if_current(&key, V1, TTL, &guards, &[1], None).await,
        Err(StoreError::Unavailable(_))
    ));
}

/// SCRIPT FLUSH runs on a private server so other suites keep their scripts.
#[tokio::test]
async fn flushed_scripts_are_reloaded() {
    let Some(server) = RedisServer::start(&[]) else {
        return;
    };
    let Some(store) = common::connect(common::config(&server.url())).await else {
        return;
    };
    let (key, guards) = keys(12);
    let taken = store.init_guards(&guards, &[1, 2], TTL).await.unwrap();

    let raw = common::raw_client(&server.url()).await;
    raw.script_flush(false).await.unwrap();
    assert_eq!(store.store_if_current(&key, V1, TTL, &guards, &taken, None).await.unwrap(), StoreOutcome::Stored);
    raw.script_flush(false).await.unwrap();
    assert_eq!(store.init_guards(&guards, &[8, 9], TTL).await.unwrap(), taken);
    raw.script_flush(false).await.unwrap();
    store.bump(&[(guards[0].clone(), 3)], std::slice::from_ref(&key), &[TTL]).await.unwrap();
    assert_eq!(store.read(&key, &guards).await.unwrap(), Snapshot { value: None, guards: vec![Some(3), Some(2)] });

    // Each call above met NOSCRIPT once, so the recovery path really ran.
    let info: String =
        raw.custom(CustomCommand::new_static("INFO", ClusterHash::Random, false), vec!["errorstats"]).await.unwrap();
    assert!(info.contains("errorstat_NOSCRIPT:count=3"), "{info}");
}

#[tokio::test]
async fn a_bad_url_or_a_silent_server_fails_connect_with_one_line() {
    let bad = RedisStore::connect(RedisConfig::new("redis://user:secret@host:notaport")).await.unwrap_err().to_string();
    assert!(bad.contains("invalid Redis URL") && !bad.contains("secret") && !bad.contains('\n'), "{bad}");

    let nobody = format!("redis://127.0.0.1:{}", macrotrack_testkit::free_port());
    let started = Instant::now();
    let refused = RedisStore::connect(RedisConfig::new(nobody)).await.unwrap_err().to_string();
    assert!(refused.contains("cannot connect") && !refused.contains('\n'), "{refused}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());

    let mut zero = RedisConfig::new(redis_url());
    zero.command_timeout = Duration::ZERO;
    assert!(RedisStore::connect(zero).await.is_err());
}
