//! `CatalogueImport`: batches of imported foods upserted by source id, in
//! multi-row statements, one transaction per batch.
//!
//! A batch reads what is stored under its source ids (foods, then their
//! portions), compares in Rust, and writes only what differs: new and
//! changed foods in one `INSERT ... ON CONFLICT (source) DO UPDATE` per
//! few hundred rows, portions only of foods whose portions differ. A
//! re-run of the same files therefore costs two reads per batch and no
//! write.

use crate::parameters::Parameters;
use std::collections::HashMap;

use async_trait::async_trait;
use macrotrack_domain::{ImportedFood, Timestamp};
use macrotrack_ports::{CatalogueImport, ImportCounts, Unavailable};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Statement, Value};

use crate::{SeaOrmRepository, finish, unavailable};

/// Rows per INSERT of foods: 14 parameters each, well under SQLite's
/// 32,766 and PostgreSQL's 65,535 parameters per statement.
const FOODS_PER_STATEMENT: usize = 500;
/// Rows per INSERT of portions (4 parameters each).
const PORTIONS_PER_STATEMENT: usize = 2000;
/// Values per `IN (...)` list.
const KEYS_PER_STATEMENT: usize = 1000;

/// Every imported food is served per 100 g: 100.00 in hundredths.
const SERVING_HUNDREDTHS: i64 = 10000;
const SERVING_UNIT: &str = "g";

#[async_trait]
impl CatalogueImport for SeaOrmRepository {
    async fn upsert_imported_foods(&self, batch: &[ImportedFood], at: Timestamp) -> Result<ImportCounts, Unavailable> {
        if batch.is_empty() {
            return Ok(ImportCounts::default());
        }
        let txn = self.begin_write().await?;
        let upserted = async {
            let mut counts = ImportCounts::default();
            for round in rounds(batch) {
                counts += upsert_distinct(&txn, &round, at).await?;
            }
            if counts.changed_anything() {
                let mark = "UPDATE catalogue_state SET changed = TRUE WHERE id = 1";
                txn.execute_unprepared(mark).await.map_err(unavailable)?;
            }
            Ok(counts)
        }
        .await;
        finish(txn, upserted).await
    }

    async fn finish_import(&self) -> Result<Option<u64>, Unavailable> {
        let bump = "UPDATE catalogue_state SET generation = generation + 1, changed = FALSE \
                    WHERE id = 1 AND changed RETURNING generation";
        let statement = Statement::from_string(self.db.get_database_backend(), bump);
        let row = self.db.query_one_raw(statement).await.map_err(unavailable)?;
        row.map(|row| generation_of(&row)).transpose()
    }
}

/// The catalogue's generation (`FoodRepository::catalogue_generation`).
pub(crate) async fn generation(db: &impl ConnectionTrait) -> Result<u64, Unavailable> {
    let statement =
        Statement::from_string(db.get_database_backend(), "SELECT generation FROM catalogue_state WHERE id = 1");
    match db.query_one_raw(statement).await.map_err(unavailable)? {
        Some(row) => generation_of(&row),
        None => Err(crate::corrupt("the catalogue_state row is missing")),
    }
}

fn generation_of(row: &QueryResult) -> Result<u64, Unavailable> {
    let generation: i64 = row.try_get("", "generation").map_err(unavailable)?;
    u64::try_from(generation).map_err(|_| crate::corrupt(format!("catalogue generation {generation}")))
}

/// `batch` split so no source id occurs twice in a part, in order: the
/// n-th occurrence of a source id goes to part n. Applied one after the
/// other, the parts do what applying the foods one by one would (a single
/// upsert statement may not touch a row twice).
fn rounds(batch: &[ImportedFood]) -> Vec<Vec<&ImportedFood>> {
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(batch.len());
    let mut rounds: Vec<Vec<&ImportedFood>> = Vec::new();
    for food in batch {
        let occurrence = seen.entry(food.source.to_string()).or_insert(0);
        if rounds.len() <= *occurrence {
            rounds.push(Vec::new());
        }
        rounds[*occurrence].push(food);
        *occurrence += 1;
    }
    rounds
}

/// A food as stored, in the columns an import writes.
#[derive(Debug, PartialEq)]
struct Stored {
    name: String,
    brand: Option<String>,
    generic: bool,
    barcode: Option<String>,
    serving_size: i64,
    serving_unit: String,
    macros: [i64; 4],
}

impl Stored {
    fn of(food: &ImportedFood) -> Stored {
        let macros = food.per_100g;
        Stored {
            name: food.name.clone(),
            brand: food.brand.clone(),
            generic: food.generic,
            barcode: food.barcode.map(|gtin| gtin.to_string()),
            serving_size: SERVING_HUNDREDTHS,
            serving_unit: SERVING_UNIT.to_owned(),
            macros: [macros.calories, macros.protein_g, macros.carbs_g, macros.fat_g].map(|value| value.hundredths()),
        }
    }
}

/// A portion as stored: its name and hundredths of grams, in position order.
type StoredPortion = (String, i64);

fn portions_of(food: &ImportedFood) -> Vec<StoredPortion> {
    food.portions.iter().map(|portion| (portion.name.clone(), portion.grams.hundredths())).collect()
}

