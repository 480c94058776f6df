//! The cache-store port on Redis and Redis Cluster, through fred.
//!
//! Every multi-key operation is one command (MGET or a Lua script) whose keys
//! share the `{user:ID}` hash tag, so it is atomic and lands on one cluster
//! node. Every command carries the configured timeout and fails fast while
//! the connection is down: the engine would rather go to the database than
//! wait for a reconnection.

mod scripts;
mod url;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use bytes::Bytes;
use fred::clients::{Pool, WithOptions};
use fred::error::{Error, ErrorKind};
use fred::interfaces::{ClientLike, KeysInterface};
use fred::types::config::{Options, ReconnectPolicy, UnresponsiveConfig};
use fred::types::{Builder, Expiration, SetOptions, Value};
use macrotrack_ports::{CacheStore, Snapshot, StoreError, StoreOutcome};

use crate::scripts::Scripts;

/// How to reach Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://host:port[/db]` or `redis-cluster://host:port,host:port,...`.
    pub url: String,
    /// Prepended to every key ("" in production; tests isolate themselves
    /// with it). It goes before the key, so it must not hold `{` or `}`,
    /// which would replace the key's `{user:ID}` hash tag.
    pub key_prefix: String,
    pub pool_size: usize,
    /// Applied to every command; never zero (fred would then wait forever).
    pub command_timeout: Duration,
    /// Applied to opening a connection and to its handshake.
    pub connect_timeout: Duration,
}

impl RedisConfig {
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            key_prefix: String::new(),
            pool_size: 4,
            command_timeout: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(1),
        }
    }
}

/// The cache store on Redis. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: WithOptions<Pool>,
    prefix: String,
    scripts: Scripts,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore").field("key_prefix", &self.inner.prefix).finish_non_exhaustive()
    }
}

/// Longest ttl sent to Redis (about 35 years): larger ones overflow its clock.
const MAX_TTL_MS: u128 = 1 << 40;
/// Reconnection backoff: 100 ms doubling up to this, forever.
const MAX_RECONNECT_DELAY_MS: u32 = 1_500;

impl RedisStore {
    /// Connects (fails with one clear line when the URL is unparsable or the
    /// server does not answer within `connect_timeout`); loads the scripts once.
    pub async fn connect(config: RedisConfig) -> anyhow::Result<Self> {
        let shown = url::redact(&config.url);
        if config.key_prefix.contains(['{', '}']) {
            bail!("the Redis key prefix must not contain '{{' or '}}': it would replace the keys' hash tags");
        }
        if config.command_timeout.is_zero() || config.connect_timeout.is_zero() {
            bail!("the Redis command and connect timeouts must be above zero");
        }
        let mut fred_config =
            url::parse(&config.url).map_err(|error| anyhow::anyhow!("invalid Redis URL {shown}: {error}"))?;
        // Report a failed first connection instead of retrying it forever.
        fred_config.fail_fast = true;

        let unresponsive_after = (config.command_timeout * 4).max(Duration::from_secs(1));
        let pool = Builder::from_config(fred_config)
            .with_connection_config(|connection| {
                connection.connection_timeout = config.connect_timeout;
                connection.internal_command_timeout = config.connect_timeout;
                // A connection that stops answering (half-open TCP, a frozen
                // server) is dropped and reopened instead of timing out forever.
                connection.unresponsive =
                    UnresponsiveConfig { max_timeout: Some(unresponsive_after), interval: unresponsive_after / 4 };
                connection.tcp.nodelay = Some(true);
            })
            .with_performance_config(|performance| performance.default_command_timeout = config.command_timeout)
            .set_policy(ReconnectPolicy::new_exponential(0, 100, MAX_RECONNECT_DELAY_MS, 2))
            .build_pool(config.pool_size.max(1))
            .with_context(|| format!("invalid Redis configuration for {shown}"))?;

        // fred bounds each step by connect_timeout; the outer bound covers the
        // steps together (a cluster connects to several nodes).
        let limit = config.connect_timeout * 3;
        let failure = match tokio::time::timeout(limit, pool.init()).await {
            Ok(Ok(_connection_task)) => None,
            Ok(Err(error)) => Some(one_line(&error)),
            Err(_) => Some(format!("no answer within {limit:?}")),
        };
        if let Some(failure) = failure {
            close(pool, config.connect_timeout).await;
            bail!("cannot connect to Redis at {shown}: {failure}");
        }

        let options = Options { timeout: Some(config.command_timeout), fail_fast: true, ..Options::default() };
        let client = pool.with_options(&options);
        let scripts = match Scripts::load(&client).await {
            Ok(scripts) => scripts,
            Err(error) => {
                close(pool, config.connect_timeout).await;
                bail!("cannot load the cache scripts into Redis at {shown}: {}", one_line(&error));
            }
        };
        Ok(RedisStore { inner: Arc::new(Inner { client, prefix: config.key_prefix, scripts }) })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.inner.prefix)
    }

    fn keys<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> impl Iterator<Item = String> {
        keys.into_iter().map(|k| self.key(k))
    }
}

