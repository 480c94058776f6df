//! The safety rule outside the matrix: draining the cache outbox.
//!
//! Every mutation that changes anything cached writes an outbox row for its
//! user in its own transaction; once its derived targets were applied, `forget` queues
//! the row for deletion, and the queue is deleted in one statement on the
//! drainer's next tick (or when it reaches `FLUSH_AT` rows). A row applied
//! but not yet deleted is harmless: if a drain saw it first it would bump
//! the user once more, and the drain only takes rows older than the grace,
//! which is longer than the poll.
//!
//! A row that stays means "this user may have an invalidation that
//! was never applied" (the store was down, or the process died between the
//! commit and the invalidation). Which targets were lost is not recorded, so
//! the drain forgets everything of that user: it bumps the user's epoch
//! (`Target::AllOfUser`, O(1) for both tiers), then deletes the row. This
//! costs one cold cache per affected user after a fault, never a stale read.
//! It is the only invalidation besides the derived one and the operator's
//! (`admin_invalidate`), and it depends on no declaration.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use macrotrack_cache::Recovery;
use macrotrack_cache_keys::Target;
use macrotrack_domain::UserId;
use macrotrack_ports::{CacheStore, OutboxId, Unavailable};

use crate::Service;

/// The drain, as rendered into docs/caching-matrix.md.
pub(crate) const SAFETY_RULE: &str = "Every operation above except creating a food also writes a `cache_outbox` \
row for its user in its own transaction, deleted once its targets were applied. A row that stays (the store was \
down, or the process died between the commit and the invalidation) is drained by bumping that user's epoch, which \
forgets every tier-1 and tier-2 entry of the user in O(1), and then deleted: at start-up before serving, and by \
every instance's drainer for rows older than the grace (`Service::drain_outbox`, crates/service/src/outbox.rs). \
This rule depends on no row above; see [reliability.md](reliability.md).";

/// Rows asked for per query.
const BATCH: u32 = 256;
/// Queries per drain, so one call ends even while rows keep coming.
const MAX_BATCHES: usize = 16;

/// Applied rows queued before one DELETE takes them all.
const FLUSH_AT: usize = 256;

/// Outbox rows whose invalidation was applied, waiting for their DELETE.
/// Batching takes a second write transaction off every mutation's path.
#[derive(Debug, Default)]
pub(crate) struct AppliedRows(Mutex<Vec<OutboxId>>);

impl AppliedRows {
    /// Queues `id`; returns whether the queue is long enough to flush now.
    pub(crate) fn push(&self, id: OutboxId) -> bool {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        queue.push(id);
        queue.len() >= FLUSH_AT
    }

    fn take(&self) -> Vec<OutboxId> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A failure injected on purpose. For tests only: the server never sets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Nothing breaks: what the server runs.
    #[default]
    None,
    /// Mutations commit (outbox row included) and then skip the
    /// invalidation and the row's deletion, exactly as if the process had
    /// died between the commit and the invalidation.
    SkipInvalidation,
    /// The instance never learns that an import raised the catalogue's
    /// generation (the mutant of the differential walk's imports).
    #[cfg(feature = "faults")]
    BlindToImports,
}

/// What one drain did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrainReport {
    /// Rows deleted after their user's epoch was bumped.
    pub rows: usize,
    /// Users whose epoch was bumped.
    pub users: usize,
    /// Users whose epoch could not be bumped (the store is unusable): this
    /// instance reads them from the database until it is applied.
    pub distrusted: usize,
    /// Users whose bump no replica acknowledged in time: their rows stay,
    /// and the next drain bumps them again.
    pub unreplicated: usize,
}

impl<S: CacheStore> Service<S> {
    /// Injects `fault` (tests only; see [`Fault`]).
    #[cfg(feature = "faults")]
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    /// Deletes, in one statement, the outbox rows whose invalidation this
    /// instance applied since the last flush; returns how many. The drainer
    /// calls it every poll and the server once more at shutdown. On a
    /// database error the rows stay and a later drain forgets their users
    /// once more: wasteful, never stale.
    pub async fn flush_applied_outbox_rows(&self) -> usize {
        let ids = self.applied.take();
        if ids.is_empty() {
            return 0;
        }
        match self.repos.outbox.done(&ids).await {
            Ok(()) => ids.len(),
            Err(error) => {
                tracing::warn!(%error, rows = ids.len(), "could not delete applied outbox rows; a drain will");
                0
            }
        }
    }

