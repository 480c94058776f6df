//! Behaviours of the food catalogue.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{
    Amount, Food, FoodId, FoodOwner, FoodPatch, FrequentFood, LogItem, Meal, NewFood, check_frequent,
};
use macrotrack_ports::{FoodRepository, LogRepository, RecipeRepository, UpdateFoodError};

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
    let created = repo.create_food(alice.id, &new).await.unwrap().value;
    assert_eq!(created.owner, FoodOwner::User);
    assert_eq!(
        (&created.name, &created.brand, created.serving_size, &created.serving_unit, created.per_serving),
        (&new.name, &new.brand, new.serving_size, &new.serving_unit, new.per_serving)
    );
    assert_eq!(repo.food(alice.id, created.id).await.unwrap(), Some(created.clone()));
    assert_eq!(repo.food(bob.id, created.id).await.unwrap(), None);
    assert_eq!(repo.food(alice.id, FoodId(created.id.0 + 1000)).await.unwrap(), None);

    let bobs = repo.create_food(bob.id, &NewFood { brand: None, ..bar("Bob's bar") }).await.unwrap().value;
    assert_eq!(bobs.brand, None);
    assert_eq!(repo.food(alice.id, bobs.id).await.unwrap(), None);
    assert_eq!(repo.food(bob.id, bobs.id).await.unwrap(), Some(bobs));
}

fn names(foods: &[Food]) -> Vec<&str> {
    foods.iter().map(|food| food.name.as_str()).collect()
}

pub async fn search_is_case_and_diacritic_insensitive_over_visible_foods(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let per = macros(100, 100, 100, 100);
    let shake = own_food(repo, alice.id, "protein shake", per).await;
    let bar = own_food(repo, alice.id, "Protein Bar", per).await;
    let twin = own_food(repo, alice.id, "Protein Bar", per).await;
    own_food(repo, bob.id, "Bob's PROTEIN", per).await;
    own_food(repo, alice.id, "Äpfel Crumble", per).await;

    // Equal folded names by id (the contract's order ends with them).
    let found = repo.search_foods(alice.id, "PROTEIN", 20).await.unwrap();
    assert_eq!(found.iter().map(|food| food.id).collect::<Vec<_>>(), [bar.id, twin.id, shake.id]);
    assert!(found.iter().all(|food| food.owner == FoodOwner::User));
    assert_eq!(names(&repo.search_foods(alice.id, "in sh", 20).await.unwrap()), ["protein shake"]);
    assert_eq!(names(&repo.search_foods(bob.id, "protein", 20).await.unwrap()), ["Bob's PROTEIN"]);
    // Global foods, and letters beyond ASCII on both backends.
    let oats = repo.search_foods(bob.id, "oATS", 20).await.unwrap();
    assert_eq!((names(&oats), oats[0].owner), (vec!["Oats, rolled"], FoodOwner::Global));
    for query in ["äpfel", "ÄPFEL", "Äpf"] {
        assert_eq!(names(&repo.search_foods(alice.id, query, 20).await.unwrap()), ["Äpfel Crumble"], "{query}");
    }
    assert!(repo.search_foods(bob.id, "äpfel", 20).await.unwrap().is_empty());
    assert!(repo.search_foods(alice.id, "no such food", 20).await.unwrap().is_empty());

    // An empty query lists every visible food, the user's own first, up to
    // the limit.
    let all = repo.search_foods(alice.id, "", 100).await.unwrap();
    assert_eq!(all.len(), global_foods(repo).await.len() + 4);
    assert!(all[..4].iter().all(|food| food.owner == FoodOwner::User), "{:?}", names(&all));
    assert!(all[4..].iter().all(|food| food.owner == FoodOwner::Global), "{:?}", names(&all));
    assert!(!names(&all).contains(&"Bob's PROTEIN"));
    assert_eq!(repo.search_foods(alice.id, "", 3).await.unwrap(), all[..3]);
    assert_eq!(repo.search_foods(alice.id, "protein", 1).await.unwrap(), std::slice::from_ref(&bar));
}

