use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::log_amount::{AmountChange, AmountError, AmountInput, LogAmount, LoggedPortion};
use crate::quick::{QuickAdd, QuickChange, QuickInput};
use crate::validation::{self, MAX_BATCH, ValidationErrors};
use crate::{Amount, Day, FoodId, LogEntryId, Macros, Meal, RecipeId, Timestamp};

/// What a log entry records: a food, a recipe, or macros given by hand.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LogItem {
    /// A food, by its id.
    Food(FoodId),
    /// A recipe, by its id.
    Recipe(RecipeId),
    /// A quick add: its name and macros, logged as one serving.
    Quick(QuickAdd),
}

impl LogItem {
    /// The food logged, if it is one.
    pub fn food(&self) -> Option<FoodId> {
        match self {
            LogItem::Food(id) => Some(*id),
            LogItem::Recipe(_) | LogItem::Quick(_) => None,
        }
    }

    /// The recipe logged, if it is one.
    pub fn recipe(&self) -> Option<RecipeId> {
        match self {
            LogItem::Recipe(id) => Some(*id),
            LogItem::Food(_) | LogItem::Quick(_) => None,
        }
    }
}

/// One food or recipe eaten on one day, with its macros snapshotted.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogEntry {
    pub id: LogEntryId,
    pub date: Day,
    pub meal: Meal,
    pub food_id: Option<FoodId>,
    pub recipe_id: Option<RecipeId>,
    pub name: String,
    pub servings: Amount,
    pub grams: Option<Amount>,
    pub portion: Option<LoggedPortion>,
    /// per-serving macros × servings at the time of logging or editing.
    #[serde(flatten)]
    pub macros: Macros,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl LogEntry {
    /// What was logged; an entry naming neither a food nor a recipe is a
    /// quick add (foods and recipes go away only with their user); `None`
    /// for one naming both, which no write makes.
    pub fn item(&self) -> Option<LogItem> {
        match (self.food_id, self.recipe_id) {
            (Some(food), None) => Some(LogItem::Food(food)),
            (None, Some(recipe)) => Some(LogItem::Recipe(recipe)),
            (None, None) => Some(LogItem::Quick(QuickAdd { name: self.name.clone(), macros: self.macros })),
            (Some(_), Some(_)) => None,
        }
    }

    /// Whether it is a quick add.
    pub fn is_quick(&self) -> bool {
        self.food_id.is_none() && self.recipe_id.is_none()
    }
}

/// A validated entry to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogEntry {
    /// The day it counts for.
    pub date: Day,
    /// The meal it belongs to.
    pub meal: Meal,
    /// What was eaten.
    pub item: LogItem,
    /// How much of it.
    pub amount: LogAmount,
}

/// Raw fields of one batch entry; `None` means missing or mistyped and
/// already reported by the parser.
#[derive(Debug, Clone, Default)]
pub struct LogEntryInput {
    /// As given.
    pub date: Option<Day>,
    /// As given.
    pub meal: Option<Meal>,
    /// As given.
    pub food_id: Option<i64>,
    /// As given.
    pub recipe_id: Option<i64>,
    /// As given.
    pub amount: AmountInput,
    /// As given; `Some` when present, even with mistakes inside.
    pub quick: Option<QuickInput>,
}

