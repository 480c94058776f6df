//! A read, described as one value: where the entry lives, how long it
//! lives, whether the cache may answer, what a miss may write, how values
//! are checked and how the source is asked.

use std::future::Future;

use futures::future::BoxFuture;
use macrotrack_cache_keys::EntryAddress;
use macrotrack_ports::Snapshot;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{Admission, Check, Freshness, Policy};

/// A value the engine can cache: stored as JSON under its schema's
/// fingerprint, shared between the callers of a flight and refreshed in
/// the background.
pub trait Cacheable: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static> Cacheable for T {}

/// How the source is asked for a `T`: called once per fetch, possibly
/// again later from a background refresh, so it is shared and `'static`.
/// Its future is boxed: a fetch is a miss's database query, which dwarfs
/// one allocation, and a named future type (an associated one) would make
/// the futures of callers generic over lifetimes fail to prove `Send`
/// (rust-lang/rust#110338).
pub trait Fetch<T, E>: Send + Sync + 'static {
    /// Starts one fetch.
    fn fetch(&self) -> BoxFuture<'static, Result<T, E>>;
}

impl<T, E, F, Fut> Fetch<T, E> for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    fn fetch(&self) -> BoxFuture<'static, Result<T, E>> {
        Box::pin(self())
    }
}

/// An entry read ahead (`Engine::read_ahead`), handed to the one read of
/// it so that read starts from it instead of a round trip of its own.
#[derive(Debug, Clone)]
pub struct Prefetched {
    pub(crate) snapshot: Snapshot,
    /// The own-bumps mark taken before the snapshot was read.
    pub(crate) mark: u64,
}

/// One read through the cache. Built with `Read::new` and adjusted by its
/// builder methods, so call sites name only what differs from the usual
/// (cached, eager, no snapshot read ahead).
pub struct Read<'a, T, F> {
    /// Where the entry lives and which generations guard it.
    pub address: &'a EntryAddress,
    /// How long the entry is fresh, then servable while refreshed.
    pub policy: Policy,
    /// Whether the cache may answer.
    pub freshness: Freshness,
    /// What a miss may write before the source has answered.
    pub admission: Admission,
    /// check-value, run on stored and fetched values alike.
    pub check: Check<T>,
    /// The source.
    pub fetch: F,
    /// The entry as read ahead, if it was.
    pub prefetched: Option<Prefetched>,
}

impl<'a, T, F> Read<'a, T, F> {
    /// A cached, eager read of `address` from `fetch`.
    pub fn new(address: &'a EntryAddress, policy: Policy, check: Check<T>, fetch: F) -> Self {
        Read {
            address,
            policy,
            freshness: Freshness::Cached,
            admission: Admission::Eager,
            check,
            fetch,
            prefetched: None,
        }
    }

    /// The read with this freshness (force-fresh, bypass).
    pub fn freshness(self, freshness: Freshness) -> Self {
        Read { freshness, ..self }
    }

    /// The read with this admission (`Confirmed` for keys a client names).
    pub fn admission(self, admission: Admission) -> Self {
        Read { admission, ..self }
    }

    /// The read, starting from `prefetched` when there is one.
    pub fn prefetched(self, prefetched: Option<Prefetched>) -> Self {
        Read { prefetched, ..self }
    }
}
