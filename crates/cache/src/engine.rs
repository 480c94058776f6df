//! The engine: one read path for both tiers, and invalidation.
//!
//! Every entry is guarded by generation counters (its own for tier 1, its
//! tags' for tier 2, and its user's epoch for both). A read takes the
//! generations before it fetches; the store keeps the fetched value only if
//! they are unchanged (closing the stale-set race), and a cached entry is
//! served only while they are unchanged (making invalidation O(1)).

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, RwLock};

use bytes::Bytes;
use macrotrack_cache_keys::{EntryAddress, Target};
use macrotrack_domain::UserId;
use macrotrack_ports::{CacheStore, Clock, Snapshot, StoreError, StoreOutcome};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::breaker::Breaker;
use crate::config::{Check, EngineConfig, Freshness, LeaseConfig, Policy, ReadError, StoreStatus};
use crate::envelope::Envelope;
use crate::generation::Generations;
use crate::outcome::{Outcome, Stats, StatsSnapshot};
use crate::own_bumps::OwnBumps;

type FlightKey = (String, Vec<u64>);

/// The two-tier cache engine over a store `S`. Cheap to clone.
pub struct Engine<S> {
    pub(crate) inner: Arc<Inner<S>>,
}

impl<S> Clone for Engine<S> {
    fn clone(&self) -> Self {
        Engine { inner: Arc::clone(&self.inner) }
    }
}

pub(crate) struct Inner<S> {
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: EngineConfig,
    pub(crate) breaker: Breaker,
    pub(crate) stats: Stats,
    pub(crate) flights: Mutex<HashMap<FlightKey, Arc<dyn Any + Send + Sync>>>,
    pub(crate) refreshing: Mutex<HashSet<String>>,
    pub(crate) pending: Mutex<BTreeMap<UserId, BTreeSet<Target>>>,
    pub(crate) has_pending: AtomicBool,
    pub(crate) retrying: tokio::sync::Mutex<()>,
    pub(crate) own_bumps: Option<OwnBumps>,
    pub(crate) generations: Generations,
}

tokio::task_local! {
    /// Snapshots read ahead by `Engine::prefetch`, each used by one read,
    /// with the own-bumps mark taken before they were read.
    static PREFETCHED: Mutex<HashMap<String, (Snapshot, u64)>>;
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The fingerprint of `T`'s JSON schema: entries written by a build whose
/// type differs are invalid by construction.
fn fingerprint<T: JsonSchema + 'static>() -> u64 {
    static KNOWN: LazyLock<RwLock<HashMap<TypeId, u64>>> = LazyLock::new(Default::default);
    if let Some(known) = KNOWN.read().unwrap_or_else(|e| e.into_inner()).get(&TypeId::of::<T>()) {
        return *known;
    }
    let schema = serde_json::to_vec(&schemars::schema_for!(T)).unwrap_or_default();
    let digest = Sha256::digest(&schema);
    let value = u64::from_le_bytes(digest[..8].try_into().unwrap_or_default());
    KNOWN.write().unwrap_or_else(|e| e.into_inner()).insert(TypeId::of::<T>(), value);
    value
}

/// What the caller of the engine wants back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Value,
    Json,
    /// Both, for a value shared with the other callers of a flight.
    Both,
}

/// A value, its JSON, or both (a fetched value has both; a hit has the
/// one that was wanted).
#[derive(Debug, Clone)]
struct Answer<T> {
    value: Option<T>,
    json: Option<Bytes>,
}

impl<T> Answer<T> {
    fn value(value: T) -> Self {
        Answer { value: Some(value), json: None }
    }
}

enum Classified<T> {
    Fresh(Answer<T>),
    Stale(Answer<T>, Vec<u64>),
    Invalid,
    Absent,
}

