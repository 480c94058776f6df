//! `OutboxRepository`, and the row every covered mutation writes in its
//! own transaction (`record`).

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use macrotrack_domain::{Timestamp, UserId};
use macrotrack_ports::{Committed, OutboxBacklog, OutboxId, OutboxRepository, Unavailable};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::cache_outbox;
use crate::{SeaOrmRepository, unavailable};

/// Ids per DELETE statement (SQLite allows 32 766 bound values).
const DELETE_CHUNK: usize = 1000;

/// Writes the user's outbox row; call inside the mutation's transaction so
/// the row exists exactly when the mutation committed.
pub(crate) async fn record(db: &impl ConnectionTrait, user: UserId) -> Result<OutboxId, Unavailable> {
    let row = cache_outbox::ActiveModel {
        id: NotSet,
        user_id: Set(user.0),
        created_at: Set(Timestamp::new(Utc::now()).instant()),
    };
    let id = cache_outbox::Entity::insert(row).exec(db).await.map_err(unavailable)?.last_insert_id;
    Ok(OutboxId(id))
}

/// `record`s a row when the mutation changed something (`Some`).
pub(crate) async fn record_some<T>(
    db: &impl ConnectionTrait,
    user: UserId,
    value: Option<T>,
) -> Result<Option<Committed<T>>, Unavailable> {
    match value {
        Some(value) => Ok(Some(Committed::new(value, record(db, user).await?))),
        None => Ok(None),
    }
}

#[async_trait]
impl OutboxRepository for SeaOrmRepository {
    async fn done(&self, ids: &[OutboxId]) -> Result<(), Unavailable> {
        // Bounded chunks keep each statement under the backends' bind limits.
        for chunk in ids.chunks(DELETE_CHUNK) {
            cache_outbox::Entity::delete_many()
                .filter(cache_outbox::Column::Id.is_in(chunk.iter().map(|id| id.0)))
                .exec(&self.writer)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    async fn pending(&self, older_than: Duration, limit: u32) -> Result<Vec<(OutboxId, UserId)>, Unavailable> {
        let age = chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::MAX);
        let cutoff = Utc::now().checked_sub_signed(age).unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        let rows: Vec<(i64, i64)> = cache_outbox::Entity::find()
            .select_only()
            .column(cache_outbox::Column::Id)
            .column(cache_outbox::Column::UserId)
            .filter(cache_outbox::Column::CreatedAt.lte(cutoff))
            .order_by_asc(cache_outbox::Column::CreatedAt)
            .order_by_asc(cache_outbox::Column::Id)
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        Ok(rows.into_iter().map(|(id, user)| (OutboxId(id), UserId(user))).collect())
    }

    async fn pending_users(&self) -> Result<Vec<UserId>, Unavailable> {
        let users: Vec<i64> = cache_outbox::Entity::find()
            .select_only()
            .column(cache_outbox::Column::UserId)
            .distinct()
            .order_by_asc(cache_outbox::Column::UserId)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        Ok(users.into_iter().map(UserId).collect())
    }

    async fn backlog(&self) -> Result<OutboxBacklog, Unavailable> {
        let row: Option<(i64, Option<chrono::DateTime<Utc>>)> = cache_outbox::Entity::find()
            .select_only()
            .column_as(cache_outbox::Column::Id.count(), "rows")
            .column_as(cache_outbox::Column::CreatedAt.min(), "oldest")
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(unavailable)?;
        let (rows, oldest) = row.unwrap_or((0, None));
        Ok(OutboxBacklog { rows: u64::try_from(rows).unwrap_or(0), oldest })
    }
}
