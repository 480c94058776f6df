//! FoodData Central downloads in their real CSV layout: the 2025 full
//! download's columns (`tests/fixtures/fdc`) and SR Legacy 2018's
//! (`tests/fixtures/fdc-sr-legacy`), read as the contract maps them.

mod support;

use std::fs;
use std::path::Path;

use macrotrack_domain::{ImportedFood, SkipReason};
use macrotrack_food_sources::{SourceError, read_fdc};
use support::{TempDir, fixture, portions, split};

fn food<'a>(foods: &'a [ImportedFood], source: &str) -> &'a ImportedFood {
    foods.iter().find(|food| food.source.to_string() == source).unwrap_or_else(|| panic!("no food {source}"))
}

fn macros(food: &ImportedFood) -> [i64; 4] {
    let m = food.per_100g;
    [m.calories, m.protein_g, m.carbs_g, m.fat_g].map(|amount| amount.hundredths())
}

#[test]
fn the_2025_download_maps_every_data_type_as_the_contract_says() {
    let (foods, skipped) = split(read_fdc(&fixture("fdc")).unwrap());
    let sources: Vec<String> = foods.iter().map(|food| food.source.to_string()).collect();
    assert_eq!(
        sources,
        ["fdc:171705", "fdc:746782", "fdc:2345678", "fdc:2700001", "fdc:2700002", "fdc:2700003", "fdc:2700007"],
        "in food.csv's order"
    );

    // Foundation: energy from 2048 before 2047, carbohydrate from 1050
    // when 1005 is absent; portions in seq_num order, named by unit.
    let creme = food(&foods, "fdc:171705");
    assert_eq!((creme.name.as_str(), creme.brand.as_deref(), creme.generic), ("Crème fraîche", None, true));
    assert_eq!(macros(creme), [39300, 240, 290, 4100]);
    assert_eq!(portions(creme), [("1 tbsp", 1500), ("0.5 cup", 11500)]);

    // 1008 wins over 2047 and 1005 over 1050, whatever the rows' order;
    // "Quantity not specified" gives way to amount and unit.
    let milk = food(&foods, "fdc:746782");
    assert_eq!(macros(milk), [6100, 315, 480, 325]);
    assert_eq!(portions(milk), [("1 cup", 24400), ("2 tbsp", 3050)]);

    // Survey: descriptions (embedded quotes undoubled), the modifier when
    // there is none, and a portion weighing nothing dropped.
    let egg = food(&foods, "fdc:2345678");
    assert_eq!(portions(egg), [("1 large", 4600), ("1 medium (3\" dia)", 4000), ("1 egg", 4600)]);

    // Branded: brand name before owner, the GTIN-14, one household portion.
    let jif = food(&foods, "fdc:2700001");
    assert_eq!((jif.brand.as_deref(), jif.generic), (Some("Jif"), false));
    assert_eq!(jif.barcode.map(|gtin| gtin.to_string()).as_deref(), Some("00051500255162"));
    assert_eq!(portions(jif), [("2 Tbsp", 3200)]);

    // The owner when the name is empty; a bad check digit drops the
    // barcode only; "<serving_size> g" when there is no household text.
    let yogurt = food(&foods, "fdc:2700002");
    assert_eq!(yogurt.name, "Yogurt, \"Greek\" style, plain");
    assert_eq!(yogurt.brand.as_deref(), Some("Fage"));
    assert_eq!((yogurt.barcode, yogurt.barcode_rejected), (None, true));
    assert_eq!(portions(yogurt), [("170 g", 17000)]);

    // A serving in ml is no portion.
    let juice = food(&foods, "fdc:2700003");
    assert_eq!(juice.barcode.map(|gtin| gtin.to_string()).as_deref(), Some("00041196910759"));
    assert!(juice.portions.is_empty());

    // A GTIN-8, and a serving unit of g in any case.
    let chips = food(&foods, "fdc:2700007");
    assert_eq!((chips.name.as_str(), chips.brand.as_deref()), ("Jalapeño chips", Some("Acme Snacks")));
    assert_eq!(chips.barcode.map(|gtin| gtin.to_string()).as_deref(), Some("00000096385074"));
    assert_eq!(portions(chips), [("1 oz (about 15 chips)", 2800)]);
    assert_eq!(foods.iter().filter(|food| food.barcode_rejected).count(), 1);

    let reasons: Vec<(&str, SkipReason)> = skipped.iter().map(|skip| (skip.source.as_str(), skip.reason)).collect();
    assert_eq!(
        reasons,
        [
            ("fdc:2700004", SkipReason::OutOfBounds),
            ("fdc:2700005", SkipReason::MissingEnergy),
            ("fdc:2700006", SkipReason::EmptyName),
            ("food.csv line 11", SkipReason::UnreadableRow),
        ]
    );
}

