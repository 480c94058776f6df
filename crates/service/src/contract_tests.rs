//! The derived matrix against the cache contract's table
//! (`contract/cache.md`, "Invalidation matrix"), row by row: which reads
//! each operation must leave answering the new state.
//!
//! Two checks per row. By read: the reads the derivation connects to the
//! operation are exactly those the row names. By entry: for examples of the
//! operation, every read instance the row requires is invalidated, and what
//! else is invalidated is listed in `BEYOND_THE_CONTRACT` with its reason.

use std::collections::BTreeSet;

use macrotrack_cache_keys::{Guard, ReadFamily, Target};
use macrotrack_domain::{
    Amount, Day, Food, FoodId, FoodOwner, LogAmount, LogEntry, LogEntryId, LogItem, Macros, Meal, NewLogEntry,
    QuickAdd, RecipeId, ScheduledPlan, ScheduledPlanId, Timestamp, UserId,
};

use crate::catalog::{
    COMPLETE_DAY, COPY_DAY, CREATE_FOOD, CREATE_LOG_ENTRIES, DELETE_LOG_ENTRY, DELETE_SCHEDULED_MEAL,
    DELETE_SCHEDULED_PLAN, DELETE_USER, EDIT_FOOD, SCHEDULE_MEAL_PLAN, SET_TARGETS, SET_TIME_ZONE, UNDO_DAY,
    UPDATE_LOG_ENTRY, read_spec,
};
use crate::facts::{Changes, Matrix, Operation};
use crate::matrix::BEYOND_THE_CONTRACT;
use crate::vocabulary::Mutation;

const U: UserId = UserId(7);

fn d(text: &str) -> Day {
    text.parse().unwrap()
}

/// Tuesday 24 and Thursday 26 November (one ISO week), Tuesday 1 December
/// (the next ISO week, another month), Tuesday 15 December.
fn d1() -> Day {
    d("2026-11-24")
}
fn d2() -> Day {
    d("2026-11-26")
}
fn d3() -> Day {
    d("2026-12-01")
}
fn d4() -> Day {
    d("2026-12-15")
}

/// A read as a client asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Read {
    DayLogs(Day),
    Me,
    FrequentFoods,
    /// `from..=to`: composed of the months it touches.
    Summary(Day, Day),
    /// Seven days from a start: composed of the ISO weeks it touches.
    Week(Day),
    Streak,
    Schedule(Day),
    Credential,
    /// The user's part of their food searches.
    FoodSearch,
    /// One of the user's foods by id.
    Food,
    RecentFoods,
}

impl Read {
    fn family(self) -> ReadFamily {
        match self {
            Read::DayLogs(_) => ReadFamily::Logs,
            Read::Me => ReadFamily::Me,
            Read::FrequentFoods => ReadFamily::FrequentFoods,
            Read::Summary(..) => ReadFamily::Summary,
            Read::Week(_) => ReadFamily::Week,
            Read::Streak => ReadFamily::Streak,
            Read::Schedule(_) => ReadFamily::Schedule,
            Read::Credential => ReadFamily::Credential,
            Read::FoodSearch => ReadFamily::FoodSearch,
            Read::Food => ReadFamily::Food,
            Read::RecentFoods => ReadFamily::RecentFoods,
        }
    }

    /// The guards of every entry the read is composed of.
    fn guards(self) -> Vec<Guard> {
        let spec = read_spec(self.family());
        match self {
            Read::DayLogs(date) | Read::Schedule(date) => spec.guards(U, Some((date, date))),
            Read::Summary(from, to) => {
                from.months_until(to).into_iter().flat_map(|month| spec.guards(U, Some(month))).collect()
            }
            Read::Week(start) => {
                let end = start.plus_days(6).unwrap();
                start.weeks_until(end).into_iter().flat_map(|week| spec.guards(U, Some(week))).collect()
            }
            Read::Me
            | Read::FrequentFoods
            | Read::Streak
            | Read::Credential
            | Read::FoodSearch
            | Read::Food
            | Read::RecentFoods => spec.guards(U, None),
        }
    }

