//! Opening the connections: at once when Redis answers, or in the
//! background when it does not (the service then runs on its database
//! alone until Redis answers), and what a cluster's topology says about
//! waiting for replicas.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use anyhow::bail;
use fred::clients::{Pool, WithOptions};
use fred::error::Error;
use fred::interfaces::ClientLike;
use fred::types::config::{Config, Options, ReconnectPolicy, UnresponsiveConfig};
use fred::types::{Builder, ClusterHash, CustomCommand, Value};

use crate::scripts::Scripts;
use crate::{RedisConfig, url};

/// Reconnection backoff: 100 ms doubling up to this, forever.
const MAX_RECONNECT_DELAY_MS: u32 = 1_500;
/// Between two attempts of a first connection made in the background.
const FIRST_CONNECT_RETRY: Duration = Duration::from_secs(1);
/// How often a cluster's replicas are looked at.
const REPLICAS_LOOKED_AT_EVERY: Duration = Duration::from_secs(5);

/// A working connection pool and what was learnt when it opened.
pub(crate) struct Connected {
    pub(crate) pool: Pool,
    pub(crate) options: Options,
    pub(crate) client: WithOptions<Pool>,
    pub(crate) scripts: Scripts,
    /// How long a bump waits for a replica to acknowledge it, in a cluster
    /// (`None` otherwise, or when configured off)...
    pub(crate) replica_wait: Option<Duration>,
    /// ...while every master has a healthy replica, as the cluster's view
    /// said at the last look (`watch_replicas`).
    pub(crate) replicated: AtomicBool,
}

impl Connected {
    /// How long a bump must wait for a replica now, if at all.
    pub(crate) fn replica_wait(&self) -> Option<Duration> {
        self.replica_wait.filter(|_| self.replicated.load(Ordering::Relaxed))
    }
}

impl Drop for Connected {
    /// The pool reconnects forever in the background; dropping the last
    /// store stops it.
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(close(self.pool.clone(), Duration::from_secs(1)));
        }
    }
}

/// The connection of a store, set once it is open.
pub(crate) type Slot = OnceLock<Connected>;

/// Checks what can be checked without a server: the URL, the prefix and
/// the timeouts. Errors are one line, without credentials.
pub(crate) fn validate(config: &RedisConfig) -> anyhow::Result<Config> {
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
    Ok(fred_config)
}

/// Opens the pool, loads the scripts and reads the cluster's topology;
/// fails with one line when Redis does not answer within the timeouts.
pub(crate) async fn connect(config: &RedisConfig, fred_config: Config) -> anyhow::Result<Connected> {
    let shown = url::redact(&config.url);
    let clustered = fred_config.server.is_clustered();
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
        .map_err(|error| anyhow::anyhow!("invalid Redis configuration for {shown}: {}", one_line(&error)))?;

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
    let replica_wait = config.replica_wait.filter(|_| clustered);
    let replicated = AtomicBool::new(false);
    if replica_wait.is_some() {
        replicated.store(every_master_has_a_replica(&client).await, Ordering::Relaxed);
    }
    Ok(Connected { pool, options, client, scripts, replica_wait, replicated })
}

/// Keeps `Connected::replicated` current while the store lives: a node's
/// view of a cluster that just formed, or just lost or gained a replica,
/// takes a moment to settle.
pub(crate) fn watch_replicas(slot: Weak<Slot>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(REPLICAS_LOOKED_AT_EVERY).await;
            let Some(slot) = slot.upgrade() else { return };
            let Some(connected) = slot.get() else { continue };
            if connected.replica_wait.is_none() {
                return;
            }
            let now = every_master_has_a_replica(&connected.client).await;
            if connected.replicated.swap(now, Ordering::Relaxed) != now {
                tracing::info!(
                    every_master_has_a_replica = now,
                    "Redis Cluster replicas changed: bumps wait for one: {now}"
                );
            }
        }
    });
}

