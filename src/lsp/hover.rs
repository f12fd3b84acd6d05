//! Hover: what a name is, from its declaration and the index — a field's
//! type, label, formula and where it is editable; a node's kind, operators
//! and exits; a built-in's signature and doc comment from the prelude; a
//! directory member's meaning.

use std::fmt::Write;

use lsp_types as lsp;

use super::decls::{self, Decl};
use crate::check::index::Symbol;
use crate::check::Analysis;
use crate::source::{FileId, Span};
use crate::syntax::ast::*;

pub fn hover(analysis: &Analysis, file: FileId, offset: usize) -> Option<lsp::Hover> {
    let source = analysis.sources.get(file)?;
    if let Some(member) = analysis.index.member_at(file, offset) {
        let text = format!("```flow\n{}.{}: {}\n```\n{}", member.owner, member.name, member.ty, capitalise(member.doc));
        return Some(markdown(
            text,
            super::convert::range(source, member.at.span.start as usize, member.at.span.end as usize),
        ));
    }
    let Some((site, symbol)) = analysis.index.symbol_at(file, offset) else {
        return keyword_hover(source, offset);
    };
    let text = describe(analysis, symbol)?;
    Some(markdown(text, super::convert::range(source, site.span.start as usize, site.span.end as usize)))
}

/// `fork`, `wait` and `merge` where they mean something (docs/language.md §6.8).
fn keyword_hover(source: &crate::source::SourceFile, offset: usize) -> Option<lsp::Hover> {
    use crate::syntax::lexer::{tokenize, TokenKind};
    let tokens: Vec<_> = tokenize(&source.text).into_iter().filter(|token| !token.kind.is_trivia()).collect();
    let position = tokens.iter().position(|token| token.span.contains(offset) && token.kind == TokenKind::Ident)?;
    let token = tokens.get(position)?;
    let previous = position.checked_sub(1).and_then(|index| tokens.get(index)).map(|token| token.kind);
    let next = tokens.get(position + 1).map(|token| token.kind);
    let text = match (source.slice(token.span), previous, next) {
        ("fork", _, Some(TokenKind::LBrace)) => {
            "```flow\nfork { exit NAME -> TARGET [when C] … }\n```\nA fork (分叉): a submit takes **every** exit of the group whose condition holds, and each starts a branch named after its exit, with its own nodes, operators and field rights. The branches meet again at a `merge` node (language.md §6.8)."
        }
        ("wait", _, Some(TokenKind::Ident | TokenKind::Number)) => {
            "```flow\nwait all | wait N | wait A, B\n```\nWhen a merge lets the request go on: `all` (the default) waits for every branch that was started, `N` for the first N to arrive, `A, B` for the named branches among those started. Branches still running then are withdrawn (language.md §6.8)."
        }
        ("merge", Some(TokenKind::Colon), _) => {
            "```flow\nnode NAME: merge { wait … exit … }\n```\nA merge node (合并) ends the branches of one fork. Nobody handles it: when its `wait` is satisfied, the system withdraws the branches still running and takes its exit, and the request goes on as one (language.md §6.8)."
        }
        _ => return None,
    };
    Some(markdown(text.to_string(), super::convert::range(source, token.span.start as usize, token.span.end as usize)))
}

fn markdown(value: String, range: lsp::Range) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent { kind: lsp::MarkupKind::Markdown, value }),
        range: Some(range),
    }
}

fn capitalise(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect::<String>() + ".",
        None => String::new(),
    }
}

fn slice(analysis: &Analysis, file: FileId, span: Span) -> String {
    analysis.sources.get(file).map(|source| source.slice(span).to_string()).unwrap_or_default()
}

/// The text of a declaration without its block, on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn with_doc(mut text: String, doc: &Option<String>) -> String {
    if let Some(doc) = doc {
        let _ = write!(text, "\n\n{doc}");
    }
    text
}

