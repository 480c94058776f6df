//! The invalidation derived from the catalogue: the only place that decides
//! what the cache forgets.
//!
//! Each cached read declares a `ReadSpec` (the kinds of facts its answer is
//! made of and how its dates are bucketed into guards) and each mutation a
//! `MutationSpec` (the kinds it may change), all in `catalog.rs`; each run
//! of a mutation makes `Changes`, computed by its declaration from its
//! input and the rows it touched. A mutation invalidates a read exactly
//! when their facts overlap: for every read depending on a changed kind, the
//! guards of the buckets the changed dates fall in are bumped
//! (`Matrix::targets`). Nothing else is written by hand: adding a read or a
//! mutation means declaring its facts.
//!
//! Ranges need no scan: a dated fact names one bucket per read (its day,
//! ISO week or month), so a write of one date bumps one guard per read that
//! depends on it, whatever the ranges cached.
//!
//! The vocabulary (`vocabulary.rs`) and the registries (`catalog.rs`) are
//! re-exported here: `facts::` is the path the rest of the workspace names
//! them by.

use std::collections::BTreeSet;

use macrotrack_cache_keys::{Bucket, Guard, ReadFamily, Tag, Target, Tier};

pub use crate::catalog::{MUTATIONS, READS, mutation_spec, read_spec};
pub use crate::vocabulary::{
    Change, Changes, DATE_WINDOW_DAYS, Dates, Fact, FactKind, Granularity, MutationSpec, Operation, ReadSpec, Window,
};

/// A derived dependency: `operation` can change what `read` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    /// The mutation.
    pub operation: Operation,
    /// The read it can make stale.
    pub read: ReadFamily,
}

/// The invalidation derived from the declarations. The default is what the
/// service applies; tests remove one edge at a time (`without`) to prove
/// that the walk notices each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matrix {
    removed: Option<Edge>,
}

impl Matrix {
    /// Every (mutation, read) pair whose facts can overlap, in declaration
    /// order. Deleting the user is an edge to every read (one epoch bump).
    pub fn edges() -> Vec<Edge> {
        let mut edges = Vec::new();
        for mutation in MUTATIONS {
            for read in READS {
                if read.depends_on.iter().any(|kind| mutation.may_change(*kind)) {
                    edges.push(Edge { operation: mutation.operation, read: read.family });
                }
            }
        }
        edges
    }

    /// This matrix less one edge: `operation` no longer invalidates `read`
    /// (for deleting the user, which is one epoch bump: nothing at all).
    pub fn without(edge: Edge) -> Matrix {
        Matrix { removed: Some(edge) }
    }

    /// The edge this matrix lacks, if it is a mutant.
    pub fn removed(&self) -> Option<Edge> {
        self.removed
    }

    /// One matrix per edge, each without it, labelled.
    pub fn mutants() -> Vec<(String, Matrix)> {
        let mut mutants: Vec<(String, Matrix)> = Vec::new();
        let mut epoch_mutant = false;
        for edge in Self::edges() {
            if mutation_spec(edge.operation).everything {
                // One bump serves every read: one mutant.
                if !std::mem::replace(&mut epoch_mutant, true) {
                    mutants.push((format!("{:?} without the user's epoch", edge.operation), Self::without(edge)));
                }
                continue;
            }
            mutants.push((format!("{:?} without {:?}", edge.operation, edge.read), Self::without(edge)));
        }
        mutants
    }

    /// What `operation`, having made `changes`, must invalidate.
    pub fn targets(&self, operation: Operation, changes: &Changes) -> BTreeSet<Target> {
        let mut out = BTreeSet::new();
        let removed = |read: ReadFamily| self.removed == Some(Edge { operation, read });
        if changes.everything {
            if self.removed.is_none_or(|edge| edge.operation != operation) {
                out.insert(Target::AllOfUser(changes.user));
            }
            return out;
        }
        for read in READS.iter().filter(|read| !removed(read.family)) {
            for fact in &changes.facts {
                out.extend(read.bumped_by(changes.user, fact).into_iter().map(Target::Guard));
            }
        }
        out
    }
}

