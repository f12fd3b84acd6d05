//! `flowc graph`: the layout's geometry (boxes disjoint, labels clear of
//! boxes and of each other, lines that end on their nodes' borders and never
//! cross a box, layers ordered along the main route) for every example and
//! for generated workflows; the committed pictures are what the binary draws
//! today; the overlays, the text formats, PNG and the command line.
//!
//! After a change to the drawing, `FLOWC_UPDATE_PICTURES=1 cargo test --test
//! main graph` rewrites the committed pictures; look at them before committing.

use super::generate;

use std::path::{Path, PathBuf};

use flowc::check::{check_paths, check_source, FsLoader};
use flowc::graph::layout::{layout, Layout, Rect};
use flowc::graph::overlay::{coverage_marks, trace_marks, Coverage, Trace};
use flowc::graph::{draw_svg, route_of, Mark, Marks, Route};

use super::flowc;

const NOW: &str = "2026-11-28T09:00:00+08:00";

/// Every run folder of the examples (a folder with a request.json) and the workflow it runs.
fn run_folders() -> Vec<(PathBuf, String)> {
    let mut folders = Vec::new();
    let mut pending = vec![PathBuf::from("examples")];
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).map(|entry| entry.path()).collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() && entry.file_name().is_some_and(|name| name != "scripts") {
                pending.push(entry);
            }
        }
        let request = dir.join("request.json");
        if request.exists() {
            let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&request).unwrap()).unwrap();
            folders.push((dir, value["workflow"].as_str().unwrap().to_owned()));
        }
    }
    folders.sort();
    folders
}

/// The `.flow` a run folder runs: its own, or its parent's.
fn flow_of(folder: &Path) -> PathBuf {
    for dir in [folder, folder.parent().unwrap()] {
        if let Some(flow) = super::flow_files(&dir.to_string_lossy()).into_iter().next() {
            return flow;
        }
    }
    panic!("no .flow for {}", folder.display());
}

fn route_of_file(flow: &Path, workflow: Option<&str>) -> Route {
    let analysis = check_paths(&[flow.to_path_buf()], &FsLoader);
    assert_eq!(analysis.error_count(), 0, "{}", flow.display());
    let program = flowc::ir::lower(&analysis).unwrap();
    route_of(&analysis, &program, workflow).unwrap()
}

fn route_of_text(text: &str) -> Route {
    let analysis = check_source("generated.flow", text);
    assert_eq!(analysis.error_count(), 0);
    let program = flowc::ir::lower(&analysis).unwrap();
    route_of(&analysis, &program, None).unwrap()
}

/// Every workflow of every example file.
fn every_example_route() -> Vec<Route> {
    let mut routes = Vec::new();
    for flow in super::example_files() {
        let analysis = check_paths(std::slice::from_ref(&flow), &FsLoader);
        let program = flowc::ir::lower(&analysis).unwrap();
        for workflow in &program.workflows {
            routes.push(route_of(&analysis, &program, Some(&workflow.name)).unwrap());
        }
    }
    routes
}

/// Rectangles whose interiors meet: sorted by top, each compared with those starting above its bottom.
fn overlapping(rects: &[(String, Rect)]) -> Vec<(String, String)> {
    let mut sorted: Vec<&(String, Rect)> =
        rects.iter().filter(|(_, rect)| rect.width > 0.0 && rect.height > 0.0).collect();
    sorted.sort_by(|a, b| a.1.y.total_cmp(&b.1.y));
    let mut found = Vec::new();
    for (index, (name, rect)) in sorted.iter().enumerate() {
        for (other_name, other) in sorted[index + 1..]
            .iter()
            .take_while(|(_, other)| other.y < rect.bottom())
            .map(|entry| (&entry.0, &entry.1))
        {
            if rect.overlaps(other) {
                found.push((name.clone(), other_name.clone()));
            }
        }
    }
    found
}

