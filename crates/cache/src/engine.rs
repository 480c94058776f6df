//! The engine: one read path for both tiers, and invalidation.
//!
//! Every entry is guarded by generation counters (its own for tier 1, its
//! tags' for tier 2, and its user's epoch for both). A read takes the
//! generations before it fetches; the store keeps the fetched value only if
//! they are unchanged (closing the stale-set race), and a cached entry is
//! served only while they are unchanged (making invalidation O(1)).
//!
//! This file holds the read path up to a miss; `flight.rs` what a miss
//! does (single-flight, leases, fetch and store), `invalidation.rs` the
//! bumps and the pending set.

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt as _;
use futures::future::Either;
use macrotrack_cache_keys::{EntryAddress, Target};
use macrotrack_domain::UserId;
use macrotrack_ports::{CacheStore, Clock, Snapshot, StoreError};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use crate::breaker::Breaker;
use crate::config::{Admission, Check, EngineConfig, Freshness, Policy, ReadError, StoreStatus};
use crate::envelope::Envelope;
use crate::flight::{FetchTimes, Flights, Plan};
use crate::generation::Generations;
use crate::outcome::{Outcome, Stats, StatsSnapshot};
use crate::own_bumps::OwnBumps;
use crate::report::{self, Digest};

/// Envelopes whose JSON this instance has run check-value on, so the JSON
/// hot path checks each stored value once, not on every hit.
const VERIFIED_ENVELOPES: usize = 65_536;

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
    pub(crate) flights: Flights,
    pub(crate) fetch_times: FetchTimes,
    pub(crate) refreshing: Mutex<HashSet<String>>,
    /// Invalidations not applied yet, per user, each with the number of its
    /// latest deferral (so a retry clears only what it applied).
    pub(crate) pending: Mutex<BTreeMap<UserId, BTreeMap<Target, u64>>>,
    pub(crate) deferrals: AtomicU64,
    pub(crate) has_pending: AtomicBool,
    pub(crate) retrying: tokio::sync::Mutex<()>,
    pub(crate) own_bumps: Option<OwnBumps>,
    pub(crate) generations: Generations,
    verified: quick_cache::sync::Cache<u64, ()>,
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
pub(crate) fn fingerprint<T: JsonSchema + 'static>() -> u64 {
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
pub(crate) enum Want {
    Value,
    Json,
    /// Both, for a value shared with the other callers of a flight.
    Both,
}

/// A value, its JSON, or both (a fetched value has both; a hit has the
/// one that was wanted), and what a report says of it.
#[derive(Debug, Clone)]
pub(crate) struct Answer<T> {
    pub(crate) value: Option<T>,
    pub(crate) json: Option<Bytes>,
    /// The JSON's digest, when the envelope or the store step knows it.
    pub(crate) digest: Option<Digest>,
    /// A fresh hit's remaining freshness.
    pub(crate) fresh_for: Option<Duration>,
    /// A fetched value was written to the store.
    pub(crate) stored: bool,
}

impl<T> Answer<T> {
    pub(crate) fn value(value: T) -> Self {
        Answer { value: Some(value), json: None, digest: None, fresh_for: None, stored: false }
    }
}

pub(crate) enum Classified<T> {
    Fresh(Answer<T>),
    Stale(Answer<T>, Vec<u64>),
    Invalid,
    /// Nothing servable: `stored` when an entry was there but outdated
    /// (invalidated or expired), not when the key held nothing.
    Absent {
        stored: bool,
    },
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
                flights: Flights::default(),
                fetch_times: FetchTimes::default(),
                refreshing: Mutex::default(),
                pending: Mutex::default(),
                deferrals: AtomicU64::new(0),
                has_pending: AtomicBool::new(false),
                retrying: tokio::sync::Mutex::new(()),
                own_bumps: config
                    .own_bumps_window
                    .map(|window| OwnBumps::new(i64::try_from(window.as_millis()).unwrap_or(i64::MAX))),
                generations: Generations::default(),
                verified: quick_cache::sync::Cache::new(VERIFIED_ENVELOPES),
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
        let pending = lock(&self.inner.pending);
        pending.iter().map(|(user, targets)| (*user, targets.keys().copied().collect())).collect()
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

