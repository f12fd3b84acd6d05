//! The formatter: on every `.flow` file the tests own it is idempotent and
//! keeps the tokens; messy inputs in `tests/data/fmt/` are snapshotted beside
//! their formatted text; `flowc fmt` as a process; the examples are formatted.

use super::flowc;
use std::path::{Path, PathBuf};

use flowc::format::format;
use flowc::syntax::lexer::{tokenize, TokenKind};

/// The non-whitespace tokens of `text`, comments (and an unterminated
/// string) without trailing whitespace on their lines, which the formatter
/// removes.
fn significant_tokens(text: &str) -> Vec<(TokenKind, String)> {
    tokenize(text)
        .into_iter()
        .filter(|token| token.kind != TokenKind::Whitespace)
        .map(|token| {
            let written = &text[token.span.range()];
            let normalised = match token.kind {
                TokenKind::LineComment
                | TokenKind::DocComment
                | TokenKind::BlockComment
                | TokenKind::UnterminatedString => {
                    written.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim_end().to_string()
                }
                _ => written.to_string(),
            };
            (token.kind, normalised)
        })
        .collect()
}

/// Formatting `text` keeps its tokens and formatting again changes nothing.
fn assert_format_is_sound(name: &str, text: &str) {
    let once = format(text);
    assert_eq!(significant_tokens(&once), significant_tokens(text), "{name}: formatting changed the tokens");
    let twice = format(&once);
    assert_eq!(twice, once, "{name}: formatting is not idempotent");
}

fn read_lossy(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).expect("read")).into_owned()
}

fn corpus() -> Vec<PathBuf> {
    let mut files = crate::suite::example_files();
    for dir in ["tests/data/check/ok", "tests/data/check/err", "tests/data/fmt", "tests/data/fuzz", "stdlib"] {
        files.extend(crate::suite::flow_files(dir));
    }
    files
}

#[test]
fn idempotent_and_keeps_tokens_on_every_flow_file() {
    let files = corpus();
    assert!(files.len() > 100, "expected the examples and test data, found {}", files.len());
    for path in files {
        assert_format_is_sound(&path.display().to_string(), &read_lossy(&path));
    }
}

#[test]
fn idempotent_and_keeps_tokens_on_mangled_examples() {
    // Cheap property test: delete, duplicate or insert characters at pseudo-random
    // places of every example (so brackets, strings and comments break).
    let inserts = ["{", "}", "(", ")", "[", "\"", "/*", "//", "\n", "\t", "-", "<", ">", ":", ".", "1", " ", "\r"];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound.max(1) as u64) as usize
    };
    for path in crate::suite::example_files() {
        let original = read_lossy(&path);
        for round in 0..40 {
            let mut text = original.clone();
            for _ in 0..1 + round % 5 {
                let boundaries: Vec<usize> = text.char_indices().map(|(index, _)| index).collect();
                let at = boundaries[next(boundaries.len())];
                match next(3) {
                    0 => {
                        let end = text[at..].chars().next().map_or(at, |character| at + character.len_utf8());
                        text.replace_range(at..end, "");
                    }
                    _ => text.insert_str(at, inserts[next(inserts.len())]),
                }
            }
            assert_format_is_sound(&format!("{} (mangled, round {round})", path.display()), &text);
        }
    }
}

#[test]
fn messy_inputs() {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::glob!(super::repo_root().join("tests/data/fmt"), "*.flow", |path| {
            let source = std::fs::read_to_string(path).expect("read");
            let formatted = format(&source);
            insta::assert_snapshot!(format!("{source}\n----- flowc fmt -----\n{formatted}"));
        });
    });
}

#[test]
fn spacing_rules() {
    let cases = [
        ("const a=-1", "const a = -1\n"),
        ("const a = b -1", "const a = b - 1\n"),
        ("const a = f( -b , c )", "const a = f(-b, c)\n"),
        ("const a = x - - y", "const a = x - -y\n"),
        ("const a = 1 . 5", "const a = 1 . 5\n"),
        ("fn f(a ? : column < number >) -> list < int > = a", "fn f(a?: column<number>) -> list<int> = a\n"),
        ("const a = b<c and d>e", "const a = b < c and d > e\n"),
        ("use std :: money", "use std::money\n"),
        ("form f{}", "form f {}\n"),
        ("form f {  a: select{x   y}  }", "form f { a: select { x y } }\n"),
        ("const a = if(b)then[1,2]else c[0]", "const a = if (b) then [1, 2] else c[0]\n"),
        ("const a = 1 ! = 2", "const a = 1 ! = 2\n"),
        ("const a = 1/* c */+2", "const a = 1/* c */+ 2\n"),
        ("const a = 1      /* aligned */", "const a = 1      /* aligned */\n"),
        ("const a = 1   // aligned", "const a = 1   // aligned\n"),
        ("const a = 1// tight", "const a = 1 // tight\n"),
    ];
    for (input, expected) in cases {
        assert_eq!(format(input), expected, "formatting {input:?}");
    }
}

