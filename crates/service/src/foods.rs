//! Foods and recipes.

use macrotrack_cache::{Admission, Freshness};
use macrotrack_cache_keys::CATALOGUE;
use macrotrack_domain::{
    Food, FoodId, FoodInput, FoodPatch, FrequentFood, Gtin, NewFood, NewRecipe, RecentFood, Recipe, RecipeId,
    RecipeInput, UserId, ValidationErrors, catalogue_rows_needed, check_catalogue_part, check_frequent, check_own_part,
    check_recent, merge_search, normalized_query, validation,
};
use macrotrack_ports::{CacheStore, CreateFoodError, CreateRecipeError, Keep, Unavailable, UpdateFoodError};
use sha2::{Digest, Sha256};

use crate::catalog::{
    CREATE_FOOD, EDIT_FOOD, barcode_address, catalogue_search_address, food_address, food_search_address,
    frequent_foods_address, recent_foods_address,
};
use crate::{CreateOwnedError, ETag, EditFoodError, GetError, IfMatch, ReadError, Service};

/// The most rows a search can show: the largest offset and limit.
const MOST_ROWS_SHOWN: u32 = validation::MAX_OFFSET + validation::MAX_LIMIT;

/// The catalogue's part is read in multiples of this many rows.
const CATALOGUE_ROWS_STEP: usize = 50;

/// A normalized query's name in keys: 128 bits of its SHA-256, so no
/// client can make two queries share an entry.
fn query_digest(normalized: &str) -> u128 {
    let digest = Sha256::digest(normalized.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(first)
}

/// A cached food read's error as the use case answers it.
fn get_error(error: macrotrack_cache::ReadError<GetError>) -> GetError {
    match error {
        macrotrack_cache::ReadError::Source(error) => error,
        macrotrack_cache::ReadError::InvalidFresh(reason) => {
            GetError::Unavailable(Unavailable::new(anyhow::anyhow!("inconsistent data: {reason}")))
        }
    }
}

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
        self.forget(&CREATE_FOOD, user, &created.value, Some(created.outbox)).await;
        Ok(created.value)
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

    /// A global food or one of the user's own (tier 2, `FOOD`). A missing
    /// or foreign id leaves nothing in the store.
    pub async fn food(&self, user: UserId, id: FoodId) -> Result<Food, GetError> {
        let (generation, freshness) = self.catalogue_read();
        let foods = self.repos.foods.clone();
        let fetch = move || {
            let foods = foods.clone();
            async move { foods.food(user, id).await?.ok_or(GetError::NotFound) }
        };
        let address = food_address(user, generation, id.0);
        let read = self.read_of(&address, self.policies.catalogue, freshness, crate::no_check, fetch);
        self.cache.value(read.await.admission(Admission::Confirmed)).await.map_err(get_error)
    }

    /// The visible food carrying barcode `code` (of several, the most
    /// recently imported): tier 2, `BARCODE`, shared by every user, as only
    /// catalogue foods carry barcodes. A code no food carries leaves
    /// nothing in the store.
    pub async fn food_by_barcode(&self, _user: UserId, code: &Gtin) -> Result<Food, GetError> {
        let (generation, freshness) = self.catalogue_read();
        let (foods, code) = (self.repos.foods.clone(), *code);
        let fetch = move || {
            let foods = foods.clone();
            async move { foods.food_by_barcode(CATALOGUE, &code).await?.ok_or(GetError::NotFound) }
        };
        let number = code.as_str().parse::<u64>().unwrap_or_else(|_| unreachable!("a GTIN is 14 digits"));
        let address = barcode_address(generation, number);
        let read = self.read_of(&address, self.policies.catalogue, freshness, crate::no_check, fetch);
        self.cache.value(read.await.admission(Admission::Confirmed)).await.map_err(get_error)
    }

    /// Visible foods matching every word of `query`, ranked as the
    /// contract says, composed of two tier-2 reads: the user's part
    /// (`FOOD_SEARCH`: their own and logged foods) and the catalogue's
    /// (`CATALOGUE_SEARCH`, shared by every user), both keyed by the
    /// normalized query and the catalogue's generation.
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
        let normalized = normalized_query(query);
        let digest = query_digest(&normalized);
        let wanted = (offset + limit) as usize;
        let (generation, freshness) = self.catalogue_read();
        let words = normalized.clone();
        let own_fetch = move |repos: crate::Repositories| {
            let words = words.clone();
            async move { repos.foods.search_own_foods(user, &words, MOST_ROWS_SHOWN).await }
        };
        let own_address = food_search_address(user, generation, digest);
        let own = self.cached(own_address, self.policies.catalogue, freshness, check_own_part, own_fetch).await?;
        // Row counts in steps, so pages and users share the catalogue's entries.
        let rows = catalogue_rows_needed(&own, wanted).div_ceil(CATALOGUE_ROWS_STEP).max(1) * CATALOGUE_ROWS_STEP;
        let rows = u32::try_from(rows).unwrap_or(u32::MAX);
        let catalogue_fetch = move |repos: crate::Repositories| {
            let words = normalized.clone();
            async move { repos.foods.search_catalogue(&words, rows).await }
        };
        let catalogue_address = catalogue_search_address(generation, digest, rows);
        let catalogue = self
            .cached(catalogue_address, self.policies.catalogue, freshness, check_catalogue_part, catalogue_fetch)
            .await?;
        Ok(merge_search(own, catalogue, wanted).into_iter().skip(offset as usize).collect())
    }

    /// The catalogue generation to key a catalogue read by, and whether the
    /// cache may keep it (not before the generation is known).
    fn catalogue_read(&self) -> (u64, Freshness) {
        match self.catalogue_generation() {
            Some(generation) => (generation, Freshness::Cached),
            None => (0, Freshness::Bypass),
        }
    }

    /// The user's most logged foods (tier 2, `FREQUENT_FOODS`).
    pub async fn frequent_foods(&self, user: UserId, limit: Option<i64>) -> Result<Vec<FrequentFood>, ReadError> {
        let limit = validation::limit(limit)
            .map_err(|message| ReadError::Invalid(ValidationErrors::single("limit", message)))?;
        let address = frequent_foods_address(user, limit);
        let fetch = move |repos: crate::Repositories| async move { repos.foods.frequent_foods(user, limit).await };
        Ok(self.cached(address, self.policies.frequent_foods, Freshness::Cached, check_frequent, fetch).await?)
    }

    /// The user's most recently logged foods (tier 2, `RECENT_FOODS`).
    pub async fn recent_foods(&self, user: UserId, limit: Option<i64>) -> Result<Vec<RecentFood>, ReadError> {
        let limit = validation::limit(limit)
            .map_err(|message| ReadError::Invalid(ValidationErrors::single("limit", message)))?;
        let (generation, freshness) = self.catalogue_read();
        let address = recent_foods_address(user, generation, limit);
        let fetch = move |repos: crate::Repositories| async move { repos.foods.recent_foods(user, limit).await };
        Ok(self.cached(address, self.policies.recent_foods, freshness, check_recent, fetch).await?)
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
