//! Oracle vectors for the money functions (src/runtime/money.rs): `tests/data/money/*.tsv`,
//! written by `tests/data/money/generate.py` from Python's decimal module and from cn2an
//! converted to docs/language.md §8.7's choices. Every line is checked and all mismatches are
//! reported at once.

use std::str::FromStr;

use flowc::runtime::values::money::{rmb_upper, round_half_away, thousands, MoneyError};
use rust_decimal::Decimal;

/// The lines of `tests/data/money/<name>`, each split at tabs, with their line numbers.
fn vectors(name: &str, columns: usize) -> Vec<(usize, Vec<String>)> {
    let path = format!("tests/data/money/{name}");
    let text = std::fs::read_to_string(&path).expect("the vectors file is readable");
    let rows: Vec<(usize, Vec<String>)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(index, line)| (index + 1, line.split('\t').map(str::to_owned).collect::<Vec<_>>()))
        .collect();
    for (line, cells) in &rows {
        assert_eq!(cells.len(), columns, "{path}:{line}: expected {columns} columns, got {cells:?}");
    }
    assert!(rows.len() > 1000, "{path}: only {} vectors", rows.len());
    rows
}

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|error| panic!("`{text}` is not a decimal: {error}"))
}

fn places(text: &str) -> u32 {
    text.parse().unwrap_or_else(|error| panic!("`{text}` is not a number of places: {error}"))
}

fn report(name: &str, total: usize, mismatches: &[String]) {
    let shown: Vec<&String> = mismatches.iter().take(50).collect();
    assert!(mismatches.is_empty(), "{name}: {} of {total} vectors differ:\n{shown:#?}", mismatches.len());
}

#[test]
fn rmb_upper_matches_the_oracle() {
    let rows = vectors("rmb_upper.tsv", 2);
    let mut mismatches = Vec::new();
    for (line, cells) in &rows {
        let (amount, expected) = (&cells[0], &cells[1]);
        let actual = match rmb_upper(decimal(amount)) {
            Ok(text) => text,
            Err(MoneyError::TooLarge { .. }) => "error: too large".to_owned(),
        };
        if &actual != expected {
            mismatches.push(format!("line {line}: {amount}: expected {expected}, got {actual}"));
        }
    }
    report("rmb_upper.tsv", rows.len(), &mismatches);
}

#[test]
fn rounding_matches_python_decimal() {
    let rows = vectors("rounding.tsv", 3);
    let mut mismatches = Vec::new();
    for (line, cells) in &rows {
        let (value, places_text, expected) = (&cells[0], &cells[1], &cells[2]);
        let actual = round_half_away(decimal(value), places(places_text));
        // Compared as numbers: Python pads to `places` decimals, rust_decimal keeps a shorter scale.
        if actual != decimal(expected) {
            mismatches.push(format!("line {line}: {value} at {places_text}: expected {expected}, got {actual}"));
        }
    }
    report("rounding.tsv", rows.len(), &mismatches);
}

#[test]
fn thousands_matches_python_format() {
    let rows = vectors("thousands.tsv", 3);
    let mut mismatches = Vec::new();
    for (line, cells) in &rows {
        let (value, places_text, expected) = (&cells[0], &cells[1], &cells[2]);
        let actual = thousands(decimal(value), places(places_text));
        if &actual != expected {
            mismatches.push(format!("line {line}: {value} at {places_text}: expected {expected}, got {actual}"));
        }
    }
    report("thousands.tsv", rows.len(), &mismatches);
}
