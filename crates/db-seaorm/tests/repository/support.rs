//! Fixtures shared by the behaviours.

use chrono::Utc;
use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_db_seaorm::entities::{food, food_use};
use macrotrack_domain::{Amount, Day, FoodId, LogItem, Macros, Meal, NewFood, NewLogEntry, Timestamp, User, UserId};
use macrotrack_ports::UserRepository;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

pub fn day(text: &str) -> Day {
    text.parse().unwrap()
}

pub fn hundredths(value: i64) -> Amount {
    Amount::from_hundredths(value)
}

pub fn macros(calories: i64, protein_g: i64, carbs_g: i64, fat_g: i64) -> Macros {
    Macros {
        calories: hundredths(calories),
        protein_g: hundredths(protein_g),
        carbs_g: hundredths(carbs_g),
        fat_g: hundredths(fat_g),
    }
}

pub async fn user(repo: &SeaOrmRepository, name: &str) -> User {
    repo.create_user(name, &format!("sel_{name}"), [name.len() as u8; 32]).await.unwrap()
}

/// 52.13 kcal, 3.33 g protein, 0.01 g carbs, 0 g fat per 60 g bar.
pub fn bar(name: &str) -> NewFood {
    NewFood {
        name: name.to_owned(),
        brand: Some("Acme".to_owned()),
        serving_size: hundredths(6000),
        serving_unit: "g".to_owned(),
        per_serving: macros(5213, 333, 1, 0),
    }
}

pub fn entry(date: &str, meal: Meal, item: LogItem, servings: i64) -> NewLogEntry {
    NewLogEntry { date: day(date), meal, item, servings: hundredths(servings) }
}

pub async fn global_foods(repo: &SeaOrmRepository) -> Vec<food::Model> {
    food::Entity::find().filter(food::Column::OwnerUserId.is_null()).all(repo.connection()).await.unwrap()
}

pub async fn global_food(repo: &SeaOrmRepository, name: &str) -> FoodId {
    let found = global_foods(repo).await.into_iter().find(|food| food.name == name);
    FoodId(found.unwrap_or_else(|| panic!("no global food {name:?}")).id)
}

pub async fn uses(repo: &SeaOrmRepository, user: UserId, food: FoodId) -> Option<i32> {
    food_use::Entity::find_by_id((user.0, food.0)).one(repo.connection()).await.unwrap().map(|row| row.uses)
}

pub fn now() -> Timestamp {
    Timestamp::new(Utc::now())
}
