//! What FoodData Central keeps beside `food.csv`, read in full before the
//! foods are, and held per food in compact form.
//!
//! Memory: `food_nutrient.csv` has millions of rows (dozens per food), so
//! only the rows of the seven nutrients the import uses are looked at, and
//! each food keeps four numbers and four bytes (40 bytes: about 16 MB for
//! 390,000 foods). Portions (a few per generic food, none for branded ones)
//! and branded foods are sorted vectors of small rows whose repeated texts
//! (portion names, brands, household servings) are interned, and whose
//! barcode is a number. Measured on a synthetic set of 390,381 foods (3.9
//! million nutrient rows, 351,000 portions, 273,000 branded rows), reading
//! peaks at 66 MiB (`examples/summary.rs`, release build).

use std::collections::HashMap;
use std::path::Path;

use macrotrack_domain::PortionInput;

use crate::SourceError;
use crate::columns::{CsvFile, field, id, number};
use crate::text::{Interner, without_trailing_zeros};

/// The unit FoodData Central gives a portion when it has none
/// ("undetermined"): left out of portion names.
const UNDETERMINED_UNIT: u32 = 9999;

/// The macros of one food, each with the rank of the nutrient it came from
/// (0: none yet), so a preferred nutrient wins whatever the rows' order.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Nutrients {
    values: [f64; 4],
    ranks: [u8; 4],
}

const ENERGY: usize = 0;
const PROTEIN: usize = 1;
const FAT: usize = 2;
const CARBS: usize = 3;

/// Which macro a nutrient id gives, and its rank: energy from 1008 (kcal),
/// else 2048 (Atwater specific factors), else 2047 (general factors);
/// carbohydrate by difference (1005), else by summation (1050).
fn slot(nutrient: u32) -> Option<(usize, u8)> {
    Some(match nutrient {
        1008 => (ENERGY, 3),
        2048 => (ENERGY, 2),
        2047 => (ENERGY, 1),
        1003 => (PROTEIN, 1),
        1004 => (FAT, 1),
        1005 => (CARBS, 2),
        1050 => (CARBS, 1),
        _ => return None,
    })
}

impl Nutrients {
    fn get(&self, slot: usize) -> Option<f64> {
        (self.ranks[slot] > 0).then_some(self.values[slot])
    }

    /// Energy in kcal per 100 g.
    pub(crate) fn calories(&self) -> Option<f64> {
        self.get(ENERGY)
    }

    /// Protein in g per 100 g.
    pub(crate) fn protein_g(&self) -> Option<f64> {
        self.get(PROTEIN)
    }

    /// Fat in g per 100 g.
    pub(crate) fn fat_g(&self) -> Option<f64> {
        self.get(FAT)
    }

    /// Carbohydrate in g per 100 g.
    pub(crate) fn carbs_g(&self) -> Option<f64> {
        self.get(CARBS)
    }
}

/// `food_nutrient.csv`: fdc_id → the macros per 100 g.
pub(crate) fn read_nutrients(path: &Path) -> Result<HashMap<u32, Nutrients>, SourceError> {
    let file = CsvFile::open(path)?;
    let (fdc_id, nutrient_id, amount) =
        (Some(file.required("fdc_id")?), Some(file.required("nutrient_id")?), Some(file.required("amount")?));
    let mut foods: HashMap<u32, Nutrients> = HashMap::new();
    file.for_each(|row| {
        let Some((slot, rank)) = id(row, nutrient_id).and_then(slot) else { return };
        let (Some(food), Some(value)) = (id(row, fdc_id), number(row, amount)) else { return };
        let nutrients = foods.entry(food).or_default();
        if rank > nutrients.ranks[slot] {
            nutrients.ranks[slot] = rank;
            nutrients.values[slot] = value;
        }
    })?;
    foods.shrink_to_fit();
    Ok(foods)
}

/// A row of `food_portion.csv`, in 24 bytes: its name is interned (most
/// are "1 cup", "1 large", ...).
struct PortionRow {
    fdc_id: u32,
    name: u32,
    seq_num: f32,
    grams: f64,
}

/// `food_portion.csv` (with `measure_unit.csv` for unit names, when
/// present), sorted by food: a sorted vector and a binary search hold a
/// third of what a map of vectors did, and grow without a rehash's peak.
pub(crate) struct Portions {
    rows: Vec<PortionRow>,
    names: Interner,
}

