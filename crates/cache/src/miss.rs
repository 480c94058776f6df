//! What a miss does: concurrent misses of one key under one set of
//! generations share one fetch (single-flight); with a shared store the
//! instances agree through a lease which one fetches; the fetched value is
//! stored only if its generations are still current.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::future::Either;
use macrotrack_cache_keys::EntryAddress;
use macrotrack_ports::{CacheStore, Lease, Snapshot, StoreOutcome};
// tokio's clock: tests that pause time see leases and fetch times move with it.
use tokio::time::Instant;

use crate::answer::{Answer, Classified, Want};
use crate::config::{Check, LeaseConfig, ReadError};
use crate::engine::Engine;
use crate::envelope::{Envelope, fingerprint};
use crate::flight::{Flight, FlightKey, Plan};
use crate::lock::lock;
use crate::outcome::Outcome;
use crate::read::{Cacheable, Fetch, Read};

/// A lease is held for this many typical fetch times.
const HOLD_PER_FETCH: u32 = 8;
/// Waiters never poll faster than this.
const MIN_POLL: Duration = Duration::from_millis(1);
/// Failed fetches of one flight after which its waiters stop taking turns.
const TAKEOVERS: usize = 2;
/// Renewals of a running leader's lease per hold: one late renewal still
/// lands before the lease expires.
const RENEWALS_PER_HOLD: u32 = 3;
/// Times a reader tries to take a lease that ended without a value before
/// it fetches without one.
const LEASE_ATTEMPTS: usize = 3;

/// A lease this instance took, ended when the future holding it is dropped
/// before it ended the lease itself (a cancelled request, a timeout), so
/// the other instances need not wait out its hold. Ending it deletes it
/// only while it holds this fetch's token (`CacheStore::release`).
struct ReleaseOnDrop<S: CacheStore> {
    engine: Engine<S>,
    lease: Option<Lease>,
}

impl<S: CacheStore> ReleaseOnDrop<S> {
    fn new(engine: &Engine<S>, lease: &Lease) -> Self {
        ReleaseOnDrop { engine: engine.clone(), lease: Some(lease.clone()) }
    }

    /// The lease was ended (stored, released): nothing to do on drop.
    fn ended(mut self) {
        self.lease = None;
    }
}

impl<S: CacheStore> Drop for ReleaseOnDrop<S> {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else { return };
        // Drop cannot await: the release runs as a task of its own. Without
        // a runtime (shutting down) the lease just expires.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let engine = self.engine.clone();
            runtime.spawn(async move { engine.release(Some(&lease)).await });
        }
    }
}

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
    /// The generations moved or the store failed:
    /// fetch without waiting any longer.
    GiveUp,
}

