//! The use cases of Macrotrack, and the only place that decides what the
//! cache forgets: each cached read declares what it depends on and each
//! mutation what it changed (`catalog.rs`, in the words of `vocabulary.rs`);
//! after a mutation's transaction commits, the guards of every read whose
//! facts overlap are bumped (`facts.rs`, the derivation).
//! Reads go through the cache engine with the policies of `Policies`.
//!
//! One safety rule stands outside the matrix (`outbox.rs`): a mutation's
//! outbox row that was not marked done means its invalidation may be lost,
//! and whoever drains it forgets everything of that user.
//!
//! The files point one way: use cases → `catalog` → `vocabulary`, and
//! `facts` (the derivation) → `catalog`; nothing points back.

#![warn(missing_docs)]

mod admin;
mod catalog;
#[cfg(test)]
mod contract_tests;
mod days;
mod errors;
mod export;
/// The invalidation derived from the declarations, and the names the
/// workspace knows them by.
pub mod facts;
mod foods;
mod generation;
mod idempotency;
mod imports;
mod logs;
/// The derived matrix rendered for people (docs/caching-matrix.md).
pub mod matrix;
mod outbox;
mod plans;
mod policies;
mod served;
mod tokens;
mod users;
mod vocabulary;
mod weeks;

use std::future::Future;
use std::sync::Arc;

use macrotrack_cache::{Cacheable, Check, Engine, Freshness, InvalidationReport, Policy, Read, StoreStatus};
use macrotrack_cache_keys::{EntryAddress, Target};
use macrotrack_domain::{Day, TimeZone, Timestamp, UserId};
use macrotrack_ports::{
    CacheStore, Clock, CompletionRepository, FoodRepository, IdempotencyRepository, LogRepository, OutboxId,
    OutboxRepository, PlanRepository, RecipeRepository, Unavailable, UserRepository,
};

pub use errors::{
    AuthError, ChangeError, CreateError, CreateOwnedError, EditFoodError, EditLogError, ErrorKind, Failure, GetError,
    ReadError, SchedulePlanError,
};
pub use export::{Export, MAX_EXPORT_DAYS};
pub use facts::{Changes, Edge, Fact, FactKind, Matrix, MutationSpec, Operation, ReadSpec};
pub use generation::FOLLOW_CATALOGUE_EVERY;
pub use idempotency::{ABANDONED_AFTER, SWEEP_EVERY};
pub use imports::{IMPORT_BATCH, ImportError, ImportProgress, ImportSummary};
use outbox::AppliedRows;
pub use outbox::{DrainReport, Fault};
pub use policies::Policies;
pub use served::{CacheReport, ETag, IfMatch, Outcome, ReadReport};
pub use tokens::claimed_user;
pub use users::{CreatedUser, ReadAhead};
use vocabulary::{Addressed, Mutation};

/// The repositories the use cases need, each behind its port.
#[derive(Clone)]
pub struct Repositories {
    /// Users, their credentials and targets.
    pub users: Arc<dyn UserRepository>,
    /// Foods, global and the users' own.
    pub foods: Arc<dyn FoodRepository>,
    /// Recipes and their ingredients.
    pub recipes: Arc<dyn RecipeRepository>,
    /// Log entries and what is read from them.
    pub logs: Arc<dyn LogRepository>,
    /// Completed days.
    pub completions: Arc<dyn CompletionRepository>,
    /// Meal plans and the schedule.
    pub plans: Arc<dyn PlanRepository>,
    /// The cache outbox the drain reads.
    pub outbox: Arc<dyn OutboxRepository>,
    /// Idempotency keys and their kept answers.
    pub idempotency: Arc<dyn IdempotencyRepository>,
}

impl Repositories {
    /// All roles played by one adapter (the SeaORM repository).
    pub fn from_one<R>(repository: R) -> Self
    where
        R: UserRepository
            + FoodRepository
            + RecipeRepository
            + LogRepository
            + CompletionRepository
            + PlanRepository
            + OutboxRepository
            + IdempotencyRepository,
    {
        let shared = Arc::new(repository);
        Repositories {
            users: shared.clone(),
            foods: shared.clone(),
            recipes: shared.clone(),
            logs: shared.clone(),
            completions: shared.clone(),
            plans: shared.clone(),
            outbox: shared.clone(),
            idempotency: shared,
        }
    }
}

