//! The randomized differential test of the route analysis: workflows with
//! random conditions over a few fields (int, money, check, select, text, a
//! linear formula), many random requests run through the interpreter, and
//! the analysis held to what the interpreter did:
//!
//! - it never says a node is covered (no request matches no exit, proved)
//!   when a sampled request matches no exit there;
//! - every region `flowc routes` reports agrees with the interpreter on
//!   every sample: the exit a request took is the one whose region holds its
//!   values, and a request that matched no exit lies in the "no exit" region.
//!
//! Deterministic: a fixed seed per workflow.

use std::path::PathBuf;

use flowc::analysis::regions::{Constraint, Region};
use flowc::check::check_source;
use flowc::org::{Directory, MemoryDirectory};
use flowc::runtime::compiled::Compiled;
use flowc::runtime::request::{Action, ActionKind, FormInput, NewRequest, Runtime};
use flowc::runtime::values::dates::DateTime;
use rust_decimal::Decimal;
use serde_json::{Map, Value as Json};

/// xorshift64*: small, fast, reproducible (the diff suite samples with it too).
pub(super) struct Random(pub(super) u64);

impl Random {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const OPTIONS: [&str; 3] = ["甲", "乙", "丙"];

/// A random condition over 数量 (int), 金额 (money), 加急 (check), 类别 (select), 标记 (text), 合计 = 数量 + 金额.
fn condition(random: &mut Random, depth: u32) -> String {
    if depth < 2 && random.chance(40) {
        let left = condition(random, depth + 1);
        let right = condition(random, depth + 1);
        return match random.below(3) {
            0 => format!("({left} and {right})"),
            1 => format!("({left} or {right})"),
            _ => format!("not ({left})"),
        };
    }
    let int = random.below(12) as i64 - 2;
    let money = format!("{}.{:02}", random.below(12) as i64 - 2, random.pick(&["00", "50", "01", "99"]));
    let comparison = random.pick(&[">", ">=", "<", "<=", "==", "!="]);
    match random.below(12) {
        0 => format!("数量 {comparison} {int}"),
        1 => format!("金额 {comparison} {money}"),
        2 => "加急".to_owned(),
        3 => "not 加急".to_owned(),
        4 => format!("类别 == \"{}\"", random.pick(&OPTIONS)),
        5 => format!("类别 in [\"{}\", \"{}\"]", random.pick(&OPTIONS), random.pick(&OPTIONS)),
        6 => format!("标记 == \"{}\"", random.pick(&["x", "y"])),
        7 => "is_empty(标记)".to_owned(),
        8 => format!("{} {}", random.pick(&["数量", "金额"]), random.pick(&["== null", "!= null"])),
        9 => format!("数量 + 金额 {comparison} {money}"),
        10 => format!("合计 {comparison} {int}"),
        _ => format!("金额 - 数量 * 2 {comparison} {money}"),
    }
}

/// A workflow: a create node, 审批 with random exits, maybe a second node reached by one of them.
fn workflow(random: &mut Random) -> String {
    let required: Vec<&str> = ["数量", "金额", "类别", "标记"].into_iter().filter(|_| random.chance(30)).collect();
    let validate =
        if random.chance(30) { format!("  validate {} \"规则\"\n", condition(random, 1)) } else { String::new() };
    let exits = 2 + random.below(3);
    let mut exit_lines = String::new();
    for index in 0..exits {
        let target = if index == 0 && random.chance(50) { "复核" } else { "归档" };
        exit_lines.push_str(&format!("    exit 出口{index} -> {target} when {}\n", condition(random, 0)));
    }
    if random.chance(40) {
        exit_lines.push_str("    exit 其他 -> 归档\n");
    }
    let mut review = String::new();
    for index in 0..2 {
        review.push_str(&format!("    exit 复核{index} -> 归档 when {}\n", condition(random, 0)));
    }
    let required_line =
        if required.is_empty() { String::new() } else { format!("    required {}\n", required.join(", ")) };
    format!(
        "form 单 {{\n  数量: int \"数量\"\n  金额: money \"金额\"\n  加急: check \"加急\"\n  类别: select \"类别\" {{ 甲 \"甲类\" 乙 \"乙类\" 丙 \"丙类\" }}\n  标记: text(5) \"标记\"\n  合计: money \"合计\" = 数量 + 金额\n{validate}}}\n\n\
         workflow 流程 {{\n  form 单\n  node 申请: create {{\n    operators {{ everyone }}\n    editable 数量, 金额, 加急, 类别, 标记\n{required_line}    exit 提交 -> 审批\n  }}\n\
         \x20 node 审批: approve {{\n    operators {{ role(\"审批人\") }}\n{exit_lines}  }}\n\
         \x20 node 复核: approve {{\n    operators {{ role(\"总经理\") }}\n{review}  }}\n  node 归档: archive\n}}\n"
    )
}

/// A random request: each field empty or a small value.
fn request(random: &mut Random) -> Map<String, Json> {
    let mut form = Map::new();
    if !random.chance(20) {
        form.insert("数量".into(), Json::from(random.below(12) as i64 - 2));
    }
    if !random.chance(20) {
        let cents = random.pick(&["00", "50", "01", "99"]);
        form.insert("金额".into(), Json::String(format!("{}.{cents}", random.below(12) as i64 - 2)));
    }
    form.insert("加急".into(), Json::Bool(random.chance(50)));
    if !random.chance(20) {
        form.insert("类别".into(), Json::String(random.pick(&OPTIONS).to_owned()));
    }
    match random.below(5) {
        0 => {}
        1 => {
            form.insert("标记".into(), Json::String(String::new()));
        }
        2 => {
            form.insert("标记".into(), Json::String("z".into()));
        }
        _ => {
            form.insert("标记".into(), Json::String(random.pick(&["x", "y"]).to_owned()));
        }
    }
    form
}

/// Whether a sample's values lie in a region.
fn contains(region: &Region, values: &Map<String, Json>) -> bool {
    region.cubes.iter().any(|cube| cube.iter().all(|constraint| holds(constraint, values)))
}

fn number(values: &Map<String, Json>, field: &str) -> Option<Decimal> {
    match values.get(field)? {
        Json::Number(number) => number.to_string().parse().ok(),
        Json::String(text) => text.parse().ok(),
        _ => None,
    }
}

fn holds(constraint: &Constraint, values: &Map<String, Json>) -> bool {
    match constraint {
        Constraint::Number { field, empty, ranges } => match number(values, field) {
            None => *empty,
            Some(value) => ranges.iter().any(|(low, high)| {
                low.as_ref().is_none_or(|low| low.parse::<Decimal>().is_ok_and(|low| value >= low))
                    && high.as_ref().is_none_or(|high| high.parse::<Decimal>().is_ok_and(|high| value <= high))
            }),
        },
        Constraint::OneOf { field, values: allowed } => {
            let value = values.get(field).cloned().unwrap_or(Json::Null);
            let value = match (field.as_str(), value) {
                ("加急", Json::Null) => Json::Bool(false),
                (_, value) => value,
            };
            allowed.iter().any(|allowed| match (allowed, &value) {
                (Json::Object(other), Json::String(text)) if other.contains_key("other") => {
                    !text.trim().is_empty()
                        && !other["other"]
                            .as_array()
                            .is_some_and(|except| except.iter().any(|e| e.as_str() == Some(text)))
                }
                (Json::Object(blank), Json::String(text)) if blank.contains_key("blank") => {
                    !text.is_empty() && text.trim().is_empty()
                }
                (allowed, value) => allowed == value,
            })
        }
        Constraint::NotEmpty { field } => match values.get(field) {
            None | Some(Json::Null) => false,
            Some(Json::String(text)) => !text.trim().is_empty(),
            Some(_) => true,
        },
        Constraint::Linear { terms, constant } => {
            let mut total: Decimal = constant.parse().unwrap_or_default();
            for (coefficient, field) in terms {
                let Some(value) = number(values, field) else { return false };
                total += coefficient.parse::<Decimal>().unwrap_or_default() * value;
            }
            total <= Decimal::ZERO
        }
        Constraint::Unknown { .. } => panic!("the generator writes no condition the analysis does not solve"),
    }
}

#[test]
fn the_analysis_agrees_with_the_interpreter_on_random_workflows() {
    let directory = MemoryDirectory::load(&PathBuf::from("tests/data/analysis/org.toml")).expect("directory");
    let creator = directory.everyone().iter().next().expect("someone").to_owned();
    let now = DateTime::parse("2026-01-01T09:00:00+08:00").expect("now");
    let (mut workflows, mut samples, mut covered, mut stuck_seen, mut checks) = (0, 0, 0, 0, 0);
    for seed in 1..=60u64 {
        let mut random = Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let text = workflow(&mut random);
        let analysis = check_source("random.flow", &text);
        if analysis.error_count() > 0 {
            let errors: Vec<String> = analysis.diagnostics.iter().map(|d| d.message.clone()).collect();
            panic!("seed {seed} does not check:\n{text}\n{errors:?}");
        }
        workflows += 1;
        let routes = flowc::analysis::routes(&analysis);
        let review_node = routes.workflows[0].nodes.iter().find(|node| node.name == "审批").expect("审批").clone();
        let second_node = routes.workflows[0].nodes.iter().find(|node| node.name == "复核").expect("复核").clone();
        covered += usize::from(review_node.stuck.exact && review_node.stuck.is_empty());
        let compiled = Compiled::new(&analysis, &|_| Ok(String::new())).expect("compiles");
        let runtime = Runtime::new(&compiled, &directory);
        for _ in 0..80 {
            let form = request(&mut random);
            let new = NewRequest {
                workflow: None,
                creator: creator.clone(),
                form: FormInput::Fields(form.clone()),
                sequence: None,
                started_by: None,
            };
            let Ok((created, _)) = runtime.create(0, &new, now) else { continue };
            let submit = |by: &str| Action {
                by: by.to_owned(),
                kind: ActionKind::Submit,
                opinion: None,
                set: None,
                to: Vec::new(),
                node: None,
                at: None,
                request: None,
            };
            // Refused by `required` or a `validate`: not a request that reaches 审批.
            let Ok((at_review, _)) = runtime.apply(&created, &submit(&creator), now) else { continue };
            // 审批, then 复核 when the request goes there: both nodes' regions are held to the runs.
            let mut request = at_review;
            for node in [&review_node, &second_node] {
                let by = request.pending[0].clone();
                let (taken, next) = match runtime.apply(&request, &submit(&by), now) {
                    Ok((next, step)) => (step.exit.clone(), Some(next)),
                    Err(error) if error.code.as_str() == "R0201" => (None, None),
                    Err(error) => panic!("seed {seed}: {error}\n{text}"),
                };
                samples += 1;
                if taken.is_none() {
                    stuck_seen += 1;
                    let covered = node.stuck.exact && node.stuck.is_empty();
                    assert!(
                        !covered,
                        "seed {seed}: `{}` proved covered, but {form:?} matches no exit\n{text}",
                        node.name
                    );
                }
                for exit in &node.exits {
                    if !exit.region.exact {
                        continue;
                    }
                    checks += 1;
                    let inside = contains(&exit.region, &form);
                    let took = taken.as_deref() == Some(exit.name.as_str());
                    assert_eq!(
                        inside, took,
                        "seed {seed}: at `{}`, {form:?} took {taken:?}; the region of `{}` ({:?}) says {inside}\n{text}",
                        node.name, exit.name, exit.region
                    );
                }
                if node.stuck.exact {
                    checks += 1;
                    assert_eq!(
                        contains(&node.stuck, &form),
                        taken.is_none(),
                        "seed {seed}: at `{}`, {form:?}, the no-exit region\n{text}",
                        node.name
                    );
                }
                match next {
                    Some(next) if !next.archived && compiled.program.workflows[0].nodes[next.node].name == "复核" => {
                        request = next;
                    }
                    _ => break,
                }
            }
        }
    }
    eprintln!(
        "{workflows} workflows, {samples} runs, {checks} region checks, {covered} proved covered, {stuck_seen} stuck"
    );
    assert!(checks > 8000, "regions are checked ({checks})");
    assert!(workflows == 60 && samples > 2000, "{workflows} workflows, {samples} samples");
    assert!(covered > 5 && covered < 55, "both covered and uncovered nodes are exercised ({covered} covered)");
    assert!(stuck_seen > 50, "requests that match no exit are exercised ({stuck_seen})");
}
