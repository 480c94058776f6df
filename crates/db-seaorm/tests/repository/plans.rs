//! Behaviours of meal plans and their schedules.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{
    Day, LogEntry, LogItem, Meal, MealPlanId, NewMealPlan, RecipeId, ScheduledMealId, ScheduledPlan, ScheduledPlanId,
    UserId,
};
use macrotrack_migrations::{Migrator, MigratorTrait, steps_through};
use macrotrack_ports::{CreatePlanError, FoodRepository, LogRepository, PlanRepository, ScheduleError};
use sea_orm::ConnectionTrait;

use crate::support::*;

pub async fn meal_plans_keep_their_items_and_own_recipes_only(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let porridge = porridge(repo, alice.id).await;
    let oats = global_food(repo, "Oats, rolled").await;
    let bowl = recipe(repo, alice.id, "Bowl", 100, &[(oats, 100)]).await;
    let items = vec![
        item(6, Meal::Dinner, bowl.id, 100),
        item(0, Meal::Breakfast, porridge.id, 150),
        item(0, Meal::Breakfast, porridge.id, 50),
    ];
    let created = plan(repo, alice.id, 7, items.clone()).await;
    assert_eq!((created.name.as_str(), created.days, &created.items), ("7-day plan", 7, &items));
    assert_eq!(repo.meal_plan(alice.id, created.id).await.unwrap(), Some(created.clone()));
    assert_eq!(repo.meal_plan(bob.id, created.id).await.unwrap(), None);
    assert_eq!(repo.meal_plan(alice.id, MealPlanId(created.id.0 + 1000)).await.unwrap(), None);

    let bobs = recipe(repo, bob.id, "Bob's bowl", 100, &[(oats, 100)]).await;
    let cases: [(Vec<RecipeId>, usize); 3] =
        [(vec![porridge.id, bobs.id], 1), (vec![RecipeId(999_999)], 0), (vec![bowl.id, bowl.id, RecipeId(0)], 2)];
    for (recipes, index) in cases {
        let items = recipes.iter().map(|&recipe| item(0, Meal::Lunch, recipe, 100)).collect();
        let new = NewMealPlan { name: "Nope".to_owned(), days: 1, items };
        let error = repo.create_meal_plan(alice.id, &new).await.unwrap_err();
        assert!(matches!(error, CreatePlanError::UnknownRecipe { index: i } if i == index), "{recipes:?}: {error:?}");
    }
    assert_eq!(count_all(repo, "meal_plans").await, 1);
    assert_eq!(count_all(repo, "meal_plan_items").await, 3);
}

pub async fn scheduling_places_each_item_on_its_date(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let porridge = porridge(repo, alice.id).await;
    let bowl = recipe(repo, alice.id, "Bowl", 100, &[(global_food(repo, "Banana").await, 100)]).await;
    let items = vec![
        item(2, Meal::Dinner, bowl.id, 100),
        item(0, Meal::Breakfast, porridge.id, 150),
        item(2, Meal::Lunch, porridge.id, 50),
    ];
    let plan = plan(repo, alice.id, 4, items).await;
    let scheduled = repo.schedule_meal_plan(alice.id, plan.id, day("2026-12-30")).await.unwrap().value;
    let expected = ScheduledPlan {
        id: scheduled.id,
        meal_plan_id: plan.id,
        name: "4-day plan".to_owned(),
        start_date: day("2026-12-30"),
        end_date: day("2027-01-02"),
    };
    assert_eq!(scheduled, expected);

    let first = repo.schedule_day(alice.id, day("2026-12-30")).await.unwrap();
    assert_eq!(first.plan.as_ref(), Some(&expected));
    let meals: Vec<_> = first.meals.iter().map(|m| (m.meal, m.recipe_id, m.name.as_str(), m.servings)).collect();
    assert_eq!(meals, [(Meal::Breakfast, porridge.id, "Porridge", hundredths(150))]);
    // Days of the plan without meals still show it, the last one included.
    for date in ["2026-12-31", "2027-01-02"] {
        let empty = repo.schedule_day(alice.id, day(date)).await.unwrap();
        assert_eq!((empty.plan.as_ref(), empty.meals.len()), (Some(&expected), 0), "{date}");
    }
    let third = repo.schedule_day(alice.id, day("2027-01-01")).await.unwrap();
    let meals: Vec<_> = third.meals.iter().map(|m| (m.meal, m.name.as_str(), m.servings, m.logged)).collect();
    assert_eq!(
        meals,
        [(Meal::Lunch, "Porridge", hundredths(50), false), (Meal::Dinner, "Bowl", hundredths(100), false)]
    );
    assert_eq!(third.check(), Ok(()));
    for date in ["2026-12-29", "2027-01-03"] {
        let outside = repo.schedule_day(alice.id, day(date)).await.unwrap();
        assert_eq!((outside.date, outside.plan, outside.meals.len()), (day(date), None, 0), "{date}");
    }
}

