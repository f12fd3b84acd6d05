//! The opinion record (节点意见, manual 5.5.4): every line of a request's
//! log keeps the type of what was done — 提交, 批准, 转发, 批注, 抄送, 退回,
//! 督办, 强制归档, 强制收回, 撤回 (and 创建 for the creation, which is not an
//! opinion) — with the person, their department at the time, and the date
//! and time. A print template shows them per node (`flowc run --print`).

use serde::{Deserialize, Serialize};

use crate::ir::NodeKind;
use crate::runtime::request::ActionKind;

/// The type of one log line, as the manual names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OpinionType {
    #[serde(rename = "创建")]
    Create,
    #[serde(rename = "提交")]
    Submit,
    #[serde(rename = "批准")]
    Approve,
    #[serde(rename = "转发")]
    Forward,
    #[serde(rename = "批注")]
    Comment,
    #[serde(rename = "抄送")]
    Cc,
    #[serde(rename = "退回")]
    Return,
    #[serde(rename = "督办")]
    Supervise,
    #[serde(rename = "强制归档")]
    ForceArchive,
    #[serde(rename = "强制收回")]
    ForceReturn,
    #[serde(rename = "撤回")]
    Withdraw,
    /// A deadline's timer (超时设置): a reminder, an exit taken or a hand-over, by the system.
    #[serde(rename = "超时")]
    Timeout,
    /// A started request (子流程) was archived and its fields copied back, by the system.
    #[serde(rename = "子流程")]
    Subflow,
}

impl OpinionType {
    /// The type of an action taken at a node of `node_kind`: a submit at an
    /// approve node is 批准 (approval); at a create or realize node, 提交.
    pub fn of(action: ActionKind, node_kind: NodeKind) -> OpinionType {
        match action {
            ActionKind::Submit if node_kind == NodeKind::Approve => OpinionType::Approve,
            ActionKind::Submit => OpinionType::Submit,
            ActionKind::Reject => OpinionType::Return,
            ActionKind::Comment => OpinionType::Comment,
            ActionKind::Forward => OpinionType::Forward,
            ActionKind::Cc => OpinionType::Cc,
            ActionKind::Withdraw => OpinionType::Withdraw,
            ActionKind::Supervise => OpinionType::Supervise,
            ActionKind::ForceArchive => OpinionType::ForceArchive,
            ActionKind::ForceReturn => OpinionType::ForceReturn,
        }
    }

    /// The type of a log line written before log lines had types (a state saved by an
    /// earlier flowc): from its `do` and the kind of its node.
    pub fn of_logged(action: &str, node_kind: Option<NodeKind>) -> Option<OpinionType> {
        match action {
            "create" => return Some(OpinionType::Create),
            "remind" | "take" | "hand" => return Some(OpinionType::Timeout),
            "child_archived" => return Some(OpinionType::Subflow),
            _ => {}
        }
        let kind = ActionKind::from_name(action)?;
        Some(OpinionType::of(kind, node_kind.unwrap_or(NodeKind::Realize)))
    }

    /// The name the manual gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            OpinionType::Create => "创建",
            OpinionType::Submit => "提交",
            OpinionType::Approve => "批准",
            OpinionType::Forward => "转发",
            OpinionType::Comment => "批注",
            OpinionType::Cc => "抄送",
            OpinionType::Return => "退回",
            OpinionType::Supervise => "督办",
            OpinionType::ForceArchive => "强制归档",
            OpinionType::ForceReturn => "强制收回",
            OpinionType::Timeout => "超时",
            OpinionType::Subflow => "子流程",
            OpinionType::Withdraw => "撤回",
        }
    }
}
