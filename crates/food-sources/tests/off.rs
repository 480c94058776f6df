//! Open Food Facts' JSONL export (`tests/fixtures/off/products.jsonl`),
//! plain and gzipped.

mod support;

use std::fs;

use macrotrack_domain::{ImportedFood, SkipReason};
use macrotrack_food_sources::read_off;
use support::{TempDir, fixture, gzip, portions, split};

fn check_products(foods: &[ImportedFood], skipped: &[macrotrack_domain::Skipped]) {
    let sources: Vec<String> = foods.iter().map(|food| food.source.to_string()).collect();
    assert_eq!(sources, ["off:3017620422003", "off:3033490506629", "off:5449000000996", "off:1234567890"]);
    assert!(foods.iter().all(|food| !food.generic), "every Open Food Facts product is branded");

    let nutella = &foods[0];
    assert_eq!((nutella.name.as_str(), nutella.brand.as_deref()), ("Nutella", Some("Ferrero")));
    assert_eq!(nutella.barcode.map(|gtin| gtin.to_string()).as_deref(), Some("03017620422003"));
    let m = nutella.per_100g;
    assert_eq!([m.calories, m.protein_g, m.carbs_g, m.fat_g].map(|a| a.hundredths()), [53900, 630, 5750, 3090]);
    assert_eq!(portions(nutella), [("15 g", 1500)]);

    // Numbers written as strings; the first brand, trimmed; grams within
    // a serving's text.
    let creme = &foods[1];
    assert_eq!((creme.name.as_str(), creme.brand.as_deref()), ("Crème fraîche épaisse", Some("Président")));
    assert_eq!(creme.per_100g.calories.hundredths(), 29200);
    assert_eq!(portions(creme), [("1 c. à soupe (15g)", 1500)]);

    assert!(foods[2].portions.is_empty(), "a serving in ml is no portion");

    // A code that is no GTIN: imported without a barcode, counted.
    let granola = &foods[3];
    assert_eq!((granola.name.as_str(), granola.brand.as_deref()), ("Granola \"maison\"", None));
    assert_eq!((granola.barcode, granola.barcode_rejected), (None, true));

    let reasons: Vec<(&str, SkipReason)> = skipped.iter().map(|skip| (skip.source.as_str(), skip.reason)).collect();
    assert_eq!(
        reasons,
        [
            ("off:7613035068704", SkipReason::MissingEnergy),
            ("off:3228857000166", SkipReason::OutOfBounds),
            ("line 8", SkipReason::BadSourceId),
            ("line 9", SkipReason::UnreadableRow),
            ("off:96385074", SkipReason::EmptyName),
        ]
    );
}

#[test]
fn products_map_as_the_contract_says() {
    let (foods, skipped) = split(read_off(&fixture("off/products.jsonl")).unwrap());
    check_products(&foods, &skipped);
}

#[test]
fn a_gzipped_export_reads_the_same() {
    let dir = TempDir::new("off");
    let gzipped = dir.path().join("products.jsonl.gz");
    gzip(&fixture("off/products.jsonl"), &gzipped);
    let (foods, skipped) = split(read_off(&gzipped).unwrap());
    check_products(&foods, &skipped);
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let dir = TempDir::new("off-missing");
    let missing = dir.path().join("openfoodfacts-products.jsonl.gz");
    let message = read_off(&missing).expect_err("an error").to_string();
    assert!(message.contains("openfoodfacts-products.jsonl.gz"), "{message}");
    let message = read_off(dir.path()).expect_err("a folder is no export").to_string();
    assert!(message.contains("not a file"), "{message}");
}

#[test]
fn a_truncated_gzip_ends_with_an_error_naming_the_file() {
    let dir = TempDir::new("off-truncated");
    let gzipped = dir.path().join("products.jsonl.gz");
    gzip(&fixture("off/products.jsonl"), &gzipped);
    let bytes = fs::read(&gzipped).unwrap();
    fs::write(&gzipped, &bytes[..bytes.len() - 20]).unwrap();
    let entries: Vec<_> = read_off(&gzipped).unwrap().collect();
    let (last, before) = entries.split_last().unwrap();
    assert!(before.iter().all(Result::is_ok), "only the last item is the failure");
    let message = last.as_ref().expect_err("the failure is reported").to_string();
    assert!(message.contains("products.jsonl.gz"), "{message}");
}