impl<S: CacheStore> Engine<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>, config: EngineConfig) -> Self {
        Engine {
            inner: Arc::new(Inner {
                store,
                clock,
                breaker: Breaker::new(config.breaker),
                config,
                stats: Stats::default(),
                flights: Mutex::default(),
                refreshing: Mutex::default(),
                pending: Mutex::default(),
                has_pending: AtomicBool::new(false),
                retrying: tokio::sync::Mutex::new(()),
                own_bumps: config
                    .own_bumps_window
                    .map(|window| OwnBumps::new(i64::try_from(window.as_millis()).unwrap_or(i64::MAX))),
                generations: Generations::default(),
            }),
        }
    }

    pub fn store(&self) -> &S {
        &self.inner.store
    }

    pub fn enabled(&self) -> bool {
        self.inner.config.enabled
    }

    /// Whether the breaker currently keeps calls away from the store.
    pub fn breaker_open(&self) -> bool {
        self.inner.breaker.is_open()
    }

    /// Keys whose background refresh is running now.
    pub fn refreshing(&self) -> usize {
        lock(&self.inner.refreshing).len()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    /// Invalidations waiting to be applied, per user.
    pub fn pending(&self) -> BTreeMap<UserId, BTreeSet<Target>> {
        lock(&self.inner.pending).clone()
    }

    pub async fn store_status(&self) -> StoreStatus {
        if !self.inner.config.enabled {
            return StoreStatus::Off;
        }
        if self.inner.store.kind() == "in-process" {
            return StoreStatus::InProcess;
        }
        match self.inner.store.ping().await {
            Ok(()) => StoreStatus::Ok,
            Err(_) => StoreStatus::Down,
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.clock.now().timestamp_millis()
    }

    fn record(&self, address: &EntryAddress, outcome: Outcome) {
        self.inner.stats.record(address.tier.label(), address.family, outcome);
    }

    pub(crate) fn store_failed(&self, error: &StoreError) {
        tracing::warn!(%error, "cache store failed; serving from the source");
        self.inner.breaker.failure(self.inner.clock.now());
    }

    /// Runs `body` with the entries at `addresses` (all of one user) read
    /// ahead in one store round trip: each read of one of them inside `body`
    /// starts from that snapshot instead of its own round trip. Freshness,
    /// guards and check-value apply as for any read; a failed read-ahead
    /// just leaves the reads to fetch their own. Inside another prefetch,
    /// only the entries the outer one did not read are read, and they join
    /// its snapshots (so a use case that reads ahead can run inside a caller
    /// that already read ahead for it, still in one round trip).
    pub async fn prefetch<R>(&self, addresses: &[&EntryAddress], body: impl Future<Output = R>) -> R {
        let nested = PREFETCHED.try_with(|_| ()).is_ok();
        let read_by_outer =
            |a: &EntryAddress| PREFETCHED.try_with(|map| lock(map).contains_key(&a.key)).unwrap_or(false);
        let addresses: Vec<&EntryAddress> = addresses.iter().copied().filter(|a| !read_by_outer(a)).collect();
        let usable = self.inner.config.enabled
            && !addresses.is_empty()
            && !self.inner.has_pending.load(Ordering::Acquire)
            && self.inner.breaker.allow(self.inner.clock.now());
        let mut snapshots = HashMap::new();
        if usable {
            let reads: Vec<(String, Vec<String>)> =
                addresses.iter().map(|a| (a.key.clone(), a.guards.clone())).collect();
            let mark = self.own_bumps_mark();
            match self.inner.store.read_many(&reads).await {
                Ok(found) => {
                    self.inner.breaker.success();
                    snapshots.extend(reads.into_iter().map(|(key, _)| key).zip(found.into_iter().map(|s| (s, mark))));
                }
                Err(error) => self.store_failed(&error),
            }
        }
        if nested {
            let _ = PREFETCHED.try_with(|map| lock(map).extend(snapshots));
            return body.await;
        }
        PREFETCHED.scope(Mutex::new(snapshots), body).await
    }

    /// Reads through the cache: the value at `address`, or `fetch`'s.
    pub async fn read<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        freshness: Freshness,
        check: Check<T>,
        fetch: F,
    ) -> Result<T, ReadError<E>>
    where
        T: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static,
        E: Send + 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let answer = self.answer(address, policy, freshness, check, fetch, Want::Value).await?;
        match (answer.value, answer.json) {
            (Some(value), _) => Ok(value),
            // Unreachable in practice: a value is decoded whenever one is wanted.
            (None, Some(json)) => serde_json::from_slice(&json).map_err(|e| ReadError::InvalidFresh(e.to_string())),
            (None, None) => Err(ReadError::InvalidFresh("no value".into())),
        }
    }

    /// Like `read`, but answers the value's JSON. A hit hands over the stored
    /// bytes without decoding them (the envelope's checksum and schema
    /// fingerprint stand for check-value, which the value passed when it was
    /// stored), so a hit that goes straight to HTTP is never re-encoded.
    pub async fn read_json<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        freshness: Freshness,
        check: Check<T>,
        fetch: F,
    ) -> Result<Bytes, ReadError<E>>
    where
        T: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static,
        E: Send + 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let answer = self.answer(address, policy, freshness, check, fetch, Want::Json).await?;
        match (answer.json, answer.value) {
            (Some(json), _) => Ok(json),
            (None, Some(value)) => {
                serde_json::to_vec(&value).map(Bytes::from).map_err(|e| ReadError::InvalidFresh(e.to_string()))
            }
            (None, None) => Err(ReadError::InvalidFresh("no value".into())),
        }
    }

    async fn answer<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        freshness: Freshness,
        check: Check<T>,
        fetch: F,
        want: Want,
    ) -> Result<Answer<T>, ReadError<E>>
    where
        T: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static,
        E: Send + 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        if !self.inner.config.enabled {
            return self.fetch_checked(address, &fetch, check).await.map(Answer::value);
        }
        if !self.store_usable(address.user).await {
            self.record(address, Outcome::Bypass);
            return self.fetch_checked(address, &fetch, check).await.map(Answer::value);
        }
        if freshness == Freshness::Force {
            self.record(address, Outcome::Refresh);
            return match self.current_guards(address, None).await {
                Some(guards) => self.fetch_and_store(address, policy, check, &fetch, &guards).await,
                None => self.fetch_checked(address, &fetch, check).await.map(Answer::value),
            };
        }
        let prefetched = PREFETCHED.try_with(|map| lock(map).remove(&address.key)).ok().flatten();
        let (read, mark) = match prefetched {
            Some((snapshot, mark)) => (Ok(snapshot), mark),
            None => {
                let mark = self.own_bumps_mark();
                (self.inner.store.read(&address.key, &address.guards).await, mark)
            }
        };
        let snapshot = match read {
            Ok(snapshot) => {
                self.inner.breaker.success();
                snapshot
            }
            Err(error) => {
                self.store_failed(&error);
                self.record(address, Outcome::Error);
                return self.fetch_checked(address, &fetch, check).await.map(Answer::value);
            }
        };
        if !self.agrees_with_own_bumps(address, &snapshot.guards, mark) {
            self.record(address, Outcome::Bypass);
            return self.fetch_checked(address, &fetch, check).await.map(Answer::value);
        }
        match self.classify(&snapshot, check, want) {
            Classified::Fresh(answer) => {
                self.record(address, Outcome::Hit);
                return Ok(answer);
            }
            Classified::Stale(answer, guards) => {
                self.record(address, Outcome::Stale);
                self.spawn_refresh(address, policy, check, fetch, guards);
                return Ok(answer);
            }
            Classified::Invalid => {
                self.record(address, Outcome::Invalid);
                if let Err(error) = self.inner.store.delete(&address.key).await {
                    self.store_failed(&error);
                }
            }
            Classified::Absent => self.record(address, Outcome::Miss),
        }
        match self.current_guards(address, Some(snapshot.guards)).await {
            Some(guards) => self.single_flight(address, policy, check, fetch, guards).await,
            None => self.fetch_checked(address, &fetch, check).await.map(Answer::value),
        }
    }

    fn classify<T: DeserializeOwned + JsonSchema + 'static>(
        &self,
        snapshot: &Snapshot,
        check: Check<T>,
        want: Want,
    ) -> Classified<T> {
        let Some(bytes) = &snapshot.value else { return Classified::Absent };
        // Decoding the envelope verifies the payload's checksum.
        let Some(envelope) = Envelope::decode(bytes) else { return Classified::Invalid };
        if envelope.fingerprint != fingerprint::<T>() {
            return Classified::Invalid;
        }
        let current: Option<Vec<u64>> = snapshot.guards.iter().copied().collect();
        if current.as_ref() != Some(&envelope.guards) {
            // Invalidated since it was stored: an ordinary miss.
            return Classified::Absent;
        }
        // Clocks of two instances may disagree a little: never a negative age.
        let age = u64::try_from(self.now_ms() - envelope.created_ms).unwrap_or(0);
        if age >= envelope.ttl_ms.saturating_add(envelope.swr_ms) {
            return Classified::Absent;
        }
        let answer = match want {
            Want::Json => Answer { value: None, json: Some(envelope.payload) },
            Want::Value | Want::Both => {
                let Ok(value) = serde_json::from_slice::<T>(&envelope.payload) else { return Classified::Invalid };
                if check(&value).is_err() {
                    return Classified::Invalid;
                }
                let json = (want == Want::Both).then_some(envelope.payload);
                Answer { value: Some(value), json }
            }
        };
        if age < envelope.ttl_ms { Classified::Fresh(answer) } else { Classified::Stale(answer, envelope.guards) }
    }

    /// The generations to fetch under: those of the snapshot when all are
    /// present, else initialised in the store. `None` when the store failed.
    async fn current_guards(&self, address: &EntryAddress, known: Option<Vec<Option<u64>>>) -> Option<Vec<u64>> {
        if let Some(all) = known.and_then(|guards| guards.into_iter().collect::<Option<Vec<u64>>>()) {
            return Some(all);
        }
        let fresh: Vec<u64> = address.guards.iter().map(|_| self.inner.generations.next(self.now_ms())).collect();
        match self.inner.store.init_guards(&address.guards, &fresh, self.inner.config.guard_ttl).await {
            Ok(guards) => Some(guards),
            Err(error) => {
                self.store_failed(&error);
                None
            }
        }
    }

    /// Concurrent misses of one key under the same generations share one
    /// fetch. A reader that saw newer generations (after an invalidation)
    /// never joins an older flight.
    async fn single_flight<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        check: Check<T>,
        fetch: F,
        guards: Vec<u64>,
    ) -> Result<Answer<T>, ReadError<E>>
    where
        T: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static,
        E: Send + 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let key: FlightKey = (address.key.clone(), guards.clone());
        let (cell, erased) = {
            let mut flights = lock(&self.inner.flights);
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
                let result = self.lead(address, policy, check, &fetch, &guards).await;
                let shared = result.as_ref().ok().cloned();
                own = Some(result);
                shared
            })
            .await
            .clone();
        {
            let mut flights = lock(&self.inner.flights);
            if flights.get(&key).is_some_and(|current| Arc::ptr_eq(current, &erased)) {
                flights.remove(&key);
            }
        }
        match (own, shared) {
            (Some(result), _) => result,
            (None, Some(value)) => Ok(value),
            // The leader failed: its error is its own; try on our own.
            (None, None) => self.fetch_checked(address, &fetch, check).await.map(Answer::value),
        }
    }

    /// The fetch of a flight's leader: with a lease configured, only one
    /// instance fetches; the others wait (bounded) for the value it stores.
    async fn lead<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        check: Check<T>,
        fetch: &F,
        guards: &[u64],
    ) -> Result<Answer<T>, ReadError<E>>
    where
        T: Serialize + DeserializeOwned + JsonSchema + 'static,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(lease) = self.inner.config.lease {
            // A store error here is no reason to wait: fetch.
            if let Ok(false) = self.inner.store.lease(&address.lease(), rand::random(), lease.hold).await
                && let Some(answer) = self.await_other(address, check, guards, lease).await
            {
                return Ok(answer);
            }
        }
        self.fetch_and_store(address, policy, check, fetch, guards).await
    }

    /// Polls for the value another instance is fetching under the same
    /// generations; `None` when it does not come in time or they change.
    async fn await_other<T>(
        &self,
        address: &EntryAddress,
        check: Check<T>,
        guards: &[u64],
        lease: LeaseConfig,
    ) -> Option<Answer<T>>
    where
        T: DeserializeOwned + JsonSchema + 'static,
    {
        let started = std::time::Instant::now();
        while started.elapsed() < lease.wait {
            tokio::time::sleep(lease.poll).await;
            let snapshot = self.inner.store.read(&address.key, &address.guards).await.ok()?;
            if !snapshot.guards.iter().zip(guards).all(|(now, then)| *now == Some(*then)) {
                return None; // invalidated meanwhile: what the other fetched is old
            }
            match self.classify(&snapshot, check, Want::Both) {
                Classified::Fresh(answer) | Classified::Stale(answer, _) => return Some(answer),
                Classified::Invalid | Classified::Absent => {}
            }
        }
        None
    }

    /// Every read of the source goes through here, so each is counted
    /// (`macrotrack_cache_fetches_total`: the database load the cache lets
    /// through), then checked.
    async fn fetch_checked<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        fetch: &F,
        check: Check<T>,
    ) -> Result<T, ReadError<E>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.inner.stats.fetched(address.tier.label(), address.family);
        let value = fetch().await.map_err(ReadError::Source)?;
        check(&value).map_err(ReadError::InvalidFresh)?;
        Ok(value)
    }

    async fn fetch_and_store<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        check: Check<T>,
        fetch: &F,
        guards: &[u64],
    ) -> Result<Answer<T>, ReadError<E>>
    where
        T: Serialize + JsonSchema + 'static,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let value = self.fetch_checked(address, fetch, check).await?;
        let Ok(payload) = serde_json::to_vec(&value) else { return Ok(Answer::value(value)) };
        let payload = Bytes::from(payload);
        let envelope = Envelope {
            created_ms: self.now_ms(),
            ttl_ms: u64::try_from(policy.ttl.as_millis()).unwrap_or(u64::MAX),
            swr_ms: u64::try_from(policy.swr.as_millis()).unwrap_or(u64::MAX),
            fingerprint: fingerprint::<T>(),
            guards: guards.to_vec(),
            payload: payload.clone(),
        };
        match self
            .inner
            .store
            .store_if_current(&address.key, envelope.encode(), policy.ttl + policy.swr, &address.guards, guards)
            .await
        {
            Ok(StoreOutcome::Stored) => self.inner.breaker.success(),
            Ok(StoreOutcome::Rejected) => self.record(address, Outcome::RejectedStore),
            Err(error) => self.store_failed(&error),
        }
        Ok(Answer { value: Some(value), json: Some(payload) })
    }

    fn spawn_refresh<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        check: Check<T>,
        fetch: F,
        guards: Vec<u64>,
    ) where
        T: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static,
        E: Send + 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
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
        let address = address.clone();
        tokio::spawn(async move {
            let engine = &slot.0;
            if engine.fetch_and_store(&address, policy, check, &fetch, &guards).await.is_err() {
                tracing::warn!(key = %address.key, "background refresh failed; the stale entry stays until it expires");
            }
            drop(slot);
        });
    }
}
