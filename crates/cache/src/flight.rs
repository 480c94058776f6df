//! What the engine remembers of misses: the flights in progress (so
//! concurrent misses share one fetch) and how long fetches take lately (so
//! leases follow them). The miss itself is in `miss.rs`.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::lock::lock;

/// A flight: the key, and the generations it fetches under (`None` for a
/// fetch that stores nothing).
pub(crate) type FlightKey = (String, Option<Vec<u64>>);

/// The flights in progress; each is a `Flight` of its value's type.
#[derive(Default)]
pub(crate) struct Flights(pub(crate) Mutex<HashMap<FlightKey, Arc<dyn Any + Send + Sync>>>);

/// One flight: its value once a fetch of it succeeded, and how many of its
/// fetches failed. Its callers take turns: when the leader fails (or its
/// future is dropped) the next waiter leads, the others still wait.
pub(crate) struct Flight<T> {
    pub(crate) value: OnceCell<T>,
    pub(crate) failures: AtomicUsize,
}

impl<T> Default for Flight<T> {
    fn default() -> Self {
        Flight { value: OnceCell::new(), failures: AtomicUsize::new(0) }
    }
}

/// What the leader of a flight does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Fetch, and store under these generations; with `leased`, agree with
    /// other instances (when a lease is configured) which one fetches.
    Store { guards: Vec<u64>, leased: bool },
    /// A key the source may not know (`Admission::Confirmed`): fetch
    /// first, then create the absent guards (`seen` is what the read found
    /// of them) and store the value if nothing moved them since.
    Confirm { seen: Vec<Option<u64>> },
}

/// How long fetches of each family take lately (a moving average of the
/// successful ones), so leases are held about as long as a fetch takes.
#[derive(Default)]
pub(crate) struct FetchTimes(Mutex<HashMap<&'static str, Duration>>);

impl FetchTimes {
    pub(crate) fn record(&self, family: &'static str, took: Duration) {
        let mut times = lock(&self.0);
        let typical = times.entry(family).or_insert(took);
        // Weight 1/4: a database that slows down is followed within a few fetches.
        *typical = (*typical * 3 + took) / 4;
    }

    pub(crate) fn typical(&self, family: &'static str) -> Option<Duration> {
        lock(&self.0).get(family).copied()
    }
}
