//! The invalidation matrix as data: for each mutation, the tier-1 keys and
//! tier-2 tags it makes the cache forget, as rules over the mutation's facts.
//!
//! This is the only place that decides what is invalidated. The use cases
//! describe what they changed (`Facts`) and apply `Matrix::targets` after
//! their transaction commits; docs/caching-matrix.md is rendered from
//! `MATRIX` by `cargo xtask docs`.

use std::collections::BTreeSet;

use macrotrack_cache_keys::{Tag, TagFamily, Target};
use macrotrack_domain::{Day, UserId};

/// Every mutation of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    CreateLogEntries,
    UpdateLogEntry,
    DeleteLogEntry,
    CompleteDay,
    UndoDay,
    CreateFood,
    SetTargets,
    ScheduleMealPlan,
    DeleteScheduledMeal,
    DeleteScheduledPlan,
    DeleteUser,
}

/// Whether a touched log entry records a food or a recipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    Food,
    Recipe,
}

/// What a mutation changed, as far as the cache is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub user: UserId,
    /// Log entries touched, by date and kind (an update lists both its
    /// original and its new date).
    pub touched: Vec<(Day, ItemKind)>,
    /// The day a day-level mutation is about (completion, scheduled meal).
    pub day: Option<Day>,
}

impl Facts {
    pub fn user(user: UserId) -> Facts {
        Facts { user, touched: Vec::new(), day: None }
    }

    pub fn day(user: UserId, day: Day) -> Facts {
        Facts { user, touched: Vec::new(), day: Some(day) }
    }

    pub fn touched(user: UserId, touched: impl IntoIterator<Item = (Day, ItemKind)>) -> Facts {
        Facts { user, touched: touched.into_iter().collect(), day: None }
    }
}

/// Which tier-1 keys a row invalidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRule {
    /// The day logs of each distinct touched date.
    LogsOfTouchedDates,
    /// The day logs of the mutation's day.
    LogsOfDay,
    /// Every tier-1 and tier-2 entry of the user (a per-user epoch).
    EverythingOfUser,
}

/// Which tier-2 tags a row invalidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagRule {
    Always(TagFamily),
    /// Only when a touched entry records a food.
    IfFoodTouched(TagFamily),
    /// `user_scheduled_DATE` of each touched date holding a recipe entry.
    ScheduledOfRecipeDates,
    /// `user_scheduled_DATE` of the mutation's day.
    ScheduledOfDay,
}

/// One row of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub operation: Operation,
    pub keys: &'static [KeyRule],
    pub tags: &'static [TagRule],
}

use KeyRule::*;
use TagFamily as F;
use TagRule::*;

/// The reconciled matrix of the cache contract, less five items that the
/// mutant test (`tests/differential`) proved superfluous: removing them
/// changes no read. Each is explained in docs/caching-matrix.md.
pub const MATRIX: &[Row] = &[
    Row {
        operation: Operation::CreateLogEntries,
        keys: &[LogsOfTouchedDates],
        tags: &[IfFoodTouched(F::UserFood), Always(F::UserLogs), ScheduledOfRecipeDates],
    },
    // Not user_food: an update changes no food and no use count.
    Row {
        operation: Operation::UpdateLogEntry,
        keys: &[LogsOfTouchedDates],
        tags: &[Always(F::UserLogs), ScheduledOfRecipeDates],
    },
    Row {
        operation: Operation::DeleteLogEntry,
        keys: &[LogsOfTouchedDates],
        tags: &[IfFoodTouched(F::UserFood), Always(F::UserLogs), ScheduledOfRecipeDates],
    },
    // Not user_completion: the streak read, the only one carrying it, also
    // carries user_streaks.
    Row { operation: Operation::CompleteDay, keys: &[LogsOfDay], tags: &[Always(F::UserStreaks)] },
    Row { operation: Operation::UndoDay, keys: &[LogsOfDay], tags: &[Always(F::UserStreaks)] },
    // Not user_food: a new food has no use, so no frequent-foods answer changes.
    Row { operation: Operation::CreateFood, keys: &[], tags: &[] },
    Row { operation: Operation::SetTargets, keys: &[], tags: &[Always(F::User)] },
    Row { operation: Operation::ScheduleMealPlan, keys: &[], tags: &[Always(F::UserScheduled)] },
    // Not user_scheduled: only that date's schedule changes.
    Row { operation: Operation::DeleteScheduledMeal, keys: &[], tags: &[ScheduledOfDay] },
    Row { operation: Operation::DeleteScheduledPlan, keys: &[], tags: &[Always(F::UserScheduled)] },
    // Not the user tag: the user's epoch already covers every entry of both tiers.
    Row { operation: Operation::DeleteUser, keys: &[EverythingOfUser], tags: &[] },
];

