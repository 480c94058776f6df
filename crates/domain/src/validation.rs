//! Field-level validation errors and the bounds of the API contract.
//!
//! Every rule names the field it applies to with a dotted path
//! (`entries.3.servings`), so a client can point at each offending input.

use std::fmt;

use serde::Serialize;

use crate::Amount;

/// One broken rule on one input field, named by its dotted path
/// (`entries.3.servings`).
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// All the rules an input breaks; never empty when returned as an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl ValidationErrors {
    /// No error yet: parsers collect into it.
    pub fn new() -> Self {
        Self::default()
    }

    /// One error, for a rule checked on its own.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Records an error and goes on, so a client learns every mistake at once.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), message: message.into() });
    }

    /// Records the error of `result`, if any, and hands back its value.
    pub fn check<T>(&mut self, field: impl Into<String>, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// Adds another parser's errors (a nested object's).
    pub fn extend(&mut self, other: ValidationErrors) {
        self.0.extend(other.0);
    }

    /// Whether the input was valid.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors in the order found, for the 422 answer.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.is_empty() { Ok(value()) } else { Err(self) }
    }
}

/// An inclusive range a number must fall in, checked before rounding.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// The lower end.
    pub min: f64,
    /// The upper end, included.
    pub max: f64,
    /// The minimum itself is excluded (servings are in (0, 100]).
    pub min_exclusive: bool,
}

impl Bound {
    /// `min <= value <= max`.
    pub const fn closed(min: f64, max: f64) -> Self {
        Bound { min, max, min_exclusive: false }
    }

    /// `min < value <= max`.
    pub const fn open_closed(min: f64, max: f64) -> Self {
        Bound { min, max, min_exclusive: true }
    }

    /// Checks `value` as given and rounds it to two decimals.
    pub fn amount(&self, value: f64) -> Result<Amount, String> {
        let above_min = if self.min_exclusive { value > self.min } else { value >= self.min };
        if !value.is_finite() || !above_min || value > self.max {
            let open = if self.min_exclusive { "(" } else { "[" };
            return Err(format!("must be in {open}{}, {}]", self.min, self.max));
        }
        let rounded = Amount::round_from(value).ok_or_else(|| "must be a finite number".to_owned())?;
        // An open minimum must hold for the stored (rounded) value too: 0.001
        // servings would be stored as 0.00 and divide by zero downstream.
        if self.min_exclusive && rounded.to_f64() <= self.min {
            return Err(format!("must be more than {} once rounded to two decimals", self.min));
        }
        Ok(rounded)
    }
}

/// Servings of an entry: more than none, at most 100.
pub const SERVINGS: Bound = Bound::open_closed(0.0, 100.0);
/// Grams of a food logged by weight: more than none, at most 5 kg.
pub const LOGGED_GRAMS: Bound = Bound::open_closed(0.0, 5000.0);
/// How many of a portion an entry logs.
pub const QUANTITY: Bound = Bound::open_closed(0.0, 100.0);
/// Calories per serving.
pub const CALORIES: Bound = Bound::closed(0.0, 10000.0);
/// Grams of a macro per serving.
pub const GRAMS: Bound = Bound::closed(0.0, 1000.0);
/// A serving's size: more than none.
pub const SERVING_SIZE: Bound = Bound::open_closed(0.0, 10000.0);
/// Entries per batch: one request, one transaction, bounded.
pub const MAX_BATCH: usize = 100;
/// Entries one day may hold: a day's read (and its cached copy) stays small
/// whatever a client sends.
pub const MAX_DAY_ENTRIES: u32 = 200;
/// Foods one user may own: what a client can make the database and the
/// search hold is bounded per user.
pub const MAX_OWN_FOODS: u32 = 10_000;
/// Recipes one user may own, for the same reason.
pub const MAX_OWN_RECIPES: u32 = 1_000;
/// Meal plans one user may own, for the same reason.
pub const MAX_OWN_MEAL_PLANS: u32 = 200;

/// Trims `text` and checks its length in Unicode scalar values.
pub fn text(text: &str, min: usize, max: usize) -> Result<String, String> {
    // Trimmed first: a tab or newline at either end is whitespace, stored
    // trimmed as the contract says. Control characters that remain are
    // refused (PostgreSQL refuses NUL in text, and no name needs them).
    let trimmed = text.trim();
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    let length = trimmed.chars().count();
    if length < min || length > max {
        return Err(format!("must be {min} to {max} characters after trimming"));
    }
    Ok(trimmed.to_owned())
}