/// What a food of the batch needs.
enum Plan {
    Insert,
    Update { id: i64, portions_differ: bool },
    Nothing,
}

/// Upserts `foods`, whose source ids are distinct.
async fn upsert_distinct(
    txn: &DatabaseTransaction,
    foods: &[&ImportedFood],
    at: Timestamp,
) -> Result<ImportCounts, Unavailable> {
    let sources: Vec<String> = foods.iter().map(|food| food.source.to_string()).collect();
    let stored = stored_foods(txn, &sources).await?;
    let ids: Vec<i64> = stored.values().map(|(id, _)| *id).collect();
    let mut stored_portions = stored_portions(txn, &ids).await?;
    let mut counts = ImportCounts::default();
    let plans: Vec<Plan> = foods
        .iter()
        .zip(&sources)
        .map(|(food, source)| match stored.get(source) {
            None => {
                counts.imported += 1;
                Plan::Insert
            }
            Some((id, row)) => {
                let portions_differ = stored_portions.remove(id).unwrap_or_default() != portions_of(food);
                if !portions_differ && *row == Stored::of(food) {
                    counts.unchanged += 1;
                    Plan::Nothing
                } else {
                    counts.updated += 1;
                    Plan::Update { id: *id, portions_differ }
                }
            }
        })
        .collect();
    let written: Vec<(&ImportedFood, &str)> = foods
        .iter()
        .zip(&sources)
        .zip(&plans)
        .filter(|(_, plan)| !matches!(plan, Plan::Nothing))
        .map(|((food, source), _)| (*food, source.as_str()))
        .collect();
    let ids = upsert_foods(txn, &written, at).await?;
    let replaced: Vec<i64> = plans
        .iter()
        .filter_map(|plan| match plan {
            Plan::Update { id, portions_differ: true } => Some(*id),
            _ => None,
        })
        .collect();
    delete_portions(txn, &replaced).await?;
    let mut portions: Vec<(i64, &ImportedFood)> = Vec::new();
    for ((food, source), plan) in foods.iter().zip(&sources).zip(&plans) {
        let id = match plan {
            Plan::Insert => ids.get(source.as_str()).copied(),
            Plan::Update { id, portions_differ: true } => Some(*id),
            _ => None,
        };
        if let Some(id) = id {
            portions.push((id, food));
        }
    }
    insert_portions(txn, &portions).await?;
    Ok(counts)
}

async fn query(
    txn: &DatabaseTransaction,
    sql: String,
    parameters: Parameters,
) -> Result<Vec<QueryResult>, Unavailable> {
    let statement = Statement::from_sql_and_values(txn.get_database_backend(), sql, parameters.values);
    txn.query_all_raw(statement).await.map_err(unavailable)
}

/// source → (id, the stored food) of the foods stored under `sources`.
async fn stored_foods(
    txn: &DatabaseTransaction,
    sources: &[String],
) -> Result<HashMap<String, (i64, Stored)>, Unavailable> {
    let mut stored = HashMap::new();
    for chunk in sources.chunks(KEYS_PER_STATEMENT) {
        let mut parameters = Parameters::new(txn.get_database_backend());
        let list = parameters.row(chunk.iter().map(|source| Value::from(source.as_str())));
        let sql = format!(
            "SELECT id, source, name, brand, generic, barcode, serving_size, serving_unit, calories, protein_g, \
             carbs_g, fat_g FROM foods WHERE source IN {list}"
        );
        for row in query(txn, sql, parameters).await? {
            let get_i64 = |index| row.try_get_by_index::<i64>(index).map_err(unavailable);
            let food = Stored {
                name: row.try_get_by_index(2).map_err(unavailable)?,
                brand: row.try_get_by_index(3).map_err(unavailable)?,
                generic: row.try_get_by_index(4).map_err(unavailable)?,
                barcode: row.try_get_by_index(5).map_err(unavailable)?,
                serving_size: get_i64(6)?,
                serving_unit: row.try_get_by_index(7).map_err(unavailable)?,
                macros: [get_i64(8)?, get_i64(9)?, get_i64(10)?, get_i64(11)?],
            };
            let source: String = row.try_get_by_index(1).map_err(unavailable)?;
            stored.insert(source, (get_i64(0)?, food));
        }
    }
    Ok(stored)
}

