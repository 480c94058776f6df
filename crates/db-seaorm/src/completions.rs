//! `CompletionRepository`: a row in day_completions is a completed day;
//! completion_runs holds the same days as runs of consecutive days, kept in
//! the same transaction, so a streak reads two rows whatever the history.

use async_trait::async_trait;
use macrotrack_domain::{Day, Streak, UserId};
use macrotrack_ports::{Committed, CompletionRepository, Unavailable};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set};

use crate::entities::{completion_run, day_completion};
use crate::{SeaOrmRepository, bounds, finish, outbox, to_day, unavailable};

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
            // Runs of one user change one writer at a time (two adjacent
            // days completed together must end as one run).
            bounds::lock_user(&txn, user).await.map_err(unavailable)?;
            if txn.execute(&insert).await.map_err(unavailable)?.rows_affected() == 1 {
                join_runs(&txn, user, date).await.map_err(unavailable)?;
            }
            Ok(Committed::new((), outbox::record(&txn, user).await?))
        }
        .await;
        finish(txn, done).await
    }

    async fn undo_day(&self, user: UserId, date: Day) -> Result<Committed<()>, Unavailable> {
        let txn = self.begin_write().await?;
        let done = async {
            bounds::lock_user(&txn, user).await.map_err(unavailable)?;
            let deleted =
                day_completion::Entity::delete_by_id((user.0, date.date())).exec(&txn).await.map_err(unavailable)?;
            if deleted.rows_affected == 1 {
                split_run(&txn, user, date).await.map_err(unavailable)?;
            }
            Ok(Committed::new((), outbox::record(&txn, user).await?))
        }
        .await;
        finish(txn, done).await
    }

    async fn streak(&self, user: UserId, today: Day) -> Result<Streak, Unavailable> {
        let latest = latest_run(user, today).one(&self.db).await.map_err(unavailable)?;
        let longest = longest_run(user, today).one(&self.db).await.map_err(unavailable)?;
        let row = || format!("completion run of user {user}");
        let latest = match latest {
            Some(run) => Some((to_day(run.first_day, row())?, to_day(run.last_day, row())?)),
            None => None,
        };
        let longest = longest.map_or(0, |run| u32::try_from(run.days).unwrap_or(0));
        Ok(Streak::from_runs(latest, longest, today))
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

/// The run starting last on or before `day`: one step down the primary key.
pub(crate) fn latest_run(user: UserId, day: Day) -> Select<completion_run::Entity> {
    use completion_run::Column;
    completion_run::Entity::find()
        .filter(Column::UserId.eq(user.0))
        .filter(Column::FirstDay.lte(day.date()))
        .order_by_desc(Column::FirstDay)
        .limit(1)
}

/// The longest run ending on or before `today`: the longest of the user's
/// runs, down `completion_runs_longest`, to the first that ended by then
/// (the first one looked at, when `today` is today).
pub(crate) fn longest_run(user: UserId, today: Day) -> Select<completion_run::Entity> {
    use completion_run::Column;
    completion_run::Entity::find()
        .filter(Column::UserId.eq(user.0))
        .filter(Column::LastDay.lte(today.date()))
        .order_by_desc(Column::Days)
        .limit(1)
}

/// `date` was just completed: it joins the run ending the day before and
/// the run starting the day after, if any, into one.
async fn join_runs(db: &impl ConnectionTrait, user: UserId, date: Day) -> Result<(), DbErr> {
    let before = match date.plus_days(-1) {
        Some(yesterday) => latest_run(user, yesterday).one(db).await?.filter(|run| run.last_day == yesterday.date()),
        None => None,
    };
    let after = match date.plus_days(1) {
        Some(tomorrow) => completion_run::Entity::find_by_id((user.0, tomorrow.date())).one(db).await?,
        None => None,
    };
    let first_day = before.as_ref().map_or(date.date(), |run| run.first_day);
    let last_day = after.as_ref().map_or(date.date(), |run| run.last_day);
    for run in [before, after].into_iter().flatten() {
        completion_run::Entity::delete_by_id((user.0, run.first_day)).exec(db).await?;
    }
    insert_run(db, user, first_day, last_day).await
}

/// `date` is no longer completed: the run holding it loses it, in two
/// parts when it was inside.
async fn split_run(db: &impl ConnectionTrait, user: UserId, date: Day) -> Result<(), DbErr> {
    let Some(run) = latest_run(user, date).one(db).await? else { return Ok(()) };
    if run.last_day < date.date() {
        return Ok(()); // no run holds it (runs out of step: nothing to split)
    }
    completion_run::Entity::delete_by_id((user.0, run.first_day)).exec(db).await?;
    let (yesterday, tomorrow) = (date.date().pred_opt(), date.date().succ_opt());
    if let Some(yesterday) = yesterday.filter(|yesterday| run.first_day <= *yesterday) {
        insert_run(db, user, run.first_day, yesterday).await?;
    }
    if let Some(tomorrow) = tomorrow.filter(|tomorrow| *tomorrow <= run.last_day) {
        insert_run(db, user, tomorrow, run.last_day).await?;
    }
    Ok(())
}

async fn insert_run(
    db: &impl ConnectionTrait,
    user: UserId,
    first_day: chrono::NaiveDate,
    last_day: chrono::NaiveDate,
) -> Result<(), DbErr> {
    let days = i32::try_from((last_day - first_day).num_days() + 1).unwrap_or(i32::MAX);
    let run = completion_run::ActiveModel {
        user_id: Set(user.0),
        first_day: Set(first_day),
        last_day: Set(last_day),
        days: Set(days),
    };
    completion_run::Entity::insert(run).exec_without_returning(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests;
