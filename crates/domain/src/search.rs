//! Food search composed of two parts: the reader's own and logged foods,
//! and the catalogue's global foods. Each part is ranked by its source;
//! the answer is the reader's part, then the catalogue's without the foods
//! already shown, so the catalogue's part can be shared by every reader.

use std::collections::HashSet;

use crate::{Food, FoodOwner, fold};

/// The query as search compares it: folded words, one space apart. Two
/// queries with the same normalized form find the same foods in the same
/// order, so this names their cached answers.
pub fn normalized_query(query: &str) -> String {
    fold(query).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How many catalogue rows `merge_search` needs to fill `wanted` rows
/// after `own`: those `own` leaves to fill, plus one for each global food
/// in `own`, which the catalogue's part also holds and the merge skips.
pub fn catalogue_rows_needed(own: &[Food], wanted: usize) -> usize {
    let global_in_own = own.iter().filter(|food| food.owner == FoodOwner::Global).count();
    wanted.saturating_sub(own.len()) + global_in_own
}

/// The first `limit` of `own` followed by `catalogue` without the foods
/// `own` holds.
pub fn merge_search(own: Vec<Food>, catalogue: Vec<Food>, limit: usize) -> Vec<Food> {
    let shown: HashSet<_> = own.iter().map(|food| food.id).collect();
    own.into_iter().chain(catalogue.into_iter().filter(|food| !shown.contains(&food.id))).take(limit).collect()
}

/// check-value of a catalogue part: global foods only, each once.
#[allow(clippy::ptr_arg)] // the engine's check-value signature is fn(&T) with T = Vec<_>
pub fn check_catalogue_part(foods: &Vec<Food>) -> Result<(), String> {
    let mut seen = HashSet::with_capacity(foods.len());
    for food in foods {
        if food.owner != FoodOwner::Global {
            return Err(format!("food {} in the catalogue's part is a user's", food.id.0));
        }
        if !seen.insert(food.id) {
            return Err(format!("food {} twice", food.id.0));
        }
    }
    Ok(())
}

/// check-value of a reader's part: each food once.
#[allow(clippy::ptr_arg)]
pub fn check_own_part(foods: &Vec<Food>) -> Result<(), String> {
    let mut seen = HashSet::with_capacity(foods.len());
    match foods.iter().find(|food| !seen.insert(food.id)) {
        Some(twice) => Err(format!("food {} twice", twice.id.0)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Amount, FoodId, Macros};

    fn food(id: i64, owner: FoodOwner) -> Food {
        Food {
            id: FoodId(id),
            name: format!("food {id}"),
            brand: None,
            serving_size: Amount::from_hundredths(10000),
            serving_unit: "g".into(),
            grams_per_serving: None,
            per_serving: Macros::default(),
            owner,
            generic: true,
            source: None,
            barcode: None,
            portions: Vec::new(),
        }
    }

    #[test]
    fn queries_that_search_alike_normalize_alike() {
        assert_eq!(normalized_query("  Crème\t BRÛLÉE "), "creme brulee");
        assert_eq!(normalized_query("creme brulee"), normalized_query("CRÈME   brûlée"));
        assert_eq!(normalized_query("   "), "");
    }

    #[test]
    fn the_readers_part_comes_first_and_the_catalogue_fills_the_rest_without_repeats() {
        let own = vec![food(7, FoodOwner::Global), food(9, FoodOwner::User)];
        let catalogue = vec![food(3, FoodOwner::Global), food(7, FoodOwner::Global), food(5, FoodOwner::Global)];
        assert_eq!(catalogue_rows_needed(&own, 4), 3, "two to fill, one more for food 7");
        let ids = |foods: Vec<Food>| foods.into_iter().map(|food| food.id.0).collect::<Vec<_>>();
        assert_eq!(ids(merge_search(own.clone(), catalogue.clone(), 4)), [7, 9, 3, 5]);
        assert_eq!(ids(merge_search(own.clone(), catalogue, 1)), [7]);
        assert_eq!(catalogue_rows_needed(&own, 1), 1);
    }

    #[test]
    fn parts_are_checked() {
        assert!(check_catalogue_part(&vec![food(1, FoodOwner::User)]).is_err());
        assert!(check_catalogue_part(&vec![food(1, FoodOwner::Global), food(1, FoodOwner::Global)]).is_err());
        assert!(check_own_part(&vec![food(1, FoodOwner::User), food(2, FoodOwner::Global)]).is_ok());
        assert!(check_own_part(&vec![food(1, FoodOwner::User), food(1, FoodOwner::User)]).is_err());
    }
}
