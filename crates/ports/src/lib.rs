//! The ports of the hexagon: what the use cases need from a database, a
//! cache store and a clock. Each trait is named by the role it plays, each
//! method says what an implementation MUST do, and each is mockable with
//! mockall (`MockUserRepository`, `MockCacheStore`, ...) under the `mocks`
//! feature, which only dev-dependencies turn on.
//!
//! Every mutation the invalidation matrix covers writes one row to the
//! cache outbox in its own transaction and returns its id with its value
//! (`Committed`), so an invalidation that is never applied is not lost.

#![warn(missing_docs)]

mod catalogue;
mod idempotency;
mod outbox;
mod repositories;
mod store;

pub use catalogue::*;
pub use idempotency::*;
pub use outbox::*;
pub use repositories::*;
pub use store::*;

use chrono::{DateTime, Utc};

/// The source of "now", injected so tests control time without sleeping.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// MUST be monotonic enough for cache ages: never jump backwards by more
    /// than the system clock does.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
