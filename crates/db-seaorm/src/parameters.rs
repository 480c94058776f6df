//! Parameters of a hand-written statement, with the placeholder of each as
//! the backend spells it (`$1`, `$2` on PostgreSQL; `?` in order on SQLite,
//! also across the statements of one call): the multi-row writes (a batch
//! of log entries, an import's foods) that sea-orm's builder would spell
//! one row at a time.

use sea_orm::{DbBackend, Value};

/// The values bound so far, in placeholder order.
pub(crate) struct Parameters {
    postgres: bool,
    /// What the statement binds, in order.
    pub(crate) values: Vec<Value>,
}

impl Parameters {
    /// None bound yet, placeholders as `backend` spells them.
    pub(crate) fn new(backend: DbBackend) -> Parameters {
        Parameters { postgres: backend == DbBackend::Postgres, values: Vec::new() }
    }

    /// Binds `value`; answers its placeholder.
    pub(crate) fn add(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        if self.postgres { format!("${}", self.values.len()) } else { "?".to_owned() }
    }

    /// `(p1, p2, ...)` of `values`.
    pub(crate) fn row(&mut self, values: impl IntoIterator<Item = Value>) -> String {
        let placeholders: Vec<String> = values.into_iter().map(|value| self.add(value)).collect();
        format!("({})", placeholders.join(", "))
    }
}
