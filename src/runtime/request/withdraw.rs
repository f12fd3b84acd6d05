//! 撤回 (withdraw): the creator takes the request back to the create node
//! while nobody at the node it went to has acted on it since the creator's
//! submit (a supervisor's 督办 does not count). The same move is what a
//! 强制收回 (`force_return`) makes: back to the creator, no exit, no block,
//! no `before`; the form keeps its values.

use crate::diag::Code;
use crate::ir::{Node, NodeKind, Workflow};
use crate::runtime::error::RuntimeError;
use crate::runtime::request::events::Step;
use crate::runtime::request::{internal, node_name, Action, LogEntry, Request, Runtime};

impl<'a> Runtime<'a> {
    /// Whether `action.by` may withdraw the request now (R0207 if not).
    pub(super) fn check_withdraw(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &Request,
        action: &Action,
    ) -> Result<(), RuntimeError> {
        let refuse = |message: String, help: &str| {
            RuntimeError::at(Code::R0207, message, node.at).with_label("the current node").with_help(help)
        };
        if action.by != request.creator {
            return Err(refuse(
                format!(
                    "{} may not withdraw the request: only its creator, {}, may",
                    self.person_name(&action.by),
                    self.person_name(&request.creator)
                ),
                "a supervisor or an administrator takes a request back with `force_return`",
            ));
        }
        if node.kind == NodeKind::Create {
            return Err(refuse(
                format!("the request is at its create node `{}`: there is nothing to withdraw", node.name),
                "withdraw takes a submitted request back before the next operator acts",
            ));
        }
        let help = "a request can be withdrawn only until someone at the node it went to acts on it";
        match latest_is_creator_submit(workflow, request) {
            Ok(()) => Ok(()),
            Err(Some(acted)) => Err(refuse(
                format!(
                    "the request cannot be withdrawn: {} has already acted on it ({} at `{}`)",
                    self.person_name(&acted.by),
                    acted.action,
                    acted.node
                ),
                help,
            )),
            Err(None) => {
                Err(refuse("the request cannot be withdrawn: its log has no submit by the creator".into(), help))
            }
        }
    }

    /// Sends the request back to its create node and its creator (withdraw, force_return).
    pub(super) fn back_to_creator(
        &self,
        workflow: &'a Workflow,
        request: &mut Request,
        step: &mut Step,
    ) -> Result<(), RuntimeError> {
        let create = workflow.nodes.get(workflow.create).ok_or_else(|| internal("no create node"))?;
        step.to = Some(create.name.clone());
        self.withdraw_branches(workflow, request, step);
        request.node = workflow.create;
        request.forwarded.clear();
        request.stand_ins.clear();
        request.batch = None;
        request.operators = vec![request.creator.clone()];
        request.pending = request.operators.clone();
        step.operators = request.operators.clone();
        Ok(())
    }
}

/// `Ok` when the latest action on the request (督办 aside) is the creator's submit that moved it
/// from the create node; otherwise the log line of that latest action, if there is one.
fn latest_is_creator_submit<'r>(workflow: &Workflow, request: &'r Request) -> Result<(), Option<&'r LogEntry>> {
    let create = node_name(workflow, workflow.create);
    let latest = request.log.newest_first().find(|entry| entry.action != "supervise").ok_or(None)?;
    let creator_moved_it = latest.action == "submit"
        && latest.by == request.creator
        && latest.node == create
        && (latest.to_node.is_some() || !latest.moved.is_empty());
    if creator_moved_it {
        Ok(())
    } else {
        Err(Some(latest))
    }
}
