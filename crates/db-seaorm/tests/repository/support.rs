//! Fixtures shared by the behaviours.

use chrono::Utc;
use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_db_seaorm::entities::{food, food_use};
use macrotrack_domain::{
    Amount, Day, Food, FoodId, Ingredient, LogAmount, LogItem, Macros, Meal, MealPlan, MealPlanItem, NewFood,
    NewLogEntry, NewMealPlan, NewRecipe, Recipe, RecipeId, Timestamp, User, UserId,
};
use macrotrack_ports::{FoodRepository, PlanRepository, RecipeRepository, UserRepository};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};

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
    NewLogEntry { date: day(date), meal, item, amount: LogAmount::Servings(hundredths(servings)) }
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

/// A food of `owner` with these macros per 100 g.
pub async fn own_food(repo: &SeaOrmRepository, owner: UserId, name: &str, per_serving: Macros) -> Food {
    let new = NewFood {
        name: name.to_owned(),
        brand: None,
        serving_size: hundredths(10000),
        serving_unit: "g".to_owned(),
        per_serving,
    };
    repo.create_food(owner, &new).await.unwrap().value
}

pub async fn recipe(
    repo: &SeaOrmRepository,
    owner: UserId,
    name: &str,
    servings: i64,
    parts: &[(FoodId, i64)],
) -> Recipe {
    let ingredients =
        parts.iter().map(|&(food_id, servings)| Ingredient { food_id, servings: hundredths(servings) }).collect();
    let new = NewRecipe { name: name.to_owned(), servings: hundredths(servings), ingredients };
    repo.create_recipe(owner, &new).await.unwrap()
}

/// 0.5 × oats (389 kcal) + 2.5 × milk (42 kcal) over 3 servings: 99.83 kcal,
/// 5.65 g protein, 15.22 g carbs, 1.98 g fat per serving.
pub async fn porridge(repo: &SeaOrmRepository, owner: UserId) -> Recipe {
    let oats = own_food(repo, owner, "Oats", macros(38900, 1690, 6630, 690)).await;
    let milk = own_food(repo, owner, "Milk", macros(4200, 340, 500, 100)).await;
    recipe(repo, owner, "Porridge", 300, &[(oats.id, 50), (milk.id, 250)]).await
}

pub const PORRIDGE_PER_SERVING: [i64; 4] = [9983, 565, 1522, 198];

pub fn item(day: u32, meal: Meal, recipe: RecipeId, servings: i64) -> MealPlanItem {
    MealPlanItem { day, meal, recipe_id: recipe, servings: hundredths(servings) }
}

pub async fn plan(repo: &SeaOrmRepository, owner: UserId, days: u32, items: Vec<MealPlanItem>) -> MealPlan {
    let new = NewMealPlan { name: format!("{days}-day plan"), days, items };
    repo.create_meal_plan(owner, &new).await.unwrap()
}

/// `SELECT COUNT(*) FROM table WHERE column = value`, for checking what a
/// failed or deleting operation left behind.
pub async fn count_where(repo: &SeaOrmRepository, table: &str, column: &str, value: i64) -> i64 {
    let db = repo.connection();
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = {value}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

pub async fn count_all(repo: &SeaOrmRepository, table: &str) -> i64 {
    count_where(repo, table, "1", 1).await
}
