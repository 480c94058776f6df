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
