//! Behaviours of the food catalogue.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{Amount, FoodId, FoodOwner, NewFood};
use macrotrack_ports::FoodRepository;

use crate::support::*;

pub async fn seed_catalogue_is_visible_to_every_user(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let globals = global_foods(repo).await;
    assert!(globals.len() >= 30, "only {} global foods", globals.len());
    for name in
        ["Oats, rolled", "Chicken breast, skinless, roasted", "Rice, white, cooked", "Egg, whole, raw", "Banana"]
    {
        assert!(globals.iter().any(|food| food.name == name), "{name} missing from the catalogue");
    }
    for model in globals {
        for reader in [alice.id, bob.id] {
            let found = repo.food(reader, FoodId(model.id)).await.unwrap();
            let food = found.unwrap_or_else(|| panic!("{} invisible to user {reader}", model.name));
            assert_eq!(food.owner, FoodOwner::Global);
            assert_eq!((food.serving_size, food.serving_unit.as_str()), (hundredths(10000), "g"), "{}", food.name);
            assert!(food.per_serving.calories > Amount::ZERO, "{}", food.name);
        }
    }
}

pub async fn own_food_is_invisible_to_other_users(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let new = bar("Alice's bar");
    let created = repo.create_food(alice.id, &new).await.unwrap();
    assert_eq!(created.owner, FoodOwner::User);
    assert_eq!(
        (&created.name, &created.brand, created.serving_size, &created.serving_unit, created.per_serving),
        (&new.name, &new.brand, new.serving_size, &new.serving_unit, new.per_serving)
    );
    assert_eq!(repo.food(alice.id, created.id).await.unwrap(), Some(created.clone()));
    assert_eq!(repo.food(bob.id, created.id).await.unwrap(), None);
    assert_eq!(repo.food(alice.id, FoodId(created.id.0 + 1000)).await.unwrap(), None);

    let bobs = repo.create_food(bob.id, &NewFood { brand: None, ..bar("Bob's bar") }).await.unwrap();
    assert_eq!(bobs.brand, None);
    assert_eq!(repo.food(alice.id, bobs.id).await.unwrap(), None);
    assert_eq!(repo.food(bob.id, bobs.id).await.unwrap(), Some(bobs));
}
