//! Food search as the contract ranks it, served by the trigram indexes of
//! the search migration: every word of the query occurs in the food's
//! folded name or brand; the user's own and logged foods first (most uses
//! first), then names whose first word starts with the query's first
//! word, then generic before branded, then fewer words, then the folded
//! name, then id.

use macrotrack_domain::{UserId, fold};

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, Value};

use crate::entities::food;
use crate::unavailable;

const LIKE_ESCAPE: char = '\\';

/// `text` with LIKE's wildcards and the escape character escaped, so it
/// matches literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            escaped.push(LIKE_ESCAPE);
        }
        escaped.push(c);
    }
    escaped
}

/// The query's words, folded as the stored text is.
pub(crate) fn words(query: &str) -> Vec<String> {
    fold(query).split_whitespace().map(str::to_owned).collect()
}

/// An FTS5 string of `word`: double quotes doubled.
fn fts_string(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

struct Sql {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Sql {
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => format!("?{}", self.values.len()),
        }
    }
}

/// Which foods a search looks through.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope {
    /// The foods the user owns or has logged, most uses first.
    Own(UserId),
    /// The global foods.
    Catalogue,
}

/// At most `limit` foods of `scope` matching every word of `query`, in the
/// contract's order.
pub(crate) async fn search(
    db: &impl ConnectionTrait,
    scope: Scope,
    query: &str,
    limit: u32,
) -> Result<Vec<food::Model>, macrotrack_ports::Unavailable> {
    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    let mut sql = Sql { backend, values: Vec::new() };
    let words = words(query);
    // PostgreSQL's default LIKE escape is the backslash already, and an
    // explicit ESCAPE would hide the pattern from the trigram index.
    let escape = if postgres { "" } else { " ESCAPE '\\'" };
    let mut matching = String::new();
    // The visibility test, as the planner may use it.
    let mut owner = "foods.owner_user_id";
    // A user's own and logged foods are few: found by their owner and use
    // rows, then matched; the trigram index serves the catalogue.
    if !postgres && matches!(scope, Scope::Catalogue) {
        // FTS5's trigram index answers words of three characters or more;
        // the LIKEs below keep the exact rule (and shorter words).
        let indexed: Vec<String> =
            words.iter().filter(|word| word.chars().count() >= 3).map(|w| fts_string(w)).collect();
        if !indexed.is_empty() {
            let expression = sql.bind(indexed.join(" AND "));
            matching.push_str(&format!(
                " AND foods.id IN (SELECT rowid FROM foods_search WHERE foods_search MATCH {expression})"
            ));
            // Unary `+` keeps SQLite from driving the query by the owner's
            // index (every global food: 377k rows of the full catalogue,
            // 133 ms for "chocolate"); the trigram matches drive it instead
            // (27 ms; "brie" 1 ms).
            owner = "+foods.owner_user_id";
        }
    }
    for word in &words {
        let pattern = sql.bind(format!("%{}%", escape_like(word)));
        matching.push_str(&format!(" AND foods.search_folded LIKE {pattern}{escape}"));
    }
    let first_word = match words.first() {
        Some(first) => {
            let prefix = sql.bind(format!("{}%", escape_like(first)));
            format!("CASE WHEN foods.search_folded LIKE {prefix}{escape} THEN 0 ELSE 1 END, ")
        }
        None => String::new(),
    };
    // Byte order of folded names on both backends, whatever PostgreSQL's
    // locale would say.
    let collate = if postgres { r#" COLLATE "C""# } else { "" };
    let (from, filter, uses_first) = match scope {
        Scope::Own(reader) => {
            let user = sql.bind(reader.0);
            (
                format!("foods LEFT JOIN food_uses ON food_uses.user_id = {user} AND food_uses.food_id = foods.id"),
                // Driven by the user's use rows and owner index, not a scan.
                format!(
                    "foods.id IN (SELECT food_uses.food_id FROM food_uses \
                     WHERE food_uses.user_id = {user} AND food_uses.uses > 0 \
                     UNION SELECT owned.id FROM foods AS owned WHERE owned.owner_user_id = {user})"
                ),
                "COALESCE(food_uses.uses, 0) DESC, ",
            )
        }
        Scope::Catalogue => ("foods".to_owned(), format!("{owner} IS NULL"), ""),
    };
    let limit = sql.bind(i64::from(limit));
    let statement = format!(
        "SELECT foods.* FROM {from} \
         WHERE {filter}{matching} \
         ORDER BY {uses_first}{first_word}\
         CASE WHEN foods.generic THEN 0 ELSE 1 END, \
         LENGTH(foods.name) - LENGTH(REPLACE(foods.name, ' ', '')), \
         COALESCE(foods.name_folded, foods.search_folded){collate}, foods.id \
         LIMIT {limit}"
    );
    food::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, statement, sql.values))
        .all(db)
        .await
        .map_err(unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_split_on_whitespace() {
        assert_eq!(words("  Crème\tBRÛLÉE "), ["creme", "brulee"]);
        assert!(words("   ").is_empty());
        assert_eq!(fts_string(r#"a"b"#), r#""a""b""#);
        assert_eq!(escape_like(r"10%_\"), r"10\%\_\\");
    }
}
