//! Macro nutrients and their arithmetic.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Amount;
use crate::validation::{CALORIES, GRAMS, ValidationErrors};

/// Calories and grams of protein, carbohydrate and fat.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub struct Macros {
    pub calories: Amount,
    pub protein_g: Amount,
    pub carbs_g: Amount,
    pub fat_g: Amount,
}

impl Macros {
    /// Validates raw numbers against the food bounds (also used for targets);
    /// `prefix` is prepended to field names (`"targets."`, or empty).
    pub fn parse(
        prefix: &str,
        calories: f64,
        protein_g: f64,
        carbs_g: f64,
        fat_g: f64,
    ) -> Result<Macros, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let calories = errors.check(format!("{prefix}calories"), CALORIES.amount(calories));
        let protein_g = errors.check(format!("{prefix}protein_g"), GRAMS.amount(protein_g));
        let carbs_g = errors.check(format!("{prefix}carbs_g"), GRAMS.amount(carbs_g));
        let fat_g = errors.check(format!("{prefix}fat_g"), GRAMS.amount(fat_g));
        errors.into_result(|| Macros {
            calories: calories.unwrap_or_default(),
            protein_g: protein_g.unwrap_or_default(),
            carbs_g: carbs_g.unwrap_or_default(),
            fat_g: fat_g.unwrap_or_default(),
        })
    }

    /// round2 of each value × servings: a log entry's snapshot.
    pub fn times(self, servings: Amount) -> Macros {
        self.map(|value| value.times(servings))
    }

    /// Each of the four amounts through `f` (scaling by servings).
    pub fn map(self, f: impl Fn(Amount) -> Amount) -> Macros {
        Macros {
            calories: f(self.calories),
            protein_g: f(self.protein_g),
            carbs_g: f(self.carbs_g),
            fat_g: f(self.fat_g),
        }
    }

    /// Each of the four amounts with its counterpart through `f` (sums).
    pub fn zip(self, other: Macros, f: impl Fn(Amount, Amount) -> Amount) -> Macros {
        Macros {
            calories: f(self.calories, other.calories),
            protein_g: f(self.protein_g, other.protein_g),
            carbs_g: f(self.carbs_g, other.carbs_g),
            fat_g: f(self.fat_g, other.fat_g),
        }
    }

    /// Target minus eaten; may be negative.
    pub fn minus(self, other: Macros) -> Macros {
        self.zip(other, |a, b| a - b)
    }
}

impl std::ops::Add for Macros {
    type Output = Macros;
    fn add(self, other: Macros) -> Macros {
        self.zip(other, |a, b| a + b)
    }
}

impl std::iter::Sum for Macros {
    fn sum<I: Iterator<Item = Macros>>(iter: I) -> Macros {
        iter.fold(Macros::default(), |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(c: i64, p: i64, cb: i64, f: i64) -> Macros {
        Macros {
            calories: Amount::from_hundredths(c),
            protein_g: Amount::from_hundredths(p),
            carbs_g: Amount::from_hundredths(cb),
            fat_g: Amount::from_hundredths(f),
        }
    }

    #[test]
    fn scales_sums_and_subtracts() {
        let per_serving = m(5213, 333, 1, 0);
        assert_eq!(per_serving.times(Amount::from_hundredths(150)), m(7820, 500, 2, 0));
        assert_eq!([m(1, 2, 3, 4), m(10, 20, 30, 40)].into_iter().sum::<Macros>(), m(11, 22, 33, 44));
        assert_eq!(m(100, 0, 0, 0).minus(m(150, 0, 0, 0)), m(-50, 0, 0, 0));
    }

    #[test]
    fn parse_names_every_bad_field() {
        let errors = Macros::parse("t.", -1.0, 1000.5, 5.0, f64::NAN).unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["t.calories", "t.protein_g", "t.fat_g"]);
        assert_eq!(Macros::parse("", 10000.0, 0.0, 1000.0, 0.005).unwrap(), m(1_000_000, 0, 100_000, 1));
    }
}