#[test]
fn layout_rules() {
    let cases = [
        ("", ""),
        ("\n\n  \n", ""),
        ("\n\nconst a = 1\n\n\n", "const a = 1\n"),
        ("form f {\n\n\n  a: int\n\n\n\n  b: int\n\n}", "form f {\n  a: int\n\n  b: int\n}\n"),
        ("a {\n\tb {\n\t\tc\n\t} }\nd", "a {\n  b {\n    c\n} }\nd\n"),
        ("x = f(\na,\nb\n)", "x = f(\n  a,\n  b\n)\n"),
        ("x = a\n+ b\n- c\ny = d", "x = a\n  + b\n  - c\ny = d\n"),
        ("x =\nf(a)", "x =\n  f(a)\n"),
        ("a {\n    /* one\n        two */ b\n}", "a {\n  /* one\n        two */ b\n}\n"),
        ("a ) } ]\nb", "a) }]\nb\n"),
        ("a (\n}\nb", "a(\n}\nb\n"),
    ];
    for (input, expected) in cases {
        assert_eq!(format(input), expected, "formatting {input:?}");
    }
}

#[test]
fn line_endings_and_byte_order_mark_are_kept() {
    assert_eq!(format("form f {\r\n   a: int   \r\n}\r\n"), "form f {\r\n  a: int\r\n}\r\n");
    assert_eq!(format("\u{FEFF}const a=1"), "\u{FEFF}const a = 1\n");
    assert_eq!(format("// note  \r\nconst a=1\r\n"), "// note\r\nconst a = 1\r\n");
}

#[test]
fn hostile_input_does_not_blow_up() {
    let deep = format!("{}\nx\n", "{".repeat(100_000));
    let formatted = format(&deep);
    let last_line = formatted.lines().last().expect("lines");
    assert_eq!(last_line, format!("{}x", " ".repeat(256)), "indentation is capped");
    let _ = format(&"<".repeat(100_000));
    let _ = format(&": a<".repeat(50_000));
}

#[test]
fn every_example_is_formatted() {
    for path in crate::suite::example_files() {
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(format(&text), text, "{} is not formatted; run `flowc fmt` on it", path.display());
    }
}

#[test]
fn fmt_command_checks_and_rewrites() {
    let (status, stdout, stderr) = flowc(&["fmt", "--check", "examples/expense/expense.flow"]);
    assert_eq!(status, 0, "{stdout}{stderr}");

    let dir = std::env::temp_dir().join(format!("flowc-fmt-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let messy = dir.join("messy.flow");
    let original = std::fs::read_to_string("tests/data/fmt/messy_form.flow").expect("read");
    std::fs::write(&messy, &original).expect("write");
    let messy_arg = messy.to_str().expect("utf-8 temp path");

    let (status, stdout, _) = flowc(&["fmt", "--check", messy_arg]);
    assert_eq!(status, 1);
    assert!(stdout.contains("Diff in") && stdout.contains("@@ -"), "{stdout}");
    assert!(stdout.contains("\n-const 大额=10000") && stdout.contains("\n+const 大额 = 10000"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), original, "--check must not write");

    let (status, stdout, stderr) = flowc(&["fmt", messy_arg]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("reformatted"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), format(&original));
    let leftovers: Vec<_> = std::fs::read_dir(&dir).expect("list").filter_map(Result::ok).collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");

    let (status, stdout, stderr) = flowc(&["fmt", "--check", messy_arg]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    let (status, stdout, _) = flowc(&["fmt", messy_arg]);
    assert_eq!(status, 0);
    assert!(stdout.is_empty(), "an unchanged file is not reported: {stdout}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_command_exit_two_for_bad_input() {
    assert_eq!(flowc(&["fmt", "tests/data/does/not/exist.flow"]).0, 2);
    assert_eq!(flowc(&["fmt"]).0, 2);
    assert_eq!(flowc(&["fmt", "--check", "tests/data/check/err/E0002_invalid_utf8.flow"]).0, 2);
}

#[test]
fn fmt_check_passes_on_every_example() {
    let files: Vec<String> = crate::suite::example_files().iter().map(|path| path.display().to_string()).collect();
    let mut args = vec!["fmt", "--check"];
    args.extend(files.iter().map(String::as_str));
    let (status, stdout, stderr) = flowc(&args);
    assert_eq!(status, 0, "{stdout}{stderr}");
}
