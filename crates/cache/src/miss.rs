//! What a miss does: concurrent misses of one key under one set of
//! generations share one fetch (single-flight); with a shared store the
//! instances agree through a lease which one fetches; the fetched value is
//! stored only if its generations are still current.

use std::sync::Arc;
use std::time::Duration;

use macrotrack_cache_keys::EntryAddress;
use macrotrack_ports::{CacheStore, Lease, Snapshot, StoreOutcome};
use tokio::sync::OnceCell;
// tokio's clock: tests that pause time see leases and fetch times move with it.
use tokio::time::Instant;

use crate::answer::{Answer, Classified, Want};
use crate::config::{Check, LeaseConfig, ReadError};
use crate::engine::Engine;
use crate::envelope::{Envelope, fingerprint};
use crate::flight::{FlightKey, Plan};
use crate::lock::lock;
use crate::outcome::Outcome;
use crate::read::{Cacheable, Fetch, Read};

/// A lease is held for this many typical fetch times.
const HOLD_PER_FETCH: u32 = 8;
/// Waiters never poll faster than this.
const MIN_POLL: Duration = Duration::from_millis(1);
/// Times a reader tries to take a lease that ended without a value before
/// it fetches without one.
const LEASE_ATTEMPTS: usize = 3;

/// What the store holds of a value fetched under some generations.
enum Stored<T> {
    Value(Answer<T>),
    NotYet,
    /// The generations moved since (an invalidation): what was fetched
    /// under them is old, and will never be stored.
    Moved,
}

/// What waiting for another instance's fetch came to.
enum Waited<T> {
    /// Its value, stored under the generations waited for.
    Value(Answer<T>),
    /// The lease ended (its fetch failed, or its store did not happen):
    /// nobody is fetching now.
    LeaseEnded,
    /// The generations moved, the wait's bound passed or the store failed:
    /// fetch without waiting any longer.
    GiveUp,
}