impl NewLogEntry {
    /// Validates a batch: 1..=100 entries, each with exactly one of
    /// food_id, recipe_id and quick; a food or recipe with one amount
    /// (`AmountInput::parse`), a quick add with none (it is one serving of
    /// its macros). Field paths are `entries.N.field`.
    pub fn parse_batch(inputs: Vec<LogEntryInput>, complete: bool) -> Result<Vec<NewLogEntry>, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if inputs.is_empty() || inputs.len() > MAX_BATCH {
            errors.add("entries", format!("must hold 1 to {MAX_BATCH} entries"));
            return Err(errors);
        }
        let mut entries = Vec::with_capacity(inputs.len());
        for (index, input) in inputs.into_iter().enumerate() {
            let prefix = format!("entries.{index}.");
            if let Some(quick) = &input.quick {
                let quick = quick.parse(&format!("{prefix}quick."), &mut errors);
                if input.food_id.is_some() || input.recipe_id.is_some() {
                    errors.add(format!("entries.{index}"), EXACTLY_ONE_ITEM);
                }
                for field in input.amount.given() {
                    errors.add(format!("{prefix}{field}"), NO_AMOUNT_WITH_QUICK);
                }
                if let (Some(date), Some(meal), Some(quick)) = (input.date, input.meal, quick) {
                    let amount = LogAmount::Servings(Amount::ONE);
                    entries.push(NewLogEntry { date, meal, item: LogItem::Quick(quick.into_new()), amount });
                }
                continue;
            }
            let item = match (input.food_id, input.recipe_id) {
                (Some(food), None) => Some(LogItem::Food(FoodId(food))),
                (None, Some(recipe)) => Some(LogItem::Recipe(RecipeId(recipe))),
                _ => {
                    errors.add(format!("entries.{index}"), EXACTLY_ONE_ITEM);
                    None
                }
            };
            let amount = match input.amount.parse(&prefix, false, &mut errors) {
                Some(AmountChange::To(amount)) => Some(amount),
                Some(AmountChange::Quantity(_)) | None => None,
            };
            if let (Some(date), Some(meal), Some(item), Some(amount)) = (input.date, input.meal, item, amount) {
                entries.push(NewLogEntry { date, meal, item, amount });
            }
        }
        if errors.is_empty() && complete { Ok(entries) } else { Err(errors) }
    }

    /// Entry `index` of a batch names no food the user may log (the
    /// repository finds out): the error on its field, named as
    /// `parse_batch` names the others, so no caller spells a batch's paths.
    pub fn unknown_food(index: usize) -> ValidationErrors {
        ValidationErrors::single(format!("entries.{index}.food_id"), "unknown food")
    }

    /// Entry `index` of a batch names no recipe of the user's.
    pub fn unknown_recipe(index: usize) -> ValidationErrors {
        ValidationErrors::single(format!("entries.{index}.recipe_id"), "unknown recipe")
    }

    /// Entry `index`'s amount cannot be measured for its item.
    pub fn bad_amount(index: usize, error: AmountError) -> ValidationErrors {
        ValidationErrors::single(format!("entries.{index}.{}", error.field()), error.message())
    }

    /// A batch would make `date` hold more than `MAX_DAY_ENTRIES` entries
    /// (the repository counts): the contract names the batch, not an entry.
    pub fn day_full(date: Day) -> ValidationErrors {
        ValidationErrors::single("entries", day_full_message(date))
    }
}

const EXACTLY_ONE_ITEM: &str = "must have exactly one of food_id, recipe_id and quick";
const NO_AMOUNT_WITH_QUICK: &str = "a quick add is one serving of its macros: no amount with quick";

fn day_full_message(date: Day) -> String {
    format!("{date} would hold more than {} entries", validation::MAX_DAY_ENTRIES)
}

/// A change to a log entry: at least one field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogEntryPatch {
    /// Move the entry to this day.
    pub date: Option<Day>,
    /// Move the entry to this meal.
    pub meal: Option<Meal>,
    /// The new amount; its macros follow.
    pub amount: Option<AmountChange>,
    /// New macros (and name) of a quick entry.
    pub quick: Option<QuickChange>,
}

