//! Completing days, streaks, summaries and the day dashboard.

use macrotrack_cache::Freshness;
use macrotrack_domain::{Completion, Day, DayDashboard, MAX_SUMMARY_DAYS, Streak, Summary, UserId, ValidationErrors};
use macrotrack_ports::{CacheStore, Unavailable};

use crate::catalog::{COMPLETE_DAY, UNDO_DAY, dashboard_addresses, streak_address, summary_month_address};
use crate::vocabulary::Addressed;
use crate::{GetError, ReadError, Repositories, Service, no_check};

impl<S: CacheStore> Service<S> {
    /// Marks a day completed (idempotent).
    pub async fn complete_day(&self, user: UserId, date: Day) -> Result<Completion, Unavailable> {
        let committed = self.repos.completions.complete_day(user, date).await?;
        let report = self.forget(&COMPLETE_DAY, user, &date, Some(committed.outbox)).await;
        self.warm(user, [date], report);
        Ok(Completion { date, completed: true })
    }

    /// Undoes a day's completion (idempotent).
    pub async fn undo_day(&self, user: UserId, date: Day) -> Result<Completion, Unavailable> {
        let committed = self.repos.completions.undo_day(user, date).await?;
        let report = self.forget(&UNDO_DAY, user, &date, Some(committed.outbox)).await;
        self.warm(user, [date], report);
        Ok(Completion { date, completed: false })
    }

    /// Streaks as of `today` (tier 2, `STREAK`). Cached only for a `today`
    /// within a day of the user's (the streak's window); other days are read
    /// from the database.
    pub async fn streak(&self, user: UserId, today: Day) -> Result<Streak, Unavailable> {
        let address = streak_address(user, today);
        self.cached(address, self.policies.streak, Freshness::Cached, no_check, move |repos| async move {
            repos.completions.streak(user, today).await
        })
        .await
    }

    /// Daily totals of `from..=to`, at most 92 days (tier 2, `SUMMARY`),
    /// composed of the calendar months the range touches:
    /// each month is one cached entry, read together in one round trip, so
    /// the entries a user can make grow with months, not with ranges.
    pub async fn summary(&self, user: UserId, from: Day, to: Day) -> Result<Summary, ReadError> {
        let mut errors = ValidationErrors::new();
        if from > to {
            errors.add("from", "must not be after to");
        } else if from.days_until(to) >= MAX_SUMMARY_DAYS {
            errors.add("to", format!("the range must cover at most {MAX_SUMMARY_DAYS} days"));
        }
        if !errors.is_empty() {
            return Err(ReadError::Invalid(errors));
        }
        let months = from.months_until(to);
        let addresses: Vec<Addressed> = months.iter().map(|(first, _)| summary_month_address(user, *first)).collect();
        let read_ahead = self.ahead_of(&addresses);
        let compose = async {
            let mut days = Vec::new();
            for (&(first, last), address) in months.iter().zip(&addresses) {
                let fetch = move |repos: Repositories| async move {
                    Ok(Summary { from: first, to: last, days: repos.logs.summary(user, first, last).await? })
                };
                let month =
                    self.cached(address.clone(), self.policies.summary, Freshness::Cached, Summary::check, fetch);
                days.extend(month.await?.days.into_iter().filter(|day| (from..=to).contains(&day.date)));
            }
            Ok(Summary { from, to, days })
        };
        self.cache.prefetch(&read_ahead, compose).await
    }

    /// The day screen, composed of the cached reads.
    /// Its four entries are read ahead in one store round trip.
    pub async fn dashboard(&self, user: UserId, date: Day, today: Day) -> Result<DayDashboard, GetError> {
        let addresses = dashboard_addresses(user, date, today);
        let read_ahead = self.ahead_of(&addresses);
        let compose = async {
            let logs = self.day_logs(user, date).await?;
            let me = self.me(user).await?;
            let schedule = self.schedule_day(user, date).await?;
            let streak = self.streak(user, today).await?;
            let remaining = me.targets.map(|targets| targets.minus(logs.totals));
            Ok(DayDashboard { date, logs, targets: me.targets, remaining, schedule, streak })
        };
        self.cache.prefetch(&read_ahead, compose).await
    }
}