impl<S: CacheStore> Engine<S> {
    /// Concurrent misses of one key under the same generations share one
    /// fetch. A reader that saw newer generations (after an invalidation)
    /// never joins an older flight. When the leader's fetch fails, one
    /// waiter fetches in its place while the others keep waiting: a failure
    /// that passes costs one more fetch, not one per waiter. After
    /// `TAKEOVERS` failed fetches the waiters stop queueing behind each
    /// other (a source that keeps failing would make them wait one fetch
    /// time each) and fetch on their own.
    pub(crate) async fn single_flight<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
        plan: Plan,
    ) -> Result<Answer<T>, ReadError<E>> {
        let address = read.address;
        let generations = match &plan {
            Plan::Store { guards, .. } => Some(guards.clone()),
            Plan::Confirm { .. } => None,
        };
        let key: FlightKey = (address.key.clone(), generations);
        let (flight, erased) = {
            let mut flights = lock(&self.inner.flights.0);
            let erased =
                Arc::clone(flights.entry(key.clone()).or_insert_with(|| Arc::new(Flight::<Answer<T>>::default())));
            match Arc::clone(&erased).downcast::<Flight<Answer<T>>>() {
                Ok(flight) => (flight, erased),
                // One key always holds one type; a mismatch means a bug elsewhere: do not share.
                Err(_) => (Arc::new(Flight::default()), erased),
            }
        };
        let mut own_error: Option<ReadError<E>> = None;
        let shared = flight
            .value
            .get_or_try_init(|| async {
                if flight.failures.load(Ordering::Acquire) >= TAKEOVERS {
                    return Err(());
                }
                self.lead(read, &plan).await.map_err(|error| {
                    flight.failures.fetch_add(1, Ordering::AcqRel);
                    own_error = Some(error);
                })
            })
            .await
            .cloned();
        {
            let mut flights = lock(&self.inner.flights.0);
            if flights.get(&key).is_some_and(|current| Arc::ptr_eq(current, &erased)) {
                flights.remove(&key);
            }
        }
        match (shared, own_error) {
            (Ok(answer), _) => Ok(answer),
            // This caller's fetch failed: its error is its own.
            (Err(()), Some(error)) => Err(error),
            // The flight failed too often: try on our own.
            (Err(()), None) => self.fetch_checked(read).await.map(Answer::value),
        }
    }

    /// The fetch of a flight's leader.
    async fn lead<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
        plan: &Plan,
    ) -> Result<Answer<T>, ReadError<E>> {
        match (plan, self.inner.config.lease) {
            (Plan::Confirm { seen }, _) => self.fetch_then_guard(read, seen).await,
            (Plan::Store { guards, leased: true }, Some(lease)) => self.lead_leased(read, guards, lease).await,
            (Plan::Store { guards, .. }, _) => self.fetch_and_store(read, guards, None).await,
        }
    }

    /// Only one instance fetches an entry under one set of generations: the
    /// one holding its lease, renewed while its fetch runs. The others wait
    /// while the lease is held, and stop as soon as the value is stored, the
    /// generations move or the lease ends; a lease that ended without a
    /// value is taken again. A leader whose future is dropped (a cancelled
    /// request) ends its lease at once.
    async fn lead_leased<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
        guards: &[u64],
        config: LeaseConfig,
    ) -> Result<Answer<T>, ReadError<E>> {
        let (address, check) = (read.address, read.check);
        let (hold, poll) = self.lease_timing(address.family, config);
        let lease = Lease { key: address.lease(guards), token: rand::random() };
        for _ in 0..LEASE_ATTEMPTS {
            let asked = self.inner.store.lease(&lease, hold, &address.key, &address.guards);
            let Some((taken, snapshot)) = self.answered(asked).await else { break };
            // Read in the same step as the lease: another instance may have
            // stored the value since this one found it missing.
            let stored = self.stored_under(address, &snapshot, check, guards);
            if taken {
                let held = ReleaseOnDrop::new(self, &lease);
                if matches!(stored, Stored::NotYet) {
                    let answer = self.fetch_and_store(read, guards, Some((&lease, hold))).await;
                    held.ended();
                    return answer;
                }
                // The value is there or the generations moved: nothing to fetch under it.
                self.release(Some(&lease)).await;
                held.ended();
            }
            match stored {
                Stored::Value(answer) => return Ok(answer),
                Stored::Moved => break,
                Stored::NotYet => {}
            }
            match self.await_other(read, guards, &lease.key, poll).await {
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
    /// poll. No bound of its own: the lease is held only while its fetch
    /// runs (renewed), or for one hold after its instance died.
    async fn await_other<T: Cacheable, F>(
        &self,
        read: &Read<'_, T, F>,
        guards: &[u64],
        lease_key: &str,
        poll: Duration,
    ) -> Waited<T> {
        let (address, check) = (read.address, read.check);
        // The lease is read like one more guard: its token while it is held.
        let mut keys = address.guards.clone();
        keys.push(lease_key.to_owned());
        loop {
            tokio::time::sleep(poll).await;
            let Some(mut snapshot) = self.answered(self.inner.store.read(&address.key, &keys)).await else {
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

    /// The miss of a key the source may not know: nothing is written before
    /// the source answered a value. Then the absent guards are created; if
    /// every guard holds what the read found (absent ones the generation
    /// just proposed: nothing bumped them since the fetch started, as a
    /// bump would have created them), the fetched value is stored under
    /// them. Otherwise something moved since: fetch again under the guards
    /// now current. A cold read of a known key costs one fetch.
    async fn fetch_then_guard<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
        seen: &[Option<u64>],
    ) -> Result<Answer<T>, ReadError<E>> {
        let address = read.address;
        let value = self.fetch_checked(read).await?;
        let fresh: Vec<u64> = seen.iter().map(|_| self.inner.generations.next(self.now_ms())).collect();
        let unchanged: Vec<u64> = seen.iter().zip(&fresh).map(|(seen, fresh)| seen.unwrap_or(*fresh)).collect();
        let made = self.inner.store.init_guards(&address.guards, &fresh, read.policy.lifetime());
        match self.answered(made).await {
            Some(current) if current == unchanged => self.store_fetched(read, value, &unchanged, None).await,
            Some(current) => self.fetch_and_store(read, &current, None).await,
            None => Ok(Answer::value(value)),
        }
    }

    /// Fetches, and stores the value if `guards` are still current; ends
    /// `lease` (held for the duration given) either way (with the store, or
    /// on its own when there is nothing to store), and renews it while the
    /// fetch runs.
    pub(crate) async fn fetch_and_store<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: &Read<'_, T, F>,
        guards: &[u64],
        held: Option<(&Lease, Duration)>,
    ) -> Result<Answer<T>, ReadError<E>> {
        let lease = held.map(|(lease, _)| lease);
        let fetched = match held {
            Some((lease, hold)) => self.renewing(lease, hold, self.fetch_checked(read)).await,
            None => self.fetch_checked(read).await,
        };
        match fetched {
            Ok(value) => self.store_fetched(read, value, guards, lease).await,
            Err(error) => {
                self.release(lease).await;
                Err(error)
            }
        }
    }

    /// Stores `value`, fetched under `guards`, if they are still current;
    /// ends `lease` either way.
    async fn store_fetched<T: Cacheable, E, F>(
        &self,
        read: &Read<'_, T, F>,
        value: T,
        guards: &[u64],
        lease: Option<&Lease>,
    ) -> Result<Answer<T>, ReadError<E>> {
        let (address, policy) = (read.address, read.policy);
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
        let stored = self.inner.store.store_if_current(
            &address.key,
            envelope.encode(),
            policy.ttl + policy.swr,
            &address.guards,
            guards,
            lease,
        );
        let stored = self.answered(stored).await;
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

    /// Runs `work` (a leader's fetch) while keeping `lease` alive: renewed
    /// every third of its hold, so waiting instances see the fetch is
    /// still running however long it takes. A renewal that finds the lease
    /// gone (expired during a stall, or the store failing) stops renewing;
    /// the fetch goes on, and at worst another instance fetches too.
    async fn renewing<R>(&self, lease: &Lease, hold: Duration, work: impl Future<Output = R>) -> R {
        let renew = async {
            let every = (hold / RENEWALS_PER_HOLD).max(MIN_POLL);
            loop {
                tokio::time::sleep(every).await;
                if self.answered(self.inner.store.renew(lease, hold)).await != Some(true) {
                    break;
                }
            }
            std::future::pending::<Infallible>().await
        };
        match futures::future::select(std::pin::pin!(work), std::pin::pin!(renew)).await {
            Either::Left((done, _)) => done,
            Either::Right((never, _)) => match never {},
        }
    }

    /// Ends `lease`, if any, when its fetch stores nothing.
    async fn release(&self, lease: Option<&Lease>) {
        if let Some(lease) = lease {
            self.answered(self.inner.store.release(lease)).await;
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