pub async fn schedules_refuse_overlaps_the_last_date_and_others_plans(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let porridge = porridge(repo, alice.id).await;
    let three = plan(repo, alice.id, 3, vec![item(1, Meal::Lunch, porridge.id, 100)]).await;
    let first = repo.schedule_meal_plan(alice.id, three.id, day("2026-12-01")).await.unwrap().value;
    assert_eq!(first.end_date, day("2026-12-03"));
    for start in ["2026-12-03", "2026-11-29", "2026-12-01", "2026-12-02"] {
        let error = repo.schedule_meal_plan(alice.id, three.id, day(start)).await.unwrap_err();
        assert!(matches!(error, ScheduleError::Overlaps(id) if id == first.id), "{start}: {error:?}");
    }
    // Adjacent on either side is fine, and the overlap names the plan hit.
    let after = repo.schedule_meal_plan(alice.id, three.id, day("2026-12-04")).await.unwrap().value;
    repo.schedule_meal_plan(alice.id, three.id, day("2026-11-28")).await.unwrap();
    let error = repo.schedule_meal_plan(alice.id, three.id, day("2026-12-06")).await.unwrap_err();
    assert!(matches!(error, ScheduleError::Overlaps(id) if id == after.id), "{error:?}");
    assert_eq!(count_where(repo, "scheduled_plans", "user_id", alice.id.0).await, 3);
    assert_eq!(count_where(repo, "scheduled_meals", "user_id", alice.id.0).await, 3);

    // Ending on 2200-12-31 is the limit.
    let one = plan(repo, alice.id, 1, vec![item(0, Meal::Lunch, porridge.id, 100)]).await;
    let two = plan(repo, alice.id, 2, vec![item(0, Meal::Lunch, porridge.id, 100)]).await;
    let error = repo.schedule_meal_plan(alice.id, two.id, day("2200-12-31")).await.unwrap_err();
    assert!(matches!(error, ScheduleError::OutOfRange), "{error:?}");
    let last = repo.schedule_meal_plan(alice.id, one.id, day("2200-12-31")).await.unwrap().value;
    assert_eq!((last.start_date, last.end_date), (day("2200-12-31"), day("2200-12-31")));

    // Another user's plan is as missing as a missing one; their calendars
    // do not collide with each other.
    for (who, id) in [(bob.id, three.id), (alice.id, MealPlanId(three.id.0 + 1000))] {
        let error = repo.schedule_meal_plan(who, id, day("2027-06-01")).await.unwrap_err();
        assert!(matches!(error, ScheduleError::NotFound), "{error:?}");
    }
    let bobs_recipe = recipe(repo, bob.id, "Bob's", 100, &[(global_food(repo, "Banana").await, 100)]).await;
    let bobs = plan(repo, bob.id, 3, vec![item(0, Meal::Lunch, bobs_recipe.id, 100)]).await;
    repo.schedule_meal_plan(bob.id, bobs.id, day("2026-12-01")).await.unwrap();
    assert!(repo.schedule_day(bob.id, day("2026-12-05")).await.unwrap().plan.is_none());
}