#[test]
fn sr_legacy_2018_has_eleven_nutrient_columns_and_no_branded_foods() {
    let (foods, skipped) = split(read_fdc(&fixture("fdc-sr-legacy")).unwrap());
    assert_eq!(foods.len(), 2);
    let egg = food(&foods, "fdc:171287");
    assert_eq!(macros(egg), [14300, 1256, 72, 951]);
    assert_eq!(portions(egg), [("1 large", 5000), ("1 cup (4.86 large eggs)", 24300)]);
    assert!(foods.iter().all(|food| food.generic && food.brand.is_none() && food.barcode.is_none()));
    assert_eq!(skipped.len(), 1);
    assert_eq!((skipped[0].source.as_str(), skipped[0].reason), ("fdc:173430", SkipReason::MissingEnergy));
}

/// A copy of the 2025 fixture, to break.
fn copy_of_fixture() -> TempDir {
    let dir = TempDir::new("fdc");
    for entry in fs::read_dir(fixture("fdc")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

fn error_of(folder: &Path) -> SourceError {
    read_fdc(folder).expect_err("an error before any food")
}

#[test]
fn a_missing_required_file_is_an_error_naming_it() {
    for required in ["food.csv", "food_nutrient.csv"] {
        let dir = copy_of_fixture();
        fs::remove_file(dir.path().join(required)).unwrap();
        let message = error_of(dir.path()).to_string();
        assert!(message.contains(required), "{message}");
    }
    let message = error_of(Path::new("/nonexistent/fdc")).to_string();
    assert!(message.contains("food.csv"), "{message}");
}

#[test]
fn a_file_without_a_needed_column_is_an_error_naming_both() {
    let dir = copy_of_fixture();
    let nutrients = dir.path().join("food_nutrient.csv");
    let text = fs::read_to_string(&nutrients).unwrap().replacen("\"amount\"", "\"value\"", 1);
    fs::write(&nutrients, text).unwrap();
    let error = error_of(dir.path());
    assert!(matches!(error, SourceError::MissingColumn { column: "amount", .. }), "{error}");
    assert!(error.to_string().contains("food_nutrient.csv"), "{error}");
}

#[test]
fn an_unreadable_optional_file_fails_before_any_food() {
    let dir = copy_of_fixture();
    // Not UTF-8 in the header: not a CSV file the import can read.
    fs::write(dir.path().join("branded_food.csv"), b"\xff\xfe\x00garbage\n").unwrap();
    let message = error_of(dir.path()).to_string();
    assert!(message.contains("branded_food.csv"), "{message}");
}

#[test]
fn optional_files_may_be_absent() {
    let dir = copy_of_fixture();
    for optional in ["food_portion.csv", "measure_unit.csv", "branded_food.csv", "food_category.csv"] {
        fs::remove_file(dir.path().join(optional)).unwrap();
    }
    let (foods, _) = split(read_fdc(dir.path()).unwrap());
    assert_eq!(foods.len(), 7);
    assert!(foods.iter().all(|food| food.portions.is_empty() && food.brand.is_none() && food.barcode.is_none()));
}

#[test]
fn columns_are_found_by_name_in_any_order() {
    let dir = copy_of_fixture();
    // Reverse every row's fields (header included), and drop a column the
    // import does not read.
    for name in ["food.csv", "food_nutrient.csv", "food_portion.csv"] {
        let path = dir.path().join(name);
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let mut writer = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Always).from_writer(Vec::new());
        let headers = reader.headers().unwrap().clone();
        let dropped = headers.iter().position(|header| header == "data_points");
        let reorder = |record: &csv::StringRecord| -> Vec<String> {
            let kept = record.iter().enumerate().filter(|&(index, _)| Some(index) != dropped);
            let mut fields: Vec<String> = kept.map(|(_, field)| field.to_owned()).collect();
            fields.reverse();
            fields
        };
        writer.write_record(reorder(&headers)).unwrap();
        for record in reader.records() {
            writer.write_record(reorder(&record.unwrap())).unwrap();
        }
        fs::write(&path, writer.into_inner().unwrap()).unwrap();
    }
    let (original, _) = split(read_fdc(&fixture("fdc")).unwrap());
    let (reordered, _) = split(read_fdc(dir.path()).unwrap());
    assert_eq!(reordered, original);
}

#[test]
fn a_gzipped_file_is_read_as_its_content() {
    let dir = copy_of_fixture();
    let nutrients = dir.path().join("food_nutrient.csv");
    support::gzip(&nutrients, &nutrients);
    let (foods, _) = split(read_fdc(dir.path()).unwrap());
    assert_eq!(foods.len(), 7);
}
