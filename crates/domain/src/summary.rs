use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Day, Food, Macros};

/// One day of a summary: totals and number of entries.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SummaryDay {
    pub date: Day,
    pub totals: Macros,
    pub entries: u32,
}

/// Daily totals over a range of at most 92 days; only days with entries.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub from: Day,
    pub to: Day,
    pub days: Vec<SummaryDay>,
}

/// `to - from <= 91`.
pub const MAX_SUMMARY_DAYS: i64 = 92;

impl Summary {
    /// Whether the summary is consistent (its days in range and order), for
    /// tests and the differential walk.
    pub fn check(&self) -> Result<(), String> {
        if !self.days.is_sorted_by_key(|day| day.date)
            || self.days.iter().any(|day| day.date < self.from || day.date > self.to || day.entries == 0)
        {
            return Err("summary rows out of order, out of range or empty".into());
        }
        Ok(())
    }
}

/// A food and how often the user logged it.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FrequentFood {
    pub food: Food,
    pub uses: u32,
}

/// A food the user logged, and the date of its most recently created entry.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecentFood {
    pub food: Food,
    pub last_logged: Day,
}

/// Each food once (the order is by entries' creation, which the value does not hold).
#[allow(clippy::ptr_arg)] // the engine's check-value signature is fn(&T) with T = Vec<_>
pub fn check_recent(foods: &Vec<RecentFood>) -> Result<(), String> {
    let mut seen = std::collections::HashSet::with_capacity(foods.len());
    match foods.iter().find(|recent| !seen.insert(recent.food.id)) {
        Some(twice) => Err(format!("food {} twice in recent foods", twice.food.id.0)),
        None => Ok(()),
    }
}

/// Most uses first, ties by food id; only foods with at least one use.
#[allow(clippy::ptr_arg)] // the engine's check-value signature is fn(&T) with T = Vec<_>
pub fn check_frequent(foods: &Vec<FrequentFood>) -> Result<(), String> {
    let ordered = foods
        .windows(2)
        .all(|w| (std::cmp::Reverse(w[0].uses), w[0].food.id) < (std::cmp::Reverse(w[1].uses), w[1].food.id));
    if !ordered || foods.iter().any(|f| f.uses == 0) {
        return Err("frequent foods out of order or unused".into());
    }
    Ok(())
}
