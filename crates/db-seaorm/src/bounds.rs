//! The contract's bounds on what one user may store (a day's entries; the
//! foods, recipes and meal plans they own), counted inside the write's
//! transaction.
//!
//! Concurrent writes of one user must not pass a bound together, so each
//! count is taken under a lock that keeps them apart. On PostgreSQL that is
//! the user's row, `FOR NO KEY UPDATE`: bounded writes of one user queue
//! behind each other, while foreign-key checks (`KEY SHARE`) and other
//! users go on. A batch of log entries takes the lock and counts in its
//! own statement (`overfull_guard`, through a function: migration 11 says
//! why), so it is written in one round trip. On SQLite nothing is taken here: every write transaction is
//! IMMEDIATE, on the one writer connection, and holds the database's write
//! lock from its first statement, so writes are serialised already (across
//! processes too).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use macrotrack_domain::{Day, UserId, validation};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

/// What a user owns, each kind up to its bound in the domain.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owned {
    Foods,
    Recipes,
    MealPlans,
}

impl Owned {
    fn table(self) -> &'static str {
        match self {
            Owned::Foods => "foods",
            Owned::Recipes => "recipes",
            Owned::MealPlans => "meal_plans",
        }
    }

    fn most(self) -> u32 {
        match self {
            Owned::Foods => validation::MAX_OWN_FOODS,
            Owned::Recipes => validation::MAX_OWN_RECIPES,
            Owned::MealPlans => validation::MAX_OWN_MEAL_PLANS,
        }
    }
}

/// Takes the user's lock for the rest of the transaction (PostgreSQL; see
/// the module's doc for SQLite). Take it before counting: a count read
/// before it could miss a write committed while waiting.
pub(crate) async fn lock_user(db: &impl ConnectionTrait, user: UserId) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let sql = "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE";
    db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [user.0.into()])).await?;
    Ok(())
}

/// Whether `owner` may own one more of `what`: takes the user's lock, then
/// counts (up to the bound only, so a full account costs no more to check).
pub(crate) async fn has_room(db: &impl ConnectionTrait, owner: UserId, what: Owned) -> Result<bool, DbErr> {
    lock_user(db, owner).await?;
    let backend = db.get_database_backend();
    let (u, n) = if backend == DbBackend::Postgres { ("$1", "$2") } else { ("?1", "?2") };
    let sql =
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM {} WHERE owner_user_id = {u} LIMIT {n}) AS owned", what.table());
    let most = i64::from(what.most());
    let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, [owner.0.into(), most.into()])).await?;
    let owned = match row {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    };
    Ok(owned < most)
}

/// How many entries a write adds to each date.
pub(crate) type Adding = BTreeMap<Day, u32>;

/// A query answering the earliest date of `adding` that would then hold
/// more than `MAX_DAY_ENTRIES` entries, or no row when every one has room.
/// Run it inside the write's transaction, after `lock_user`.
pub(crate) fn overfull_day(backend: DbBackend, user: UserId, adding: &Adding) -> Statement {
    let postgres = backend == DbBackend::Postgres;
    let mut values: Vec<Value> = Vec::new();
    let mut bind = |value: Value| {
        values.push(value);
        if postgres { format!("${}", values.len()) } else { "?".to_owned() }
    };
    let rows: Vec<String> = adding
        .iter()
        .map(|(day, n)| format!("({}, {})", bind(day.date().into()), bind(i64::from(*n).into())))
        .collect();
    let user = bind(user.0.into());
    let most = bind(i64::from(validation::MAX_DAY_ENTRIES).into());
    let sql = format!(
        "WITH adding (day, entries) AS (VALUES {}) SELECT adding.day FROM adding \
         WHERE (SELECT COUNT(*) FROM log_entries WHERE log_entries.user_id = {user} AND log_entries.date = adding.day) \
         + adding.entries > {most} ORDER BY adding.day LIMIT 1",
        rows.join(", ")
    );
    Statement::from_sql_and_values(backend, sql, values)
}

/// PostgreSQL's `guard` CTE for a batch's own statement: the user's lock
/// and the count, in `macrotrack_overfull_day` (migration 11, which says
/// why a function), answering `over`: the earliest date of `adding` that
/// would pass its bound, or NULL. Bound through `parameters`, so the
/// statement's other placeholders follow on.
pub(crate) fn overfull_guard(parameters: &mut crate::parameters::Parameters, user: UserId, adding: &Adding) -> String {
    let days: Vec<String> = adding.keys().map(|day| day.to_string()).collect();
    let counts: Vec<String> = adding.values().map(u32::to_string).collect();
    let (user, days, counts) =
        (parameters.add(user.0), parameters.add(days.join(",")), parameters.add(counts.join(",")));
    let most = parameters.add(i64::from(validation::MAX_DAY_ENTRIES));
    format!("guard AS MATERIALIZED (SELECT macrotrack_overfull_day({user}, {days}, {counts}, {most}) AS over)")
}

/// The date an `overfull_day` row names.
pub(crate) fn overfull_date(row: &sea_orm::QueryResult) -> Result<Day, macrotrack_ports::Unavailable> {
    let date = row.try_get_by_index::<NaiveDate>(0).map_err(crate::unavailable)?;
    crate::to_day(date, "a day over its bound")
}
