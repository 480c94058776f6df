//! A week at a glance (tier 2): seven days' totals and completions against
//! the targets, composed of the one or two ISO weeks it touches.

use macrotrack_cache::Freshness;
use macrotrack_domain::{Day, SummaryDay, UserId, ValidationErrors, Week, WeekBlock, WeekDay};
use macrotrack_ports::CacheStore;

use crate::catalog::week_address;
use crate::vocabulary::Addressed;
use crate::{ReadError, Repositories, Service};

impl<S: CacheStore> Service<S> {
    /// Seven days from `start` (at most 2200-12-25): each day's totals,
    /// entries and completion, the average over the days with entries, and
    /// the days on target. The ISO weeks it touches are read in one round
    /// trip, so the entries a user can make grow with weeks, not starts.
    pub async fn week(&self, user: UserId, start: Day) -> Result<Week, ReadError> {
        let (start, end) = Week::start(start).map_err(|_| {
            ReadError::Invalid(ValidationErrors::single("start", "must be at most 2200-12-25 (the week ends in range)"))
        })?;
        let weeks = start.weeks_until(end);
        let addresses: Vec<Addressed> =
            weeks.iter().map(|(monday, sunday)| week_address(user, *monday, *sunday)).collect();
        let read_ahead = self.ahead_of(&addresses);
        let compose = async {
            let mut blocks = Vec::with_capacity(weeks.len());
            for (&(monday, sunday), address) in weeks.iter().zip(&addresses) {
                let fetch = move |repos: Repositories| async move {
                    let days = repos.logs.summary(user, monday, sunday).await?;
                    let completed = repos.completions.completed_between(user, monday, sunday).await?;
                    let targets = repos.users.user(user).await?.and_then(|found| found.targets);
                    Ok(WeekBlock::new(monday, &week_days(&days, &completed), targets))
                };
                let block =
                    self.cached(address.clone(), self.policies.week, Freshness::Cached, WeekBlock::check, fetch);
                blocks.push(block.await?);
            }
            Ok(Week::compose(start, &blocks))
        };
        self.cache.prefetch(&read_ahead, compose).await
    }
}

/// The days that have entries or a completion.
fn week_days(summary: &[SummaryDay], completed: &[Day]) -> Vec<WeekDay> {
    let mut days: Vec<WeekDay> = summary
        .iter()
        .map(|day| WeekDay {
            date: day.date,
            totals: day.totals,
            entries: day.entries,
            completed: completed.contains(&day.date),
        })
        .collect();
    let only_completed: Vec<WeekDay> = completed
        .iter()
        .filter(|date| !summary.iter().any(|day| day.date == **date))
        .map(|date| WeekDay { completed: true, ..WeekDay::empty(*date) })
        .collect();
    days.extend(only_completed);
    days
}
