//! `UserRepository`: users, their credentials and their targets.

use async_trait::async_trait;
use chrono::Utc;
use macrotrack_domain::{Amount, Macros, Timestamp, User, UserId};
use macrotrack_ports::{StoredCredential, Unavailable, UserRepository};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::entities::user;
use crate::{SeaOrmRepository, unavailable};

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
        };
        let model = row.insert(&self.db).await.map_err(unavailable)?;
        Ok(to_user(model))
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
        Ok(found.map(to_user))
    }
}

fn to_user(model: user::Model) -> User {
    let targets = match (model.target_calories, model.target_protein_g, model.target_carbs_g, model.target_fat_g) {
        (Some(calories), Some(protein_g), Some(carbs_g), Some(fat_g)) => Some(Macros {
            calories: Amount::from_hundredths(calories),
            protein_g: Amount::from_hundredths(protein_g),
            carbs_g: Amount::from_hundredths(carbs_g),
            fat_g: Amount::from_hundredths(fat_g),
        }),
        _ => None,
    };
    User { id: UserId(model.id), name: model.name, targets }
}
