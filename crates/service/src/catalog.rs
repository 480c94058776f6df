//! Every cached read and every mutation, declared in one place, in the
//! order docs/caching-matrix.md shows them: what each read depends on and
//! where its entries live; what each mutation may change and how a run's
//! changes follow from what it touched. The use cases import this; it
//! imports none of them, so declaring a read or a mutation touches no use
//! case but its own.

use macrotrack_cache_keys::{CATALOGUE, EntryAddress, QueryKey, ReadFamily, Tier, Tier1Key};
use macrotrack_domain::{Day, Food, LogEntry, LogItem, Macros, NewLogEntry, ScheduledPlan, TimeZone, UserId};

use crate::vocabulary::{
    Addressed, Change, DATE_WINDOW_DAYS, Dates, FactKind, Granularity, Mutation, MutationSpec, Operation, ReadSpec,
    Window,
};

/// The window of every read addressed by dates but the streak's.
const DATED: Window = Window::Days(DATE_WINDOW_DAYS);

// Reads.

/// A day's entries, their totals, and whether the day is completed.
pub(crate) const DAY_LOGS: ReadSpec = ReadSpec {
    family: ReadFamily::Logs,
    name: "day logs",
    tier: Tier::One,
    depends_on: &[FactKind::FoodEntries, FactKind::RecipeEntries, FactKind::QuickEntries, FactKind::Completions],
    granularity: Granularity::Day,
    window: DATED,
    follows_catalogue: false,
};

/// Where a day's logs are cached.
pub(crate) fn day_logs_address(user: UserId, date: Day) -> Addressed {
    let dates = Some((date, date));
    let entry = EntryAddress::tier1(Tier1Key::DayLogs { user, date }, &guards(&DAY_LOGS, user, dates));
    Addressed::new(&DAY_LOGS, entry, dates)
}

/// A token's stored credential (its secret's hash), by selector.
pub(crate) const CREDENTIAL: ReadSpec = ReadSpec {
    family: ReadFamily::Credential,
    name: "credential",
    tier: Tier::Two,
    depends_on: &[FactKind::Credential],
    granularity: Granularity::Whole,
    window: Window::Undated,
    follows_catalogue: false,
};

/// Where the credential a token claims is cached.
pub(crate) fn credential_address(user: UserId, selector: u64) -> Addressed {
    let entry = EntryAddress::tier2(QueryKey::Credential { user, selector }, &guards(&CREDENTIAL, user, None));
    Addressed::new(&CREDENTIAL, entry, None)
}

/// The user's name, targets and time zone: the zone is read from here
/// wherever a default today is needed, so it costs a cached read.
pub(crate) const ME: ReadSpec = ReadSpec {
    family: ReadFamily::Me,
    name: "me and targets",
    tier: Tier::Two,
    depends_on: &[FactKind::Profile, FactKind::TimeZone],
    granularity: Granularity::Whole,
    window: Window::Undated,
    follows_catalogue: false,
};

/// Where the user's name, targets and time zone are cached.
pub(crate) fn me_address(user: UserId) -> Addressed {
    Addressed::new(&ME, EntryAddress::tier2(QueryKey::Me { user }, &guards(&ME, user, None)), None)
}

/// The foods a user logged most, as they are now, with their use counts.
pub(crate) const FREQUENT_FOODS: ReadSpec = ReadSpec {
    family: ReadFamily::FrequentFoods,
    name: "frequent foods",
    tier: Tier::Two,
    depends_on: &[FactKind::FoodUses, FactKind::Foods],
    granularity: Granularity::Whole,
    window: Window::Undated,
    follows_catalogue: false,
};

/// Where the user's `limit` most logged foods are cached.
pub(crate) fn frequent_foods_address(user: UserId, limit: u32) -> Addressed {
    let entry = EntryAddress::tier2(QueryKey::FrequentFoods { user, limit }, &guards(&FREQUENT_FOODS, user, None));
    Addressed::new(&FREQUENT_FOODS, entry, None)
}

