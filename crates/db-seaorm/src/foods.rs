//! `FoodRepository`: the global catalogue and each user's own foods.

use async_trait::async_trait;
use macrotrack_domain::{
    Amount, Day, Food, FoodId, FoodOwner, FoodPatch, FrequentFood, Gtin, NewFood, RecentFood, UserId, fold,
    grams_per_serving, search_text,
};
use macrotrack_ports::{Committed, CreateFoodError, FoodRepository, Keep, Unavailable, UpdateFoodError};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use crate::bounds::{self, Owned};
use crate::entities::{food, food_use};
use crate::idempotency::keep_in;
use crate::{SeaOrmRepository, corrupt, finish, macros, outbox, portions, recipes, search, unavailable};

#[async_trait]
impl FoodRepository for SeaOrmRepository {
    async fn create_food(&self, owner: UserId, new: &NewFood) -> Result<Committed<Food>, CreateFoodError> {
        self.insert_food(owner, new, None).await
    }

    async fn create_food_keeping(
        &self,
        owner: UserId,
        new: &NewFood,
        keep: Keep<Food>,
    ) -> Result<Committed<Food>, CreateFoodError> {
        self.insert_food(owner, new, Some(keep)).await
    }

    async fn food(&self, reader: UserId, id: FoodId) -> Result<Option<Food>, Unavailable> {
        let mut found = visible_food(&self.db, reader, id).await.map_err(unavailable)?;
        portions::fill(&self.db, found.as_mut()).await.map_err(unavailable)?;
        Ok(found)
    }

    async fn food_by_barcode(&self, reader: UserId, code: &Gtin) -> Result<Option<Food>, Unavailable> {
        let backend = self.db.get_database_backend();
        let (user, barcode) = if backend == DbBackend::Postgres { ("$1", "$2") } else { ("?1", "?2") };
        // NULLS LAST: a user's food is never imported.
        let sql = format!(
            "SELECT foods.* FROM foods WHERE foods.barcode = {barcode} \
             AND (foods.owner_user_id IS NULL OR foods.owner_user_id = {user}) \
             ORDER BY foods.imported_at DESC NULLS LAST, foods.id DESC LIMIT 1"
        );
        let statement = Statement::from_sql_and_values(backend, sql, [reader.0.into(), code.as_str().into()]);
        let found = food::Entity::find().from_raw_sql(statement).one(&self.db).await.map_err(unavailable)?;
        let mut found = found.map(to_food);
        portions::fill(&self.db, found.as_mut()).await.map_err(unavailable)?;
        Ok(found)
    }

    async fn search_own_foods(&self, reader: UserId, query: &str, limit: u32) -> Result<Vec<Food>, Unavailable> {
        self.found(search::search(&self.db, search::Scope::Own(reader), query, limit).await?).await
    }

    async fn search_catalogue(&self, query: &str, limit: u32) -> Result<Vec<Food>, Unavailable> {
        self.found(search::search(&self.db, search::Scope::Catalogue, query, limit).await?).await
    }

    async fn catalogue_generation(&self) -> Result<u64, Unavailable> {
        crate::catalogue::generation(&self.db).await
    }

    async fn frequent_foods(&self, user: UserId, limit: u32) -> Result<Vec<FrequentFood>, Unavailable> {
        let rows = food_use::Entity::find()
            .find_also_related(food::Entity)
            .filter(food_use::Column::UserId.eq(user.0))
            .filter(food_use::Column::Uses.gt(0))
            .order_by_desc(food_use::Column::Uses)
            .order_by_asc(food_use::Column::FoodId)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        let mut frequent = rows
            .into_iter()
            .map(|(count, food)| {
                // The foreign key keeps the food while a count names it.
                let food = food.ok_or_else(|| corrupt(format!("food use of missing food {}", count.food_id)))?;
                Ok(FrequentFood { food: to_food(food), uses: u32::try_from(count.uses).unwrap_or(0) })
            })
            .collect::<Result<Vec<_>, Unavailable>>()?;
        portions::fill(&self.db, frequent.iter_mut().map(|frequent| &mut frequent.food)).await.map_err(unavailable)?;
        Ok(frequent)
    }

