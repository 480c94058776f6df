//! What cached reads depend on and what mutations change, and the
//! invalidation derived from the two: the only place that decides what the
//! cache forgets.
//!
//! A read declares, next to its definition, a `ReadSpec`: the kinds of
//! facts its answer is made of and how its dates are bucketed into guards.
//! A mutation declares, next to its use case, a `MutationSpec` (the kinds it
//! may change, for the docs and the checks) and, each time it runs, the
//! `Changes` it made: facts computed from its input and the rows it touched.
//! A mutation invalidates a read exactly when their facts overlap: for every
//! read depending on a changed kind, the guards of the buckets the changed
//! dates fall in are bumped (`Matrix::targets`). Nothing else is written by
//! hand: adding a read or a mutation means declaring its facts.
//!
//! Ranges need no scan: a dated fact names one bucket per read (its day,
//! ISO week or month), so a write of one date bumps one guard per read that
//! depends on it, whatever the ranges cached.

use std::collections::BTreeSet;

use macrotrack_cache_keys::{Bucket, Guard, ReadFamily, Tag, Target, Tier};
use macrotrack_domain::{Day, UserId};

/// A kind of stored data of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FactKind {
    /// The user's row: name and targets.
    Profile,
    /// Log entries that record a food, by date.
    FoodEntries,
    /// Log entries that record a recipe, by date.
    RecipeEntries,
    /// Completed days, by date.
    Completions,
    /// How many times each food was logged.
    FoodUses,
    /// The rows of the user's own foods.
    Foods,
    /// Scheduled plans and meals, by date.
    Schedule,
    /// The user's credential (changes only with the user: the epoch).
    Credential,
}

impl FactKind {
    /// Whether facts of this kind are about dates.
    pub fn dated(self) -> bool {
        matches!(self, FactKind::FoodEntries | FactKind::RecipeEntries | FactKind::Completions | FactKind::Schedule)
    }

    pub fn describe(self) -> &'static str {
        match self {
            FactKind::Profile => "the user's name and targets",
            FactKind::FoodEntries => "food log entries",
            FactKind::RecipeEntries => "recipe log entries",
            FactKind::Completions => "completed days",
            FactKind::FoodUses => "food use counts",
            FactKind::Foods => "the user's foods",
            FactKind::Schedule => "scheduled meals and plans",
            FactKind::Credential => "the user's credential",
        }
    }
}

/// The dates a fact covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dates {
    /// The kind has no dates (or: every date, for an operator's tag).
    Undated,
    On(Day),
    /// `from..=to`.
    Between(Day, Day),
}

/// One changed fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fact {
    pub kind: FactKind,
    pub dates: Dates,
}

impl Fact {
    pub fn on(kind: FactKind, date: Day) -> Fact {
        Fact { kind, dates: Dates::On(date) }
    }

    pub fn between(kind: FactKind, from: Day, to: Day) -> Fact {
        Fact { kind, dates: Dates::Between(from.min(to), from.max(to)) }
    }

    pub fn undated(kind: FactKind) -> Fact {
        Fact { kind, dates: Dates::Undated }
    }
}

/// What one run of a mutation changed, for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    pub user: UserId,
    pub facts: Vec<Fact>,
    /// Everything of the user (deleting them): their epoch.
    pub everything: bool,
}

impl Changes {
    pub fn new(user: UserId, facts: impl IntoIterator<Item = Fact>) -> Changes {
        Changes { user, facts: facts.into_iter().collect(), everything: false }
    }

    pub fn everything(user: UserId) -> Changes {
        Changes { user, facts: Vec::new(), everything: true }
    }
}

/// How a read's dated facts are bucketed into guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// One guard per date: the read is about one date.
    Day,
    /// One per ISO week (Monday to Sunday).
    IsoWeek,
    /// One per calendar month.
    Month,
    /// One for the whole read: it depends on every date.
    Whole,
}

impl Granularity {
    fn bucket(self, date: Day) -> Bucket {
        match self {
            Granularity::Day => Bucket::Day(date),
            Granularity::IsoWeek => Bucket::IsoWeek(date),
            Granularity::Month => Bucket::Month(date),
            Granularity::Whole => Bucket::Whole,
        }
    }

