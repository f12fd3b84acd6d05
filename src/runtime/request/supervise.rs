//! Oversight (督办, 强制归档, 强制收回): the actions taken by people who are
//! not the node's operators. The workflow's `supervisors { … }` (people
//! lines, as `operators`) and the directory's administrators may `supervise`
//! at any node (an opinion, and a reminder to the people pending there),
//! `force_archive` (the request ends at the workflow's first archive node)
//! and `force_return` (back to the create node). Each needs an opinion, the
//! reason that is recorded; none writes fields. The creator's `withdraw` is
//! checked here too, by its own rule (withdraw.rs).

use crate::diag::Code;
use crate::ir::{Node, NodeKind, Workflow};
use crate::runtime::error::RuntimeError;
use crate::runtime::request::events::Step;
use crate::runtime::request::operators::lines_admit;
use crate::runtime::request::reminders::{channels, Reminder};
use crate::runtime::request::{internal, Action, ActionKind, Request, Runtime};
use crate::runtime::values::dates::DateTime;

impl<'a> Runtime<'a> {
    /// Who may take an oversight action, and what it must carry.
    pub(super) fn check_oversight(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &Request,
        action: &Action,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        if action.set.is_some() {
            return Err(RuntimeError::at(
                Code::R0301,
                format!("`{}` writes no fields: leave out `set`", action.kind.as_str()),
                node.at,
            )
            .with_help("fields are set by the pending operators, with submit, reject, comment, forward or cc"));
        }
        if action.kind == ActionKind::Withdraw {
            return self.check_withdraw(workflow, node, request, action);
        }
        if !self.may_oversee(workflow, request, &action.by, now)? {
            let message = format!(
                "{} may not {} requests of `{}`: only its supervisors and the administrators may",
                self.person_name(&action.by),
                action.kind.as_str(),
                workflow.name
            );
            let help = "supervisors are named in the workflow's `supervisors { … }`, administrators in the \
                        directory's `administrators = [ … ]`";
            let error = match workflow.supervisors.first() {
                Some(first) => {
                    RuntimeError::at(Code::R0208, message, first.at).with_label("the workflow's supervisors")
                }
                None => RuntimeError::new(Code::R0208, message),
            };
            return Err(error.with_help(help));
        }
        if action.opinion.as_deref().is_none_or(|opinion| opinion.trim().is_empty()) {
            let what = match action.kind {
                ActionKind::Supervise => "what is urged",
                _ => "the reason",
            };
            return Err(RuntimeError::new(
                Code::R0209,
                format!("`{}` needs an opinion: {what}, which the log records", action.kind.as_str()),
            )
            .with_help(r#"add `"opinion": "…"` to the action"#));
        }
        if action.kind == ActionKind::ForceReturn && node.kind == NodeKind::Create {
            return Err(RuntimeError::at(
                Code::R0207,
                format!("the request is already at its create node `{}`: there is nothing to take back", node.name),
                node.at,
            )
            .with_label("the current node"));
        }
        Ok(())
    }

    /// Whether `person` is a supervisor of the workflow (for this request) or an administrator.
    pub fn may_oversee(
        &self,
        workflow: &'a Workflow,
        request: &Request,
        person: &str,
        now: DateTime,
    ) -> Result<bool, RuntimeError> {
        if self.directory.is_administrator(person) {
            return Ok(true);
        }
        if workflow.supervisors.is_empty() {
            return Ok(false);
        }
        lines_admit(self.env(workflow, request, now)?, &workflow.supervisors, person)
    }

    /// 督办: the opinion is logged by the caller; the people pending are reminded.
    pub(super) fn supervise(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &mut Request,
        action: &Action,
        now: DateTime,
        step: &mut Step,
    ) {
        let opinion = action.opinion.as_deref().unwrap_or_default();
        let text = format!("{} 督办「{}」: {opinion}", self.person_name(&action.by), node.name);
        for channel in channels(&workflow.remind) {
            step.reminders.push(Reminder {
                at: now.to_string(),
                channel,
                to: request.pending.clone(),
                text: text.clone(),
                node: node.name.clone(),
                rule: ActionKind::Supervise.as_str().to_owned(),
            });
        }
        request.outbox.extend(step.reminders.iter().cloned());
    }

    /// 强制归档: the request ends at the workflow's first archive node, without exits or blocks.
    pub(super) fn force_archive(
        &self,
        workflow: &'a Workflow,
        request: &mut Request,
        step: &mut Step,
    ) -> Result<(), RuntimeError> {
        let (index, archive) = workflow
            .nodes
            .iter()
            .enumerate()
            .find(|(_, node)| node.kind == NodeKind::Archive)
            .ok_or_else(|| internal("no archive node"))?;
        step.to = Some(archive.name.clone());
        self.withdraw_branches(workflow, request, step);
        request.node = index;
        request.archived = true;
        request.forwarded.clear();
        request.stand_ins.clear();
        request.batch = None;
        request.operators.clear();
        request.pending.clear();
        Ok(())
    }
}
