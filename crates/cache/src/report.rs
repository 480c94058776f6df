//! What each read of one request did, for its client: the outcome, how long
//! the entry stays fresh, whether a fetched value was stored, and a digest
//! of the value's JSON. HTTP turns them into `Cache-Status` (RFC 9211) and
//! a strong `ETag`. Collected only inside `Engine::reporting`, so reads
//! outside one pay nothing.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use futures::FutureExt as _;
use macrotrack_cache_keys::EntryAddress;
use macrotrack_ports::CacheStore;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::engine::{Answer, Engine, lock};
use crate::outcome::Outcome;

/// SHA-256 of a value's JSON, cut to 128 bits: equal for equal JSON on
/// every instance and across restarts, whether the value came from the
/// store or the source.
pub type Digest = [u8; 16];

pub fn digest(json: &[u8]) -> Digest {
    let full = Sha256::digest(json);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// How one read was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReport {
    /// The read's family (`logs`, `me`, ...).
    pub family: &'static str,
    pub outcome: Outcome,
    /// A miss of a key the store did not hold at all (not one invalidated
    /// or expired since it was stored).
    pub absent: bool,
    /// The value fetched was stored (not when an invalidation came first).
    pub stored: bool,
    /// On a hit, how long the entry stays fresh.
    pub fresh_for: Option<Duration>,
    pub digest: Digest,
}

#[derive(Default)]
struct Noted {
    outcome: Option<Outcome>,
    absent: bool,
}

#[derive(Default)]
struct Collector {
    reads: Vec<ReadReport>,
    /// What each read in progress did so far, by `identity` of its address.
    noted: Vec<(usize, Noted)>,
}

/// A read in progress, named by where its address lives: one read passes
/// the same `&EntryAddress` from its start to its `finish`, and two reads
/// in progress at once have two addresses. (Keying by the key's text cost
/// an allocation and a hash per read on the hot path.)
fn identity(address: &EntryAddress) -> usize {
    std::ptr::from_ref(address) as usize
}

impl Collector {
    fn noted(&mut self, address: &EntryAddress) -> &mut Noted {
        let id = identity(address);
        let at = match self.noted.iter().position(|(noted, _)| *noted == id) {
            Some(at) => at,
            None => {
                self.noted.push((id, Noted::default()));
                self.noted.len() - 1
            }
        };
        &mut self.noted[at].1
    }

    fn take_noted(&mut self, address: &EntryAddress) -> Noted {
        let id = identity(address);
        match self.noted.iter().position(|(noted, _)| *noted == id) {
            Some(at) => self.noted.swap_remove(at).1,
            None => Noted::default(),
        }
    }
}

tokio::task_local! {
    static REPORTS: Mutex<Collector>;
}

impl<S: CacheStore> Engine<S> {
    /// Runs `body` and answers, with its result, how each read it made
    /// (in this task, in order) was answered. Holds `body` once (not an
    /// `async fn`: see `Engine::prefetch`).
    pub fn reporting<R, B: Future<Output = R>>(
        &self,
        body: B,
    ) -> impl Future<Output = (R, Vec<ReadReport>)> + use<R, B, S> {
        let collect = body.map(|result| {
            let reads = REPORTS.with(|collector| std::mem::take(&mut lock(collector).reads));
            (result, reads)
        });
        REPORTS.scope(Mutex::new(Collector::default()), collect)
    }
}

/// Remembers what the read at `address` did so far (`Engine::record`).
pub(crate) fn note(address: &EntryAddress, outcome: Outcome) {
    let _ = REPORTS.try_with(|collector| {
        let mut collector = lock(collector);
        let noted = collector.noted(address);
        // A rejected store keeps the read's outcome (a miss); the answer
        // says it was not stored.
        if outcome != Outcome::RejectedStore {
            noted.outcome = Some(outcome);
        }
    });
}

/// Remembers that the read at `address` found nothing stored under it at all.
pub(crate) fn note_absent(address: &EntryAddress) {
    let _ = REPORTS.try_with(|collector| lock(collector).noted(address).absent = true);
}

/// Adds the finished read at `address` to the report, if one is being
/// collected. A value read around the store has its digest computed here.
pub(crate) fn finish<T: Serialize>(address: &EntryAddress, answer: &Answer<T>) {
    let _ = REPORTS.try_with(|collector| {
        let mut collector = lock(collector);
        let noted = collector.take_noted(address);
        let digest = answer.digest.or_else(|| match (&answer.json, &answer.value) {
            (Some(json), _) => Some(digest(json)),
            (None, Some(value)) => serde_json::to_vec(value).ok().map(|json| digest(&json)),
            (None, None) => None,
        });
        let Some(digest) = digest else { return };
        collector.reads.push(ReadReport {
            family: address.family,
            // No outcome recorded: the cache is off, the source answered.
            outcome: noted.outcome.unwrap_or(Outcome::Bypass),
            absent: noted.absent,
            stored: answer.stored,
            fresh_for: answer.fresh_for,
            digest,
        });
    });
}
