//! A week at a glance: seven days' totals and completions against targets.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Amount, Day, DayError, Macros};

/// One day of a week.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WeekDay {
    pub date: Day,
    pub totals: Macros,
    pub entries: u32,
    pub completed: bool,
}

impl WeekDay {
    /// A day of the week with nothing logged.
    pub fn empty(date: Day) -> WeekDay {
        WeekDay { date, totals: Macros::default(), entries: 0, completed: false }
    }
}

/// One ISO week of a user (Monday to Sunday, cut at the last supported
/// day) with their targets: what the cache holds. A week from any start is
/// composed of the one or two blocks it touches.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WeekBlock {
    pub monday: Day,
    /// Every day of the week in order, also those without entries.
    pub days: Vec<WeekDay>,
    pub targets: Option<Macros>,
}

impl WeekBlock {
    /// The block of the ISO week holding `monday`, from the days that have
    /// entries or a completion (any order; others are empty).
    pub fn new(monday: Day, known: &[WeekDay], targets: Option<Macros>) -> WeekBlock {
        let (monday, sunday) = monday.iso_week();
        let mut days = Vec::with_capacity(7);
        let mut day = Some(monday);
        while let Some(date) = day.filter(|date| *date <= sunday) {
            days.push(known.iter().find(|known| known.date == date).copied().unwrap_or(WeekDay::empty(date)));
            day = date.plus_days(1);
        }
        WeekBlock { monday, days, targets }
    }

    /// check-value: the days of one ISO week, in order.
    pub fn check(&self) -> Result<(), String> {
        let (monday, sunday) = self.monday.iso_week();
        let dates_ok = monday == self.monday
            && self.days.first().is_some_and(|day| day.date == monday)
            && self.days.last().is_some_and(|day| day.date == sunday)
            && self.days.windows(2).all(|pair| pair[0].date.plus_days(1) == Some(pair[1].date));
        if !dates_ok {
            return Err(format!("the days are not those of the ISO week of {}", self.monday));
        }
        if self.days.iter().any(|day| day.entries == 0 && day.totals != Macros::default()) {
            return Err("a day without entries has totals".into());
        }
        Ok(())
    }
}

/// `GET /v1/weeks/{start}`: seven days from `start`.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Week {
    pub start: Day,
    pub end: Day,
    /// All seven dates in order; zero totals on a day without entries.
    pub days: Vec<WeekDay>,
    /// round2 of the mean totals over the days with entries; null when none has.
    pub average: Option<Macros>,
    pub targets: Option<Macros>,
    /// Days with entries whose calories are within ±10% of the calorie
    /// target, edges included; 0 without targets.
    pub on_target_days: u32,
}

/// The last start whose week stays in the supported range.
pub fn last_week_start() -> Day {
    Day::new(Day::MAX).ok().and_then(|max| max.plus_days(-6)).unwrap_or_else(|| unreachable!("the range is years long"))
}

impl Week {
    /// The week from `start`, which must leave room for seven days.
    pub fn start(start: Day) -> Result<(Day, Day), DayError> {
        if start > last_week_start() {
            return Err(DayError::OutOfRange);
        }
        Ok((start, start.plus_days(6).ok_or(DayError::OutOfRange)?))
    }

    /// The week from `start` out of the blocks it touches (days outside it
    /// are left out; targets are the first block's).
    pub fn compose(start: Day, blocks: &[WeekBlock]) -> Week {
        let end = start.plus_days(6).unwrap_or(start);
        let days: Vec<WeekDay> = (0..7)
            .filter_map(|offset| start.plus_days(offset))
            .map(|date| {
                blocks
                    .iter()
                    .flat_map(|block| &block.days)
                    .find(|day| day.date == date)
                    .copied()
                    .unwrap_or(WeekDay::empty(date))
            })
            .collect();
        let targets = blocks.first().and_then(|block| block.targets);
        let eaten: Vec<&WeekDay> = days.iter().filter(|day| day.entries > 0).collect();
        let average = (!eaten.is_empty()).then(|| {
            let count = eaten.len() as i64;
            eaten.iter().map(|day| day.totals).sum::<Macros>().map(|sum| sum.divided_by(count))
        });
        let on_target_days = match targets {
            Some(targets) => {
                eaten.iter().filter(|day| within_ten_percent(day.totals.calories, targets.calories)).count()
            }
            None => 0,
        };
        Week { start, end, days, average, targets, on_target_days: on_target_days as u32 }
    }
}

/// |calories − target| ≤ 0.1 × target, exactly (in hundredths: × 10).
fn within_ten_percent(calories: Amount, target: Amount) -> bool {
    (calories.hundredths() - target.hundredths()).abs() * 10 <= target.hundredths()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        text.parse().unwrap()
    }

    fn kcal(value: i64) -> Macros {
        Macros { calories: Amount::from_hundredths(value * 100), ..Macros::default() }
    }

    fn eaten(date: &str, calories: i64, entries: u32) -> WeekDay {
        WeekDay { date: day(date), totals: kcal(calories), entries, completed: false }
    }

    #[test]
    fn a_week_across_two_blocks_has_seven_days_and_its_averages() {
        let target = Some(kcal(2000));
        let first = WeekBlock::new(day("2026-11-23"), &[eaten("2026-11-28", 1800, 2)], target);
        let second =
            WeekBlock::new(day("2026-11-30"), &[eaten("2026-11-30", 2201, 1), eaten("2026-12-05", 9, 1)], target);
        assert_eq!(first.days.len(), 7);
        first.check().unwrap();
        let week = Week::compose(day("2026-11-26"), &[first, second]);
        let dates: Vec<String> = week.days.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(dates.first().map(String::as_str), Some("2026-11-26"));
        assert_eq!((dates.len(), week.end), (7, day("2026-12-02")));
        assert_eq!(week.days.iter().filter(|d| d.entries > 0).count(), 2, "2026-12-05 is not in it");
        // (1800 + 2201) / 2 = 2000.5; 1800 is exactly -10%, 2201 just over +10%.
        assert_eq!(week.average.map(|m| m.calories), Some(Amount::from_hundredths(200050)));
        assert_eq!(week.on_target_days, 1);
    }

    #[test]
    fn no_entries_no_average_and_no_targets_no_days_on_target() {
        let block = WeekBlock::new(day("2026-11-23"), &[], None);
        let week = Week::compose(day("2026-11-23"), &[block]);
        assert_eq!((week.average, week.on_target_days), (None, 0));
        let block = WeekBlock::new(day("2026-11-23"), &[eaten("2026-11-24", 2000, 1)], None);
        assert_eq!(Week::compose(day("2026-11-23"), &[block]).on_target_days, 0);
    }

    #[test]
    fn the_last_start_leaves_seven_days() {
        assert_eq!(last_week_start(), day("2200-12-25"));
        assert_eq!(Week::start(day("2200-12-25")).unwrap().1, day("2200-12-31"));
        assert_eq!(Week::start(day("2200-12-26")), Err(DayError::OutOfRange));
        let last = WeekBlock::new(day("2200-12-31"), &[], None);
        last.check().unwrap();
        assert_eq!(last.days.last().map(|d| d.date), Some(day("2200-12-31")));
    }

    #[test]
    fn check_value_refuses_a_block_of_other_days() {
        let mut block = WeekBlock::new(day("2026-11-23"), &[], None);
        block.days.pop();
        assert!(block.check().is_err());
    }
}
