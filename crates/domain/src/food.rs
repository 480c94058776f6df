use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validation::{self, SERVING_SIZE, ValidationErrors};
use crate::{Amount, FoodId, Macros, PortionId};

/// Whether a food is in the shared catalogue or belongs to the reader.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FoodOwner {
    Global,
    User,
}

/// A food with its macros per serving.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
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
    /// False for branded foods (and users' own), true for the rest of the
    /// catalogue.
    pub generic: bool,
    /// `fdc:<fdc_id>` or `off:<code>` for an imported food, else null.
    pub source: Option<String>,
    /// The GTIN-14, or null.
    pub barcode: Option<String>,
    /// `serving_size` when the serving unit is grams, else null
    /// ([`grams_per_serving`]).
    pub grams_per_serving: Option<Amount>,
    /// Household measures of a catalogue food; a user's food has none.
    pub portions: Vec<Portion>,
}

/// A household measure of a food: "1 cup" of so many grams.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Portion {
    pub id: PortionId,
    pub name: String,
    pub grams: Amount,
}

/// How many grams one serving of `serving_size` `serving_unit` is: the
/// size itself when the unit is `g` (any case), else unknown.
pub fn grams_per_serving(serving_size: Amount, serving_unit: &str) -> Option<Amount> {
    serving_unit.trim().eq_ignore_ascii_case("g").then_some(serving_size)
}

/// A validated food to create for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFood {
    /// Its name, trimmed.
    pub name: String,
    /// Its brand, if any.
    pub brand: Option<String>,
    /// How much one serving is, in `serving_unit`.
    pub serving_size: Amount,
    /// What `serving_size` counts (`g`, `ml`, `slice`).
    pub serving_unit: String,
    /// Its macros per serving.
    pub per_serving: Macros,
}

/// Raw fields of a food as parsed from a request. `None` means the field was
/// missing or mistyped and has already been reported by the parser.
#[derive(Debug, Clone, Default)]
pub struct FoodInput {
    /// As given.
    pub name: Option<String>,
    /// As given; `Some(None)` is an explicit null.
    pub brand: Option<Option<String>>,
    /// As given.
    pub serving_size: Option<f64>,
    /// As given.
    pub serving_unit: Option<String>,
    /// As given.
    pub calories: Option<f64>,
    /// As given.
    pub protein_g: Option<f64>,
    /// As given.
    pub carbs_g: Option<f64>,
    /// As given.
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

/// A validated edit of one's own food: the fields to change, each checked
/// as `NewFood::parse` checks it; `brand: Some(None)` clears the brand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoodPatch {
    /// The new name.
    pub name: Option<String>,
    /// The new brand; `Some(None)` clears it.
    pub brand: Option<Option<String>>,
    /// The new serving size.
    pub serving_size: Option<Amount>,
    /// The new serving unit.
    pub serving_unit: Option<String>,
    /// The new calories per serving.
    pub calories: Option<Amount>,
    /// The new protein per serving.
    pub protein_g: Option<Amount>,
    /// The new carbohydrates per serving.
    pub carbs_g: Option<Amount>,
    /// The new fat per serving.
    pub fat_g: Option<Amount>,
}