/// Daily totals of a calendar month (summaries of any range are composed of months).
pub(crate) const SUMMARY: ReadSpec = ReadSpec {
    family: ReadFamily::Summary,
    name: "logs summary",
    tier: Tier::Two,
    depends_on: &[FactKind::FoodEntries, FactKind::RecipeEntries, FactKind::QuickEntries],
    granularity: Granularity::Month,
    window: DATED,
    follows_catalogue: false,
};

/// Where one calendar month of a user's summary is cached.
pub(crate) fn summary_month_address(user: UserId, month: Day) -> Addressed {
    let dates = Some(month.month());
    let entry = EntryAddress::tier2(QueryKey::SummaryMonth { user, month }, &guards(&SUMMARY, user, dates));
    Addressed::new(&SUMMARY, entry, dates)
}

/// One ISO week of a user: the entries and completions of its days, and
/// the targets. No mutation names it: every one that changes these facts
/// already declares them.
pub(crate) const WEEK: ReadSpec = ReadSpec {
    family: ReadFamily::Week,
    name: "week",
    tier: Tier::Two,
    depends_on: &[
        FactKind::FoodEntries,
        FactKind::RecipeEntries,
        FactKind::QuickEntries,
        FactKind::Completions,
        FactKind::Profile,
    ],
    granularity: Granularity::IsoWeek,
    window: DATED,
    follows_catalogue: false,
};

/// Where the ISO week from `monday` to `sunday` is cached.
pub(crate) fn week_address(user: UserId, monday: Day, sunday: Day) -> Addressed {
    let dates = Some((monday, sunday));
    let entry = EntryAddress::tier2(QueryKey::Week { user, week: monday }, &guards(&WEEK, user, dates));
    Addressed::new(&WEEK, entry, dates)
}

/// Streaks count completed days up to today: every date. Cached only for
/// a `today` within a day of the user's (every time zone's today is
/// within a day of UTC's), so a client cannot make the cache hold one entry
/// per date it names.
pub(crate) const STREAK: ReadSpec = ReadSpec {
    family: ReadFamily::Streak,
    name: "streak",
    tier: Tier::Two,
    depends_on: &[FactKind::Completions],
    granularity: Granularity::Whole,
    window: Window::Days(1),
    follows_catalogue: false,
};

/// Where the streak as of `today` is cached.
/// Its guards are the whole read's: it is addressed by `today`, not about it.
pub(crate) fn streak_address(user: UserId, today: Day) -> Addressed {
    let entry = EntryAddress::tier2(QueryKey::Streak { user, today }, &guards(&STREAK, user, None));
    Addressed::new(&STREAK, entry, Some((today, today)))
}

/// What is scheduled on a date, each meal with whether a recipe entry of
/// its meal and recipe is logged that day.
pub(crate) const SCHEDULE: ReadSpec = ReadSpec {
    family: ReadFamily::Schedule,
    name: "schedule",
    tier: Tier::Two,
    depends_on: &[FactKind::Schedule, FactKind::RecipeEntries],
    granularity: Granularity::Day,
    window: DATED,
    follows_catalogue: false,
};

/// Where what is scheduled on `date` is cached.
pub(crate) fn schedule_address(user: UserId, date: Day) -> Addressed {
    let dates = Some((date, date));
    let entry = EntryAddress::tier2(QueryKey::Schedule { user, date }, &guards(&SCHEDULE, user, dates));
    Addressed::new(&SCHEDULE, entry, dates)
}

/// A user's part of food searches: their own and logged foods that match,
/// most uses first. Keyed by the normalized query, whatever page is asked.
pub(crate) const FOOD_SEARCH: ReadSpec = ReadSpec {
    family: ReadFamily::FoodSearch,
    name: "food search (the user's part)",
    tier: Tier::Two,
    depends_on: &[FactKind::Foods, FactKind::OwnedFoods, FactKind::FoodUses],
    granularity: Granularity::Whole,
    window: Window::Undated,
    follows_catalogue: true,
};