impl Portions {
    /// No portions (the file is absent: a Branded-only download).
    pub(crate) fn none() -> Portions {
        Portions { rows: Vec::new(), names: Interner::default() }
    }

    pub(crate) fn read(portions: &Path, units: Option<&Path>) -> Result<Portions, SourceError> {
        let unit_names = match units {
            Some(path) => read_units(path)?,
            None => HashMap::new(),
        };
        let file = CsvFile::open(portions)?;
        let fdc_id = Some(file.required("fdc_id")?);
        let gram_weight = Some(file.required("gram_weight")?);
        let [seq_num, amount, unit, description, modifier] =
            ["seq_num", "amount", "measure_unit_id", "portion_description", "modifier"].map(|name| file.column(name));
        let mut names = Interner::default();
        let mut rows = Vec::new();
        file.for_each(|row| {
            let (Some(fdc_id), Some(grams)) = (id(row, fdc_id), number(row, gram_weight)) else { return };
            let unit_name = id(row, unit)
                .filter(|&unit| unit != UNDETERMINED_UNIT)
                .and_then(|unit| unit_names.get(&unit))
                .map_or("", |name| &**name);
            let name = portion_name(field(row, description), field(row, amount), unit_name, field(row, modifier));
            // Only the order matters: an f32 keeps it for any seq_num FDC uses.
            let seq_num = number(row, seq_num).map_or(f32::MAX, |seq| seq as f32);
            rows.push(PortionRow { fdc_id, name: names.intern(&name), seq_num, grams });
        })?;
        // Stable: equal seq_nums of a food keep the file's order.
        rows.sort_by(|a, b| a.fdc_id.cmp(&b.fdc_id).then(a.seq_num.total_cmp(&b.seq_num)));
        rows.shrink_to_fit();
        names.freeze();
        Ok(Portions { rows, names })
    }

    /// The portions of food `fdc_id`, in `seq_num` order (then file order).
    pub(crate) fn of(&self, fdc_id: u32) -> Vec<PortionInput> {
        let start = self.rows.partition_point(|row| row.fdc_id < fdc_id);
        let rows = self.rows[start..].iter().take_while(|row| row.fdc_id == fdc_id);
        rows.map(|row| PortionInput { name: self.names.get(row.name).to_owned(), grams: row.grams }).collect()
    }
}

fn read_units(path: &Path) -> Result<HashMap<u32, Box<str>>, SourceError> {
    let file = CsvFile::open(path)?;
    let (unit, name) = (Some(file.required("id")?), Some(file.required("name")?));
    let mut units = HashMap::new();
    file.for_each(|row| {
        if let Some(unit) = id(row, unit) {
            units.insert(unit, field(row, name).into());
        }
    })?;
    Ok(units)
}

/// The contract's portion name: the description, unless empty or
/// "Quantity not specified"; else the amount (no trailing zeros), the unit
/// and the modifier, those that are there, joined by spaces.
pub(crate) fn portion_name(description: &str, amount: &str, unit: &str, modifier: &str) -> String {
    if !description.is_empty() && !description.eq_ignore_ascii_case("Quantity not specified") {
        return description.to_owned();
    }
    let parts = [without_trailing_zeros(amount), unit, modifier];
    parts.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A barcode as written, in 9 bytes instead of a string: GTINs are digits,
/// at most 14 of them, and leading zeros count (a UPC-A is 12 digits).
#[derive(Debug, Clone)]
enum Code {
    Digits { value: u64, length: u8 },
    Other(Box<str>),
}

impl Code {
    fn new(text: &str) -> Code {
        match text.parse::<u64>() {
            Ok(value) if text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit()) => {
                Code::Digits { value, length: text.len() as u8 }
            }
            _ => Code::Other(text.into()),
        }
    }

    fn text(&self) -> String {
        match self {
            Code::Digits { value, length } => format!("{value:0width$}", width = usize::from(*length)),
            Code::Other(text) => text.to_string(),
        }
    }
}

