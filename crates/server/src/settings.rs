//! Typed settings: each one an environment variable and a flag, with help.

use std::time::Duration;

use clap::{ArgMatches, Args, Command, FromArgMatches, ValueEnum};

/// Loopback: serving beyond the machine is a choice made explicitly.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// A SQLite file in the working directory, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://macrotrack.db?mode=rwc";

/// Whether reads may be answered from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CacheMode {
    #[allow(missing_docs, reason = "clap renders doc comments as help text, which this change must not alter")]
    On,
    /// Every read goes to the database; invalidations still reach a
    /// configured store so other instances never go stale.
    Off,
}

/// Everything `build` needs. Secrets are hidden from `--help` and from
/// `Debug` (there is no `Debug`: the URLs may hold passwords).
#[derive(Clone, Args)]
pub struct Settings {
    /// Address to listen on (host:port; port 0 picks a free port).
    #[arg(long, env = "MACROTRACK_BIND", default_value = DEFAULT_BIND, global = true)]
    pub bind: String,

    /// Serve /metrics on this address (host:port) instead of the public
    /// one, which then answers 404 there. Unset: /metrics is on the public
    /// address.
    #[arg(long, env = "MACROTRACK_METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,

    /// Database: sqlite://PATH?mode=rwc or postgres://USER:PASSWORD@HOST:PORT/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
    pub database_url: String,

    /// Database connections of this instance (for reads; on SQLite writes
    /// have one connection of their own, on PostgreSQL they share these).
    #[arg(long, env = "MACROTRACK_DB_POOL_SIZE", default_value_t = 10, global = true)]
    pub db_pool_size: u32,

    /// After a write of log entries (or completing a day), how many of the
    /// days it changed are read again at once, in the background, so the
    /// read that follows finds them cached. Off (0) by default: under the
    /// mixed load it about doubled the day fetches (a write's day is often
    /// written again before it is read) for a faster read after a write.
    #[arg(long, env = "MACROTRACK_WARM_DAYS", default_value_t = 0, global = true)]
    pub warm_days: usize,

    /// Shared cache: redis://HOST:PORT[/DB], or a cluster as
    /// redis-cluster://HOST:PORT,HOST:PORT. Unset: an in-process cache.
    #[arg(long, env = "REDIS_URL", hide_env_values = true, global = true)]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key, to share one Redis between deployments.
    #[arg(long, env = "MACROTRACK_REDIS_KEY_PREFIX", default_value = "", global = true)]
    pub redis_key_prefix: String,

    /// Timeout of each Redis command in milliseconds; past it the read goes
    /// to the database.
    #[arg(long, env = "MACROTRACK_REDIS_TIMEOUT_MS", default_value_t = 250, global = true)]
    pub redis_timeout_ms: u64,

    /// Timeout of opening a Redis connection in milliseconds.
    #[arg(long, env = "MACROTRACK_REDIS_CONNECT_TIMEOUT_MS", default_value_t = 1000, global = true)]
    pub redis_connect_timeout_ms: u64,

    /// Redis connections (fred clients, each pipelining its commands).
    #[arg(long, env = "MACROTRACK_REDIS_POOL_SIZE", default_value_t = 4, global = true)]
    pub redis_pool_size: usize,

    /// In a Redis Cluster whose every master has a replica: how long, in
    /// milliseconds, each invalidation waits for a replica to acknowledge it
    /// (WAIT). Unacknowledged, the write's outbox row stays and the drain
    /// bumps again, so a failover right after cannot lose it. 0: never wait.
    #[arg(long, env = "MACROTRACK_REDIS_REPLICA_WAIT_MS", default_value_t = 100, global = true)]
    pub redis_replica_wait_ms: u64,

    /// `off` sends every read to the database.
    #[arg(long, env = "MACROTRACK_CACHE", value_enum, default_value_t = CacheMode::On, global = true)]
    pub cache: CacheMode,

    /// Size of the in-process cache in MiB (when REDIS_URL is unset).
    #[arg(long, env = "MACROTRACK_CACHE_MIB", default_value_t = 64, global = true)]
    pub cache_mib: u64,

    /// How often, in milliseconds, the cache outbox is drained (and
    /// deferred invalidations retried).
    #[arg(long, env = "MACROTRACK_OUTBOX_POLL_MS", default_value_t = 500, global = true)]
    pub outbox_poll_ms: u64,

    /// Age in milliseconds an outbox row must reach before a drain forgets
    /// its user, so a mutation applying its own invalidation is left alone.
    /// Keep it above the poll: an instance deletes the rows it applied on
    /// its next poll, and an older row costs its user a needless cold cache.
    #[arg(long, env = "MACROTRACK_OUTBOX_GRACE_MS", default_value_t = 1000, global = true)]
    pub outbox_grace_ms: u64,

    /// How often, in milliseconds, a server asks the database for the
    /// catalogue's generation: an import run elsewhere (`macrotrack foods
    /// import`) is followed by every server's cached catalogue reads within
    /// this time of its end.
    #[arg(long, env = "MACROTRACK_CATALOGUE_POLL_MS", default_value_t = 1000, global = true)]
    pub catalogue_poll_ms: u64,

