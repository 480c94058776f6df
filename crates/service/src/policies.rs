//! Cache policies of every read, in one place; overridable by configuration.

use std::time::Duration;

use macrotrack_cache::Policy;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// ttl and swr of each cached read (the cache contract's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    /// A user's stored credential, read on every request.
    pub credential: Policy,
    pub day_logs: Policy,
    pub me: Policy,
    pub frequent_foods: Policy,
    pub summary: Policy,
    pub week: Policy,
    pub streak: Policy,
    pub schedule: Policy,
}

impl Policies {
    /// The longest any entry lives (ttl + swr): what a guard needs to live,
    /// at most, after it was last bumped or created.
    pub fn longest_lifetime(&self) -> Duration {
        [
            self.credential,
            self.day_logs,
            self.me,
            self.frequent_foods,
            self.summary,
            self.week,
            self.streak,
            self.schedule,
        ]
        .iter()
        .map(|policy| policy.ttl + policy.swr)
        .max()
        .unwrap_or_default()
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
        }
    }
}
