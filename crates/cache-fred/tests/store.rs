//! The port's semantics against a real Redis.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{TTL, keys, store};
use fred::prelude::KeysInterface;
use fred::types::Expiration;
use macrotrack_ports::{CacheStore, Snapshot, StoreOutcome};
use macrotrack_testkit::redis_url;

const V1: Bytes = Bytes::from_static(b"v1");

#[tokio::test]
async fn absent_key_and_guards_read_as_none() {
    let Some(store) = store().await else { return };
    let (key, guards) = keys(1);
    assert_eq!(store.kind(), macrotrack_ports::StoreKind::Shared);
    store.ping().await.unwrap();
    assert_eq!(store.read(&key, &guards).await.unwrap(), Snapshot { value: None, guards: vec![None, None] });
    assert_eq!(store.read(&key, &[]).await.unwrap(), Snapshot { value: None, guards: vec![] });
}

#[tokio::test]
async fn init_guards_sets_only_absent_ones_and_returns_the_existing() {
    let Some(store) = store().await else { return };
    let (key, guards) = keys(2);
    store.bump(&[(guards[0].clone(), 7)], &[], &[TTL]).await.unwrap();
    assert_eq!(store.init_guards(&guards, &[100, 200], TTL).await.unwrap(), vec![7, 200]);
    assert_eq!(store.init_guards(&guards, &[300, 400], TTL).await.unwrap(), vec![7, 200], "never overwrites");
    assert_eq!(store.read(&key, &guards).await.unwrap().guards, vec![Some(7), Some(200)]);
    assert_eq!(store.init_guards(&[], &[], TTL).await.unwrap(), Vec::<u64>::new());
}

#[tokio::test]
async fn a_store_after_a_bump_is_rejected_and_leaves_no_value() {
    let Some(store) = store().await else { return };
    let (key, guards) = keys(3);
    let taken = store.init_guards(&guards, &[1, 2], TTL).await.unwrap();
    assert_eq!(store.store_if_current(&key, V1, TTL, &guards, &taken, None).await.unwrap(), StoreOutcome::Stored);
    assert_eq!(store.read(&key, &guards).await.unwrap().value, Some(V1));

    // A reader took `taken`, then a writer invalidated: the reader's late
    // store of its older value must be refused.
    store.bump(&[(guards[1].clone(), 99)], std::slice::from_ref(&key), &[TTL]).await.unwrap();
    let late = store.store_if_current(&key, Bytes::from_static(b"stale"), TTL, &guards, &taken, None).await.unwrap();
    assert_eq!(late, StoreOutcome::Rejected);
    assert_eq!(store.read(&key, &guards).await.unwrap(), Snapshot { value: None, guards: vec![Some(1), Some(99)] });

    // A fresh value stored under the new generations survives a stale store.
    let fresh = Bytes::from_static(b"fresh");
    assert_eq!(
        store.store_if_current(&key, fresh.clone(), TTL, &guards, &[1, 99], None).await.unwrap(),
        StoreOutcome::Stored
    );
    let late = store.store_if_current(&key, Bytes::from_static(b"stale"), TTL, &guards, &taken, None).await.unwrap();
    assert_eq!(late, StoreOutcome::Rejected);
    assert_eq!(store.read(&key, &guards).await.unwrap().value, Some(fresh));
}

#[tokio::test]
async fn a_store_against_an_absent_guard_is_rejected() {
    let Some(store) = store().await else { return };
    let (key, guards) = keys(4);
    let outcome = store.store_if_current(&key, V1, TTL, &guards, &[1, 2], None).await.unwrap();
    assert_eq!(outcome, StoreOutcome::Rejected);
    assert_eq!(store.read(&key, &[]).await.unwrap().value, None);
}

#[tokio::test]
async fn bump_deletes_every_listed_key_and_sets_every_guard() {
    let Some(store) = store().await else { return };
    let (key, guards) = keys(5);
    let other = "macro:{user:5}:logs:2026-11-25".to_owned();
    let untouched = "macro:{user:5}:logs:2026-11-26".to_owned();
    let taken = store.init_guards(&guards, &[5, 6], TTL).await.unwrap();
    for k in [&key, &other, &untouched] {
        assert_eq!(store.store_if_current(k, V1, TTL, &guards, &taken, None).await.unwrap(), StoreOutcome::Stored);
    }
    store
        .bump(&[(guards[0].clone(), 55), (guards[1].clone(), 66)], &[key.clone(), other.clone()], &[TTL, TTL])
        .await
        .unwrap();
    assert_eq!(store.read(&key, &guards).await.unwrap(), Snapshot { value: None, guards: vec![Some(55), Some(66)] });
    assert_eq!(store.read(&other, &[]).await.unwrap().value, None);
    assert_eq!(store.read(&untouched, &[]).await.unwrap().value, Some(V1));
    // Deleting alone, without guards, works too.
    store.bump(&[], std::slice::from_ref(&untouched), &[]).await.unwrap();
    assert_eq!(store.read(&untouched, &[]).await.unwrap().value, None);
    store.bump(&[], &[], &[]).await.unwrap();
}