    /// With Redis: how long, in milliseconds, an instance remembers the
    /// generations it bumped and refuses entries from a node that answers
    /// older ones (a Redis Cluster node that missed the bump around a
    /// failover). Cover the cluster's failover time (about twice
    /// cluster-node-timeout); 0 turns the check off.
    #[arg(long, env = "MACROTRACK_OWN_BUMPS_WINDOW_MS", default_value_t = 30_000, global = true)]
    pub own_bumps_window_ms: u64,

    /// Requests a second each user may make (burst twice that), and with it
    /// a budget of failed authentications per client address (20 a second,
    /// burst 100). Past either: 429, before any lookup. 0 turns both off.
    #[arg(long, env = "MACROTRACK_RATE_LIMIT", default_value_t = 100, global = true)]
    pub rate_limit: u32,

    /// Behind a proxy that appends the client's address to X-Forwarded-For:
    /// take the client address of the failure budget from its last entry.
    /// Off: the TCP peer's address (any client could write the header).
    #[arg(
        long,
        env = "MACROTRACK_TRUST_FORWARDED_FOR",
        default_value_t = false,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub trust_forwarded_for: bool,

    /// Seconds a request's body may take to arrive after its headers; past
    /// them: 408 and the connection is closed.
    #[arg(long, env = "MACROTRACK_BODY_TIMEOUT", default_value_t = 10, global = true)]
    pub body_timeout: u64,

    /// Bearer token of the /v1/admin routes. Unset: they answer 404.
    #[arg(long, env = "MACROTRACK_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<String>,
}

/// Clap's defaults, every environment variable ignored: the attributes
/// above are the one place a default is written.
impl Default for Settings {
    fn default() -> Self {
        let command = Settings::augment_args(Command::new("defaults")).mut_args(|arg| arg.env(None::<&'static str>));
        let matches: ArgMatches =
            command.try_get_matches_from(["defaults"]).expect("every setting has a default or is optional");
        Settings::from_arg_matches(&matches).expect("the defaults are valid")
    }
}

impl Settings {
    /// REDIS_URL, with an empty value read as unset.
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url.as_deref().map(str::trim).filter(|url| !url.is_empty())
    }

    /// The admin token, with an empty value read as unset (an empty token
    /// must never open the admin routes).
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref().filter(|token| !token.trim().is_empty())
    }

    /// The database adapter's configuration from these settings.
    pub fn db_config(&self) -> macrotrack_db_seaorm::DbConfig {
        macrotrack_db_seaorm::DbConfig {
            max_connections: self.db_pool_size.max(1),
            ..macrotrack_db_seaorm::DbConfig::new(self.database_url.clone())
        }
    }

    /// Each Redis command's timeout, after which the cache fails open.
    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms.max(1))
    }

    /// How long connecting to Redis may take before serving without it.
    pub fn redis_connect_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_connect_timeout_ms.max(1))
    }

    /// `None` when turned off; below the command timeout, so a WAIT never
    /// outlasts the command that carries it.
    pub fn redis_replica_wait(&self) -> Option<Duration> {
        let wait = Duration::from_millis(self.redis_replica_wait_ms).min(self.redis_timeout() / 2);
        (!wait.is_zero()).then_some(wait)
    }

    /// How often the outbox drainer looks for rows left behind.
    pub fn outbox_poll(&self) -> Duration {
        Duration::from_millis(self.outbox_poll_ms.max(1))
    }

    /// How often a server follows the catalogue's generation.
    pub fn catalogue_poll(&self) -> Duration {
        Duration::from_millis(self.catalogue_poll_ms.max(1))
    }

    /// How old an outbox row must be before the drainer takes it over.
    pub fn outbox_grace(&self) -> Duration {
        Duration::from_millis(self.outbox_grace_ms)
    }

    /// `None` for the in-process store (one process is never behind itself)
    /// or when turned off.
    pub fn own_bumps_window(&self) -> Option<Duration> {
        let window = Duration::from_millis(self.own_bumps_window_ms);
        (self.redis_url().is_some() && !window.is_zero()).then_some(window)
    }

    /// The rate limits and the body deadline requests are held to.
    pub fn bounds(&self) -> macrotrack_http::Bounds {
        let client_address = if self.trust_forwarded_for {
            macrotrack_http::ClientAddress::LastForwardedFor
        } else {
            macrotrack_http::ClientAddress::Peer
        };
        macrotrack_http::Bounds {
            rate: macrotrack_http::RateLimits::new(self.rate_limit, client_address),
            // 0 would answer every body 408 before its first byte.
            body_timeout: Duration::from_secs(self.body_timeout.max(1)),
        }
    }

    /// MACROTRACK_METRICS_BIND, with an empty value read as unset.
    pub fn metrics_bind(&self) -> Option<&str> {
        self.metrics_bind.as_deref().map(str::trim).filter(|bind| !bind.is_empty())
    }

    /// Whether the database is the default SQLite file (said at start-up).
    pub fn uses_default_database(&self) -> bool {
        self.database_url == DEFAULT_DATABASE_URL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_are_the_documented_embedded_default() {
        let settings = Settings::default();
        assert_eq!((settings.bind.as_str(), settings.database_url.as_str()), (DEFAULT_BIND, DEFAULT_DATABASE_URL));
        assert!(
            settings.uses_default_database() && settings.redis_url().is_none() && settings.metrics_bind().is_none()
        );
        assert_eq!((settings.db_pool_size, settings.redis_timeout_ms, settings.cache), (10, 250, CacheMode::On));
    }
}
