//! Meal plans and their schedules.

use macrotrack_cache::Freshness;
use macrotrack_cache_keys::{EntryAddress, QueryKey, ReadFamily, Tier};
use macrotrack_domain::{
    Day, MealPlan, MealPlanId, MealPlanInput, NewMealPlan, ScheduleDay, ScheduledMealId, ScheduledPlan,
    ScheduledPlanId, UserId, ValidationErrors,
};
use macrotrack_ports::{CacheStore, CreatePlanError, ScheduleError};

use crate::facts::{Change, Changes, Fact, FactKind, Granularity, MutationSpec, Operation, ReadSpec};
use macrotrack_ports::Unavailable;

use crate::{ChangeError, CreateError, GetError, SchedulePlanError, Service};

/// What is scheduled on a date, each meal with whether a recipe entry of
/// its meal and recipe is logged that day.
pub(crate) const SCHEDULE: ReadSpec = ReadSpec {
    family: ReadFamily::Schedule,
    name: "schedule",
    tier: Tier::Two,
    depends_on: &[FactKind::Schedule, FactKind::RecipeEntries],
    granularity: Granularity::Day,
};

pub(crate) const SCHEDULE_MEAL_PLAN: MutationSpec = MutationSpec {
    operation: Operation::ScheduleMealPlan,
    name: "schedule a meal plan",
    dates: "every date it covers",
    changes: &[Change { kind: FactKind::Schedule, which: "every date it covers" }],
    everything: false,
};

pub(crate) const DELETE_SCHEDULED_MEAL: MutationSpec = MutationSpec {
    operation: Operation::DeleteScheduledMeal,
    name: "delete a scheduled meal",
    dates: "its date",
    changes: &[Change { kind: FactKind::Schedule, which: "its date" }],
    everything: false,
};

pub(crate) const DELETE_SCHEDULED_PLAN: MutationSpec = MutationSpec {
    operation: Operation::DeleteScheduledPlan,
    name: "delete a scheduled plan",
    dates: "every date it covered",
    changes: &[Change { kind: FactKind::Schedule, which: "every date it covered" }],
    everything: false,
};

/// What placing or removing `plan` changes: every date it covers.
pub(crate) fn plan_changes(user: UserId, plan: &ScheduledPlan) -> Changes {
    Changes::new(user, [Fact::between(FactKind::Schedule, plan.start_date, plan.end_date)])
}

pub(crate) fn schedule_address(user: UserId, date: Day) -> EntryAddress {
    EntryAddress::tier2(QueryKey::Schedule { user, date }, &SCHEDULE.guards(user, Some((date, date))))
}

impl<S: CacheStore> Service<S> {
    pub async fn create_meal_plan(&self, user: UserId, input: MealPlanInput) -> Result<MealPlan, CreateError> {
        let plan = NewMealPlan::parse(input)?;
        self.repos.plans.create_meal_plan(user, &plan).await.map_err(|error| match error {
            CreatePlanError::UnknownRecipe { index } => {
                CreateError::Invalid(ValidationErrors::single(format!("items.{index}.recipe_id"), "unknown recipe"))
            }
            CreatePlanError::Unavailable(unavailable) => CreateError::Unavailable(unavailable),
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
    ) -> Result<ScheduledPlan, SchedulePlanError> {
        let scheduled = self.repos.plans.schedule_meal_plan(user, plan, start).await.map_err(|error| match error {
            ScheduleError::NotFound => SchedulePlanError::NotFound,
            ScheduleError::OutOfRange => SchedulePlanError::Invalid(ValidationErrors::single(
                "start_date",
                "the schedule would end after 2200-12-31",
            )),
            ScheduleError::Overlaps(other) => SchedulePlanError::Conflict(other.to_string()),
            ScheduleError::Unavailable(unavailable) => SchedulePlanError::Unavailable(unavailable),
        })?;
        self.forget(&SCHEDULE_MEAL_PLAN, plan_changes(user, &scheduled.value), Some(scheduled.outbox)).await;
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

    pub async fn delete_scheduled_meal(&self, user: UserId, id: ScheduledMealId) -> Result<(), ChangeError> {
        let deleted = self.repos.plans.delete_scheduled_meal(user, id).await?.ok_or(ChangeError::NotFound)?;
        let changes = Changes::new(user, [Fact::on(FactKind::Schedule, deleted.value)]);
        self.forget(&DELETE_SCHEDULED_MEAL, changes, Some(deleted.outbox)).await;
        Ok(())
    }

    pub async fn delete_scheduled_plan(&self, user: UserId, id: ScheduledPlanId) -> Result<(), ChangeError> {
        let deleted = self.repos.plans.delete_scheduled_plan(user, id).await?.ok_or(ChangeError::NotFound)?;
        self.forget(&DELETE_SCHEDULED_PLAN, plan_changes(user, &deleted.value), Some(deleted.outbox)).await;
        Ok(())
    }
}