impl LogEntryPatch {
    /// A patch of the fields given, checked; an empty patch is an error,
    /// and so is an amount beside `quick` (a quick entry has none).
    pub fn parse(
        date: Option<Day>,
        meal: Option<Meal>,
        amount: AmountInput,
        quick: Option<QuickInput>,
    ) -> Result<LogEntryPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let given = !amount.is_empty();
        let quick = match quick {
            Some(quick) => {
                for field in amount.given() {
                    errors.add(field, NO_AMOUNT_WITH_QUICK);
                }
                // Given, even when broken: its errors fail the patch.
                quick.parse("quick.", &mut errors).or(Some(QuickChange::default()))
            }
            None => None,
        };
        let amount = amount.parse("", true, &mut errors);
        if errors.is_empty() && date.is_none() && meal.is_none() && !given && quick.is_none() {
            errors.add("", "at least one of date, meal, quick, servings, grams, portion_id and quantity is required");
        }
        errors.into_result(|| LogEntryPatch { date, meal, amount, quick })
    }

    /// The field naming the patch's amount, if it has one.
    pub fn amount_field(&self) -> Option<&'static str> {
        self.amount.map(|amount| match amount {
            AmountChange::To(LogAmount::Servings(_)) => "servings",
            AmountChange::To(LogAmount::Grams(_)) => "grams",
            AmountChange::To(LogAmount::Portion { .. }) => "portion_id",
            AmountChange::Quantity(_) => "quantity",
        })
    }

    /// `quick` names an entry that is not a quick add.
    pub fn not_quick() -> ValidationErrors {
        ValidationErrors::single("quick", "changes only a quick entry")
    }

    /// An amount names a quick entry, which has none.
    pub fn quick_has_no_amount(field: &'static str) -> ValidationErrors {
        ValidationErrors::single(field, NO_AMOUNT_WITH_QUICK)
    }

    /// The patch's amount cannot be measured for the entry's item.
    pub fn bad_amount(error: AmountError) -> ValidationErrors {
        ValidationErrors::single(error.field(), error.message())
    }

    /// Moving the entry would make `date` hold more than `MAX_DAY_ENTRIES`
    /// entries (the repository counts).
    pub fn day_full(date: Day) -> ValidationErrors {
        ValidationErrors::single("date", day_full_message(date))
    }
}

/// Everything logged on one day, ordered by meal then id, with totals.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DayLogs {
    pub date: Day,
    pub completed: bool,
    pub entries: Vec<LogEntry>,
    pub totals: Macros,
}

impl DayLogs {
    /// A day's logs with their totals summed, so no reader sums them again.
    pub fn new(date: Day, completed: bool, mut entries: Vec<LogEntry>) -> DayLogs {
        entries.sort_by_key(|entry| (entry.meal, entry.id));
        let totals = entries.iter().map(|entry| entry.macros).sum();
        DayLogs { date, completed, entries, totals }
    }

