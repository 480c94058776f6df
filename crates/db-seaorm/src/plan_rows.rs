//! Reading a stored meal plan back: the owner's plan row, its items in
//! order, its length. The repository answers plans with them
//! (`plans.rs`), and scheduling copies a plan's items onto the calendar
//! (`schedules.rs`).

use macrotrack_domain::{Amount, MealPlanId, MealPlanItem, RecipeId, UserId};
use macrotrack_ports::Unavailable;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::{meal_plan, meal_plan_item};
use crate::{corrupt, to_meal, unavailable};

pub(crate) async fn own_plan(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: MealPlanId,
) -> Result<Option<meal_plan::Model>, DbErr> {
    meal_plan::Entity::find_by_id(id.0).filter(meal_plan::Column::OwnerUserId.eq(owner.0)).one(db).await
}

/// The plan's items in the order they were given.
pub(crate) async fn plan_items(db: &impl ConnectionTrait, plan: i64) -> Result<Vec<MealPlanItem>, Unavailable> {
    let rows = meal_plan_item::Entity::find()
        .filter(meal_plan_item::Column::MealPlanId.eq(plan))
        .order_by_asc(meal_plan_item::Column::Position)
        .all(db)
        .await
        .map_err(unavailable)?;
    rows.into_iter()
        .map(|row| {
            let what = format!("meal plan {plan} item {}", row.position);
            Ok(MealPlanItem {
                day: u32::try_from(row.day).map_err(|_| corrupt(format!("{what}: day {}", row.day)))?,
                meal: to_meal(&row.meal, &what)?,
                recipe_id: RecipeId(row.recipe_id),
                servings: Amount::from_hundredths(row.servings),
            })
        })
        .collect()
}

pub(crate) fn days(days: i32, plan: i64) -> Result<u32, Unavailable> {
    u32::try_from(days).map_err(|_| corrupt(format!("meal plan {plan}: {days} days")))
}