pub async fn concurrent_schedules_of_one_user_never_overlap(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let porridge = porridge(repo, alice.id).await;
    let week = plan(repo, alice.id, 7, vec![item(0, Meal::Lunch, porridge.id, 100)]).await;
    let mut start = day("2027-01-01");
    for round in 0..10 {
        let later = start.plus_days(3).unwrap();
        let (a, b) = tokio::join!(
            repo.schedule_meal_plan(alice.id, week.id, start),
            repo.schedule_meal_plan(alice.id, week.id, later)
        );
        let ok = [a.is_ok(), b.is_ok()];
        assert_eq!(ok.iter().filter(|ok| **ok).count(), 1, "round {round}: {a:?} {b:?}");
        for outcome in [a, b] {
            if let Err(error) = outcome {
                assert!(matches!(error, ScheduleError::Overlaps(_)), "round {round}: {error:?}");
            }
        }
        start = start.plus_days(30).unwrap();
    }
    assert_eq!(count_where(repo, "scheduled_plans", "user_id", alice.id.0).await, 10);
}

pub async fn logged_needs_an_entry_with_the_same_meal_and_recipe_that_day(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let porridge = porridge(repo, alice.id).await;
    let oats = global_food(repo, "Oats, rolled").await;
    let bowl = recipe(repo, alice.id, "Bowl", 100, &[(oats, 100)]).await;
    let items = vec![item(0, Meal::Lunch, porridge.id, 100), item(0, Meal::Dinner, bowl.id, 100)];
    let plan = plan(repo, alice.id, 2, items).await;
    let date = "2026-11-24";
    repo.schedule_meal_plan(alice.id, plan.id, day(date)).await.unwrap();
    let logged = |repo: &SeaOrmRepository| {
        let repo = repo.clone();
        async move {
            let meals = repo.schedule_day(alice.id, day(date)).await.unwrap().meals;
            meals.iter().map(|meal| (meal.meal, meal.logged)).collect::<Vec<_>>()
        }
    };
    assert_eq!(logged(repo).await, [(Meal::Lunch, false), (Meal::Dinner, false)]);

    // Near misses: another meal, another date, a food in the slot.
    let misses = [
        entry(date, Meal::Breakfast, LogItem::Recipe(porridge.id), 100),
        entry(date, Meal::Dinner, LogItem::Recipe(porridge.id), 100),
        entry("2026-11-25", Meal::Dinner, LogItem::Recipe(bowl.id), 100),
        entry(date, Meal::Dinner, LogItem::Food(oats), 100),
    ];
    repo.create_log_entries(alice.id, &misses, now()).await.unwrap();
    assert_eq!(logged(repo).await, [(Meal::Lunch, false), (Meal::Dinner, false)]);
    repo.create_log_entries(alice.id, &[entry(date, Meal::Lunch, LogItem::Recipe(porridge.id), 50)], now())
        .await
        .unwrap();
    assert_eq!(logged(repo).await, [(Meal::Lunch, true), (Meal::Dinner, false)]);
    repo.create_log_entries(alice.id, &[entry(date, Meal::Dinner, LogItem::Recipe(bowl.id), 100)], now())
        .await
        .unwrap();
    assert_eq!(logged(repo).await, [(Meal::Lunch, true), (Meal::Dinner, true)]);
}