/// food id → its portions in position order, for the foods of `ids`.
async fn stored_portions(
    txn: &DatabaseTransaction,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<StoredPortion>>, Unavailable> {
    let mut portions: HashMap<i64, Vec<StoredPortion>> = HashMap::new();
    for chunk in ids.chunks(KEYS_PER_STATEMENT) {
        let mut parameters = Parameters::new(txn.get_database_backend());
        let list = parameters.row(chunk.iter().map(|&id| Value::from(id)));
        let sql = format!(
            "SELECT food_id, name, grams FROM food_portions WHERE food_id IN {list} ORDER BY food_id, position"
        );
        for row in query(txn, sql, parameters).await? {
            let food: i64 = row.try_get_by_index(0).map_err(unavailable)?;
            let name: String = row.try_get_by_index(1).map_err(unavailable)?;
            let grams: i64 = row.try_get_by_index(2).map_err(unavailable)?;
            portions.entry(food).or_default().push((name, grams));
        }
    }
    Ok(portions)
}

/// Inserts or updates `foods` (new and changed ones), stamped `at`;
/// answers source → id.
async fn upsert_foods<'a>(
    txn: &DatabaseTransaction,
    foods: &[(&ImportedFood, &'a str)],
    at: Timestamp,
) -> Result<HashMap<&'a str, i64>, Unavailable> {
    let mut ids = HashMap::with_capacity(foods.len());
    for chunk in foods.chunks(FOODS_PER_STATEMENT) {
        let mut parameters = Parameters::new(txn.get_database_backend());
        let rows: Vec<String> = chunk
            .iter()
            .map(|(food, source)| {
                let stored = Stored::of(food);
                let [calories, protein_g, carbs_g, fat_g] = stored.macros;
                parameters.row([
                    // name_folded: what search matches today (see foods.rs).
                    food.name.to_lowercase().into(),
                    stored.name.into(),
                    stored.brand.into(),
                    stored.generic.into(),
                    stored.barcode.into(),
                    stored.serving_size.into(),
                    stored.serving_unit.into(),
                    calories.into(),
                    protein_g.into(),
                    carbs_g.into(),
                    fat_g.into(),
                    (*source).into(),
                    at.instant().into(),
                    food.search_text().into(),
                ])
            })
            .collect();
        let sql = format!(
            "INSERT INTO foods (name_folded, name, brand, generic, barcode, serving_size, serving_unit, calories, \
             protein_g, carbs_g, fat_g, source, imported_at, search_folded) VALUES {} \
             ON CONFLICT (source) DO UPDATE SET name_folded = excluded.name_folded, name = excluded.name, \
             brand = excluded.brand, generic = excluded.generic, barcode = excluded.barcode, \
             serving_size = excluded.serving_size, serving_unit = excluded.serving_unit, \
             calories = excluded.calories, protein_g = excluded.protein_g, carbs_g = excluded.carbs_g, \
             fat_g = excluded.fat_g, imported_at = excluded.imported_at, search_folded = excluded.search_folded \
             RETURNING id, source",
            rows.join(", ")
        );
        let by_source: HashMap<&str, &'a str> = chunk.iter().map(|(_, source)| (*source, *source)).collect();
        for row in query(txn, sql, parameters).await? {
            let id: i64 = row.try_get_by_index(0).map_err(unavailable)?;
            let source: String = row.try_get_by_index(1).map_err(unavailable)?;
            if let Some(&source) = by_source.get(source.as_str()) {
                ids.insert(source, id);
            }
        }
    }
    Ok(ids)
}

async fn delete_portions(txn: &DatabaseTransaction, foods: &[i64]) -> Result<(), Unavailable> {
    for chunk in foods.chunks(KEYS_PER_STATEMENT) {
        let mut parameters = Parameters::new(txn.get_database_backend());
        let list = parameters.row(chunk.iter().map(|&id| Value::from(id)));
        query(txn, format!("DELETE FROM food_portions WHERE food_id IN {list}"), parameters).await?;
    }
    Ok(())
}

/// Inserts the portions of each (food id, food), positions from 0.
async fn insert_portions(txn: &DatabaseTransaction, foods: &[(i64, &ImportedFood)]) -> Result<(), Unavailable> {
    let rows: Vec<(i64, i32, &str, i64)> = foods
        .iter()
        .flat_map(|&(id, food)| {
            food.portions.iter().enumerate().map(move |(position, portion)| {
                (id, position as i32, portion.name.as_str(), portion.grams.hundredths())
            })
        })
        .collect();
    for chunk in rows.chunks(PORTIONS_PER_STATEMENT) {
        let mut parameters = Parameters::new(txn.get_database_backend());
        let values: Vec<String> = chunk
            .iter()
            .map(|&(food, position, name, grams)| {
                parameters.row([food.into(), position.into(), name.into(), grams.into()])
            })
            .collect();
        let sql = format!("INSERT INTO food_portions (food_id, position, name, grams) VALUES {}", values.join(", "));
        query(txn, sql, parameters).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use macrotrack_domain::{FoodSource, Macros};

    use super::*;

    fn food(fdc_id: u64, name: &str) -> ImportedFood {
        ImportedFood {
            source: FoodSource::Fdc(fdc_id),
            name: name.to_owned(),
            brand: None,
            generic: true,
            barcode: None,
            barcode_rejected: false,
            per_100g: Macros::default(),
            portions: Vec::new(),
        }
    }

    #[test]
    fn repeated_sources_go_to_later_rounds_in_order() {
        let batch = [food(1, "a"), food(2, "b"), food(1, "c"), food(1, "d"), food(3, "e")];
        let names: Vec<Vec<&str>> =
            rounds(&batch).iter().map(|round| round.iter().map(|food| food.name.as_str()).collect()).collect();
        assert_eq!(names, [vec!["a", "b", "e"], vec!["c"], vec!["d"]]);
    }
}
