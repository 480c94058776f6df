//! Logs and the Prometheus recorder.

use std::io::IsTerminal;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use macrotrack_http::{MetricsRender, REQUEST_DURATION, REQUESTS_TOTAL};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Request durations from 1 ms to 10 s.
const DURATION_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// fmt logs on stderr (stdout stays for command output), filtered by
/// MACROTRACK_LOG, as text or as JSON lines (MACROTRACK_LOG_FORMAT).
pub fn init_logging(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter).with_context(|| format!("invalid MACROTRACK_LOG filter {filter:?}"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // Another subscriber (a test harness's) may already be set: keep it.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        // The event's fields at the top level; the request span's (request
        // id, route, method, path) under "span", so every line logged while
        // serving a request carries its id.
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
    Ok(())
}

/// The process-wide recorder: installed once, however many applications a
/// process builds (the tests build many). `None` if another recorder was
/// installed first.
fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), &DURATION_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    describe();
                    spawn_upkeep(handle.clone());
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(%error, "metrics recorder not installed; /metrics is off");
                    None
                }
            }
        })
        .as_ref()
}

/// Histograms keep raw samples until upkeep folds them into their buckets;
/// without a scrape nothing did, and memory grew with every request (found
/// by the soak: +15 MiB a minute at 12 000 req/s). Upkeep runs every 5 s.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(5));
            handle.run_upkeep();
        }
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "metrics upkeep thread not started");
    }
}

fn describe() {
    metrics::describe_counter!(REQUESTS_TOTAL, "HTTP requests by route pattern, method and status.");
    metrics::describe_histogram!(
        REQUEST_DURATION,
        metrics::Unit::Seconds,
        "HTTP request duration by route pattern and method."
    );
    metrics::describe_counter!("macrotrack_cache_requests_total", "Cache reads by tier, key family and outcome.");
    metrics::describe_counter!(
        "macrotrack_cache_invalidations_total",
        "Cache invalidations applied by tier and key family."
    );
    metrics::describe_counter!(
        "macrotrack_cache_fetches_total",
        "Reads of the database made by cached reads (misses, refreshes, bypasses), by tier and key family."
    );
    metrics::describe_counter!(
        "macrotrack_cache_invalidation_failures_total",
        "Invalidation targets deferred because the store could not apply them (kept pending and in the outbox)."
    );
    metrics::describe_counter!(
        "macrotrack_cache_store_behind_total",
        "Guards the store answered older than this instance had just set them (bumped again)."
    );
    for (name, help) in macrotrack_http::GAUGES {
        metrics::describe_gauge!(name, help);
    }
}

/// What `/metrics` serves.
pub fn metrics_render() -> Option<MetricsRender> {
    let handle = recorder()?;
    Some(Arc::new(move || {
        // No exporter task runs upkeep for us; a scrape is a fine moment.
        handle.run_upkeep();
        handle.render()
    }))
}
