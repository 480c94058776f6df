//! Foods and recipes.

use macrotrack_cache::Freshness;
use macrotrack_domain::{
    Food, FoodId, FoodInput, FoodPatch, FrequentFood, Gtin, NewFood, NewRecipe, Recipe, RecipeId, RecipeInput, UserId,
    ValidationErrors, check_frequent, validation,
};
use macrotrack_ports::{CacheStore, CreateFoodError, CreateRecipeError, Keep, UpdateFoodError};

use crate::catalog::{CREATE_FOOD, EDIT_FOOD, frequent_foods_address};
use crate::{CreateOwnedError, ETag, EditFoodError, GetError, IfMatch, ReadError, Service};

impl<S: CacheStore> Service<S> {
    /// Creates one of the user's own foods from a validated body.
    pub async fn create_food(&self, user: UserId, input: FoodInput) -> Result<Food, CreateOwnedError> {
        self.create_food_keeping(user, input, None).await
    }

    /// `create_food`, keeping its answer (`keep` renders it) in the write's own
    /// transaction, for replays of its idempotency key.
    pub async fn create_food_keeping(
        &self,
        user: UserId,
        input: FoodInput,
        keep: Option<Keep<Food>>,
    ) -> Result<Food, CreateOwnedError> {
        let food = NewFood::parse(input)?;
        let created = match keep {
            Some(keep) => self.repos.foods.create_food_keeping(user, &food, keep).await,
            None => self.repos.foods.create_food(user, &food).await,
        };
        let created = created.map_err(|error| match error {
            full @ CreateFoodError::Full => CreateOwnedError::Conflict(full.to_string()),
            CreateFoodError::Unavailable(unavailable) => CreateOwnedError::Unavailable(unavailable),
        })?;
        // No outbox row: `CREATE_FOOD` changes nothing cached (a test keeps
        // it so); a change declared there would need a row.
        self.forget(&CREATE_FOOD, user, &created, None).await;
        Ok(created)
    }

    /// Whether the user may edit the food: `NotFound` for a missing or
    /// foreign one, `Conflict` for a global one. Delivery asks this before
    /// it reads the body, so these answers do not depend on it.
    pub async fn editable_food(&self, user: UserId, id: FoodId) -> Result<(), EditFoodError> {
        match self.repos.foods.food(user, id).await? {
            None => Err(EditFoodError::NotFound),
            Some(food) if food.owner == macrotrack_domain::FoodOwner::Global => Err(EditFoodError::Conflict),
            Some(_) => Ok(()),
        }
    }

    /// Edits one of the user's own foods; recipes using it follow, log
    /// entries keep their snapshot.
    pub async fn edit_food(&self, user: UserId, id: FoodId, input: FoodInput) -> Result<Food, EditFoodError> {
        self.edit_food_if(user, id, input, None).await
    }

    /// `edit_food`, when the food's current state satisfies `if_match`
    /// (`ETag::of_value` of the food), else `PreconditionFailed` and nothing
    /// changes. The repository compares again under its row lock, so of two
    /// edits naming the same tag at once only one applies.
    pub async fn edit_food_if(
        &self,
        user: UserId,
        id: FoodId,
        input: FoodInput,
        if_match: Option<&IfMatch>,
    ) -> Result<Food, EditFoodError> {
        let patch = FoodPatch::parse(input).map_err(EditFoodError::Invalid)?;
        let expected = match if_match {
            // `*` asks only that the food exist, which the edit requires anyway.
            None | Some(IfMatch::Any) => None,
            Some(tags) => {
                let current = self.repos.foods.food(user, id).await?.ok_or(EditFoodError::NotFound)?;
                if !tags.admits(&ETag::of_value(&current)) {
                    return Err(EditFoodError::PreconditionFailed);
                }
                Some(current)
            }
        };
        let edited = self.repos.foods.update_food(user, id, &patch, expected).await.map_err(|error| match error {
            UpdateFoodError::NotFound => EditFoodError::NotFound,
            UpdateFoodError::Global => EditFoodError::Conflict,
            UpdateFoodError::Changed => EditFoodError::PreconditionFailed,
            UpdateFoodError::Unavailable(unavailable) => EditFoodError::Unavailable(unavailable),
        })?;
        self.forget(&EDIT_FOOD, user, &edited.value, Some(edited.outbox)).await;
        Ok(edited.value)
    }

