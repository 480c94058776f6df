//! Meal plans placed on the calendar: scheduling without overlaps, what is
//! scheduled on a day (and whether it was logged), and deleting schedules.

use macrotrack_domain::{
    Amount, Day, MealPlanId, RecipeId, ScheduleDay, ScheduledMeal, ScheduledMealId, ScheduledPlan, ScheduledPlanId,
    UserId,
};
use macrotrack_ports::{ScheduleError, Unavailable};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};

use crate::entities::{log_entry, scheduled_meal, scheduled_plan, user};
use crate::plan_rows::{days, own_plan, plan_items};
use crate::{corrupt, to_day, to_meal, unavailable};

/// Runs in the caller's write transaction.
pub(crate) async fn schedule(
    db: &impl ConnectionTrait,
    user: UserId,
    plan: MealPlanId,
    start: Day,
) -> Result<ScheduledPlan, ScheduleError> {
    // Two schedules of one user must not both pass the overlap check. On
    // PostgreSQL the user's row is the lock they queue on until commit;
    // SQLite (where this renders without FOR ...) has a single writer, as
    // the transaction began IMMEDIATE.
    user::Entity::find_by_id(user.0)
        .select_only()
        .column(user::Column::Id)
        .lock(LockType::NoKeyUpdate)
        .into_tuple::<i64>()
        .one(db)
        .await
        .map_err(unavailable)?;

    let plan = own_plan(db, user, plan).await.map_err(unavailable)?.ok_or(ScheduleError::NotFound)?;
    let end = ScheduledPlan::end_date(start, days(plan.days, plan.id)?).ok_or(ScheduleError::OutOfRange)?;
    let overlapping: Option<i64> = scheduled_plan::Entity::find()
        .select_only()
        .column(scheduled_plan::Column::Id)
        .filter(scheduled_plan::Column::UserId.eq(user.0))
        .filter(scheduled_plan::Column::StartDate.lte(end.date()))
        .filter(scheduled_plan::Column::EndDate.gte(start.date()))
        .order_by_asc(scheduled_plan::Column::Id)
        .into_tuple()
        .one(db)
        .await
        .map_err(unavailable)?;
    if let Some(other) = overlapping {
        return Err(ScheduleError::Overlaps(ScheduledPlanId(other)));
    }

    let row = scheduled_plan::ActiveModel {
        id: NotSet,
        user_id: Set(user.0),
        meal_plan_id: Set(plan.id),
        name: Set(plan.name.clone()),
        start_date: Set(start.date()),
        end_date: Set(end.date()),
    };
    let id = scheduled_plan::Entity::insert(row).exec(db).await.map_err(unavailable)?.last_insert_id;
    let mut meals = Vec::new();
    for item in plan_items(db, plan.id).await? {
        let date = start
            .plus_days(i64::from(item.day))
            .filter(|date| *date <= end)
            .ok_or_else(|| corrupt(format!("meal plan {}: day {} of {}", plan.id, item.day, plan.days)))?;
        meals.push(scheduled_meal::ActiveModel {
            id: NotSet,
            scheduled_plan_id: Set(id),
            user_id: Set(user.0),
            date: Set(date.date()),
            meal: Set(item.meal.as_str().to_owned()),
            recipe_id: Set(item.recipe_id.0),
            servings: Set(item.servings.hundredths()),
        });
    }
    scheduled_meal::Entity::insert_many(meals).exec_without_returning(db).await.map_err(unavailable)?;
    Ok(ScheduledPlan {
        id: ScheduledPlanId(id),
        meal_plan_id: MealPlanId(plan.id),
        name: plan.name,
        start_date: start,
        end_date: end,
    })
}

#[derive(Debug, FromQueryResult)]
struct MealRow {
    id: i64,
    meal: String,
    recipe_id: i64,
    name: String,
    servings: i64,
    logged: bool,
}

