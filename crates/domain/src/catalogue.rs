//! Foods imported into the global catalogue from public data sets (USDA
//! FoodData Central, Open Food Facts): what a source row becomes, the
//! contract's rules for it, and why a row is skipped.
//!
//! Readers of the files (crate `macrotrack-food-sources`) extract raw values
//! into an [`ImportedFoodInput`]; [`ImportedFood::from_input`] applies the
//! rules here, so both sources are held to the same ones.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::validation::{CALORIES, GRAMS, SERVING_SIZE};
use crate::{Amount, Gtin, Macros};

/// The longest name or brand kept, in Unicode scalar values (the food
/// bounds' name length); longer descriptions are cut, not refused.
pub const MAX_IMPORTED_TEXT: usize = 200;

/// Where an imported food comes from. Its text (`fdc:<fdc_id>`,
/// `off:<code>`) is the key a later import of the same source matches on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FoodSource {
    /// A USDA FoodData Central food, by its `fdc_id`.
    Fdc(u64),
    /// An Open Food Facts product, by its `code`.
    OpenFoodFacts(String),
}

impl FoodSource {
    /// An Open Food Facts code as a source id: 1 to 100 visible ASCII
    /// characters, since it is stored as a unique key and shown in the
    /// API's `source`.
    pub fn open_food_facts(code: &str) -> Result<FoodSource, SkipReason> {
        let visible = code.bytes().all(|byte| byte.is_ascii_graphic());
        if code.is_empty() || code.len() > 100 || !visible {
            return Err(SkipReason::BadSourceId);
        }
        Ok(FoodSource::OpenFoodFacts(code.to_owned()))
    }
}

impl fmt::Display for FoodSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FoodSource::Fdc(id) => write!(f, "fdc:{id}"),
            FoodSource::OpenFoodFacts(code) => write!(f, "off:{code}"),
        }
    }
}

/// Why a source row did not become a food. Each reason is one line of the
/// import's summary, so its label must not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The name is empty once trimmed.
    EmptyName,
    /// No energy value (nutrients 1008, 2048 and 2047 all absent).
    MissingEnergy,
    /// No protein value (nutrient 1003).
    MissingProtein,
    /// No fat value (nutrient 1004).
    MissingFat,
    /// No carbohydrate value (nutrients 1005 and 1050 absent).
    MissingCarbs,
    /// A macro per 100 g outside the food bounds.
    OutOfBounds,
    /// The id the source gives the food cannot be a source id.
    BadSourceId,
    /// The row could not be read (malformed CSV or JSON, a bad number in a
    /// key column).
    UnreadableRow,
}

impl SkipReason {
    /// Every reason, in the order the summary lists them.
    pub const ALL: [SkipReason; 8] = [
        SkipReason::EmptyName,
        SkipReason::MissingEnergy,
        SkipReason::MissingProtein,
        SkipReason::MissingFat,
        SkipReason::MissingCarbs,
        SkipReason::OutOfBounds,
        SkipReason::BadSourceId,
        SkipReason::UnreadableRow,
    ];

