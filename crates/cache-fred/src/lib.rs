//! The cache-store port on Redis and Redis Cluster, through fred.
//!
//! Every multi-key operation is one command (MGET or a Lua script) whose keys
//! share the `{user:ID}` hash tag, so it is atomic and lands on one cluster
//! node. Every command carries the configured timeout and fails fast while
//! the connection is down: the engine would rather go to the database than
//! wait for a reconnection.

#![warn(missing_docs)]

mod connection;
mod scripts;
mod url;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fred::error::{Error, ErrorKind};
use fred::interfaces::{ClientLike, KeysInterface};
use fred::types::{ClusterHash, CustomCommand, Value};
use macrotrack_ports::{BumpOutcome, CacheStore, Lease, Snapshot, StoreError, StoreKind, StoreOutcome};

use crate::connection::{Connected, Slot};

/// How to reach Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://host:port[/db]` or `redis-cluster://host:port,host:port,...`.
    pub url: String,
    /// Prepended to every key ("" in production; tests isolate themselves
    /// with it). It goes before the key, so it must not hold `{` or `}`,
    /// which would replace the key's `{user:ID}` hash tag.
    pub key_prefix: String,
    /// Connections in the pool.
    pub pool_size: usize,
    /// Applied to every command; never zero (fred would then wait forever).
    pub command_timeout: Duration,
    /// Applied to opening a connection and to its handshake.
    pub connect_timeout: Duration,
    /// In a Redis Cluster whose every master has a replica: how long a bump
    /// waits (WAIT) for one to acknowledge it before it is reported
    /// `NotReplicated`. `None`: never wait. Kept below the command timeout.
    pub replica_wait: Option<Duration>,
}

impl RedisConfig {
    /// Settings for `url` with the defaults.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            key_prefix: String::new(),
            pool_size: 4,
            command_timeout: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(1),
            replica_wait: Some(Duration::from_millis(100)),
        }
    }
}

/// The cache store on Redis. Cheap to clone; clones share the connections.
/// Until its connection is open (see `open`), every call fails at once with
/// `StoreError::Unavailable`, which the engine treats as Redis being down.
#[derive(Clone)]
pub struct RedisStore {
    connection: Arc<Slot>,
    prefix: Arc<str>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("key_prefix", &self.prefix)
            .field("connected", &self.connection.get().is_some())
            .field("replica_wait", &self.connection.get().and_then(Connected::replica_wait))
            .finish_non_exhaustive()
    }
}

/// Longest ttl sent to Redis (about 35 years): larger ones overflow its clock.
const MAX_TTL_MS: u128 = 1 << 40;

impl RedisStore {
    /// Connects (fails with one clear line when the URL is unparsable or the
    /// server does not answer within `connect_timeout`); loads the scripts once.
    pub async fn connect(config: RedisConfig) -> anyhow::Result<Self> {
        let fred_config = connection::validate(&config)?;
        let connected = connection::connect(&config, fred_config).await?;
        let slot = connection::new_slot();
        let _ = slot.set(connected);
        connection::watch_replicas(Arc::downgrade(&slot));
        Ok(RedisStore { connection: slot, prefix: config.key_prefix.into() })
    }

    /// Like `connect`, but a Redis that does not answer is no reason to
    /// fail: the store is returned unconnected (every call fails fast, so
    /// the cache is bypassed) and connects in the background, retrying
    /// every second until Redis answers. A bad configuration still fails.
    pub async fn open(config: RedisConfig) -> anyhow::Result<Self> {
        let fred_config = connection::validate(&config)?;
        let slot = connection::new_slot();
        match connection::connect(&config, fred_config.clone()).await {
            Ok(connected) => {
                let _ = slot.set(connected);
                connection::watch_replicas(Arc::downgrade(&slot));
            }
            Err(error) => {
                tracing::warn!(%error, "serving from the database alone; connecting to Redis in the background");
                connection::connect_in_background(config.clone(), fred_config, Arc::downgrade(&slot));
            }
        }
        Ok(RedisStore { connection: slot, prefix: config.key_prefix.into() })
    }

    /// Whether the connection is open (it may still be reconnecting).
    pub fn is_connected(&self) -> bool {
        self.connection.get().is_some()
    }

    /// Whether bumps wait for a replica now (a cluster whose every master
    /// has one, looked at every few seconds).
    pub fn waits_for_replicas(&self) -> bool {
        self.connection.get().and_then(Connected::replica_wait).is_some()
    }