    /// The buckets of `from..=to`, one per day, week or month it touches.
    fn buckets(self, from: Day, to: Day) -> Vec<Bucket> {
        match self {
            Granularity::Whole => vec![Bucket::Whole],
            Granularity::Month => from.months_until(to).into_iter().map(|(first, _)| Bucket::Month(first)).collect(),
            Granularity::IsoWeek => {
                from.weeks_until(to).into_iter().map(|(monday, _)| Bucket::IsoWeek(monday)).collect()
            }
            Granularity::Day => {
                let mut days = Vec::with_capacity(usize::try_from(from.days_until(to) + 1).unwrap_or(0));
                let mut day = Some(from);
                while let Some(current) = day.filter(|current| *current <= to) {
                    days.push(Bucket::Day(current));
                    day = current.plus_days(1);
                }
                days
            }
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Granularity::Day => "per date",
            Granularity::IsoWeek => "per ISO week",
            Granularity::Month => "per calendar month",
            Granularity::Whole => "one for the read",
        }
    }
}

/// A cached read: what its answer is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSpec {
    pub family: ReadFamily,
    /// As the contract's matrix names the read.
    pub name: &'static str,
    pub tier: Tier,
    pub depends_on: &'static [FactKind],
    /// How its dated facts become guards.
    pub granularity: Granularity,
}

impl ReadSpec {
    /// Whether entries record a guard for the whole read: every tier-2 read
    /// that depends on anything but its credential does (undated facts live
    /// there, and an operator's tag forces it), and a read of every date.
    fn has_whole_guard(&self) -> bool {
        self.depends_on.iter().any(|kind| *kind != FactKind::Credential)
            && (self.tier == Tier::Two || self.granularity == Granularity::Whole)
    }

    /// The guards an entry of this read records, besides its user's epoch,
    /// when it covers `dates` (`None`: a read about no dates).
    pub fn guards(&self, user: UserId, dates: Option<(Day, Day)>) -> Vec<Guard> {
        // A read missing from `READS` would never be invalidated: every test
        // that reads it fails here instead.
        debug_assert!(READS.contains(&self), "{:?} is not in READS", self.family);
        let mut guards = Vec::with_capacity(3);
        if self.has_whole_guard() {
            guards.push(Guard::new(user, self.family, Bucket::Whole));
        }
        let dated = self.depends_on.iter().any(|kind| kind.dated());
        if let (true, Some((from, to)), false) = (dated, dates, self.granularity == Granularity::Whole) {
            guards.extend(
                self.granularity.buckets(from, to).into_iter().map(|bucket| Guard::new(user, self.family, bucket)),
            );
        }
        guards
    }

    /// The guards that `fact` bumps for this read (none when the read does
    /// not depend on its kind).
    fn bumped_by(&self, user: UserId, fact: &Fact) -> Vec<Guard> {
        if !self.depends_on.contains(&fact.kind) {
            return Vec::new();
        }
        let buckets = match fact.dates {
            _ if !fact.kind.dated() => vec![Bucket::Whole],
            Dates::Undated => vec![Bucket::Whole],
            Dates::On(date) => vec![self.granularity.bucket(date)],
            Dates::Between(from, to) => self.granularity.buckets(from, to),
        };
        buckets.into_iter().map(|bucket| Guard::new(user, self.family, bucket)).collect()
    }

    /// How its entries are guarded, for the docs.
    pub fn describe_guards(&self) -> String {
        let dated = self.depends_on.iter().any(|kind| kind.dated()) && self.granularity != Granularity::Whole;
        match (self.has_whole_guard(), dated) {
            (true, true) => format!("one for the read, and {}", self.granularity.describe()),
            (true, false) => "one for the read".to_owned(),
            (false, true) => self.granularity.describe().to_owned(),
            (false, false) => "the user's epoch only".to_owned(),
        }
    }
}

/// Every mutation of the contract (and the additions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    CreateLogEntries,
    UpdateLogEntry,
    DeleteLogEntry,
    CompleteDay,
    UndoDay,
    CreateFood,
    EditFood,
    SetTargets,
    ScheduleMealPlan,
    DeleteScheduledMeal,
    DeleteScheduledPlan,
    DeleteUser,
}

/// One kind of fact a mutation may change, and which: for the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub kind: FactKind,
    /// Which dates, or when (`"each date with a food entry"`, `"always"`).
    pub which: &'static str,
}