#[tokio::test]
async fn delete_removes_only_its_key() {
    let Some(store) = store().await else { return };
    let (key, guards) = keys(6);
    let taken = store.init_guards(&guards, &[1, 1], TTL).await.unwrap();
    store.store_if_current(&key, V1, TTL, &guards, &taken, None).await.unwrap();
    store.delete(&key).await.unwrap();
    store.delete(&key).await.unwrap();
    assert_eq!(store.read(&key, &guards).await.unwrap(), Snapshot { value: None, guards: vec![Some(1), Some(1)] });
}

#[tokio::test]
async fn entries_and_guards_expire_after_their_ttl() {
    let Some(store) = store().await else { return };
    let (key, guards) = keys(7);
    let short = Duration::from_millis(50);
    let taken = store.init_guards(&guards, &[1, 2], short).await.unwrap();
    assert_eq!(store.store_if_current(&key, V1, short, &guards, &taken, None).await.unwrap(), StoreOutcome::Stored);
    assert_eq!(store.read(&key, &guards).await.unwrap().value, Some(V1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.read(&key, &guards).await.unwrap(), Snapshot { value: None, guards: vec![None, None] });

    // A bump's guards expire too; a zero ttl is not refused (Redis would).
    store.bump(&[(guards[0].clone(), 3)], &[], &[short]).await.unwrap();
    store.store_if_current(&key, V1, Duration::ZERO, &[], &[], None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.read(&key, &guards).await.unwrap(), Snapshot { value: None, guards: vec![None, None] });
}

#[tokio::test]
async fn generations_above_2_pow_53_round_trip_and_compare_exactly() {
    let Some(store) = store().await else { return };
    let (key, guards) = keys(8);
    let base = 1_u64 << 53;
    // As doubles, 2^53 and 2^53 + 1 are equal; as generations they are not.
    let fresh = store.init_guards(&guards, &[base + 1, u64::MAX], TTL).await.unwrap();
    assert_eq!(fresh, vec![base + 1, u64::MAX]);
    assert_eq!(store.read(&key, &guards).await.unwrap().guards, vec![Some(base + 1), Some(u64::MAX)]);
    let near = store.store_if_current(&key, V1, TTL, &guards, &[base, u64::MAX], None).await.unwrap();
    assert_eq!(near, StoreOutcome::Rejected);
    let near = store.store_if_current(&key, V1, TTL, &guards, &[base + 1, u64::MAX - 1], None).await.unwrap();
    assert_eq!(near, StoreOutcome::Rejected);
    let exact = store.store_if_current(&key, V1, TTL, &guards, &[base + 1, u64::MAX], None).await.unwrap();
    assert_eq!(exact, StoreOutcome::Stored);
    store.bump(&[(guards[0].clone(), base + 3)], &[], &[TTL]).await.unwrap();
    assert_eq!(store.read(&key, &guards).await.unwrap().guards, vec![Some(base + 3), Some(u64::MAX)]);
}

#[tokio::test]
async fn a_non_number_guard_reads_as_absent_and_init_replaces_it() {
    let config = common::config(&redis_url());
    let prefix = config.key_prefix.clone();
    let Some(store) = common::connect(config).await else {
        return;
    };
    let (key, guards) = keys(9);
    let raw = common::raw_client(&redis_url()).await;
    let _: () =
        raw.set(format!("{prefix}{}", guards[0]), "garbage", Some(Expiration::EX(60)), None, false).await.unwrap();
    assert_eq!(store.read(&key, &guards).await.unwrap().guards, vec![None, None]);
    assert_eq!(store.init_guards(&guards, &[11, 12], TTL).await.unwrap(), vec![11, 12]);
    assert_eq!(store.read(&key, &guards).await.unwrap().guards, vec![Some(11), Some(12)]);
    let raw_value: Option<String> = raw.get(format!("{prefix}{}", guards[0])).await.unwrap();
    assert_eq!(raw_value.as_deref(), Some("11"), "keys are the prefix followed by the port's key");
}
