//! Macrotrack's domain: entities, value objects, validation and macro
//! arithmetic. Pure data and rules: no I/O, no async, no framework.

mod amount;
mod day;
mod food;
mod ids;
mod log;
mod macros;
mod meal;
mod streak;
mod time;
mod user;
pub mod validation;

pub use amount::Amount;
pub use day::{Day, DayError};
pub use food::{Food, FoodInput, FoodOwner, NewFood};
pub use ids::*;
pub use log::{DayLogs, LogEntry, LogEntryInput, LogItem, NewLogEntry};
pub use macros::Macros;
pub use meal::Meal;
pub use streak::Streak;
pub use time::Timestamp;
pub use user::User;
pub use validation::{FieldError, ValidationErrors};