impl FoodPatch {
    /// `None` fields of `input` are absent (a mistyped one was reported by
    /// the parser). No field to change is an error naming none.
    pub fn parse(input: FoodInput) -> Result<FoodPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let patch = FoodPatch {
            name: input.name.and_then(|v| errors.check("name", validation::name(&v))),
            brand: match input.brand {
                Some(Some(v)) => errors.check("brand", validation::text(&v, 1, 200)).map(Some),
                Some(None) => Some(None),
                None => None,
            },
            serving_size: input.serving_size.and_then(|v| errors.check("serving_size", SERVING_SIZE.amount(v))),
            serving_unit: input.serving_unit.and_then(|v| errors.check("serving_unit", validation::text(&v, 1, 20))),
            calories: input.calories.and_then(|v| errors.check("calories", validation::CALORIES.amount(v))),
            protein_g: input.protein_g.and_then(|v| errors.check("protein_g", validation::GRAMS.amount(v))),
            carbs_g: input.carbs_g.and_then(|v| errors.check("carbs_g", validation::GRAMS.amount(v))),
            fat_g: input.fat_g.and_then(|v| errors.check("fat_g", validation::GRAMS.amount(v))),
        };
        if errors.is_empty() && patch == FoodPatch::default() {
            errors.add("", "at least one field to change is required");
        }
        errors.into_result(|| patch)
    }

    /// `food` with this patch applied.
    pub fn apply(&self, food: &Food) -> Food {
        let per_serving = food.per_serving;
        let serving_size = self.serving_size.unwrap_or(food.serving_size);
        let serving_unit = self.serving_unit.clone().unwrap_or_else(|| food.serving_unit.clone());
        Food {
            id: food.id,
            name: self.name.clone().unwrap_or_else(|| food.name.clone()),
            brand: self.brand.clone().unwrap_or_else(|| food.brand.clone()),
            grams_per_serving: grams_per_serving(serving_size, &serving_unit),
            serving_size,
            serving_unit,
            per_serving: Macros {
                calories: self.calories.unwrap_or(per_serving.calories),
                protein_g: self.protein_g.unwrap_or(per_serving.protein_g),
                carbs_g: self.carbs_g.unwrap_or(per_serving.carbs_g),
                fat_g: self.fat_g.unwrap_or(per_serving.fat_g),
            },
            owner: food.owner,
            generic: food.generic,
            source: food.source.clone(),
            barcode: food.barcode.clone(),
            portions: food.portions.clone(),
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
    fn a_patch_checks_what_it_holds_and_needs_one_field() {
        let empty = FoodInput::default();
        let errors = FoodPatch::parse(empty).unwrap_err();
        assert_eq!(errors.errors().len(), 1);
        let bad = FoodInput { calories: Some(10000.01), name: Some("\t".into()), ..FoodInput::default() };
        let fields: Vec<String> = FoodPatch::parse(bad).unwrap_err().errors().iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["name", "calories"]);
        let patch = FoodPatch::parse(FoodInput {
            brand: Some(None),
            protein_g: Some(7.005),
            name: Some(" Porridge ".into()),
            ..FoodInput::default()
        })
        .unwrap();
        let food = Food {
            id: FoodId(3),
            name: "Oats".into(),
            brand: Some("Acme".into()),
            serving_size: Amount::from_hundredths(4000),
            serving_unit: "g".into(),
            per_serving: Macros { calories: Amount::from_hundredths(15000), ..Macros::default() },
            owner: FoodOwner::User,
            generic: false,
            source: None,
            barcode: None,
            grams_per_serving: Some(Amount::from_hundredths(4000)),
            portions: Vec::new(),
        };
        let edited = patch.apply(&food);
        assert_eq!((edited.name.as_str(), edited.brand.as_deref()), ("Porridge", None));
        assert_eq!(edited.grams_per_serving, food.grams_per_serving);
        let in_cups = FoodPatch::parse(FoodInput { serving_unit: Some("cup".into()), ..FoodInput::default() }).unwrap();
        assert_eq!(in_cups.apply(&food).grams_per_serving, None, "grams per serving follow the unit");
        assert_eq!(edited.per_serving.protein_g, Amount::from_hundredths(701));
        assert_eq!(edited.per_serving.calories, food.per_serving.calories, "untouched fields stay");
    }

    #[test]
    fn grams_per_serving_is_the_size_of_a_serving_in_grams() {
        let forty = Amount::from_hundredths(4000);
        assert_eq!(grams_per_serving(forty, "g"), Some(forty));
        assert_eq!(grams_per_serving(forty, "G"), Some(forty));
        assert_eq!(grams_per_serving(forty, "ml"), None);
        assert_eq!(grams_per_serving(forty, "slice"), None);
    }

    #[test]
    fn missing_field_fails_without_new_errors() {
        let errors = NewFood::parse(FoodInput { fat_g: None, ..input() }).unwrap_err();
        assert!(errors.is_empty());
    }
}
