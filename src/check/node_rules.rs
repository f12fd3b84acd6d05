//! Rules written inside one node (issue 10, manual 5.5.4): a `validate`
//! that holds at this node's submits only, and `required FIELD when EXPR`,
//! a field required only when the condition holds at submit. Their
//! conditions read the request like an exit's `when`.

use super::exprs::Env;
use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{Node, SettingMode};

impl<'a> Checker<'a> {
    pub(super) fn check_node_rules(&self, env: &Env<'_, 'a>, node: &'a Node) {
        for validate in &node.validates {
            self.expect_bool(env, &validate.condition, "a `validate` rule must be a check (boolean)");
        }
        for setting in &node.field_settings {
            let Some(condition) = &setting.condition else { continue };
            if setting.mode != SettingMode::Required {
                self.report(
                    Diagnostic::new(
                        Code::E0115,
                        format!(
                            "`{}` takes no `when`: only `required` may depend on a condition",
                            setting.mode.keyword()
                        ),
                        self.at(env.module, condition.span),
                        "a condition here",
                    )
                    .with_help(format!(
                        "write `required … when …` for a field needed only sometimes; `{}` always applies",
                        setting.mode.keyword()
                    )),
                );
                continue;
            }
            self.expect_bool(env, condition, "the `when` of `required` must be a check (boolean)");
        }
    }
}
