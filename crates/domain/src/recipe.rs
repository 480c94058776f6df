use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validation::{self, SERVINGS, ValidationErrors};
use crate::{Amount, FoodId, Macros, RecipeId};

/// One food of a recipe and how many of its servings go in.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ingredient {
    pub food_id: FoodId,
    pub servings: Amount,
}

/// A user's recipe; `per_serving` is derived from its ingredients.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Recipe {
    pub id: RecipeId,
    pub name: String,
    pub servings: Amount,
    pub ingredients: Vec<Ingredient>,
    pub per_serving: Macros,
}

/// A validated recipe to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipe {
    /// Its name, trimmed.
    pub name: String,
    /// How many servings the whole recipe makes.
    pub servings: Amount,
    /// Its foods and how much of each.
    pub ingredients: Vec<Ingredient>,
}

/// Raw recipe fields; `None` means missing or mistyped (already reported).
#[derive(Debug, Clone, Default)]
pub struct RecipeInput {
    /// As given.
    pub name: Option<String>,
    /// As given.
    pub servings: Option<f64>,
    /// (food_id, servings) per ingredient.
    pub ingredients: Option<Vec<(Option<i64>, Option<f64>)>>,
}

/// Ingredients per recipe, bounded so its macros are a bounded read.
pub const MAX_INGREDIENTS: usize = 50;

impl NewRecipe {
    /// A recipe from its raw fields, or every field error at once.
    pub fn parse(input: RecipeInput) -> Result<NewRecipe, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = input.name.and_then(|v| errors.check("name", validation::name(&v)));
        let servings = input.servings.and_then(|v| errors.check("servings", SERVINGS.amount(v)));
        let mut ingredients = Vec::new();
        let mut complete = true;
        match input.ingredients {
            Some(list) if list.is_empty() || list.len() > MAX_INGREDIENTS => {
                errors.add("ingredients", format!("must hold 1 to {MAX_INGREDIENTS} ingredients"));
            }
            Some(list) => {
                for (index, (food, servings)) in list.into_iter().enumerate() {
                    let servings = servings
                        .and_then(|v| errors.check(format!("ingredients.{index}.servings"), SERVINGS.amount(v)));
                    match (food, servings) {
                        (Some(food), Some(servings)) => {
                            ingredients.push(Ingredient { food_id: FoodId(food), servings })
                        }
                        _ => complete = false,
                    }
                }
            }
            None => complete = false,
        }
        match (name, servings) {
            (Some(name), Some(servings)) if complete && errors.is_empty() => {
                Ok(NewRecipe { name, servings, ingredients })
            }
            _ => Err(errors),
        }
    }
}

impl Recipe {
    /// round2(Σ food per-serving × ingredient servings ÷ recipe servings),
    /// computed exactly: each product in ten-thousandths, one rounding.
    pub fn per_serving(parts: impl IntoIterator<Item = (Macros, Amount)>, servings: Amount) -> Macros {
        let mut sums = [0i128; 4];
        for (food, amount) in parts {
            let values = [food.calories, food.protein_g, food.carbs_g, food.fat_g];
            for (sum, value) in sums.iter_mut().zip(values) {
                *sum += i128::from(value.hundredths()) * i128::from(amount.hundredths());
            }
        }
        // Σ (hundredths × hundredths) is in 1/10000; ÷ servings (1/100) → 1/100.
        let [calories, protein_g, carbs_g, fat_g] = sums.map(|sum| Amount::ratio(sum, servings));
        Macros { calories, protein_g, carbs_g, fat_g }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(hundredths: i64) -> Amount {
        Amount::from_hundredths(hundredths)
    }

    #[test]
    fn per_serving_rounds_once_after_exact_sums() {
        let oats = Macros { calories: a(38900), protein_g: a(1690), carbs_g: a(6630), fat_g: a(690) };
        let milk = Macros { calories: a(4200), protein_g: a(340), carbs_g: a(500), fat_g: a(100) };
        // 0.5 oats + 2.5 milk, 3 servings: (194.5 + 105) / 3 = 99.8333 → 99.83
        let per = Recipe::per_serving([(oats, a(50)), (milk, a(250))], a(300));
        assert_eq!(per, Macros { calories: a(9983), protein_g: a(565), carbs_g: a(1522), fat_g: a(198) });
        // 0.01 kcal × 0.5 / 1 = 0.005 → 0.01 (half away from zero)
        let tiny = Macros { calories: a(1), ..Macros::default() };
        assert_eq!(Recipe::per_serving([(tiny, a(50))], a(100)).calories, a(1));
    }

    #[test]
    fn parse_names_ingredient_fields() {
        let input = RecipeInput {
            name: Some("Porridge".into()),
            servings: Some(0.0),
            ingredients: Some(vec![(Some(1), Some(1.0)), (Some(2), Some(100.01)), (None, Some(1.0))]),
        };
        let errors = NewRecipe::parse(input).unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["servings", "ingredients.1.servings"]);
        let empty = RecipeInput { name: Some("x".into()), servings: Some(1.0), ingredients: Some(vec![]) };
        assert_eq!(NewRecipe::parse(empty).unwrap_err().errors()[0].field, "ingredients");
        let ok = RecipeInput {
            name: Some(" P ".into()),
            servings: Some(2.0),
            ingredients: Some(vec![(Some(1), Some(0.5))]),
        };
        assert_eq!(NewRecipe::parse(ok).unwrap().name, "P");
    }
}
