//! A store that logs every call made to it, can be told to fail or pause
//! its next bumps and can be switched off, around any other store (feature
//! `conformance`):
//! for tests that assert what the engine asks of its store, and when.

use std::sync::Arc;
use std::time::Duration;

use macrotrack_ports::CacheStore;

/// What an `Observed` store does at its next `bump` calls, in order; once
/// the plan is used up, bumps go to the wrapped store.
pub enum BumpStep {
    /// Fails the bump, as a store that went away would.
    Fail,
    /// Waits for the signal, then bumps.
    PauseUntil(tokio::sync::oneshot::Receiver<()>),
}

/// A store that logs every call (method and key), can be told to fail or
/// pause its next bumps and can be switched off, around another store.
pub struct Observed<S> {
    /// The wrapped store, for what a test asks of it directly.
    pub inner: S,
    calls: std::sync::Mutex<Vec<(&'static str, String)>>,
    bumps: std::sync::Mutex<std::collections::VecDeque<BumpStep>>,
    down: std::sync::atomic::AtomicBool,
}

impl<S> Observed<S> {
    /// `inner`, observed.
    pub fn new(inner: S) -> Arc<Self> {
        Arc::new(Observed { inner, calls: Default::default(), bumps: Default::default(), down: Default::default() })
    }

    /// Makes every call started from now on fail (`true`), as a store that
    /// went away would, or answer again (`false`). A call already started
    /// (a paused bump) is not affected.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    /// Queues what the next bumps do.
    pub fn plan_bumps(&self, steps: impl IntoIterator<Item = BumpStep>) {
        self.bumps.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(steps);
    }

    /// Logs the call; fails it while the store is down.
    fn log(&self, method: &'static str, key: &str) -> Result<(), macrotrack_ports::StoreError> {
        self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((method, key.to_owned()));
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(macrotrack_ports::StoreError::Unavailable("switched off".into()));
        }
        Ok(())
    }

    /// How many calls of `method` were made so far.
    pub fn count(&self, method: &str) -> usize {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(m, _)| *m == method)
            .count()
    }

    /// How many calls of `method` on `key` were made so far.
    pub fn count_on(&self, method: &str, key: &str) -> usize {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(m, k)| *m == method && k == key)
            .count()
    }

    /// How many calls of any of `methods` were made since the last time
    /// this was asked (round trips of one step of a test).
    pub fn take(&self, methods: &[&str]) -> usize {
        let mut calls = self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = calls.iter().filter(|(m, _)| methods.contains(m)).count();
        calls.clear();
        count
    }

    /// Every call's method, in order (writes only with `writes_only`).
    pub fn methods(&self, writes_only: bool) -> Vec<&'static str> {
        let writes = ["init_guards", "store_if_current", "bump", "lease", "release", "renew", "delete"];
        let calls = self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        calls.iter().map(|(m, _)| *m).filter(|m| !writes_only || writes.contains(m)).collect()
    }
}

#[async_trait::async_trait]
impl<S: CacheStore> CacheStore for Observed<S> {
    fn kind(&self) -> macrotrack_ports::StoreKind {
        self.inner.kind()
    }
    async fn read(
        &self,
        key: &str,
        guards: &[String],
    ) -> Result<macrotrack_ports::Snapshot, macrotrack_ports::StoreError> {
        self.log("read", key)?;
        self.inner.read(key, guards).await
    }
    async fn read_many(
        &self,
        reads: &[(String, Vec<String>)],
    ) -> Result<Vec<macrotrack_ports::Snapshot>, macrotrack_ports::StoreError> {
        self.log("read_many", reads.first().map_or("", |(key, _)| key))?;
        self.inner.read_many(reads).await
    }
    async fn init_guards(
        &self,
        guards: &[String],
        fresh: &[u64],
        ttl: Duration,
    ) -> Result<Vec<u64>, macrotrack_ports::StoreError> {
        self.log("init_guards", guards.first().map_or("", String::as_str))?;
        self.inner.init_guards(guards, fresh, ttl).await
    }
    async fn store_if_current<'lease>(
        &self,
        key: &str,
        value: bytes::Bytes,
        ttl: Duration,
        guards: &[String],
        expected: &[u64],
        lease: Option<&'lease macrotrack_ports::Lease>,
    ) -> Result<macrotrack_ports::StoreOutcome, macrotrack_ports::StoreError> {
        self.log("store_if_current", key)?;
        self.inner.store_if_current(key, value, ttl, guards, expected, lease).await
    }
    async fn bump(
        &self,
        guards: &[(String, u64)],
        delete: &[String],
        ttls: &[Duration],
    ) -> Result<macrotrack_ports::BumpOutcome, macrotrack_ports::StoreError> {
        self.log("bump", guards.first().map_or("", |(key, _)| key))?;
        let step = self.bumps.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop_front();
        match step {
            Some(BumpStep::Fail) => return Err(macrotrack_ports::StoreError::Unavailable("planned".into())),
            Some(BumpStep::PauseUntil(signal)) => {
                let _ = signal.await;
            }
            None => {}
        }
        self.inner.bump(guards, delete, ttls).await
    }
    async fn lease(
        &self,
        lease: &macrotrack_ports::Lease,
        ttl: Duration,
        key: &str,
        guards: &[String],
    ) -> Result<(bool, macrotrack_ports::Snapshot), macrotrack_ports::StoreError> {
        self.log("lease", &lease.key)?;
        self.inner.lease(lease, ttl, key, guards).await
    }
    async fn release(&self, lease: &macrotrack_ports::Lease) -> Result<(), macrotrack_ports::StoreError> {
        self.log("release", &lease.key)?;
        self.inner.release(lease).await
    }
    async fn renew(
        &self,
        lease: &macrotrack_ports::Lease,
        ttl: Duration,
    ) -> Result<bool, macrotrack_ports::StoreError> {
        self.log("renew", &lease.key)?;
        self.inner.renew(lease, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<(), macrotrack_ports::StoreError> {
        self.log("delete", key)?;
        self.inner.delete(key).await
    }
    async fn ping(&self) -> Result<(), macrotrack_ports::StoreError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(macrotrack_ports::StoreError::Unavailable("switched off".into()));
        }
        self.inner.ping().await
    }
}