/// Where the user's part of searches for `query` (a digest of the
/// normalized query) is cached under catalogue `generation`.
pub(crate) fn food_search_address(user: UserId, generation: u64, query: u128) -> Addressed {
    let key = QueryKey::FoodSearch { user, generation, query };
    Addressed::new(&FOOD_SEARCH, EntryAddress::tier2(key, &guards(&FOOD_SEARCH, user, None)), None)
}

/// The catalogue's part of food searches: the first rows of global foods
/// that match, ranked; one entry per query and row count, shared by every
/// user. Nothing a user does changes it: only an import, by the generation.
pub(crate) const CATALOGUE_SEARCH: ReadSpec = ReadSpec {
    family: ReadFamily::CatalogueSearch,
    name: "food search (the catalogue's part)",
    tier: Tier::Two,
    depends_on: &[],
    granularity: Granularity::Whole,
    window: Window::Undated,
    follows_catalogue: true,
};

/// Where the first `rows` global foods matching `query` are cached under
/// catalogue `generation`.
pub(crate) fn catalogue_search_address(generation: u64, query: u128, rows: u32) -> Addressed {
    let key = QueryKey::CatalogueSearch { generation, query, rows };
    Addressed::new(&CATALOGUE_SEARCH, EntryAddress::tier2(key, &guards(&CATALOGUE_SEARCH, CATALOGUE, None)), None)
}

/// A food by id as its reader sees it: a global food, or one of theirs.
pub(crate) const FOOD: ReadSpec = ReadSpec {
    family: ReadFamily::Food,
    name: "food by id",
    tier: Tier::Two,
    depends_on: &[FactKind::Foods],
    granularity: Granularity::Whole,
    window: Window::Undated,
    follows_catalogue: true,
};

/// Where food `id` as `user` sees it is cached under catalogue `generation`.
pub(crate) fn food_address(user: UserId, generation: u64, id: i64) -> Addressed {
    let key = QueryKey::Food { user, generation, id };
    Addressed::new(&FOOD, EntryAddress::tier2(key, &guards(&FOOD, user, None)), None)
}

/// The catalogue food carrying a barcode: users' foods carry none, so it
/// is the same for every user and shared.
pub(crate) const BARCODE: ReadSpec = ReadSpec {
    family: ReadFamily::Barcode,
    name: "food by barcode",
    tier: Tier::Two,
    depends_on: &[],
    granularity: Granularity::Whole,
    window: Window::Undated,
    follows_catalogue: true,
};

/// Where the food carrying GTIN-14 `code` is cached under catalogue `generation`.
pub(crate) fn barcode_address(generation: u64, code: u64) -> Addressed {
    let key = QueryKey::Barcode { generation, code };
    Addressed::new(&BARCODE, EntryAddress::tier2(key, &guards(&BARCODE, CATALOGUE, None)), None)
}

/// The foods a user logged lately, as they are now, with the date of each
/// one's latest entry. Food entries of any date change it (a new entry
/// makes its food the newest; a move changes the date shown).
pub(crate) const RECENT_FOODS: ReadSpec = ReadSpec {
    family: ReadFamily::RecentFoods,
    name: "recent foods",
    tier: Tier::Two,
    depends_on: &[FactKind::FoodEntries, FactKind::Foods],
    granularity: Granularity::Whole,
    window: Window::Undated,
    follows_catalogue: true,
};

/// Where the user's `limit` most recently logged foods are cached.
pub(crate) fn recent_foods_address(user: UserId, generation: u64, limit: u32) -> Addressed {
    let key = QueryKey::RecentFoods { user, generation, limit };
    Addressed::new(&RECENT_FOODS, EntryAddress::tier2(key, &guards(&RECENT_FOODS, user, None)), None)
}

/// The entries the day screen composes, read ahead together. Without a
/// `today` the streak's is the user's, known only once `me` is read: the
/// streaks of every zone's today (within a day of `utc_today`) are read
/// ahead, so the screen still costs one round trip.
pub(crate) fn dashboard_addresses(user: UserId, date: Day, today: Option<Day>, utc_today: Day) -> Vec<Addressed> {
    let mut addresses = vec![day_logs_address(user, date), me_address(user), schedule_address(user, date)];
    addresses.extend(streak_addresses(user, today, utc_today));
    addresses
}