/// A name trimmed, or why it is not one (empty, or longer than 200 characters).
pub fn name(value: &str) -> Result<String, String> {
    text(value, 1, 200)
}

/// The largest `limit` a list may ask for.
pub const MAX_LIMIT: u32 = 100;
/// The largest `offset` a search may ask for.
pub const MAX_OFFSET: u32 = 10_000;

/// `limit` query parameter: 1..=100, default 20.
pub fn limit(value: Option<i64>) -> Result<u32, String> {
    match value {
        None => Ok(20),
        Some(n @ 1..=100) => Ok(n as u32),
        Some(_) => Err("must be in [1, 100]".to_owned()),
    }
}

/// `offset` query parameter of a search: 0..=10000, default 0.
pub fn offset(value: Option<i64>) -> Result<u32, String> {
    match value {
        None => Ok(0),
        Some(n @ 0..=10_000) => Ok(n as u32),
        Some(_) => Err("must be in [0, 10000]".to_owned()),
    }
}

/// A search's `query`, trimmed: at most 100 characters after trimming and
/// no control characters anywhere (a NUL reaches PostgreSQL as an error).
pub fn search_query(value: &str) -> Result<&str, String> {
    if value.chars().any(char::is_control) {
        return Err("must not hold control characters".to_owned());
    }
    let trimmed = value.trim();
    if trimmed.chars().count() > 100 {
        return Err("must be at most 100 characters".to_owned());
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_bounds() {
        assert_eq!(search_query("  oats  "), Ok("oats"));
        assert_eq!(search_query(&format!(" {} ", "é".repeat(100))), Ok("é".repeat(100).as_str()));
        assert!(search_query(&"a".repeat(101)).is_err());
        for control in ["oa\0ts", "oats\n", "\u{7f}", "a\tb"] {
            assert!(search_query(control).is_err(), "{control:?}");
        }
        assert_eq!((offset(None), offset(Some(0)), offset(Some(10_000))), (Ok(0), Ok(0), Ok(10_000)));
        assert!(offset(Some(10_001)).is_err() && offset(Some(-1)).is_err());
    }

    #[test]
    fn bounds_apply_before_rounding() {
        let cases: [(Bound, f64, Option<i64>); 11] = [
            (SERVINGS, 0.0, None),
            (SERVINGS, 0.001, None),
            (SERVINGS, 0.005, Some(1)),
            (SERVINGS, 100.0, Some(10000)),
            (SERVINGS, 100.004, None),
            (SERVINGS, -1.0, None),
            (CALORIES, 0.0, Some(0)),
            (CALORIES, 10000.0, Some(1_000_000)),
            (CALORIES, 10000.01, None),
            (GRAMS, 1000.0, Some(100_000)),
            (GRAMS, f64::NAN, None),
        ];
        for (bound, value, expected) in cases {
            let got = bound.amount(value).ok().map(Amount::hundredths);
            assert_eq!(got, expected, "{value} in {bound:?}");
        }
    }

    #[test]
    fn text_counts_scalar_values_after_trimming() {
        assert_eq!(name("  Oats  ").as_deref(), Ok("Oats"));
        assert!(name("   ").is_err());
        assert!(name("").is_err());
        assert!(name(&"é".repeat(200)).is_ok());
        assert!(name(&"é".repeat(201)).is_err());
        assert!(name(&"🍎".repeat(200)).is_ok());
        assert!(name("nul\u{0}byte").is_err());
        assert!(name("tab\tname").is_err());
        // Whitespace at the ends is trimmed before control characters are
        // looked for (it was refused as one).
        assert_eq!(name("  Alice\t ").as_deref(), Ok("Alice"));
        assert_eq!(name("\n Bob\r\n").as_deref(), Ok("Bob"));
        assert!(name("\tAl\u{7}ice\t").is_err());
    }

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(limit(None), Ok(20));
        assert_eq!(limit(Some(1)), Ok(1));
        assert_eq!(limit(Some(100)), Ok(100));
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(101)).is_err());
    }

    #[test]
    fn errors_collect_every_field() {
        let mut errors = ValidationErrors::new();
        assert_eq!(errors.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(errors.check::<i32>("b", Err("bad".into())), None);
        errors.add("c.0.d", "worse");
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["b", "c.0.d"]);
        assert!(errors.into_result(|| ()).is_err());
    }
}