/// The use cases over repositories and a cache store `S`.
pub struct Service<S> {
    repos: Repositories,
    cache: Engine<S>,
    clock: Arc<dyn Clock>,
    policies: Policies,
    matrix: Matrix,
    fault: Fault,
    applied: Arc<AppliedRows>,
    /// The catalogue's generation, shared by clones.
    catalogue: Arc<generation::KnownGeneration>,
    /// Days a write of log entries or completions reads again right after
    /// its invalidation, at most (see `warm_after_writes`).
    warm_days: usize,
}

/// A good number of days for `warm_after_writes`: a user who logs food is
/// shown that day next; larger batches leave their other days cold.
pub const WARM_DAYS_AFTER_A_WRITE: usize = 3;

impl<S> Clone for Service<S> {
    fn clone(&self) -> Self {
        Service {
            repos: self.repos.clone(),
            cache: self.cache.clone(),
            clock: self.clock.clone(),
            policies: self.policies,
            matrix: self.matrix.clone(),
            fault: self.fault,
            applied: self.applied.clone(),
            catalogue: self.catalogue.clone(),
            warm_days: self.warm_days,
        }
    }
}

impl<S: CacheStore> Service<S> {
    /// The use cases over `repos`, caching through `cache`; `clock` says
    /// what today is, so tests can move it.
    pub fn new(repos: Repositories, cache: Engine<S>, clock: Arc<dyn Clock>, policies: Policies) -> Self {
        let applied = Arc::default();
        Service {
            repos,
            cache,
            clock,
            policies,
            matrix: Matrix::default(),
            fault: Fault::None,
            applied,
            catalogue: Arc::default(),
            warm_days: 0,
        }
    }

    /// After a write of log entries, or completing a day, the day logs of
    /// up to `days` of the days it changed are read again, in a task of
    /// their own started as the write answers (a read like any other, after
    /// the invalidation: under the new generations, single-flight with a
    /// read that comes meanwhile), so the read that follows joins that fetch
    /// or hits. The write does not wait for it; `0` (the default) turns it
    /// off.
    pub fn warm_after_writes(mut self, days: usize) -> Self {
        self.warm_days = days;
        self
    }

    /// Reads the day logs of `dates` again after a write (see
    /// `warm_after_writes`); not when the invalidation was deferred, as the
    /// user's reads go to the database until it is applied.
    fn warm(&self, user: UserId, dates: impl IntoIterator<Item = Day>, report: InvalidationReport) {
        // A process that crashed after its commit (the fault knob) warms nothing either.
        if self.warm_days == 0 || report.deferred > 0 || !self.cache.enabled() || self.fault != Fault::None {
            return;
        }
        let dates: std::collections::BTreeSet<Day> = dates.into_iter().collect();
        // A date outside the window is not cached: reading it again is waste
        // (one at its edge is read, and its read decides with the zone).
        let cached =
            dates.into_iter().filter(|date| self.in_any_zone(&catalog::day_logs_address(user, *date)) != Some(false));
        for date in cached.take(self.warm_days) {
            let service = self.clone();
            tokio::spawn(async move {
                if let Err(error) = service.day_logs_json(user, date).await {
                    tracing::debug!(%error, "could not read a day again after a write; its next read fetches it");
                }
            });
        }
    }

    /// Replaces the derived matrix (tests remove one edge at a time to
    /// prove that each is needed).
    #[cfg(feature = "faults")]
    pub fn with_matrix(mut self, matrix: Matrix) -> Self {
        self.matrix = matrix;
        self
    }

    /// The engine, for what delivery and operators ask of it directly
    /// (counters, the breaker).
    pub fn cache(&self) -> &Engine<S> {
        &self.cache
    }

    /// Whether the cache store answers (`/readyz`, `/metrics`).
    pub async fn cache_status(&self) -> StoreStatus {
        self.cache.store_status().await
    }

    /// Whether the database answers (`/readyz`): a real query.
    pub async fn database_ready(&self) -> Result<(), Unavailable> {
        self.repos.users.user(UserId(0)).await.map(|_| ())
    }

    /// Rows in the cache outbox and how long the oldest has waited
    /// (`/metrics`); the same on every instance, as they share the database.
    pub async fn outbox_backlog(&self) -> Result<(u64, std::time::Duration), Unavailable> {
        let backlog = self.repos.outbox.backlog().await?;
        let age = backlog.oldest.and_then(|oldest| (self.clock.now() - oldest).to_std().ok());
        Ok((backlog.rows, age.unwrap_or_default()))
    }

    fn now(&self) -> Timestamp {
        Timestamp::new(self.clock.now())
    }

    /// Today's date in UTC (within a day of every user's today).
    pub fn today(&self) -> Day {
        TimeZone::UTC.today(self.clock.now())
    }