    /// The words of its summary line (`missing energy 12`).
    pub const fn label(self) -> &'static str {
        match self {
            SkipReason::EmptyName => "empty name",
            SkipReason::MissingEnergy => "missing energy",
            SkipReason::MissingProtein => "missing protein",
            SkipReason::MissingFat => "missing fat",
            SkipReason::MissingCarbs => "missing carbohydrate",
            SkipReason::OutOfBounds => "out of bounds",
            SkipReason::BadSourceId => "bad source id",
            SkipReason::UnreadableRow => "unreadable row",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A source row that was skipped, for the summary's counts and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The row's source id (`fdc:123`), or where it is when it has none
    /// (`food.csv line 17`).
    pub source: String,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// What a reader found for one source food, before the contract's rules.
/// `None` is a value the source does not give.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFoodInput {
    /// The food's source id.
    pub source: FoodSource,
    /// The description or product name, as found.
    pub name: String,
    /// The brand the source's rule picked (brand name, else owner).
    pub brand: Option<String>,
    /// False for branded foods.
    pub generic: bool,
    /// The barcode text as found (trimmed), when the source gives one.
    pub barcode: Option<String>,
    /// Energy in kcal per 100 g.
    pub calories: Option<f64>,
    /// Protein in g per 100 g.
    pub protein_g: Option<f64>,
    /// Carbohydrate in g per 100 g.
    pub carbs_g: Option<f64>,
    /// Fat in g per 100 g.
    pub fat_g: Option<f64>,
    /// Household measures, in the source's order.
    pub portions: Vec<PortionInput>,
}

/// A household measure as found: its name and what it weighs.
#[derive(Debug, Clone, PartialEq)]
pub struct PortionInput {
    /// `"1 cup"`, `"1 bar (40 g)"`.
    pub name: String,
    /// Its weight in grams.
    pub grams: f64,
}

/// A food ready to be written to the global catalogue: read-only, served
/// per 100 g, matched to earlier imports by its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFood {
    /// The key of re-imports.
    pub source: FoodSource,
    /// Trimmed and cut to [`MAX_IMPORTED_TEXT`]; never empty.
    pub name: String,
    /// Trimmed and cut like the name; empty became `None`.
    pub brand: Option<String>,
    /// False for branded foods, which search ranks after generic ones.
    pub generic: bool,
    /// The GTIN-14, when the source's barcode had a valid check digit.
    pub barcode: Option<Gtin>,
    /// A barcode was given but was not a GTIN: the food is imported
    /// without it and the summary counts it (`bad barcode N`).
    pub barcode_rejected: bool,
    /// Macros per 100 g (the food's serving is 100 g).
    pub per_100g: Macros,
    /// Household measures, each with a name and a weight.
    pub portions: Vec<ImportedPortion>,
}

/// A household measure of an imported food.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPortion {
    /// Trimmed and cut like a food's name; never empty.
    pub name: String,
    /// In (0, 10000] g, rounded to two decimals.
    pub grams: Amount,
}

impl ImportedFood {
    /// Applies the contract's rules: the food is skipped for the first
    /// rule it breaks (name, then each missing macro, then the bounds);
    /// a bad barcode or portion is dropped, never the food.
    pub fn from_input(input: ImportedFoodInput) -> Result<ImportedFood, Skipped> {
        let skip = |reason| Skipped { source: input.source.to_string(), reason };
        let name = imported_text(&input.name).ok_or_else(|| skip(SkipReason::EmptyName))?;
        let macros = [
            (input.calories, SkipReason::MissingEnergy),
            (input.protein_g, SkipReason::MissingProtein),
            (input.fat_g, SkipReason::MissingFat),
            (input.carbs_g, SkipReason::MissingCarbs),
        ];
        let mut values = [0.0; 4];
        for (slot, (value, missing)) in values.iter_mut().zip(macros) {
            *slot = value.ok_or_else(|| skip(missing))?;
        }
        let [calories, protein_g, fat_g, carbs_g] = values;
        let bounded = (|| {
            Some(Macros {
                calories: CALORIES.amount(calories).ok()?,
                protein_g: GRAMS.amount(protein_g).ok()?,
                carbs_g: GRAMS.amount(carbs_g).ok()?,
                fat_g: GRAMS.amount(fat_g).ok()?,
            })
        })();
        let per_100g = bounded.ok_or_else(|| skip(SkipReason::OutOfBounds))?;
        let barcode = input.barcode.as_deref().filter(|code| !code.is_empty()).map(Gtin::parse);
        let portions = input
            .portions
            .iter()
            .filter_map(|portion| {
                let name = imported_text(&portion.name)?;
                let grams = SERVING_SIZE.amount(portion.grams).ok()?;
                Some(ImportedPortion { name, grams })
            })
            .collect();
        Ok(ImportedFood {
            name,
            brand: input.brand.as_deref().and_then(imported_text),
            generic: input.generic,
            barcode: barcode.and_then(Result::ok),
            barcode_rejected: barcode.is_some_and(|parsed| parsed.is_err()),
            per_100g,
            portions,
            source: input.source,
        })
    }

    /// The text search matches words against: see [`search_text`].
    pub fn search_text(&self) -> String {
        search_text(&self.name, self.brand.as_deref())
    }
}

/// `text` trimmed and cut to [`MAX_IMPORTED_TEXT`], or `None` when nothing
/// is left. Control characters become spaces: PostgreSQL refuses NUL in
/// text, and no name needs a tab or a newline.
fn imported_text(text: &str) -> Option<String> {
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let cut: String = cleaned.trim().chars().take(MAX_IMPORTED_TEXT).collect();
    let kept = cut.trim_end();
    (!kept.is_empty()).then(|| kept.to_owned())
}

