//! Calendar dates as days since 1970-01-01, for walking over thousands of
//! them (Howard Hinnant's civil-date algorithms).

use anyhow::Context;

/// Days since 1970-01-01 of `YYYY-MM-DD`.
pub(crate) fn parse(date: &str) -> anyhow::Result<i64> {
    let mut parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!("{date} is not YYYY-MM-DD");
    };
    (1..=12).contains(&month).then_some(()).context("no such month")?;
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Ok(era * 146_097 + day_of_era - 719_468)
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01.
pub(crate) fn format(days: i64) -> String {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_count_days() {
        assert_eq!(parse("1970-01-01").unwrap(), 0);
        assert_eq!(parse("2000-03-01").unwrap() - parse("2000-02-28").unwrap(), 2, "2000 is a leap year");
        assert_eq!(parse("2100-03-01").unwrap() - parse("2100-02-28").unwrap(), 1, "2100 is not");
        for date in ["1900-01-01", "2026-12-06", "2184-07-27", "2200-12-31", "2024-02-29"] {
            assert_eq!(format(parse(date).unwrap()), date);
        }
        assert_eq!(format(parse("2200-12-31").unwrap() + 1), "2201-01-01");
        assert!(parse("2026-13-01").is_err());
    }
}
