//! Damaged entries written straight into Redis under the real keys (a
//! flipped payload byte, a truncated entry, an entry of another schema,
//! bytes that are no envelope): never served, counted `invalid`, replaced.

use bytes::Bytes;
use fred::prelude::{Builder, ClientLike, Config, KeysInterface};
use macrotrack_cache_keys::{QueryKey, Tier1Key};
use macrotrack_service::Repositories;
use macrotrack_testkit::{RedisServer, report, unique_name};

use crate::support::*;

/// The schema fingerprint's place in the envelope header (see
/// crates/cache/src/envelope.rs); the payload checksum does not cover it.
const FINGERPRINT: std::ops::Range<usize> = 28..36;

fn damaged(good: &Bytes) -> Vec<(&'static str, Bytes)> {
    let mut flipped = good.to_vec();
    *flipped.last_mut().unwrap() ^= 0x20;
    let mut other_schema = good.to_vec();
    other_schema[FINGERPRINT].iter_mut().for_each(|byte| *byte ^= 0xA5);
    vec![
        ("a flipped payload byte", Bytes::from(flipped)),
        ("truncated", good.slice(..good.len() / 2)),
        ("another schema's fingerprint", Bytes::from(other_schema)),
        ("plain JSON, no envelope", Bytes::from_static(b"{\"date\":\"2026-11-24\",\"entries\":[]}")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_entries_are_never_served_and_are_replaced() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start(&[]) else { return };
    let prefix = format!("{}:", unique_name("corrupt"));
    let file = SqliteFile::new();
    let repos = Repositories::from_one(file.connect().await);
    let cached = cached(repos.clone(), redis_store(&redis.url(), &prefix).await);
    let plain = uncached(repos);
    let raw = Builder::from_config(Config::from_url(&redis.url()).unwrap()).build().unwrap();
    raw.init().await.unwrap();

    let user = cached.create_user("damaged").await.unwrap().user.id;
    let food = some_food(&cached, user).await;
    cached.create_log_entries(user, vec![food_entry(day(0), food)]).await.unwrap();
    let truth_logs = plain.day_logs(user, day(0)).await.unwrap();
    let truth_me = plain.me(user).await.unwrap();
    assert_eq!(cached.day_logs(user, day(0)).await.unwrap(), truth_logs);
    assert_eq!(cached.me(user).await.unwrap(), truth_me);

    let logs_key = format!("{prefix}{}", Tier1Key::DayLogs { user, date: day(0) }.render());
    let me_key = format!("{prefix}{}", QueryKey::Me { user }.render());
    let mut written = 0;
    for key in [&logs_key, &me_key] {
        let good: Bytes = raw.get::<Option<Bytes>, _>(key).await.unwrap().expect("the entry is stored");
        for (what, bad) in damaged(&good) {
            for json in [false, true] {
                raw.set::<(), _, _>(key, bad.clone(), None, None, false).await.unwrap();
                let before = cached.cache().stats();
                if key == &me_key {
                    assert_eq!(cached.me(user).await.unwrap(), truth_me, "{what}");
                } else if json {
                    let answer = cached.day_logs_json(user, day(0)).await.unwrap();
                    assert_eq!(
                        serde_json::from_slice::<serde_json::Value>(&answer).unwrap()["entries"]
                            .as_array()
                            .map(Vec::len),
                        Some(1),
                        "{what}"
                    );
                } else {
                    assert_eq!(cached.day_logs(user, day(0)).await.unwrap(), truth_logs, "{what}");
                }
                let after = cached.cache().stats();
                assert_eq!(after.invalid, before.invalid + 1, "{what}: counted invalid");
                let replaced: Bytes = raw.get::<Option<Bytes>, _>(key).await.unwrap().expect("replaced");
                assert_ne!(replaced, bad, "{what}: replaced");
                assert!(replaced.starts_with(b"MTC3"), "{what}: by an envelope");
                // The replacement is served from the cache again.
                if key == &me_key {
                    assert_eq!(cached.me(user).await.unwrap(), truth_me);
                } else {
                    assert_eq!(cached.day_logs(user, day(0)).await.unwrap(), truth_logs);
                }
                assert_eq!(cached.cache().stats().hit, after.hit + 1, "{what}: a hit after the replacement");
                written += 1;
            }
        }
    }
    let counted = cached.cache().stats().invalid;
    report(
        "corrupt::damaged_entries_are_never_served_and_are_replaced",
        "A raw fred client overwrites the real keys (test prefix) of a tier-1 entry (day logs, read both decoded \
         and as raw JSON) and a tier-2 entry (`me`) with: a flipped payload byte, the first half, another schema's \
         fingerprint, plain JSON.",
        &format!(
            "{written} damaged entries written, {counted} counted `invalid`, {written} replaced by a valid envelope \
             (then a hit), **0 served**"
        ),
    );
    let _ = raw.quit().await;
}
