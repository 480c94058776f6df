use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A meal slot of a day; the declaration order is the display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Meal {
    Breakfast,
    Lunch,
    Dinner,
    Snack,
}

impl Meal {
    pub const ALL: [Meal; 4] = [Meal::Breakfast, Meal::Lunch, Meal::Dinner, Meal::Snack];

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