    /// The invariants a cached copy must still satisfy (check-value).
    pub fn check(&self) -> Result<(), String> {
        if let Some(entry) = self.entries.iter().find(|entry| entry.date != self.date) {
            return Err(format!("entry {} is dated {}, not {}", entry.id, entry.date, self.date));
        }
        if !self.entries.is_sorted_by_key(|entry| (entry.meal, entry.id)) {
            return Err("entries are not ordered by meal then id".into());
        }
        // The ids, not `item()`: a quick add's item would copy its name,
        // and a cached read runs this on every hit.
        if self.entries.iter().any(|entry| entry.food_id.is_some() && entry.recipe_id.is_some()) {
            return Err("an entry has both food_id and recipe_id".into());
        }
        let totals: Macros = self.entries.iter().map(|entry| entry.macros).sum();
        if totals != self.totals {
            return Err("totals are not the sum of the entries".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        text.parse().unwrap()
    }

    fn entry(id: i64, meal: Meal, calories: i64) -> LogEntry {
        let now = Timestamp::new(chrono::DateTime::UNIX_EPOCH);
        LogEntry {
            id: LogEntryId(id),
            date: day("2026-11-24"),
            meal,
            food_id: Some(FoodId(1)),
            recipe_id: None,
            name: "Oats".into(),
            servings: Amount::from_hundredths(100),
            grams: None,
            portion: None,
            macros: Macros { calories: Amount::from_hundredths(calories), ..Macros::default() },
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn day_logs_order_by_meal_then_id_and_total() {
        let logs = DayLogs::new(
            day("2026-11-24"),
            false,
            vec![
                entry(3, Meal::Snack, 1),
                entry(2, Meal::Breakfast, 10),
                entry(1, Meal::Dinner, 100),
                entry(4, Meal::Breakfast, 1000),
            ],
        );
        let ids: Vec<i64> = logs.entries.iter().map(|e| e.id.0).collect();
        assert_eq!(ids, [2, 4, 1, 3]);
        assert_eq!(logs.totals.calories, Amount::from_hundredths(1111));
        assert_eq!(logs.check(), Ok(()));
    }

    #[test]
    fn check_rejects_inconsistent_copies() {
        let good = DayLogs::new(day("2026-11-24"), false, vec![entry(1, Meal::Lunch, 5)]);
        let mut wrong_total = good.clone();
        wrong_total.totals.calories = Amount::from_hundredths(6);
        assert!(wrong_total.check().is_err());
        let mut wrong_date = good.clone();
        wrong_date.date = day("2026-11-25");
        assert!(wrong_date.check().is_err());
        let mut unordered =
            DayLogs::new(day("2026-11-24"), false, vec![entry(1, Meal::Lunch, 5), entry(2, Meal::Breakfast, 5)]);
        unordered.entries.reverse();
        assert!(unordered.check().is_err());
    }

    #[test]
    fn batch_rules_name_each_entry() {
        let ok = LogEntryInput {
            date: Some(day("2026-11-24")),
            meal: Some(Meal::Lunch),
            food_id: Some(1),
            recipe_id: None,
            amount: AmountInput { servings: Some(1.0), ..AmountInput::default() },
            quick: None,
        };
        assert_eq!(NewLogEntry::parse_batch(vec![ok.clone()], true).unwrap().len(), 1);
        let both = LogEntryInput { recipe_id: Some(2), ..ok.clone() };
        let neither = LogEntryInput { food_id: None, ..ok.clone() };
        let too_many = LogEntryInput { amount: AmountInput { servings: Some(100.004), ..ok.amount }, ..ok.clone() };
        let zero = LogEntryInput { amount: AmountInput { servings: Some(0.0), ..ok.amount }, ..ok.clone() };
        let errors = NewLogEntry::parse_batch(vec![ok.clone(), both, neither, too_many, zero], true).unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["entries.1", "entries.2", "entries.3.servings", "entries.4.servings"]);
        assert!(NewLogEntry::parse_batch(vec![], true).is_err());
        assert!(NewLogEntry::parse_batch(vec![ok; 101], true).is_err());
    }

    #[test]
    fn batch_amounts_name_each_entry() {
        let ok = LogEntryInput {
            date: Some(day("2026-11-24")),
            meal: Some(Meal::Lunch),
            food_id: Some(1),
            recipe_id: None,
            amount: AmountInput { grams: Some(150.0), ..AmountInput::default() },
            quick: None,
        };
        let entries = NewLogEntry::parse_batch(vec![ok.clone()], true).unwrap();
        assert_eq!(entries[0].amount, LogAmount::Grams(Amount::from_hundredths(15000)));
        let none = LogEntryInput { amount: AmountInput::default(), ..ok.clone() };
        let quantity_alone =
            LogEntryInput { amount: AmountInput { quantity: Some(1.0), ..AmountInput::default() }, ..ok.clone() };
        let errors = NewLogEntry::parse_batch(vec![ok, none, quantity_alone], true).unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["entries.1.servings", "entries.2.quantity", "entries.2.servings"]);
        assert_eq!(NewLogEntry::bad_amount(3, AmountError::NotItsPortion).errors()[0].field, "entries.3.portion_id");
    }

    fn amounts(servings: Option<f64>, grams: Option<f64>, quantity: Option<f64>) -> AmountInput {
        AmountInput { servings, grams, portion_id: None, quantity }
    }

    #[test]
    fn patch_needs_a_field_and_bounds_its_amount() {
        assert!(LogEntryPatch::parse(None, None, AmountInput::default(), None).is_err());
        let zero = LogEntryPatch::parse(None, None, amounts(Some(0.0), None, None), None).unwrap_err();
        assert_eq!(zero.errors().iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["servings"]);
        let patch = LogEntryPatch::parse(None, Some(Meal::Snack), amounts(Some(2.005), None, None), None).unwrap();
        assert_eq!(patch.amount, Some(AmountChange::To(LogAmount::Servings(Amount::from_hundredths(201)))));
        let patch = LogEntryPatch::parse(None, None, amounts(None, None, Some(1.5)), None).unwrap();
        assert_eq!(patch.amount, Some(AmountChange::Quantity(Amount::from_hundredths(150))));
        assert_eq!(
            LogEntryPatch::parse(None, None, amounts(None, Some(5000.5), None), None).unwrap_err().errors()[0].field,
            "grams"
        );
        assert_eq!(LogEntryPatch::bad_amount(AmountError::NotByPortion).errors()[0].field, "quantity");
    }
}
