use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validation::{self, SERVING_SIZE, ValidationErrors};
use crate::{Amount, FoodId, Macros};

/// Whether a food is in the shared catalogue or belongs to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FoodOwner {
    Global,
    User,
}

/// A food with its macros per serving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Food {
    pub id: FoodId,
    pub name: String,
    pub brand: Option<String>,
    pub serving_size: Amount,
    pub serving_unit: String,
    #[serde(flatten)]
    pub per_serving: Macros,
    pub owner: FoodOwner,
}

/// A validated food to create for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFood {
    pub name: String,
    pub brand: Option<String>,
    pub serving_size: Amount,
    pub serving_unit: String,
    pub per_serving: Macros,
}

/// Raw fields of a food as parsed from a request. `None` means the field was
/// missing or mistyped and has already been reported by the parser.
#[derive(Debug, Clone, Default)]
pub struct FoodInput {
    pub name: Option<String>,
    pub brand: Option<Option<String>>,
    pub serving_size: Option<f64>,
    pub serving_unit: Option<String>,
    pub calories: Option<f64>,
    pub protein_g: Option<f64>,
    pub carbs_g: Option<f64>,
    pub fat_g: Option<f64>,
}

impl NewFood {
    /// Applies every rule of the contract; reports all broken ones. Returns
    /// `Err` with an empty list when a field was missing (already reported).
    pub fn parse(input: FoodInput) -> Result<NewFood, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = input.name.and_then(|v| errors.check("name", validation::name(&v)));
        let brand = match input.brand {
            Some(Some(v)) => errors.check("brand", validation::text(&v, 1, 200)).map(Some),
            Some(None) | None => Some(None),
        };
        let serving_size = input.serving_size.and_then(|v| errors.check("serving_size", SERVING_SIZE.amount(v)));
        let serving_unit = input.serving_unit.and_then(|v| errors.check("serving_unit", validation::text(&v, 1, 20)));
        let macros = [
            ("calories", input.calories),
            ("protein_g", input.protein_g),
            ("carbs_g", input.carbs_g),
            ("fat_g", input.fat_g),
        ];
        let mut values = [Amount::ZERO; 4];
        let mut all_present = true;
        for (slot, (field, value)) in values.iter_mut().zip(macros) {
            let bound = if field == "calories" { validation::CALORIES } else { validation::GRAMS };
            match value.map(|v| bound.amount(v)) {
                Some(Ok(amount)) => *slot = amount,
                Some(Err(message)) => errors.add(field, message),
                None => all_present = false,
            }
        }
        match (name, brand, serving_size, serving_unit) {
            (Some(name), Some(brand), Some(serving_size), Some(serving_unit)) if all_present && errors.is_empty() => {
                let [calories, protein_g, carbs_g, fat_g] = values;
                Ok(NewFood {
                    name,
                    brand,
                    serving_size,
                    serving_unit,
                    per_serving: Macros { calories, protein_g, carbs_g, fat_g },
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> FoodInput {
        FoodInput {
            name: Some("  Oats ".into()),
            brand: Some(None),
            serving_size: Some(40.0),
            serving_unit: Some("g".into()),
            calories: Some(150.456),
            protein_g: Some(5.0),
            carbs_g: Some(27.0),
            fat_g: Some(2.5),
        }
    }

    #[test]
    fn valid_food_is_trimmed_and_rounded() {
        let food = NewFood::parse(input()).unwrap();
        assert_eq!(food.name, "Oats");
        assert_eq!(food.per_serving.calories, Amount::from_hundredths(15046));
    }

    #[test]
    fn every_broken_rule_is_named() {
        let bad = FoodInput {
            name: Some(" ".into()),
            brand: Some(Some("".into())),
            serving_size: Some(0.0),
            serving_unit: Some("x".repeat(21)),
            calories: Some(10000.01),
            protein_g: Some(-0.01),
            carbs_g: Some(1000.0),
            fat_g: Some(f64::INFINITY),
        };
        let errors = NewFood::parse(bad).unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "brand", "serving_size", "serving_unit", "calories", "protein_g", "fat_g"]);
    }

    #[test]
    fn missing_field_fails_without_new_errors() {
        let errors = NewFood::parse(FoodInput { fat_g: None, ..input() }).unwrap_err();
        assert!(errors.is_empty());
    }
}
