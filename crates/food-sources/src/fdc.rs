//! USDA FoodData Central's CSV download (any data type: SR Legacy,
//! Foundation, Survey, Branded), as the contract maps it to foods.

use std::collections::HashMap;
use std::path::Path;

use csv::StringRecord;
use macrotrack_domain::{FoodSource, ImportedFood, ImportedFoodInput, SkipReason, Skipped};

use crate::columns::{CsvFile, field, id};
use crate::fdc_extras::{Branded, Nutrients, Portions, read_nutrients};
use crate::{Entry, SourceError, is_io};

/// The data type of branded foods, the only ones that are not generic.
const BRANDED: &str = "branded_food";

/// Opens a FoodData Central download folder. `food.csv` and
/// `food_nutrient.csv` are required; `food_portion.csv` (with
/// `measure_unit.csv` for unit names) and `branded_food.csv` are read when
/// present. `food_category.csv` is not needed: a food's category is no
/// field of a catalogue food.
///
/// Every file but `food.csv` is read here, in full, so any of them that is
/// missing or unreadable fails this call, before a food is read; `food.csv`
/// is then streamed by the iterator.
pub fn read_fdc(folder: &Path) -> Result<FdcFoods, SourceError> {
    let required = |name: &str| {
        let path = folder.join(name);
        if path.is_file() { Ok(path) } else { Err(SourceError::unreadable(&path, "no such file")) }
    };
    let optional = |name: &str| Some(folder.join(name)).filter(|path| path.is_file());
    let foods = CsvFile::open(&required("food.csv")?)?;
    let columns = FoodColumns {
        fdc_id: Some(foods.required("fdc_id")?),
        data_type: Some(foods.required("data_type")?),
        description: Some(foods.required("description")?),
    };
    let nutrients = read_nutrients(&required("food_nutrient.csv")?)?;
    let portions = match optional("food_portion.csv") {
        Some(path) => Portions::read(&path, optional("measure_unit.csv").as_deref())?,
        None => Portions::none(),
    };
    let branded = match optional("branded_food.csv") {
        Some(path) => Branded::read(&path)?,
        None => Branded::none(),
    };
    Ok(FdcFoods { foods, columns, nutrients, portions, branded, record: StringRecord::new(), failed: false })
}

struct FoodColumns {
    fdc_id: Option<usize>,
    data_type: Option<usize>,
    description: Option<usize>,
}

/// The foods of a FoodData Central download, one per row of `food.csv`.
/// After an `Err` item (the file failed halfway), it yields nothing more.
pub struct FdcFoods {
    foods: CsvFile,
    columns: FoodColumns,
    nutrients: HashMap<u32, Nutrients>,
    portions: Portions,
    branded: Branded,
    record: StringRecord,
    failed: bool,
}

impl std::fmt::Debug for FdcFoods {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FdcFoods").field("file", &self.foods.path).field("foods", &self.nutrients.len()).finish()
    }
}

impl FdcFoods {
    /// How many bytes of `food.csv` have been read, for progress.
    pub fn position(&self) -> u64 {
        self.foods.reader.position().byte()
    }

    fn food(&mut self) -> Entry {
        let row = &self.record;
        let line = || format!("food.csv line {}", row.position().map_or(0, |position| position.line()));
        let Some(fdc_id) = id(row, self.columns.fdc_id) else {
            return Err(Skipped { source: line(), reason: SkipReason::UnreadableRow });
        };
        let nutrients = self.nutrients.get(&fdc_id).copied().unwrap_or_default();
        let mut portions = self.portions.of(fdc_id);
        let branded = self.branded.food(fdc_id);
        let (brand, barcode) = match branded {
            Some(branded) => {
                portions.extend(branded.portion);
                (branded.brand, branded.barcode)
            }
            None => (None, None),
        };
        ImportedFood::from_input(ImportedFoodInput {
            source: FoodSource::Fdc(u64::from(fdc_id)),
            name: field(row, self.columns.description).to_owned(),
            brand,
            generic: field(row, self.columns.data_type) != BRANDED,
            barcode,
            calories: nutrients.calories(),
            protein_g: nutrients.protein_g(),
            carbs_g: nutrients.carbs_g(),
            fat_g: nutrients.fat_g(),
            portions,
        })
    }
}

impl Iterator for FdcFoods {
    type Item = Result<Entry, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.foods.reader.read_record(&mut self.record) {
            Ok(true) => Some(Ok(self.food())),
            Ok(false) => None,
            Err(error) if is_io(&error) => {
                self.failed = true;
                Some(Err(SourceError::unreadable(&self.foods.path, error)))
            }
            Err(error) => {
                let line = error.position().map_or(0, |position| position.line());
                let source = format!("food.csv line {line}");
                Some(Ok(Err(Skipped { source, reason: SkipReason::UnreadableRow })))
            }
        }
    }
}
