//! Calendar days within the range the contract accepts.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar day (the user's local day) in 1900-01-01..=2200-12-31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(NaiveDate);

/// Why a text is not a usable day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DayError {
    /// Not a real `YYYY-MM-DD` calendar date (400 in a query, 422 in a body).
    #[error("must be a calendar date YYYY-MM-DD")]
    Malformed,
    /// A real date outside the supported range (always 422).
    #[error("must be between 1900-01-01 and 2200-12-31")]
    OutOfRange,
}

impl Day {
    /// The first date the contract accepts.
    pub const MIN: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    /// The last date the contract accepts.
    pub const MAX: NaiveDate = NaiveDate::from_ymd_opt(2200, 12, 31).unwrap();

    /// A day, or why the date is out of the contract's range.
    pub fn new(date: NaiveDate) -> Result<Self, DayError> {
        if (Self::MIN..=Self::MAX).contains(&date) { Ok(Day(date)) } else { Err(DayError::OutOfRange) }
    }

    /// The calendar date, for date arithmetic and storage.
    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// The day `days` later, if it is still in range.
    pub fn plus_days(self, days: i64) -> Option<Day> {
        let date = self.0.checked_add_signed(chrono::Duration::try_days(days)?)?;
        Day::new(date).ok()
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Day) -> i64 {
        (later.0 - self.0).num_days()
    }

    /// The first and the last day of this day's calendar month (every
    /// month of the range lies wholly inside it).
    pub fn month(self) -> (Day, Day) {
        let first = self.0.with_day(1).unwrap_or(self.0);
        let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(Self::MAX);
        let last = next.pred_opt().filter(|last| *last <= Self::MAX).unwrap_or(Self::MAX);
        (Day(first), Day(last))
    }

    /// The Monday and the Sunday of this day's ISO week, clamped to the
    /// range (1900-01-01 is a Monday; the range ends on a Friday).
    pub fn iso_week(self) -> (Day, Day) {
        let monday = self.0 - chrono::Duration::days(i64::from(self.0.weekday().num_days_from_monday()));
        let sunday = (monday + chrono::Duration::days(6)).min(Self::MAX);
        (Day(monday.max(Self::MIN)), Day(sunday))
    }

    /// The ISO weeks that `self..=last` touches, in order, each as its
    /// Monday and Sunday.
    pub fn weeks_until(self, last: Day) -> Vec<(Day, Day)> {
        let mut weeks = Vec::new();
        let mut day = self;
        while day <= last {
            let week = day.iso_week();
            weeks.push(week);
            let Some(next) = week.1.plus_days(1) else { break };
            day = next;
        }
        weeks
    }

    /// The calendar months that `self..=last` touches, in order, each as
    /// its first and last day.
    pub fn months_until(self, last: Day) -> Vec<(Day, Day)> {
        let mut months = Vec::new();
        let mut day = self;
        while day <= last {
            let month = day.month();
            months.push(month);
            let Some(next) = month.1.plus_days(1) else { break };
            day = next;
        }
        months
    }
}

impl FromStr for Day {
    type Err = DayError;

