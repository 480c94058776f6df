//! Behaviours of food search as the contract ranks it, over imported,
//! seeded and users' own foods.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{Food, FoodSource, ImportedFood, LogItem, Meal};
use macrotrack_ports::{CatalogueImport, FoodRepository, LogRepository};

use crate::support::*;

fn imported(fdc_id: u64, name: &str, brand: Option<&str>, generic: bool) -> ImportedFood {
    ImportedFood {
        source: FoodSource::Fdc(fdc_id),
        name: name.to_owned(),
        brand: brand.map(str::to_owned),
        generic,
        barcode: None,
        barcode_rejected: false,
        per_100g: macros(6100, 320, 480, 330),
        portions: Vec::new(),
    }
}

fn names(foods: &[Food]) -> Vec<&str> {
    foods.iter().map(|food| food.name.as_str()).collect()
}

pub async fn search_ranks_own_and_logged_then_first_word_then_generic_then_fewer_words(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await.id;
    let bob = user(repo, "bob").await.id;
    let batch = [
        imported(1, "Buttermilk biscuits", None, true),
        imported(2, "Milk, whole, 3.25% milkfat", None, true),
        imported(3, "Milk, lowfat", None, true),
        imported(4, "Milk chocolate", Some("Hershey"), false),
        imported(5, "Oat drink", Some("Milky Way Farms"), false),
        imported(6, "Crème fraîche", None, true),
        imported(7, "Chicken breast, roasted", None, true),
        imported(8, "Chicken breast tenders", Some("Tyson"), false),
        imported(9, "Breaded chicken", None, true),
    ];
    repo.upsert_imported_foods(&batch, now()).await.unwrap();
    let found = |user, query: &'static str| async move { repo.search_foods(user, query, 100).await.unwrap() };

    // First word, then generic before branded, then fewer words, then the
    // folded name; every word in name or brand ("Milky Way Farms" is a
    // brand). "Milk, skim" and "Milk, whole" are of the seed.
    let milk = [
        "Milk, lowfat",
        "Milk, skim",
        "Milk, whole",
        "Milk, whole, 3.25% milkfat",
        "Milk chocolate",
        "Buttermilk biscuits",
        "Oat drink",
    ];
    assert_eq!(names(&found(alice, "milk").await), milk);
    let breast = ["Chicken breast, roasted", "Chicken breast, skinless, roasted", "Chicken breast tenders"];
    assert_eq!(names(&found(alice, "chicken breast").await), breast);
    // Case and diacritics do not matter, on either side; words are substrings.
    assert_eq!(names(&found(alice, "CREME").await), ["Crème fraîche"]);
    assert_eq!(names(&found(alice, "fraiche crè").await), ["Crème fraîche"]);
    let hick = found(alice, "hick").await;
    // No name starts with "hick": generic ones by fewer words, then the
    // folded name ("Chickpeas, cooked" is of the seed), then the branded.
    assert_eq!(names(&hick), ["Breaded chicken", "Chickpeas, cooked", breast[0], breast[1], breast[2]]);
    // Short words (no trigram) still match.
    assert_eq!(names(&found(alice, "mi lo").await), ["Milk, lowfat"]);
    // A word must occur within the name or within the brand, not across them.
    assert!(found(alice, "chocolatehershey").await.is_empty());

    // The user's own foods and those they logged come first, most uses first.
    let own = own_food(repo, alice, "Almond milk", macros(100, 100, 100, 100)).await;
    let lowfat = found(alice, "milk lowfat").await[0].id;
    let entries = [
        entry("2026-11-24", Meal::Breakfast, LogItem::Food(lowfat), 100),
        entry("2026-11-24", Meal::Lunch, LogItem::Food(lowfat), 100),
    ];
    repo.create_log_entries(alice, &entries, now()).await.unwrap();
    let ranked = found(alice, "milk").await;
    assert_eq!(names(&ranked)[..4], ["Milk, lowfat", "Almond milk", "Milk, skim", "Milk, whole"]);
    assert_eq!(ranked[1].id, own.id);
    // Bob's search is his own: Alice's food and uses do not show.
    assert_eq!(names(&found(bob, "milk").await), milk);
}
