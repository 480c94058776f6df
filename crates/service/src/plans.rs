//! Meal plans and their schedules.

use macrotrack_cache::Freshness;
use macrotrack_cache_keys::{EntryAddress, QueryKey, Tag};
use macrotrack_domain::{
    Day, MealPlan, MealPlanId, MealPlanInput, NewMealPlan, ScheduleDay, ScheduledMealId, ScheduledPlan,
    ScheduledPlanId, UserId, ValidationErrors,
};
use macrotrack_ports::{CacheStore, CreatePlanError, ScheduleError};

use crate::{Facts, GetError, Operation, ReadError, Service, WriteError};

impl<S: CacheStore> Service<S> {
    pub async fn create_meal_plan(&self, user: UserId, input: MealPlanInput) -> Result<MealPlan, WriteError> {
        let plan = NewMealPlan::parse(input)?;
        self.repos.plans.create_meal_plan(user, &plan).await.map_err(|error| match error {
            CreatePlanError::UnknownRecipe { index } => {
                WriteError::Invalid(ValidationErrors::single(format!("items.{index}.recipe_id"), "unknown recipe"))
            }
            CreatePlanError::Unavailable(unavailable) => WriteError::Unavailable(unavailable),
        })
    }

    pub async fn meal_plan(&self, user: UserId, id: MealPlanId) -> Result<MealPlan, GetError> {
        self.repos.plans.meal_plan(user, id).await?.ok_or(GetError::NotFound)
    }

    /// Places a plan on the calendar from `start`.
    pub async fn schedule_meal_plan(
        &self,
        user: UserId,
        plan: MealPlanId,
        start: Day,
    ) -> Result<ScheduledPlan, WriteError> {
        let scheduled = self.repos.plans.schedule_meal_plan(user, plan, start).await.map_err(|error| match error {
            ScheduleError::NotFound => WriteError::NotFound,
            ScheduleError::OutOfRange => {
                WriteError::Invalid(ValidationErrors::single("start_date", "the schedule would end after 2200-12-31"))
            }
            ScheduleError::Overlaps(other) => {
                WriteError::Conflict(format!("the plan's days overlap scheduled plan {other}"))
            }
            ScheduleError::Unavailable(unavailable) => WriteError::Unavailable(unavailable),
        })?;
        self.forget(Operation::ScheduleMealPlan, Facts::user(user), Some(scheduled.outbox)).await;
        Ok(scheduled.value)
    }

    /// What is scheduled on `date` (tier 2, tags `user`, `user_scheduled`, `user_scheduled_DATE`).
    pub async fn schedule_day(&self, user: UserId, date: Day) -> Result<ScheduleDay, ReadError> {
        let address = EntryAddress::tier2(QueryKey::Schedule { user, date }, &schedule_tags(user, date));
        self.cached(address, self.policies.schedule, Freshness::Cached, ScheduleDay::check, move |repos| async move {
            repos.plans.schedule_day(user, date).await
        })
        .await
    }

    pub async fn delete_scheduled_meal(&self, user: UserId, id: ScheduledMealId) -> Result<(), WriteError> {
        let deleted = self.repos.plans.delete_scheduled_meal(user, id).await?.ok_or(WriteError::NotFound)?;
        self.forget(Operation::DeleteScheduledMeal, Facts::day(user, deleted.value), Some(deleted.outbox)).await;
        Ok(())
    }

    pub async fn delete_scheduled_plan(&self, user: UserId, id: ScheduledPlanId) -> Result<(), WriteError> {
        let deleted = self.repos.plans.delete_scheduled_plan(user, id).await?.ok_or(WriteError::NotFound)?;
        self.forget(Operation::DeleteScheduledPlan, Facts::user(user), Some(deleted.outbox)).await;
        Ok(())
    }
}

/// The tags of the schedule read (the cache contract's table).
pub(crate) fn schedule_tags(user: UserId, date: Day) -> [Tag; 3] {
    [Tag::User(user), Tag::UserScheduled(user), Tag::UserScheduledDate(user, date)]
}
