//! `supervisors { … }` (督办人): people lines, checked as a node's
//! `operators` lines are (people, `where` per person, `when` over the
//! request), read against the request when someone supervises.

use super::exprs::Env;
use super::Checker;
use crate::syntax::ast::{SettingKind, WorkflowItem};

impl<'a> Checker<'a> {
    pub(super) fn check_supervisors(&self, env: &Env<'_, 'a>, where_env: &Env<'_, 'a>, workflow: &'a WorkflowItem) {
        for setting in &workflow.settings {
            if let SettingKind::Supervisors(lines) = &setting.kind {
                for line in lines {
                    self.check_operator_line(env, where_env, line);
                }
            }
        }
    }
}