/// What an operator's tag (the seed's names, `POST /v1/admin/cache/invalidate`)
/// makes the cache forget: the guards of the tier-2 reads that depend on
/// what the tag names, for every date (a date tag: for that date). As in the
/// seed, tags reach tier 2 only; `user_42` reaches every tier-2 read.
pub fn tag_targets(tag: Tag) -> BTreeSet<Target> {
    use FactKind as K;
    let user = tag.user();
    let facts: Vec<Fact> = match tag {
        Tag::User(_) => {
            return READS
                .iter()
                .filter(|read| read.tier == Tier::Two && read.has_whole_guard())
                .map(|read| Target::Guard(Guard::new(user, read.family, Bucket::Whole)))
                .collect();
        }
        Tag::UserFood(_) => {
            vec![Fact::undated(K::FoodUses), Fact::undated(K::Foods), Fact::undated(K::OwnedFoods)]
        }
        Tag::UserLogs(_) => {
            vec![Fact::undated(K::FoodEntries), Fact::undated(K::RecipeEntries), Fact::undated(K::QuickEntries)]
        }
        Tag::UserCompletion(_) | Tag::UserStreaks(_) => vec![Fact::undated(K::Completions)],
        Tag::UserScheduled(_) => vec![Fact::undated(K::Schedule)],
        Tag::UserScheduledDate(_, date) => vec![Fact::on(K::Schedule, date)],
    };
    READS
        .iter()
        .filter(|read| read.tier == Tier::Two)
        .flat_map(|read| facts.iter().flat_map(move |fact| read.bumped_by(user, fact)))
        .map(Target::Guard)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use macrotrack_domain::{Day, UserId};

    const U: UserId = UserId(7);

    fn d(text: &str) -> Day {
        text.parse().unwrap()
    }

    fn rendered(targets: BTreeSet<Target>) -> Vec<String> {
        targets.into_iter().map(Target::describe).collect()
    }

    #[test]
    fn a_food_entry_reaches_each_read_of_its_date_in_one_bucket() {
        let changes =
            Changes::new(U, [Fact::on(FactKind::FoodEntries, d("2026-11-24")), Fact::undated(FactKind::FoodUses)]);
        assert_eq!(
            rendered(Matrix::default().targets(Operation::CreateLogEntries, &changes)),
            [
                "macro:{user:7}:gen:logs:2026-11-24",
                "macro:{user:7}:gen:frequent_foods",
                "macro:{user:7}:gen:summary:2026-11",
                "macro:{user:7}:gen:week:2026-W48",
                "macro:{user:7}:gen:food_search",
                "macro:{user:7}:gen:recent_foods",
            ]
        );
    }

    #[test]
    fn a_plan_bumps_each_date_it_covers_and_nothing_else() {
        let changes = Changes::new(U, [Fact::between(FactKind::Schedule, d("2026-11-30"), d("2026-12-02"))]);
        assert_eq!(
            rendered(Matrix::default().targets(Operation::ScheduleMealPlan, &changes)),
            [
                "macro:{user:7}:gen:schedule:2026-11-30",
                "macro:{user:7}:gen:schedule:2026-12-01",
                "macro:{user:7}:gen:schedule:2026-12-02",
            ]
        );
    }

    #[test]
    fn an_entry_reads_its_guards_from_its_spec() {
        let logs = read_spec(ReadFamily::Logs).guards(U, Some((d("2026-11-24"), d("2026-11-24"))));
        assert_eq!(logs, [Guard::new(U, ReadFamily::Logs, Bucket::Day(d("2026-11-24")))]);
        assert!(read_spec(ReadFamily::Credential).guards(U, None).is_empty(), "the epoch alone");
        let week = read_spec(ReadFamily::Week).guards(U, Some(d("2026-11-23").iso_week()));
        let week: Vec<String> = week.into_iter().map(Guard::render).collect();
        assert_eq!(week, ["macro:{user:7}:gen:week", "macro:{user:7}:gen:week:2026-W48"]);
        let streak = read_spec(ReadFamily::Streak).guards(U, None);
        assert_eq!(streak, [Guard::new(U, ReadFamily::Streak, Bucket::Whole)]);
    }

    #[test]
    fn tags_reach_the_tier_2_reads_that_depend_on_what_they_name() {
        assert_eq!(
            rendered(tag_targets(Tag::UserLogs(U))),
            [
                "macro:{user:7}:gen:summary",
                "macro:{user:7}:gen:week",
                "macro:{user:7}:gen:schedule",
                "macro:{user:7}:gen:recent_foods"
            ],
            "not the tier-1 day logs; the schedule shows whether its meals are logged"
        );
        assert_eq!(
            rendered(tag_targets(Tag::UserFood(U))),
            [
                "macro:{user:7}:gen:frequent_foods",
                "macro:{user:7}:gen:food_search",
                "macro:{user:7}:gen:food",
                "macro:{user:7}:gen:recent_foods"
            ]
        );
        assert_eq!(rendered(tag_targets(Tag::UserCompletion(U))), rendered(tag_targets(Tag::UserStreaks(U))));
        assert_eq!(
            rendered(tag_targets(Tag::UserScheduledDate(U, d("2026-11-24")))),
            ["macro:{user:7}:gen:schedule:2026-11-24"]
        );
        assert_eq!(
            tag_targets(Tag::User(U)).len(),
            9,
            "every tier-2 read of the user but the credential (not the catalogue's shared ones)"
        );
    }

    #[test]
    fn each_mutant_lacks_exactly_its_edge() {
        let changes = Changes::new(U, [Fact::on(FactKind::Completions, d("2026-11-24"))]);
        let full = Matrix::default().targets(Operation::CompleteDay, &changes);
        let edge = Edge { operation: Operation::CompleteDay, read: ReadFamily::Streak };
        let mutant = Matrix::without(edge).targets(Operation::CompleteDay, &changes);
        let missing: Vec<Target> = full.difference(&mutant).copied().collect();
        assert_eq!(missing, [Target::Guard(Guard::new(U, ReadFamily::Streak, Bucket::Whole))]);
        let everything = Changes::everything(U);
        let epoch = Edge { operation: Operation::DeleteUser, read: ReadFamily::Me };
        assert!(Matrix::without(epoch).targets(Operation::DeleteUser, &everything).is_empty());
        assert_eq!(Matrix::default().targets(Operation::DeleteUser, &everything).len(), 1);
    }
}
