//! Fixed-point amounts in hundredths.
//!
//! Macro numbers are rounded to two decimals when they enter and every later
//! sum or product is computed exactly on integers, so totals never drift the
//! way binary floats do (52.13 × 1.5 is 78.195 here, not 78.19499…). An `i64`
//! of hundredths covers every bound of the contract with room to spare, so no
//! decimal crate is needed.

use std::fmt;
use std::ops::{Add, Neg, Sub};

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number with exactly two decimals, stored as hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

impl Amount {
    /// Nothing: where sums start.
    pub const ZERO: Amount = Amount(0);
    /// One (a quick add's servings).
    pub const ONE: Amount = Amount(100);

    /// From hundredths, as the database stores them.
    pub const fn from_hundredths(hundredths: i64) -> Self {
        Amount(hundredths)
    }

    /// In hundredths, as the database stores them.
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// Rounds a number as the client wrote it to two decimals, half away from
    /// zero. Rounding works on the shortest decimal form of the float (what the
    /// JSON said), so 1.005 becomes 1.01 although the float is 1.00499…
    /// Returns `None` for NaN, infinities and magnitudes beyond ±10^15.
    pub fn round_from(value: f64) -> Option<Self> {
        if !value.is_finite() || value.abs() >= 1e15 {
            return None;
        }
        // Display of f64 is the shortest representation that round-trips and
        // never uses an exponent.
        let text = format!("{}", value.abs());
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let whole: i64 = whole.parse().ok()?;
        let mut digits = fraction.bytes().map(|b| i64::from(b - b'0'));
        let tenths = digits.next().unwrap_or(0);
        let hundredths = digits.next().unwrap_or(0);
        let round_up = digits.next().unwrap_or(0) >= 5;
        let magnitude = whole * 100 + tenths * 10 + hundredths + i64::from(round_up);
        Some(Amount(if value < 0.0 { -magnitude } else { magnitude }))
    }

    /// As a number for JSON; exact, since it has two decimals at most.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// round2(self × factor): the exact product in ten-thousandths, rounded
    /// half away from zero back to hundredths.
    pub fn times(self, factor: Amount) -> Amount {
        Amount(div_round(i128::from(self.0) * i128::from(factor.0), 100))
    }

    /// round2(self ÷ count), half away from zero (a mean of amounts).
    pub fn divided_by(self, count: i64) -> Amount {
        Amount(div_round(i128::from(self.0), i128::from(count.max(1))))
    }

    /// round2(ten_thousandths ÷ divisor), for sums of products divided by a
    /// count of servings (a recipe's per-serving macros).
    pub fn ratio(ten_thousandths: i128, divisor: Amount) -> Amount {
        Amount(div_round(ten_thousandths, i128::from(divisor.0)))
    }
}

/// Integer division rounding half away from zero.
fn div_round(numerator: i128, denominator: i128) -> i64 {
    debug_assert!(denominator != 0);
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    let rounded = if 2 * remainder.abs() >= denominator.abs() {
        quotient + numerator.signum() * denominator.signum()
    } else {
        quotient
    };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

impl Add for Amount {
    type Output = Amount;
    fn add(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }
}

impl Sub for Amount {
    type Output = Amount;
    fn sub(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }
}

impl Neg for Amount {
    type Output = Amount;
    fn neg(self) -> Amount {
        Amount(-self.0)
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, Add::add)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", magnitude / 100, magnitude % 100)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.to_f64())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        Amount::round_from(value).ok_or_else(|| serde::de::Error::custom("number out of range"))
    }
}

impl JsonSchema for Amount {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Amount".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "description": "A number with at most two decimals."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_as_written_half_away_from_zero() {
        let cases = [
            (1.005, 101),
            (1.004, 100),
            (0.125, 13),
            (-0.125, -13),
            (-1.005, -101),
            (2.675, 268),
            (100.0, 10000),
            (0.0, 0),
            (0.001, 0),
            (0.005, 1),
            (9999.995, 1_000_000),
            (123456.789, 12_345_679),
        ];
        for (input, hundredths) in cases {
            assert_eq!(Amount::round_from(input), Some(Amount(hundredths)), "{input}");
        }
    }

    #[test]
    fn rejects_non_finite_and_huge() {
        for input in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e16] {
            assert_eq!(Amount::round_from(input), None, "{input}");
        }
    }

    #[test]
    fn products_round_exactly() {
        let cases = [
            // (per serving, servings, expected) in hundredths
            (5213, 150, 7820), // 52.13 × 1.5 = 78.195 → 78.20
            (333, 33, 110),    // 3.33 × 0.33 = 1.0989 → 1.10
            (100, 1, 1),       // 1 × 0.01
            (-5213, 150, -7820),
            (0, 9999, 0),
        ];
        for (value, factor, expected) in cases {
            assert_eq!(Amount(value).times(Amount(factor)), Amount(expected));
        }
    }

    #[test]
    fn ratio_rounds_half_away_from_zero() {
        assert_eq!(Amount::ratio(1_000_000, Amount(300)), Amount(3333));
        assert_eq!(Amount::ratio(50, Amount(100)), Amount(1)); // 0.005 → 0.01
        assert_eq!(Amount::ratio(-50, Amount(100)), Amount(-1));
    }

    #[test]
    fn displays_and_serializes_two_decimals() {
        assert_eq!(Amount(-5).to_string(), "-0.05");
        assert_eq!(Amount(12345).to_string(), "123.45");
        assert_eq!(serde_json::to_string(&Amount(7820)).unwrap(), "78.2");
        let parsed: Amount = serde_json::from_str("1.005").unwrap();
        assert_eq!(parsed, Amount(101));
    }
}
