//! Meal plans and their schedules.

use macrotrack_cache::Freshness;
use macrotrack_domain::{
    Day, MealPlan, MealPlanId, MealPlanInput, NewMealPlan, ScheduleDay, ScheduledMealId, ScheduledPlan,
    ScheduledPlanId, UserId, ValidationErrors,
};
use macrotrack_ports::{CacheStore, CreatePlanError, Keep, ScheduleError, Unavailable};

use crate::catalog::{DELETE_SCHEDULED_MEAL, DELETE_SCHEDULED_PLAN, SCHEDULE_MEAL_PLAN, schedule_address};
use crate::{ChangeError, CreateOwnedError, GetError, SchedulePlanError, Service};

impl<S: CacheStore> Service<S> {
    /// Creates a meal plan; every recipe must be one the user sees.
    pub async fn create_meal_plan(&self, user: UserId, input: MealPlanInput) -> Result<MealPlan, CreateOwnedError> {
        self.create_meal_plan_keeping(user, input, None).await
    }

    /// `create_meal_plan`, keeping its answer (`keep` renders it) in the write's own
    /// transaction, for replays of its idempotency key.
    pub async fn create_meal_plan_keeping(
        &self,
        user: UserId,
        input: MealPlanInput,
        keep: Option<Keep<MealPlan>>,
    ) -> Result<MealPlan, CreateOwnedError> {
        let plan = NewMealPlan::parse(input)?;
        let created = match keep {
            Some(keep) => self.repos.plans.create_meal_plan_keeping(user, &plan, keep).await,
            None => self.repos.plans.create_meal_plan(user, &plan).await,
        };
        created.map_err(|error| match error {
            CreatePlanError::UnknownRecipe { index } => CreateOwnedError::Invalid(ValidationErrors::single(
                format!("items.{index}.recipe_id"),
                "unknown recipe",
            )),
            full @ CreatePlanError::Full => CreateOwnedError::Conflict(full.to_string()),
            CreatePlanError::Unavailable(unavailable) => CreateOwnedError::Unavailable(unavailable),
        })
    }

    /// One of the user's meal plans.
    pub async fn meal_plan(&self, user: UserId, id: MealPlanId) -> Result<MealPlan, GetError> {
        self.repos.plans.meal_plan(user, id).await?.ok_or(GetError::NotFound)
    }

    /// Places a plan on the calendar from `start`.
    pub async fn schedule_meal_plan(
        &self,
        user: UserId,
        plan: MealPlanId,
        start: Day,
    ) -> Result<ScheduledPlan, SchedulePlanError> {
        self.schedule_meal_plan_keeping(user, plan, start, None).await
    }

    /// `schedule_meal_plan`, keeping its answer (`keep` renders it) in the write's own
    /// transaction, for replays of its idempotency key.
    pub async fn schedule_meal_plan_keeping(
        &self,
        user: UserId,
        plan: MealPlanId,
        start: Day,
        keep: Option<Keep<ScheduledPlan>>,
    ) -> Result<ScheduledPlan, SchedulePlanError> {
        let scheduled = match keep {
            Some(keep) => self.repos.plans.schedule_meal_plan_keeping(user, plan, start, keep).await,
            None => self.repos.plans.schedule_meal_plan(user, plan, start).await,
        };
        let scheduled = scheduled.map_err(|error| match error {
            ScheduleError::NotFound => SchedulePlanError::NotFound,
            ScheduleError::OutOfRange => SchedulePlanError::Invalid(ValidationErrors::single(
                "start_date",
                "the schedule would end after 2200-12-31",
            )),
            ScheduleError::Overlaps(other) => SchedulePlanError::Conflict(other.to_string()),
            ScheduleError::Unavailable(unavailable) => SchedulePlanError::Unavailable(unavailable),
        })?;
        self.forget(&SCHEDULE_MEAL_PLAN, user, &scheduled.value, Some(scheduled.outbox)).await;
        Ok(scheduled.value)
    }

    /// What is scheduled on `date` (tier 2, `SCHEDULE`).
    pub async fn schedule_day(&self, user: UserId, date: Day) -> Result<ScheduleDay, Unavailable> {
        let address = schedule_address(user, date);
        self.cached(address, self.policies.schedule, Freshness::Cached, ScheduleDay::check, move |repos| async move {
            repos.plans.schedule_day(user, date).await
        })
        .await
    }

    /// Removes one scheduled meal, then forgets its date's schedule.
    pub async fn delete_scheduled_meal(&self, user: UserId, id: ScheduledMealId) -> Result<(), ChangeError> {
        let deleted = self.repos.plans.delete_scheduled_meal(user, id).await?.ok_or(ChangeError::NotFound)?;
        self.forget(&DELETE_SCHEDULED_MEAL, user, &deleted.value, Some(deleted.outbox)).await;
        Ok(())
    }

    /// Removes a scheduled plan, then forgets every date it covered.
    pub async fn delete_scheduled_plan(&self, user: UserId, id: ScheduledPlanId) -> Result<(), ChangeError> {
        let deleted = self.repos.plans.delete_scheduled_plan(user, id).await?.ok_or(ChangeError::NotFound)?;
        self.forget(&DELETE_SCHEDULED_PLAN, user, &deleted.value, Some(deleted.outbox)).await;
        Ok(())
    }
}
