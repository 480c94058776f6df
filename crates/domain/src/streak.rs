use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Day;

/// Completed-day streaks as of `today`.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Streak {
    /// Consecutive completed days ending at `today` or the day before it.
    pub current: u32,
    /// The longest run of consecutive completed days up to `today`.
    pub longest: u32,
    pub last_completed: Option<Day>,
}

impl Streak {
    /// Computes streaks from completed days in any order; days after `today`
    /// do not count.
    pub fn compute(completed: impl IntoIterator<Item = Day>, today: Day) -> Streak {
        let mut days: Vec<Day> = completed.into_iter().filter(|day| *day <= today).collect();
        days.sort_unstable();
        days.dedup();
        let mut longest = 0;
        let mut run = 0;
        let mut previous: Option<Day> = None;
        for day in &days {
            run = match previous {
                Some(prev) if prev.days_until(*day) == 1 => run + 1,
                _ => 1,
            };
            longest = longest.max(run);
            previous = Some(*day);
        }
        let last_completed = days.last().copied();
        let current = match last_completed {
            Some(last) if last.days_until(today) <= 1 => run,
            _ => 0,
        };
        Streak { current, longest, last_completed }
    }

    /// The same streaks from the user's runs of consecutive completed days
    /// (what a store keeps so it need not read their whole history):
    /// `latest`, the first and last day of the run starting last on or
    /// before `today`, and `longest_ended`, the length of the longest run
    /// ending on or before `today` (0 when none).
    pub fn from_runs(latest: Option<(Day, Day)>, longest_ended: u32, today: Day) -> Streak {
        let Some((first, last)) = latest else {
            return Streak { current: 0, longest: longest_ended, last_completed: None };
        };
        // Days after today do not count: the latest run is cut there.
        let last_completed = last.min(today);
        let run = u32::try_from(first.days_until(last_completed) + 1).unwrap_or(0);
        let current = if last_completed.days_until(today) <= 1 { run } else { 0 };
        Streak { current, longest: longest_ended.max(run), last_completed: Some(last_completed) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(list: &[&str]) -> Vec<Day> {
        list.iter().map(|d| d.parse().unwrap()).collect()
    }

    /// The runs of `completed` (sorted, no duplicates): first and last day.
    fn runs(completed: &[Day]) -> Vec<(Day, Day)> {
        let mut runs: Vec<(Day, Day)> = Vec::new();
        for day in completed {
            match runs.last_mut() {
                Some((_, last)) if last.days_until(*day) == 1 => *last = *day,
                _ => runs.push((*day, *day)),
            }
        }
        runs
    }

    /// Every set of completed days over two weeks, every today around
    /// them: the runs give what the days give.
    #[test]
    fn streaks_from_runs_are_streaks_from_days() {
        let start: Day = "2026-11-20".parse().unwrap();
        let day = |n: i64| start.plus_days(n).unwrap();
        for set in 0u32..(1 << 14) {
            let completed: Vec<Day> = (0..14).filter(|n| set & (1 << n) != 0).map(|n| day(i64::from(n))).collect();
            let runs = runs(&completed);
            for today in (-1..16).map(day) {
                let latest = runs.iter().copied().rev().find(|(first, _)| *first <= today);
                let longest_ended = runs
                    .iter()
                    .filter(|(_, last)| *last <= today)
                    .map(|(first, last)| u32::try_from(first.days_until(*last) + 1).unwrap())
                    .max()
                    .unwrap_or(0);
                let expected = Streak::compute(completed.iter().copied(), today);
                assert_eq!(Streak::from_runs(latest, longest_ended, today), expected, "{completed:?} today {today:?}");
            }
        }
    }

    #[test]
    fn streak_rules() {
        // (completed days, today, current, longest, last)
        type Case<'a> = (&'a [&'a str], &'a str, u32, u32, Option<&'a str>);
        let cases: [Case; 9] = [
            (&[], "2026-11-24", 0, 0, None),
            (&["2026-11-24"], "2026-11-24", 1, 1, Some("2026-11-24")),
            (&["2026-11-23"], "2026-11-24", 1, 1, Some("2026-11-23")),
            (&["2026-11-22"], "2026-11-24", 0, 1, Some("2026-11-22")),
            // a gap breaks the run; the longest survives
            (
                &["2026-11-10", "2026-11-11", "2026-11-12", "2026-11-20", "2026-11-21"],
                "2026-11-21",
                2,
                3,
                Some("2026-11-21"),
            ),
            // month and year ends
            (&["2026-12-30", "2026-12-31", "2027-01-01"], "2027-01-02", 3, 3, Some("2027-01-01")),
            (&["2024-02-28", "2024-02-29", "2024-03-01"], "2024-03-01", 3, 3, Some("2024-03-01")),
            // days after today do not count
            (&["2026-11-24", "2026-11-25", "2026-11-26"], "2026-11-24", 1, 1, Some("2026-11-24")),
            // unordered input with duplicates
            (&["2026-11-24", "2026-11-23", "2026-11-24"], "2026-11-24", 2, 2, Some("2026-11-24")),
        ];
        for (completed, today, current, longest, last) in cases {
            let streak = Streak::compute(days(completed), today.parse().unwrap());
            let expected = Streak { current, longest, last_completed: last.map(|d| d.parse().unwrap()) };
            assert_eq!(streak, expected, "{completed:?} today {today}");
        }
    }
}