pub fn describe(analysis: &Analysis, symbol: &Symbol) -> Option<String> {
    let file = symbol.at.file;
    let decl = decls::find(analysis, symbol.at)?;
    Some(match decl {
        Decl::Field(form, field) => {
            let mut text = format!("```flow\n{}\n```\n", one_line(&slice(analysis, file, field_extent(field))));
            let label = field.label.as_ref().map_or(field.name.name.as_str(), |label| label.value.as_str());
            let owner = decls::fields(form)
                .into_iter()
                .find(|(candidate, _)| std::ptr::eq(*candidate, field))
                .and_then(|(_, detail)| detail)
                .map_or(format!("field of form `{}`", form.name.name), |detail| {
                    format!("column of detail `{}` in form `{}`", detail.name.name, form.name.name)
                });
            let _ = write!(text, "{owner} · label “{}” · type `{}`", label, type_text(field));
            if let Some(formula) = &field.formula {
                let _ = write!(
                    text,
                    "\n\n**Computed**: `{}` (nobody edits it)",
                    one_line(&slice(analysis, file, formula.span))
                );
            }
            let settings: Vec<String> = analysis
                .index
                .settings
                .iter()
                .filter(|setting| setting.field == symbol.at)
                .map(|setting| format!("{} at `{}` ({})", setting.mode.keyword(), setting.node, setting.workflow))
                .collect();
            if settings.is_empty() {
                if field.formula.is_none() {
                    text.push_str("\n\nEditable at no node.");
                }
            } else {
                let _ = write!(text, "\n\n{}", settings.join("  \n"));
            }
            with_doc(text, &field.doc)
        }
        Decl::SelectOption(field, option) => {
            let label = option.label.as_ref().map(|label| format!(" “{}”", label.value)).unwrap_or_default();
            let default = if option.default.is_some() { " (the default)" } else { "" };
            format!("option `{}`{label} of select `{}`{default}", option.key.name, field.name.name)
        }
        Decl::Detail(form, detail) => {
            let columns: Vec<String> =
                detail.fields.iter().map(|field| format!("`{}`: {}", field.name.name, type_text(field))).collect();
            let text = format!(
                "```flow\ndetail {}{}\n```\ndetail table of form `{}` · columns: {}",
                detail.name.name,
                detail.label.as_ref().map(|label| format!(" \"{}\"", label.value)).unwrap_or_default(),
                form.name.name,
                columns.join(", ")
            );
            with_doc(text, &detail.doc)
        }
        Decl::Form(form) => {
            let count = decls::fields(form).len();
            let text = format!(
                "```flow\nform {}{}\n```\n{count} fields",
                form.name.name,
                form.label.as_ref().map(|label| format!(" \"{}\"", label.value)).unwrap_or_default()
            );
            with_doc(text, &form.doc)
        }
        Decl::Workflow(workflow) => {
            let form = decls::form_of(analysis, workflow).map(|form| form.name.name.clone()).unwrap_or_default();
            let text = format!(
                "```flow\nworkflow {}{}\n```\nform `{form}` · {} nodes",
                workflow.name.name,
                workflow.label.as_ref().map(|label| format!(" \"{}\"", label.value)).unwrap_or_default(),
                workflow.nodes.len()
            );
            with_doc(text, &workflow.doc)
        }
        Decl::Node(workflow, node) => {
            let text = with_doc(node_text(analysis, file, workflow, node), &node.doc);
            let regions = crate::analysis::node_regions_markdown(analysis, &workflow.name.name, &node.name.name);
            format!("{text}{regions}")
        }
        Decl::Exit(node, exit) if exit.fork.is_some() => format!(
            "```flow\n{}\n```\nbranch `{}` of the fork at node `{}`: taken with every other exit of the group that holds",
            one_line(&exit_head(analysis, file, exit)),
            exit.name.name,
            node.name.name
        ),
        Decl::Exit(node, exit) => {
            format!("```flow\n{}\n```\nexit of node `{}`", one_line(&exit_head(analysis, file, exit)), node.name.name)
        }
        Decl::Function(function) => {
            let head = match &function.body {
                Some(body) => slice(analysis, file, Span::new(function.span.start as usize, body.span.start as usize)),
                None => slice(analysis, file, function.span),
            };
            let head = one_line(&head);
            let head = head.trim_end_matches('=').trim_end();
            let kind = if symbol.kind.is_builtin() { "built-in function" } else { "function" };
            with_doc(format!("```flow\n{head}\n```\n{kind}"), &function.doc)
        }
        Decl::Constant(constant) => {
            let kind = if symbol.kind.is_builtin() { "built-in value" } else { "constant" };
            with_doc(
                format!("```flow\n{}\n```\n{kind}", one_line(&slice(analysis, file, constant.span))),
                &constant.doc,
            )
        }
        Decl::Parameter(function, param) => {
            format!("```flow\n{}: {}\n```\nparameter of `{}`", param.name.name, param.ty.name.name, function.name.name)
        }
    })
}