    /// A global food or one of the user's own.
    pub async fn food(&self, user: UserId, id: FoodId) -> Result<Food, GetError> {
        self.repos.foods.food(user, id).await?.ok_or(GetError::NotFound)
    }

    /// The visible food carrying barcode `code` (of several, the most
    /// recently imported).
    pub async fn food_by_barcode(&self, user: UserId, code: &Gtin) -> Result<Food, GetError> {
        self.repos.foods.food_by_barcode(user, code).await?.ok_or(GetError::NotFound)
    }

    /// Visible foods matching every word of `query`, ranked as the
    /// contract says (`FoodRepository::search_foods`).
    pub async fn search_foods(
        &self,
        user: UserId,
        query: &str,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Vec<Food>, ReadError> {
        let mut errors = ValidationErrors::new();
        let query = validation::search_query(query).map_err(|message| errors.add("query", message)).ok();
        let limit = validation::limit(limit).map_err(|message| errors.add("limit", message)).ok();
        let offset = validation::offset(offset).map_err(|message| errors.add("offset", message)).ok();
        let (Some(query), Some(limit), Some(offset)) = (query, limit, offset) else {
            return Err(ReadError::Invalid(errors));
        };
        // The port pages from the first row: ask for the skipped rows too
        // (at most 10,100) and drop them here.
        let found = self.repos.foods.search_foods(user, query, offset + limit).await?;
        Ok(found.into_iter().skip(offset as usize).collect())
    }

    /// The user's most logged foods (tier 2, `FREQUENT_FOODS`).
    pub async fn frequent_foods(&self, user: UserId, limit: Option<i64>) -> Result<Vec<FrequentFood>, ReadError> {
        let limit = validation::limit(limit)
            .map_err(|message| ReadError::Invalid(ValidationErrors::single("limit", message)))?;
        let address = frequent_foods_address(user, limit);
        let fetch = move |repos: crate::Repositories| async move { repos.foods.frequent_foods(user, limit).await };
        Ok(self.cached(address, self.policies.frequent_foods, Freshness::Cached, check_frequent, fetch).await?)
    }

    /// Creates a recipe of the user's; every ingredient must be a food they see.
    pub async fn create_recipe(&self, user: UserId, input: RecipeInput) -> Result<Recipe, CreateOwnedError> {
        self.create_recipe_keeping(user, input, None).await
    }

    /// `create_recipe`, keeping its answer (`keep` renders it) in the write's own
    /// transaction, for replays of its idempotency key.
    pub async fn create_recipe_keeping(
        &self,
        user: UserId,
        input: RecipeInput,
        keep: Option<Keep<Recipe>>,
    ) -> Result<Recipe, CreateOwnedError> {
        let recipe = NewRecipe::parse(input)?;
        let created = match keep {
            Some(keep) => self.repos.recipes.create_recipe_keeping(user, &recipe, keep).await,
            None => self.repos.recipes.create_recipe(user, &recipe).await,
        };
        created.map_err(|error| match error {
            CreateRecipeError::UnknownFood { index } => CreateOwnedError::Invalid(ValidationErrors::single(
                format!("ingredients.{index}.food_id"),
                "unknown food",
            )),
            full @ CreateRecipeError::Full => CreateOwnedError::Conflict(full.to_string()),
            CreateRecipeError::Unavailable(unavailable) => CreateOwnedError::Unavailable(unavailable),
        })
    }

    /// One of the user's recipes.
    pub async fn recipe(&self, user: UserId, id: RecipeId) -> Result<Recipe, GetError> {
        self.repos.recipes.recipe(user, id).await?.ok_or(GetError::NotFound)
    }
}
