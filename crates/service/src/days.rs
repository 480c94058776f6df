//! Completing days, streaks, summaries and the day dashboard.

use macrotrack_cache::{Freshness, Read};
use macrotrack_domain::{Completion, Day, DayDashboard, MAX_SUMMARY_DAYS, Streak, Summary, UserId, ValidationErrors};
use macrotrack_ports::{CacheStore, Unavailable};

use crate::catalog::{
    COMPLETE_DAY, UNDO_DAY, dashboard_addresses, me_address, streak_address, streak_addresses, summary_month_address,
};
use crate::vocabulary::Addressed;
use crate::{GetError, ReadError, Repositories, Service, errors, no_check};

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
        self.streak_knowing(user, today, None).await
    }

    /// `streak`, by a caller that read the user's zone already and knows
    /// their today (`users_today`): the window is decided with it rather
    /// than by reading the zone again.
    async fn streak_knowing(&self, user: UserId, today: Day, users_today: Option<Day>) -> Result<Streak, Unavailable> {
        let address = streak_address(user, today);
        let kept = match users_today {
            Some(users_today) => address.cached_on(users_today),
            None => self.in_window(&address).await,
        };
        let completions = self.repos.completions.clone();
        let fetch = move || {
            let completions = completions.clone();
            async move { completions.streak(user, today).await }
        };
        let freshness = if kept { Freshness::Cached } else { Freshness::Bypass };
        let read = Read::new(&address.entry, self.policies.streak, no_check, fetch).freshness(freshness);
        self.cache.value(read).await.map_err(errors::from_cache)
    }

    /// Streaks as of `today`, or (`None`) as of the user's today in their
    /// time zone: their zone and every zone's streak entry are read ahead
    /// in one store round trip.
    pub async fn streak_on(&self, user: UserId, today: Option<Day>) -> Result<Streak, Unavailable> {
        if let Some(today) = today {
            return self.streak(user, today).await;
        }
        let mut addresses = vec![me_address(user)];
        addresses.extend(streak_addresses(user, None, self.today()));
        let read_ahead = self.ahead_of(&addresses);
        let streak = async {
            let users_today = self.today_of(user).await;
            self.streak_knowing(user, users_today, Some(users_today)).await
        };
        self.cache.prefetch(&read_ahead, streak).await
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

    /// The day screen with the streak as of `today`.
    pub async fn dashboard(&self, user: UserId, date: Day, today: Day) -> Result<DayDashboard, GetError> {
        self.dashboard_on(user, date, Some(today)).await
    }

    /// The day screen, composed of the cached reads, its streak as of
    /// `today` or (`None`) the user's today in their time zone (from `me`,
    /// which the screen reads anyway). Its entries are read ahead in one
    /// store round trip.
    pub async fn dashboard_on(&self, user: UserId, date: Day, today: Option<Day>) -> Result<DayDashboard, GetError> {
        let addresses = dashboard_addresses(user, date, today, self.today());
        let read_ahead = self.ahead_of(&addresses);
        let compose = async {
            let logs = self.day_logs(user, date).await?;
            let me = self.me(user).await?;
            let schedule = self.schedule_day(user, date).await?;
            let users_today = me.timezone.today(self.clock.now());
            let streak = self.streak_knowing(user, today.unwrap_or(users_today), Some(users_today)).await?;
            let remaining = me.targets.map(|targets| targets.minus(logs.totals));
            Ok(DayDashboard { date, logs, targets: me.targets, remaining, schedule, streak })
        };
        self.cache.prefetch(&read_ahead, compose).await
    }
}
