//! Pictures of a route (`flowc graph`): the nodes of one workflow drawn by
//! kind with their operators in short, the exits as arrows labelled with
//! their name and condition, returns dashed and going back. Reads the IR as
//! the runtime does and prints nothing: [`Route`] is what the picture says,
//! [`layout`] where everything goes (a layered layout whose geometry tests
//! assert on), and `svg`, `mermaid`, `dot`, `html` and `png` write it out.
//! [`overlay`] turns a run's JSON (`flowc run --format json`) or a coverage
//! file into [`Marks`] drawn over the route.

pub mod dot;
pub mod html;
pub mod layout;
pub mod mermaid;
pub mod overlay;
#[cfg(feature = "png")]
pub mod png;
pub mod svg;
pub mod text;

use std::sync::Arc;

use crate::check::Analysis;
use crate::ir::{Loc, NodeKind, Program};
use crate::syntax::ast::{ExitKind, OperatorMode};

/// One workflow as the picture shows it.
#[derive(Debug, Clone)]
pub struct Route {
    pub workflow: String,
    pub label: String,
    pub nodes: Vec<RouteNode>,
    /// Every exit and return: for each node, its exits then its returns, in written order.
    pub edges: Vec<RouteEdge>,
    /// The create node.
    pub create: usize,
}

#[derive(Debug, Clone)]
pub struct RouteNode {
    pub name: String,
    pub label: String,
    pub kind: NodeKind,
    pub mode: OperatorMode,
    /// The operator lines of each batch, as written (`role("总经理")`, `申请人.manager`).
    pub batches: Vec<OperatorBatch>,
    /// What else happens there, one line each: `期限 3 days` (超时设置), `▶ 安装调试 (waits)`.
    pub extras: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct OperatorBatch {
    pub number: u64,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RouteEdge {
    pub from: usize,
    pub to: usize,
    pub kind: ExitKind,
    pub name: String,
    /// Its place (from 1) among the node's exits, or among its returns: the order they are tried in.
    pub order: usize,
    /// How many exits (or returns) the node has; a lone one is not numbered.
    pub siblings: usize,
    /// The `when` condition as written, on one line.
    pub condition: Option<String>,
    /// The exit runs statements when taken (`exit 同意 -> 归档 { … }`).
    pub has_block: bool,
    /// An exit of a `fork` group: taken with every other of the group that holds.
    pub parallel: bool,
}

impl RouteEdge {
    /// The edge's name as the picture shows it: numbered by the order exits are tried in, or,
    /// for a fork's branches (all taken), marked `∥`.
    pub fn shown_name(&self) -> String {
        if self.parallel {
            format!("∥ {}", self.name)
        } else if self.siblings > 1 {
            format!("{}. {}", self.order, self.name)
        } else {
            self.name.clone()
        }
    }

    pub fn is_return(&self) -> bool {
        self.kind == ExitKind::Return
    }
}

impl Route {
    /// The route of `program.workflows[workflow]`; `texts` are the source
    /// files by `Loc::file`, for conditions and operators as written.
    pub fn new(program: &Program, workflow: usize, texts: &[Arc<str>]) -> Option<Route> {
        let workflow = program.workflows.get(workflow)?;
        let source = |at: Loc| -> String {
            let text = texts.get(at.file as usize).and_then(|text| text.get(at.start as usize..at.end as usize));
            one_line(text.unwrap_or(""))
        };
        let nodes = workflow
            .nodes
            .iter()
            .map(|node| RouteNode {
                name: node.name.clone(),
                label: node.label.clone(),
                kind: node.kind,
                mode: node.mode,
                batches: node
                    .batches
                    .iter()
                    .map(|batch| OperatorBatch {
                        number: batch.number,
                        lines: batch.lines.iter().map(|line| source(line.at)).collect(),
                    })
                    .collect(),
                extras: node_extras(program, node),
            })
            .collect();
        let mut edges = Vec::new();
        for (index, node) in workflow.nodes.iter().enumerate() {
            for list in [&node.exits, &node.returns] {
                for (order, exit) in list.iter().enumerate() {
                    edges.push(RouteEdge {
                        from: index,
                        to: exit.target,
                        kind: exit.kind,
                        name: exit.name.clone(),
                        order: order + 1,
                        siblings: list.len(),
                        condition: exit.condition.as_ref().map(|condition| source(condition.at)),
                        has_block: !exit.block.is_empty(),
                        parallel: node.fork.is_some() && exit.kind == ExitKind::Exit,
                    });
                }
            }
        }
        Some(Route {
            workflow: workflow.name.clone(),
            label: workflow.label.clone(),
            nodes,
            edges,
            create: workflow.create,
        })
    }

    pub fn node_named(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.name == name)
    }

    /// The edge leaving `from` by the exit (or return) called `name`.
    pub fn edge_named(&self, from: usize, name: &str, kind: ExitKind) -> Option<usize> {
        self.edges.iter().position(|edge| edge.from == from && edge.name == name && edge.kind == kind)
    }
}

/// The route of the workflow called `name` (or the only one) of a checked,
/// lowered program.
pub fn route_of(analysis: &Analysis, program: &Program, name: Option<&str>) -> Result<Route, String> {
    let names =
        || program.workflows.iter().map(|workflow| format!("`{}`", workflow.name)).collect::<Vec<_>>().join(", ");
    let index = match name {
        Some(name) => program
            .workflows
            .iter()
            .position(|workflow| workflow.name == name)
            .ok_or_else(|| format!("no workflow `{name}` in the program (it has {})", names()))?,
        None if program.workflows.len() == 1 => 0,
        None if program.workflows.is_empty() => return Err("the program has no workflow to draw".into()),
        None => return Err(format!("the program has several workflows ({}); name one with `--workflow`", names())),
    };
    let texts: Vec<Arc<str>> = analysis.sources.files().map(|(_, file)| file.text.clone()).collect();
    Route::new(program, index, &texts).ok_or_else(|| "the workflow cannot be drawn".into())
}

/// The SVG picture of a route with its marks.
pub fn draw_svg(route: &Route, marks: &Marks) -> String {
    svg::render(route, &layout::layout(route, marks), marks)
}

/// Source text on one line: comments dropped (they may end an operator
/// line's span), runs of white space made one space.
fn one_line(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut previous = '\0';
        let mut cut = line.len();
        for (at, character) in line.char_indices() {
            match character {
                '"' if previous != '\\' => in_string = !in_string,
                '/' if !in_string && previous == '/' => {
                    cut = at - 1;
                    break;
                }
                _ => {}
            }
            previous = character;
        }
        kept.push_str(line.get(..cut).unwrap_or(line));
        kept.push(' ');
    }
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A node's deadline and the workflow it starts, as lines of its box.
fn node_extras(program: &Program, node: &crate::ir::Node) -> Vec<String> {
    let mut extras = Vec::new();
    if let Some(deadline) = &node.deadline {
        extras.push(format!("期限 {}", deadline.text));
    }
    if let Some(start) = &node.start {
        let name = program.workflows.get(start.workflow).map_or("", |workflow| workflow.name.as_str());
        let waits = if start.wait.is_some() { " (waits)" } else { "" };
        extras.push(format!("▶ {name}{waits}"));
    }
    extras
}

/// The kind of a node as the e-cology designer names it.
pub fn kind_word(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Create => "创建",
        NodeKind::Approve => "批准",
        NodeKind::Realize => "实现",
        NodeKind::Merge => "合并",
        NodeKind::Archive => "归档",
    }
}

