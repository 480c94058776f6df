//! Behaviours of users and credentials.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_db_seaorm::entities::{food, food_use};
use macrotrack_domain::{LogItem, Meal, UserId};
use macrotrack_ports::{
    CompletionRepository, FoodRepository, LogRepository, PlanRepository, StoredCredential, UserRepository,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::support::*;

pub async fn credential_lookup_finds_the_stored_hash_only(repo: &SeaOrmRepository) {
    let hash: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(200));
    let alice = repo.create_user("alice", "sel_alice", hash).await.unwrap();
    let bob = repo.create_user("bob", "sel_bob", [0; 32]).await.unwrap();
    assert_eq!(
        repo.credential("sel_alice").await.unwrap(),
        Some(StoredCredential { user: alice.id, secret_hash: hash })
    );
    assert_eq!(
        repo.credential("sel_bob").await.unwrap(),
        Some(StoredCredential { user: bob.id, secret_hash: [0; 32] })
    );
    assert_eq!(repo.credential("sel_nobody").await.unwrap(), None);
    assert_eq!(repo.credential("SEL_ALICE").await.unwrap(), None);
}

pub async fn user_ids_are_never_reused(repo: &SeaOrmRepository) {
    let first = user(repo, "first").await;
    let highest = user(repo, "second").await;
    assert!(highest.id > first.id);
    repo.connection().execute_unprepared(&format!("DELETE FROM users WHERE id = {}", highest.id)).await.unwrap();
    assert_eq!(repo.user(highest.id).await.unwrap(), None);
    let next = user(repo, "third").await;
    assert!(next.id > highest.id, "id {} was handed out again", next.id);
}

pub async fn a_users_time_zone_is_utc_until_set(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    assert_eq!(alice.timezone, macrotrack_domain::TimeZone::UTC);
    let auckland = macrotrack_domain::TimeZone::parse("Pacific/Auckland").unwrap();
    assert!(repo.set_timezone(alice.id, auckland).await.unwrap().is_some());
    assert_eq!(repo.user(alice.id).await.unwrap().unwrap().timezone, auckland);
    assert_eq!(repo.set_timezone(UserId(alice.id.0 + 1000), auckland).await.unwrap(), None);
}