pub async fn deleting_scheduled_meals_and_plans(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let porridge = porridge(repo, alice.id).await;
    let items = vec![item(0, Meal::Lunch, porridge.id, 100), item(1, Meal::Lunch, porridge.id, 100)];
    let plan = plan(repo, alice.id, 2, items).await;
    let scheduled = repo.schedule_meal_plan(alice.id, plan.id, day("2026-11-24")).await.unwrap().value;
    let meal = repo.schedule_day(alice.id, day("2026-11-25")).await.unwrap().meals[0].id;

    assert_eq!(repo.delete_scheduled_meal(bob.id, meal).await.unwrap(), None);
    assert_eq!(repo.delete_scheduled_meal(alice.id, ScheduledMealId(meal.0 + 1000)).await.unwrap(), None);
    assert_eq!(repo.delete_scheduled_meal(alice.id, meal).await.unwrap().map(|c| c.value), Some(day("2026-11-25")));
    assert_eq!(repo.delete_scheduled_meal(alice.id, meal).await.unwrap(), None);
    let emptied = repo.schedule_day(alice.id, day("2026-11-25")).await.unwrap();
    assert_eq!((emptied.plan.as_ref(), emptied.meals.len()), (Some(&scheduled), 0));
    assert_eq!(repo.schedule_day(alice.id, day("2026-11-24")).await.unwrap().meals.len(), 1);

    assert_eq!(repo.delete_scheduled_plan(bob.id, scheduled.id).await.unwrap(), None);
    assert_eq!(repo.delete_scheduled_plan(alice.id, ScheduledPlanId(scheduled.id.0 + 1000)).await.unwrap(), None);
    assert_eq!(
        repo.delete_scheduled_plan(alice.id, scheduled.id).await.unwrap().map(|c| c.value),
        Some(scheduled.clone())
    );
    assert_eq!(repo.delete_scheduled_plan(alice.id, scheduled.id).await.unwrap(), None);
    assert!(nothing_on(repo, alice.id, day("2026-11-24")).await);
    assert_eq!(count_all(repo, "scheduled_meals").await, 0);
    // The days are free again; the meal plan itself stays.
    repo.schedule_meal_plan(alice.id, plan.id, day("2026-11-25")).await.unwrap();
    assert!(repo.meal_plan(alice.id, plan.id).await.unwrap().is_some());
}

async fn nothing_on(repo: &SeaOrmRepository, user: UserId, date: Day) -> bool {
    let scheduled = repo.schedule_day(user, date).await.unwrap();
    scheduled.plan.is_none() && scheduled.meals.is_empty()
}

/// The second migration rolls back (dropping recipes, plans and the
/// entries of recipes) and applies again, on both backends.
pub async fn second_migration_rolls_back_and_reapplies(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let porridge = porridge(repo, alice.id).await;
    let oats = LogItem::Food(global_food(repo, "Oats, rolled").await);
    let plan = plan(repo, alice.id, 1, vec![item(0, Meal::Lunch, porridge.id, 100)]).await;
    repo.schedule_meal_plan(alice.id, plan.id, day("2026-11-24")).await.unwrap();
    let batch = [
        entry("2026-11-24", Meal::Lunch, oats, 100),
        entry("2026-11-24", Meal::Lunch, LogItem::Recipe(porridge.id), 100),
    ];
    let created = repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value;
    // The recipe key holds on both backends.
    let dangling = format!("UPDATE log_entries SET food_id = NULL, recipe_id = 999999 WHERE id = {}", created[0].id);
    assert!(repo.connection().execute_unprepared(&dangling).await.is_err());

    // The second migration and every later one.
    Migrator::down(repo.connection(), steps_through("m20261125_000002_recipes_plans")).await.unwrap();
    assert!(repo.connection().execute_unprepared("SELECT COUNT(*) FROM recipes").await.is_err());
    // Only the food entry stays (read once migrated again: the repository
    // reads the latest schema; the amounts' columns came back empty).
    assert_eq!(count_all(repo, "log_entries").await, 1);

    repo.migrate().await.unwrap();
    let kept = LogEntry { grams: None, ..created[0].clone() };
    assert_eq!(repo.day_logs(alice.id, day("2026-11-24")).await.unwrap().entries, [kept]);
    let again = recipe(repo, alice.id, "Again", 100, &[(porridge.ingredients[0].food_id, 100)]).await;
    let batch = [entry("2026-11-25", Meal::Lunch, LogItem::Recipe(again.id), 100)];
    let logged = repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value;
    assert!(logged[0].id > created[1].id, "a log entry id was handed out again");
    assert_eq!(repo.search_foods(alice.id, "OATS", 100).await.unwrap().len(), 2); // global and own
}