    /// Whether the answer shows `date`.
    fn holds(self, date: Day) -> bool {
        match self {
            Read::DayLogs(day) | Read::Schedule(day) => day == date,
            Read::Summary(from, to) => (from..=to).contains(&date),
            Read::Week(start) => (start..=start.plus_days(6).unwrap()).contains(&date),
            _ => false,
        }
    }
}

/// Every read instance the examples look at.
fn universe() -> Vec<Read> {
    let mut reads = vec![
        Read::Me,
        Read::FrequentFoods,
        Read::Streak,
        Read::Credential,
        Read::FoodSearch,
        Read::Food,
        Read::RecentFoods,
    ];
    for date in [d1(), d2(), d3(), d4()] {
        reads.extend([Read::DayLogs(date), Read::Schedule(date)]);
    }
    reads.extend([
        Read::Summary(d("2026-11-25"), d("2026-11-30")),
        Read::Summary(d("2026-11-20"), d("2026-12-05")),
        Read::Summary(d("2026-12-10"), d("2026-12-20")),
        Read::Week(d("2026-11-23")),
        Read::Week(d("2026-11-26")),
        Read::Week(d("2026-12-14")),
    ]);
    reads
}

/// The read instances `targets` invalidates.
fn invalidated(targets: &BTreeSet<Target>) -> BTreeSet<Read> {
    let everything = targets.contains(&Target::AllOfUser(U));
    universe()
        .into_iter()
        .filter(|read| everything || read.guards().iter().any(|guard| targets.contains(&Target::Guard(*guard))))
        .collect()
}

/// What the contract's phrases require, over the universe.
fn where_(predicate: impl Fn(Read) -> bool) -> BTreeSet<Read> {
    universe().into_iter().filter(|read| predicate(*read)).collect()
}

fn day_logs_of(dates: &[Day]) -> impl Fn(Read) -> bool + '_ {
    move |read| matches!(read, Read::DayLogs(day) if dates.contains(&day))
}
fn summaries_holding(dates: &[Day]) -> impl Fn(Read) -> bool + '_ {
    move |read| matches!(read, Read::Summary(..)) && dates.iter().any(|date| read.holds(*date))
}
fn weeks_holding(dates: &[Day]) -> impl Fn(Read) -> bool + '_ {
    move |read| matches!(read, Read::Week(_)) && dates.iter().any(|date| read.holds(*date))
}
fn schedule_of(dates: &[Day]) -> impl Fn(Read) -> bool + '_ {
    move |read| matches!(read, Read::Schedule(day) if dates.contains(&day))
}

fn entry(date: Day, recipe: bool) -> LogEntry {
    let at = Timestamp::new(chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap());
    LogEntry {
        id: LogEntryId(1),
        date,
        meal: Meal::Lunch,
        food_id: (!recipe).then_some(FoodId(1)),
        recipe_id: recipe.then_some(RecipeId(1)),
        name: "x".into(),
        servings: Amount::from_hundredths(100),
        grams: None,
        portion: None,
        macros: Macros::default(),
        created_at: at,
        updated_at: at,
    }
}

fn new_entry(date: Day, recipe: bool) -> NewLogEntry {
    let item = if recipe { LogItem::Recipe(RecipeId(1)) } else { LogItem::Food(FoodId(1)) };
    NewLogEntry { date, meal: Meal::Lunch, item, amount: LogAmount::Servings(Amount::from_hundredths(100)) }
}

/// A quick add: neither a food nor a recipe.
fn quick_entry(date: Day) -> LogEntry {
    LogEntry { food_id: None, recipe_id: None, ..entry(date, false) }
}

fn new_quick(date: Day) -> NewLogEntry {
    let item = LogItem::Quick(QuickAdd { name: "Quick add".into(), macros: Macros::default() });
    NewLogEntry { date, meal: Meal::Lunch, item, amount: LogAmount::Servings(Amount::ONE) }
}

/// What every entry of `dates` changes, whatever its kind: the reads of the day.
fn the_days(dates: &[Day]) -> BTreeSet<Read> {
    [where_(day_logs_of(dates)), where_(summaries_holding(dates)), where_(weeks_holding(dates))].concat()
}

