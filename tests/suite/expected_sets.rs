//! E0001's "expected …" lists, tested against the grammar. At each position
//! where a member, setting, statement or operator line may come, a probe that
//! fits nothing (`§`) must fail with a message naming every word the grammar
//! accepts there — and what the grammar accepts is found by parsing: each
//! candidate that parses cleanly in the probe's place must be named.
//!
//! Left out on purpose: binary operators. The grammar looks ahead for an
//! operator's first character before trying one (a speed-up), and pest does
//! not report what it tried inside a lookahead, so `an operator` is never in
//! pest's list.

use flowc::source::FileId;
use flowc::syntax::parse;

const PROBE: &str = "§";

/// A place to test: the text with `HOLE` where the probe or a candidate goes,
/// the members written before the hole, and the candidates with the word the
/// message must hold when the candidate parses there.
struct Position {
    template: &'static str,
    before: &'static [&'static str],
    candidates: &'static [(&'static str, &'static str)],
}

const FORM: &str = "form F \"f\" {\n  a: int \"a\"\n  b: int \"b\"\n}\n";

const NODE: Position = Position {
    template: "workflow W {\n  form F\n  node 填写: create {\n    operators { creator }\n    exit 提交 -> 审批\n  }\n  node 审批: approve {\n    PREFIX\n    HOLE\n  }\n  node 归档: archive\n}\n",
    before: &[
        "",
        "operators { creator }",
        "operators all { creator }",
        "required a",
        "editable a",
        "hidden a",
        "editable a, b",
        "required 明细.数量",
        "exit 同意 -> 归档",
        "exit 同意 -> 归档 when a > 1",
        "exit 同意 -> 归档 { a = 1 }",
        "exit 同意 -> 归档 when a > 1 { a = 1 }",
        "return 退回 -> 填写",
        "return 退回 -> 填写 when a > 1",
        "before { a = 1 }",
        "after { a = 1 }",
    ],
    candidates: &[
        ("`exit`", "exit 另 -> 归档"),
        ("`return`", "return 回 -> 填写"),
        ("`operators`", "operators { creator }"),
        ("`editable`", "editable b"),
        ("`required`", "required b"),
        ("`hidden`", "hidden b"),
        ("`before`", "before { b = 2 }"),
        ("`after`", "after { b = 2 }"),
        ("`when`", "when b > 2"),
        ("`{`", "{ b = 2 }"),
        ("`,`", ", b"),
        ("`.`", ".c"),
        ("`;`", ";"),
        ("`}`", ""),
    ],
};

const FORM_MEMBER: Position = Position {
    template: "form G \"g\" {\n  x: int \"x\"\n  PREFIX\n  HOLE\n}\n",
    before: &[
        "y: int",
        "y: int \"y\"",
        "y: int \"y\" \"说明\"",
        "y: text(20) \"y\" html",
        "y: int = x",
        "y: select { 甲 }",
        "detail D { z: int }",
        "validate x > 0 \"m\"",
    ],
    candidates: &[
        ("a field", "w: int"),
        ("`detail`", "detail E { v: int }"),
        ("`validate`", "validate x > 1 \"n\""),
        ("a string", "\"s\""),
        ("`(`", "(5)"),
        ("`=`", "= 1"),
        ("`{`", "{ 乙 }"),
        ("`multiple`", "multiple"),
        ("`html`", "html"),
        ("`,`", ","),
        ("`;`", ";"),
        ("`}`", ""),
    ],
};

const WORKFLOW_MEMBER: Position = Position {
    template: "workflow W {\n  PREFIX\n  HOLE\n  node 填写: create { operators { creator }  exit 提交 -> 归档 }\n  node 归档: archive\n}\n",
    before: &[
        "form F",
        "category \"c\"",
        "title \"t\"",
        "remind email",
        "portal",
        "inactive",
        "node 另: approve { operators { creator } exit 同意 -> 归档 }",
        "node 另: archive",
    ],
    candidates: &[
        ("`node`", "node 再: archive"),
        ("`category`", "category \"d\""),
        ("`form`", "form F"),
        ("`title`", "title \"u\""),
        ("`remind`", "remind sms"),
        ("`portal`", "portal"),
        ("`inactive`", "inactive"),
        ("`,`", ", sms"),
        ("`{`", "{ operators { creator } }"),
        ("`;`", ";"),
    ],
};

const STATEMENT: Position = Position {
    template: "workflow W {\n  form F\n  node 填写: create {\n    operators { creator }\n    after {\n      PREFIX\n      HOLE\n    }\n    exit 提交 -> 归档\n  }\n  node 归档: archive\n}\n",
    before: &["a = 1", "if a > 1 { a = 2 }", "if a > 1 { a = 2 } else { a = 3 }", "script \"x.rhai\""],
    candidates: &[
        ("`if`", "if b > 1 { b = 2 }"),
        ("`script`", "script \"y.rhai\""),
        ("a name", "b = 2"),
        ("`else`", "else { b = 3 }"),
        ("`;`", ";"),
        ("`}`", ""),
    ],
};

const OPERATOR_LINE: Position = Position {
    template: "workflow W {\n  form F\n  node 填写: create {\n    operators {\n      PREFIX\n      HOLE\n    }\n    exit 提交 -> 归档\n  }\n  node 归档: archive\n}\n",
    before: &["creator", "creator where security > 10", "creator when a > 1", "batch 1 { creator }"],
    candidates: &[
        ("`batch`", "batch 2 { creator }"),
        ("an expression", "creator.manager"),
        ("`where`", "where security > 20"),
        ("`when`", "when b > 1"),
        ("`,`", ","),
        ("`}`", ""),
    ],
};

fn source(position: &Position, prefix: &str, hole: &str) -> String {
    let workflow = position.template.replace("PREFIX", prefix).replace("HOLE", hole);
    format!("{FORM}{workflow}")
}

fn messages(text: &str) -> Vec<String> {
    parse(FileId(0), text).diagnostics.into_iter().map(|diagnostic| diagnostic.message).collect()
}

fn check(name: &str, position: &Position) {
    let mut failures = Vec::new();
    for prefix in position.before {
        let probe = source(position, prefix, PROBE);
        let found = messages(&probe);
        let Some(message) = found.iter().find(|message| message.contains("found unexpected character `§`")) else {
            failures.push(format!("{name} after `{prefix}`: the probe gave {found:?}"));
            continue;
        };
        let mut legal = 0;
        for (word, candidate) in position.candidates {
            if !messages(&source(position, prefix, candidate)).is_empty() {
                continue;
            }
            legal += 1;
            if !message.contains(word) {
                failures.push(format!(
                    "{name} after `{prefix}`: `{candidate}` parses there, but {word} is not in: {message}"
                ));
            }
        }
        assert!(legal >= 2, "{name} after `{prefix}`: fewer than two candidates parse; the template is wrong");
    }
    assert!(failures.is_empty(), "{} lists are incomplete:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn after_each_node_member_every_legal_next_word_is_offered() {
    check("node member", &NODE);
}

#[test]
fn after_each_form_member_every_legal_next_word_is_offered() {
    check("form member", &FORM_MEMBER);
}

#[test]
fn after_each_workflow_member_every_legal_next_word_is_offered() {
    check("workflow member", &WORKFLOW_MEMBER);
}

#[test]
fn after_each_statement_every_legal_next_word_is_offered() {
    check("statement", &STATEMENT);
}

#[test]
fn after_each_operator_line_every_legal_next_word_is_offered() {
    check("operator line", &OPERATOR_LINE);
}
