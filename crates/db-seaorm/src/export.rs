//! A user's entries over a range of dates, in day order: what an export
//! reads, page by page.

use macrotrack_domain::{Day, LogEntry, UserId};
use macrotrack_ports::Unavailable;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::log_rows::{ENTRY_COLUMNS, entry_by_position};
use crate::unavailable;

/// The entries of `from..=to`, by date, then meal, then id (the day logs'
/// order), over the `(user_id, date)` index.
pub(crate) async fn entries_between(
    db: &DatabaseConnection,
    user: UserId,
    from: Day,
    to: Day,
) -> Result<Vec<LogEntry>, Unavailable> {
    let backend = db.get_database_backend();
    let (u, f, t) = if backend == DbBackend::Postgres { ("$1", "$2", "$3") } else { ("?1", "?2", "?3") };
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM log_entries WHERE log_entries.user_id = {u} AND log_entries.date >= {f} \
         AND log_entries.date <= {t} ORDER BY log_entries.date, log_entries.id"
    );
    let values = [user.0.into(), from.date().into(), to.date().into()];
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await.map_err(unavailable)?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        entries.extend(entry_by_position(row)?);
    }
    // Meals are stored by name: their order is the domain's, not the text's.
    entries.sort_by_key(|entry| (entry.date, entry.meal, entry.id));
    Ok(entries)
}
