//! The in-process store: moka caches bounded by configuration, with the
//! port's atomicity given by a lock per user (the in-process analogue of a
//! Redis Cluster slot).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use macrotrack_ports::{CacheStore, Snapshot, StoreError, StoreOutcome};
use moka::Expiry;
use moka::future::Cache;
use tokio::sync::Mutex;

const STRIPES: usize = 64;

/// Entries and guards expire after the duration stored beside them.
struct PerEntryTtl;

impl<V> Expiry<String, (V, Duration)> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, value: &(V, Duration), _: Instant) -> Option<Duration> {
        Some(value.1)
    }
    fn expire_after_update(
        &self,
        _: &String,
        value: &(V, Duration),
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.1)
    }
}

/// A `CacheStore` in this process's memory: the embedded default.
#[derive(Clone)]
pub struct MemoryStore {
    values: Cache<String, (Bytes, Duration)>,
    guards: Cache<String, (u64, Duration)>,
    stripes: std::sync::Arc<[Mutex<()>; STRIPES]>,
}

impl MemoryStore {
    /// A store holding at most `capacity_bytes` of entries (keys and values).
    pub fn new(capacity_bytes: u64) -> Self {
        let values = Cache::builder()
            .max_capacity(capacity_bytes)
            .weigher(|key: &String, value: &(Bytes, Duration)| {
                u32::try_from(key.len() + value.0.len()).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .build();
        let guards = Cache::builder().max_capacity(1_000_000).expire_after(PerEntryTtl).build();
        MemoryStore { values, guards, stripes: std::sync::Arc::new(std::array::from_fn(|_| Mutex::new(()))) }
    }

    /// The lock of the key's hash tag (`{user:42}`), so one user's keys are
    /// changed atomically with respect to each other.
    fn stripe(&self, key: &str) -> &Mutex<()> {
        let tag = key
            .find('{')
            .and_then(|start| key[start..].find('}').map(|end| &key[start..start + end + 1]))
            .unwrap_or(key);
        let mut hasher = DefaultHasher::new();
        tag.hash(&mut hasher);
        &self.stripes[(hasher.finish() as usize) % STRIPES]
    }

    async fn current(&self, guards: &[String]) -> Vec<Option<u64>> {
        let mut values = Vec::with_capacity(guards.len());
        for guard in guards {
            values.push(self.guards.get(guard).await.map(|(generation, _)| generation));
        }
        values
    }
}

#[async_trait]
impl CacheStore for MemoryStore {
    fn kind(&self) -> &'static str {
        "in-process"
    }

    async fn read(&self, key: &str, guards: &[String]) -> Result<Snapshot, StoreError> {
        // No lock: a bump between the two reads makes the entry's recorded
        // generations differ from the ones returned, which reads as a miss.
        let value = self.values.get(key).await.map(|(bytes, _)| bytes);
        Ok(Snapshot { value, guards: self.current(guards).await })
    }

    async fn init_guards(&self, guards: &[String], fresh: &[u64], guard_ttl: Duration) -> Result<Vec<u64>, StoreError> {
        let Some(first) = guards.first() else { return Ok(Vec::new()) };
        let _lock = self.stripe(first).lock().await;
        let mut values = Vec::with_capacity(guards.len());
        for (guard, fresh) in guards.iter().zip(fresh) {
            let entry = self.guards.entry_by_ref(guard).or_insert((*fresh, guard_ttl)).await;
            values.push(entry.into_value().0);
        }
        Ok(values)
    }

    async fn store_if_current(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
        guards: &[String],
        expected: &[u64],
    ) -> Result<StoreOutcome, StoreError> {
        let _lock = self.stripe(key).lock().await;
        let current = self.current(guards).await;
        if current.len() != expected.len() || current.iter().zip(expected).any(|(now, then)| *now != Some(*then)) {
            return Ok(StoreOutcome::Rejected);
        }
        self.values.insert(key.to_owned(), (value, ttl)).await;
        Ok(StoreOutcome::Stored)
    }

    async fn bump(&self, guards: &[(String, u64)], delete: &[String], guard_ttl: Duration) -> Result<(), StoreError> {
        let Some(first) = guards.first().map(|(key, _)| key).or(delete.first()) else { return Ok(()) };
        let _lock = self.stripe(first).lock().await;
        for (guard, generation) in guards {
            self.guards.insert(guard.clone(), (*generation, guard_ttl)).await;
        }
        for key in delete {
            self.values.invalidate(key).await;
        }
        Ok(())
    }

    async fn lease(&self, key: &str, token: u64, ttl: Duration) -> Result<bool, StoreError> {
        let entry = self.guards.entry_by_ref(key).or_insert((token, ttl)).await;
        Ok(entry.is_fresh())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.values.invalidate(key).await;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