/// The countersign mode as the manual names it; nothing for the default (`any`).
pub fn mode_word(mode: OperatorMode) -> Option<&'static str> {
    match mode {
        OperatorMode::Any => None,
        OperatorMode::All => Some("会签"),
        OperatorMode::Sequential => Some("依次"),
    }
}

/// How an overlay marks a node or an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mark {
    #[default]
    Plain,
    /// On the path a request took.
    Taken,
    /// Where the request is now (or archived).
    Current,
    /// Where an action was refused.
    Refused,
    /// An exit no test took (coverage).
    Untested,
}

/// What overlays add to a route: emphasis, and lines of notes drawn under a
/// node's operators or under an edge's label (step numbers, who acted).
#[derive(Debug, Clone, Default)]
pub struct Marks {
    pub nodes: Vec<Mark>,
    pub edges: Vec<Mark>,
    pub node_notes: Vec<Vec<String>>,
    pub edge_notes: Vec<Vec<String>>,
}

impl Marks {
    pub fn none(route: &Route) -> Marks {
        Marks {
            nodes: vec![Mark::Plain; route.nodes.len()],
            edges: vec![Mark::Plain; route.edges.len()],
            node_notes: vec![Vec::new(); route.nodes.len()],
            edge_notes: vec![Vec::new(); route.edges.len()],
        }
    }

    pub fn node(&self, index: usize) -> Mark {
        self.nodes.get(index).copied().unwrap_or_default()
    }

    pub fn edge(&self, index: usize) -> Mark {
        self.edges.get(index).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_drops_comments_but_not_strings() {
        assert_eq!(super::one_line("role(\"总经理\") // 马总签字\n  , x"), "role(\"总经理\") , x");
        assert_eq!(super::one_line("a == \"http://x\""), "a == \"http://x\"");
    }
}