    /// Forgets every user with an outbox row older than `grace` and deletes
    /// those rows. The grace keeps a drain from bumping rows whose mutation
    /// is still applying its own invalidation (harmless, but wasteful).
    /// When the store is unusable, the rows stay and their users are
    /// distrusted (read from the database here) until it answers again.
    pub async fn drain_outbox(&self, grace: Duration) -> Result<DrainReport, Unavailable> {
        let mut report = DrainReport::default();
        for _ in 0..MAX_BATCHES {
            let rows = self.repos.outbox.pending(grace, BATCH).await?;
            let mut by_user: BTreeMap<UserId, Vec<OutboxId>> = BTreeMap::new();
            for (id, user) in &rows {
                by_user.entry(*user).or_default().push(*id);
            }
            let mut users = by_user.into_iter();
            let mut bumped = Vec::with_capacity(rows.len());
            let mut unreplicated = 0;
            while let Some((user, ids)) = users.next() {
                let bumped_user = self.cache.invalidate(&[Target::AllOfUser(user)]).await;
                if bumped_user.deferred > 0 {
                    // The store is unusable: the engine keeps this user's
                    // bump pending; keep the others of the batch away from
                    // the store too until their bump is applied.
                    let rest: Vec<Target> = users.map(|(user, _)| Target::AllOfUser(user)).collect();
                    self.cache.distrust(&rest);
                    report.distrusted += 1 + rest.len();
                    break;
                }
                report.users += 1;
                if bumped_user.unreplicated > 0 {
                    // Applied on the master only: keep the rows, and bump
                    // again on the next drain, until a replica has it.
                    unreplicated += 1;
                    continue;
                }
                bumped.extend(ids);
            }
            report.unreplicated += unreplicated;
            // Only the rows of users whose bump was applied.
            if !bumped.is_empty() {
                self.repos.outbox.done(&bumped).await?;
            }
            report.rows += bumped.len();
            // Kept rows would come back in the next query: stop there.
            if report.distrusted > 0 || unreplicated > 0 || rows.len() < BATCH as usize {
                break;
            }
        }
        Ok(report)
    }

    /// Start-up: drains every row, whatever its age (a previous process
    /// may have died after its commits). When the store is unusable, every
    /// user with a row is distrusted instead, so this instance never serves
    /// them from the cache before their epoch has been bumped.
    pub async fn recover_outbox(&self) -> Result<DrainReport, Unavailable> {
        let mut report = self.drain_outbox(Duration::ZERO).await?;
        if report.distrusted > 0 {
            let users = self.repos.outbox.pending_users().await?;
            let targets: Vec<Target> = users.iter().map(|user| Target::AllOfUser(*user)).collect();
            self.cache.distrust(&targets);
            report.distrusted = report.distrusted.max(users.len());
        }
        Ok(report)
    }

    /// After an outage, before this instance reads from the store again:
    /// forgets every user with an outbox row, whatever its age, then trusts
    /// the store. A row is an invalidation some instance may have deferred
    /// (kept only in its memory) while the store was down; without this, an
    /// instance whose breaker closes before that one's would serve the
    /// entries it should have forgotten. Answers whether the store is
    /// trusted now (see `Engine::confirm_recoveries`).
    pub async fn confirm_store_recovery(&self) -> Result<bool, Unavailable> {
        match self.cache.probe_recovery().await {
            Recovery::Trusted => return Ok(true),
            Recovery::Down => return Ok(false),
            Recovery::Unconfirmed => {}
        }
        let users = self.repos.outbox.pending_users().await?;
        let targets: Vec<Target> = users.iter().map(|user| Target::AllOfUser(*user)).collect();
        // The rows stay: the drain deletes them (bumping once more) after the grace.
        if self.cache.invalidate(&targets).await.deferred > 0 {
            return Ok(false);
        }
        self.cache.trust_store();
        tracing::info!(users = users.len(), "the cache store answers again; forgot the outbox's users first");
        Ok(true)
    }

    /// Runs forever: every `poll`, trusts the store again after an outage
    /// once the outbox's users are forgotten (`confirm_store_recovery`;
    /// until then reads go around it), retries the invalidations this
    /// process deferred, deletes the rows it applied, then drains outbox
    /// rows older than `grace` (those of every instance). Spawn it next to
    /// the server.
    pub async fn drain_every(&self, poll: Duration, grace: Duration) {
        self.cache.confirm_recoveries();
        let mut tick = tokio::time::interval(poll.max(Duration::from_millis(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = self.confirm_store_recovery().await {
                tracing::warn!(%error, "cannot read the cache outbox to trust the store again; retrying");
            }
            self.cache.retry_pending().await;
            self.flush_applied_outbox_rows().await;
            match self.drain_outbox(grace).await {
                Ok(report) if report.users > 0 || report.distrusted > 0 || report.unreplicated > 0 => {
                    tracing::info!(?report, "drained the cache outbox");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot read the cache outbox; retrying"),
            }
        }
    }
}
