//! The catalogue's generation as this instance knows it. Every cached read
//! that shows global foods carries it in its key (`ReadSpec::follows_catalogue`),
//! so an import, which raises the generation in the database once at its
//! end, leaves all their entries behind in O(1), whatever their number.
//! An import in this process raises it here at once; other processes (the
//! `macrotrack foods import` command, other servers) are followed by
//! polling the database (`Service::follow_catalogue`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use macrotrack_ports::{CacheStore, Unavailable};

use crate::Service;

/// How often a server asks the database for the catalogue's generation by
/// default: an import is seen by every instance within this time after it
/// ended (one indexed primary-key read a second costs nothing).
pub const FOLLOW_CATALOGUE_EVERY: Duration = Duration::from_secs(1);

/// The generation plus one; 0 while it is not known yet. Until it is known,
/// catalogue reads go to the database and leave nothing in the store: an
/// entry of a generation read before a restart could be of an older
/// catalogue.
#[derive(Debug, Default)]
pub(crate) struct KnownGeneration(AtomicU64);

impl KnownGeneration {
    pub(crate) fn current(&self) -> Option<u64> {
        self.0.load(Ordering::Acquire).checked_sub(1)
    }

    /// Never goes back: a poll that answers late cannot undo a newer one.
    pub(crate) fn observe(&self, generation: u64) {
        self.0.fetch_max(generation.saturating_add(1), Ordering::AcqRel);
    }
}

impl<S: CacheStore> Service<S> {
    /// Reads the catalogue's generation from the database and follows it.
    pub async fn refresh_catalogue(&self) -> Result<u64, Unavailable> {
        let generation = self.repos.foods.catalogue_generation().await?;
        self.observe_catalogue(generation);
        Ok(generation)
    }

    /// The catalogue generation this instance reads under (`None`: not known yet).
    pub fn catalogue_generation(&self) -> Option<u64> {
        self.catalogue.current()
    }

    pub(crate) fn observe_catalogue(&self, generation: u64) {
        #[cfg(feature = "faults")]
        if self.fault == crate::Fault::BlindToImports {
            return;
        }
        self.catalogue.observe(generation);
    }

    /// Refreshes the catalogue's generation every `period`, forever (a
    /// server's background task); a database that does not answer is
    /// retried at the next tick while the last generation stays in use.
    pub async fn follow_catalogue(self, period: Duration) {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = self.refresh_catalogue().await {
                tracing::warn!(%error, "could not read the catalogue's generation; trying again");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_until_observed_and_never_going_back() {
        let known = KnownGeneration::default();
        assert_eq!(known.current(), None);
        known.observe(0);
        assert_eq!(known.current(), Some(0));
        known.observe(5);
        known.observe(3);
        assert_eq!(known.current(), Some(5));
    }
}
