//! Reading several entries of one user in one store round trip, each
//! snapshot then serving the one read of its entry: explicitly
//! (`Engine::read_ahead`, `Read::prefetched`), or for every read inside a
//! future (`Engine::prefetch`).

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use futures::FutureExt as _;
use futures::future::Either;
use macrotrack_cache_keys::EntryAddress;
use macrotrack_ports::CacheStore;

use crate::breaker::Call;
use crate::engine::Engine;
use crate::lock::lock;
use crate::read::Prefetched;

/// Entries read ahead in one round trip, by key; each is taken by the one
/// read of it (a second read of the same entry reads the store).
#[derive(Debug, Default)]
pub struct Ahead {
    // A few entries at most (the day screen's four and a credential): a
    // scan of their keys costs less than hashing them.
    entries: Vec<(String, Prefetched)>,
}

impl Ahead {
    /// The snapshot of `address`, if it was read ahead and not taken yet.
    pub fn take(&mut self, address: &EntryAddress) -> Option<Prefetched> {
        let at = self.entries.iter().position(|(key, _)| *key == address.key)?;
        Some(self.entries.swap_remove(at).1)
    }

    fn holds(&self, key: &str) -> bool {
        self.entries.iter().any(|(held, _)| held == key)
    }
}

tokio::task_local! {
    /// The snapshots of the enclosing `prefetch`. A task-local rather than
    /// a value passed, because `prefetch`'s body is any future: the reads
    /// in it are the service's use cases (`Service::authenticated` runs the
    /// handler's body in one), whose signatures carry no cache context and
    /// should not. Where the caller holds the read itself, it passes the
    /// snapshot (`read_ahead`, `Read::prefetched`) and this is not used.
    static PREFETCHED: Mutex<Ahead>;
}

/// The snapshot of `address` read ahead by an enclosing `prefetch`, taken.
pub(crate) fn take_prefetched(address: &EntryAddress) -> Option<Prefetched> {
    PREFETCHED.try_with(|ahead| lock(ahead).take(address)).ok().flatten()
}

/// What a round trip reads: each entry's key and guards.
fn reads_of(addresses: &[&EntryAddress]) -> Vec<(String, Vec<String>)> {
    addresses.iter().map(|address| (address.key.clone(), address.guards.clone())).collect()
}

impl<S: CacheStore> Engine<S> {
    /// Reads the entries at `addresses` (all of one user) in one store
    /// round trip, for the caller to hand each to its read
    /// (`Read::prefetched`). Freshness, guards and check-value apply as for
    /// any read; a failed read-ahead leaves nothing, and the reads read
    /// the store themselves.
    pub async fn read_ahead(&self, addresses: &[&EntryAddress]) -> Ahead {
        self.read_entries(reads_of(addresses)).await
    }

    /// Runs `body` with the entries at `addresses` (all of one user) read
    /// ahead in one store round trip: each read of one of them inside `body`
    /// starts from that snapshot instead of its own round trip. Inside
    /// another prefetch, only the entries the outer one did not read are
    /// read, and they join its snapshots (so a use case that reads ahead can
    /// run inside a caller that already read ahead for it, still in one
    /// round trip).
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
        self.read_missing(reads_of(addresses)).then(move |(nested, ahead)| {
            if nested {
                let _ = PREFETCHED.try_with(|outer| lock(outer).entries.extend(ahead.entries));
                Either::Left(body)
            } else {
                Either::Right(PREFETCHED.scope(Mutex::new(ahead), body))
            }
        })
    }

    /// `prefetch`'s round trip: whether it runs inside another prefetch,
    /// and the entries the outer one did not read.
    async fn read_missing(&self, reads: Vec<(String, Vec<String>)>) -> (bool, Ahead) {
        let nested = PREFETCHED.try_with(|_| ()).is_ok();
        let read_by_outer = |key: &str| PREFETCHED.try_with(|outer| lock(outer).holds(key)).unwrap_or(false);
        let reads: Vec<(String, Vec<String>)> = reads.into_iter().filter(|(key, _)| !read_by_outer(key)).collect();
        (nested, self.read_entries(reads).await)
    }

    async fn read_entries(&self, reads: Vec<(String, Vec<String>)>) -> Ahead {
        let usable = self.inner.config.enabled
            && !reads.is_empty()
            && !self.inner.has_pending.load(Ordering::Acquire)
            && self.inner.breaker.allow(self.inner.clock.now(), Call::Read);
        let mut ahead = Ahead::default();
        if usable {
            let mark = self.own_bumps_mark();
            if let Some(found) = self.answered(self.inner.store.read_many(&reads)).await {
                let prefetched = found.into_iter().map(|snapshot| Prefetched { snapshot, mark });
                ahead.entries.extend(reads.into_iter().map(|(key, _)| key).zip(prefetched));
            }
        }
        ahead
    }
}
