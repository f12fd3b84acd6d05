//! One self-contained HTML page: the picture of the route (inline SVG) and,
//! for a run, the story of the request step by step — what a manager who
//! will not read JSON is sent.

use std::fmt::Write as _;

use super::overlay::{verb, Trace};
use super::svg::escape;
use super::Route;

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif;\
margin:24px;color:#263238;max-width:1200px}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}\
.status{display:inline-block;padding:2px 10px;border-radius:10px;background:#eceff1;font-size:13px}\
.archived{background:#e8f5e9;color:#2e7d32}.pending{background:#e3f2fd;color:#1565c0}\
.refused,.error{background:#ffebee;color:#c0392b}.picture{overflow:auto;border:1px solid #cfd8dc;border-radius:6px;margin-top:16px}\
table{border-collapse:collapse;font-size:14px;width:100%}td,th{border-bottom:1px solid #eceff1;padding:6px 8px;text-align:left;vertical-align:top}\
th{background:#f5f7f8}.opinion{color:#546e7a}.refusal{border-left:4px solid #c0392b;background:#fff5f5;padding:8px 12px;margin-top:12px}";

/// The page; `name` shows a person (`郑洁 (E0122)`) from their id.
pub fn page(route: &Route, svg: &str, trace: Option<&Trace>, name: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(svg.len() + 8192);
    let heading = match trace.and_then(|trace| trace.title.as_deref()).filter(|title| !title.is_empty()) {
        Some(title) => title.to_owned(),
        None => format!("{} · {}", route.workflow, route.label),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&heading)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&heading));
    let _ = write!(out, "<p>{} · {}", escape(&route.workflow), escape(&route.label));
    if let Some(trace) = trace {
        let status = if trace.status.is_empty() { "unknown" } else { trace.status.as_str() };
        let _ = write!(out, " <span class=\"status {0}\">{0}</span>", escape(status));
        if let Some(node) = &trace.node {
            let _ = write!(out, " at <b>{}</b>", escape(node));
        }
    }
    out.push_str("</p>\n");
    let _ = writeln!(out, "<div class=\"picture\">\n{svg}</div>");
    if let Some(trace) = trace {
        story(&mut out, trace, name);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn people(ids: &[String], name: &dyn Fn(&str) -> String) -> String {
    ids.iter().map(|id| escape(&name(id))).collect::<Vec<_>>().join("、")
}

fn story(out: &mut String, trace: &Trace, name: &dyn Fn(&str) -> String) {
    out.push_str(
        "<h2>What happened</h2>\n<table>\n<tr><th>#</th><th>node</th><th>who</th><th>what</th><th>then</th></tr>\n",
    );
    for step in &trace.steps {
        let number = if step.action == "create" { String::new() } else { step.number.to_string() };
        let mut what = escape(verb(&step.action));
        if !step.people.is_empty() {
            let _ = write!(what, " → {}", people(&step.people, name));
        }
        if let Some(opinion) = &step.opinion {
            let _ = write!(what, "<br><span class=\"opinion\">“{}”</span>", escape(opinion));
        }
        let then = match (&step.exit, &step.to) {
            _ if step.archived => match &step.exit {
                Some(exit) => format!("{} → <b>archived</b>", escape(exit)),
                None => "<b>archived</b>".to_owned(),
            },
            (Some(exit), Some(to)) => {
                let handlers = if step.operators.is_empty() {
                    String::new()
                } else {
                    format!(": {}", people(&step.operators, name))
                };
                format!("{} → <b>{}</b>{handlers}", escape(exit), escape(to))
            }
            _ if step.action == "create" => "the request is created".to_owned(),
            _ if !step.pending.is_empty() => format!("waiting for {}", people(&step.pending, name)),
            _ => "nothing moves".to_owned(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{number}</td><td>{}</td><td>{}</td><td>{what}</td><td>{then}</td></tr>",
            escape(&step.from),
            escape(&name(&step.by))
        );
    }
    out.push_str("</table>\n");
    if let Some(error) = &trace.error {
        let _ = writeln!(
            out,
            "<div class=\"refusal\"><b>Action {} refused: {}</b><br>{}</div>",
            error.step,
            escape(&error.code),
            escape(&error.message)
        );
    }
}