    /// Only the strict `YYYY-MM-DD` form: ten characters, zero-padded.
    fn from_str(text: &str) -> Result<Self, DayError> {
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes.iter().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape_ok {
            return Err(DayError::Malformed);
        }
        // Digits only, checked above: parsed by hand, as chrono's format
        // parser showed up in profiles of the hot read.
        let number = |range: std::ops::Range<usize>| {
            bytes[range].iter().fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'))
        };
        let year = i32::try_from(number(0..4)).map_err(|_| DayError::Malformed)?;
        let date = NaiveDate::from_ymd_opt(year, number(5..7), number(8..10)).ok_or(DayError::Malformed)?;
        Day::new(date)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

impl Day {
    /// `YYYY-MM-DD`. Every cache key holds a date: its digits are written
    /// by hand, not by chrono's format-string path nor the padded integer
    /// formatter (both showed in profiles of the hot read).
    pub fn iso(self) -> IsoText {
        let (year, month, day) = (self.0.year(), self.0.month(), self.0.day());
        // The range (1900 to 2200) has four-digit years.
        let year = u32::try_from(year).unwrap_or(0);
        let digit = |n: u32| b'0' + u8::try_from(n % 10).unwrap_or(0);
        IsoText([
            digit(year / 1000),
            digit(year / 100),
            digit(year / 10),
            digit(year),
            b'-',
            digit(month / 10),
            digit(month),
            b'-',
            digit(day / 10),
            digit(day),
        ])
    }
}

/// A day as `YYYY-MM-DD`, without an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoText([u8; 10]);

impl std::ops::Deref for IsoText {
    type Target = str;

    fn deref(&self) -> &str {
        // Only ASCII digits and dashes are ever written.
        std::str::from_utf8(&self.0).unwrap_or("0000-00-00")
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Day {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Day".into()
    }
    /// A date, in the supported years (the pattern keeps generated
    /// examples in range; a date of 1900-01-01..=2200-12-31 is accepted).
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date",
            "pattern": "^(19[0-9]{2}|2[01][0-9]{2}|2200)-[0-9]{2}-[0-9]{2}$",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Day;

    fn day(text: &str) -> Day {
        text.parse().unwrap()
    }

    #[test]
    fn every_day_of_the_range_displays_as_iso_8601() {
        let mut date = Day::MIN;
        while date <= Day::MAX {
            assert_eq!(Day(date).to_string(), date.format("%Y-%m-%d").to_string());
            date = date.succ_opt().unwrap();
        }
    }

    #[test]
    fn iso_weeks_run_monday_to_sunday_within_the_range() {
        assert_eq!(day("2026-11-26").iso_week(), (day("2026-11-23"), day("2026-11-29")));
        assert_eq!(day("2026-11-23").iso_week(), day("2026-11-29").iso_week());
        assert_eq!(day("1900-01-01").iso_week(), (day("1900-01-01"), day("1900-01-07")));
        assert_eq!(day("2200-12-31").iso_week().1, day("2200-12-31"));
        let mondays: Vec<String> =
            day("2026-11-26").weeks_until(day("2026-12-02")).iter().map(|(monday, _)| monday.to_string()).collect();
        assert_eq!(mondays, ["2026-11-23", "2026-11-30"]);
        assert_eq!(day("2026-11-30").weeks_until(day("2026-12-06")).len(), 1);
    }

    #[test]
    fn months_are_whole_calendar_months() {
        assert_eq!(day("2024-02-15").month(), (day("2024-02-01"), day("2024-02-29")), "a leap February");
        assert_eq!(day("2026-12-31").month(), (day("2026-12-01"), day("2026-12-31")));
        assert_eq!(day("2200-12-25").month(), (day("2200-12-01"), day("2200-12-31")), "the last month");
        let months = day("2026-10-30").months_until(day("2027-01-02"));
        let firsts: Vec<String> = months.iter().map(|(first, _)| first.to_string()).collect();
        assert_eq!(firsts, ["2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"]);
        assert_eq!(day("2200-12-30").months_until(day("2200-12-31")).len(), 1);
        assert!(day("2026-10-02").months_until(day("2026-10-01")).is_empty());
    }

    use super::*;

    #[test]
    fn parses_only_real_dates_in_range() {
        let cases = [
            ("2026-11-24", Ok(())),
            ("1900-01-01", Ok(())),
            ("2200-12-31", Ok(())),
            ("2024-02-29", Ok(())),
            ("2026-02-29", Err(DayError::Malformed)),
            ("2026-02-30", Err(DayError::Malformed)),
            ("notadate", Err(DayError::Malformed)),
            ("2026-1-01", Err(DayError::Malformed)),
            ("+2026-01-01", Err(DayError::Malformed)),
            ("2026-01-01 ", Err(DayError::Malformed)),
            ("1899-12-31", Err(DayError::OutOfRange)),
            ("2201-01-01", Err(DayError::OutOfRange)),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Day>().map(|_| ()), expected, "{text}");
        }
    }

    #[test]
    fn arithmetic_crosses_month_and_year_ends() {
        let day: Day = "2026-12-31".parse().unwrap();
        assert_eq!(day.plus_days(1).unwrap().to_string(), "2027-01-01");
        assert_eq!(day.plus_days(-365).unwrap().to_string(), "2025-12-31");
        assert_eq!("2200-12-31".parse::<Day>().unwrap().plus_days(1), None);
        let leap: Day = "2024-02-28".parse().unwrap();
        assert_eq!(leap.days_until("2024-03-01".parse().unwrap()), 2);
    }
}