pub async fn new_user_has_no_targets_until_all_four_are_set(repo: &SeaOrmRepository) {
    let alice = repo.create_user("Alice Example", "sel_alice", [9; 32]).await.unwrap();
    assert_eq!((alice.name.as_str(), alice.targets), ("Alice Example", None));
    assert_eq!(repo.user(alice.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(repo.user(UserId(alice.id.0 + 1000)).await.unwrap(), None);

    let set = |columns: &str| format!("UPDATE users SET {columns} WHERE id = {}", alice.id);
    repo.connection()
        .execute_unprepared(&set("target_calories = 200000, target_protein_g = 15050, target_carbs_g = 25000"))
        .await
        .unwrap();
    assert_eq!(repo.user(alice.id).await.unwrap().unwrap().targets, None);
    repo.connection().execute_unprepared(&set("target_fat_g = 7001")).await.unwrap();
    assert_eq!(repo.user(alice.id).await.unwrap().unwrap().targets, Some(macros(200000, 15050, 25000, 7001)));
}

/// The schema lets `DELETE /v1/me` be one statement: log entries refer to
/// the user's own foods without a cascade of their own, yet go with them.
pub async fn deleting_a_user_cascades_to_their_data(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let alices = repo.create_food(alice.id, &bar("Alice's bar")).await.unwrap().value;
    let oats = LogItem::Food(global_food(repo, "Oats, rolled").await);
    let date = "2026-11-24";
    for who in [alice.id, bob.id] {
        repo.create_log_entries(who, &[entry(date, Meal::Lunch, oats.clone(), 100)], now()).await.unwrap();
    }
    repo.create_log_entries(alice.id, &[entry(date, Meal::Snack, LogItem::Food(alices.id), 100)], now()).await.unwrap();

    repo.connection().execute_unprepared(&format!("DELETE FROM users WHERE id = {}", alice.id)).await.unwrap();
    assert_eq!(repo.user(alice.id).await.unwrap(), None);
    assert_eq!(repo.food(bob.id, alices.id).await.unwrap(), None);
    assert!(food::Entity::find_by_id(alices.id.0).one(repo.connection()).await.unwrap().is_none());
    assert!(repo.day_logs(alice.id, day(date)).await.unwrap().entries.is_empty());
    assert_eq!(
        food_use::Entity::find().filter(food_use::Column::UserId.eq(alice.id.0)).all(repo.connection()).await.unwrap(),
        vec![]
    );
    assert_eq!(repo.day_logs(bob.id, day(date)).await.unwrap().entries.len(), 1);
    assert!(global_foods(repo).await.len() >= 30);
}

pub async fn targets_are_set_and_read_back(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    assert!(repo.set_targets(alice.id, macros(200000, 15050, 25000, 7001)).await.unwrap().is_some());
    assert_eq!(repo.user(alice.id).await.unwrap().unwrap().targets, Some(macros(200000, 15050, 25000, 7001)));
    // Overwriting, zeros included.
    assert!(repo.set_targets(alice.id, macros(180000, 0, 1, 100000)).await.unwrap().is_some());
    assert_eq!(repo.user(alice.id).await.unwrap().unwrap().targets, Some(macros(180000, 0, 1, 100000)));
    assert_eq!(repo.user(bob.id).await.unwrap().unwrap().targets, None);
    assert!(repo.set_targets(UserId(bob.id.0 + 1000), macros(1, 1, 1, 1)).await.unwrap().is_none());
}

/// Every table holding a user's data, with the column naming the user.
const USER_TABLES: [(&str, &str); 9] = [
    ("foods", "owner_user_id"),
    ("food_uses", "user_id"),
    ("log_entries", "user_id"),
    ("day_completions", "user_id"),
    ("recipes", "owner_user_id"),
    ("meal_plans", "owner_user_id"),
    ("scheduled_plans", "user_id"),
    ("scheduled_meals", "user_id"),
    ("users", "id"),
];

/// Gives `who` one of everything: an own food, a recipe, food and recipe
/// log entries (so use counts), a completion, a plan and its schedule.
async fn everything(repo: &SeaOrmRepository, who: UserId) {
    let porridge = porridge(repo, who).await;
    let oats = LogItem::Food(global_food(repo, "Oats, rolled").await);
    let date = "2026-11-24";
    let batch =
        [entry(date, Meal::Lunch, oats.clone(), 100), entry(date, Meal::Dinner, LogItem::Recipe(porridge.id), 100)];
    repo.create_log_entries(who, &batch, now()).await.unwrap();
    repo.complete_day(who, day(date)).await.unwrap();
    let plan =
        plan(repo, who, 2, vec![item(0, Meal::Dinner, porridge.id, 100), item(1, Meal::Lunch, porridge.id, 50)]).await;
    repo.schedule_meal_plan(who, plan.id, day(date)).await.unwrap();
}

pub async fn delete_user_removes_everything_of_theirs_only(repo: &SeaOrmRepository) {
    // Alice is the newest user, so reusing her id would be the easy mistake.
    let bob = user(repo, "bob").await;
    let alice = user(repo, "alice").await;
    everything(repo, alice.id).await;
    everything(repo, bob.id).await;
    let mut bobs = Vec::new();
    for (table, column) in USER_TABLES {
        assert!(count_where(repo, table, column, alice.id.0).await > 0, "alice has no {table}");
        bobs.push(count_where(repo, table, column, bob.id.0).await);
    }
    let children = ["recipe_ingredients", "meal_plan_items"];
    let bobs_children = [count_all(repo, children[0]).await / 2, count_all(repo, children[1]).await / 2];

    assert!(repo.delete_user(alice.id).await.unwrap().is_some());
    for (table, column) in USER_TABLES {
        assert_eq!(count_where(repo, table, column, alice.id.0).await, 0, "alice's {table} remain");
    }
    for ((table, column), before) in USER_TABLES.into_iter().zip(bobs) {
        assert_eq!(count_where(repo, table, column, bob.id.0).await, before, "bob's {table} changed");
    }
    // Ingredients and plan items go with their recipes and plans.
    for (table, bobs) in children.into_iter().zip(bobs_children) {
        assert_eq!(count_all(repo, table).await, bobs, "{table}");
    }
    assert_eq!(repo.user(alice.id).await.unwrap(), None);
    assert_eq!(repo.credential("sel_alice").await.unwrap(), None);
    assert!(global_foods(repo).await.len() >= 30);
    assert_eq!(repo.schedule_day(bob.id, day("2026-11-24")).await.unwrap().meals.len(), 1);

    assert!(repo.delete_user(alice.id).await.unwrap().is_none());
    let next = user(repo, "carol").await;
    assert!(next.id > alice.id, "id {} was handed out again", next.id);
}