/// The streaks to read ahead as of `today`, or (`None`) as of every zone's
/// today, which is within a day of `utc_today`.
pub(crate) fn streak_addresses(user: UserId, today: Option<Day>, utc_today: Day) -> Vec<Addressed> {
    let todays = match today {
        Some(today) => vec![Some(today)],
        None => vec![utc_today.plus_days(-1), Some(utc_today), utc_today.plus_days(1)],
    };
    todays.into_iter().flatten().map(|today| streak_address(user, today)).collect()
}

/// Every cached read, in the order the docs show them.
pub const READS: &[&ReadSpec] = &[
    &DAY_LOGS,
    &CREDENTIAL,
    &ME,
    &FREQUENT_FOODS,
    &SUMMARY,
    &WEEK,
    &STREAK,
    &SCHEDULE,
    &FOOD_SEARCH,
    &CATALOGUE_SEARCH,
    &FOOD,
    &BARCODE,
    &RECENT_FOODS,
];

/// The guards an entry of `read` records. A read missing from `READS` would
/// never be invalidated: every test that reads it fails here instead.
fn guards(read: &ReadSpec, user: UserId, dates: Option<(Day, Day)>) -> Vec<macrotrack_cache_keys::Guard> {
    debug_assert!(READS.contains(&read), "{:?} is not in READS", read.family);
    read.guards(user, dates)
}

// Mutations.

pub(crate) const CREATE_LOG_ENTRIES: Mutation<[NewLogEntry]> = Mutation {
    spec: MutationSpec {
        operation: Operation::CreateLogEntries,
        name: "create log entries (batch)",
        dates: "each date of the batch",
        changes: &[
            Change { kind: FactKind::FoodEntries, which: "each date with a food entry" },
            Change { kind: FactKind::RecipeEntries, which: "each date with a recipe entry" },
            Change { kind: FactKind::QuickEntries, which: "each date with a quick add" },
            Change { kind: FactKind::FoodUses, which: "if a food entry" },
        ],
        everything: false,
    },
    dates: |entries, kind| match kind {
        FactKind::FoodUses => undated_if(entries.iter().any(|entry| new_entry_kind(entry) == FactKind::FoodEntries)),
        _ => entries.iter().filter(|entry| new_entry_kind(entry) == kind).map(|entry| on(entry.date)).collect(),
    },
};

/// An update changes no use count: the entry keeps its food. Touches the
/// entry as it was and as it is.
pub(crate) const UPDATE_LOG_ENTRY: Mutation<(LogEntry, LogEntry)> = Mutation {
    spec: MutationSpec {
        operation: Operation::UpdateLogEntry,
        name: "update a log entry",
        dates: "original and new date",
        changes: &[
            Change { kind: FactKind::FoodEntries, which: "original and new date of a food entry" },
            Change { kind: FactKind::RecipeEntries, which: "original and new date of a recipe entry" },
            Change { kind: FactKind::QuickEntries, which: "original and new date of a quick add" },
        ],
        everything: false,
    },
    dates: |(before, after), kind| {
        if kind == entry_kind(before) { vec![on(before.date), on(after.date)] } else { Vec::new() }
    },
};

pub(crate) const DELETE_LOG_ENTRY: Mutation<LogEntry> = Mutation {
    spec: MutationSpec {
        operation: Operation::DeleteLogEntry,
        name: "delete a log entry",
        dates: "its date",
        changes: &[
            Change { kind: FactKind::FoodEntries, which: "its date, if a food entry" },
            Change { kind: FactKind::RecipeEntries, which: "its date, if a recipe entry" },
            Change { kind: FactKind::QuickEntries, which: "its date, if a quick add" },
            Change { kind: FactKind::FoodUses, which: "if a food entry" },
        ],
        everything: false,
    },
    dates: |entry, kind| match kind {
        FactKind::FoodUses => undated_if(entry_kind(entry) == FactKind::FoodEntries),
        _ if kind == entry_kind(entry) => vec![on(entry.date)],
        _ => Vec::new(),
    },
};