/// A field's declaration without trailing comments or select options.
fn field_extent(field: &FieldDecl) -> Span {
    let mut end = field.ty.span.end.max(field.name.span.end);
    for span in [
        field.label.as_ref().map(|label| label.span),
        field.extra.as_ref().map(|extra| extra.span),
        field.formula.as_ref().map(|formula| formula.span),
    ]
    .into_iter()
    .flatten()
    .chain(field.flags.iter().map(|flag| flag.span))
    {
        end = end.max(span.end);
    }
    Span::new(field.span.start as usize, end as usize)
}

fn type_text(field: &FieldDecl) -> String {
    match &field.ty.size {
        Some((size, _)) => format!("{}({size})", field.ty.name.name),
        None => field.ty.name.name.clone(),
    }
}

fn exit_head(analysis: &Analysis, file: FileId, exit: &Exit) -> String {
    let end = exit.block.as_ref().map_or(exit.span.end, |block| block.span.start);
    slice(analysis, file, Span::new(exit.span.start as usize, end as usize))
}

fn node_text(analysis: &Analysis, file: FileId, workflow: &WorkflowItem, node: &Node) -> String {
    let label = node.label.as_ref().map(|label| format!(" \"{}\"", label.value)).unwrap_or_default();
    let mut text = format!(
        "```flow\nnode {}{label}: {}\n```\nnode of workflow `{}`",
        node.name.name, node.kind.name, workflow.name.name
    );
    for operators in &node.operators {
        let mode = match operators.mode {
            Some((OperatorMode::All, _)) => "all (会签: every operator submits)",
            Some((OperatorMode::Sequential, _)) => "sequential (one after another)",
            _ => "any (the first submit moves on)",
        };
        let _ = write!(text, "\n\n**Operators**, {mode}:");
        for entry in &operators.entries {
            match entry {
                OperatorEntry::Batch(batch) => {
                    let lines: Vec<String> = batch
                        .lines
                        .iter()
                        .map(|line| format!("`{}`", one_line(&slice(analysis, file, line.span))))
                        .collect();
                    let _ = write!(text, "\n- batch {}: {}", batch.number.0, lines.join(", "));
                }
                OperatorEntry::Line(line) => {
                    let _ = write!(text, "\n- `{}`", one_line(&slice(analysis, file, line.span)));
                }
            }
        }
    }
    let branches =
        (node.kind.name == "merge" || !node.forks.is_empty() || workflow.nodes.iter().any(|n| !n.forks.is_empty()))
            .then(|| crate::check::branches::analyse(workflow));
    let index = workflow.nodes.iter().position(|candidate| std::ptr::eq(candidate, node));
    if let (Some(found), Some(index)) = (&branches, index) {
        let branch_name = |step: &crate::check::branches::BranchRef| {
            workflow
                .nodes
                .get(step.fork)
                .and_then(|fork| fork.exits.iter().filter(|exit| exit.fork.is_some()).nth(step.branch))
                .map_or("", |exit| exit.name.name.as_str())
        };
        let path = found.path(index);
        if !path.is_empty() {
            let label = path.iter().map(branch_name).collect::<Vec<_>>().join("/");
            let _ = write!(text, "\n\nIn branch `{label}`.");
        }
        if let Some(fork) = found.fork_of_merge(index) {
            let wait =
                node.waits.first().map_or("wait all".to_string(), |wait| one_line(&slice(analysis, file, wait.span)));
            let fork_name = workflow.nodes.get(fork).map_or("", |fork| fork.name.name.as_str());
            let _ = write!(text, "\n\n**Merge** of the fork at `{fork_name}`, `{wait}`: passed by the system when its branches have arrived.");
        }
    }
    let (forked, plain): (Vec<&Exit>, Vec<&Exit>) = node.exits.iter().partition(|exit| exit.fork.is_some());
    if !forked.is_empty() {
        text.push_str("\n\n**Fork**: every exit that holds is taken, each starting a branch:");
        for exit in forked {
            let _ = write!(text, "\n- `{}`", one_line(&exit_head(analysis, file, exit)));
        }
    }
    if !plain.is_empty() {
        text.push_str("\n\n**Exits**, tried in order:");
        for exit in plain {
            let _ = write!(text, "\n- `{}`", one_line(&exit_head(analysis, file, exit)));
        }
    }
    text
}
