//! The composition root: settings in, a running application out. The one
//! place that knows the concrete adapters (SeaORM, Redis or in-process).

#![warn(missing_docs)]

pub mod cli;
pub mod food_import;
pub mod settings;
mod telemetry;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::{Server, ServerHandle};
use anyhow::Context;
use macrotrack_cache::{Engine, EngineConfig, LeaseConfig, MemoryStore};
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_http::{AppService, HttpState};
use macrotrack_ports::{CacheStore, Clock, SystemClock};
use macrotrack_service::{Policies, Repositories, Service};

pub use settings::{CacheMode, Settings};
pub use telemetry::{init_logging, metrics_render};

/// Connects the database and applies its migrations.
pub async fn database(settings: &Settings) -> anyhow::Result<SeaOrmRepository> {
    let repository = SeaOrmRepository::connect(&settings.db_config()).await?;
    repository.migrate().await?;
    Ok(repository)
}

/// The cache store the settings ask for: Redis when REDIS_URL is set,
/// otherwise this process's memory. A Redis that does not answer is no
/// reason not to start: the service runs on its database alone (reads
/// bypass the cache, invalidations wait in the outbox) and connects in the
/// background. A bad Redis setting still stops the start.
pub async fn cache_store(settings: &Settings) -> anyhow::Result<Arc<dyn CacheStore>> {
    let Some(url) = settings.redis_url() else {
        return Ok(Arc::new(MemoryStore::new(settings.cache_mib.saturating_mul(1024 * 1024))));
    };
    let config = RedisConfig {
        key_prefix: settings.redis_key_prefix.clone(),
        command_timeout: settings.redis_timeout(),
        connect_timeout: settings.redis_connect_timeout(),
        pool_size: settings.redis_pool_size.max(1),
        replica_wait: settings.redis_replica_wait(),
        ..RedisConfig::new(url)
    };
    Ok(Arc::new(RedisStore::open(config).await?))
}

/// The use cases wired to the configured adapters (also used by the CLI).
pub async fn service(settings: &Settings) -> anyhow::Result<AppService> {
    Ok(service_and_repository(settings, Arc::new(SystemClock)).await?.0)
}

/// The use cases, and the repository under them for what the service takes
/// a port of per call (the catalogue import).
pub(crate) async fn service_and_repository(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(AppService, SeaOrmRepository)> {
    let repository = SeaOrmRepository::connect(&settings.db_config()).await?;
    // Every setting is checked before the database is changed.
    let store = cache_store(settings).await?;
    repository.migrate().await?;
    // A shared store may serve several instances: agree on who fetches a cold entry.
    let lease = settings.redis_url().map(|_| LeaseConfig::default());
    let policies = Policies::default();
    let config = EngineConfig {
        enabled: settings.cache == CacheMode::On,
        // A family's guards need not outlive its entries.
        guard_ttls: policies.guard_ttls(),
        lease,
        own_bumps_window: settings.own_bumps_window(),
        ..EngineConfig::default()
    };
    let engine = Engine::new(store, clock.clone(), config);
    let service = Service::new(Repositories::from_one(repository.clone()), engine, clock, policies);
    Ok((service.warm_after_writes(settings.warm_days), repository))
}

/// How long a client may take to send a request's headers (docs/operations.md).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection being closed may take to shut down (docs/operations.md).
pub const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A bound, not yet running server.
pub struct Application {
    address: SocketAddr,
    server: Server,
    /// The listener of MACROTRACK_METRICS_BIND, when set.
    metrics: Option<(SocketAddr, Server)>,
    state: HttpState,
    /// Poll interval and grace of the outbox drainer.
    outbox: (Duration, Duration),
    /// How often the catalogue's generation is read.
    catalogue_poll: Duration,
}

/// Connects everything, binds `settings.bind` and prepares the server.
/// Shared by `main` and the tests, so they run the same wiring.
pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    build_with_clock(settings, Arc::new(SystemClock)).await
}

