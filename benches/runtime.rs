//! The interpreter's speed on a big detail table (issue 3, figure a): a
//! table of 1,000,000 rows with the row rule `金额 = 数量 * 单价` and the
//! column rule `合计 = sum(明细.金额)`, computed three ways in one run:
//! * `interpreter` — `formulas::recompute`, what every submit does;
//! * `hand_loop`   — the same work written in Rust over rust_decimal (the
//!   multiplication, rounding half away from zero to 2 places, storing the
//!   cell, adding it to the total);
//! * `rhai_script` — the same loop as a Rhai script over an array of maps
//!   (what an analyst would write without formulas), run by our sandbox.
//!
//! `load_json` times, as a phase of its own, reading the 1,000,000 rows from
//! request JSON into the form (parse plus type checks). Row counts are
//! divan args so the scaling shows; see benches/README.md for the figures.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use rust_decimal::{Decimal, RoundingStrategy};

use flowc::check::check_source;
use flowc::org::{DirectoryFile, MemoryDirectory};
use flowc::runtime::compiled::Compiled;
use flowc::runtime::values::dates::DateTime;
use flowc::runtime::values::eval::Env;
use flowc::runtime::values::field_values::{read_form_text, Door};
use flowc::runtime::values::formulas::{blank, recompute};
use flowc::runtime::values::value::{FormData, Value};

/// The allocator of the `flowc` binary, so `load_json` times what `flowc run` does.
#[global_allocator]
static ALLOCATOR: flowc_alloc::Mimalloc = flowc_alloc::Mimalloc;

fn main() {
    write_whole_process_input();
    divan::main();
}

const ROWS: [usize; 3] = [10_000, 100_000, 1_000_000];

const SOURCE: &str = r#"
form 单 {
  detail 明细 {
    数量: int
    单价: money
    金额: money = 数量 * 单价
  }
  合计: money = sum(明细.金额)
}
workflow 流程 {
  form 单
  node 填写: create {
    operators { everyone }
    editable 明细
    exit 提交 -> 归档
  }
  node 归档: archive
}
"#;

/// The same loop as a Rhai script, over an array of row maps, run by a
/// plain Rhai engine with no size bounds (our sandbox re-measures a value
/// after each write when sizes are bounded, which would make this loop
/// quadratic; the comparison is with Rhai itself).
const SCRIPT: &str = r#"
let total = 0.0;
for i in 0..rows.len() {
    let amount = (rows[i].数量 * rows[i].单价).round_half_up(2);
    rows[i].金额 = amount;
    total += amount;
}
total
"#;

struct Setup {
    compiled: Compiled,
    directory: MemoryDirectory,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let analysis = check_source("bench.flow", SOURCE);
        assert_eq!(analysis.error_count(), 0);
        let compiled = Compiled::new(&analysis, &|_| Ok(String::new())).expect("compiles");
        let directory = MemoryDirectory::from_records(DirectoryFile::default()).expect("empty directory");
        Setup { compiled, directory }
    })
}

/// Row `i`: 数量 1–9, 单价 with two decimals.
fn quantity(row: usize) -> Decimal {
    Decimal::from(row % 9 + 1)
}

fn price(row: usize) -> Decimal {
    Decimal::new((row % 100_000) as i64 * 7 + 1, 2)
}

fn form_data(rows: usize) -> FormData {
    let setup = setup();
    let mut data = blank(&setup.compiled.program.forms[0]);
    data.tables[0] =
        (0..rows).map(|row| vec![Value::Number(quantity(row)), Value::Number(price(row)), Value::Null]).collect();
    data
}

fn env<'a>(setup: &'a Setup, data: &'a FormData) -> Env<'a> {
    Env {
        program: &setup.compiled.program,
        form: &setup.compiled.program.forms[0],
        layout: &setup.compiled.layouts[0],
        data,
        row: None,
        row_cells: None,
        directory: &setup.directory,
        creator: "E1",
        now: DateTime::parse("2026-11-28T09:00:00+08:00").expect("datetime"),
        node_operators: &[],
        person: None,
    }
}