    pub(crate) fn record(&self, address: &EntryAddress, outcome: Outcome) {
        self.inner.stats.record(address.tier.label(), address.family, outcome);
        report::note(address, outcome);
    }

    pub(crate) fn store_failed(&self, error: &StoreError) {
        tracing::warn!(%error, "cache store failed; serving from the source");
        self.inner.breaker.failure(self.inner.clock.now());
    }

    /// Every store call's answer goes through here, so the breaker hears
    /// the outcome of every call (a half-open breaker's probe included),
    /// whichever path made it. Errors become `None`.
    pub(crate) fn answered<T>(&self, result: Result<T, StoreError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.inner.breaker.success();
                Some(value)
            }
            Err(error) => {
                self.store_failed(&error);
                None
            }
        }
    }

    /// Runs `body` with the entries at `addresses` (all of one user) read
    /// ahead in one store round trip: each read of one of them inside `body`
    /// starts from that snapshot instead of its own round trip. Freshness,
    /// guards and check-value apply as for any read; a failed read-ahead
    /// just leaves the reads to fetch their own. Inside another prefetch,
    /// only the entries the outer one did not read are read, and they join
    /// its snapshots (so a use case that reads ahead can run inside a caller
    /// that already read ahead for it, still in one round trip).
    ///
    /// Not an `async fn`: one would hold `body` twice (as its argument and
    /// as the future it awaits), and callers nest (`authenticated` around
    /// `reported` around a read), so the request's future grew to 21 kB and
    /// was copied at every level (callgrind: memcpy was 38% of a hot read's
    /// instructions). Here `body` is held once, beside the read-ahead.
    pub fn prefetch<'a, R, B>(
        &'a self,
        addresses: &[&EntryAddress],
        body: B,
    ) -> impl Future<Output = R> + use<'a, R, B, S>
    where
        B: Future<Output = R> + 'a,
    {
        let reads: Vec<(String, Vec<String>)> = addresses.iter().map(|a| (a.key.clone(), a.guards.clone())).collect();
        self.read_ahead(reads).then(move |(nested, snapshots)| {
            if nested {
                let _ = PREFETCHED.try_with(|map| lock(map).extend(snapshots));
                Either::Left(body)
            } else {
                Either::Right(PREFETCHED.scope(Mutex::new(snapshots), body))
            }
        })
    }

    /// `prefetch`'s store round trip: whether it runs inside another
    /// prefetch, and the snapshots of the entries the outer one did not read.
    async fn read_ahead(&self, reads: Vec<(String, Vec<String>)>) -> (bool, HashMap<String, (Snapshot, u64)>) {
        let nested = PREFETCHED.try_with(|_| ()).is_ok();
        let read_by_outer = |key: &str| PREFETCHED.try_with(|map| lock(map).contains_key(key)).unwrap_or(false);
        let reads: Vec<(String, Vec<String>)> = reads.into_iter().filter(|(key, _)| !read_by_outer(key)).collect();
        let usable = self.inner.config.enabled
            && !reads.is_empty()
            && !self.inner.has_pending.load(Ordering::Acquire)
            && self.inner.breaker.allow(self.inner.clock.now());
        let mut snapshots = HashMap::new();
        if usable {
            let mark = self.own_bumps_mark();
            if let Some(found) = self.answered(self.inner.store.read_many(&reads).await) {
                snapshots.extend(reads.into_iter().map(|(key, _)| key).zip(found.into_iter().map(|s| (s, mark))));
            }
        }
        (nested, snapshots)
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
        let answer = self.answer(address, policy, freshness, Admission::Eager, check, fetch, Want::Value).await?;
        into_value(answer)
    }

    /// Like `read`, for a key a client names and the source may not know
    /// (a token's credential): a miss writes nothing to the store until
    /// the source has answered a value (`Admission::Confirmed`), so a key
    /// naming nothing leaves no entry, guard or lease behind.
    pub async fn read_confirmed<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        check: Check<T>,
        fetch: F,
    ) -> Result<T, ReadError<E>>
    where
        T: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static,
        E: Send + 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let answer =
            self.answer(address, policy, Freshness::Cached, Admission::Confirmed, check, fetch, Want::Value).await?;
        into_value(answer)
    }

    /// Like `read`, but answers the value's JSON. A hit hands over the stored
    /// bytes without re-encoding them; check-value still runs on every
    /// stored value before it is served, once per stored value per instance
    /// (the verified envelopes are remembered by key, age and checksum).
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
        let answer = self.answer(address, policy, freshness, Admission::Eager, check, fetch, Want::Json).await?;
        match (answer.json, answer.value) {
            (Some(json), _) => Ok(json),
            (None, Some(value)) => {
                serde_json::to_vec(&value).map(Bytes::from).map_err(|e| ReadError::InvalidFresh(e.to_string()))
            }
            (None, None) => Err(ReadError::InvalidFresh("no value".into())),
        }
    }

    /// The one internal entry of the three public reads: `answer_unreported`,
    /// with the read added to the request's report. Not an `async fn`, so
    /// the read's future is held once (see `prefetch`).
    #[allow(clippy::too_many_arguments)]
    fn answer<'a, T, E, F, Fut>(
        &'a self,
        address: &'a EntryAddress,
        policy: Policy,
        freshness: Freshness,
        admission: Admission,
        check: Check<T>,
        fetch: F,
        want: Want,
    ) -> impl Future<Output = Result<Answer<T>, ReadError<E>>> + 'a
    where
        T: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static,
        E: Send + 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.answer_unreported(address, policy, freshness, admission, check, fetch, want).inspect(move |answer| {
            if let Ok(answer) = answer {
                report::finish(address, answer);
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn answer_unreported<T, E, F, Fut>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        freshness: Freshness,
        admission: Admission,
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
        if freshness == Freshness::Bypass || !self.store_usable(address.user).await {
            self.record(address, Outcome::Bypass);
            return self.fetch_checked(address, &fetch, check).await.map(Answer::value);
        }
        if freshness == Freshness::Force {
            self.record(address, Outcome::Refresh);
            return match self.current_guards(address, None).await {
                Some(guards) => self.fetch_and_store(address, policy, check, &fetch, &guards, None).await,
                None => self.fetch_checked(address, &fetch, check).await.map(Answer::value),
            };
        }
        let prefetched = PREFETCHED.try_with(|map| lock(map).remove(&address.key)).ok().flatten();
        let (read, mark) = match prefetched {
            Some((snapshot, mark)) => (Some(snapshot), mark),
            None => {
                let mark = self.own_bumps_mark();
                (self.answered(self.inner.store.read(&address.key, &address.guards).await), mark)
            }
        };
        let Some(snapshot) = read else {
            self.record(address, Outcome::Error);
            return self.fetch_checked(address, &fetch, check).await.map(Answer::value);
        };
        if !self.agrees_with_own_bumps(address, &snapshot.guards, mark) {
            self.record(address, Outcome::Bypass);
            return self.fetch_checked(address, &fetch, check).await.map(Answer::value);
        }
        match self.classify(address, &snapshot, check, want) {
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
                self.answered(self.inner.store.delete(&address.key).await);
            }
            Classified::Absent { stored } => {
                if !stored {
                    report::note_absent(address);
                }
                self.record(address, Outcome::Miss);
            }
        }
        let known: Option<Vec<u64>> = snapshot.guards.iter().copied().collect();
        let plan = match (admission, known) {
            (_, Some(guards)) => Plan::Store { guards, leased: admission == Admission::Eager },
            (Admission::Eager, None) => match self.current_guards(address, Some(snapshot.guards)).await {
                Some(guards) => Plan::Store { guards, leased: true },
                None => return self.fetch_checked(address, &fetch, check).await.map(Answer::value),
            },
            // Guards are made only once the source knows the key: fetch
            // first (shared by concurrent callers), then read as usual.
            (Admission::Confirmed, None) => {
                self.single_flight(address, policy, check, &fetch, Plan::FetchOnly).await?;
                match self.current_guards(address, None).await {
                    Some(guards) => Plan::Store { guards, leased: false },
                    None => return self.fetch_checked(address, &fetch, check).await.map(Answer::value),
                }
            }
        };
        self.single_flight(address, policy, check, &fetch, plan).await
    }

    pub(crate) fn classify<T: DeserializeOwned + JsonSchema + 'static>(
        &self,
        address: &EntryAddress,
        snapshot: &Snapshot,
        check: Check<T>,
        want: Want,
    ) -> Classified<T> {
        let Some(bytes) = &snapshot.value else { return Classified::Absent { stored: false } };
        // Decoding the envelope verifies the payload's checksum.
        let Some(envelope) = Envelope::decode(bytes) else { return Classified::Invalid };
        if envelope.fingerprint != fingerprint::<T>() {
            return Classified::Invalid;
        }
        let current: Option<Vec<u64>> = snapshot.guards.iter().copied().collect();
        if current.as_ref() != Some(&envelope.guards) {
            // Invalidated since it was stored, or a guard expired: a miss.
            return Classified::Absent { stored: true };
        }
        // Clocks of two instances may disagree a little: never a negative age.
        let age = u64::try_from(self.now_ms() - envelope.created_ms).unwrap_or(0);
        if age >= envelope.ttl_ms.saturating_add(envelope.swr_ms) {
            return Classified::Absent { stored: true };
        }
        let fresh_for = envelope.ttl_ms.checked_sub(age).filter(|left| *left > 0).map(Duration::from_millis);
        let digest = Some(envelope.digest);
        let answer = match want {
            Want::Json => {
                if !self.checked_before(address, &envelope, check) {
                    return Classified::Invalid;
                }
                Answer { value: None, json: Some(envelope.payload), digest, fresh_for, stored: false }
            }
            Want::Value | Want::Both => {
                let Some(value) = decode_checked(&envelope.payload, check) else { return Classified::Invalid };
                let json = (want == Want::Both).then_some(envelope.payload);
                Answer { value: Some(value), json, digest, fresh_for, stored: false }
            }
        };
        if age < envelope.ttl_ms { Classified::Fresh(answer) } else { Classified::Stale(answer, envelope.guards) }
    }

    /// Whether `envelope`'s value passes check-value, decoding it only the
    /// first time this instance sees that stored value: what identifies
    /// one is its key, when it was made and the checksum of its JSON.
    fn checked_before<T: DeserializeOwned>(
        &self,
        address: &EntryAddress,
        envelope: &Envelope,
        check: Check<T>,
    ) -> bool {
        let mut identity = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&(&address.key, envelope.created_ms, envelope.checksum), &mut identity);
        let identity = std::hash::Hasher::finish(&identity);
        if self.inner.verified.get(&identity).is_some() {
            return true;
        }
        let passed = decode_checked(&envelope.payload, check).is_some();
        if passed {
            self.inner.verified.insert(identity, ());
        }
        passed
    }

    /// The generations to fetch under: those of the snapshot when all are
    /// present, else initialised in the store. `None` when the store failed.
    pub(crate) async fn current_guards(
        &self,
        address: &EntryAddress,
        known: Option<Vec<Option<u64>>>,
    ) -> Option<Vec<u64>> {
        if let Some(all) = known.and_then(|guards| guards.into_iter().collect::<Option<Vec<u64>>>()) {
            return Some(all);
        }
        let fresh: Vec<u64> = address.guards.iter().map(|_| self.inner.generations.next(self.now_ms())).collect();
        self.answered(self.inner.store.init_guards(&address.guards, &fresh, self.inner.config.guard_ttl).await)
    }
}

/// The value in `payload`, if it decodes and passes check-value.
fn decode_checked<T: DeserializeOwned>(payload: &[u8], check: Check<T>) -> Option<T> {
    serde_json::from_slice::<T>(payload).ok().filter(|value| check(value).is_ok())
}

fn into_value<T, E>(answer: Answer<T>) -> Result<T, ReadError<E>>
where
    T: DeserializeOwned,
{
    match (answer.value, answer.json) {
        (Some(value), _) => Ok(value),
        // Unreachable in practice: a value is decoded whenever one is wanted.
        (None, Some(json)) => serde_json::from_slice(&json).map_err(|e| ReadError::InvalidFresh(e.to_string())),
        (None, None) => Err(ReadError::InvalidFresh("no value".into())),
    }
}