/// The properties every picture must have.
fn assert_geometry(route: &Route, layout: &Layout, context: &str) {
    // Boxes and labels: disjoint from each other, inside the picture.
    let mut rects: Vec<(String, Rect)> = layout
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| (format!("node {}", route.nodes[index].name), node.rect))
        .collect();
    rects.extend(layout.labels.iter().enumerate().map(|(index, label)| {
        let edge = &route.edges[index];
        (format!("label {}→{}", route.nodes[edge.from].name, edge.name), label.rect)
    }));
    let overlaps = overlapping(&rects);
    assert!(overlaps.is_empty(), "{context}: overlapping {overlaps:?}");
    for (name, rect) in &rects {
        assert!(rect.x >= 0.0 && rect.y >= 0.0, "{context}: {name} is outside the picture");
        assert!(
            rect.right() <= layout.width && rect.bottom() <= layout.height,
            "{context}: {name} is outside the picture"
        );
    }
    // Every exit has a label that says its name.
    for (index, edge) in route.edges.iter().enumerate() {
        assert!(layout.labels[index].lines[0].contains(&edge.name), "{context}: label of {}", edge.name);
    }

    // Lines: from the source's border to the target's; runs inside a band are
    // vertical, and no segment passes through a box or a label.
    let mut sorted = rects.clone();
    sorted.sort_by(|a, b| a.1.y.total_cmp(&b.1.y));
    let tallest = sorted.iter().map(|(_, rect)| rect.height).fold(0.0, f64::max);
    for (index, edge) in route.edges.iter().enumerate() {
        let path = &layout.edges[index];
        let name = format!("{}→{} ({})", route.nodes[edge.from].name, route.nodes[edge.to].name, edge.name);
        assert!(path.points.len() >= 2, "{context}: {name} has no line");
        let first = path.points[0];
        let last = *path.points.last().unwrap();
        let source = layout.nodes[edge.from].rect;
        let target = layout.nodes[edge.to].rect;
        assert!(source.on_border(first, 0.01), "{context}: {name} starts at {first:?}, not on {source:?}");
        match path.trunk {
            // A line joining a trunk ends on it, and the trunk ends on the target's border.
            Some(trunk) => {
                let trunk = &layout.trunks[trunk];
                assert_eq!(trunk.target, edge.to, "{context}: {name}");
                assert!(trunk.edges.contains(&index), "{context}: {name}");
                assert!(target.on_border(trunk.points[0], 0.01), "{context}: trunk of {name} starts off {target:?}");
                let on_trunk = trunk.points.windows(2).any(|run| {
                    (run[0].x - last.x).abs() < 0.01
                        && (run[1].x - last.x).abs() < 0.01
                        && last.y >= run[0].y.min(run[1].y) - 0.01
                        && last.y <= run[0].y.max(run[1].y) + 0.01
                });
                assert!(on_trunk, "{context}: {name} ends at {last:?}, off its trunk");
            }
            None => assert!(target.on_border(last, 0.01), "{context}: {name} ends at {last:?}, not on {target:?}"),
        }
        // The arrow meets the border square: the last run is vertical.
        let before = path.points[path.points.len() - 2];
        assert!((before.x - last.x).abs() < 0.01 || before.y != last.y, "{context}: {name} ends sideways");
        assert_eq!(path.back, layout.layers[edge.to] <= layout.layers[edge.from], "{context}: {name} direction");
        for pair in path.points.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let span = Rect {
                x: a.x.min(b.x) + 0.5,
                y: a.y.min(b.y) + 0.5,
                width: ((a.x - b.x).abs() - 1.0).max(0.0),
                height: ((a.y - b.y).abs() - 1.0).max(0.0),
            };
            let start = sorted.partition_point(|(_, rect)| rect.y + tallest < span.y);
            for (other, rect) in sorted[start..].iter().take_while(|(_, rect)| rect.y <= span.bottom()) {
                let crosses =
                    span.x < rect.right() && rect.x < span.right() && span.y < rect.bottom() && rect.y < span.bottom()
                        || (span.width == 0.0
                            && span.x > rect.x
                            && span.x < rect.right()
                            && span.y < rect.bottom()
                            && rect.y < span.bottom());
                assert!(!crosses, "{context}: {name} passes through {other} ({a:?} → {b:?})");
            }
        }
    }

    for trunk in &layout.trunks {
        for pair in trunk.points.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            for (other, rect) in &sorted {
                let inside_x = a.x.min(b.x) < rect.right() - 0.5 && a.x.max(b.x) > rect.x + 0.5;
                let inside_y = a.y.min(b.y) < rect.bottom() - 0.5 && a.y.max(b.y) > rect.y + 0.5;
                if layout.edges.len() < 400 {
                    assert!(!(inside_x && inside_y), "{context}: a trunk passes through {other}");
                }
            }
        }
    }

    // Layers: the create node on top, and strictly down along the main route, boxes too.
    assert_eq!(layout.layers[route.create], 0, "{context}");
    assert_eq!(layout.main_route[0], route.create, "{context}");
    for pair in layout.main_route.windows(2) {
        let (upper, lower) = (pair[0], pair[1]);
        assert!(layout.layers[upper] < layout.layers[lower], "{context}: main route {pair:?}");
        assert!(layout.nodes[upper].rect.bottom() < layout.nodes[lower].rect.y, "{context}: main route {pair:?}");
    }
}