impl<S: CacheStore> Engine<S> {
    /// Concurrent misses of one key under the same generations share one
    /// fetch. A reader that saw newer generations (after an invalidation)
    /// never joins an older flight.
    pub(crate) async fn single_flight<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
        plan: Plan,
    ) -> Result<Answer<T>, ReadError<E>> {
        let address = read.address;
        let generations = match &plan {
            Plan::Store { guards, .. } => Some(guards.clone()),
            Plan::FetchOnly => None,
        };
        let key: FlightKey = (address.key.clone(), generations);
        let (cell, erased) = {
            let mut flights = lock(&self.inner.flights.0);
            let erased = Arc::clone(
                flights.entry(key.clone()).or_insert_with(|| Arc::new(OnceCell::<Option<Answer<T>>>::new())),
            );
            match Arc::clone(&erased).downcast::<OnceCell<Option<Answer<T>>>>() {
                Ok(cell) => (cell, erased),
                // One key always holds one type; a mismatch means a bug elsewhere: do not share.
                Err(_) => (Arc::new(OnceCell::new()), erased),
            }
        };
        let mut own: Option<Result<Answer<T>, ReadError<E>>> = None;
        let shared = cell
            .get_or_init(|| async {
                let result = self.lead(read, &plan).await;
                let shared = result.as_ref().ok().cloned();
                own = Some(result);
                shared
            })
            .await
            .clone();
        {
            let mut flights = lock(&self.inner.flights.0);
            if flights.get(&key).is_some_and(|current| Arc::ptr_eq(current, &erased)) {
                flights.remove(&key);
            }
        }
        match (own, shared) {
            (Some(result), _) => result,
            (None, Some(value)) => Ok(value),
            // The leader failed: its error is its own; try on our own.
            (None, None) => self.fetch_checked(read).await.map(Answer::value),
        }
    }

    /// The fetch of a flight's leader.
    async fn lead<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
        plan: &Plan,
    ) -> Result<Answer<T>, ReadError<E>> {
        match (plan, self.inner.config.lease) {
            (Plan::FetchOnly, _) => self.fetch_checked(read).await.map(Answer::value),
            (Plan::Store { guards, leased: true }, Some(lease)) => self.lead_leased(read, guards, lease).await,
            (Plan::Store { guards, .. }, _) => self.fetch_and_store(read, guards, None).await,
        }
    }

    /// Only one instance fetches an entry under one set of generations: the
    /// one holding its lease. The others wait while the lease is held, and
    /// stop as soon as the value is stored, the generations move or the
    /// lease ends; a lease that ended without a value is taken again.
    async fn lead_leased<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
        guards: &[u64],
        config: LeaseConfig,
    ) -> Result<Answer<T>, ReadError<E>> {
        let (address, check) = (read.address, read.check);
        let (hold, poll) = self.lease_timing(address.family, config);
        let lease = Lease { key: address.lease(guards), token: rand::random() };
        let deadline = Instant::now() + config.max_hold;
        for _ in 0..LEASE_ATTEMPTS {
            let asked = self.inner.store.lease(&lease, hold, &address.key, &address.guards).await;
            let Some((taken, snapshot)) = self.answered(asked) else { break };
            // Read in the same step as the lease: another instance may have
            // stored the value since this one found it missing.
            match (self.stored_under(address, &snapshot, check, guards), taken) {
                (Stored::Value(answer), _) => {
                    self.release(taken.then_some(&lease)).await;
                    return Ok(answer);
                }
                (Stored::Moved, _) => {
                    self.release(taken.then_some(&lease)).await;
                    break;
                }
                (Stored::NotYet, true) => {
                    return self.fetch_and_store(read, guards, Some(&lease)).await;
                }
                (Stored::NotYet, false) => {}
            }
            match self.await_other(read, guards, &lease.key, deadline, poll).await {
                Waited::Value(answer) => return Ok(answer),
                Waited::LeaseEnded => continue,
                Waited::GiveUp => break,
            }
        }
        self.fetch_and_store(read, guards, None).await
    }

    /// What `snapshot` says of the value fetched under `guards`.
    fn stored_under<T: Cacheable>(
        &self,
        address: &EntryAddress,
        snapshot: &Snapshot,
        check: Check<T>,
        guards: &[u64],
    ) -> Stored<T> {
        if !snapshot.guards.iter().zip(guards).all(|(now, then)| *now == Some(*then)) {
            return Stored::Moved;
        }
        match self.classify(address, snapshot, check, Want::Both) {
            Classified::Fresh(answer) | Classified::Stale(answer, _) => Stored::Value(answer),
            Classified::Invalid | Classified::Absent { .. } => Stored::NotYet,
        }
    }

    /// How long to hold a lease, and how often to look for another
    /// instance's value: both follow the fetch time measured lately.
    fn lease_timing(&self, family: &'static str, config: LeaseConfig) -> (Duration, Duration) {
        match self.inner.fetch_times.typical(family) {
            None => (config.max_hold, config.poll),
            Some(typical) => (
                (typical * HOLD_PER_FETCH).max(config.min_hold).min(config.max_hold),
                (typical / 2).max(MIN_POLL).min(config.poll),
            ),
        }
    }

    /// Waits for the value another instance is fetching under `guards`,
    /// reading the entry, its guards and the lease in one round trip per
    /// poll.
    async fn await_other<T: Cacheable, F>(
        &self,
        read: &Read<'_, T, F>,
        guards: &[u64],
        lease_key: &str,
        deadline: Instant,
        poll: Duration,
    ) -> Waited<T> {
        let (address, check) = (read.address, read.check);
        // The lease is read like one more guard: its token while it is held.
        let mut keys = address.guards.clone();
        keys.push(lease_key.to_owned());
        while Instant::now() < deadline {
            tokio::time::sleep(poll).await;
            let Some(mut snapshot) = self.answered(self.inner.store.read(&address.key, &keys).await) else {
                return Waited::GiveUp;
            };
            let lease_held = snapshot.guards.pop().flatten().is_some();
            match (self.stored_under(address, &snapshot, check, guards), lease_held) {
                (Stored::Value(answer), _) => return Waited::Value(answer),
                (Stored::Moved, _) => return Waited::GiveUp,
                (Stored::NotYet, true) => {}
                (Stored::NotYet, false) => return Waited::LeaseEnded,
            }
        }
        Waited::GiveUp
    }

    /// Every read of the source goes through here, so each is counted
    /// (`macrotrack_cache_fetches_total`: the database load the cache lets
    /// through) and timed (leases follow the time), then checked.
    pub(crate) async fn fetch_checked<T, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
    ) -> Result<T, ReadError<E>> {
        let address = read.address;
        self.inner.stats.fetched(address.tier.label(), address.family);
        let started = Instant::now();
        let value = read.fetch.fetch().await.map_err(ReadError::Source)?;
        self.inner.fetch_times.record(address.family, started.elapsed());
        (read.check)(&value).map_err(ReadError::InvalidFresh)?;
        Ok(value)
    }

    /// Fetches, and stores the value if `guards` are still current; ends
    /// `lease` either way (with the store, or on its own when there is
    /// nothing to store).
    pub(crate) async fn fetch_and_store<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
        guards: &[u64],
        lease: Option<&Lease>,
    ) -> Result<Answer<T>, ReadError<E>> {
        let (address, policy) = (read.address, read.policy);
        let value = match self.fetch_checked(read).await {
            Ok(value) => value,
            Err(error) => {
                self.release(lease).await;
                return Err(error);
            }
        };
        let Ok(payload) = serde_json::to_vec(&value) else {
            // Never for the types cached here: served, not stored.
            self.release(lease).await;
            return Ok(Answer::value(value));
        };
        let payload = bytes::Bytes::from(payload);
        let envelope = Envelope::new(
            self.now_ms(),
            u64::try_from(policy.ttl.as_millis()).unwrap_or(u64::MAX),
            u64::try_from(policy.swr.as_millis()).unwrap_or(u64::MAX),
            fingerprint::<T>(),
            guards.to_vec(),
            payload.clone(),
        );
        let stored = self
            .inner
            .store
            .store_if_current(&address.key, envelope.encode(), policy.ttl + policy.swr, &address.guards, guards, lease)
            .await;
        let stored = self.answered(stored);
        if stored == Some(StoreOutcome::Rejected) {
            self.record(address, Outcome::RejectedStore);
        }
        Ok(Answer {
            value: Some(value),
            json: Some(payload),
            digest: Some(envelope.digest),
            fresh_for: None,
            stored: stored == Some(StoreOutcome::Stored),
        })
    }

    /// Ends `lease`, if any, when its fetch stores nothing.
    async fn release(&self, lease: Option<&Lease>) {
        if let Some(lease) = lease {
            self.answered(self.inner.store.release(lease).await);
        }
    }

    /// Refreshes a stale entry in a task of its own, so its read answers
    /// the stale value at once.
    pub(crate) fn spawn_refresh<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: Read<'_, T, F>,
        guards: Vec<u64>,
    ) {
        let address = read.address;
        if !lock(&self.inner.refreshing).insert(address.key.clone()) {
            return; // one background refresh per key at a time
        }
        /// Frees the key's refresh slot even if the refresh panics.
        struct Slot<S>(Engine<S>, String);
        impl<S> Drop for Slot<S> {
            fn drop(&mut self) {
                lock(&self.0.inner.refreshing).remove(&self.1);
            }
        }
        let slot = Slot(self.clone(), address.key.clone());
        let (address, policy, check, fetch) = (address.clone(), read.policy, read.check, read.fetch);
        tokio::spawn(async move {
            let engine = &slot.0;
            let read = Read::new(&address, policy, check, fetch);
            if engine.fetch_and_store(&read, &guards, None).await.is_err() {
                tracing::warn!(key = %address.key, "background refresh failed; the stale entry stays until it expires");
            }
            drop(slot);
        });
    }
}
