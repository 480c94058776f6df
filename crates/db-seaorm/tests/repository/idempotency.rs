//! Behaviours of idempotency keys: one claim at a time, answers kept in
//! the write's own transaction, claims fenced by their token, and keys
//! that expire and are swept.

use std::time::Duration;

use chrono::Duration as Span;
use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{IdempotencyKey, LogEntry, LogItem, Meal, Timestamp, UserId};
use macrotrack_ports::{
    Claim, ClaimTerms, Claimed, Fingerprint, IdempotencyRepository, Keep, KeptAnswer, LogRepository,
};

use crate::support::*;

const KEPT_FOR: Duration = Duration::from_secs(24 * 3600);
const ABANDONED_AFTER: Duration = Duration::from_secs(60);

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

fn answer(status: u16, body: &str) -> KeptAnswer {
    KeptAnswer {
        status,
        content_type: "application/json".into(),
        location: Some("/v1/foods/7".into()),
        body: body.as_bytes().to_vec(),
    }
}

async fn claim(repo: &SeaOrmRepository, user: UserId, k: &str, print: u8, token: i64, at: Timestamp) -> Claimed {
    let terms = ClaimTerms { now: at, kept_for: KEPT_FOR, abandoned_after: ABANDONED_AFTER };
    repo.claim(user, &key(k), Fingerprint([print; 32]), token, terms).await.unwrap()
}

fn held(claimed: Claimed) -> Claim {
    match claimed {
        Claimed::Run(claim) => claim,
        other => panic!("expected a fresh claim, got {other:?}"),
    }
}

fn later(at: Timestamp, seconds: i64) -> Timestamp {
    Timestamp::new(at.instant() + Span::seconds(seconds))
}

pub async fn a_key_is_claimed_once_then_replayed_and_refused_for_another_request(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await.id;
    let bob = user(repo, "bob").await.id;
    let at = now();
    let first = held(claim(repo, alice, "k", 1, 11, at).await);
    assert_eq!(first.token, 11);
    // While it runs: the same request is told so, another one is refused.
    assert_eq!(claim(repo, alice, "k", 1, 12, at).await, Claimed::Running);
    assert_eq!(claim(repo, alice, "k", 2, 13, at).await, Claimed::OtherRequest);
    // Keys are per user.
    held(claim(repo, bob, "k", 1, 14, at).await);
    repo.keep(&first, &answer(201, "{\"id\":7}")).await.unwrap();
    assert_eq!(claim(repo, alice, "k", 1, 15, later(at, 3600)).await, Claimed::Replay(answer(201, "{\"id\":7}")));
    assert_eq!(claim(repo, alice, "k", 2, 16, at).await, Claimed::OtherRequest);
    // An answer is kept once: the claim that kept it cannot keep another.
    assert!(repo.keep(&first, &answer(201, "{\"id\":8}")).await.is_err());
    // After 24 hours the key is new again.
    held(claim(repo, alice, "k", 2, 17, later(at, 24 * 3600 + 1)).await);
}

pub async fn an_abandoned_claim_is_taken_over_and_its_write_cannot_commit(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await.id;
    let food = global_food(repo, "Banana").await;
    let at = now();
    let abandoned = held(claim(repo, alice, "k", 1, 21, at).await);
    // Within the minute it still runs; after it, its request is taken over.
    assert_eq!(claim(repo, alice, "k", 1, 22, later(at, 59)).await, Claimed::Running);
    let current = held(claim(repo, alice, "k", 1, 23, later(at, 61)).await);
    assert_eq!(current.token, 23);
    // The old request's write, arriving late, fails its fence and writes nothing.
    let batch = [entry("2026-11-24", Meal::Lunch, LogItem::Food(food), 100)];
    let render = |entries: &Vec<LogEntry>| answer(201, &format!("{}", entries.len()));
    let late = repo.create_log_entries_keeping(alice, &batch, at, Keep::new(abandoned, render)).await;
    assert!(late.is_err(), "a write under a lost claim committed");
    assert_eq!(count_where(repo, "log_entries", "user_id", alice.0).await, 0);
    assert_eq!(count_where(repo, "cache_outbox", "user_id", alice.0).await, 0);
    // The current one's commits with its answer, together.
    let written = repo.create_log_entries_keeping(alice, &batch, at, Keep::new(current, render)).await.unwrap();
    assert_eq!(written.value.len(), 1);
    assert_eq!(claim(repo, alice, "k", 1, 24, later(at, 62)).await, Claimed::Replay(answer(201, "1")));
}

pub async fn a_released_claim_frees_the_key_but_never_an_answer(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await.id;
    let at = now();
    let first = held(claim(repo, alice, "k", 1, 31, at).await);
    repo.release(&first).await.unwrap();
    let second = held(claim(repo, alice, "k", 2, 32, at).await);
    // Releasing the old claim again touches the new one not at all.
    repo.release(&first).await.unwrap();
    assert_eq!(claim(repo, alice, "k", 2, 33, at).await, Claimed::Running);
    repo.keep(&second, &answer(422, "{}")).await.unwrap();
    repo.release(&second).await.unwrap();
    assert_eq!(claim(repo, alice, "k", 2, 34, at).await, Claimed::Replay(answer(422, "{}")));
}

pub async fn the_sweep_deletes_keys_claimed_before_its_time(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await.id;
    let at = now();
    held(claim(repo, alice, "old", 1, 41, at).await);
    held(claim(repo, alice, "new", 1, 42, later(at, 10)).await);
    assert_eq!(repo.sweep(later(at, 5)).await.unwrap(), 1);
    assert_eq!(count_where(repo, "idempotency_keys", "user_id", alice.0).await, 1);
    held(claim(repo, alice, "old", 2, 43, later(at, 11)).await);
}
