//! The household measures of catalogue foods (`food_portions`), read for
//! every food a repository answers, in one query per answer.

use std::collections::HashMap;

use macrotrack_domain::{Amount, Food, FoodOwner, Portion, PortionId};
use sea_orm::{ConnectionTrait, DbErr, Statement};

/// Fills the portions of the catalogue's foods among `foods` (a user's
/// own food has none), in their order of position.
pub(crate) async fn fill<'a>(
    db: &impl ConnectionTrait,
    foods: impl IntoIterator<Item = &'a mut Food>,
) -> Result<(), DbErr> {
    let mut global: Vec<&mut Food> = foods.into_iter().filter(|food| food.owner == FoodOwner::Global).collect();
    if global.is_empty() {
        return Ok(());
    }
    // Ids of rows just read: integers, written into the statement as such.
    let ids: Vec<String> = global.iter().map(|food| food.id.0.to_string()).collect();
    let sql = format!(
        "SELECT id, food_id, name, grams FROM food_portions WHERE food_id IN ({}) ORDER BY food_id, position",
        ids.join(", ")
    );
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    let mut by_food: HashMap<i64, Vec<Portion>> = HashMap::new();
    for row in rows {
        let food: i64 = row.try_get_by_index(1)?;
        by_food.entry(food).or_default().push(Portion {
            id: PortionId(row.try_get_by_index(0)?),
            name: row.try_get_by_index(2)?,
            grams: Amount::from_hundredths(row.try_get_by_index(3)?),
        });
    }
    for food in &mut global {
        food.portions = by_food.remove(&food.id.0).unwrap_or_default();
    }
    Ok(())
}
