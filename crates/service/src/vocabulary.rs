//! The words the catalogue is written in: kinds of facts, the facts a
//! mutation changed, and the two kinds of declaration (`ReadSpec`,
//! `MutationSpec`), with how each turns dates into guards and facts.
//!
//! Nothing here names a read or a mutation: `catalog.rs` declares them and
//! `facts.rs` derives the invalidation from the declarations, so both
//! point here and this file points at neither.

use macrotrack_cache_keys::{Bucket, EntryAddress, Guard, ReadFamily, Tier};
use macrotrack_domain::{Day, UserId};

/// How far from the user's today a date-addressed read is cached, either
/// side (the cache contract's window of cached dates).
pub const DATE_WINDOW_DAYS: u32 = 400;

/// A kind of stored data of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FactKind {
    /// The user's row: name and targets.
    Profile,
    /// The user's time zone, which their default today is taken from.
    TimeZone,
    /// Log entries that record a food, by date.
    FoodEntries,
    /// Log entries that record a recipe, by date.
    RecipeEntries,
    /// Quick adds (macros without a food or recipe), by date: no use
    /// count, so frequent and recent foods do not depend on them.
    QuickEntries,
    /// Completed days, by date.
    Completions,
    /// How many times each food was logged.
    FoodUses,
    /// The rows of the user's own foods.
    Foods,
    /// Which foods the user owns (a create adds one).
    OwnedFoods,
    /// Scheduled plans and meals, by date.
    Schedule,
    /// The user's credential (changes only with the user: the epoch).
    Credential,
}

impl FactKind {
    /// Whether facts of this kind are about dates.
    pub fn dated(self) -> bool {
        matches!(
            self,
            FactKind::FoodEntries
                | FactKind::RecipeEntries
                | FactKind::QuickEntries
                | FactKind::Completions
                | FactKind::Schedule
        )
    }

    /// The kind as the docs name it.
    pub fn describe(self) -> &'static str {
        match self {
            FactKind::Profile => "the user's name and targets",
            FactKind::TimeZone => "the user's time zone",
            FactKind::FoodEntries => "food log entries",
            FactKind::RecipeEntries => "recipe log entries",
            FactKind::QuickEntries => "quick adds",
            FactKind::Completions => "completed days",
            FactKind::FoodUses => "food use counts",
            FactKind::Foods => "the user's foods",
            FactKind::OwnedFoods => "which foods the user owns",
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
    /// One date.
    On(Day),
    /// `from..=to`.
    Between(Day, Day),
}

impl Dates {
    /// `from..=to` whichever way round they were given, so a range is never
    /// empty by mistake.
    pub fn between(from: Day, to: Day) -> Dates {
        Dates::Between(from.min(to), from.max(to))
    }
}

/// One changed fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fact {
    /// What changed.
    pub kind: FactKind,
    /// When: which of a read's buckets it reaches.
    pub dates: Dates,
}

impl Fact {
    /// A change of `kind` on one date.
    pub fn on(kind: FactKind, date: Day) -> Fact {
        Fact { kind, dates: Dates::On(date) }
    }

    /// A change of `kind` on every date of a range (a plan's).
    pub fn between(kind: FactKind, from: Day, to: Day) -> Fact {
        Fact { kind, dates: Dates::between(from, to) }
    }

    /// A change of a kind that has no dates (or of all its dates).
    pub fn undated(kind: FactKind) -> Fact {
        Fact { kind, dates: Dates::Undated }
    }
}

/// What one run of a mutation changed, for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Whose data changed: guards are per user.
    pub user: UserId,
    /// What changed.
    pub facts: Vec<Fact>,
    /// Everything of the user (deleting them): their epoch.
    pub everything: bool,
}

impl Changes {
    /// Some facts of `user` changed.
    pub fn new(user: UserId, facts: impl IntoIterator<Item = Fact>) -> Changes {
        Changes { user, facts: facts.into_iter().collect(), everything: false }
    }

    /// Everything of `user` changed: one epoch bump forgets it all.
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

/// Which of a read's entries the cache keeps, by the dates they are
/// addressed by: what one client can make the store hold is bounded by its
/// data and by this window, not by the dates it can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Addressed by no date: every entry (bounded by the user's data).
    Undated,
    /// Only entries whose every date is within this many days of the
    /// user's today, either side; others are read from the database and
    /// leave no entry, guard or lease.
    Days(u32),
}

impl Window {
    /// Whether an entry addressed by `dates` (first and last) is cached
    /// when the user's today is `today`.
    pub fn caches(self, dates: Option<(Day, Day)>, today: Day) -> bool {
        match (self, dates) {
            (Window::Days(days), Some((first, last))) => {
                let within = |date: Day| today.days_until(date).unsigned_abs() <= u64::from(days);
                within(first) && within(last)
            }
            (Window::Days(_), None) | (Window::Undated, _) => true,
        }
    }

    /// The window as the docs show it.
    pub fn describe(self) -> String {
        match self {
            Window::Undated => "every entry".to_owned(),
            Window::Days(1) => "±1 day of the user's today".to_owned(),
            Window::Days(days) => format!("±{days} days of the user's today"),
        }
    }
}

/// Where one entry of a read lives, with the dates it is addressed by and
/// its read's window: built by the catalogue, so that whether an entry is
/// cached at all is declared with the read, once.
#[derive(Debug, Clone)]
pub(crate) struct Addressed {
    /// Where the entry lives and which generations guard it.
    pub(crate) entry: EntryAddress,
    window: Window,
    dates: Option<(Day, Day)>,
}