#[divan::bench(args = ROWS, sample_count = 10)]
fn interpreter(bencher: Bencher, rows: usize) {
    let setup = setup();
    let mut data = form_data(rows);
    let scratch = FormData::default();
    bencher.counter(ItemsCount::new(rows)).bench_local(|| {
        recompute(env(setup, &scratch), black_box(&mut data)).expect("computes");
    });
    let total = &data.main[setup.compiled.program.forms[0].fields.len() - 1];
    assert_eq!(total, &Value::Number(expected_total(rows)));
}

struct Row {
    quantity: Decimal,
    price: Decimal,
    amount: Decimal,
}

#[divan::bench(args = ROWS, sample_count = 10)]
fn hand_loop(bencher: Bencher, rows: usize) {
    let mut table: Vec<Row> =
        (0..rows).map(|row| Row { quantity: quantity(row), price: price(row), amount: Decimal::ZERO }).collect();
    bencher.counter(ItemsCount::new(rows)).bench_local(|| {
        let mut total = Decimal::ZERO;
        for row in black_box(&mut table).iter_mut() {
            let amount = (row.quantity * row.price).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            row.amount = amount;
            total += amount;
        }
        black_box(total)
    });
}

#[divan::bench(args = ROWS, sample_count = 3)]
fn rhai_script(bencher: Bencher, rows: usize) {
    let engine = rhai::Engine::new();
    let ast = engine.compile(SCRIPT).expect("the script compiles");
    let table: rhai::Array = (0..rows)
        .map(|row| {
            let mut cells = rhai::Map::new();
            cells.insert("数量".into(), rhai::Dynamic::from_int(quantity(row).try_into().expect("int")));
            cells.insert("单价".into(), rhai::Dynamic::from_decimal(price(row)));
            cells.insert("金额".into(), rhai::Dynamic::UNIT);
            rhai::Dynamic::from_map(cells)
        })
        .collect();
    let expected = expected_total(rows);
    bencher.counter(ItemsCount::new(rows)).with_inputs(|| table.clone()).bench_local_values(|table| {
        let mut scope = rhai::Scope::new();
        scope.push("rows", table);
        let total: Decimal = engine.eval_ast_with_scope(&mut scope, &ast).expect("the script runs");
        assert_eq!(total, expected);
        scope
    });
}

#[divan::bench(args = ROWS, sample_count = 5)]
fn load_json(bencher: Bencher, rows: usize) {
    let setup = setup();
    let text = rows_json(rows);
    let form = &setup.compiled.program.forms[0];
    bencher.counter(ItemsCount::new(rows)).bench_local(|| {
        let mut data = blank(form);
        let door = Door::Entered { merge_tables: &[] };
        read_form_text(form, &setup.compiled.layouts[0], black_box(&text), &setup.directory, door, &mut data, |_| {
            Ok(())
        })
        .expect("reads");
        data
    });
}

fn expected_total(rows: usize) -> Decimal {
    (0..rows).map(|row| (quantity(row) * price(row)).round_dp(2)).sum()
}

fn rows_json(rows: usize) -> String {
    let mut text = String::from("{\"明细\": [");
    for row in 0..rows {
        if row > 0 {
            text.push(',');
        }
        text.push_str(&format!("{{\"数量\": {}, \"单价\": \"{}\"}}", quantity(row), price(row)));
    }
    text.push_str("]}");
    text
}

/// `target/bench-rows/`: the same form as a runnable folder with a request
/// of 1,000,000 rows, for timing the whole process
/// (`/usr/bin/time -v target/release/flowc run target/bench-rows`).
fn write_whole_process_input() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-rows");
    if folder.join("request.json").exists() {
        return;
    }
    let _ = std::fs::create_dir_all(&folder);
    let _ = std::fs::write(folder.join("rows.flow"), SOURCE);
    let org = "[[subcompany]]\nid = \"HQ\"\nname = \"总部\"\n\n[[department]]\nid = \"D1\"\nname = \"财务部\"\nsubcompany = \"HQ\"\n\n[[employee]]\nid = \"E1\"\nname = \"张三\"\ndepartment = \"D1\"\n";
    let _ = std::fs::write(folder.join("org.toml"), org);
    let request = format!("{{ \"creator\": \"E1\", \"form\": {} }}\n", rows_json(1_000_000));
    let _ = std::fs::write(folder.join("request.json"), request);
}
