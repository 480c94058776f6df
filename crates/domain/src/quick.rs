//! Quick add (calories and macros logged without a food or recipe) and
//! copying a day or a meal: the two everyday shortcuts of the log.

use crate::validation::ValidationErrors;
use crate::{Day, Macros, Meal, validation};

/// What a quick entry is named when its request names nothing.
pub const QUICK_ADD_NAME: &str = "Quick add";

/// Macros logged by hand: the entry's name and its macros (its servings
/// are 1, so these are its per-serving macros too).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuickAdd {
    /// The entry's name.
    pub name: String,
    /// The entry's macros.
    pub macros: Macros,
}

/// A quick add's fields as given: `None` is missing (or mistyped, which
/// the parser reported already).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuickInput {
    /// As given; absent means the default name (create) or the kept one (PATCH).
    pub name: Option<String>,
    /// As given.
    pub calories: Option<f64>,
    /// As given.
    pub protein_g: Option<f64>,
    /// As given.
    pub carbs_g: Option<f64>,
    /// As given.
    pub fat_g: Option<f64>,
}

/// A checked quick add: the macros, and the name when one was given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct QuickChange {
    /// The new name; `None` keeps the entry's (or names a new one `QUICK_ADD_NAME`).
    pub name: Option<String>,
    /// The new macros.
    pub macros: Macros,
}

impl QuickChange {
    /// The quick add a new entry logs.
    pub fn into_new(self) -> QuickAdd {
        QuickAdd { name: self.name.unwrap_or_else(|| QUICK_ADD_NAME.to_owned()), macros: self.macros }
    }
}

impl QuickInput {
    /// Checks the name and the food bounds of the four macros, reporting
    /// each broken rule under `prefix` (`entries.N.quick.` or `quick.`),
    /// a missing macro as required (a parser that reported it as mistyped
    /// drops the repeat). `None` when anything is wrong.
    pub fn parse(&self, prefix: &str, errors: &mut ValidationErrors) -> Option<QuickChange> {
        let name = self.name.as_ref().map(|name| errors.check(format!("{prefix}name"), validation::name(name)));
        let given = [
            ("calories", self.calories, validation::CALORIES),
            ("protein_g", self.protein_g, validation::GRAMS),
            ("carbs_g", self.carbs_g, validation::GRAMS),
            ("fat_g", self.fat_g, validation::GRAMS),
        ];
        // Each macro on its own, so every broken one is named.
        let [calories, protein_g, carbs_g, fat_g] = given.map(|(field, value, bound)| match value {
            Some(value) => errors.check(format!("{prefix}{field}"), bound.amount(value)),
            None => {
                errors.add(format!("{prefix}{field}"), "is required");
                None
            }
        });
        let (Some(calories), Some(protein_g), Some(carbs_g), Some(fat_g)) = (calories, protein_g, carbs_g, fat_g)
        else {
            return None;
        };
        let macros = Macros { calories, protein_g, carbs_g, fat_g };
        match name {
            Some(None) => None,
            Some(Some(name)) => Some(QuickChange { name: Some(name), macros }),
            None => Some(QuickChange { name: None, macros }),
        }
    }
}

/// `POST /v1/days/{date}/copy`: that day's entries (or one meal's) onto
/// another day (or into another meal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DayCopy {
    /// The day copied from.
    pub from: Day,
    /// The day copied to.
    pub to: Day,
    /// Only this meal's entries, when given.
    pub meal: Option<Meal>,
    /// Into this meal, when given (needs `meal`); else each keeps its meal.
    pub to_meal: Option<Meal>,
}

impl DayCopy {
    /// The copy, or why not: `to_meal` needs `meal`.
    pub fn parse(from: Day, to: Day, meal: Option<Meal>, to_meal: Option<Meal>) -> Result<DayCopy, ValidationErrors> {
        DayCopy::meals_rule(meal.is_some(), to_meal.is_some())?;
        Ok(DayCopy { from, to, meal, to_meal })
    }

    /// `to_meal` needs `meal` (given: present, even if mistyped).
    pub fn meals_rule(meal_given: bool, to_meal_given: bool) -> Result<(), ValidationErrors> {
        if to_meal_given && !meal_given {
            return Err(ValidationErrors::single("to_meal", "needs meal"));
        }
        Ok(())
    }

