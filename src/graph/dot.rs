//! The route in Graphviz's DOT language, for people who lay routes out with
//! other tools: nodes shaped by kind, exits labelled, returns dashed and
//! left out of the ranking (`constraint=false`) so they do not pull the
//! route upside down.

use std::fmt::Write as _;

use super::{kind_word, mode_word, Mark, Marks, Route};
use crate::ir::NodeKind;

fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(character),
        }
    }
    out.push('"');
    out
}

pub fn render(route: &Route, marks: &Marks) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(&route.workflow));
    let _ = writeln!(out, "  label={}; labelloc=t;", quote(&format!("{} · {}", route.workflow, route.label)));
    out.push_str("  rankdir=TB;\n");
    out.push_str("  node [fontname=\"Noto Sans CJK SC\", fontsize=12, style=\"filled,rounded\", shape=box];\n");
    out.push_str("  edge [fontname=\"Noto Sans CJK SC\", fontsize=11];\n");
    for (index, node) in route.nodes.iter().enumerate() {
        let mut lines = vec![node.name.clone()];
        if node.label != node.name {
            lines.push(node.label.clone());
        }
        let mut tag = kind_word(node.kind).to_owned();
        if let Some(mode) = mode_word(node.mode).filter(|_| !node.batches.is_empty()) {
            let _ = write!(tag, " · {mode}");
        }
        lines.push(format!("[{tag}]"));
        for batch in &node.batches {
            let people = batch.lines.join(", ");
            lines.push(if node.batches.len() > 1 { format!("{}) {people}", batch.number) } else { people });
        }
        lines.extend(marks.node_notes.get(index).into_iter().flatten().cloned());
        let (shape, fill, stroke) = match node.kind {
            NodeKind::Create => ("box", "#e8f5e9", "#2e7d32"),
            NodeKind::Approve => ("box", "#e3f2fd", "#1565c0"),
            NodeKind::Realize => ("box", "#fff3e0", "#e65100"),
            NodeKind::Merge => ("box", "#f3e5f5", "#6a1b9a"),
            NodeKind::Archive => ("box", "#eceff1", "#455a64"),
        };
        let extra = match (node.kind, marks.node(index)) {
            (_, Mark::Taken | Mark::Current) => ", penwidth=3, color=\"#8e24aa\"".to_owned(),
            (NodeKind::Archive, _) => format!(", peripheries=2, color=\"{stroke}\""),
            _ => format!(", color=\"{stroke}\""),
        };
        let _ = writeln!(
            out,
            "  {} [label={}, shape={shape}, fillcolor=\"{fill}\"{extra}];",
            quote(&node.name),
            quote(&lines.join("\n"))
        );
    }
    for (index, edge) in route.edges.iter().enumerate() {
        let (Some(from), Some(to)) = (route.nodes.get(edge.from), route.nodes.get(edge.to)) else { continue };
        let mut text = edge.shown_name();
        if let Some(condition) = &edge.condition {
            let _ = write!(text, "\nwhen {condition}");
        }
        for note in marks.edge_notes.get(index).into_iter().flatten() {
            let _ = write!(text, "\n{note}");
        }
        let mut attributes = vec![format!("label={}", quote(&text))];
        if edge.is_return() {
            attributes.push("style=dashed, color=\"#c0392b\", fontcolor=\"#c0392b\", constraint=false".into());
        }
        match marks.edge(index) {
            Mark::Taken | Mark::Current => attributes.push("penwidth=3, color=\"#8e24aa\"".into()),
            Mark::Untested => attributes.push("penwidth=2, color=\"#ef6c00\", fontcolor=\"#ef6c00\"".into()),
            _ => {}
        }
        let _ = writeln!(out, "  {} -> {} [{}];", quote(&from.name), quote(&to.name), attributes.join(", "));
    }
    out.push_str("}\n");
    out
}
