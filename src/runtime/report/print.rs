//! The printable page of a request (打印模板, manual 5.4.2 and 5.5.4): the
//! form as its reader sees it, then the opinions per node — each with its
//! type, person, department, date and time — all of them, or each person's
//! last at each node. Self-contained HTML (one file, no scripts, styles for
//! paper), so an archived request can be printed and filed.

use std::fmt::Write;

use crate::check::types::FieldKind;
use crate::runtime::request::{LogEntry, Request, Runtime};
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::text_format::form_text;
use crate::runtime::values::value::Value;

/// Which opinions a node shows (manual 5.5.4, 显示方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpinionsShown {
    /// 全部意见: every opinion, in the order given.
    All,
    /// 最后一次意见: one per person and node, their last.
    Last,
}

const STYLE: &str = r#"
body { font-family: "Songti SC", "SimSun", serif; margin: 2em auto; max-width: 48em; color: #000 }
h1 { text-align: center; font-size: 1.6em; margin-bottom: .2em }
p.meta { text-align: center; margin-top: 0; color: #333 }
h2 { font-size: 1.15em; border-bottom: 2px solid #000; margin-top: 1.6em }
h3 { font-size: 1em; margin: 1em 0 .3em }
table { border-collapse: collapse; width: 100% }
th, td { border: 1px solid #000; padding: .3em .5em; vertical-align: top; text-align: left }
table.form th { width: 10em; background: #f2f2f2 }
table.detail th, table.opinions th { background: #f2f2f2 }
td.opinion { width: 45%; white-space: pre-wrap }
p.status { margin-top: 1.5em }
@media print { body { margin: 0; max-width: none } h2, h3 { break-after: avoid } tr { break-inside: avoid } }
"#;

impl Runtime<'_> {
    /// The request as a printable HTML page.
    pub fn print_page(&self, request: &Request, shown: OpinionsShown, now: DateTime) -> String {
        let mut out = String::new();
        let Ok(workflow) = self.workflow(request) else { return out };
        let Some(form) = self.compiled.program.forms.get(workflow.form) else { return out };
        let title = self.title(request, now);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
             <style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
            escape(&title),
            escape(&form.label)
        );
        let created = request.created_at;
        let heading = if title == workflow.label { title.clone() } else { format!("{} · {title}", workflow.label) };
        let _ = writeln!(
            out,
            "<p class=\"meta\">{} · 创建人 {} · {} {}</p>",
            escape(&heading),
            escape(&self.short_name(&request.creator)),
            created.date,
            created.time
        );

        // The form: main fields, then each detail table.
        let _ = writeln!(out, "<table class=\"form\">");
        for (index, field) in form.fields.iter().enumerate() {
            if field.detail.is_some() || matches!(field.kind, FieldKind::Link | FieldKind::Note) {
                continue;
            }
            let value = request.form.main.get(index).unwrap_or(&Value::Null);
            let shown = form_text(Some(field), value, self.directory);
            let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(&field.label), escape(&shown));
        }
        let _ = writeln!(out, "</table>");
        for (table, detail) in form.details.iter().enumerate() {
            let columns: Vec<_> = detail
                .columns
                .iter()
                .filter_map(|&column| Some((column, form.fields.get(column)?)))
                .filter(|(_, field)| !matches!(field.kind, FieldKind::Link | FieldKind::Note))
                .collect();
            let layout = self.compiled.layouts.get(workflow.form);
            let _ = writeln!(out, "<h3>{}</h3>\n<table class=\"detail\">\n<tr>", escape(&detail.label));
            for (_, field) in &columns {
                let _ = write!(out, "<th>{}</th>", escape(&field.label));
            }
            let _ = writeln!(out, "</tr>");
            for row in request.form.tables.get(table).map(Vec::as_slice).unwrap_or_default() {
                let _ = write!(out, "<tr>");
                for (column, field) in &columns {
                    let position = layout.and_then(|layout| layout.column_of(*column)).map(|(_, position)| position);
                    let value = position.and_then(|position| row.get(position)).unwrap_or(&Value::Null);
                    let _ = write!(out, "<td>{}</td>", escape(&form_text(Some(field), value, self.directory)));
                }
                let _ = writeln!(out, "</tr>");
            }
            let _ = writeln!(out, "</table>");
        }

        // The opinions, node by node in the workflow's order.
        let _ = writeln!(out, "<h2>审批意见</h2>");
        let mut any = false;
        let log = request.log.to_vec();
        for node in &workflow.nodes {
            let entries = opinions_at(&log, &node.name, shown);
            if entries.is_empty() {
                continue;
            }
            any = true;
            let _ = writeln!(
                out,
                "<h3>{}</h3>\n<table class=\"opinions\">\n\
                 <tr><th>类型</th><th>处理人</th><th>部门</th><th>操作日期</th><th>操作时间</th><th>处理意见</th></tr>",
                escape(&node.label)
            );
            for entry in entries {
                let kind: &str = match entry.opinion_type {
                    Some(kind) => kind.as_str(),
                    None => &entry.action,
                };
                let mut person = self.short_name(&entry.by);
                if !entry.on_behalf_of.is_empty() {
                    let away: Vec<String> = entry.on_behalf_of.iter().map(|id| self.short_name(id)).collect();
                    let _ = write!(person, "（代{}）", away.join("、"));
                }
                let department = entry.department.as_deref().map(|id| self.department_name(id)).unwrap_or_default();
                let (date, time) = match DateTime::parse(&entry.time) {
                    Some(instant) => (instant.date.to_string(), instant.time.to_string()),
                    None => (entry.time.clone(), String::new()),
                };
                let mut opinion = entry.opinion.clone().unwrap_or_default();
                if !entry.to.is_empty() {
                    let people: Vec<String> = entry.to.iter().map(|id| self.short_name(id)).collect();
                    let _ = write!(opinion, "{}（{}）", if opinion.is_empty() { "" } else { " " }, people.join("、"));
                }
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{date}</td><td>{time}</td><td class=\"opinion\">{}</td></tr>",
                    escape(kind),
                    escape(&person),
                    escape(&department),
                    escape(&opinion)
                );
            }
            let _ = writeln!(out, "</table>");
        }
        if !any {
            let _ = writeln!(out, "<p>（暂无意见）</p>");
        }

        let status = match workflow.nodes.get(request.node) {
            Some(node) if request.archived => format!("已归档（{}）", node.label),
            Some(node) => {
                let waiting: Vec<String> = request.pending.iter().map(|id| self.short_name(id)).collect();
                format!("处理中：{}，待 {} 处理", node.label, waiting.join("、"))
            }
            None => String::new(),
        };
        let _ = writeln!(out, "<p class=\"status\">流程状态：{}</p>\n</body>\n</html>", escape(&status));
        out
    }

    /// A person's name alone (the printed page is for people, not ids).
    fn short_name(&self, id: &str) -> String {
        self.directory.employee(id).map_or_else(|| id.to_owned(), |employee| employee.name.clone())
    }

    fn department_name(&self, id: &str) -> String {
        self.directory.department(id).map_or_else(|| id.to_owned(), |department| department.name.clone())
    }
}

/// The opinions logged at `node` (the creation aside), all or each person's last.
fn opinions_at<'l>(log: &'l [LogEntry], node: &str, shown: OpinionsShown) -> Vec<&'l LogEntry> {
    let at_node = log.iter().filter(|entry| entry.node == node && entry.action != "create");
    match shown {
        OpinionsShown::All => at_node.collect(),
        OpinionsShown::Last => {
            let entries: Vec<&LogEntry> = at_node.collect();
            entries
                .iter()
                .enumerate()
                .filter(|(position, entry)| !entries.iter().skip(position + 1).any(|later| later.by == entry.by))
                .map(|(_, entry)| *entry)
                .collect()
        }
    }
}

/// Text made safe inside HTML elements and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}
