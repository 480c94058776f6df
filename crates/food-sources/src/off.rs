//! Open Food Facts' JSONL export: one product per line, gzipped or not.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use macrotrack_domain::{FoodSource, ImportedFood, ImportedFoodInput, PortionInput, SkipReason, Skipped};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::{Entry, SourceError, is_fatal, open};

/// Opens an Open Food Facts JSONL export (`.gz` too: recognised by its
/// content). A missing or unreadable file fails here.
pub fn read_off(file: &Path) -> Result<OffFoods, SourceError> {
    let reader = BufReader::with_capacity(1 << 16, open(file)?);
    Ok(OffFoods { path: file.to_owned(), reader, line: Vec::new(), number: 0, failed: false })
}

/// The products of an Open Food Facts export, one per non-blank line.
/// After an `Err` item (the file failed halfway), it yields nothing more.
pub struct OffFoods {
    path: PathBuf,
    reader: BufReader<Box<dyn Read + Send>>,
    /// Reused for every line: a product's line can be tens of kilobytes.
    line: Vec<u8>,
    number: u64,
    failed: bool,
}

impl fmt::Debug for OffFoods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OffFoods").field("file", &self.path).field("line", &self.number).finish()
    }
}

impl OffFoods {
    /// How many lines have been read, for progress.
    pub fn lines_read(&self) -> u64 {
        self.number
    }
}

impl Iterator for OffFoods {
    type Item = Result<Entry, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            self.line.clear();
            match self.reader.read_until(b'\n', &mut self.line) {
                Ok(0) => return None,
                Ok(_) => self.number += 1,
                Err(error) if is_fatal(&error) => {
                    self.failed = true;
                    return Some(Err(SourceError::unreadable(&self.path, error)));
                }
                Err(_) => {
                    self.number += 1;
                    return Some(Ok(Err(self.skipped(SkipReason::UnreadableRow))));
                }
            }
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Ok(match serde_json::from_slice::<Product>(&self.line) {
                Ok(product) => product.food(self.number),
                Err(_) => Err(self.skipped(SkipReason::UnreadableRow)),
            }));
        }
        None
    }
}

impl OffFoods {
    fn skipped(&self, reason: SkipReason) -> Skipped {
        Skipped { source: format!("line {}", self.number), reason }
    }
}

/// The fields of a product the import uses; serde passes over the others.
#[derive(Deserialize)]
struct Product {
    #[serde(default, deserialize_with = "text_or_number")]
    code: Option<String>,
    #[serde(default)]
    product_name: Option<String>,
    #[serde(default)]
    brands: Option<String>,
    #[serde(default)]
    nutriments: Option<Nutriments>,
    #[serde(default)]
    serving_size: Option<String>,
}

/// Per 100 g. The export writes numbers, or sometimes numbers as strings.
#[derive(Deserialize, Default)]
struct Nutriments {
    #[serde(rename = "energy-kcal_100g", default, deserialize_with = "number")]
    calories: Option<f64>,
    #[serde(rename = "proteins_100g", default, deserialize_with = "number")]
    protein_g: Option<f64>,
    #[serde(rename = "fat_100g", default, deserialize_with = "number")]
    fat_g: Option<f64>,
    #[serde(rename = "carbohydrates_100g", default, deserialize_with = "number")]
    carbs_g: Option<f64>,
}

impl Product {
    fn food(self, line: u64) -> Entry {
        let code = self.code.unwrap_or_default();
        let code = code.trim();
        let source = FoodSource::open_food_facts(code).map_err(|reason| {
            let source = if code.is_empty() { format!("line {line}") } else { format!("off:{code}") };
            Skipped { source, reason }
        })?;
        let nutriments = self.nutriments.unwrap_or_default();
        // The contract: the first of the comma-separated brands.
        let brand = self.brands.as_deref().and_then(|brands| brands.split(',').next()).map(str::to_owned);
        let portions = self.serving_size.as_deref().and_then(serving_portion).into_iter().collect();
        ImportedFood::from_input(ImportedFoodInput {
            source,
            name: self.product_name.unwrap_or_default(),
            brand,
            generic: false,
            barcode: Some(code.to_owned()),
            calories: nutriments.calories,
            protein_g: nutriments.protein_g,
            carbs_g: nutriments.carbs_g,
            fat_g: nutriments.fat_g,
            portions,
        })
    }
}

/// A product's `serving_size` as its one portion, when it says its weight
/// in grams (`30 g`, `1 bar (40g)`, `2 biscuits (25,5 g)`): named as
/// written, as FoodData Central's branded household serving is.
fn serving_portion(serving: &str) -> Option<PortionInput> {
    let grams = grams_in(serving)?;
    Some(PortionInput { name: serving.to_owned(), grams })
}

/// The first number followed by the unit `g` (a `g` that does not begin
/// a longer word: `gal` is not grams).
fn grams_in(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if !bytes[start].is_ascii_digit() {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_digit() || matches!(bytes[end], b'.' | b',')) {
            end += 1;
        }
        let number = text[start..end].replace(',', ".");
        let mut unit = end;
        while unit < bytes.len() && bytes[unit] == b' ' {
            unit += 1;
        }
        let is_gram = matches!(bytes.get(unit), Some(b'g' | b'G'))
            && !bytes.get(unit + 1).is_some_and(|next| next.is_ascii_alphabetic());
        if is_gram {
            return number.trim_end_matches('.').parse().ok();
        }
        start = end;
    }
    None
}

fn text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_any(Loose).map(|value| value.map(|value| value.text))
}

fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let value = deserializer.deserialize_any(Loose)?;
    Ok(value.and_then(|value| value.number).filter(|number| number.is_finite()))
}

/// A JSON value that should be a number or a string, accepted as either
/// (anything else is no value rather than an unreadable product).
struct Loose;

struct LooseValue {
    text: String,
    number: Option<f64>,
}

impl<'de> Visitor<'de> for Loose {
    type Value = Option<LooseValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a string")
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Some(LooseValue { text: value.to_string(), number: Some(value) }))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(LooseValue { text: value.to_string(), number: Some(value as f64) }))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(LooseValue { text: value.to_string(), number: Some(value as f64) }))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(LooseValue { text: value.to_owned(), number: value.trim().parse().ok() }))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_are_read_from_serving_texts() {
        let cases = [
            ("30 g", Some(30.0)),
            ("30g", Some(30.0)),
            ("1 bar (40 g)", Some(40.0)),
            ("2 biscuits (25,5 g)", Some(25.5)),
            ("250 ml", None),
            ("1 gallon", None),
            ("1 cup (240 ml)", None),
            ("15 G", Some(15.0)),
            ("", None),
        ];
        for (text, grams) in cases {
            assert_eq!(grams_in(text), grams, "{text:?}");
        }
    }
}