pub async fn search_matches_wildcards_literally(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let per = macros(100, 100, 100, 100);
    for name in ["100% Juice", "1000 Island", "snack_bar", "snackXbar", r"back\slash", "backslash"] {
        own_food(repo, alice.id, name, per).await;
    }
    let visible = repo.search_foods(alice.id, "", 100).await.unwrap();
    // (query, a name it must find, one it must not)
    let cases = [
        ("%", "100% Juice", "1000 Island"),
        ("0%", "100% Juice", "1000 Island"),
        ("_", "snack_bar", "snackXbar"),
        ("k_b", "snack_bar", "snackXbar"),
        (r"\", r"back\slash", "backslash"),
        (r"k\s", r"back\slash", "backslash"),
    ];
    for (query, hit, miss) in cases {
        let found = repo.search_foods(alice.id, query, 100).await.unwrap();
        // The seeded catalogue has names with "%" too; every food found
        // holds the query as written, and every such food is found.
        let expected: Vec<&Food> = visible.iter().filter(|food| food.name.contains(query)).collect();
        assert_eq!(found.iter().collect::<Vec<_>>(), expected, "{query}");
        assert!(names(&found).contains(&hit) && !names(&found).contains(&miss), "{query}: {:?}", names(&found));
    }
}

pub async fn frequent_foods_order_by_uses_then_id_and_forget_unused(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let per = macros(100, 100, 100, 100);
    let a = own_food(repo, alice.id, "A", per).await;
    let b = own_food(repo, alice.id, "B", per).await;
    let oats = repo.food(alice.id, global_food(repo, "Oats, rolled").await).await.unwrap().unwrap();
    let date = "2026-11-24";
    let mut logged = Vec::new();
    // a and oats tie at 3 uses (a's id is lower), b has 1.
    for (food, times) in [(&oats, 3), (&b, 1), (&a, 3)] {
        for _ in 0..times {
            let batch = [entry(date, Meal::Lunch, LogItem::Food(food.id), 100)];
            logged.extend(repo.create_log_entries(alice.id, &batch, now()).await.unwrap().value);
        }
    }
    let frequent = |foods: &[(&Food, u32)]| -> Vec<FrequentFood> {
        foods.iter().map(|&(food, uses)| FrequentFood { food: food.clone(), uses }).collect()
    };
    let (first, second) = if a.id < oats.id { (&a, &oats) } else { (&oats, &a) };
    let listed = repo.frequent_foods(alice.id, 20).await.unwrap();
    assert_eq!(listed, frequent(&[(first, 3), (second, 3), (&b, 1)]));
    assert_eq!(check_frequent(&listed), Ok(()));
    assert_eq!(repo.frequent_foods(alice.id, 2).await.unwrap(), frequent(&[(first, 3), (second, 3)]));
    assert!(repo.frequent_foods(bob.id, 20).await.unwrap().is_empty());

    // Deleting entries takes uses back; b's last one makes it disappear.
    let b_entry = logged.iter().find(|entry| entry.food_id == Some(b.id)).unwrap();
    repo.delete_log_entry(alice.id, b_entry.id).await.unwrap().unwrap();
    let a_entry = logged.iter().find(|entry| entry.food_id == Some(a.id)).unwrap();
    repo.delete_log_entry(alice.id, a_entry.id).await.unwrap().unwrap();
    assert_eq!(repo.frequent_foods(alice.id, 20).await.unwrap(), frequent(&[(&oats, 3), (&a, 2)]));
    assert_eq!(uses(repo, alice.id, b.id).await.unwrap_or(0), 0);
}

pub async fn editing_a_food_moves_its_recipes_not_its_entries(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let recipe = porridge(repo, alice.id).await;
    let oats = recipe.ingredients[0].food_id;
    let logged = repo
        .create_log_entries(alice.id, &[entry("2026-11-24", Meal::Breakfast, LogItem::Food(oats), 100)], now())
        .await
        .unwrap();
    let outbox_rows = count_all(repo, "cache_outbox").await;

    let patch = FoodPatch {
        name: Some("Steel-cut oats".into()),
        brand: Some(Some("Mill".into())),
        calories: Some(hundredths(40000)),
        ..FoodPatch::default()
    };
    let edited = repo.update_food(alice.id, oats, &patch, None).await.unwrap();
    assert_eq!((edited.value.name.as_str(), edited.value.brand.as_deref()), ("Steel-cut oats", Some("Mill")));
    assert_eq!(edited.value.per_serving.calories, hundredths(40000));
    assert_eq!(edited.value.per_serving.protein_g, hundredths(1690), "untouched fields stay");
    assert_eq!(repo.food(alice.id, oats).await.unwrap(), Some(edited.value.clone()));
    assert_eq!(count_all(repo, "cache_outbox").await, outbox_rows + 1, "an outbox row in the same transaction");
    // Search finds it by its new name (the folded name follows).
    assert_eq!(repo.search_foods(alice.id, "STEEL", 5).await.unwrap(), std::slice::from_ref(&edited.value));
    // The recipe follows: (0.5 × 400 + 2.5 × 42) / 3 = 101.67 kcal.
    let now_recipe = repo.recipe(alice.id, recipe.id).await.unwrap().unwrap();
    assert_eq!(now_recipe.per_serving.calories, hundredths(10167));
    assert_eq!(now_recipe.per_serving.protein_g, recipe.per_serving.protein_g);
    // The entry keeps its snapshot.
    let day = repo.day_logs(alice.id, day("2026-11-24")).await.unwrap();
    assert_eq!(day.entries, logged.value);

    // Clearing the brand; another user's food, a global one, a missing one.
    let cleared =
        repo.update_food(alice.id, oats, &FoodPatch { brand: Some(None), ..FoodPatch::default() }, None).await;
    assert_eq!(cleared.unwrap().value.brand, None);
    let global = global_food(repo, "Banana").await;
    let rows = count_all(repo, "cache_outbox").await;
    for (owner, food, global_expected) in
        [(bob.id, oats, false), (alice.id, global, true), (alice.id, FoodId(999_999), false)]
    {
        match repo.update_food(owner, food, &patch, None).await {
            Err(UpdateFoodError::Global) if global_expected => {}
            Err(UpdateFoodError::NotFound) if !global_expected => {}
            other => panic!("{food:?} of {owner:?}: {other:?}"),
        }
    }
    assert_eq!(count_all(repo, "cache_outbox").await, rows, "a refused edit writes no row");
    assert_eq!(repo.food(bob.id, global).await.unwrap().map(|food| food.name), Some("Banana".to_owned()));
}

/// Two edits of one food at once, one of its name and one of its calories,
/// 200 times: both stay every time (reading the row and writing every
/// column back lost one in most rounds on PostgreSQL), and its recipe
/// follows the last calories.
pub async fn concurrent_edits_of_different_fields_both_stay(repo: &SeaOrmRepository) {
    let alice = user(repo, "editor").await.id;
    let food = own_food(repo, alice, "Oats", macros(10000, 0, 0, 0)).await.id;
    let soup = recipe(repo, alice, "Soup", 100, &[(food, 100)]).await.id;
    let mut lost = Vec::new();
    for round in 1..=200 {
        let name = FoodPatch { name: Some(format!("Oats {round}")), ..FoodPatch::default() };
        let calories = FoodPatch { calories: Some(hundredths(round)), ..FoodPatch::default() };
        let (named, counted) =
            tokio::join!(repo.update_food(alice, food, &name, None), repo.update_food(alice, food, &calories, None));
        named.unwrap();
        counted.unwrap();
        let stored = repo.food(alice, food).await.unwrap().unwrap();
        if stored.name != format!("Oats {round}") || stored.per_serving.calories != hundredths(round) {
            lost.push(round);
        }
    }
    assert!(lost.is_empty(), "{} of 200 rounds lost an edit: {lost:?}", lost.len());
    let soup = repo.recipe(alice, soup).await.unwrap().unwrap();
    assert_eq!(soup.per_serving.calories, hundredths(200), "the recipe follows its food");
}

/// Two edits that expect the same state, at once, 50 times: exactly one
/// applies and the other finds the food changed under the lock; an edit
/// expecting a state the food is not in writes nothing, not even a row.
pub async fn edits_expecting_one_state_apply_once(repo: &SeaOrmRepository) {
    let alice = user(repo, "conditional").await.id;
    let food = own_food(repo, alice, "Oats", macros(10000, 0, 0, 0)).await.id;
    for round in 1..=50 {
        let seen = repo.food(alice, food).await.unwrap().unwrap();
        let name = FoodPatch { name: Some(format!("Oats {round}")), ..FoodPatch::default() };
        let calories = FoodPatch { calories: Some(hundredths(round)), ..FoodPatch::default() };
        let (named, counted) = tokio::join!(
            repo.update_food(alice, food, &name, Some(seen.clone())),
            repo.update_food(alice, food, &calories, Some(seen.clone())),
        );
        let stored = repo.food(alice, food).await.unwrap().unwrap();
        match (named, counted) {
            (Ok(won), Err(UpdateFoodError::Changed)) | (Err(UpdateFoodError::Changed), Ok(won)) => {
                assert_eq!(won.value, stored, "round {round}: the winner's edit is what is stored");
            }
            other => panic!("round {round}: not exactly one edit applied: {other:?}"),
        }
    }
    let rows = count_all(repo, "cache_outbox").await;
    let stale = FoodPatch { name: Some("Stale".into()), ..FoodPatch::default() };
    let before = repo.food(alice, food).await.unwrap().unwrap();
    let expected = Food { name: "Oats".into(), ..before.clone() };
    assert!(matches!(repo.update_food(alice, food, &stale, Some(expected)).await, Err(UpdateFoodError::Changed)));
    assert_eq!(repo.food(alice, food).await.unwrap(), Some(before));
    assert_eq!(count_all(repo, "cache_outbox").await, rows, "a refused edit writes no row");
}
