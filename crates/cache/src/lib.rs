//! The two-tier cache engine (cachified-style tier 1, Accelerate-style
//! tier 2) over any `CacheStore`, and the in-process store.
//!
//! See docs/caching.md for the states, the races and how each is closed.

#![warn(missing_docs)]

mod ahead;
mod answer;
mod breaker;
mod config;
mod digest;
mod engine;
mod envelope;
mod flight;
mod generation;
mod invalidation;
mod lock;
mod memory;
mod miss;
mod outcome;
mod own_bumps;
mod read;
mod report;
mod serve;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
pub mod model;
#[cfg(feature = "conformance")]
pub mod observed;

pub use ahead::Ahead;
pub use breaker::BreakerConfig;
pub use config::{
    Admission, Check, EngineConfig, Freshness, GuardTtls, InvalidationReport, LeaseConfig, Policy, ReadError,
    StoreStatus,
};
pub use digest::{Digest, digest};
pub use engine::{Engine, Recovery};
pub use memory::MemoryStore;
pub use outcome::{Outcome, StatsSnapshot};
pub use read::{Cacheable, Fetch, Prefetched, Read};
pub use report::ReadReport;
