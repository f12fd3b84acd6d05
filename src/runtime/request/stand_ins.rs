//! Stand-ins (代理) at run time: when a node's operators are resolved, each
//! person whose stand-in is active on the day of the action is replaced by
//! their deputy (following a chain of stand-ins, each person once), in the
//! operators and in who is pending. The request remembers who stands in for
//! whom at the current node, so the log and the trace say "李四 for 张三".
//! The creator is never replaced: a request returned to the create node
//! waits for its creator.

use serde::{Deserialize, Serialize};

use crate::runtime::request::events::Step;
use crate::runtime::request::{Request, Runtime};
use crate::runtime::values::dates::DateTime;

/// Longest chain of stand-ins followed (A's deputy is away too, and so on).
const LONGEST_CHAIN: usize = 16;

/// `deputy` acts at the current node for `person`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandIn {
    pub deputy: String,
    #[serde(rename = "for")]
    pub person: String,
}

impl Runtime<'_> {
    /// Hands the places of people away on `now`'s day to their deputies.
    pub(super) fn hand_to_deputies(&self, request: &mut Request, step: &mut Step, now: DateTime) {
        let day = now.date.to_string();
        let mut stand_ins = Vec::new();
        let mut replace = |people: &[String], record: bool| -> Vec<String> {
            let mut out: Vec<String> = Vec::with_capacity(people.len());
            for person in people {
                let acting = self.acting_for(person, &day);
                if &acting != person && record {
                    stand_ins.push(StandIn { deputy: acting.clone(), person: person.clone() });
                }
                if !out.contains(&acting) {
                    out.push(acting);
                }
            }
            out
        };
        let operators = replace(&request.operators, true);
        let pending = replace(&request.pending, false);
        request.operators = operators;
        request.pending = pending;
        step.operators = request.operators.clone();
        step.stand_ins = stand_ins.clone();
        request.stand_ins = stand_ins;
    }

    /// Who acts for `person` on `day`: their deputy, that deputy's deputy…, or themselves.
    fn acting_for(&self, person: &str, day: &str) -> String {
        let mut chain: Vec<String> = vec![person.to_owned()];
        while chain.len() <= LONGEST_CHAIN {
            let Some(current) = chain.last() else { break };
            match self.directory.deputy_on(current, day) {
                Some(deputy) if !chain.iter().any(|seen| *seen == *deputy) => chain.push(deputy.into_owned()),
                _ => break,
            }
        }
        chain.pop().unwrap_or_else(|| person.to_owned())
    }

    /// The people `person` stands in for at the current node.
    pub fn standing_in_for(&self, request: &Request, person: &str) -> Vec<String> {
        request.stand_ins.iter().filter(|stand_in| stand_in.deputy == person).map(|s| s.person.clone()).collect()
    }
}