/// Stops the pool's connection and reconnection tasks, waiting a bounded time.
async fn close(pool: Pool, within: Duration) {
    let _ = tokio::time::timeout(within, pool.quit()).await;
}

impl Drop for Inner {
    /// The pool reconnects forever in the background; the last clone of a
    /// store stops it.
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(close(Pool::clone(&self.client), Duration::from_secs(1)));
        }
    }
}

fn one_line(error: &Error) -> String {
    format!("{:?}: {}", error.kind(), error.details()).replace('\n', " ")
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
        Err(StoreError::Unavailable(format!("{what}: {left} guards but {right} generations")))
    }
}

#[async_trait]
impl CacheStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn read(&self, key: &str, guards: &[String]) -> Result<Snapshot, StoreError> {
        let keys: Vec<String> = self.keys(std::iter::once(key).chain(guards.iter().map(String::as_str))).collect();
        let reply: Value = self.inner.client.mget(keys).await.map_err(store_error)?;
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
        let flat = reads
            .iter()
            .flat_map(|(key, guards)| std::iter::once(key.as_str()).chain(guards.iter().map(String::as_str)));
        let keys: Vec<String> = self.keys(flat).collect();
        let expected = keys.len();
        if expected < 2 {
            // MGET of one key may come back unwrapped: the single read handles it.
            return match reads.first() {
                Some((key, guards)) => Ok(vec![self.read(key, guards).await?]),
                None => Ok(Vec::new()),
            };
        }
        let reply: Value = self.inner.client.mget(keys).await.map_err(store_error)?;
        let mut values = match reply {
            Value::Array(values) if values.len() == expected => values.into_iter(),
            other => return Err(unexpected("MGET", &other)),
        };
        let mut snapshots = Vec::with_capacity(reads.len());
        for (_, guards) in reads {
            let value = values.next().and_then(Value::into_bytes);
            let guards = values.by_ref().take(guards.len()).map(|v| parse_generation(&v)).collect();
            snapshots.push(Snapshot { value, guards });
        }
        Ok(snapshots)
    }

    async fn init_guards(&self, guards: &[String], fresh: &[u64], guard_ttl: Duration) -> Result<Vec<u64>, StoreError> {
        same_length("init_guards", guards.len(), fresh.len())?;
        if guards.is_empty() {
            return Ok(Vec::new());
        }
        let keys = self.keys(guards.iter().map(String::as_str)).collect();
        let args = std::iter::once(millis(guard_ttl)).chain(fresh.iter().copied().map(generation)).collect();
        let reply = self.inner.scripts.init_guards.run(&self.inner.client, keys, args).await.map_err(store_error)?;
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

    async fn store_if_current(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
        guards: &[String],
        expected: &[u64],
    ) -> Result<StoreOutcome, StoreError> {
        same_length("store_if_current", guards.len(), expected.len())?;
        let keys = self.keys(std::iter::once(key).chain(guards.iter().map(String::as_str))).collect();
        let args =
            [Value::Bytes(value), millis(ttl)].into_iter().chain(expected.iter().copied().map(generation)).collect();
        let reply =
            self.inner.scripts.store_if_current.run(&self.inner.client, keys, args).await.map_err(store_error)?;
        match reply.as_i64() {
            Some(1) => Ok(StoreOutcome::Stored),
            Some(0) => Ok(StoreOutcome::Rejected),
            _ => Err(unexpected("store_if_current", &reply)),
        }
    }

    async fn bump(&self, guards: &[(String, u64)], delete: &[String], guard_ttl: Duration) -> Result<(), StoreError> {
        if guards.is_empty() && delete.is_empty() {
            return Ok(());
        }
        let keys = self.keys(guards.iter().map(|(k, _)| k.as_str()).chain(delete.iter().map(String::as_str))).collect();
        let args = [millis(guard_ttl), Value::from(guards.len().to_string())]
            .into_iter()
            .chain(guards.iter().map(|(_, g)| generation(*g)))
            .collect();
        self.inner.scripts.bump.run(&self.inner.client, keys, args).await.map_err(store_error)?;
        Ok(())
    }

    async fn lease(&self, key: &str, token: u64, ttl: Duration) -> Result<bool, StoreError> {
        // SET NX PX answers OK when it set the key and nil when it was taken.
        let millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let answer: Value = self
            .inner
            .client
            .set(self.key(key), token.to_string(), Some(Expiration::PX(millis)), Some(SetOptions::NX), false)
            .await
            .map_err(store_error)?;
        Ok(!answer.is_null())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let _: Value = self.inner.client.del(self.key(key)).await.map_err(store_error)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let _: Value = self.inner.client.ping(None).await.map_err(store_error)?;
        Ok(())
    }
}