#[test]
fn every_example_is_laid_out_cleanly() {
    let routes = every_example_route();
    assert!(routes.len() >= 9);
    for route in &routes {
        let layout = layout(route, &Marks::none(route));
        assert_geometry(route, &layout, &route.workflow);
    }
}

/// The main route of each example, as an analyst reads it.
#[test]
fn the_main_route_runs_down_the_middle_of_each_example() {
    let expected: &[(&str, &[&str])] = &[
        ("费用报销", &["填写申请", "部门审批", "财务审核", "出纳付款", "归档"]),
        ("请假", &["填写申请", "部门审批", "分管领导审批", "人事审核", "销假", "归档"]),
        ("签约", &["签约申请", "合同会签", "签约室安排", "现场签约", "客服备案", "归档"]),
        ("上门维修", &["受理登记", "技术诊断", "回访", "归档"]),
        ("退预留款", &["填写退款单", "销售经理审批", "财务复核", "领导签字", "出纳退款", "归档"]),
    ];
    let routes = every_example_route();
    for (workflow, names) in expected {
        let route = routes.iter().find(|route| route.workflow == *workflow).unwrap();
        let layout = layout(route, &Marks::none(route));
        let main: Vec<&str> = layout.main_route.iter().map(|&node| route.nodes[node].name.as_str()).collect();
        assert_eq!(&main, names, "{workflow}");
    }
}

#[test]
fn generated_workflows_are_laid_out_cleanly() {
    for nodes in [3, 12, 60, 250] {
        let text = generate::flow(generate::Size { nodes, fields: 60 });
        let route = route_of_text(&text);
        let layout = layout(&route, &Marks::none(&route));
        let context = format!("generated, {nodes} nodes");
        assert_geometry(&route, &layout, &context);
        // Every node is on the main route (节点0 → 节点1 → … → 归档 by the default exits).
        assert_eq!(layout.main_route.len(), nodes, "{context}");
        assert_eq!(route.nodes[*layout.main_route.last().unwrap()].name, "归档");
    }
}

#[test]
fn odd_routes_are_laid_out_cleanly() {
    // A node that loops to itself, returns to a node beside it, and a node no exit reaches.
    let text = r#"
form 单 "单" { 金额: money "金额" }
workflow 怪 "怪流程" {
  form 单
  node 开始: create { operators { everyone } editable 金额  exit 提交 -> 甲  exit 旁 -> 乙 when 金额 > 1 }
  node 甲: approve { operators { creator } exit 再审 -> 甲 when 金额 > 5  exit 好 -> 归档  return 退 -> 乙 }
  node 乙: approve { operators { creator } exit 好 -> 归档  return 回 -> 甲 when 金额 > 2  return 退 -> 开始 }
  node 孤: approve { operators { creator } exit 好 -> 甲 }
  node 归档: archive
}
"#;
    let route = route_of_text(text);
    let layout = layout(&route, &Marks::none(&route));
    assert_geometry(&route, &layout, "odd");
}

/// The pictures committed beside each example are what the binary draws today.
#[test]
fn committed_pictures_are_what_the_binary_draws() {
    let update = std::env::var_os("FLOWC_UPDATE_PICTURES").is_some();
    let mut stale = Vec::new();
    for (folder, workflow) in run_folders() {
        let route = route_of_file(&flow_of(&folder), Some(&workflow));
        let picture = draw_svg(&route, &Marks::none(&route));
        let path = folder.join("route.svg");
        if update {
            std::fs::write(&path, &picture).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(picture.as_str()) {
            stale.push(path.display().to_string());
        }
        let readme = if folder.join("README.md").exists() {
            folder.join("README.md")
        } else {
            folder.parent().unwrap().join("README.md")
        };
        let shown = folder.strip_prefix(readme.parent().unwrap()).unwrap().join("route.svg");
        let text = std::fs::read_to_string(&readme).unwrap();
        assert!(
            text.contains(&format!("]({})", shown.display())),
            "{} does not show {}",
            readme.display(),
            shown.display()
        );
    }
    assert!(
        stale.is_empty(),
        "pictures differ from what flowc draws (FLOWC_UPDATE_PICTURES=1 rewrites them): {stale:?}"
    );
}

#[test]
fn svg_is_well_formed_and_keeps_chinese_as_text() {
    let route = route_of_file(Path::new("examples/expense/expense.flow"), None);
    let picture = draw_svg(&route, &Marks::none(&route));
    assert!(picture.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(picture.contains(">部门审批</text>"));
    assert!(picture.contains("when 类别 == &quot;招待&quot; and 合计"));
    assert!(picture.contains("stroke-dasharray"), "returns are dashed");
    assert_eq!(picture.matches("<g>").count(), picture.matches("</g>").count() - 1);
    // The same route is drawn the same way every time.
    assert_eq!(picture, draw_svg(&route, &Marks::none(&route)));
}

#[test]
fn mermaid_and_dot_say_the_route() {
    let route = route_of_file(Path::new("examples/expense/expense.flow"), None);
    let marks = Marks::none(&route);
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("graph_expense_mermaid", flowc::graph::mermaid::render(&route, &marks));
        insta::assert_snapshot!("graph_expense_dot", flowc::graph::dot::render(&route, &marks));
    });
}

