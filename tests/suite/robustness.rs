//! Input that is not `.flow` at all gives diagnostics, never a panic or a
//! stack overflow. Crashers found by fuzzing live in `tests/data/fuzz/`.

use flowc::check::check_source;

fn assert_reports_error(name: &str, text: &str) {
    let analysis = check_source(name, text);
    assert!(analysis.error_count() > 0, "{name}: expected at least one error");
}

#[test]
fn binary_noise_and_control_characters() {
    let mut state: u32 = 12345;
    let noise: String = (0..20_000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            char::from_u32((state >> 16) % 0x3000).unwrap_or('?')
        })
        .collect();
    assert_reports_error("noise.flow", &noise);
    assert_reports_error("nul.flow", "\0\0\u{1}workflow \u{7f}");
}

#[test]
fn every_prefix_of_an_example_checks_without_panicking() {
    let text = std::fs::read_to_string("examples/expense/expense.flow").expect("example");
    let boundaries: Vec<usize> = text.char_indices().map(|(index, _)| index).step_by(7).collect();
    for end in boundaries {
        let _ = check_source("prefix.flow", &text[..end]);
    }
}

#[test]
fn ten_thousand_nested_parentheses() {
    let depth = 10_000;
    let text = format!("const 深 = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let analysis = check_source("deep.flow", &text);
    assert!(analysis.diagnostics.iter().any(|diagnostic| diagnostic.code.as_str() == "E0003"));
    let unbalanced = "(".repeat(depth);
    assert_reports_error("open.flow", &unbalanced);
}

#[test]
fn long_operator_chains_and_prefix_runs() {
    let chain = format!("const 长 = 1{}\n", " + 1".repeat(200_000));
    assert!(check_source("chain.flow", &chain).diagnostics.iter().any(|d| d.code.as_str() == "E0003"));
    let nots = format!("const 否 = {}true\n", "not ".repeat(100_000));
    assert!(check_source("nots.flow", &nots).diagnostics.iter().any(|d| d.code.as_str() == "E0003"));
}

#[test]
fn five_megabyte_single_line() {
    let line = "x".repeat(5 * 1024 * 1024);
    let started = std::time::Instant::now();
    assert_reports_error("line.flow", &line);
    let text = format!("form 表 {{ {} }}", "字段: int ".repeat(300_000).replace('\n', " "));
    let _ = check_source("wide.flow", &text);
    assert!(started.elapsed().as_secs() < 30, "took {:?}", started.elapsed());
}

#[test]
fn fuzz_regressions() {
    let Ok(entries) = std::fs::read_dir("tests/data/fuzz") else { return };
    for entry in entries.filter_map(Result::ok) {
        let bytes = std::fs::read(entry.path()).expect("read crasher");
        let text = String::from_utf8_lossy(&bytes);
        let _ = check_source("fuzz.flow", &text);
    }
}

#[test]
fn long_chains_of_functions_constants_and_else_ifs_stay_fast() {
    let started = std::time::Instant::now();
    let functions: String = (0..5_000).map(|index| format!("fn f{index}() -> int = f{}()\n", index + 1)).collect();
    let text = format!("{functions}fn f5000() -> int = 1\n");
    assert!(check_source("functions.flow", &text).diagnostics.is_empty());
    let constants: String = (0..2_000).map(|index| format!("const c{index} = c{}\n", index + 1)).collect();
    let analysis = check_source("constants.flow", &format!("{constants}const c2000 = 1\n"));
    assert!(analysis.diagnostics.iter().all(|d| d.code.as_str() == "E0003"), "only depth errors expected");
    assert!(started.elapsed().as_secs() < 20, "took {:?}", started.elapsed());
}
