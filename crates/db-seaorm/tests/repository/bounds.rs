//! Behaviours of the contract's bounds: a day's entries, and the foods,
//! recipes and meal plans a user owns, refused past their bound with
//! nothing written, also when writes race each other.

use std::sync::Arc;

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_db_seaorm::entities::{food, meal_plan, recipe};
use macrotrack_domain::validation::{MAX_DAY_ENTRIES, MAX_OWN_FOODS, MAX_OWN_MEAL_PLANS, MAX_OWN_RECIPES};
use macrotrack_domain::{
    AmountChange, Day, FoodId, LogAmount, LogEntryId, LogEntryPatch, LogItem, Meal, NewMealPlan, UserId,
};
use macrotrack_ports::{
    CreateFoodError, CreateLogsError, CreatePlanError, CreateRecipeError, FoodRepository, LogRepository,
    PlanRepository, RecipeRepository, UpdateLogError,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::EntityTrait;

use crate::support::*;

const DATE: &str = "2026-11-24";

/// Logs `n` entries of `food` on `date`, in batches of at most 100.
async fn fill(repo: &SeaOrmRepository, user: UserId, food: FoodId, date: &str, n: usize) {
    let mut left = n;
    while left > 0 {
        let batch: Vec<_> = (0..left.min(100)).map(|_| entry(date, Meal::Lunch, LogItem::Food(food), 100)).collect();
        repo.create_log_entries(user, &batch, now()).await.unwrap();
        left -= batch.len();
    }
}

async fn entries_on(repo: &SeaOrmRepository, user: UserId, date: &str) -> usize {
    repo.day_logs(user, day(date)).await.unwrap().entries.len()
}

/// What a refused write must leave as it was: the user's entries, uses
/// and outbox rows.
async fn footprint(repo: &SeaOrmRepository, user: UserId) -> [i64; 3] {
    [
        count_where(repo, "log_entries", "user_id", user.0).await,
        count_where(repo, "food_uses", "user_id", user.0).await,
        count_where(repo, "cache_outbox", "user_id", user.0).await,
    ]
}

pub async fn a_day_holds_at_most_its_bound_of_entries(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await.id;
    let bob = user(repo, "bob").await.id;
    let oats = global_food(repo, "Oats, rolled").await;
    fill(repo, alice, oats, DATE, MAX_DAY_ENTRIES as usize).await;
    assert_eq!(entries_on(repo, alice, DATE).await, 200);

    let before = footprint(repo, alice).await;
    let one_more = [entry(DATE, Meal::Dinner, LogItem::Food(oats), 100)];
    let refused = repo.create_log_entries(alice, &one_more, now()).await;
    assert!(matches!(refused, Err(CreateLogsError::DayFull { date }) if date == day(DATE)), "{refused:?}");
    // All or nothing: the batch's entry on a day with room is not written either.
    let spanning = [
        entry("2026-11-23", Meal::Dinner, LogItem::Food(oats), 100),
        entry(DATE, Meal::Dinner, LogItem::Food(oats), 100),
        entry("2026-11-25", Meal::Dinner, LogItem::Food(oats), 100),
    ];
    let refused = repo.create_log_entries(alice, &spanning, now()).await;
    assert!(matches!(refused, Err(CreateLogsError::DayFull { date }) if date == day(DATE)), "{refused:?}");
    assert_eq!(footprint(repo, alice).await, before, "a refused batch changed something");
    assert_eq!(uses(repo, alice, oats).await, Some(200));

    // The bound is per user and per day.
    repo.create_log_entries(alice, &spanning[..1], now()).await.unwrap();
    repo.create_log_entries(bob, &one_more, now()).await.unwrap();
    // A batch that alone would pass the bound on an emptier day.
    fill(repo, alice, oats, "2026-11-26", 150).await;
    let fifty_one: Vec<_> = (0..51).map(|_| entry("2026-11-26", Meal::Snack, LogItem::Food(oats), 100)).collect();
    let refused = repo.create_log_entries(alice, &fifty_one, now()).await;
    assert!(matches!(refused, Err(CreateLogsError::DayFull { .. })), "{refused:?}");
    repo.create_log_entries(alice, &fifty_one[..50], now()).await.unwrap();
    assert_eq!(entries_on(repo, alice, "2026-11-26").await, 200);
}

pub async fn a_move_into_a_full_day_is_refused_and_changes_nothing(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await.id;
    let oats = global_food(repo, "Oats, rolled").await;
    fill(repo, alice, oats, DATE, MAX_DAY_ENTRIES as usize).await;
    let elsewhere = [entry("2026-11-25", Meal::Dinner, LogItem::Food(oats), 100)];
    let moving = repo.create_log_entries(alice, &elsewhere, now()).await.unwrap().value[0].clone();

    let before = footprint(repo, alice).await;
    let into_full = LogEntryPatch {
        date: Some(day(DATE)),
        amount: Some(AmountChange::To(LogAmount::Servings(hundredths(300)))),
        ..Default::default()
    };
    let refused = repo.update_log_entry(alice, moving.id, into_full, now()).await;
    assert!(matches!(refused, Err(UpdateLogError::DayFull { date }) if date == day(DATE)), "{refused:?}");
    assert_eq!(repo.log_entry(alice, moving.id).await.unwrap(), Some(moving.clone()), "the entry was changed");
    assert_eq!(footprint(repo, alice).await, before);

    // Edits within the full day, and a "move" to its own date, are no moves.
    let full_day = repo.day_logs(alice, day(DATE)).await.unwrap();
    let inside = full_day.entries[0].id;
    let same_day = LogEntryPatch { date: Some(day(DATE)), meal: Some(Meal::Snack), ..Default::default() };
    let (_, after) = repo.update_log_entry(alice, inside, same_day, now()).await.unwrap().unwrap().value;
    assert_eq!((after.date, after.meal), (day(DATE), Meal::Snack));
    // Out of the full day, then back into the room it left.
    let out = LogEntryPatch { date: Some(day("2026-11-26")), ..Default::default() };
    repo.update_log_entry(alice, inside, out, now()).await.unwrap().unwrap();
    let back = LogEntryPatch { date: Some(day(DATE)), ..Default::default() };
    repo.update_log_entry(alice, moving.id, back, now()).await.unwrap().unwrap();
    assert_eq!(entries_on(repo, alice, DATE).await, 200);
    assert!(
        repo.update_log_entry(alice, LogEntryId(moving.id.0 + 10_000), Default::default(), now())
            .await
            .unwrap()
            .is_none()
    );
}

/// Rows of `owner`'s, written behind the repository's back: reaching a
/// bound of thousands through it would take most of a minute.
async fn own_many(repo: &SeaOrmRepository, owner: UserId, foods: u32, recipes: u32, plans: u32) {
    let db = repo.connection();
    for chunk in (0..foods).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|n| food::ActiveModel {
            id: NotSet,
            owner_user_id: Set(Some(owner.0)),
            name: Set(format!("Food {n}")),
            name_folded: Set(Some(format!("food {n}"))),
            brand: Set(None),
            serving_size: Set(10000),
            serving_unit: Set("g".to_owned()),
            calories: Set(100),
            protein_g: Set(0),
            carbs_g: Set(0),
            fat_g: Set(0),
            generic: NotSet,
            source: NotSet,
            barcode: NotSet,
        });
        food::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    }
    for chunk in (0..recipes).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|n| recipe::ActiveModel {
            id: NotSet,
            owner_user_id: Set(owner.0),
            name: Set(format!("Recipe {n}")),
            servings: Set(100),
            calories: Set(100),
            protein_g: Set(0),
            carbs_g: Set(0),
            fat_g: Set(0),
        });
        recipe::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    }
    for chunk in (0..plans).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|n| meal_plan::ActiveModel {
            id: NotSet,
            owner_user_id: Set(owner.0),
            name: Set(format!("Plan {n}")),
            days: Set(1),
        });
        meal_plan::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    }
}

