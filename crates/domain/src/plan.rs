use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validation::{self, SERVINGS, ValidationErrors};
use crate::{Amount, Day, Meal, MealPlanId, RecipeId, ScheduledMealId, ScheduledPlanId};

/// One recipe of a plan on one of its days (0-based).
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MealPlanItem {
    pub day: u32,
    pub meal: Meal,
    pub recipe_id: RecipeId,
    pub servings: Amount,
}

/// A reusable plan of recipes over `days` days.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MealPlan {
    pub id: MealPlanId,
    pub name: String,
    pub days: u32,
    pub items: Vec<MealPlanItem>,
}

/// A meal plan to create, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMealPlan {
    /// Its name, trimmed.
    pub name: String,
    /// How many days it spans.
    pub days: u32,
    /// What to eat on each of its days.
    pub items: Vec<MealPlanItem>,
}

/// Raw plan fields; `None` means missing or mistyped (already reported).
#[derive(Debug, Clone, Default)]
pub struct MealPlanItemInput {
    /// As given.
    pub day: Option<i64>,
    /// As given.
    pub meal: Option<Meal>,
    /// As given.
    pub recipe_id: Option<i64>,
    /// As given.
    pub servings: Option<f64>,
}

/// Raw fields of a meal plan as parsed from a request; `None` means missing
/// or mistyped and already reported by the parser.
#[derive(Debug, Clone, Default)]
pub struct MealPlanInput {
    /// As given.
    pub name: Option<String>,
    /// As given.
    pub days: Option<i64>,
    /// As given.
    pub items: Option<Vec<MealPlanItemInput>>,
}

/// A plan spans a year at most, so a schedule stays a bounded write.
pub const MAX_PLAN_DAYS: i64 = 366;
/// Items per plan, bounded so a schedule stays a bounded write.
pub const MAX_PLAN_ITEMS: usize = 500;

impl NewMealPlan {
    /// A plan from its raw fields, or every field error at once.
    pub fn parse(input: MealPlanInput) -> Result<NewMealPlan, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = input.name.and_then(|v| errors.check("name", validation::name(&v)));
        let days = input.days.and_then(|v| {
            let ok = (1..=MAX_PLAN_DAYS).contains(&v).then_some(v as u32);
            errors.check("days", ok.ok_or_else(|| format!("must be in [1, {MAX_PLAN_DAYS}]")))
        });
        let mut items = Vec::new();
        let mut complete = true;
        match input.items {
            Some(list) if list.is_empty() || list.len() > MAX_PLAN_ITEMS => {
                errors.add("items", format!("must hold 1 to {MAX_PLAN_ITEMS} items"))
            }
            Some(list) => {
                for (index, item) in list.into_iter().enumerate() {
                    let day = item.day.and_then(|d| {
                        let within = d >= 0 && days.is_none_or(|days| d < i64::from(days));
                        errors.check(
                            format!("items.{index}.day"),
                            within.then_some(d as u32).ok_or_else(|| "must be in [0, days)".to_owned()),
                        )
                    });
                    let servings =
                        item.servings.and_then(|v| errors.check(format!("items.{index}.servings"), SERVINGS.amount(v)));
                    match (day, item.meal, item.recipe_id, servings) {
                        (Some(day), Some(meal), Some(recipe), Some(servings)) => {
                            items.push(MealPlanItem { day, meal, recipe_id: RecipeId(recipe), servings })
                        }
                        _ => complete = false,
                    }
                }
            }
            None => complete = false,
        }
        match (name, days) {
            (Some(name), Some(days)) if complete && errors.is_empty() => Ok(NewMealPlan { name, days, items }),
            _ => Err(errors),
        }
    }
}

/// A meal plan placed on the calendar.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduledPlan {
    pub id: ScheduledPlanId,
    pub meal_plan_id: MealPlanId,
    pub name: String,
    pub start_date: Day,
    pub end_date: Day,
}

impl ScheduledPlan {
    /// `start + days - 1`, or `None` when it would pass 2200-12-31.
    pub fn end_date(start: Day, days: u32) -> Option<Day> {
        start.plus_days(i64::from(days) - 1)
    }

    /// Whether `date` falls within the scheduled span.
    pub fn covers(&self, date: Day) -> bool {
        self.start_date <= date && date <= self.end_date
    }
}

/// One scheduled meal of a day, and whether the user logged it.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduledMeal {
    pub id: ScheduledMealId,
    pub meal: Meal,
    pub recipe_id: RecipeId,
    pub name: String,
    pub servings: Amount,
    /// A log entry exists on the date with the same meal and recipe.
    pub logged: bool,
}

/// What is scheduled on one day.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleDay {
    pub date: Day,
    pub plan: Option<ScheduledPlan>,
    pub meals: Vec<ScheduledMeal>,
}

impl ScheduleDay {
    /// Orders meals by meal then id.
    pub fn new(date: Day, plan: Option<ScheduledPlan>, mut meals: Vec<ScheduledMeal>) -> ScheduleDay {
        meals.sort_by_key(|meal| (meal.meal, meal.id));
        ScheduleDay { date, plan, meals }
    }

    /// Whether the day is consistent (its meals belong to its plan), for tests
    /// and the differential walk.
    pub fn check(&self) -> Result<(), String> {
        if self.plan.as_ref().is_some_and(|plan| !plan.covers(self.date)) {
            return Err("plan does not cover the date".into());
        }
        if !self.meals.is_empty() && self.plan.is_none() {
            return Err("meals without a plan".into());
        }
        if !self.meals.is_sorted_by_key(|meal| (meal.meal, meal.id)) {
            return Err("meals are not ordered by meal then id".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(day: Option<i64>, servings: f64) -> MealPlanItemInput {
        MealPlanItemInput { day, meal: Some(Meal::Dinner), recipe_id: Some(1), servings: Some(servings) }
    }

    #[test]
    fn plan_rules() {
        let ok = MealPlanInput {
            name: Some("Week".into()),
            days: Some(7),
            items: Some(vec![item(Some(0), 1.0), item(Some(6), 2.0)]),
        };
        assert_eq!(NewMealPlan::parse(ok).unwrap().items.len(), 2);
        let bad = MealPlanInput {
            name: Some("Week".into()),
            days: Some(7),
            items: Some(vec![item(Some(7), 1.0), item(Some(-1), 1.0), item(Some(0), 0.0)]),
        };
        let fields: Vec<_> = NewMealPlan::parse(bad).unwrap_err().errors().iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["items.0.day", "items.1.day", "items.2.servings"]);
        for days in [0, 367] {
            let input =
                MealPlanInput { name: Some("x".into()), days: Some(days), items: Some(vec![item(Some(0), 1.0)]) };
            assert_eq!(NewMealPlan::parse(input).unwrap_err().errors()[0].field, "days");
        }
    }

    #[test]
    fn end_date_stays_in_range() {
        let start: Day = "2026-12-30".parse().unwrap();
        assert_eq!(ScheduledPlan::end_date(start, 3).unwrap().to_string(), "2027-01-01");
        assert_eq!(ScheduledPlan::end_date("2200-12-31".parse().unwrap(), 1).unwrap().to_string(), "2200-12-31");
        assert_eq!(ScheduledPlan::end_date("2200-12-31".parse().unwrap(), 2), None);
    }
}