    async fn recent_foods(&self, user: UserId, limit: u32) -> Result<Vec<RecentFood>, Unavailable> {
        let backend = self.db.get_database_backend();
        let (user_param, limit_param) = if backend == DbBackend::Postgres { ("$1", "$2") } else { ("?1", "?2") };
        // Each food's latest entry by creation (the highest id among entries
        // created together), then the foods by that entry, newest first.
        let sql = format!(
            "SELECT food_id, date FROM (\
               SELECT food_id, date, created_at, ROW_NUMBER() OVER \
                 (PARTITION BY food_id ORDER BY created_at DESC, id DESC) AS latest \
               FROM log_entries WHERE user_id = {user_param} AND food_id IS NOT NULL\
             ) AS entries WHERE latest = 1 ORDER BY created_at DESC, food_id ASC LIMIT {limit_param}"
        );
        let statement = Statement::from_sql_and_values(backend, sql, [user.0.into(), i64::from(limit).into()]);
        let rows = self.db.query_all_raw(statement).await.map_err(unavailable)?;
        let latest = rows
            .iter()
            .map(|row| {
                let food: i64 = row.try_get("", "food_id").map_err(unavailable)?;
                let date: chrono::NaiveDate = row.try_get("", "date").map_err(unavailable)?;
                let date = Day::new(date).map_err(|error| corrupt(format!("entry date {date}: {error}")))?;
                Ok((food, date))
            })
            .collect::<Result<Vec<_>, Unavailable>>()?;
        let ids: Vec<i64> = latest.iter().map(|(food, _)| *food).collect();
        let models =
            food::Entity::find().filter(food::Column::Id.is_in(ids)).all(&self.db).await.map_err(unavailable)?;
        let mut foods: std::collections::HashMap<i64, Food> =
            models.into_iter().map(|model| (model.id, to_food(model))).collect();
        portions::fill(&self.db, foods.values_mut()).await.map_err(unavailable)?;
        latest
            .into_iter()
            .map(|(id, last_logged)| {
                // The foreign key keeps a food while an entry names it.
                let food = foods.remove(&id).ok_or_else(|| corrupt(format!("log entry of missing food {id}")))?;
                Ok(RecentFood { food, last_logged })
            })
            .collect()
    }

    async fn update_food(
        &self,
        owner: UserId,
        id: FoodId,
        patch: &FoodPatch,
        expected: Option<Food>,
    ) -> Result<Committed<Food>, UpdateFoodError> {
        let txn = self.begin_write().await?;
        let updated = async {
            // The row is locked before it is read (PostgreSQL; SQLite's
            // IMMEDIATE transaction holds the whole database already), so a
            // concurrent edit waits and then reads this one's result.
            let model =
                food::Entity::find_by_id(id.0).lock(LockType::NoKeyUpdate).one(&txn).await.map_err(unavailable)?;
            let model = match model {
                None => return Err(UpdateFoodError::NotFound),
                Some(model) if model.owner_user_id.is_none() => return Err(UpdateFoodError::Global),
                Some(model) if model.owner_user_id != Some(owner.0) => return Err(UpdateFoodError::NotFound),
                Some(model) => model,
            };
            let current = to_food(model);
            // Compared after the locked read: an edit committed meanwhile is seen.
            if expected.is_some_and(|expected| expected != current) {
                return Err(UpdateFoodError::Changed);
            }
            let edited = patch.apply(&current);
            patched_columns(id, patch).exec(&txn).await.map_err(unavailable)?;
            if patch.name.is_some() || patch.brand.is_some() {
                set_search_text(&txn, &edited).await?;
            }
            recipes::recompute_recipes_using(&txn, id).await.map_err(unavailable)?;
            let outbox = outbox::record(&txn, owner).await?;
            Ok(Committed::new(edited, outbox))
        }
        .await;
        finish(txn, updated).await
    }
}

/// The row of a new food of `owner`'s.
fn new_food_row(owner: UserId, new: &NewFood) -> food::ActiveModel {
    food::ActiveModel {
        id: NotSet,
        owner_user_id: Set(Some(owner.0)),
        name: Set(new.name.clone()),
        name_folded: Set(Some(fold(&new.name))),
        brand: Set(new.brand.clone()),
        serving_size: Set(new.serving_size.hundredths()),
        serving_unit: Set(new.serving_unit.clone()),
        calories: Set(new.per_serving.calories.hundredths()),
        protein_g: Set(new.per_serving.protein_g.hundredths()),
        carbs_g: Set(new.per_serving.carbs_g.hundredths()),
        fat_g: Set(new.per_serving.fat_g.hundredths()),
        generic: Set(false),
        source: Set(None),
        barcode: Set(None),
    }
}