impl Addressed {
    /// `read`'s entry at `entry`, addressed by `dates` (first and last).
    pub(crate) fn new(read: &ReadSpec, entry: EntryAddress, dates: Option<(Day, Day)>) -> Self {
        Addressed { entry, window: read.window, dates }
    }

    /// Whether the cache keeps it when the user's today is `today`.
    pub(crate) fn cached_on(&self, today: Day) -> bool {
        self.window.caches(self.dates, today)
    }

    /// Whether the cache keeps it whatever the user's zone, when UTC's
    /// today is `utc_today` (every zone's today is within a day of it):
    /// `None` when that depends on the zone, near the window's edges.
    pub(crate) fn cached_in_any_zone(&self, utc_today: Day) -> Option<bool> {
        let todays = [utc_today.plus_days(-1), Some(utc_today), utc_today.plus_days(1)];
        let mut kept = todays.into_iter().flatten().map(|today| self.cached_on(today));
        let first = kept.next().unwrap_or_else(|| unreachable!("UTC's today is a day"));
        kept.all(|other| other == first).then_some(first)
    }
}

/// A cached read: what its answer is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSpec {
    /// Which guards are its own: the read's name in every key.
    pub family: ReadFamily,
    /// As the contract's matrix names the read.
    pub name: &'static str,
    /// Which tier caches it (tier 2 records a guard for the whole read).
    pub tier: Tier,
    /// What its answer is made of: a mutation changing one of these
    /// invalidates it.
    pub depends_on: &'static [FactKind],
    /// How its dated facts become guards.
    pub granularity: Granularity,
    /// Which of its entries are cached, by the dates they are addressed by.
    pub window: Window,
    /// Whether its answers show global foods: its keys then carry the
    /// catalogue's generation, so an import (which raises it) leaves every
    /// entry behind at once, on every instance.
    pub follows_catalogue: bool,
}

impl ReadSpec {
    /// Whether entries record a guard for the whole read: every tier-2 read
    /// that depends on anything but its credential does (undated facts live
    /// there, and an operator's tag forces it), and a read of every date.
    pub(crate) fn has_whole_guard(&self) -> bool {
        self.depends_on.iter().any(|kind| *kind != FactKind::Credential)
            && (self.tier == Tier::Two || self.granularity == Granularity::Whole)
    }

    /// The guards an entry of this read records, besides its user's epoch,
    /// when it covers `dates` (`None`: a read about no dates).
    pub fn guards(&self, user: UserId, dates: Option<(Day, Day)>) -> Vec<Guard> {
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
    pub(crate) fn bumped_by(&self, user: UserId, fact: &Fact) -> Vec<Guard> {
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
    /// Logs a batch of entries, all or nothing.
    CreateLogEntries,
    /// Changes an entry's servings, meal or date.
    UpdateLogEntry,
    /// Removes one entry.
    DeleteLogEntry,
    /// Copies a day's (or a meal's) entries to another day or meal.
    CopyDay,
    /// Marks a day completed.
    CompleteDay,
    /// Undoes a day's completion.
    UndoDay,
    /// Adds one of the user's own foods.
    CreateFood,
    /// Edits one of the user's own foods.
    EditFood,
    /// Sets the user's daily targets.
    SetTargets,
    /// Sets the user's time zone.
    SetTimeZone,
    /// Places a meal plan on the calendar.
    ScheduleMealPlan,
    /// Removes one scheduled meal.
    DeleteScheduledMeal,
    /// Removes a scheduled plan, every date of it.
    DeleteScheduledPlan,
    /// Deletes the user and all their data.
    DeleteUser,
}

/// One kind of fact a mutation may change, and which: for the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The kind: what the derivation reads.
    pub kind: FactKind,
    /// Which dates, or when (`"each date with a food entry"`, `"always"`).
    pub which: &'static str,
}

/// A mutation: what it may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MutationSpec {
    /// Which mutation: how the derivation and the tests name it.
    pub operation: Operation,
    /// As the contract's matrix names it.
    pub name: &'static str,
    /// The dates its changes are about, whatever their kind (for the docs:
    /// `"each date of the batch"`; empty when it changes nothing dated).
    pub dates: &'static str,
    /// Every kind it may change: the derivation connects it to the reads
    /// that depend on one, and its runs change only these.
    pub changes: &'static [Change],
    /// Changes everything of the user (its epoch).
    pub everything: bool,
}

impl MutationSpec {
    pub(crate) fn may_change(&self, kind: FactKind) -> bool {
        self.everything || self.changes.iter().any(|change| change.kind == kind)
    }
}

/// A mutation's declaration and how one run's `Changes` follow from what it
/// touched (`T`: its input, or the rows it changed). The runtime asks
/// `dates` only about the kinds `spec` declares, so a run cannot change a
/// kind the derivation does not connect; no check is needed to say the two
/// agree.
pub(crate) struct Mutation<T: ?Sized + 'static> {
    /// What it may change, as the derivation and the docs read it.
    pub spec: MutationSpec,
    /// The dates of one declared kind that a run changed (none: not that
    /// kind, this time).
    pub dates: fn(&T, FactKind) -> Vec<Dates>,
}

impl<T: ?Sized> Mutation<T> {
    /// What one run changed for `user`, having touched `touched`.
    pub(crate) fn changes(&self, user: UserId, touched: &T) -> Changes {
        if self.spec.everything {
            return Changes::everything(user);
        }
        let declared = self.spec.changes.iter().map(|change| change.kind);
        let mut facts: Vec<Fact> = declared
            .flat_map(|kind| (self.dates)(touched, kind).into_iter().map(move |dates| Fact { kind, dates }))
            .collect();
        facts.sort_unstable();
        facts.dedup();
        Changes::new(user, facts)
    }
}