fn expense_trace() -> Trace {
    let (status, stdout, stderr) = flowc(&["run", "examples/expense", "--now", NOW, "--format", "json"]);
    assert_eq!(status, 0, "{stderr}");
    Trace::from_json(&stdout).unwrap()
}

#[test]
fn a_trace_marks_the_path_with_steps_and_people() {
    let route = route_of_file(Path::new("examples/expense/expense.flow"), None);
    let trace = expense_trace();
    let marks = trace_marks(&route, &trace, &|id| format!("<{id}>"));
    let node = |name: &str| route.node_named(name).unwrap();
    let edge = |from: &str, name: &str, kind| route.edge_named(node(from), name, kind).unwrap();
    use flowc::syntax::ast::ExitKind::{Exit, Return};
    assert_eq!(marks.node(node("归档")), Mark::Current);
    assert_eq!(marks.node(node("总经理审批")), Mark::Taken);
    assert_eq!(marks.edge(edge("部门审批", "退回", Return)), Mark::Taken);
    assert_eq!(marks.edge(edge("财务审核", "招待", Exit)), Mark::Taken);
    assert_eq!(marks.edge(edge("财务审核", "大额", Exit)), Mark::Plain);
    assert_eq!(marks.edge_notes[edge("填写申请", "提交", Exit)], ["steps 1, 3"]);
    assert_eq!(marks.node_notes[node("部门审批")], ["2. <E0122> rejects", "4. <E0122> submits"]);
    assert_eq!(marks.node_notes[node("填写申请")][0], "created by <E0123>");
    let layout = layout(&route, &marks);
    assert_geometry(&route, &layout, "expense with its trace");
}

#[test]
fn a_refused_run_marks_where_it_stopped() {
    let route = route_of_file(Path::new("examples/expense/expense.flow"), None);
    let json = r#"{"status": "refused",
        "request": {"workflow": "费用报销", "node": "部门审批", "pending": ["E0122"], "future_field": 1},
        "steps": [{"by": "E0123", "do": "create", "from": "填写申请"},
                  {"by": "E0123", "do": "submit", "from": "填写申请", "exit": "提交", "to": "部门审批", "new": true}],
        "error": {"code": "R0203", "message": "not a pending operator", "step": 2}}"#;
    let trace = Trace::from_json(json).unwrap();
    let marks = trace_marks(&route, &trace, &|id| id.to_owned());
    assert_eq!(marks.node(route.node_named("部门审批").unwrap()), Mark::Refused);
    assert!(marks.node_notes[route.node_named("部门审批").unwrap()].contains(&"2. refused: R0203".to_owned()));
    assert!(Trace::from_json("{\"status\": \"archived\"}").unwrap_err().contains("no `steps`"));
}

