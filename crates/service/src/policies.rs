//! Cache policies of every read, in one place; overridable by configuration.

use std::time::Duration;

use macrotrack_cache::{GuardTtls, Policy};
use macrotrack_cache_keys::ReadFamily;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// ttl and swr of each cached read (the cache contract's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    /// A user's stored credential, read on every request.
    pub credential: Policy,
    /// A day's logs (tier 1), the hot read.
    pub day_logs: Policy,
    /// The user's name and targets.
    pub me: Policy,
    /// The most logged foods.
    pub frequent_foods: Policy,
    /// One calendar month of a summary.
    pub summary: Policy,
    /// One ISO week.
    pub week: Policy,
    /// Streaks as of a today near the server's.
    pub streak: Policy,
    /// What is scheduled on a date.
    pub schedule: Policy,
    /// The foods logged lately.
    pub recent_foods: Policy,
    /// Catalogue reads: food searches (both parts), a food by id or by
    /// barcode. Stable data: an import leaves them by their generation.
    pub catalogue: Policy,
}

impl Policies {
    /// The policy of `family`'s entries.
    pub fn of(&self, family: ReadFamily) -> Policy {
        match family {
            ReadFamily::Credential => self.credential,
            ReadFamily::Logs => self.day_logs,
            ReadFamily::Me => self.me,
            ReadFamily::FrequentFoods => self.frequent_foods,
            ReadFamily::Summary => self.summary,
            ReadFamily::Week => self.week,
            ReadFamily::Streak => self.streak,
            ReadFamily::Schedule => self.schedule,
            ReadFamily::RecentFoods => self.recent_foods,
            ReadFamily::FoodSearch | ReadFamily::CatalogueSearch | ReadFamily::Food | ReadFamily::Barcode => {
                self.catalogue
            }
        }
    }

    /// The longest any entry lives (ttl + swr): what the user's epoch, which
    /// every entry records, needs to live after it was bumped.
    pub fn longest_lifetime(&self) -> Duration {
        ReadFamily::ALL.iter().map(|family| self.of(*family).lifetime()).max().unwrap_or_default()
    }

    /// How long each family's guards live after a bump: as long as its
    /// entries can, no longer (the engine's `EngineConfig::guard_ttls`).
    pub fn guard_ttls(&self) -> GuardTtls {
        ReadFamily::ALL.iter().fold(GuardTtls::uniform(self.longest_lifetime()), |ttls, family| {
            ttls.with(*family, self.of(*family).lifetime())
        })
    }
}

impl Default for Policies {
    fn default() -> Self {
        let tier2 = Policy { ttl: HOUR, swr: 4 * HOUR };
        Policies {
            credential: Policy { ttl: HOUR, swr: Duration::ZERO },
            day_logs: Policy { ttl: 5 * MINUTE, swr: 15 * MINUTE },
            me: tier2,
            frequent_foods: tier2,
            summary: tier2,
            week: tier2,
            streak: tier2,
            schedule: tier2,
            recent_foods: tier2,
            catalogue: Policy { ttl: HOUR, swr: 24 * HOUR },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_familys_guards_live_as_long_as_its_entries() {
        let policies = Policies::default();
        let ttls = policies.guard_ttls();
        assert_eq!(ttls.of(ReadFamily::Logs), 20 * MINUTE);
        assert_eq!(ttls.of(ReadFamily::Credential), HOUR);
        for family in ReadFamily::ALL {
            assert_eq!(ttls.of(family), policies.of(family).ttl + policies.of(family).swr, "{family:?}");
        }
        assert_eq!(ttls.longest(), 25 * HOUR, "a catalogue read's: the epoch every entry records lives as long");
    }
}