/// Derived from the copies as written (the copy of a food entry is a use,
/// as any new entry), so it touches what logging them as a batch would.
pub(crate) const COPY_DAY: Mutation<[LogEntry]> = Mutation {
    spec: MutationSpec {
        operation: Operation::CopyDay,
        name: "copy a day or a meal",
        dates: "the date copied to",
        changes: &[
            Change { kind: FactKind::FoodEntries, which: "the date copied to, if a food entry was copied" },
            Change { kind: FactKind::RecipeEntries, which: "the date copied to, if a recipe entry was copied" },
            Change { kind: FactKind::QuickEntries, which: "the date copied to, if a quick add was copied" },
            Change { kind: FactKind::FoodUses, which: "if a food entry was copied" },
        ],
        everything: false,
    },
    dates: |copies, kind| match kind {
        FactKind::FoodUses => undated_if(copies.iter().any(|copy| entry_kind(copy) == FactKind::FoodEntries)),
        _ => copies.iter().filter(|copy| entry_kind(copy) == kind).map(|copy| on(copy.date)).collect(),
    },
};

/// Touches the completed (or no longer completed) date.
pub(crate) const COMPLETE_DAY: Mutation<Day> = Mutation {
    spec: MutationSpec {
        operation: Operation::CompleteDay,
        name: "complete a day",
        dates: "that date",
        changes: &[Change { kind: FactKind::Completions, which: "that date" }],
        everything: false,
    },
    dates: |date, _| vec![on(*date)],
};

/// Touches the date as completing it does.
pub(crate) const UNDO_DAY: Mutation<Day> = Mutation {
    spec: MutationSpec {
        operation: Operation::UndoDay,
        name: "undo a day's completion",
        dates: "that date",
        changes: &[Change { kind: FactKind::Completions, which: "that date" }],
        everything: false,
    },
    dates: COMPLETE_DAY.dates,
};

/// A new food joins the user's searches; no food by id showed it (a
/// missing id is not cached) and frequent foods lists only foods with uses.
pub(crate) const CREATE_FOOD: Mutation<Food> = Mutation {
    spec: MutationSpec {
        operation: Operation::CreateFood,
        name: "create a food",
        dates: "",
        changes: &[Change { kind: FactKind::OwnedFoods, which: "always" }],
        everything: false,
    },
    dates: |_, _| vec![Dates::Undated],
};

/// Log entries keep their snapshot: only reads showing the food change.
pub(crate) const EDIT_FOOD: Mutation<Food> = Mutation {
    spec: MutationSpec {
        operation: Operation::EditFood,
        name: "edit a food",
        dates: "",
        changes: &[Change { kind: FactKind::Foods, which: "always" }],
        everything: false,
    },
    dates: |_, _| vec![Dates::Undated],
};

/// Touches the targets set.
pub(crate) const SET_TARGETS: Mutation<Macros> = Mutation {
    spec: MutationSpec {
        operation: Operation::SetTargets,
        name: "set targets",
        dates: "",
        changes: &[Change { kind: FactKind::Profile, which: "always" }],
        everything: false,
    },
    dates: |_, _| vec![Dates::Undated],
};

/// Changes the user's today, and with it which streak and day screen a
/// request without `today` reads: those reads are addressed by the date
/// they are of, and the default is taken from `me`, which this forgets.
pub(crate) const SET_TIME_ZONE: Mutation<TimeZone> = Mutation {
    spec: MutationSpec {
        operation: Operation::SetTimeZone,
        name: "set the time zone",
        dates: "",
        changes: &[Change { kind: FactKind::TimeZone, which: "always" }],
        everything: false,
    },
    dates: |_, _| vec![Dates::Undated],
};

/// Touches the plan as placed on the calendar.
pub(crate) const SCHEDULE_MEAL_PLAN: Mutation<ScheduledPlan> = Mutation {
    spec: MutationSpec {
        operation: Operation::ScheduleMealPlan,
        name: "schedule a meal plan",
        dates: "every date it covers",
        changes: &[Change { kind: FactKind::Schedule, which: "every date it covers" }],
        everything: false,
    },
    dates: |plan, _| vec![Dates::between(plan.start_date, plan.end_date)],
};

