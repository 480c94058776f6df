//! `FoodRepository`: the global catalogue and each user's own foods.

use async_trait::async_trait;
use macrotrack_domain::{Amount, Food, FoodId, FoodOwner, Macros, NewFood, UserId};
use macrotrack_ports::{FoodRepository, Unavailable};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::entities::food;
use crate::{SeaOrmRepository, unavailable};

#[async_trait]
impl FoodRepository for SeaOrmRepository {
    async fn create_food(&self, owner: UserId, new: &NewFood) -> Result<Food, Unavailable> {
        let row = food::ActiveModel {
            id: NotSet,
            owner_user_id: Set(Some(owner.0)),
            name: Set(new.name.clone()),
            brand: Set(new.brand.clone()),
            serving_size: Set(new.serving_size.hundredths()),
            serving_unit: Set(new.serving_unit.clone()),
            calories: Set(new.per_serving.calories.hundredths()),
            protein_g: Set(new.per_serving.protein_g.hundredths()),
            carbs_g: Set(new.per_serving.carbs_g.hundredths()),
            fat_g: Set(new.per_serving.fat_g.hundredths()),
        };
        let model = row.insert(&self.db).await.map_err(unavailable)?;
        Ok(to_food(model))
    }

    async fn food(&self, reader: UserId, id: FoodId) -> Result<Option<Food>, Unavailable> {
        visible_food(&self.db, reader, id).await.map_err(unavailable)
    }
}

/// The food when it is global or owned by `reader`; on any connection, so
/// a transaction can resolve the foods it logs.
pub(crate) async fn visible_food(db: &impl ConnectionTrait, reader: UserId, id: FoodId) -> Result<Option<Food>, DbErr> {
    let visible = Condition::any().add(food::Column::OwnerUserId.is_null()).add(food::Column::OwnerUserId.eq(reader.0));
    let found = food::Entity::find_by_id(id.0).filter(visible).one(db).await?;
    Ok(found.map(to_food))
}

fn to_food(model: food::Model) -> Food {
    Food {
        id: FoodId(model.id),
        name: model.name,
        brand: model.brand,
        serving_size: Amount::from_hundredths(model.serving_size),
        serving_unit: model.serving_unit,
        per_serving: Macros {
            calories: Amount::from_hundredths(model.calories),
            protein_g: Amount::from_hundredths(model.protein_g),
            carbs_g: Amount::from_hundredths(model.carbs_g),
            fat_g: Amount::from_hundredths(model.fat_g),
        },
        // Readers only ever see global foods and their own.
        owner: if model.owner_user_id.is_some() { FoodOwner::User } else { FoodOwner::Global },
    }
}