/// `build` with `clock` telling the time (tests move it across midnight).
pub async fn build_with_clock(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
    let (listener, address) = bind(&settings.bind)?;
    let metrics_listener = settings.metrics_bind().map(bind).transpose()?;
    let service = service_and_repository(&settings, clock).await?.0;
    // Before serving: a previous process may have died between a commit and
    // its invalidation; forget those users (or, with the store down, keep
    // them away from it until their epoch is bumped).
    let recovered = service.recover_outbox().await.context("cannot drain the cache outbox")?;
    if recovered != Default::default() {
        tracing::info!(?recovered, "drained the cache outbox at start-up");
    }
    // Catalogue reads are cached once the catalogue's generation is known.
    if let Err(error) = service.refresh_catalogue().await {
        tracing::warn!(%error, "cannot read the catalogue's generation yet; catalogue reads bypass the cache until it is");
    }
    let admin_token = settings.admin_token().map(str::to_owned);
    // With a metrics listener, the public address answers 404 on /metrics.
    let public_metrics = if metrics_listener.is_some() { None } else { metrics_render() };
    let state = HttpState { service, admin_token, metrics: public_metrics, bounds: settings.bounds() };
    let metrics = match metrics_listener {
        Some((listener, metrics_address)) => {
            let metrics_state = HttpState { metrics: metrics_render(), ..HttpState::new(state.service.clone()) };
            let server = HttpServer::new(move || macrotrack_http::metrics_app(metrics_state.clone()))
                .workers(1)
                // The public server handles SIGTERM; this one is stopped after it.
                .disable_signals()
                .listen(listener)
                .with_context(|| format!("cannot listen on {metrics_address}"))?
                .run();
            Some((metrics_address, server))
        }
        None => None,
    };
    let app_state = state.clone();
    let server = HttpServer::new(move || macrotrack_http::app(app_state.clone()))
        // actix leaves Nagle's algorithm on: an answer written in two parts
        // then waits for the client's delayed ACK (tens of ms on Linux).
        .tcp_nodelay(true)
        // Set here, not left to actix's defaults: a client has this long to
        // send a request's headers (408 after), and a closing connection
        // this long to finish before it is dropped. The body's own deadline
        // is MACROTRACK_BODY_TIMEOUT (408, then closed).
        .client_request_timeout(HEADER_TIMEOUT)
        .client_disconnect_timeout(DISCONNECT_TIMEOUT)
        .listen(listener)
        .with_context(|| format!("cannot listen on {address}"))?
        .run();
    let outbox = (settings.outbox_poll(), settings.outbox_grace());
    Ok(Application { address, server, metrics, state, outbox, catalogue_poll: settings.catalogue_poll() })
}

fn bind(address: &str) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(address).with_context(|| format!("cannot listen on {address}"))?;
    let bound = listener.local_addr().context("cannot read the bound address")?;
    Ok((listener, bound))
}

impl Application {
    /// The bound port, for tests that bind port 0.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The bound address, for tests that bind port 0.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `/metrics` is served apart (MACROTRACK_METRICS_BIND), if it is.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(address, _)| *address)
    }

    /// The handlers' state, for driving the same app in-process in tests.
    pub fn state(&self) -> HttpState {
        self.state.clone()
    }

    /// Stops the server (graceful) from another task.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or Ctrl-C (actix drains in-flight requests),
    /// meanwhile retrying deferred cache invalidations and draining the
    /// cache outbox (MACROTRACK_OUTBOX_POLL_MS, MACROTRACK_OUTBOX_GRACE_MS)
    /// and following the catalogue's generation (MACROTRACK_CATALOGUE_POLL_MS).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let service = self.state.service.clone();
        let (poll, grace) = self.outbox;
        let metrics = async {
            match self.metrics {
                Some((_, server)) => server.await,
                None => std::future::pending().await,
            }
        };
        // The metrics listener is dropped (closed) once the public server
        // has stopped; it ends before that only if it fails.
        let served = tokio::select! {
            result = self.server => result,
            result = metrics => result,
            () = service.drain_every(poll, grace) => Ok(()),
            () = service.sweep_idempotency_keys_every(macrotrack_service::SWEEP_EVERY) => Ok(()),
            () = service.clone().follow_catalogue(self.catalogue_poll) => Ok(()),
        };
        // Rows applied since the last tick; left behind, the next start-up
        // would forget their users once more.
        service.flush_applied_outbox_rows().await;
        served
    }
}