/// Touches the date the meal was scheduled on.
pub(crate) const DELETE_SCHEDULED_MEAL: Mutation<Day> = Mutation {
    spec: MutationSpec {
        operation: Operation::DeleteScheduledMeal,
        name: "delete a scheduled meal",
        dates: "its date",
        changes: &[Change { kind: FactKind::Schedule, which: "its date" }],
        everything: false,
    },
    dates: |date, _| vec![on(*date)],
};

/// Touches the plan as it was on the calendar.
pub(crate) const DELETE_SCHEDULED_PLAN: Mutation<ScheduledPlan> = Mutation {
    spec: MutationSpec {
        operation: Operation::DeleteScheduledPlan,
        name: "delete a scheduled plan",
        dates: "every date it covered",
        changes: &[Change { kind: FactKind::Schedule, which: "every date it covered" }],
        everything: false,
    },
    dates: SCHEDULE_MEAL_PLAN.dates,
};

/// Everything of the user goes: one epoch bump, whatever it touched.
pub(crate) const DELETE_USER: Mutation<()> = Mutation {
    spec: MutationSpec {
        operation: Operation::DeleteUser,
        name: "delete the user",
        dates: "",
        changes: &[],
        everything: true,
    },
    dates: |_, _| Vec::new(),
};

/// Every mutation, in the order the docs show them.
pub const MUTATIONS: &[&MutationSpec] = &[
    &CREATE_LOG_ENTRIES.spec,
    &UPDATE_LOG_ENTRY.spec,
    &DELETE_LOG_ENTRY.spec,
    &COPY_DAY.spec,
    &COMPLETE_DAY.spec,
    &UNDO_DAY.spec,
    &CREATE_FOOD.spec,
    &EDIT_FOOD.spec,
    &SET_TARGETS.spec,
    &SET_TIME_ZONE.spec,
    &SCHEDULE_MEAL_PLAN.spec,
    &DELETE_SCHEDULED_MEAL.spec,
    &DELETE_SCHEDULED_PLAN.spec,
    &DELETE_USER.spec,
];

/// The declaration of `family`'s read, for code that holds only its name
/// (the docs, the contract test).
pub fn read_spec(family: ReadFamily) -> &'static ReadSpec {
    READS.iter().copied().find(|read| read.family == family).unwrap_or_else(|| unreachable!("{family:?} declared"))
}

/// The declaration of `operation`, for code that holds only its name.
pub fn mutation_spec(operation: Operation) -> &'static MutationSpec {
    MUTATIONS.iter().copied().find(|spec| spec.operation == operation).unwrap_or_else(|| unreachable!())
}

/// Which kind a log entry is a fact of.
fn entry_kind(entry: &LogEntry) -> FactKind {
    match (entry.food_id, entry.recipe_id) {
        (_, Some(_)) => FactKind::RecipeEntries,
        (Some(_), None) => FactKind::FoodEntries,
        (None, None) => FactKind::QuickEntries,
    }
}

/// Which kind a new log entry will be a fact of.
fn new_entry_kind(entry: &NewLogEntry) -> FactKind {
    match entry.item {
        LogItem::Recipe(_) => FactKind::RecipeEntries,
        LogItem::Food(_) => FactKind::FoodEntries,
        LogItem::Quick(_) => FactKind::QuickEntries,
    }
}

fn on(date: Day) -> Dates {
    Dates::On(date)
}

/// An undated change when `changed`, nothing otherwise.
fn undated_if(changed: bool) -> Vec<Dates> {
    if changed { vec![Dates::Undated] } else { Vec::new() }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_read_family_and_operation_is_declared_once() {
        for family in ReadFamily::ALL {
            assert_eq!(READS.iter().filter(|read| read.family == family).count(), 1, "{family:?}");
        }
        let operations: BTreeSet<Operation> = MUTATIONS.iter().map(|spec| spec.operation).collect();
        assert_eq!(operations.len(), MUTATIONS.len(), "an operation declared twice");
        assert_eq!(operations.len(), 14);
    }
}
