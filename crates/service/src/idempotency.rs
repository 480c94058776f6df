//! Idempotent requests: the claim of a key before a `POST` runs, its
//! answer kept by the write itself (the `*_keeping` use cases) or, for an
//! answer that wrote nothing, afterwards; and the sweep of old keys.

use std::time::Duration;

use macrotrack_domain::{IDEMPOTENCY_KEPT_FOR, IdempotencyKey, UserId};
use macrotrack_ports::{CacheStore, Claim, ClaimTerms, Claimed, Fingerprint, KeptAnswer, Unavailable};

use crate::Service;

/// An unanswered claim older than this is abandoned (its process died):
/// no request runs this long, as its body has its deadline (10 s by
/// default) and each database call its pool's. A claim taken over while
/// its request did still run cannot commit: its token no longer matches.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// How often expired keys are swept: each key is held at most this much
/// longer than the 24 hours its answer is kept.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

impl<S: CacheStore> Service<S> {
    /// Claims `key` of `user` for the request `fingerprint` names: `Run` it
    /// (then keep its answer), or what an earlier request with the key left.
    pub async fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        fingerprint: Fingerprint,
    ) -> Result<Claimed, Unavailable> {
        let token = rand::random::<i64>();
        let repos = &self.repos.idempotency;
        let terms = ClaimTerms { now: self.now(), kept_for: IDEMPOTENCY_KEPT_FOR, abandoned_after: ABANDONED_AFTER };
        repos.claim(user, key, fingerprint, token, terms).await
    }

    /// Keeps the answer of a claimed request that wrote nothing (a rule
    /// refused it): a write keeps its own, in its transaction.
    pub async fn keep_idempotent_answer(&self, claim: &Claim, answer: &KeptAnswer) -> Result<(), Unavailable> {
        self.repos.idempotency.keep(claim, answer).await
    }

    /// Gives the key back after an answer that is not kept (a 5xx): the
    /// repeat runs again.
    pub async fn release_idempotency_key(&self, claim: &Claim) -> Result<(), Unavailable> {
        self.repos.idempotency.release(claim).await
    }

    /// Deletes every key claimed longer ago than answers are kept; returns
    /// how many.
    pub async fn sweep_idempotency_keys(&self) -> Result<u64, Unavailable> {
        let span = chrono::Duration::from_std(IDEMPOTENCY_KEPT_FOR).unwrap_or(chrono::Duration::MAX);
        let before = macrotrack_domain::Timestamp::new(self.now().instant() - span);
        self.repos.idempotency.sweep(before).await
    }

    /// Sweeps expired keys now and then every `period`, for ever.
    pub async fn sweep_idempotency_keys_every(&self, period: Duration) {
        let mut tick = tokio::time::interval(period.max(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.sweep_idempotency_keys().await {
                Ok(0) => {}
                Ok(swept) => tracing::info!(swept, "swept expired idempotency keys"),
                Err(error) => tracing::warn!(%error, "cannot sweep idempotency keys; retrying at the next sweep"),
            }
        }
    }
}