    fn connected(&self) -> Result<&Connected, StoreError> {
        self.connection.get().ok_or_else(|| StoreError::Unavailable("not connected to Redis yet".into()))
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn keys<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> impl Iterator<Item = String> {
        keys.into_iter().map(|k| self.key(k))
    }
}

fn one_line(error: &Error) -> String {
    connection::one_line(error)
}

fn store_error(error: Error) -> StoreError {
    match error.kind() {
        ErrorKind::Timeout => StoreError::Timeout,
        _ => StoreError::Unavailable(one_line(&error)),
    }
}

fn unexpected(what: &str, value: &Value) -> StoreError {
    StoreError::Unavailable(format!("unexpected reply to {what}: {value:?}"))
}

fn millis(ttl: Duration) -> Value {
    Value::from(ttl.as_millis().clamp(1, MAX_TTL_MS).to_string())
}

fn generation(value: u64) -> Value {
    Value::from(value.to_string())
}

/// A guard's generation; `None` when absent or not a number.
fn parse_generation(value: &Value) -> Option<u64> {
    value.as_bytes().and_then(|b| std::str::from_utf8(b).ok()).and_then(|s| s.parse().ok())
}

fn same_length(what: &str, left: usize, right: usize) -> Result<(), StoreError> {
    if left == right {
        Ok(())
    } else {
        Err(StoreError::Unavailable(format!("{what}: {left} guards but {right} values for them")))
    }
}

#[async_trait]
impl CacheStore for RedisStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Shared
    }

    async fn read(&self, key: &str, guards: &[String]) -> Result<Snapshot, StoreError> {
        let keys: Vec<String> = self.keys(std::iter::once(key).chain(guards.iter().map(String::as_str))).collect();
        let reply: Value = self.connected()?.client.mget(keys).await.map_err(store_error)?;
        let mut values = match reply {
            Value::Array(values) if values.len() == guards.len() + 1 => values.into_iter(),
            // MGET of one key may come back unwrapped.
            single @ (Value::Null | Value::String(_) | Value::Bytes(_)) if guards.is_empty() => {
                vec![single].into_iter()
            }
            other => return Err(unexpected("MGET", &other)),
        };
        let value = values.next().and_then(Value::into_bytes);
        let guards = values.map(|v| parse_generation(&v)).collect();
        Ok(Snapshot { value, guards })
    }

    async fn read_many(&self, reads: &[(String, Vec<String>)]) -> Result<Vec<Snapshot>, StoreError> {
        // Each key once: entries of one user share their epoch (a warm day
        // read asks for four keys, not five). `at` maps each wanted key to
        // its place in the MGET; a few keys, so a scan beats a hash.
        let flat = reads
            .iter()
            .flat_map(|(key, guards)| std::iter::once(key.as_str()).chain(guards.iter().map(String::as_str)));
        let mut unique: Vec<&str> = Vec::new();
        let at: Vec<usize> = flat
            .map(|key| {
                unique.iter().position(|known| *known == key).unwrap_or_else(|| {
                    unique.push(key);
                    unique.len() - 1
                })
            })
            .collect();
        if unique.len() < 2 {
            // MGET of one key may come back unwrapped: single reads handle it.
            let mut snapshots = Vec::with_capacity(reads.len());
            for (key, guards) in reads {
                snapshots.push(self.read(key, guards).await?);
            }
            return Ok(snapshots);
        }
        let keys: Vec<String> = self.keys(unique.iter().copied()).collect();
        let expected = keys.len();
        let reply: Value = self.connected()?.client.mget(keys).await.map_err(store_error)?;
        let mut values = match reply {
            Value::Array(values) if values.len() == expected => values,
            other => return Err(unexpected("MGET", &other)),
        };
        // How many reads still want each key: an entry's bytes are moved
        // out at its last use, copied only when one is read twice.
        let mut uses = vec![0usize; expected];
        for index in &at {
            uses[*index] += 1;
        }
        let mut wanted = at.into_iter();
        let mut snapshots = Vec::with_capacity(reads.len());
        for (_, guards) in reads {
            let value = wanted.next().and_then(|index| {
                uses[index] -= 1;
                let value = if uses[index] == 0 {
                    std::mem::replace(&mut values[index], Value::Null)
                } else {
                    values[index].clone()
                };
                value.into_bytes()
            });
            let guards = wanted
                .by_ref()
                .take(guards.len())
                .map(|index| {
                    uses[index] -= 1;
                    parse_generation(&values[index])
                })
                .collect();
            snapshots.push(Snapshot { value, guards });
        }
        Ok(snapshots)
    }

    async fn init_guards(&self, guards: &[String], fresh: &[u64], guard_ttl: Duration) -> Result<Vec<u64>, StoreError> {
        same_length("init_guards", guards.len(), fresh.len())?;
        if guards.is_empty() {
            return Ok(Vec::new());
        }
        let connected = self.connected()?;
        let keys = self.keys(guards.iter().map(String::as_str)).collect();
        let args = std::iter::once(millis(guard_ttl)).chain(fresh.iter().copied().map(generation)).collect();
        let reply = connected.scripts.init_guards.run(&connected.client, keys, args).await.map_err(store_error)?;
        match reply {
            Value::Array(values) if values.len() == guards.len() => {
                values.iter().map(|v| parse_generation(v).ok_or_else(|| unexpected("init_guards", v))).collect()
            }
            // A one-element array may come back unwrapped.
            single if guards.len() == 1 => {
                parse_generation(&single).map(|g| vec![g]).ok_or_else(|| unexpected("init_guards", &single))
            }
            other => Err(unexpected("init_guards", &other)),
        }
    }

    async fn store_if_current<'lease>(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
        guards: &[String],
        expected: &[u64],
        lease: Option<&'lease Lease>,
    ) -> Result<StoreOutcome, StoreError> {
        same_length("store_if_current", guards.len(), expected.len())?;
        let connected = self.connected()?;
        let lease_key = lease.map(|lease| lease.key.as_str());
        let keys = self.keys(std::iter::once(key).chain(guards.iter().map(String::as_str)).chain(lease_key)).collect();
        let args = [Value::Bytes(value), millis(ttl), Value::from(guards.len().to_string())]
            .into_iter()
            .chain(expected.iter().copied().map(generation))
            .chain(lease.map(|lease| Value::from(lease.token.to_string())))
            .collect();
        let reply = connected.scripts.store_if_current.run(&connected.client, keys, args).await.map_err(store_error)?;
        match reply.as_i64() {
            Some(1) => Ok(StoreOutcome::Stored),
            Some(0) => Ok(StoreOutcome::Rejected),
            _ => Err(unexpected("store_if_current", &reply)),
        }
    }

    async fn bump(
        &self,
        guards: &[(String, u64)],
        delete: &[String],
        guard_ttls: &[Duration],
    ) -> Result<BumpOutcome, StoreError> {
        same_length("bump", guards.len(), guard_ttls.len())?;
        if guards.is_empty() && delete.is_empty() {
            return Ok(BumpOutcome::Durable);
        }
        let connected = self.connected()?;
        let keys: Vec<String> =
            self.keys(guards.iter().map(|(k, _)| k.as_str()).chain(delete.iter().map(String::as_str))).collect();
        let args = std::iter::once(Value::from(guards.len().to_string()))
            .chain(guards.iter().map(|(_, g)| generation(*g)))
            .chain(guard_ttls.iter().copied().map(millis))
            .collect();
        let Some(wait) = connected.replica_wait() else {
            connected.scripts.bump.run(&connected.client, keys, args).await.map_err(store_error)?;
            return Ok(BumpOutcome::Durable);
        };
        // WAIT counts the writes of its own connection: the bump and the
        // WAIT go through one client, to the node owning the keys' slot.
        let client = connected.pool.next().with_options(&connected.options);
        let slot = ClusterHash::from(keys[0].as_str());
        connected.scripts.bump.run(&client, keys, args).await.map_err(store_error)?;
        let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX).max(1);
        let acknowledged: Value = client
            .custom(CustomCommand::new_static("WAIT", slot, false), vec![Value::from(1), Value::from(wait_ms)])
            .await
            .map_err(store_error)?;
        Ok(if acknowledged.as_i64().unwrap_or(0) >= 1 { BumpOutcome::Durable } else { BumpOutcome::NotReplicated })
    }

    async fn lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        key: &str,
        guards: &[String],
    ) -> Result<(bool, Snapshot), StoreError> {
        let connected = self.connected()?;
        let keys = self.keys([lease.key.as_str(), key].into_iter().chain(guards.iter().map(String::as_str))).collect();
        let args = vec![Value::from(lease.token.to_string()), millis(ttl)];
        let reply = connected.scripts.lease.run(&connected.client, keys, args).await.map_err(store_error)?;
        // Absent keys come back as nil (GET gives Lua false, sent as nil).
        let Value::Array(values) = reply else { return Err(unexpected("lease", &reply)) };
        let mut values = values.into_iter();
        let taken = match values.next().and_then(|taken| taken.as_i64()) {
            Some(taken) => taken == 1,
            None => return Err(StoreError::Unavailable("unexpected reply to lease".into())),
        };
        let value = values.next().and_then(Value::into_bytes);
        let mut found: Vec<Option<u64>> = values.map(|v| parse_generation(&v)).collect();
        found.resize(guards.len(), None);
        Ok((taken, Snapshot { value, guards: found }))
    }

    async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        let connected = self.connected()?;
        let keys = vec![self.key(&lease.key)];
        let args = vec![Value::from(lease.token.to_string())];
        connected.scripts.release.run(&connected.client, keys, args).await.map_err(store_error)?;
        Ok(())
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, StoreError> {
        let connected = self.connected()?;
        let keys = vec![self.key(&lease.key)];
        let args = vec![Value::from(lease.token.to_string()), millis(ttl)];
        let reply = connected.scripts.renew.run(&connected.client, keys, args).await.map_err(store_error)?;
        match reply.as_i64() {
            Some(renewed) => Ok(renewed == 1),
            None => Err(unexpected("renew", &reply)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let _: Value = self.connected()?.client.del(self.key(key)).await.map_err(store_error)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let _: Value = self.connected()?.client.ping(None).await.map_err(store_error)?;
        Ok(())
    }
}