/// One row of `branded_food.csv`, compacted.
#[derive(Debug, Clone)]
struct BrandedRow {
    brand: Option<u32>,
    barcode: Option<Code>,
    /// The household serving's name (interned) and grams, when its unit is g.
    serving: Option<(u32, f64)>,
}

/// `branded_food.csv`: what branded foods add to `food.csv`.
pub(crate) struct Branded {
    /// Sorted by fdc_id (see `Portions` for why not a map).
    rows: Vec<(u32, BrandedRow)>,
    texts: Interner,
}

/// What a branded food adds: its brand, its barcode text, its one portion.
pub(crate) struct BrandedFood {
    pub(crate) brand: Option<String>,
    pub(crate) barcode: Option<String>,
    pub(crate) portion: Option<PortionInput>,
}

impl Branded {
    /// No branded foods (the file is absent: an SR Legacy or Foundation
    /// download).
    pub(crate) fn none() -> Branded {
        Branded { rows: Vec::new(), texts: Interner::default() }
    }

    /// Reads `branded_food.csv`. Brand: `brand_name`, else `brand_owner`
    /// (older releases have no `brand_name` column); a serving counts when
    /// `serving_size_unit` is g, in any case.
    pub(crate) fn read(path: &Path) -> Result<Branded, SourceError> {
        let file = CsvFile::open(path)?;
        let fdc_id = Some(file.required("fdc_id")?);
        let [brand_name, brand_owner, gtin_upc, serving_size, serving_unit, household] = [
            "brand_name",
            "brand_owner",
            "gtin_upc",
            "serving_size",
            "serving_size_unit",
            "household_serving_fulltext",
        ]
        .map(|name| file.column(name));
        let mut texts = Interner::default();
        let mut rows = Vec::new();
        file.for_each(|row| {
            let Some(food) = id(row, fdc_id) else { return };
            let brand = [field(row, brand_name), field(row, brand_owner)].into_iter().find(|text| !text.is_empty());
            let barcode = Some(field(row, gtin_upc)).filter(|code| !code.is_empty()).map(Code::new);
            let grams = number(row, serving_size).filter(|_| field(row, serving_unit).eq_ignore_ascii_case("g"));
            let serving = grams.map(|grams| {
                let name = match field(row, household) {
                    "" => format!("{} g", without_trailing_zeros(field(row, serving_size))),
                    household => household.to_owned(),
                };
                (texts.intern(&name), grams)
            });
            rows.push((food, BrandedRow { brand: brand.map(|brand| texts.intern(brand)), barcode, serving }));
        })?;
        // Stable, so of a food listed twice the later row is found (as the
        // file's later word).
        rows.sort_by_key(|(food, _)| *food);
        rows.shrink_to_fit();
        texts.freeze();
        Ok(Branded { rows, texts })
    }

    /// What `branded_food.csv` says of food `fdc_id`, if anything.
    pub(crate) fn food(&self, fdc_id: u32) -> Option<BrandedFood> {
        let end = self.rows.partition_point(|(food, _)| *food <= fdc_id);
        let (food, row) = self.rows[..end].last()?;
        if *food != fdc_id {
            return None;
        }
        Some(BrandedFood {
            brand: row.brand.map(|brand| self.texts.get(brand).to_owned()),
            barcode: row.barcode.as_ref().map(Code::text),
            portion: row.serving.map(|(name, grams)| PortionInput { name: self.texts.get(name).to_owned(), grams }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portion_names_follow_the_contract() {
        assert_eq!(portion_name("", "1.0", "", "cup"), "1 cup");
        assert_eq!(portion_name("", "1.000", "cup", ""), "1 cup");
        assert_eq!(portion_name("Quantity not specified", "1", "", "large"), "1 large");
        assert_eq!(portion_name("", "0.50", "cup", "diced"), "0.5 cup diced");
        assert_eq!(portion_name("1 medium (3\" dia)", "1", "cup", "x"), "1 medium (3\" dia)");
        assert_eq!(portion_name("", "", "", ""), "");
    }

    #[test]
    fn barcodes_keep_their_leading_zeros() {
        for text in ["036000291452", "00000096385074", "96385074", "0", "12a4", "123456789012345678901"] {
            assert_eq!(Code::new(text).text(), text);
        }
        assert!(matches!(Code::new("036000291452"), Code::Digits { length: 12, .. }));
    }
}
