//! Where the services are, and what a test does when one is absent: skip
//! with a printed reason, or fail when `MACROTRACK_REQUIRE_SERVICES=1`.
//! Also names and ports no other test will use.

use std::fmt::Display;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The local PostgreSQL, when `DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The local Redis, when `REDIS_URL` is unset.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Whether absent services fail the tests (`MACROTRACK_REQUIRE_SERVICES=1`).
pub fn services_required() -> bool {
    std::env::var("MACROTRACK_REQUIRE_SERVICES").is_ok_and(|value| value == "1")
}

/// The PostgreSQL server to test against: `DATABASE_URL` when it is a
/// postgres URL, else the local default.
pub fn postgres_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => DEFAULT_DATABASE_URL.to_owned(),
    }
}

/// The Redis server to test against: `REDIS_URL` when it is a single-node
/// redis URL, else the local default.
pub fn redis_url() -> String {
    match std::env::var("REDIS_URL") {
        Ok(url) if url.starts_with("redis://") => url,
        _ => DEFAULT_REDIS_URL.to_owned(),
    }
}

/// Call when a needed service is absent: panics when services are
/// required, otherwise prints why the test is skipped. The caller returns.
pub fn skip_or_fail(service: &str, reason: impl Display) {
    if services_required() {
        panic!("{service} is required (MACROTRACK_REQUIRE_SERVICES=1) but unavailable: {reason}");
    }
    eprintln!("skipped: {service} unavailable ({reason}); set MACROTRACK_REQUIRE_SERVICES=1 to fail instead");
}

/// A name no other test of any process will use: for key prefixes, schemas
/// and databases. Lowercase ASCII, digits and underscores only.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free loopback port")
}