    /// The user's today: the date in their time zone. Their zone is read
    /// through the cache (the `ME` read, which holds it: one store round
    /// trip at most, none when it was read ahead), never with a query of
    /// its own per request. The one place that says what a user's today is:
    /// the default `today` of streaks and the day screen, and the centre of
    /// the window of cached dates. A user who is not there, or a database
    /// that does not answer, has UTC's.
    pub async fn today_of(&self, user: UserId) -> Day {
        let zone = match self.user_row(user).await {
            Ok(Some(found)) => found.timezone,
            Ok(None) | Err(_) => TimeZone::UTC,
        };
        zone.today(self.clock.now())
    }

    /// Whether the cache keeps `addressed`, if that is the same in every
    /// zone: most entries are decided without the user's zone.
    fn in_any_zone(&self, addressed: &Addressed) -> Option<bool> {
        addressed.cached_in_any_zone(self.today())
    }

    /// Whether the cache keeps `addressed`: inside its read's window of
    /// its user's today (asked of their zone only near the window's edges).
    async fn in_window(&self, addressed: &Addressed) -> bool {
        match self.in_any_zone(addressed) {
            Some(kept) => kept,
            None => addressed.cached_on(self.today_of(addressed.entry.user).await),
        }
    }

    /// The one way a use case describes a read through the cache: the
    /// entry at `addressed` with `policy`, asking `freshness`, except that an
    /// entry outside its read's window is read from the source and leaves
    /// nothing in the store (`Freshness::Bypass`: no entry, guard or lease).
    async fn read_of<'a, T, F>(
        &self,
        addressed: &'a Addressed,
        policy: Policy,
        freshness: Freshness,
        check: Check<T>,
        fetch: F,
    ) -> Read<'a, T, F> {
        let freshness = if self.in_window(addressed).await { freshness } else { Freshness::Bypass };
        Read::new(&addressed.entry, policy, check, fetch).freshness(freshness)
    }

    /// Of `addressed`, the entries to read ahead: all but those the cache
    /// keeps in no zone (an entry outside the window is not even read; one
    /// at its edge is, as its read decides with the user's zone).
    fn ahead_of<'a>(&self, addressed: impl IntoIterator<Item = &'a Addressed>) -> Vec<&'a EntryAddress> {
        addressed
            .into_iter()
            .filter(|addressed| self.in_any_zone(addressed) != Some(false))
            .map(|addressed| &addressed.entry)
            .collect()
    }

    /// Forgets what `mutation` changed, after its commit: the one way use
    /// cases forget. The mutation's outbox row is queued for deletion
    /// only when every target was applied and will survive a failover (a
    /// replica acknowledged it); otherwise it stays for the drain
    /// (`drain_outbox`), which survives this process.
    /// What was changed is computed here, by `mutation`'s declaration, from
    /// what the run `touched`.
    async fn forget<T: ?Sized>(
        &self,
        mutation: &Mutation<T>,
        user: UserId,
        touched: &T,
        outbox: Option<OutboxId>,
    ) -> InvalidationReport {
        if self.fault == Fault::SkipInvalidation {
            return InvalidationReport::default();
        }
        let operation = mutation.spec.operation;
        let changes = mutation.changes(user, touched);
        let targets: Vec<Target> = self.matrix.targets(operation, &changes).into_iter().collect();
        let report = self.cache.invalidate(&targets).await;
        if !report.durable() {
            tracing::warn!(
                ?operation,
                deferred = report.deferred,
                unreplicated = report.unreplicated,
                ?outbox,
                "invalidations deferred or not yet on a replica; the outbox row stays for the drain"
            );
        } else if let Some(outbox) = outbox
            && self.applied.push(outbox)
        {
            self.flush_applied_outbox_rows().await;
        }
        report
    }

    /// One cached read: `fetch` runs against the repositories on a miss.
    async fn cached<T, F, Fut>(
        &self,
        address: Addressed,
        policy: Policy,
        freshness: Freshness,
        check: Check<T>,
        fetch: F,
    ) -> Result<T, Unavailable>
    where
        T: Cacheable,
        F: Fn(Repositories) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Unavailable>> + Send + 'static,
    {
        let repos = self.repos.clone();
        let fetch = move || fetch(repos.clone());
        self.cache
            .value(self.read_of(&address, policy, freshness, check, fetch).await)
            .await
            .map_err(errors::from_cache)
    }
}

/// check-value for values with no invariant beyond their type.
fn no_check<T>(_: &T) -> Result<(), String> {
    Ok(())
}
