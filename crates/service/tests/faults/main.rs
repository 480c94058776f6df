//! Fault tests: real SQLite or PostgreSQL, and a redis-server of each
//! test's own that the test kills, pauses, restarts or corrupts. Each
//! prints its figures (requests, failures, stale reads, windows); run with
//! `--nocapture` to see them. docs/reliability.md records them.

mod corrupt;
mod crash;
mod cross_instance;
mod db_failure;
mod failover;
mod outage;
mod recovery;
mod slow_db;
mod support;