fn plan(from: Day, to: Day) -> ScheduledPlan {
    ScheduledPlan {
        id: ScheduledPlanId(1),
        meal_plan_id: macrotrack_domain::MealPlanId(1),
        name: "plan".into(),
        start_date: from,
        end_date: to,
    }
}

fn food() -> Food {
    Food {
        id: FoodId(1),
        name: "oats".into(),
        brand: None,
        serving_size: Amount::from_hundredths(100),
        serving_unit: "g".into(),
        per_serving: Macros::default(),
        owner: FoodOwner::User,
        generic: false,
        source: None,
        barcode: None,
        grams_per_serving: Some(Amount::from_hundredths(100)),
        portions: Vec::new(),
    }
}

/// One example of an operation and the reads the contract's row requires.
struct Example {
    operation: Operation,
    changes: Changes,
    required: BTreeSet<Read>,
}

/// An example whose changes are what `mutation` makes, at run time, of
/// what it touched: the same function the use case calls.
fn example<T: ?Sized>(mutation: &Mutation<T>, touched: &T, required: BTreeSet<Read>) -> Example {
    Example { operation: mutation.spec.operation, changes: mutation.changes(U, touched), required }
}

/// The contract's table, transcribed: each row's text, the reads it names,
/// and examples of it.
fn contract_rows() -> Vec<(&'static str, Operation, Vec<ReadFamily>, Vec<Example>)> {
    use Operation as O;
    use ReadFamily as R;
    let entries = [R::Logs, R::Summary, R::Week, R::FrequentFoods, R::Schedule, R::FoodSearch, R::RecentFoods];
    // The catalogue's shared entries are no user's: an import leaves them.
    let every_read: Vec<ReadFamily> = crate::facts::READS
        .iter()
        .filter(|read| !matches!(read.family, R::CatalogueSearch | R::Barcode))
        .map(|read| read.family)
        .collect();
    vec![
        (
            "create log entries (batch) | day logs of each date; summaries whose range holds a date; weeks holding a \
             date; frequent foods if a food entry; schedule of each date holding a recipe entry; and that user's \
             searches when a food entry's uses change",
            O::CreateLogEntries,
            entries.to_vec(),
            vec![
                example(
                    &CREATE_LOG_ENTRIES,
                    &[new_entry(d1(), false), new_entry(d3(), true)],
                    [
                        where_(day_logs_of(&[d1(), d3()])),
                        where_(summaries_holding(&[d1(), d3()])),
                        where_(weeks_holding(&[d1(), d3()])),
                        where_(|read| matches!(read, Read::FrequentFoods | Read::FoodSearch | Read::RecentFoods)),
                        where_(schedule_of(&[d3()])),
                    ]
                    .concat(),
                ),
                // A quick add has no use count: frequent and recent foods
                // and searches stay (the derivation must not reach them).
                example(&CREATE_LOG_ENTRIES, &[new_quick(d2())], the_days(&[d2()])),
                example(
                    &CREATE_LOG_ENTRIES,
                    &[new_entry(d1(), true)],
                    [
                        where_(day_logs_of(&[d1()])),
                        where_(summaries_holding(&[d1()])),
                        where_(weeks_holding(&[d1()])),
                        where_(schedule_of(&[d1()])),
                    ]
                    .concat(),
                ),
            ],
        ),
        (
            "update a log entry | the same for the original date and for the new one (frequent foods only if the \
             count of uses changes, which an update never does)",
            O::UpdateLogEntry,
            vec![R::Logs, R::Summary, R::Week, R::Schedule, R::RecentFoods],
            vec![
                example(
                    &UPDATE_LOG_ENTRY,
                    &(entry(d1(), false), entry(d3(), false)),
                    [
                        where_(day_logs_of(&[d1(), d3()])),
                        where_(summaries_holding(&[d1(), d3()])),
                        where_(weeks_holding(&[d1(), d3()])),
                    ]
                    .concat(),
                ),
                example(&UPDATE_LOG_ENTRY, &(quick_entry(d1()), quick_entry(d4())), the_days(&[d1(), d4()])),
                example(
                    &UPDATE_LOG_ENTRY,
                    &(entry(d1(), true), entry(d1(), true)),
                    [
                        where_(day_logs_of(&[d1()])),
                        where_(summaries_holding(&[d1()])),
                        where_(weeks_holding(&[d1()])),
                        where_(schedule_of(&[d1()])),
                    ]
                    .concat(),
                ),
            ],
        ),
        (
            "delete a log entry | the same as create, for its date (that user's searches when a food entry's \
             uses change)",
            O::DeleteLogEntry,
            entries.to_vec(),
            vec![
                example(
                    &DELETE_LOG_ENTRY,
                    &entry(d1(), false),
                    [
                        where_(day_logs_of(&[d1()])),
                        where_(summaries_holding(&[d1()])),
                        where_(weeks_holding(&[d1()])),
                        where_(|read| matches!(read, Read::FrequentFoods | Read::FoodSearch | Read::RecentFoods)),
                    ]
                    .concat(),
                ),
                example(&DELETE_LOG_ENTRY, &quick_entry(d2()), the_days(&[d2()])),
                example(
                    &DELETE_LOG_ENTRY,
                    &entry(d3(), true),
                    [
                        where_(day_logs_of(&[d3()])),
                        where_(summaries_holding(&[d3()])),
                        where_(weeks_holding(&[d3()])),
                        where_(schedule_of(&[d3()])),
                    ]
                    .concat(),
                ),
            ],
        ),
        (
            "create, update or delete log entries; copy a day; quick add | as \"create log entries\" above for each \
             date touched; recent foods and that user's searches when a food entry's uses change",
            O::CopyDay,
            entries.to_vec(),
            vec![
                example(
                    &COPY_DAY,
                    &[entry(d3(), false), entry(d3(), true), quick_entry(d3())],
                    [
                        the_days(&[d3()]),
                        where_(|read| matches!(read, Read::FrequentFoods | Read::FoodSearch | Read::RecentFoods)),
                        where_(schedule_of(&[d3()])),
                    ]
                    .concat(),
                ),
                example(&COPY_DAY, &[entry(d1(), true)], [the_days(&[d1()]), where_(schedule_of(&[d1()]))].concat()),
                example(&COPY_DAY, &[quick_entry(d4()), quick_entry(d4())], the_days(&[d4()])),
            ],
        ),
        (
            "complete a day / undo it | day logs of that date; streaks; weeks holding the date",
            O::CompleteDay,
            vec![R::Logs, R::Week, R::Streak],
            vec![example(
                &COMPLETE_DAY,
                &d1(),
                [where_(day_logs_of(&[d1()])), where_(|read| read == Read::Streak), where_(weeks_holding(&[d1()]))]
                    .concat(),
            )],
        ),
        (
            "complete a day / undo it | day logs of that date; streaks; weeks holding the date",
            O::UndoDay,
            vec![R::Logs, R::Week, R::Streak],
            vec![example(
                &UNDO_DAY,
                &d1(),
                [where_(day_logs_of(&[d1()])), where_(|read| read == Read::Streak), where_(weeks_holding(&[d1()]))]
                    .concat(),
            )],
        ),
        (
            "create or edit a food of the user | that user's searches; frequent and recent foods when it has uses; \
             the food's own reads (a new food: its searches only, as no read showed it)",
            O::CreateFood,
            vec![R::FoodSearch],
            vec![example(&CREATE_FOOD, &food(), where_(|read| read == Read::FoodSearch))],
        ),
        (
            "create or edit a food of the user | that user's searches; frequent and recent foods when it has uses; \
             the food's own reads",
            O::EditFood,
            vec![R::FrequentFoods, R::FoodSearch, R::Food, R::RecentFoods],
            vec![
                example(
                    &EDIT_FOOD,
                    &food(),
                    where_(|read| {
                        matches!(read, Read::FrequentFoods | Read::FoodSearch | Read::Food | Read::RecentFoods)
                    }),
                ),
                // A food without uses: frequent foods need not change.
                example(&EDIT_FOOD, &food(), where_(|read| matches!(read, Read::FoodSearch | Read::Food))),
            ],
        ),
        (
            "set targets | me; weeks; the day screen's targets and remaining (from `me`)",
            O::SetTargets,
            vec![R::Me, R::Week],
            vec![example(
                &SET_TARGETS,
                &Macros::default(),
                where_(|read| read == Read::Me || matches!(read, Read::Week(_))),
            )],
        ),
        (
            // Streaks and the day screen are addressed by the date they are
            // of: a cached one is right whatever the zone. Which date a
            // request without `today` reads is taken from `me`'s zone, so
            // `me` answering the new zone is what the row asks for.
            "set the time zone | every read whose default `today` depends on it (streaks, the day screen)",
            O::SetTimeZone,
            vec![R::Me],
            vec![example(
                &SET_TIME_ZONE,
                &macrotrack_domain::TimeZone::parse("Pacific/Auckland").unwrap(),
                where_(|read| read == Read::Me),
            )],
        ),
        (
            "schedule a meal plan | schedule of every date it covers",
            O::ScheduleMealPlan,
            vec![R::Schedule],
            vec![example(&SCHEDULE_MEAL_PLAN, &plan(d2(), d3()), where_(schedule_of(&[d2(), d3()])))],
        ),
        (
            "delete a scheduled meal | schedule of its date",
            O::DeleteScheduledMeal,
            vec![R::Schedule],
            vec![example(&DELETE_SCHEDULED_MEAL, &d4(), where_(schedule_of(&[d4()])))],
        ),
        (
            "delete a scheduled plan | schedule of every date it covered",
            O::DeleteScheduledPlan,
            vec![R::Schedule],
            vec![example(&DELETE_SCHEDULED_PLAN, &plan(d1(), d2()), where_(schedule_of(&[d1(), d2()])))],
        ),
        (
            "delete the user | every read of the user, and its token",
            O::DeleteUser,
            every_read,
            vec![example(&DELETE_USER, &(), universe().into_iter().collect())],
        ),
    ]
}