/// Connects in the background until Redis answers, then fills `slot`.
/// Stops when the store is dropped.
pub(crate) fn connect_in_background(config: RedisConfig, fred_config: Config, slot: Weak<Slot>) {
    tokio::spawn(async move {
        let shown = url::redact(&config.url);
        loop {
            tokio::time::sleep(FIRST_CONNECT_RETRY).await;
            if slot.strong_count() == 0 {
                return;
            }
            match connect(&config, fred_config.clone()).await {
                Ok(connected) => {
                    if let Some(strong) = slot.upgrade() {
                        let _ = strong.set(connected);
                        tracing::info!(url = %shown, "connected to Redis: the cache is in use again");
                        watch_replicas(slot);
                    }
                    return;
                }
                Err(error) => tracing::debug!(%error, "Redis does not answer yet"),
            }
        }
    });
}

/// Whether the cluster's every master has at least one replica that is
/// not failing (from CLUSTER NODES); false when the nodes cannot be read.
async fn every_master_has_a_replica(client: &WithOptions<Pool>) -> bool {
    let command = CustomCommand::new_static("CLUSTER", ClusterHash::Random, false);
    match client.custom::<Value, _>(command, vec!["NODES"]).await {
        Ok(nodes) => masters_all_replicated(&String::from_utf8_lossy(nodes.as_bytes().unwrap_or_default())),
        Err(error) => {
            tracing::warn!(error = %one_line(&error), "cannot read the Redis Cluster's nodes");
            false
        }
    }
}

/// Reads CLUSTER NODES: `id addr flags master ...`, one node a line.
fn masters_all_replicated(nodes: &str) -> bool {
    let lines: Vec<Vec<&str>> = nodes.lines().map(|line| line.split_whitespace().collect()).collect();
    let healthy = |fields: &Vec<&str>| fields.get(2).is_some_and(|flags| !flags.contains("fail"));
    // Masters that own slots: a node that joins, or has not yet been seen
    // becoming a replica, shows as a master without any.
    let masters: Vec<&str> = lines
        .iter()
        .filter(|fields| healthy(fields) && fields.get(2).is_some_and(|flags| flags.contains("master")))
        .filter(|fields| fields.len() > 8)
        .filter_map(|fields| fields.first().copied())
        .collect();
    !masters.is_empty()
        && masters.iter().all(|master| {
            lines.iter().any(|fields| {
                healthy(fields)
                    && fields.get(2).is_some_and(|flags| flags.contains("slave") || flags.contains("replica"))
                    && fields.get(3) == Some(master)
            })
        })
}

/// Stops the pool's connection and reconnection tasks, waiting a bounded time.
pub(crate) async fn close(pool: Pool, within: Duration) {
    let _ = tokio::time::timeout(within, pool.quit()).await;
}

pub(crate) fn one_line(error: &Error) -> String {
    format!("{:?}: {}", error.kind(), error.details()).replace('\n', " ")
}

/// A store's shared slot, for the store to hold.
pub(crate) fn new_slot() -> Arc<Slot> {
    Arc::new(OnceLock::new())
}

#[cfg(test)]
mod tests {
    use super::masters_all_replicated;

    const REPLICATED: &str = "\
a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191
c1 127.0.0.1:7004@17004 master - 0 0 3 connected
b1 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383
a2 127.0.0.1:7002@17002 slave a1 0 0 1 connected
b2 127.0.0.1:7003@17003 slave b1 0 0 2 connected
";

    #[test]
    fn every_master_needs_a_healthy_replica() {
        assert!(masters_all_replicated(REPLICATED), "a master without slots needs none");
        assert!(!masters_all_replicated(&REPLICATED.replace("slave b1", "slave a1")), "b1 has none");
        assert!(!masters_all_replicated(&REPLICATED.replace("b2 127.0.0.1:7003@17003 slave", "b2 x slave,fail")));
        assert!(!masters_all_replicated("a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-16383\n"));
        assert!(!masters_all_replicated(""));
    }
}
