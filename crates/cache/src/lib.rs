//! The two-tier cache engine (cachified-style tier 1, Accelerate-style
//! tier 2) over any `CacheStore`, and the in-process store.
//!
//! See docs/caching.md for the states, the races and how each is closed.

mod breaker;
mod config;
mod engine;
mod envelope;
mod flight;
mod generation;
mod invalidation;
mod memory;
mod outcome;
mod own_bumps;
mod report;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
pub mod model;
#[cfg(feature = "conformance")]
pub mod observed;

pub use breaker::BreakerConfig;
pub use config::{
    Admission, Check, EngineConfig, Freshness, InvalidationReport, LeaseConfig, Policy, ReadError, StoreStatus,
};
pub use engine::Engine;
pub use memory::MemoryStore;
pub use outcome::{Outcome, StatsSnapshot};
pub use report::{Digest, ReadReport, digest};