trait Concat {
    fn concat(self) -> BTreeSet<Read>;
}

impl<const N: usize> Concat for [BTreeSet<Read>; N] {
    fn concat(self) -> BTreeSet<Read> {
        self.into_iter().flatten().collect()
    }
}

#[test]
fn every_operation_has_a_row() {
    let rows: BTreeSet<Operation> = contract_rows().iter().map(|(_, operation, _, _)| *operation).collect();
    let declared: BTreeSet<Operation> = crate::facts::MUTATIONS.iter().map(|spec| spec.operation).collect();
    assert_eq!(rows, declared);
}

#[test]
fn each_row_names_exactly_the_reads_the_derivation_connects() {
    let edges = Matrix::edges();
    for (row, operation, reads, _) in contract_rows() {
        let derived: BTreeSet<ReadFamily> =
            edges.iter().filter(|edge| edge.operation == operation).map(|edge| edge.read).collect();
        let named: BTreeSet<ReadFamily> = reads.into_iter().collect();
        assert_eq!(derived, named, "row: {row}");
    }
}

#[test]
fn each_row_leaves_every_read_it_requires_answering_the_new_state() {
    let mut beyond = BTreeSet::new();
    for (row, _, _, examples) in contract_rows() {
        for example in examples {
            let targets = Matrix::default().targets(example.operation, &example.changes);
            let invalidated = invalidated(&targets);
            let missing: Vec<&Read> = example.required.difference(&invalidated).collect();
            assert!(missing.is_empty(), "row: {row}\n{:?} leaves these stale: {missing:?}", example.changes);
            beyond.extend(invalidated.difference(&example.required).map(|read| (example.operation, read.family())));
        }
    }
    let documented: BTreeSet<(Operation, ReadFamily)> =
        BEYOND_THE_CONTRACT.iter().map(|(operation, family, _)| (*operation, *family)).collect();
    assert_eq!(beyond, documented, "what the derivation invalidates beyond the contract, against the documented list");
}

#[test]
fn the_generated_doc_shows_every_read_and_operation() {
    let doc = crate::matrix::render_markdown();
    for read in crate::facts::READS {
        assert!(doc.contains(&format!(" {} |", read.name)), "{}", read.name);
    }
    for mutation in crate::facts::MUTATIONS {
        assert!(doc.contains(&format!("| {} |", mutation.name)), "{}", mutation.name);
    }
    for (_, _, why) in BEYOND_THE_CONTRACT {
        assert!(doc.contains(why));
    }
}
