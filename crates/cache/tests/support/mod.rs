//! Shared pieces of the engine tests: a clock the test moves, counted
//! fetches, and addresses of one user.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use macrotrack_cache::{Engine, EngineConfig, MemoryStore, Policy};
use macrotrack_cache_keys::{Bucket, EntryAddress, Guard, QueryKey, ReadFamily, Tier1Key};
use macrotrack_domain::{Day, UserId};
use macrotrack_ports::{CacheStore, Clock};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A clock that only moves when the test says so.
#[derive(Default)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_764_000_000_000 + self.0.load(Ordering::SeqCst)).unwrap()
    }
}

pub const POLICY: Policy = Policy { ttl: Duration::from_secs(300), swr: Duration::from_secs(900) };
pub const USER: UserId = UserId(42);

pub fn day(text: &str) -> Day {
    text.parse().unwrap()
}

pub fn logs_address(date: &str) -> EntryAddress {
    let guard = Guard::new(USER, ReadFamily::Logs, Bucket::Day(day(date)));
    EntryAddress::tier1(Tier1Key::DayLogs { user: USER, date: day(date) }, &[guard])
}

/// The frequent foods' guard: what a tag was, one per read.
pub fn frequent_guard() -> Guard {
    Guard::new(USER, ReadFamily::FrequentFoods, Bucket::Whole)
}

pub fn frequent_address(limit: u32) -> EntryAddress {
    EntryAddress::tier2(QueryKey::FrequentFoods { user: USER, limit }, &[frequent_guard()])
}

pub fn me_address() -> EntryAddress {
    EntryAddress::tier2(QueryKey::Me { user: USER }, &[Guard::new(USER, ReadFamily::Me, Bucket::Whole)])
}

/// The value type the tests cache; `check` refuses negative versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Versioned {
    pub version: i64,
}

pub fn check(value: &Versioned) -> Result<(), String> {
    if value.version < 0 { Err("negative version".into()) } else { Ok(()) }
}

/// A source whose current version the test sets, counting fetches.
#[derive(Default)]
pub struct Source {
    pub version: AtomicI64,
    pub fetches: AtomicUsize,
}

impl Source {
    pub fn set(&self, version: i64) {
        self.version.store(version, Ordering::SeqCst);
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// A fetch closure over this source, as the service builds them.
    pub fn fetcher(
        self: &Arc<Self>,
    ) -> impl Fn() -> std::future::Ready<Result<Versioned, String>> + Send + Sync + 'static {
        let source = Arc::clone(self);
        move || {
            source.fetches.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Ok(Versioned { version: source.version.load(Ordering::SeqCst) }))
        }
    }
}

pub fn memory_engine(clock: Arc<TestClock>) -> Engine<MemoryStore> {
    Engine::new(MemoryStore::new(64 << 20), clock, EngineConfig::default())
}

pub fn engine_over<S: CacheStore>(store: S, clock: Arc<TestClock>, config: EngineConfig) -> Engine<S> {
    Engine::new(store, clock, config)
}

/// A boxed fetch of a `Versioned`.
pub type BoxedFetch = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Versioned, String>> + Send>>;

/// A fetch that answers `version` once, but first says it started and waits
/// to be resumed: a reader paused between its fetch and its store. Returns
/// the fetch, the "started" signal and the "resume" trigger.
pub fn paused_fetch(
    version: i64,
) -> (
    impl Fn() -> BoxedFetch + Send + Sync + 'static,
    tokio::sync::oneshot::Receiver<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    paused_fetch_answering(Some(version))
}

/// As `paused_fetch`, answering an error for `None`. A fetch whose task is
/// aborted while paused never answers (a dead instance).
pub fn paused_fetch_answering(
    version: Option<i64>,
) -> (
    impl Fn() -> BoxedFetch + Send + Sync + 'static,
    tokio::sync::oneshot::Receiver<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (resume_tx, resume_rx) = tokio::sync::oneshot::channel::<()>();
    let slot = Arc::new(std::sync::Mutex::new(Some((started_tx, resume_rx))));
    let fetch = move || -> BoxedFetch {
        let slot = slot.clone();
        Box::pin(async move {
            let (started, resume) = slot.lock().unwrap().take().expect("fetched once");
            let _ = started.send(());
            let _ = resume.await;
            version.map(|version| Versioned { version }).ok_or_else(|| "the database failed".to_owned())
        })
    };
    (fetch, started_rx, resume_tx)
}

#[allow(unused_imports)] // each test binary uses a different part
pub use macrotrack_cache::observed::{BumpStep, Observed};

/// A source whose fetches all wait until the test opens its gate, counted
/// as they start; the first `failures` of them fail (a database that errs,
/// then recovers).
pub struct Gated {
    fetches: AtomicUsize,
    gate: tokio::sync::watch::Sender<bool>,
    failures: usize,
    version: i64,
}

impl Gated {
    pub fn new(version: i64, failures: usize) -> Arc<Gated> {
        Arc::new(Gated {
            fetches: AtomicUsize::new(0),
            gate: tokio::sync::watch::Sender::new(false),
            failures,
            version,
        })
    }

    /// Lets every fetch, waiting or to come, answer.
    pub fn open(&self) {
        self.gate.send_replace(true);
    }

    /// Fetches started so far.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    pub fn fetcher(self: &Arc<Self>) -> impl Fn() -> BoxedFetch + Send + Sync + 'static {
        let gated = Arc::clone(self);
        move || -> BoxedFetch {
            let gated = Arc::clone(&gated);
            Box::pin(async move {
                let number = gated.fetches.fetch_add(1, Ordering::SeqCst);
                let _ = gated.gate.subscribe().wait_for(|open| *open).await;
                if number < gated.failures {
                    Err("the database failed".to_owned())
                } else {
                    Ok(Versioned { version: gated.version })
                }
            })
        }
    }
}