#[test]
fn coverage_colours_the_exits_no_test_took() {
    let route = route_of_file(Path::new("examples/expense/expense.flow"), None);
    let coverage = Coverage::from_json(
        r#"{"workflow": "费用报销", "taken": {"填写申请": {"提交": 4}, "部门审批": ["同意", "退回"], "财务审核": {"同意": 2}}}"#,
    )
    .unwrap();
    let mut marks = Marks::none(&route);
    coverage_marks(&route, &coverage, &mut marks);
    let edge = |from: &str, name: &str| {
        route.edges.iter().position(|edge| route.nodes[edge.from].name == from && edge.name == name).unwrap()
    };
    assert_eq!(marks.edge(edge("填写申请", "提交")), Mark::Plain);
    assert_eq!(marks.edge_notes[edge("填写申请", "提交")], ["tests: 4"]);
    assert_eq!(marks.edge(edge("财务审核", "大额")), Mark::Untested);
    assert_eq!(marks.edge(edge("出纳付款", "付款完成")), Mark::Untested);
    assert!(Coverage::from_json(r#"{"taken": {"甲": 3}}"#).unwrap_err().contains("neither a list"));
    assert_geometry(&route, &layout(&route, &marks), "expense with coverage");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-graph-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn graph_command_writes_each_format() {
    let dir = scratch("formats");
    let (status, stdout, stderr) = flowc(&["graph", "examples/expense"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, std::fs::read_to_string("examples/expense/route.svg").unwrap());
    let (status, stdout, _) = flowc(&["graph", "examples/expense/expense.flow", "--format", "mermaid"]);
    assert_eq!(status, 0);
    assert!(stdout.contains("flowchart TD") && stdout.contains("-.->|\"退回\"|"), "{stdout}");
    let dot = dir.join("route.dot");
    let (status, _, stderr) = flowc(&["graph", "examples/expense", "-o", dot.to_str().unwrap()]);
    assert_eq!(status, 0, "{stderr}");
    assert!(std::fs::read_to_string(&dot).unwrap().starts_with("digraph \"费用报销\""));
    // Several workflows: the one named.
    let (status, stdout, _) =
        flowc(&["graph", "examples/aftersales/aftersales.flow", "--workflow", "上门维修", "--format", "dot"]);
    assert_eq!(status, 0);
    assert!(stdout.contains("\"技术诊断\""));
}

#[test]
fn graph_command_refuses_bad_input_clearly() {
    let dir = scratch("bad");
    let (status, _, stderr) = flowc(&["graph", "examples/aftersales/aftersales.flow"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("several workflows") && stderr.contains("`上门维修`"), "{stderr}");
    let (status, _, stderr) = flowc(&["graph", "examples/expense", "--workflow", "请假"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("no workflow `请假`"), "{stderr}");
    let broken = dir.join("broken.flow");
    std::fs::write(&broken, "workflow 坏 { node 甲: create { exit 去 -> 乙 } }").unwrap();
    let (status, _, stderr) = flowc(&["graph", broken.to_str().unwrap()]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("graph stopped"), "{stderr}");
    let trace = dir.join("trace.json");
    std::fs::write(&trace, "[1, 2]").unwrap();
    let (status, _, stderr) = flowc(&["graph", "examples/expense", "--trace", trace.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stderr.contains("trace.json` is not the JSON of `flowc run --format json`"), "{stderr}");
    let (status, _, stderr) =
        flowc(&["graph", "examples/expense", "--coverage", dir.join("missing.json").to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stderr.contains("cannot read the coverage file"), "{stderr}");
}

#[test]
fn a_run_becomes_one_html_page() {
    let dir = scratch("html");
    let page = dir.join("run.html");
    let (status, _, stderr) = flowc(&["run", "examples/expense", "--now", NOW, "--html", page.to_str().unwrap()]);
    assert_eq!(status, 0, "{stderr}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"), "self-contained, picture inline");
    assert!(html.contains("冯涛的费用报销"), "the request's title");
    assert!(html.contains("郑洁 (E0122)") && html.contains("rejects"), "the story names people");
    assert!(html.contains("1. 冯涛 submits"), "the picture names people");
    assert!(!html.contains("src=\"http") && !html.contains("<link"), "nothing is fetched");
    // The same page from a saved run's JSON.
    let json = dir.join("run.json");
    let (_, stdout, _) = flowc(&["run", "examples/expense", "--now", NOW, "--format", "json"]);
    std::fs::write(&json, stdout).unwrap();
    let again = dir.join("again.html");
    let (status, _, stderr) = flowc(&[
        "graph",
        "examples/expense",
        "--format",
        "html",
        "--trace",
        json.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
    ]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&again).unwrap(), html);
}

#[cfg(feature = "png")]
#[test]
fn png_draws_chinese_with_a_system_font_or_says_what_to_install() {
    use flowc::graph::png;
    let route = route_of_file(Path::new("examples/expense/expense.flow"), None);
    let picture = draw_svg(&route, &Marks::none(&route));
    // Without fonts: a clear error, no picture of empty boxes.
    let error = png::render_with_fonts(&picture, Default::default()).unwrap_err().to_string();
    assert!(error.contains("no font with Chinese characters") && error.contains("fonts-noto-cjk"), "{error}");
    // With the system's fonts (CI installs one).
    let dir = scratch("png");
    let out = dir.join("route.png");
    let (status, _, stderr) = flowc(&["graph", "examples/expense", "-o", out.to_str().unwrap()]);
    assert_eq!(status, 0, "{stderr}");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(width > 400 && height > 800, "{width}×{height}");
}