/// `UPDATE foods SET` the fields `patch` names, and only those: an edit of
/// one field never writes back another it read.
fn patched_columns(id: FoodId, patch: &FoodPatch) -> sea_orm::UpdateMany<food::Entity> {
    use food::Column;
    let mut update = food::Entity::update_many().filter(Column::Id.eq(id.0));
    if let Some(name) = &patch.name {
        update = update.col_expr(Column::Name, Expr::value(name.clone()));
        update = update.col_expr(Column::NameFolded, Expr::value(fold(name)));
    }
    if let Some(brand) = &patch.brand {
        update = update.col_expr(Column::Brand, Expr::value(brand.clone()));
    }
    if let Some(unit) = &patch.serving_unit {
        update = update.col_expr(Column::ServingUnit, Expr::value(unit.clone()));
    }
    let amounts = [
        (Column::ServingSize, patch.serving_size),
        (Column::Calories, patch.calories),
        (Column::ProteinG, patch.protein_g),
        (Column::CarbsG, patch.carbs_g),
        (Column::FatG, patch.fat_g),
    ];
    for (column, amount) in amounts {
        if let Some(amount) = amount {
            update = update.col_expr(column, Expr::value(amount.hundredths()));
        }
    }
    update
}

fn visible_to(reader: UserId) -> Condition {
    Condition::any().add(food::Column::OwnerUserId.is_null()).add(food::Column::OwnerUserId.eq(reader.0))
}

/// The food when it is global or owned by `reader`, on any connection (a
/// write's transaction too).
pub(crate) async fn visible_food(db: &impl ConnectionTrait, reader: UserId, id: FoodId) -> Result<Option<Food>, DbErr> {
    let found = food::Entity::find_by_id(id.0).filter(visible_to(reader)).one(db).await?;
    Ok(found.map(to_food))
}

/// Each of `ids` that is global or owned by `reader`, in one query,
/// without its portions.
pub(crate) async fn visible_foods(
    db: &impl ConnectionTrait,
    reader: UserId,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, Food>, DbErr> {
    let found = food::Entity::find().filter(food::Column::Id.is_in(ids)).filter(visible_to(reader)).all(db).await?;
    Ok(found.into_iter().map(|f| (f.id, to_food(f))).collect())
}

/// The food of a row, without its portions (`portions::fill` reads them).
pub(crate) fn to_food(model: food::Model) -> Food {
    let serving_size = Amount::from_hundredths(model.serving_size);
    Food {
        id: FoodId(model.id),
        name: model.name,
        brand: model.brand,
        grams_per_serving: grams_per_serving(serving_size, &model.serving_unit),
        serving_size,
        serving_unit: model.serving_unit,
        per_serving: macros(model.calories, model.protein_g, model.carbs_g, model.fat_g),
        // Readers only ever see global foods and their own.
        owner: if model.owner_user_id.is_some() { FoodOwner::User } else { FoodOwner::Global },
        generic: model.generic,
        source: model.source,
        barcode: model.barcode,
        portions: Vec::new(),
    }
}

impl SeaOrmRepository {
    async fn insert_food(
        &self,
        owner: UserId,
        new: &NewFood,
        keep: Option<Keep<Food>>,
    ) -> Result<Committed<Food>, CreateFoodError> {
        let txn = self.begin_write().await?;
        let created = async {
            if !bounds::has_room(&txn, owner, Owned::Foods).await.map_err(unavailable)? {
                return Err(CreateFoodError::Full);
            }
            let food = to_food(new_food_row(owner, new).insert(&txn).await.map_err(unavailable)?);
            set_search_text(&txn, &food).await?;
            let outbox = outbox::record(&txn, owner).await?;
            if let Some(keep) = keep {
                keep_in(&txn, keep, &food).await?;
            }
            Ok(Committed::new(food, outbox))
        }
        .await;
        finish(txn, created).await
    }

    /// Foods of found rows, with their portions.
    async fn found(&self, rows: Vec<food::Model>) -> Result<Vec<Food>, Unavailable> {
        let mut found: Vec<Food> = rows.into_iter().map(to_food).collect();
        portions::fill(&self.db, found.iter_mut()).await.map_err(unavailable)?;
        Ok(found)
    }
}

/// Stores what search matches `food` against (`search_text` of its name
/// and brand), which its row's entity does not carry.
async fn set_search_text(db: &impl ConnectionTrait, food: &Food) -> Result<(), Unavailable> {
    let backend = db.get_database_backend();
    let (text, id) = if backend == DbBackend::Postgres { ("$1", "$2") } else { ("?1", "?2") };
    let sql = format!("UPDATE foods SET search_folded = {text} WHERE id = {id}");
    let values = [search_text(&food.name, food.brand.as_deref()).into(), food.id.0.into()];
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.map_err(unavailable)?;
    Ok(())
}
