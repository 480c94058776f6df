//! A user's time zone: a name of the IANA time zone database, which says
//! what their today is.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Day;

/// A zone of the IANA time zone database (links such as `US/Pacific`
/// included), known by its name exactly as the database spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(Tz);

/// Why a text names no time zone.
pub const NOT_A_TIME_ZONE: &str = "must be a time zone name of the IANA database, as it spells it (e.g. Europe/Berlin)";

impl TimeZone {
    /// Coordinated Universal Time, every user's zone until they set one.
    pub const UTC: TimeZone = TimeZone(Tz::UTC);

    /// The zone `name` names, spelled exactly as the database does (case
    /// included: `europe/berlin` names none).
    pub fn parse(name: &str) -> Result<TimeZone, &'static str> {
        name.parse::<Tz>().map(TimeZone).map_err(|_| NOT_A_TIME_ZONE)
    }

    /// Its name in the database.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The local date in this zone at `now`, clamped into the contract's
    /// range of days.
    pub fn today(self, now: DateTime<Utc>) -> Day {
        let local = now.with_timezone(&self.0).date_naive();
        Day::new(local.clamp(Day::MIN, Day::MAX)).unwrap_or_else(|_| unreachable!("clamped into the range"))
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone::UTC
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        TimeZone::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for TimeZone {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimeZone".into()
    }

    /// Every name the database has, so a client can offer them and a body
    /// generated from the document is one the server accepts.
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|zone| zone.name()).collect();
        schemars::json_schema!({"type": "string", "enum": names})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn names_are_the_databases_spelling() {
        for name in ["Europe/Berlin", "Etc/GMT+12", "UTC", "America/Argentina/Buenos_Aires", "US/Pacific"] {
            assert_eq!(TimeZone::parse(name).unwrap().name(), name);
        }
        for name in ["europe/berlin", "Mars/Olympus", "", " UTC", "UTC ", "GMT+1", "+02:00"] {
            assert_eq!(TimeZone::parse(name), Err(NOT_A_TIME_ZONE), "{name:?}");
        }
        assert_eq!(TimeZone::default(), TimeZone::UTC);
    }

    #[test]
    fn today_is_the_local_date() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 11, 30, 0).unwrap();
        let today = |name| TimeZone::parse(name).unwrap().today(now).to_string();
        assert_eq!(today("UTC"), "2026-12-06");
        assert_eq!(today("Pacific/Auckland"), "2026-12-07", "UTC+13 in its summer");
        assert_eq!(today("Etc/GMT+12"), "2026-12-05", "UTC-12");
        let json = serde_json::to_string(&TimeZone::parse("Asia/Kolkata").unwrap()).unwrap();
        assert_eq!(json, "\"Asia/Kolkata\"");
        assert!(serde_json::from_str::<TimeZone>("\"Nowhere/Land\"").is_err());
    }
}
