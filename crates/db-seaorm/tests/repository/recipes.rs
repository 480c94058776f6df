//! Behaviours of recipes.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{FoodId, Ingredient, NewRecipe, RecipeId};
use macrotrack_ports::{CreateRecipeError, RecipeRepository};

use crate::support::*;

pub async fn recipe_per_serving_is_computed_from_its_foods_and_read_back(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let porridge = porridge(repo, alice.id).await;
    let [calories, protein_g, carbs_g, fat_g] = PORRIDGE_PER_SERVING;
    assert_eq!(porridge.per_serving, macros(calories, protein_g, carbs_g, fat_g)); // 99.83 kcal
    assert_eq!((porridge.name.as_str(), porridge.servings), ("Porridge", hundredths(300)));
    assert_eq!(porridge.ingredients.iter().map(|i| i.servings).collect::<Vec<_>>(), [hundredths(50), hundredths(250)]);
    assert_eq!(repo.recipe(alice.id, porridge.id).await.unwrap(), Some(porridge.clone()));
    assert_eq!(repo.recipe(bob.id, porridge.id).await.unwrap(), None);
    assert_eq!(repo.recipe(alice.id, RecipeId(porridge.id.0 + 1000)).await.unwrap(), None);

    // Ingredients keep their order (here not the food ids' order), and
    // global foods may go in; the same food may appear twice.
    let oats = global_food(repo, "Oats, rolled").await; // 379 kcal, 13.15/67.7/6.52 g
    let milk = porridge.ingredients[1].food_id;
    let mixed = recipe(repo, alice.id, "Mixed", 200, &[(milk, 100), (oats, 100), (milk, 100)]).await;
    let read = repo.recipe(alice.id, mixed.id).await.unwrap().unwrap();
    assert_eq!(read.ingredients.iter().map(|i| i.food_id).collect::<Vec<_>>(), [milk, oats, milk]);
    // (2 × 42 + 379) / 2 = 231.5; (6.8 + 13.15) / 2 = 9.975 → 9.98; (10 + 67.7) / 2 = 38.85; (2 + 6.52) / 2 = 4.26
    assert_eq!(read.per_serving, macros(23150, 998, 3885, 426));
    assert!(mixed.id > porridge.id);
}

pub async fn recipe_with_an_unknown_food_writes_nothing(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let oats = global_food(repo, "Oats, rolled").await;
    let bobs = own_food(repo, bob.id, "Bob's oats", macros(1, 1, 1, 1)).await;
    let new = |foods: &[FoodId]| NewRecipe {
        name: "Nope".to_owned(),
        servings: hundredths(100),
        ingredients: foods.iter().map(|&food_id| Ingredient { food_id, servings: hundredths(100) }).collect(),
    };
    let cases: [(&[FoodId], usize); 3] =
        [(&[oats, FoodId(999_999)], 1), (&[bobs.id, oats], 0), (&[oats, oats, FoodId(999_999), bobs.id], 2)];
    for (foods, index) in cases {
        let error = repo.create_recipe(alice.id, &new(foods)).await.unwrap_err();
        assert!(matches!(error, CreateRecipeError::UnknownFood { index: i } if i == index), "{foods:?}: {error:?}");
    }
    assert_eq!(count_all(repo, "recipes").await, 0);
    assert_eq!(count_all(repo, "recipe_ingredients").await, 0);
    // Bob may use his own food; nothing was left locked.
    repo.create_recipe(bob.id, &new(&[bobs.id, oats])).await.unwrap();
}