/// What the contract's matrix lists and this one leaves out, with the reason
/// (rendered into docs/caching-matrix.md).
pub const LEFT_OUT: &[(Operation, &str, &str)] = &[
    (Operation::UpdateLogEntry, "user_food", "an update changes neither a food nor a use count"),
    (
        Operation::CompleteDay,
        "user_completion",
        "the streak read, the only one tagged with it, is also tagged user_streaks",
    ),
    (Operation::UndoDay, "user_completion", "as for completing a day"),
    (Operation::CreateFood, "user_food", "a new food has no use yet, so no frequent-foods answer changes"),
    (
        Operation::DeleteScheduledMeal,
        "user_scheduled",
        "only the schedule of the meal's date changes, and its date tag is invalidated",
    ),
    (Operation::DeleteUser, "user", "the user's epoch invalidates every tier-1 and tier-2 entry of the user"),
];

fn family_tag(family: TagFamily, user: UserId, day: Option<Day>) -> Option<Tag> {
    Some(match family {
        F::User => Tag::User(user),
        F::UserFood => Tag::UserFood(user),
        F::UserLogs => Tag::UserLogs(user),
        F::UserCompletion => Tag::UserCompletion(user),
        F::UserStreaks => Tag::UserStreaks(user),
        F::UserScheduled => Tag::UserScheduled(user),
        F::UserScheduledDate => Tag::UserScheduledDate(user, day?),
    })
}

impl KeyRule {
    pub fn apply(self, facts: &Facts, out: &mut BTreeSet<Target>) {
        match self {
            LogsOfTouchedDates => out.extend(facts.touched.iter().map(|(date, _)| Target::day_logs(facts.user, *date))),
            LogsOfDay => out.extend(facts.day.map(|day| Target::day_logs(facts.user, day))),
            EverythingOfUser => {
                out.insert(Target::AllOfUser(facts.user));
            }
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            LogsOfTouchedDates => "logs of each date touched (an update: original and new date)",
            LogsOfDay => "logs of that date",
            EverythingOfUser => "every tier-1 key of the user (and every tier-2 entry: per-user epoch)",
        }
    }
}

impl TagRule {
    pub fn apply(self, facts: &Facts, out: &mut BTreeSet<Target>) {
        let user = facts.user;
        match self {
            Always(family) => out.extend(family_tag(family, user, facts.day).map(Target::Tag)),
            IfFoodTouched(family) => {
                if facts.touched.iter().any(|(_, kind)| *kind == ItemKind::Food) {
                    out.extend(family_tag(family, user, facts.day).map(Target::Tag));
                }
            }
            ScheduledOfRecipeDates => out.extend(
                facts
                    .touched
                    .iter()
                    .filter(|(_, kind)| *kind == ItemKind::Recipe)
                    .map(|(date, _)| Target::Tag(Tag::UserScheduledDate(user, *date))),
            ),
            ScheduledOfDay => out.extend(facts.day.map(|day| Target::Tag(Tag::UserScheduledDate(user, day)))),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Always(family) => family.label().to_owned(),
            IfFoodTouched(family) => format!("{} if a food entry", family.label()),
            ScheduledOfRecipeDates => "user_scheduled_DATE of each date holding a recipe entry".to_owned(),
            ScheduledOfDay => "user_scheduled_DATE of that date".to_owned(),
        }
    }
}

impl Operation {
    pub fn describe(self) -> &'static str {
        match self {
            Operation::CreateLogEntries => "create log entries (batch)",
            Operation::UpdateLogEntry => "update a log entry",
            Operation::DeleteLogEntry => "delete a log entry",
            Operation::CompleteDay => "complete a day",
            Operation::UndoDay => "undo a day's completion",
            Operation::CreateFood => "create a food",
            Operation::SetTargets => "set targets",
            Operation::ScheduleMealPlan => "schedule a meal plan",
            Operation::DeleteScheduledMeal => "delete a scheduled meal",
            Operation::DeleteScheduledPlan => "delete a scheduled plan",
            Operation::DeleteUser => "delete the user",
        }
    }
}

/// A matrix the service applies: `MATRIX` in production; tests derive
/// mutants with one rule removed to prove every rule is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    rows: Vec<Row>,
}

impl Default for Matrix {
    fn default() -> Self {
        Matrix { rows: MATRIX.to_vec() }
    }
}

impl Matrix {
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// What `operation` with `facts` must invalidate.
    pub fn targets(&self, operation: Operation, facts: &Facts) -> BTreeSet<Target> {
        let mut out = BTreeSet::new();
        for row in self.rows.iter().filter(|row| row.operation == operation) {
            row.keys.iter().for_each(|rule| rule.apply(facts, &mut out));
            row.tags.iter().for_each(|rule| rule.apply(facts, &mut out));
        }
        out
    }

