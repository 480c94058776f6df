//! What `/metrics` measures at each scrape, beside the counters the
//! requests and the cache engine keep: the breaker, the invalidations this
//! instance holds back, the cache outbox and whether the database answers.
//! Measured when Prometheus asks, so the values are of that moment and
//! nothing runs between scrapes.

use std::time::Duration;

use crate::state::AppService;

/// 1 while the breaker keeps this instance's reads and invalidations away
/// from the cache store (open, or half-open probing), else 0.
pub const BREAKER_OPEN: &str = "macrotrack_cache_breaker_open";
/// Invalidation targets this instance could not apply yet (their users
/// read from the database until they are).
pub const PENDING_INVALIDATIONS: &str = "macrotrack_cache_pending_invalidations";
/// Rows in the cache outbox: mutations whose invalidation is not known to
/// be applied. The same on every instance (one shared database).
pub const OUTBOX_ROWS: &str = "macrotrack_cache_outbox_rows";
/// Age in seconds of the oldest outbox row; 0 without rows.
pub const OUTBOX_OLDEST_AGE: &str = "macrotrack_cache_outbox_oldest_age_seconds";
/// 1 when the database answered this scrape's query (what `/readyz` asks), else 0.
pub const READY: &str = "macrotrack_ready";

/// Every gauge above, with its help text (for the recorder's descriptions).
pub const GAUGES: [(&str, &str); 5] = [
    (BREAKER_OPEN, "1 while the circuit breaker keeps calls away from the cache store, else 0."),
    (PENDING_INVALIDATIONS, "Invalidation targets this instance has not applied yet; their users bypass the cache."),
    (OUTBOX_ROWS, "Rows in the cache outbox (shared by every instance)."),
    (OUTBOX_OLDEST_AGE, "Age of the oldest cache outbox row in seconds; 0 when empty."),
    (READY, "1 when the database answered at the last scrape, else 0."),
];

/// A database that does not answer within this is reported down, so a
/// scrape never waits for the pool's own timeouts (and fits a scrape
/// timeout as short as a second).
const QUERY_LIMIT: Duration = Duration::from_millis(800);

/// Sets every gauge. While the database does not answer, the outbox gauges
/// keep their last value and `macrotrack_ready` says 0.
pub(crate) async fn measure(service: &AppService) {
    let (ready, backlog) = tokio::join!(
        tokio::time::timeout(QUERY_LIMIT, service.database_ready()),
        tokio::time::timeout(QUERY_LIMIT, service.outbox_backlog()),
    );
    metrics::gauge!(READY).set(if matches!(ready, Ok(Ok(()))) { 1.0 } else { 0.0 });
    if let Ok(Ok((rows, oldest))) = backlog {
        metrics::gauge!(OUTBOX_ROWS).set(rows as f64);
        metrics::gauge!(OUTBOX_OLDEST_AGE).set(oldest.as_secs_f64());
    }
    let cache = service.cache();
    metrics::gauge!(BREAKER_OPEN).set(if cache.breaker_open() { 1.0 } else { 0.0 });
    let pending: usize = cache.pending().values().map(|targets| targets.len()).sum();
    metrics::gauge!(PENDING_INVALIDATIONS).set(pending as f64);
}
