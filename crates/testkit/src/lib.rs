//! Helpers shared by the test suites (a dev-dependency only; the tidy test
//! forbids it elsewhere).
//!
//! Tests that need PostgreSQL or Redis find them through `DATABASE_URL` and
//! `REDIS_URL` (default: the local ones). When a service is absent they skip
//! with a printed reason, unless `MACROTRACK_REQUIRE_SERVICES=1`, where they
//! fail instead (CI sets it).

//!
//! One file per idea: `env` (where the services are, skip-or-fail, unique
//! names and ports), `redis` (one throwaway redis-server), `cluster` (a
//! throwaway Redis Cluster and its failover helpers), `cluster_nodes`
//! (reading `CLUSTER NODES`), `postgres` (fresh databases), `prometheus`
//! (a throwaway Prometheus and promtool), `report` (figures for
//! docs/reliability.md).

#![warn(missing_docs)]

mod cluster;
mod cluster_nodes;
mod env;
mod pg_wire;
#[cfg(feature = "postgres")]
mod postgres;
mod prometheus;
mod redis;
mod report;

pub use cluster::{CLUSTER_NODE_TIMEOUT, RedisCluster};
pub use env::{
    DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, free_port, postgres_url, redis_url, services_required, skip_or_fail,
    unique_name,
};
pub use pg_wire::{PgProxy, WireCounts};
#[cfg(feature = "postgres")]
pub use postgres::FreshDatabase;
pub use prometheus::{Prometheus, promtool};
pub use redis::RedisServer;
pub use report::{REPORT_ENV, report};
