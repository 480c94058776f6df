//! Macrotrack's domain: entities, value objects, validation and macro
//! arithmetic. Pure data and rules: no I/O, no async, no framework.

#![warn(missing_docs)]

mod amount;
mod catalogue;
mod dashboard;
mod day;
mod food;
mod gtin;
mod idempotency;
mod ids;
mod log;
mod log_amount;
mod macros;
mod meal;
mod plan;
mod quick;
mod recipe;
mod search;
mod streak;
mod summary;
mod time;
mod time_zone;
mod user;
pub mod validation;
mod week;

pub use amount::Amount;
pub use catalogue::{
    FoodSource, ImportedFood, ImportedFoodInput, ImportedPortion, MAX_IMPORTED_TEXT, PortionInput, SkipReason, Skipped,
    fold, search_text,
};
pub use dashboard::{Completion, DayDashboard};
pub use day::{Day, DayError, IsoText};
pub use food::{Food, FoodInput, FoodOwner, FoodPatch, NewFood, Portion, grams_per_serving};
pub use gtin::{Gtin, GtinError};
pub use idempotency::{IDEMPOTENCY_KEPT_FOR, IdempotencyKey, IdempotencyKeyError, MAX_IDEMPOTENCY_KEY};
pub use ids::*;
pub use log::{DayLogs, LogEntry, LogEntryInput, LogEntryPatch, LogItem, NewLogEntry};
pub use log_amount::{AmountChange, AmountError, AmountInput, LogAmount, LoggedPortion, Measure, Measured};
pub use macros::Macros;
pub use meal::Meal;
pub use plan::{
    MAX_PLAN_DAYS, MAX_PLAN_ITEMS, MealPlan, MealPlanInput, MealPlanItem, MealPlanItemInput, NewMealPlan, ScheduleDay,
    ScheduledMeal, ScheduledPlan,
};
pub use quick::{DayCopy, QUICK_ADD_NAME, QuickAdd, QuickChange, QuickInput};
pub use recipe::{Ingredient, MAX_INGREDIENTS, NewRecipe, Recipe, RecipeInput};
pub use search::{catalogue_rows_needed, check_catalogue_part, check_own_part, merge_search, normalized_query};
pub use streak::Streak;
pub use summary::{FrequentFood, MAX_SUMMARY_DAYS, RecentFood, Summary, SummaryDay, check_frequent, check_recent};
pub use time::Timestamp;
pub use time_zone::{NOT_A_TIME_ZONE, TimeZone};
pub use user::User;
pub use validation::{FieldError, ValidationErrors};
pub use week::{Week, WeekBlock, WeekDay, last_week_start};