pub(crate) async fn day(db: &impl ConnectionTrait, user: UserId, date: Day) -> Result<ScheduleDay, Unavailable> {
    // Scheduled plans of a user never overlap, so at most one covers a date.
    let plan = scheduled_plan::Entity::find()
        .filter(scheduled_plan::Column::UserId.eq(user.0))
        .filter(scheduled_plan::Column::StartDate.lte(date.date()))
        .filter(scheduled_plan::Column::EndDate.gte(date.date()))
        .order_by_asc(scheduled_plan::Column::Id)
        .one(db)
        .await
        .map_err(unavailable)?;
    let Some(plan) = plan else { return Ok(ScheduleDay::new(date, None, Vec::new())) };

    // Logged: an entry of the user that date with the same meal and recipe.
    let logged = Query::select()
        .expr(Expr::val(1))
        .from(log_entry::Entity)
        .and_where(Expr::col((log_entry::Entity, log_entry::Column::UserId)).eq(user.0))
        .and_where(Expr::col((log_entry::Entity, log_entry::Column::Date)).eq(date.date()))
        .and_where(
            Expr::col((log_entry::Entity, log_entry::Column::Meal))
                .equals((scheduled_meal::Entity, scheduled_meal::Column::Meal)),
        )
        .and_where(
            Expr::col((log_entry::Entity, log_entry::Column::RecipeId))
                .equals((scheduled_meal::Entity, scheduled_meal::Column::RecipeId)),
        )
        .to_owned();
    // Meals of the plan found above, so a plan deleted in between leaves
    // no meals without their plan.
    let rows = scheduled_meal::Entity::find()
        .select_only()
        .column(scheduled_meal::Column::Id)
        .column(scheduled_meal::Column::Meal)
        .column(scheduled_meal::Column::RecipeId)
        .column_as(crate::entities::recipe::Column::Name, "name")
        .column(scheduled_meal::Column::Servings)
        .expr_as(Expr::exists(logged), "logged")
        .join(JoinType::InnerJoin, scheduled_meal::Relation::Recipe.def())
        .filter(scheduled_meal::Column::ScheduledPlanId.eq(plan.id))
        .filter(scheduled_meal::Column::UserId.eq(user.0))
        .filter(scheduled_meal::Column::Date.eq(date.date()))
        .into_model::<MealRow>()
        .all(db)
        .await
        .map_err(unavailable)?;
    let meals = rows
        .into_iter()
        .map(|row| {
            Ok(ScheduledMeal {
                id: ScheduledMealId(row.id),
                meal: to_meal(&row.meal, format!("scheduled meal {}", row.id))?,
                recipe_id: RecipeId(row.recipe_id),
                name: row.name,
                servings: Amount::from_hundredths(row.servings),
                logged: row.logged,
            })
        })
        .collect::<Result<Vec<_>, Unavailable>>()?;
    Ok(ScheduleDay::new(date, Some(to_scheduled_plan(plan)?), meals))
}

pub(crate) async fn delete_meal(
    db: &impl ConnectionTrait,
    user: UserId,
    id: ScheduledMealId,
) -> Result<Option<Day>, Unavailable> {
    let found = scheduled_meal::Entity::find_by_id(id.0)
        .filter(scheduled_meal::Column::UserId.eq(user.0))
        .one(db)
        .await
        .map_err(unavailable)?;
    let Some(meal) = found else { return Ok(None) };
    scheduled_meal::Entity::delete_by_id(meal.id).exec(db).await.map_err(unavailable)?;
    to_day(meal.date, format!("scheduled meal {}", meal.id)).map(Some)
}

pub(crate) async fn delete_plan(
    db: &impl ConnectionTrait,
    user: UserId,
    id: ScheduledPlanId,
) -> Result<Option<ScheduledPlan>, Unavailable> {
    let found = scheduled_plan::Entity::find_by_id(id.0)
        .filter(scheduled_plan::Column::UserId.eq(user.0))
        .one(db)
        .await
        .map_err(unavailable)?;
    let Some(plan) = found else { return Ok(None) };
    // The foreign key would cascade; deleting the meals first does not
    // depend on SQLite's foreign_keys pragma being on.
    scheduled_meal::Entity::delete_many()
        .filter(scheduled_meal::Column::ScheduledPlanId.eq(plan.id))
        .exec(db)
        .await
        .map_err(unavailable)?;
    scheduled_plan::Entity::delete_by_id(plan.id).exec(db).await.map_err(unavailable)?;
    to_scheduled_plan(plan).map(Some)
}

fn to_scheduled_plan(model: scheduled_plan::Model) -> Result<ScheduledPlan, Unavailable> {
    let row = format!("scheduled plan {}", model.id);
    Ok(ScheduledPlan {
        id: ScheduledPlanId(model.id),
        meal_plan_id: MealPlanId(model.meal_plan_id),
        name: model.name,
        start_date: to_day(model.start_date, &row)?,
        end_date: to_day(model.end_date, &row)?,
    })
}
