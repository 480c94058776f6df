//! `UserRepository`: users, their credentials and their targets.

use async_trait::async_trait;
use chrono::Utc;
use macrotrack_domain::{Amount, Macros, TimeZone, Timestamp, User, UserId};
use macrotrack_ports::{Committed, StoredCredential, Unavailable, UserRepository};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::entities::user;
use crate::{SeaOrmRepository, finish, outbox, unavailable};

#[async_trait]
impl UserRepository for SeaOrmRepository {
    async fn create_user(&self, name: &str, selector: &str, secret_hash: [u8; 32]) -> Result<User, Unavailable> {
        let row = user::ActiveModel {
            id: NotSet,
            name: Set(name.to_owned()),
            token_selector: Set(selector.to_owned()),
            secret_hash: Set(secret_hash.to_vec()),
            target_calories: Set(None),
            target_protein_g: Set(None),
            target_carbs_g: Set(None),
            target_fat_g: Set(None),
            created_at: Set(Timestamp::new(Utc::now()).instant()),
            timezone: Set(TimeZone::UTC.name().to_owned()),
        };
        let model = row.insert(&self.writer).await.map_err(unavailable)?;
        to_user(model)
    }

    async fn credential(&self, selector: &str) -> Result<Option<StoredCredential>, Unavailable> {
        let found = user::Entity::find()
            .filter(user::Column::TokenSelector.eq(selector))
            .one(&self.db)
            .await
            .map_err(unavailable)?;
        let Some(model) = found else { return Ok(None) };
        // Only a corrupted row can hold another length: the column is
        // written from a [u8; 32] alone.
        let secret_hash = <[u8; 32]>::try_from(model.secret_hash.as_slice())
            .map_err(|_| Unavailable::new(anyhow::anyhow!("user {}: stored secret hash is not 32 bytes", model.id)))?;
        Ok(Some(StoredCredential { user: UserId(model.id), secret_hash }))
    }

    async fn user(&self, user: UserId) -> Result<Option<User>, Unavailable> {
        let found = user::Entity::find_by_id(user.0).one(&self.db).await.map_err(unavailable)?;
        found.map(to_user).transpose()
    }

    async fn set_targets(&self, user: UserId, targets: Macros) -> Result<Option<Committed<()>>, Unavailable> {
        let txn = self.begin_write().await?;
        let updated = async {
            let updated = user::Entity::update_many()
                .col_expr(user::Column::TargetCalories, Expr::value(targets.calories.hundredths()))
                .col_expr(user::Column::TargetProteinG, Expr::value(targets.protein_g.hundredths()))
                .col_expr(user::Column::TargetCarbsG, Expr::value(targets.carbs_g.hundredths()))
                .col_expr(user::Column::TargetFatG, Expr::value(targets.fat_g.hundredths()))
                .filter(user::Column::Id.eq(user.0))
                .exec(&txn)
                .await
                .map_err(unavailable)?;
            outbox::record_some(&txn, user, (updated.rows_affected > 0).then_some(())).await
        }
        .await;
        finish(txn, updated).await
    }

    async fn set_timezone(&self, user: UserId, zone: TimeZone) -> Result<Option<Committed<()>>, Unavailable> {
        let txn = self.begin_write().await?;
        let updated = async {
            let updated = user::Entity::update_many()
                .col_expr(user::Column::Timezone, Expr::value(zone.name()))
                .filter(user::Column::Id.eq(user.0))
                .exec(&txn)
                .await
                .map_err(unavailable)?;
            outbox::record_some(&txn, user, (updated.rows_affected > 0).then_some(())).await
        }
        .await;
        finish(txn, updated).await
    }

    async fn delete_user(&self, user: UserId) -> Result<Option<Committed<()>>, Unavailable> {
        // Every table of a user's data cascades from users (foods, recipes
        // and plans through their owner, the rest through user_id), so one
        // statement removes it all; the foreign keys without a cascade are
        // checked when both sides are gone (see the second migration).
        // The outbox row has no foreign key, so it survives the user.
        let txn = self.begin_write().await?;
        let deleted = async {
            let deleted = user::Entity::delete_by_id(user.0).exec(&txn).await.map_err(unavailable)?;
            outbox::record_some(&txn, user, (deleted.rows_affected > 0).then_some(())).await
        }
        .await;
        finish(txn, deleted).await
    }
}

fn to_user(model: user::Model) -> Result<User, Unavailable> {
    let targets = match (model.target_calories, model.target_protein_g, model.target_carbs_g, model.target_fat_g) {
        (Some(calories), Some(protein_g), Some(carbs_g), Some(fat_g)) => Some(Macros {
            calories: Amount::from_hundredths(calories),
            protein_g: Amount::from_hundredths(protein_g),
            carbs_g: Amount::from_hundredths(carbs_g),
            fat_g: Amount::from_hundredths(fat_g),
        }),
        _ => None,
    };
    // Only a corrupted row can hold another name: it is written from a `TimeZone` alone.
    let timezone = TimeZone::parse(&model.timezone)
        .map_err(|_| Unavailable::new(anyhow::anyhow!("user {}: stored time zone is not a zone's name", model.id)))?;
    Ok(User { id: UserId(model.id), name: model.name, targets, timezone })
}
