//! `PlanRepository`: meal plans here, their schedules in `schedules.rs`.

use std::collections::HashSet;

use async_trait::async_trait;
use macrotrack_domain::{
    Day, MealPlan, MealPlanId, NewMealPlan, ScheduleDay, ScheduledMealId, ScheduledPlan, ScheduledPlanId, UserId,
};
use macrotrack_ports::{Committed, CreatePlanError, Keep, PlanRepository, ScheduleError, Unavailable};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::bounds::{self, Owned};
use crate::entities::{meal_plan, meal_plan_item, recipe};
use crate::idempotency::{keep_in, keeping};
use crate::plan_rows::{days, own_plan, plan_items};
use crate::{SeaOrmRepository, finish, outbox, schedules, unavailable};

#[async_trait]
impl PlanRepository for SeaOrmRepository {
    async fn create_meal_plan(&self, owner: UserId, plan: &NewMealPlan) -> Result<MealPlan, CreatePlanError> {
        let txn = self.begin_write().await?;
        let created = insert_plan(&txn, owner, plan).await;
        finish(txn, created).await
    }

    async fn create_meal_plan_keeping(
        &self,
        owner: UserId,
        plan: &NewMealPlan,
        keep: Keep<MealPlan>,
    ) -> Result<MealPlan, CreatePlanError> {
        let txn = self.begin_write().await?;
        let created = insert_plan(&txn, owner, plan).await;
        let created = keeping(&txn, created, Some(keep)).await;
        finish(txn, created).await
    }

    async fn meal_plan(&self, reader: UserId, id: MealPlanId) -> Result<Option<MealPlan>, Unavailable> {
        let Some(model) = own_plan(&self.db, reader, id).await.map_err(unavailable)? else { return Ok(None) };
        let items = plan_items(&self.db, model.id).await?;
        Ok(Some(MealPlan { id: MealPlanId(model.id), name: model.name, days: days(model.days, model.id)?, items }))
    }

    async fn schedule_meal_plan(
        &self,
        user: UserId,
        plan: MealPlanId,
        start: Day,
    ) -> Result<Committed<ScheduledPlan>, ScheduleError> {
        self.schedule(user, plan, start, None).await
    }

    async fn schedule_meal_plan_keeping(
        &self,
        user: UserId,
        plan: MealPlanId,
        start: Day,
        keep: Keep<ScheduledPlan>,
    ) -> Result<Committed<ScheduledPlan>, ScheduleError> {
        self.schedule(user, plan, start, Some(keep)).await
    }

    async fn schedule_day(&self, user: UserId, date: Day) -> Result<ScheduleDay, Unavailable> {
        schedules::day(&self.db, user, date).await
    }

    async fn delete_scheduled_meal(
        &self,
        user: UserId,
        id: ScheduledMealId,
    ) -> Result<Option<Committed<Day>>, Unavailable> {
        let txn = self.begin_write().await?;
        let deleted = async {
            let deleted = schedules::delete_meal(&txn, user, id).await?;
            outbox::record_some(&txn, user, deleted).await
        }
        .await;
        finish(txn, deleted).await
    }

    async fn delete_scheduled_plan(
        &self,
        user: UserId,
        id: ScheduledPlanId,
    ) -> Result<Option<Committed<ScheduledPlan>>, Unavailable> {
        let txn = self.begin_write().await?;
        let deleted = async {
            let deleted = schedules::delete_plan(&txn, user, id).await?;
            outbox::record_some(&txn, user, deleted).await
        }
        .await;
        finish(txn, deleted).await
    }
}

async fn insert_plan(db: &impl ConnectionTrait, owner: UserId, new: &NewMealPlan) -> Result<MealPlan, CreatePlanError> {
    // One query for every recipe named; the first item naming a recipe
    // that is missing or another user's is reported before any write.
    let named: Vec<i64> = new.items.iter().map(|item| item.recipe_id.0).collect();
    let owned: HashSet<i64> = recipe::Entity::find()
        .select_only()
        .column(recipe::Column::Id)
        .filter(recipe::Column::Id.is_in(named))
        .filter(recipe::Column::OwnerUserId.eq(owner.0))
        .into_tuple()
        .all(db)
        .await
        .map_err(unavailable)?
        .into_iter()
        .collect();
    if let Some(index) = new.items.iter().position(|item| !owned.contains(&item.recipe_id.0)) {
        return Err(CreatePlanError::UnknownRecipe { index });
    }
    let days = i32::try_from(new.days).map_err(|_| Unavailable::new(anyhow::anyhow!("{} days", new.days)))?;
    if !bounds::has_room(db, owner, Owned::MealPlans).await.map_err(unavailable)? {
        return Err(CreatePlanError::Full);
    }

    let row = meal_plan::ActiveModel {
        id: NotSet,
        owner_user_id: Set(owner.0),
        name: Set(new.name.clone()),
        days: Set(days),
    };
    let id = meal_plan::Entity::insert(row).exec(db).await.map_err(unavailable)?.last_insert_id;
    let mut rows = Vec::with_capacity(new.items.len());
    for (item, position) in new.items.iter().zip(0..) {
        let day = i32::try_from(item.day).map_err(|_| Unavailable::new(anyhow::anyhow!("day {}", item.day)))?;
        rows.push(meal_plan_item::ActiveModel {
            meal_plan_id: Set(id),
            position: Set(position),
            day: Set(day),
            meal: Set(item.meal.as_str().to_owned()),
            recipe_id: Set(item.recipe_id.0),
            servings: Set(item.servings.hundredths()),
        });
    }
    meal_plan_item::Entity::insert_many(rows).exec_without_returning(db).await.map_err(unavailable)?;
    Ok(MealPlan { id: MealPlanId(id), name: new.name.clone(), days: new.days, items: new.items.clone() })
}

impl SeaOrmRepository {
    async fn schedule(
        &self,
        user: UserId,
        plan: MealPlanId,
        start: Day,
        keep: Option<Keep<ScheduledPlan>>,
    ) -> Result<Committed<ScheduledPlan>, ScheduleError> {
        let txn = self.begin_write().await?;
        let scheduled = async {
            let scheduled = schedules::schedule(&txn, user, plan, start).await?;
            if let Some(keep) = keep {
                keep_in(&txn, keep, &scheduled).await?;
            }
            Ok(Committed::new(scheduled, outbox::record(&txn, user).await?))
        }
        .await;
        finish(txn, scheduled).await
    }
}