    /// Every variant of this matrix with exactly one rule removed, with a
    /// label naming the removed rule.
    pub fn mutants(&self) -> Vec<(String, Matrix)> {
        let mut mutants = Vec::new();
        for (index, row) in self.rows.iter().enumerate() {
            for skip in 0..row.keys.len() {
                let keys: Vec<KeyRule> =
                    row.keys.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, r)| *r).collect();
                let mut rows = self.rows.clone();
                rows[index].keys = Vec::leak(keys);
                mutants.push((format!("{:?} without {:?}", row.operation, row.keys[skip]), Matrix { rows }));
            }
            for skip in 0..row.tags.len() {
                let tags: Vec<TagRule> =
                    row.tags.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, r)| *r).collect();
                let mut rows = self.rows.clone();
                rows[index].tags = Vec::leak(tags);
                mutants.push((format!("{:?} without {:?}", row.operation, row.tags[skip]), Matrix { rows }));
            }
        }
        mutants
    }

    /// The matrix as a Markdown table (docs/caching-matrix.md), followed by
    /// what it leaves out of the contract's matrix and why.
    pub fn render_markdown(&self) -> String {
        let mut out = self.render_table();
        out.push_str("\n## Left out of the contract's matrix\n\nEach item below is in the matrix of the cache contract but not applied here: the mutant test (`crates/service/tests/differential`) removes every rule in turn and finds that removing these changes no read, while removing any rule kept here makes a read stale.\n\n| operation | left out | why |\n|---|---|---|\n");
        for (operation, item, why) in LEFT_OUT {
            out.push_str(&format!("| {} | {item} | {why} |\n", operation.describe()));
        }
        out.push_str("\n## Outside the matrix\n\n");
        out.push_str(crate::outbox::SAFETY_RULE);
        out.push('\n');
        out
    }

    fn render_table(&self) -> String {
        let mut out = String::from("| operation | tier-1 keys | tier-2 tags |\n|---|---|---|\n");
        for row in &self.rows {
            let keys: Vec<&str> = row.keys.iter().map(|rule| rule.describe()).collect();
            let tags: Vec<String> = row.tags.iter().map(|rule| rule.describe()).collect();
            let cell = |items: Vec<String>| if items.is_empty() { "-".to_owned() } else { items.join("; ") };
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                row.operation.describe(),
                cell(keys.into_iter().map(str::to_owned).collect()),
                cell(tags)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: UserId = UserId(7);

    fn d(text: &str) -> Day {
        text.parse().unwrap()
    }

    fn rendered(targets: BTreeSet<Target>) -> Vec<String> {
        targets.into_iter().map(Target::describe).collect()
    }

    #[test]
    fn every_operation_has_exactly_one_row() {
        let ops: BTreeSet<Operation> = MATRIX.iter().map(|row| row.operation).collect();
        assert_eq!(ops.len(), MATRIX.len(), "an operation has two rows");
        assert_eq!(ops.len(), 11);
    }

    #[test]
    fn batch_of_food_and_recipe_over_two_dates() {
        let facts = Facts::touched(
            U,
            [(d("2026-11-24"), ItemKind::Food), (d("2026-11-25"), ItemKind::Recipe), (d("2026-11-24"), ItemKind::Food)],
        );
        let targets = rendered(Matrix::default().targets(Operation::CreateLogEntries, &facts));
        assert_eq!(
            targets,
            [
                "macro:{user:7}:logs:2026-11-24",
                "macro:{user:7}:logs:2026-11-25",
                "user_7_food",
                "user_7_logs",
                "user_7_scheduled_2026-11-25",
            ]
        );
    }

    #[test]
    fn recipe_only_batch_spares_user_food() {
        let facts = Facts::touched(U, [(d("2026-11-24"), ItemKind::Recipe)]);
        let targets = rendered(Matrix::default().targets(Operation::DeleteLogEntry, &facts));
        assert_eq!(targets, ["macro:{user:7}:logs:2026-11-24", "user_7_logs", "user_7_scheduled_2026-11-24"]);
    }

    #[test]
    fn day_level_rows() {
        let m = Matrix::default();
        let day = Facts::day(U, d("2026-11-24"));
        assert_eq!(
            rendered(m.targets(Operation::CompleteDay, &day)),
            ["macro:{user:7}:logs:2026-11-24", "user_7_streaks"]
        );
        assert_eq!(rendered(m.targets(Operation::DeleteScheduledMeal, &day)), ["user_7_scheduled_2026-11-24"]);
        assert_eq!(rendered(m.targets(Operation::DeleteUser, &Facts::user(U))), ["every entry of user 7"]);
        assert!(m.targets(Operation::CreateFood, &Facts::user(U)).is_empty());
    }

    #[test]
    fn mutants_remove_exactly_one_rule_each() {
        let matrix = Matrix::default();
        let rules: usize = MATRIX.iter().map(|row| row.keys.len() + row.tags.len()).sum();
        let mutants = matrix.mutants();
        assert_eq!(mutants.len(), rules);
        for (label, mutant) in &mutants {
            let removed: usize = mutant.rows().iter().map(|row| row.keys.len() + row.tags.len()).sum();
            assert_eq!(removed, rules - 1, "{label}");
        }
    }
}
