//! Reads a FoodData Central folder or an Open Food Facts export and prints
//! what an import would count, without a database: for checking a download
//! and measuring the readers alone (time, peak memory).
//!
//! `cargo run --release -p macrotrack-food-sources --example summary -- fdc PATH`
//! (or `off PATH`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use macrotrack_food_sources::{Entry, SourceError, read_fdc, read_off};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [format, path] = args.as_slice() else {
        eprintln!("usage: summary fdc|off PATH");
        return ExitCode::from(2);
    };
    let path = Path::new(path);
    let entries: Result<Box<dyn Iterator<Item = Result<Entry, SourceError>>>, SourceError> = match format.as_str() {
        "fdc" => read_fdc(path).map(|foods| Box::new(foods) as Box<dyn Iterator<Item = _>>),
        "off" => read_off(path).map(|foods| Box::new(foods) as Box<dyn Iterator<Item = _>>),
        _ => {
            eprintln!("format must be fdc or off");
            return ExitCode::from(2);
        }
    };
    let (mut foods, mut portions, mut bad_barcodes) = (0u64, 0u64, 0u64);
    let mut skipped: BTreeMap<_, u64> = BTreeMap::new();
    for entry in entries.into_iter().flatten() {
        match entry {
            Ok(Ok(food)) => {
                foods += 1;
                portions += food.portions.len() as u64;
                bad_barcodes += u64::from(food.barcode_rejected);
            }
            Ok(Err(skip)) => *skipped.entry(skip.reason).or_default() += 1,
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("foods {foods} (portions {portions}), skipped {}", skipped.values().sum::<u64>());
    for (reason, count) in skipped {
        println!("{reason} {count}");
    }
    if bad_barcodes > 0 {
        println!("bad barcode {bad_barcodes}");
    }
    ExitCode::SUCCESS
}