pub async fn a_user_owns_at_most_their_bound_of_foods_recipes_and_plans(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await.id;
    let bob = user(repo, "bob").await.id;
    own_many(repo, alice, MAX_OWN_FOODS - 1, MAX_OWN_RECIPES - 2, MAX_OWN_MEAL_PLANS - 1).await;

    let last_food = own_food(repo, alice, "The last one", macros(100, 0, 0, 0)).await;
    assert!(matches!(repo.create_food(alice, &bar("One too many")).await, Err(CreateFoodError::Full)));
    // Global foods are nobody's; another user's are theirs.
    repo.create_food(bob, &bar("Bob's")).await.unwrap();
    assert_eq!(count_where(repo, "foods", "owner_user_id", alice.0).await, i64::from(MAX_OWN_FOODS));

    // Two more recipes reach the bound.
    let last_recipe = recipe(repo, alice, "Last", 100, &[(last_food.id, 100)]).await;
    recipe(repo, alice, "Really last", 100, &[(last_food.id, 100)]).await;
    let ingredients = last_recipe.ingredients.clone();
    let new = macrotrack_domain::NewRecipe { name: "Too many".into(), servings: hundredths(100), ingredients };
    assert!(matches!(repo.create_recipe(alice, &new).await, Err(CreateRecipeError::Full)));
    assert_eq!(count_where(repo, "recipes", "owner_user_id", alice.0).await, i64::from(MAX_OWN_RECIPES));
    assert_eq!(
        count_where(repo, "recipe_ingredients", "food_id", last_food.id.0).await,
        2,
        "a refused recipe left rows"
    );

    plan(repo, alice, 1, vec![item(0, Meal::Lunch, last_recipe.id, 100)]).await;
    let one_more =
        NewMealPlan { name: "One more".into(), days: 1, items: vec![item(0, Meal::Lunch, last_recipe.id, 100)] };
    assert!(matches!(repo.create_meal_plan(alice, &one_more).await, Err(CreatePlanError::Full)));
    assert_eq!(count_where(repo, "meal_plans", "owner_user_id", alice.0).await, i64::from(MAX_OWN_MEAL_PLANS));
    let bobs_recipe = recipe(repo, bob, "Bob's", 100, &[(global_food(repo, "Banana").await, 100)]).await;
    plan(repo, bob, 1, vec![item(0, Meal::Lunch, bobs_recipe.id, 100)]).await;
}