/// `text` lowercased, with diacritics removed (`Crème Brûlée` → `creme
/// brulee`), so a search for `creme` finds `Crème`.
///
/// Unicode's compatibility decomposition (NFKD, from the unicode-rs
/// `unicode-normalization` crate) splits `è` into `e` and a combining
/// grave accent, which is dropped; it also unfolds ligatures (`ﬁ` → `fi`).
/// Letters without a decomposition stay as they are (`ø`, `ß`, `ł`, every
/// non-Latin script), unlike a transliteration to ASCII, which would turn
/// `北京` into `Bei Jing` and break substring matching.
pub fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).nfkd().filter(|&c| !is_combining_mark(c)).collect()
}

/// The folded name and brand in one text, what search matches each word
/// of a query against. Joined by a space: a query's words hold no
/// whitespace, so none can match across the two.
pub fn search_text(name: &str, brand: Option<&str>) -> String {
    let mut text = fold(name);
    if let Some(brand) = brand {
        text.push(' ');
        text.push_str(&fold(brand));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ImportedFoodInput {
        ImportedFoodInput {
            source: FoodSource::Fdc(171705),
            name: "  Crème fraîche  ".into(),
            brand: None,
            generic: true,
            barcode: None,
            calories: Some(393.0),
            protein_g: Some(2.4),
            carbs_g: Some(2.9),
            fat_g: Some(41.0),
            portions: vec![PortionInput { name: "1 tbsp".into(), grams: 15.0 }],
        }
    }

    fn skipped(input: ImportedFoodInput) -> Option<SkipReason> {
        ImportedFood::from_input(input).err().map(|skipped| skipped.reason)
    }

    #[test]
    fn a_complete_row_becomes_a_food_per_100_g() {
        let food = ImportedFood::from_input(input()).unwrap();
        assert_eq!(food.name, "Crème fraîche");
        assert_eq!(food.per_100g.calories, Amount::from_hundredths(39300));
        assert_eq!(food.per_100g.protein_g, Amount::from_hundredths(240));
        assert_eq!(food.portions, [ImportedPortion { name: "1 tbsp".into(), grams: Amount::from_hundredths(1500) }]);
        assert_eq!((food.barcode, food.barcode_rejected), (None, false));
    }

    #[test]
    fn names_are_trimmed_and_cut_to_200_characters() {
        let long = format!("  {}  ", "é".repeat(250));
        let food = ImportedFood::from_input(ImportedFoodInput { name: long, ..input() }).unwrap();
        assert_eq!(food.name, "é".repeat(200));
        // A cut that ends on a space does not leave it behind.
        let spaced = format!("{} tail", "a".repeat(199));
        let food = ImportedFood::from_input(ImportedFoodInput { name: spaced, ..input() }).unwrap();
        assert_eq!(food.name, "a".repeat(199));
        let food = ImportedFood::from_input(ImportedFoodInput { name: "Nul\0and\ttab".into(), ..input() }).unwrap();
        assert_eq!(food.name, "Nul and tab");
        assert_eq!(skipped(ImportedFoodInput { name: " \t\n ".into(), ..input() }), Some(SkipReason::EmptyName));
    }

    #[test]
    fn brands_are_trimmed_and_empty_ones_dropped() {
        let food = ImportedFood::from_input(ImportedFoodInput { brand: Some(" Président ".into()), ..input() });
        assert_eq!(food.unwrap().brand.as_deref(), Some("Président"));
        let food = ImportedFood::from_input(ImportedFoodInput { brand: Some("  ".into()), ..input() });
        assert_eq!(food.unwrap().brand, None);
    }

    #[test]
    fn each_missing_macro_has_its_reason_and_the_first_one_counts() {
        assert_eq!(skipped(ImportedFoodInput { calories: None, ..input() }), Some(SkipReason::MissingEnergy));
        assert_eq!(skipped(ImportedFoodInput { protein_g: None, ..input() }), Some(SkipReason::MissingProtein));
        assert_eq!(skipped(ImportedFoodInput { fat_g: None, ..input() }), Some(SkipReason::MissingFat));
        assert_eq!(skipped(ImportedFoodInput { carbs_g: None, ..input() }), Some(SkipReason::MissingCarbs));
        let nothing = ImportedFoodInput { name: "".into(), calories: None, fat_g: None, ..input() };
        assert_eq!(skipped(nothing), Some(SkipReason::EmptyName));
        let skip = ImportedFood::from_input(ImportedFoodInput { calories: None, ..input() }).unwrap_err();
        assert_eq!(skip.source, "fdc:171705");
    }

    #[test]
    fn the_food_bounds_apply_to_values_per_100_g() {
        let out = |input| skipped(input) == Some(SkipReason::OutOfBounds);
        assert!(out(ImportedFoodInput { calories: Some(10000.01), ..input() }));
        assert!(out(ImportedFoodInput { protein_g: Some(-0.5), ..input() }));
        assert!(out(ImportedFoodInput { carbs_g: Some(1000.001), ..input() }));
        assert!(out(ImportedFoodInput { fat_g: Some(f64::NAN), ..input() }));
        let edge = ImportedFoodInput { calories: Some(10000.0), carbs_g: Some(0.0), fat_g: Some(1000.0), ..input() };
        let food = ImportedFood::from_input(edge).unwrap();
        assert_eq!(food.per_100g.calories, Amount::from_hundredths(1_000_000));
        let rounded = ImportedFood::from_input(ImportedFoodInput { protein_g: Some(2.345), ..input() }).unwrap();
        assert_eq!(rounded.per_100g.protein_g, Amount::from_hundredths(235));
    }

    #[test]
    fn a_bad_barcode_is_dropped_and_counted_not_the_food() {
        let with = |code: &str| ImportedFood::from_input(ImportedFoodInput { barcode: Some(code.into()), ..input() });
        let good = with("036000291452").unwrap();
        assert_eq!(good.barcode.map(|gtin| gtin.to_string()).as_deref(), Some("00036000291452"));
        assert!(!good.barcode_rejected);
        for bad in ["036000291453", "12345", "abc"] {
            let food = with(bad).unwrap();
            assert_eq!((food.barcode, food.barcode_rejected), (None, true), "{bad}");
        }
        let empty = with("").unwrap();
        assert_eq!((empty.barcode, empty.barcode_rejected), (None, false), "an empty barcode is no barcode");
    }

    #[test]
    fn portions_without_a_name_or_a_weight_are_dropped() {
        let portions = vec![
            PortionInput { name: "1 cup".into(), grams: 244.0 },
            PortionInput { name: "  ".into(), grams: 10.0 },
            PortionInput { name: "1 pinch".into(), grams: 0.0 },
            PortionInput { name: "1 dust".into(), grams: 0.004 },
            PortionInput { name: "1 truck".into(), grams: 10000.5 },
            PortionInput { name: " 1 large ".into(), grams: 50.125 },
        ];
        let food = ImportedFood::from_input(ImportedFoodInput { portions, ..input() }).unwrap();
        let kept: Vec<_> = food.portions.iter().map(|p| (p.name.as_str(), p.grams.hundredths())).collect();
        assert_eq!(kept, [("1 cup", 24400), ("1 large", 5013)]);
    }

    #[test]
    fn sources_render_as_the_contract_writes_them() {
        assert_eq!(FoodSource::Fdc(2345678).to_string(), "fdc:2345678");
        assert_eq!(FoodSource::open_food_facts("3017620422003").unwrap().to_string(), "off:3017620422003");
        for bad in ["", "30 17", "code\u{0}", &"1".repeat(101), "café"] {
            assert_eq!(FoodSource::open_food_facts(bad), Err(SkipReason::BadSourceId), "{bad:?}");
        }
    }

    #[test]
    fn folding_removes_case_and_diacritics_only() {
        assert_eq!(fold("Crème Fraîche"), "creme fraiche");
        assert_eq!(fold("ÄPFEL, Crème Brûlée"), "apfel, creme brulee");
        assert_eq!(fold("Jalapeño piñata"), "jalapeno pinata");
        assert_eq!(fold("ﬁlet"), "filet");
        assert_eq!(fold("İstanbul"), "istanbul");
        // No decomposition: kept as they are, so a query folds to the same.
        assert_eq!(fold("Smørrebrød Straße Łódź"), "smørrebrød straße łodz");
        assert_eq!(fold("Молоко 牛奶"), "молоко 牛奶");
        assert_eq!(search_text("Crème fraîche", Some("Président")), "creme fraiche president");
        assert_eq!(search_text("Milk", None), "milk");
    }

    #[test]
    fn skip_labels_are_distinct() {
        let labels: std::collections::BTreeSet<_> = SkipReason::ALL.iter().map(|reason| reason.label()).collect();
        assert_eq!(labels.len(), SkipReason::ALL.len());
    }
}
