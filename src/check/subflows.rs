//! The rules of `start WORKFLOW { … } [wait { … }]` (docs/language.md §6.10): the workflow
//! exists (E0140); the left side of each line in the `start` block is a field of the child's
//! form, or `creator`, and the right side an expression over this request of the field's type;
//! the left side of each `wait` line is a field of this request's form and the right side an
//! expression over the child (E0141, types as for assignments); one `start` per node, at a node
//! where someone works (E0142).

use super::exprs::{Env, Mode};
use super::forms::{FormInfo, Named};
use super::suggest;
use super::Checker;
use crate::check::types::Ty;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, Item, Mapping, Node, WorkflowItem};

impl<'a> Checker<'a> {
    pub(super) fn check_starts(&self, env: &Env<'_, 'a>, node: &'a Node, parent: &FormInfo<'a>) -> Vec<usize> {
        let module = env.module;
        let mut filled = Vec::new();
        for extra in node.starts.iter().skip(1) {
            self.report(
                Diagnostic::new(
                    Code::E0142,
                    format!("node `{}` starts two workflows", node.name.name),
                    self.at(module, extra.keyword),
                    "a second `start`",
                )
                .with_help("a node starts one request; put the second `start` on a node of its own"),
            );
        }
        let Some(start) = node.starts.first() else { return filled };
        if matches!(node.kind.name.as_str(), "create" | "merge" | "archive") {
            self.report(
                Diagnostic::new(
                    Code::E0142,
                    format!("`{}` is a {} node: it cannot start a workflow", node.name.name, node.kind.name),
                    self.at(module, start.keyword),
                    "`start` here",
                )
                .with_help("start the workflow at an approve or realize node, where someone works while it runs"),
            );
        }
        let Some((child, child_form)) = self.start_target(module, &start.workflow) else { return filled };
        let child_env = Env::new(module, Mode::Request).with_form(Some(child_form));
        for mapping in &start.fields {
            let ty = self.expr(env, &mapping.value);
            if mapping.target.name == "creator" && !child_form.names.contains_key("creator") {
                if !ty.is_unknown() && !matches!(ty, Ty::Employee | Ty::Null) {
                    self.report(
                        Diagnostic::new(
                            Code::E0141,
                            format!("`creator` of the new `{}` request must be a person", child.name.name),
                            self.at(module, mapping.value.span),
                            "not a person",
                        )
                        .with_help("give an employee field or expression (`申请人`, `申请人.manager`)"),
                    );
                }
                continue;
            }
            let whose = format!("workflow `{}`", child.name.name);
            if let Some(index) = self.mapped_field(module, child_form, &whose, mapping) {
                if let Some(field) = child_form.fields.get(index) {
                    self.check_store(module, field, &ty, &mapping.value, mapping.target.span);
                }
                // The parent fills it (W0305 is about fields nothing fills).
                self.filled.borrow_mut().entry(child_form.item).or_default().0.insert(index);
            }
        }
        for mapping in start.wait.iter().flatten() {
            let ty = self.expr(&child_env, &mapping.value);
            let workflow_name = "this workflow";
            if let Some(index) = self.mapped_field(module, parent, workflow_name, mapping) {
                if let Some(field) = parent.fields.get(index) {
                    self.check_store(module, field, &ty, &mapping.value, mapping.target.span);
                    filled.push(index);
                }
            }
        }
        filled
    }

    /// The workflow a `start` names, and its form.
    fn start_target(&self, module: usize, name: &ast::Ident) -> Option<(&'a WorkflowItem, &FormInfo<'a>)> {
        let found = self.lookup(module, &name.name).and_then(|item| Some((item, self.item(item)?)));
        let Some((item, Item::Workflow(workflow))) = found else {
            let workflows = self.workflow_names();
            let mut diagnostic = Diagnostic::new(
                Code::E0140,
                format!("there is no workflow `{}` to start", name.name),
                self.at(module, name.span),
                "not a workflow",
            );
            diagnostic = match suggest::best(&name.name, workflows.iter().copied()) {
                Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
                None => diagnostic.with_help("declare the workflow in this file, or `use` the file that declares it"),
            };
            self.report(diagnostic);
            return None;
        };
        self.record(self.at(module, name.span), self.at(item.module, workflow.name.span));
        Some((workflow, self.form_of_workflow(item.module, workflow)?))
    }

    /// The main field `mapping` writes in `form`, or a diagnostic.
    fn mapped_field(&self, module: usize, form: &FormInfo<'a>, whose: &str, mapping: &Mapping) -> Option<usize> {
        let name = &mapping.target.name;
        let at = self.at(module, mapping.target.span);
        match form.names.get(name.as_str()) {
            Some(Named::Field(index)) => {
                let field = form.fields.get(*index)?;
                self.record(at, self.at(form.item.module, field.decl.name.span));
                let why = if field.detail.is_some() {
                    Some("it is a detail column".to_owned())
                } else if field.is_computed() || field.is_display_only() {
                    Some(field.fixed_because().to_string())
                } else {
                    None
                };
                match why {
                    Some(why) => {
                        self.report(
                            Diagnostic::new(Code::E0141, format!("`{name}` cannot be written: {why}"), at, "here")
                                .with_help("map main fields that a person could fill"),
                        );
                        None
                    }
                    None => Some(*index),
                }
            }
            Some(Named::Detail(_)) => {
                self.report(
                    Diagnostic::new(
                        Code::E0141,
                        format!("`{name}` is a detail table: a `start` maps main fields"),
                        at,
                        "a detail table",
                    )
                    .with_help("map the main fields; a detail table is filled at the child's own nodes"),
                );
                None
            }
            None => {
                let names = form.names.keys().copied();
                let mut diagnostic = Diagnostic::new(
                    Code::E0141,
                    format!("the form of {whose} has no field `{name}`"),
                    at,
                    "not a field there",
                );
                diagnostic = match suggest::best(name, names) {
                    Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
                    None => diagnostic.with_help("the left side names a field of the form being written"),
                };
                self.report(diagnostic);
                None
            }
        }
    }
}
