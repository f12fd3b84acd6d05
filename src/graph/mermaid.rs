//! The route as a Mermaid flowchart, for pasting into Markdown: nodes shaped
//! by kind (create a stadium, approve a box, realize a subroutine box,
//! archive a cylinder), exits as labelled arrows, returns dotted.

use std::fmt::Write as _;

use super::{kind_word, mode_word, Mark, Marks, Route};
use crate::ir::NodeKind;

/// Mermaid reads `"`, `<`, `>` and `#` inside a quoted label as markup: write them as entities.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(character),
        }
    }
    out
}

fn quote(text: &str) -> String {
    format!("\"{}\"", escape(text))
}

pub fn render(route: &Route, marks: &Marks) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "---\ntitle: {}\n---", quote(&format!("{} · {}", route.workflow, route.label)));
    out.push_str("flowchart TD\n");
    for (index, node) in route.nodes.iter().enumerate() {
        let mut text = format!("<b>{}</b>", escape(&node.name));
        if node.label != node.name {
            let _ = write!(text, "<br/>{}", escape(&node.label));
        }
        let mut tag = kind_word(node.kind).to_owned();
        if let Some(mode) = mode_word(node.mode).filter(|_| !node.batches.is_empty()) {
            let _ = write!(tag, " · {mode}");
        }
        let _ = write!(text, "<br/><i>{tag}</i>");
        for batch in &node.batches {
            let people = escape(&batch.lines.join(", "));
            if node.batches.len() > 1 {
                let _ = write!(text, "<br/>{}) {people}", batch.number);
            } else {
                let _ = write!(text, "<br/>{people}");
            }
        }
        for note in marks.node_notes.get(index).into_iter().flatten() {
            let _ = write!(text, "<br/>{}", escape(note));
        }
        let label = format!("\"{text}\"");
        let (open, close) = match node.kind {
            NodeKind::Create => ("([", "])"),
            NodeKind::Approve => ("[", "]"),
            NodeKind::Realize => ("[[", "]]"),
            NodeKind::Merge => ("{{", "}}"),
            NodeKind::Archive => ("[(", ")]"),
        };
        let _ = writeln!(out, "  n{index}{open}{label}{close}");
    }
    for (index, edge) in route.edges.iter().enumerate() {
        let mut text = edge.shown_name();
        if let Some(condition) = &edge.condition {
            let _ = write!(text, " when {condition}");
        }
        for note in marks.edge_notes.get(index).into_iter().flatten() {
            let _ = write!(text, " · {note}");
        }
        let arrow = if edge.is_return() { "-.->" } else { "-->" };
        let _ = writeln!(out, "  n{} {arrow}|{}| n{}", edge.from, quote(&text), edge.to);
    }
    out.push_str("  classDef create fill:#e8f5e9,stroke:#2e7d32\n");
    out.push_str("  classDef approve fill:#e3f2fd,stroke:#1565c0\n");
    out.push_str("  classDef realize fill:#fff3e0,stroke:#e65100\n");
    out.push_str("  classDef archive fill:#eceff1,stroke:#455a64\n");
    for (class, kind) in [
        ("create", NodeKind::Create),
        ("approve", NodeKind::Approve),
        ("realize", NodeKind::Realize),
        ("archive", NodeKind::Archive),
    ] {
        let members: Vec<String> = route
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| node.kind == kind)
            .map(|(index, _)| format!("n{index}"))
            .collect();
        if !members.is_empty() {
            let _ = writeln!(out, "  class {} {class}", members.join(","));
        }
    }
    let taken: Vec<String> = route
        .nodes
        .iter()
        .enumerate()
        .filter(|(index, _)| matches!(marks.node(*index), Mark::Taken | Mark::Current))
        .map(|(index, _)| format!("n{index}"))
        .collect();
    if !taken.is_empty() {
        out.push_str("  classDef taken stroke:#8e24aa,stroke-width:3px\n");
        let _ = writeln!(out, "  class {} taken", taken.join(","));
    }
    for (index, _) in route.edges.iter().enumerate() {
        match marks.edge(index) {
            Mark::Taken | Mark::Current => {
                let _ = writeln!(out, "  linkStyle {index} stroke:#8e24aa,stroke-width:3px");
            }
            Mark::Untested => {
                let _ = writeln!(out, "  linkStyle {index} stroke:#ef6c00,stroke-width:2px");
            }
            _ => {}
        }
    }
    out
}
