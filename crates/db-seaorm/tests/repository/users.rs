//! Behaviours of users and credentials.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_db_seaorm::entities::{food, food_use};
use macrotrack_domain::{LogItem, Meal, UserId};
use macrotrack_ports::{FoodRepository, LogRepository, StoredCredential, UserRepository};
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
    let alices = repo.create_food(alice.id, &bar("Alice's bar")).await.unwrap();
    let oats = LogItem::Food(global_food(repo, "Oats, rolled").await);
    let date = "2026-11-24";
    for who in [alice.id, bob.id] {
        repo.create_log_entries(who, &[entry(date, Meal::Lunch, oats, 100)], now()).await.unwrap();
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