/// 8 writers at once, 10 single entries each, onto a day with room for 50:
/// exactly 50 pass, the others are `DayFull` and leave nothing.
pub async fn concurrent_writes_never_pass_a_days_bound(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await.id;
    let oats = global_food(repo, "Oats, rolled").await;
    let room = 50;
    fill(repo, alice, oats, DATE, MAX_DAY_ENTRIES as usize - room).await;
    let [_, _, outbox_before] = footprint(repo, alice).await;
    let repo = Arc::new(repo.clone());
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let repo = repo.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for _ in 0..10 {
                    let one = [entry(DATE, Meal::Snack, LogItem::Food(oats), 100)];
                    outcomes.push(repo.create_log_entries(alice, &one, now()).await.map(|_| ()));
                }
                outcomes
            })
        })
        .collect();
    let mut written = 0;
    for writer in writers {
        for outcome in writer.await.unwrap() {
            match outcome {
                Ok(()) => written += 1,
                Err(CreateLogsError::DayFull { date }) => assert_eq!(date, day(DATE)),
                Err(error) => panic!("{error:?}"),
            }
        }
    }
    assert_eq!(written, room);
    assert_eq!(entries_on(&repo, alice, DATE).await, MAX_DAY_ENTRIES as usize);
    let [entries, _, outbox] = footprint(&repo, alice).await;
    assert_eq!((entries, outbox - outbox_before), (i64::from(MAX_DAY_ENTRIES), room as i64));
    assert_eq!(uses(&repo, alice, oats).await, Some(MAX_DAY_ENTRIES as i32), "a refused write counted a use");
}

/// Moves and creates racing for a day's last places, and creates racing
/// for the last meal plans: never one past either bound.
pub async fn concurrent_moves_and_creates_never_pass_a_bound(repo: &SeaOrmRepository) {
    let alice = user(repo, "mover").await.id;
    let oats = global_food(repo, "Oats, rolled").await;
    fill(repo, alice, oats, DATE, MAX_DAY_ENTRIES as usize - 5).await;
    let elsewhere: Vec<_> = (0..8).map(|_| entry("2026-11-25", Meal::Dinner, LogItem::Food(oats), 100)).collect();
    let movers = repo.create_log_entries(alice, &elsewhere, now()).await.unwrap().value;
    let recipe_id = porridge(repo, alice).await.id;
    own_many(repo, alice, 0, 0, MAX_OWN_MEAL_PLANS - 5).await;

    let repo = Arc::new(repo.clone());
    let mut tasks = Vec::new();
    for (n, mover) in movers.into_iter().enumerate() {
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            let onto: Day = day(DATE);
            let moved = if n % 2 == 0 {
                let patch = LogEntryPatch { date: Some(onto), ..Default::default() };
                repo.update_log_entry(alice, mover.id, patch, now()).await.map(|_| ()).map_err(|e| format!("{e:?}"))
            } else {
                let one = [entry(DATE, Meal::Snack, LogItem::Food(oats), 100)];
                repo.create_log_entries(alice, &one, now()).await.map(|_| ()).map_err(|e| format!("{e:?}"))
            };
            let plan =
                NewMealPlan { name: format!("Plan {n}"), days: 1, items: vec![item(0, Meal::Lunch, recipe_id, 100)] };
            let planned = repo.create_meal_plan(alice, &plan).await.map(|_| ()).map_err(|e| format!("{e:?}"));
            (moved, planned)
        }));
    }
    let (mut moved, mut planned) = (0, 0);
    for task in tasks {
        let (move_outcome, plan_outcome) = task.await.unwrap();
        match move_outcome {
            Ok(()) => moved += 1,
            Err(error) => assert!(error.starts_with("DayFull"), "{error}"),
        }
        match plan_outcome {
            Ok(()) => planned += 1,
            Err(error) => assert_eq!(error, "Full"),
        }
    }
    assert_eq!((moved, planned), (5, 5));
    assert_eq!(entries_on(&repo, alice, DATE).await, MAX_DAY_ENTRIES as usize);
    assert_eq!(count_where(&repo, "meal_plans", "owner_user_id", alice.0).await, i64::from(MAX_OWN_MEAL_PLANS));
}
