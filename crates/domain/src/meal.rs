use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A meal slot of a day; the declaration order is the display order.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Meal {
    Breakfast,
    Lunch,
    Dinner,
    Snack,
}

impl Meal {
    /// Every meal, in the order of a day.
    pub const ALL: [Meal; 4] = [Meal::Breakfast, Meal::Lunch, Meal::Dinner, Meal::Snack];

    /// Its name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Meal::Breakfast => "breakfast",
            Meal::Lunch => "lunch",
            Meal::Dinner => "dinner",
            Meal::Snack => "snack",
        }
    }
}

impl FromStr for Meal {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Meal::ALL
            .into_iter()
            .find(|meal| meal.as_str() == text)
            .ok_or_else(|| "must be one of breakfast, lunch, dinner, snack".to_owned())
    }
}
