//! `RecipeRepository`: users' recipes, with per-serving macros computed when
//! the recipe is created and again when one of its foods is edited.

use std::collections::HashMap;

use async_trait::async_trait;
use macrotrack_domain::{Amount, FoodId, Ingredient, NewRecipe, Recipe, RecipeId, UserId};
use macrotrack_ports::{CreateRecipeError, Keep, RecipeRepository, Unavailable};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::bounds::{self, Owned};
use crate::entities::{food, recipe, recipe_ingredient};
use crate::idempotency::keeping;
use crate::{SeaOrmRepository, finish, macros, unavailable};

#[async_trait]
impl RecipeRepository for SeaOrmRepository {
    async fn create_recipe(&self, owner: UserId, new: &NewRecipe) -> Result<Recipe, CreateRecipeError> {
        let txn = self.begin_write().await?;
        let created = insert_recipe(&txn, owner, new).await;
        finish(txn, created).await
    }

    async fn create_recipe_keeping(
        &self,
        owner: UserId,
        new: &NewRecipe,
        keep: Keep<Recipe>,
    ) -> Result<Recipe, CreateRecipeError> {
        let txn = self.begin_write().await?;
        let created = insert_recipe(&txn, owner, new).await;
        let created = keeping(&txn, created, Some(keep)).await;
        finish(txn, created).await
    }

    async fn recipe(&self, reader: UserId, id: RecipeId) -> Result<Option<Recipe>, Unavailable> {
        let Some(model) = own_recipe(&self.db, reader, id).await.map_err(unavailable)? else {
            return Ok(None);
        };
        let ingredients = recipe_ingredient::Entity::find()
            .filter(recipe_ingredient::Column::RecipeId.eq(model.id))
            .order_by_asc(recipe_ingredient::Column::Position)
            .all(&self.db)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|row| Ingredient { food_id: FoodId(row.food_id), servings: Amount::from_hundredths(row.servings) })
            .collect();
        Ok(Some(Recipe {
            id: RecipeId(model.id),
            name: model.name,
            servings: Amount::from_hundredths(model.servings),
            ingredients,
            per_serving: macros(model.calories, model.protein_g, model.carbs_g, model.fat_g),
        }))
    }
}

/// The recipe when `owner` owns it; on any connection, so a transaction can
/// resolve the recipes it logs or plans.
pub(crate) async fn own_recipe(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: RecipeId,
) -> Result<Option<recipe::Model>, DbErr> {
    recipe::Entity::find_by_id(id.0).filter(recipe::Column::OwnerUserId.eq(owner.0)).one(db).await
}

async fn insert_recipe(db: &impl ConnectionTrait, owner: UserId, new: &NewRecipe) -> Result<Recipe, CreateRecipeError> {
    // One query for every ingredient's food, then the first one missing
    // (or another user's) is reported by its index before anything is written.
    let ids: Vec<i64> = new.ingredients.iter().map(|ingredient| ingredient.food_id.0).collect();
    let visible = Condition::any().add(food::Column::OwnerUserId.is_null()).add(food::Column::OwnerUserId.eq(owner.0));
    let foods: HashMap<i64, food::Model> = food::Entity::find()
        .filter(food::Column::Id.is_in(ids))
        .filter(visible)
        .all(db)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|food| (food.id, food))
        .collect();
    let mut parts = Vec::with_capacity(new.ingredients.len());
    for (index, ingredient) in new.ingredients.iter().enumerate() {
        let food = foods.get(&ingredient.food_id.0).ok_or(CreateRecipeError::UnknownFood { index })?;
        parts.push((macros(food.calories, food.protein_g, food.carbs_g, food.fat_g), ingredient.servings));
    }
    let per_serving = Recipe::per_serving(parts, new.servings);
    if !bounds::has_room(db, owner, Owned::Recipes).await.map_err(unavailable)? {
        return Err(CreateRecipeError::Full);
    }

    let row = recipe::ActiveModel {
        id: NotSet,
        owner_user_id: Set(owner.0),
        name: Set(new.name.clone()),
        servings: Set(new.servings.hundredths()),
        calories: Set(per_serving.calories.hundredths()),
        protein_g: Set(per_serving.protein_g.hundredths()),
        carbs_g: Set(per_serving.carbs_g.hundredths()),
        fat_g: Set(per_serving.fat_g.hundredths()),
    };
    let id = recipe::Entity::insert(row).exec(db).await.map_err(unavailable)?.last_insert_id;
    let rows = new.ingredients.iter().zip(0..).map(|(ingredient, position)| recipe_ingredient::ActiveModel {
        recipe_id: Set(id),
        position: Set(position),
        food_id: Set(ingredient.food_id.0),
        servings: Set(ingredient.servings.hundredths()),
    });
    recipe_ingredient::Entity::insert_many(rows).exec_without_returning(db).await.map_err(unavailable)?;
    Ok(Recipe {
        id: RecipeId(id),
        name: new.name.clone(),
        servings: new.servings,
        ingredients: new.ingredients.clone(),
        per_serving,
    })
}

/// Recomputes the per-serving macros of every recipe with `food` among its
/// ingredients, from its foods as they are now (after `food` was edited).
pub(crate) async fn recompute_recipes_using(db: &impl ConnectionTrait, food: FoodId) -> Result<(), DbErr> {
    let recipe_ids: Vec<i64> = recipe_ingredient::Entity::find()
        .select_only()
        .column(recipe_ingredient::Column::RecipeId)
        .filter(recipe_ingredient::Column::FoodId.eq(food.0))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    for recipe_id in recipe_ids {
        let Some(model) = recipe::Entity::find_by_id(recipe_id).one(db).await? else { continue };
        let ingredients = recipe_ingredient::Entity::find()
            .filter(recipe_ingredient::Column::RecipeId.eq(recipe_id))
            .order_by_asc(recipe_ingredient::Column::Position)
            .all(db)
            .await?;
        let ids: Vec<i64> = ingredients.iter().map(|ingredient| ingredient.food_id).collect();
        let foods: HashMap<i64, food::Model> = food::Entity::find()
            .filter(food::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|f| (f.id, f))
            .collect();
        let parts = ingredients.iter().filter_map(|ingredient| {
            let food = foods.get(&ingredient.food_id)?;
            Some((
                macros(food.calories, food.protein_g, food.carbs_g, food.fat_g),
                Amount::from_hundredths(ingredient.servings),
            ))
        });
        let per_serving = Recipe::per_serving(parts, Amount::from_hundredths(model.servings));
        let mut row: recipe::ActiveModel = model.into();
        row.calories = Set(per_serving.calories.hundredths());
        row.protein_g = Set(per_serving.protein_g.hundredths());
        row.carbs_g = Set(per_serving.carbs_g.hundredths());
        row.fat_g = Set(per_serving.fat_g.hundredths());
        sea_orm::ActiveModelTrait::update(row, db).await?;
    }
    Ok(())
}
