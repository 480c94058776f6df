//! What each read of one request did, for its client: the outcome, how long
//! the entry stays fresh, whether a fetched value was stored, and a digest
//! of the value's JSON. HTTP turns them into `Cache-Status` (RFC 9211) and
//! a strong `ETag`. A read handed its report back (`Engine::json_reported`)
//! or collected inside `Engine::reporting`; reads outside one pay nothing.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use futures::FutureExt as _;
use macrotrack_cache_keys::EntryAddress;
use macrotrack_ports::CacheStore;
use serde::Serialize;

use crate::answer::{Answer, Trace};
use crate::digest::{Digest, digest};
use crate::engine::Engine;
use crate::lock::lock;
use crate::outcome::Outcome;

/// How one read was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReport {
    /// The read's family (`logs`, `me`, ...).
    pub family: &'static str,
    /// How the cache answered it.
    pub outcome: Outcome,
    /// A miss of a key the store did not hold at all (not one invalidated
    /// or expired since it was stored).
    pub absent: bool,
    /// The value fetched was stored (not when an invalidation came first).
    pub stored: bool,
    /// On a hit, how long the entry stays fresh.
    pub fresh_for: Option<Duration>,
    /// The digest of the value's JSON: the client's entity tag.
    pub digest: Digest,
}

tokio::task_local! {
    /// The reports of the enclosing `reporting`. A task-local rather than
    /// a value passed, for the reason `PREFETCHED` is one (`ahead.rs`): the
    /// body is any future, whose reads take no parameter to collect into.
    /// Each read keeps its own trace and only adds its finished report.
    static REPORTS: Mutex<Vec<ReadReport>>;
}

impl<S: CacheStore> Engine<S> {
    /// Runs `body` and answers, with its result, how each read it made
    /// (in this task, in order of their ends) was answered. Holds `body`
    /// once (not an `async fn`: see `Engine::prefetch`).
    pub fn reporting<R, B: Future<Output = R>>(
        &self,
        body: B,
    ) -> impl Future<Output = (R, Vec<ReadReport>)> + use<R, B, S> {
        let collect = body.map(|result| {
            let reads = REPORTS.with(|reports| std::mem::take(&mut *lock(reports)));
            (result, reads)
        });
        REPORTS.scope(Mutex::new(Vec::new()), collect)
    }
}

/// The report of the finished read at `address`. A value read around the
/// store has its digest computed here; `None` when there is no value.
pub(crate) fn report_of<T: Serialize>(address: &EntryAddress, answer: &Answer<T>, trace: Trace) -> Option<ReadReport> {
    let digest = answer.digest.or_else(|| match (&answer.json, &answer.value) {
        (Some(json), _) => Some(digest(json)),
        (None, Some(value)) => serde_json::to_vec(value).ok().map(|json| digest(&json)),
        (None, None) => None,
    })?;
    Some(ReadReport {
        family: address.family,
        // No outcome recorded: the cache is off, the source answered.
        outcome: trace.outcome.unwrap_or(Outcome::Bypass),
        absent: trace.absent,
        stored: answer.stored,
        fresh_for: answer.fresh_for,
        digest,
    })
}

/// Adds the finished read at `address` to the enclosing `reporting`'s
/// reports, if there is one.
pub(crate) fn finish<T: Serialize>(address: &EntryAddress, answer: &Answer<T>, trace: Trace) {
    let _ = REPORTS.try_with(|reports| {
        if let Some(report) = report_of(address, answer, trace) {
            lock(reports).push(report);
        }
    });
}
