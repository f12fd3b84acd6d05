//! The checks of `test` items (docs/testing.md): the workflow a test names,
//! and the nodes, exits, fields and refusal codes it mentions, against that
//! workflow. People are only known to a directory, so the test runner
//! checks them (`flowc test`), not the checker.

use std::collections::HashMap;

use super::forms::{FormInfo, Named};
use super::{suggest, Checker};
use crate::diag::{Code, Diagnostic, ALL_CODES};
use crate::source::Span;
use crate::syntax::ast::{
    ExpectKind, Ident, Item, SettingKind, TestItem, TestMember, TestValue, TestValueKind, WorkflowItem,
};

/// The statuses an `expect status` may name.
pub const STATUSES: &[&str] = &["archived", "pending"];

impl<'a> Checker<'a> {
    pub(super) fn check_test(&self, module: usize, test: &'a TestItem) {
        let mut first_of: HashMap<&str, Span> = HashMap::new();
        let mut workflow_name: Option<&Ident> = None;
        for member in &test.members {
            let (keyword, span) = match member {
                TestMember::Workflow(name) => {
                    workflow_name = Some(name);
                    ("workflow", name.span)
                }
                TestMember::Org(text) => ("org", text.span),
                TestMember::Now(text) => ("now", text.span),
                TestMember::Creator(text) => ("creator", text.span),
                TestMember::Form(value) => ("form", value.span),
                TestMember::Action(_) | TestMember::Until(_) | TestMember::Expect(_) => continue,
            };
            if let Some(first) = first_of.insert(keyword, span) {
                self.report(
                    Diagnostic::new(
                        Code::E0905,
                        format!("test `{}` gives `{keyword}` twice", test.name.name),
                        self.at(module, span),
                        "given again here",
                    )
                    .with_secondary(self.at(module, first), "first given here")
                    .with_help("keep one of them"),
                );
            }
        }
        if !first_of.contains_key("creator") {
            self.report(
                Diagnostic::new(
                    Code::E0905,
                    format!("test `{}` has no `creator`", test.name.name),
                    self.at(module, test.name.span),
                    "this test creates a request without a creator",
                )
                .with_help("add `creator \"E0123\"` with the id of the person who fills the form"),
            );
        }
        let Some(workflow) = self.test_workflow(module, test, workflow_name) else { return };
        let form = self.form_of_workflow(module, workflow);
        for member in &test.members {
            match member {
                TestMember::Form(value) => self.check_test_fields(module, form, value),
                TestMember::Action(action) => {
                    // A started request (`request "2"`) has its own workflow's form: known only
                    // when the test runs.
                    if let (Some(set), None) = (&action.set, &action.request) {
                        self.check_test_fields(module, form, set);
                    }
                    if let Some(code) = &action.refused {
                        self.check_refusal_code(module, code);
                    }
                }
                TestMember::Expect(expectations) => {
                    for expectation in expectations {
                        match &expectation.kind {
                            ExpectKind::Node(node) => self.check_test_node(module, workflow, node),
                            ExpectKind::Exit(exit) => self.check_test_exit(module, workflow, exit),
                            ExpectKind::Status(status) => {
                                if !STATUSES.contains(&status.name.as_str()) && !is_refusal_code(&status.name) {
                                    self.report(
                                        Diagnostic::new(
                                            Code::E0904,
                                            format!("`{}` is not a status", status.name),
                                            self.at(module, status.span),
                                            "unknown status",
                                        )
                                        .with_help("write `status archived` or `status pending`; a refusal is `refused CODE` after the action"),
                                    );
                                }
                            }
                            ExpectKind::Field(field, _) => {
                                if let Some(form) = form {
                                    self.check_test_field_name(module, form, field);
                                }
                            }
                            ExpectKind::Pending(_) | ExpectKind::Batch(..) => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn test_workflow(&self, module: usize, test: &TestItem, name: Option<&Ident>) -> Option<&'a WorkflowItem> {
        let Some(name) = name else {
            self.report(
                Diagnostic::new(
                    Code::E0901,
                    format!("test `{}` names no workflow", test.name.name),
                    self.at(module, test.name.span),
                    "which workflow does this test run?",
                )
                .with_help("add `workflow NAME` as the test's first line"),
            );
            return None;
        };
        let found = self.lookup(module, &name.name).and_then(|item| self.item(item));
        if let Some(Item::Workflow(workflow)) = found {
            return Some(workflow);
        }
        // Candidates from every file (the one a test `use`s is the likely one).
        let workflows = self.workflow_names();
        let mut diagnostic = Diagnostic::new(
            Code::E0901,
            format!("there is no workflow `{}`", name.name),
            self.at(module, name.span),
            "not a workflow",
        );
        diagnostic = match suggest::best(&name.name, workflows.iter().copied()) {
            Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
            None => diagnostic.with_help("name a workflow declared in this file or brought in with `use`"),
        };
        self.report(diagnostic);
        None
    }

    /// The names of every workflow of the program (not the prelude's), for a did-you-mean.
    pub(super) fn workflow_names(&self) -> Vec<&'a str> {
        self.modules
            .iter()
            .filter(|m| !m.is_prelude)
            .flat_map(|m| &m.ast.items)
            .filter_map(|item| match item {
                Item::Workflow(workflow) => Some(workflow.name.name.as_str()),
                _ => None,
            })
            .collect()
    }

    pub(super) fn form_of_workflow(&self, module: usize, workflow: &WorkflowItem) -> Option<&FormInfo<'a>> {
        let name = workflow.settings.iter().find_map(|setting| match &setting.kind {
            SettingKind::Form(name) => Some(name),
            _ => None,
        })?;
        self.lookup(module, &name.name).and_then(|item| self.forms.get(&item))
    }

    fn check_test_node(&self, module: usize, workflow: &WorkflowItem, node: &Ident) {
        if workflow.nodes.iter().any(|declared| declared.name.name == node.name) {
            return;
        }
        let names = workflow.nodes.iter().map(|declared| declared.name.name.as_str());
        self.report(unknown(
            Code::E0902,
            format!("workflow `{}` has no node `{}`", workflow.name.name, node.name),
            self.at(module, node.span),
            suggest::best(&node.name, names),
        ));
    }

    fn check_test_exit(&self, module: usize, workflow: &WorkflowItem, exit: &Ident) {
        let exits = || workflow.nodes.iter().flat_map(|node| node.exits.iter().map(|exit| exit.name.name.as_str()));
        if exits().any(|name| name == exit.name) {
            return;
        }
        self.report(unknown(
            Code::E0902,
            format!("workflow `{}` has no exit or return `{}`", workflow.name.name, exit.name),
            self.at(module, exit.span),
            suggest::best(&exit.name, exits()),
        ));
    }

    fn check_test_field_name(&self, module: usize, form: &FormInfo<'a>, field: &Ident) -> Option<Named> {
        if let Some(named) = form.names.get(field.name.as_str()) {
            return Some(match named {
                Named::Field(index) => Named::Field(*index),
                Named::Detail(index) => Named::Detail(*index),
            });
        }
        self.report(unknown(
            Code::E0903,
            format!("form `{}` has no field `{}`", form.decl.name.name, field.name),
            self.at(module, field.span),
            suggest::best(&field.name, form.names.keys().copied()),
        ));
        None
    }

    /// The keys of a `form { … }` or `set { … }`, and of the rows of a detail table.
    fn check_test_fields(&self, module: usize, form: Option<&FormInfo<'a>>, value: &TestValue) {
        let (Some(form), TestValueKind::Object(entries)) = (form, &value.kind) else { return };
        for (key, value) in entries {
            let Some(Named::Detail(detail)) = self.check_test_field_name(module, form, key) else { continue };
            let Some(detail) = form.details.get(detail) else { continue };
            let TestValueKind::List(rows) = &value.kind else { continue };
            for row in rows {
                let TestValueKind::Object(cells) = &row.kind else { continue };
                for (column, _) in cells {
                    let known = detail
                        .fields
                        .iter()
                        .filter_map(|&index| form.fields.get(index))
                        .map(|f| f.decl.name.name.as_str());
                    if known.clone().any(|name| name == column.name) {
                        continue;
                    }
                    self.report(unknown(
                        Code::E0903,
                        format!("detail `{}` has no column `{}`", detail.decl.name.name, column.name),
                        self.at(module, column.span),
                        suggest::best(&column.name, known),
                    ));
                }
            }
        }
    }

    fn check_refusal_code(&self, module: usize, code: &Ident) {
        if is_refusal_code(&code.name) {
            return;
        }
        let codes = ALL_CODES.iter().map(|code| code.as_str()).filter(|text| text.starts_with('R'));
        self.report(unknown(
            Code::E0904,
            format!("`{}` is not a refusal code", code.name),
            self.at(module, code.span),
            suggest::best(&code.name, codes),
        ));
    }
}

/// Whether `text` is a runtime refusal code (`R0203`).
pub fn is_refusal_code(text: &str) -> bool {
    text.starts_with('R') && ALL_CODES.iter().any(|code| code.as_str() == text)
}

fn unknown(code: Code, message: String, at: crate::source::FileSpan, best: Option<&str>) -> Diagnostic {
    let diagnostic = Diagnostic::new(code, message, at, "not known here");
    match best {
        Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
        None => diagnostic.with_help("see docs/testing.md for what a test may name"),
    }
}
