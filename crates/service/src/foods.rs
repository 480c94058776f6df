//! Foods and recipes.

use macrotrack_cache::Freshness;
use macrotrack_cache_keys::{EntryAddress, QueryKey, Tag};
use macrotrack_domain::{
    Food, FoodId, FoodInput, FrequentFood, NewFood, NewRecipe, Recipe, RecipeId, RecipeInput, UserId, ValidationErrors,
    check_frequent, validation,
};
use macrotrack_ports::{CacheStore, CreateRecipeError};

use crate::{Facts, GetError, Operation, ReadError, Service, WriteError};

impl<S: CacheStore> Service<S> {
    pub async fn create_food(&self, user: UserId, input: FoodInput) -> Result<Food, WriteError> {
        let food = NewFood::parse(input)?;
        let created = self.repos.foods.create_food(user, &food).await?;
        // No outbox row: this matrix row is empty (a test keeps it so), as a
        // new food has no use yet; a rule added here would need a row.
        self.forget(Operation::CreateFood, Facts::user(user), None).await;
        Ok(created)
    }

    /// A global food or one of the user's own.
    pub async fn food(&self, user: UserId, id: FoodId) -> Result<Food, GetError> {
        self.repos.foods.food(user, id).await?.ok_or(GetError::NotFound)
    }

    /// Visible foods whose name contains `query`, case-insensitively.
    pub async fn search_foods(&self, user: UserId, query: &str, limit: Option<i64>) -> Result<Vec<Food>, ReadError> {
        let limit = validation::limit(limit)
            .map_err(|message| ReadError::Invalid(ValidationErrors::single("limit", message)))?;
        Ok(self.repos.foods.search_foods(user, query.trim(), limit).await?)
    }

    /// The user's most logged foods (tier 2, tags `user`, `user_food`).
    pub async fn frequent_foods(&self, user: UserId, limit: Option<i64>) -> Result<Vec<FrequentFood>, ReadError> {
        let limit = validation::limit(limit)
            .map_err(|message| ReadError::Invalid(ValidationErrors::single("limit", message)))?;
        let address =
            EntryAddress::tier2(QueryKey::FrequentFoods { user, limit }, &[Tag::User(user), Tag::UserFood(user)]);
        self.cached(address, self.policies.frequent_foods, Freshness::Cached, check_frequent, move |repos| async move {
            repos.foods.frequent_foods(user, limit).await
        })
        .await
    }

    pub async fn create_recipe(&self, user: UserId, input: RecipeInput) -> Result<Recipe, WriteError> {
        let recipe = NewRecipe::parse(input)?;
        self.repos.recipes.create_recipe(user, &recipe).await.map_err(|error| match error {
            CreateRecipeError::UnknownFood { index } => {
                WriteError::Invalid(ValidationErrors::single(format!("ingredients.{index}.food_id"), "unknown food"))
            }
            CreateRecipeError::Unavailable(unavailable) => WriteError::Unavailable(unavailable),
        })
    }

    pub async fn recipe(&self, user: UserId, id: RecipeId) -> Result<Recipe, GetError> {
        self.repos.recipes.recipe(user, id).await?.ok_or(GetError::NotFound)
    }
}