    /// The meal a copied entry of `meal` lands in.
    pub fn meal_of_copy(&self, meal: Meal) -> Meal {
        self.to_meal.unwrap_or(meal)
    }

    /// Nothing to copy: the contract names `meal` when one was given, else
    /// the day (`date`, the path's parameter).
    pub fn nothing_to_copy(&self) -> ValidationErrors {
        match self.meal {
            Some(meal) => {
                ValidationErrors::single("meal", format!("{} has no {} entry to copy", self.from, meal.as_str()))
            }
            None => ValidationErrors::single("date", format!("{} has no entry to copy", self.from)),
        }
    }

    /// The copy would make `to` hold more than the day's bound.
    pub fn day_full(&self) -> ValidationErrors {
        ValidationErrors::single(
            "to",
            format!("{} would hold more than {} entries", self.to, validation::MAX_DAY_ENTRIES),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Amount;

    fn input(calories: f64) -> QuickInput {
        QuickInput {
            name: None,
            calories: Some(calories),
            protein_g: Some(10.0),
            carbs_g: Some(20.005),
            fat_g: Some(0.0),
        }
    }

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.errors().iter().map(|error| error.field.as_str()).collect()
    }

    #[test]
    fn a_quick_add_takes_the_food_bounds_and_a_default_name() {
        let mut errors = ValidationErrors::new();
        let quick = input(250.0).parse("entries.0.quick.", &mut errors).unwrap();
        assert!(errors.is_empty());
        assert_eq!(quick.name, None);
        assert_eq!(quick.macros.carbs_g, Amount::from_hundredths(2001), "rounded to two decimals");
        assert_eq!(quick.clone().into_new().name, QUICK_ADD_NAME);

        let broken = QuickInput { name: Some("  ".into()), protein_g: Some(1000.01), ..input(10_000.01) };
        assert_eq!(broken.parse("entries.3.quick.", &mut errors), None);
        assert_eq!(
            fields(&errors),
            ["entries.3.quick.name", "entries.3.quick.calories", "entries.3.quick.protein_g"],
            "every broken rule"
        );
        let mut errors = ValidationErrors::new();
        let named = QuickInput { name: Some(" Pizza slice ".into()), protein_g: Some(1000.01), ..input(10_000.01) };
        assert_eq!(named.parse("quick.", &mut errors), None);
        assert_eq!(fields(&errors), ["quick.calories", "quick.protein_g"]);
        let mut errors = ValidationErrors::new();
        let named = QuickInput { name: Some(" Pizza slice ".into()), ..input(10_000.0) };
        assert_eq!(named.parse("quick.", &mut errors).unwrap().into_new().name, "Pizza slice");
    }

    #[test]
    fn a_missing_macro_is_required() {
        let mut errors = ValidationErrors::new();
        let missing = QuickInput { fat_g: None, calories: None, ..input(1.0) };
        assert_eq!(missing.parse("quick.", &mut errors), None);
        assert_eq!(fields(&errors), ["quick.calories", "quick.fat_g"]);
    }

    #[test]
    fn a_copy_into_another_meal_names_the_meal_it_copies() {
        let (from, to): (Day, Day) = ("2026-12-01".parse().unwrap(), "2026-12-02".parse().unwrap());
        let refused = DayCopy::parse(from, to, None, Some(Meal::Lunch)).unwrap_err();
        assert_eq!(fields(&refused), ["to_meal"]);
        let copy = DayCopy::parse(from, to, Some(Meal::Breakfast), Some(Meal::Lunch)).unwrap();
        assert_eq!(copy.meal_of_copy(Meal::Breakfast), Meal::Lunch);
        assert_eq!(fields(&copy.nothing_to_copy()), ["meal"]);
        let whole = DayCopy::parse(from, to, None, None).unwrap();
        assert_eq!(whole.meal_of_copy(Meal::Dinner), Meal::Dinner);
        assert_eq!(fields(&whole.nothing_to_copy()), ["date"]);
        assert_eq!(fields(&whole.day_full()), ["to"]);
    }
}
