//! `CompletionRepository`: a row in day_completions is a completed day.

use async_trait::async_trait;
use macrotrack_domain::{Day, UserId};
use macrotrack_ports::{Committed, CompletionRepository, Unavailable};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entities::day_completion;
use crate::{SeaOrmRepository, finish, outbox, to_day, unavailable};

#[async_trait]
impl CompletionRepository for SeaOrmRepository {
    async fn complete_day(&self, user: UserId, date: Day) -> Result<Committed<()>, Unavailable> {
        use day_completion::Column;
        // Insert-or-ignore: completing twice, even concurrently, is one row.
        let insert = Query::insert()
            .into_table(day_completion::Entity)
            .columns([Column::UserId, Column::Date])
            .values_panic([user.0.into(), date.date().into()])
            .on_conflict(OnConflict::columns([Column::UserId, Column::Date]).do_nothing().to_owned())
            .to_owned();
        let txn = self.begin_write().await?;
        let done = async {
            txn.execute(&insert).await.map_err(unavailable)?;
            Ok(Committed::new((), outbox::record(&txn, user).await?))
        }
        .await;
        finish(txn, done).await
    }

    async fn undo_day(&self, user: UserId, date: Day) -> Result<Committed<()>, Unavailable> {
        let txn = self.begin_write().await?;
        let done = async {
            day_completion::Entity::delete_by_id((user.0, date.date())).exec(&txn).await.map_err(unavailable)?;
            Ok(Committed::new((), outbox::record(&txn, user).await?))
        }
        .await;
        finish(txn, done).await
    }

    async fn completed_days(&self, user: UserId, until: Day) -> Result<Vec<Day>, Unavailable> {
        let dates: Vec<chrono::NaiveDate> = day_completion::Entity::find()
            .select_only()
            .column(day_completion::Column::Date)
            .filter(day_completion::Column::UserId.eq(user.0))
            .filter(day_completion::Column::Date.lte(until.date()))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        dates.into_iter().map(|date| to_day(date, format!("completion of user {user}"))).collect()
    }

    async fn completed_between(&self, user: UserId, from: Day, to: Day) -> Result<Vec<Day>, Unavailable> {
        let dates: Vec<chrono::NaiveDate> = day_completion::Entity::find()
            .select_only()
            .column(day_completion::Column::Date)
            .filter(day_completion::Column::UserId.eq(user.0))
            .filter(day_completion::Column::Date.between(from.date(), to.date()))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        dates.into_iter().map(|date| to_day(date, format!("completion of user {user}"))).collect()
    }
}