/// A mutation: what it may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MutationSpec {
    pub operation: Operation,
    /// As the contract's matrix names it.
    pub name: &'static str,
    /// The dates its changes are about, whatever their kind (for the docs:
    /// `"each date of the batch"`; empty when it changes nothing dated).
    pub dates: &'static str,
    pub changes: &'static [Change],
    /// Changes everything of the user (its epoch).
    pub everything: bool,
}

impl MutationSpec {
    fn may_change(&self, kind: FactKind) -> bool {
        self.everything || self.changes.iter().any(|change| change.kind == kind)
    }
}

/// Every cached read, each declared beside its definition.
pub const READS: &[&ReadSpec] = &[
    &crate::logs::DAY_LOGS,
    &crate::users::CREDENTIAL,
    &crate::users::ME,
    &crate::foods::FREQUENT_FOODS,
    &crate::days::SUMMARY,
    &crate::weeks::WEEK,
    &crate::days::STREAK,
    &crate::plans::SCHEDULE,
];

/// Every mutation, each declared beside its use case.
pub const MUTATIONS: &[&MutationSpec] = &[
    &crate::logs::CREATE_LOG_ENTRIES,
    &crate::logs::UPDATE_LOG_ENTRY,
    &crate::logs::DELETE_LOG_ENTRY,
    &crate::days::COMPLETE_DAY,
    &crate::days::UNDO_DAY,
    &crate::foods::CREATE_FOOD,
    &crate::foods::EDIT_FOOD,
    &crate::users::SET_TARGETS,
    &crate::plans::SCHEDULE_MEAL_PLAN,
    &crate::plans::DELETE_SCHEDULED_MEAL,
    &crate::plans::DELETE_SCHEDULED_PLAN,
    &crate::users::DELETE_USER,
];

pub fn read_spec(family: ReadFamily) -> &'static ReadSpec {
    READS.iter().copied().find(|read| read.family == family).unwrap_or_else(|| unreachable!("{family:?} declared"))
}

pub fn mutation_spec(operation: Operation) -> &'static MutationSpec {
    MUTATIONS.iter().copied().find(|spec| spec.operation == operation).unwrap_or_else(|| unreachable!())
}

/// A derived dependency: `operation` can change what `read` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    pub operation: Operation,
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
        debug_assert!(
            changes.facts.iter().all(|fact| mutation_spec(operation).may_change(fact.kind)),
            "{operation:?} changed a kind it does not declare: {changes:?}"
        );
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
        Tag::UserFood(_) => vec![Fact::undated(K::FoodUses), Fact::undated(K::Foods)],
        Tag::UserLogs(_) => vec![Fact::undated(K::FoodEntries), Fact::undated(K::RecipeEntries)],
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

    const U: UserId = UserId(7);

    fn d(text: &str) -> Day {
        text.parse().unwrap()
    }

    fn rendered(targets: BTreeSet<Target>) -> Vec<String> {
        targets.into_iter().map(Target::describe).collect()
    }

    #[test]
    fn every_read_family_and_operation_is_declared_once() {
        for family in ReadFamily::ALL {
            assert_eq!(READS.iter().filter(|read| read.family == family).count(), 1, "{family:?}");
        }
        let operations: BTreeSet<Operation> = MUTATIONS.iter().map(|spec| spec.operation).collect();
        assert_eq!(operations.len(), MUTATIONS.len(), "an operation declared twice");
        assert_eq!(operations.len(), 12);
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
            ["macro:{user:7}:gen:summary", "macro:{user:7}:gen:week", "macro:{user:7}:gen:schedule"],
            "not the tier-1 day logs; the schedule shows whether its meals are logged"
        );
        assert_eq!(rendered(tag_targets(Tag::UserFood(U))), ["macro:{user:7}:gen:frequent_foods"]);
        assert_eq!(rendered(tag_targets(Tag::UserCompletion(U))), rendered(tag_targets(Tag::UserStreaks(U))));
        assert_eq!(
            rendered(tag_targets(Tag::UserScheduledDate(U, d("2026-11-24")))),
            ["macro:{user:7}:gen:schedule:2026-11-24"]
        );
        assert_eq!(tag_targets(Tag::User(U)).len(), 6, "every tier-2 read but the credential");
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
