//! The registry of stable diagnostic codes. Every code has a page at
//! `docs/diagnostics/<CODE>.md` (a test keeps them in step).

use super::Severity;

macro_rules! codes {
    ($($name:ident = $text:literal, $severity:ident, $summary:literal;)*) => {
        /// A stable diagnostic code (`E0101`, `W0107`, …).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($name,)* }

        /// Every code, in numeric order.
        pub const ALL_CODES: &[Code] = &[$(Code::$name,)*];

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => $text,)* }
            }
            pub fn severity(self) -> Severity {
                match self { $(Code::$name => Severity::$severity,)* }
            }
            /// One line saying what the rule is.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$name => $summary,)* }
            }
        }
    };
}

codes! {
    E0001 = "E0001", Error, "syntax error";
    E0002 = "E0002", Error, "file is not valid UTF-8";
    E0003 = "E0003", Error, "nesting too deep";
    E0004 = "E0004", Error, "invalid string escape";
    E0005 = "E0005", Error, "number literal out of range";
    E0006 = "E0006", Error, "malformed title interpolation";
    E0101 = "E0101", Error, "a workflow needs exactly one `create` node";
    E0102 = "E0102", Error, "a workflow needs at least one `archive` node";
    E0103 = "E0103", Error, "`return` exits are allowed only on `approve` nodes";
    E0104 = "E0104", Error, "archive nodes have no operators, exits or actions; other nodes need operators and an exit";
    E0105 = "E0105", Error, "exit target is not a node of this workflow";
    E0106 = "E0106", Error, "no archive node is reachable from this node";
    W0107 = "W0107", Warning, "node is unreachable from the `create` node";
    W0108 = "W0108", Warning, "exit can never be taken: an earlier exit always holds";
    E0109 = "E0109", Error, "a workflow needs exactly one `form`";
    E0110 = "E0110", Error, "workflow setting given twice";
    E0111 = "E0111", Error, "unknown reminder channel";
    W0112 = "W0112", Warning, "script file not found";
    E0113 = "E0113", Error, "script path leaves the workflow's folder";
    E0114 = "E0114", Error, "script is not a regular file within the size limit";
    E0115 = "E0115", Error, "only `required` takes a `when` condition";
    E0130 = "E0130", Error, "a `fork` group needs two or more exits, is its node's only exits, and is not on a merge node";
    E0131 = "E0131", Error, "a merge node has no operators, field settings or actions; `wait` belongs to merge nodes";
    E0132 = "E0132", Error, "a merge's `wait` counts more branches than its fork has, or names none of them";
    E0133 = "E0133", Error, "an exit leads to a merge node from outside every branch";
    E0134 = "E0134", Error, "a branch never reaches its fork's merge";
    E0135 = "E0135", Error, "the branches of one fork end at different merges, or at an archive node";
    E0136 = "E0136", Error, "nested forks merge in the wrong order";
    E0137 = "E0137", Error, "a node belongs to two branches, or a branch is left without its merge";
    E0138 = "E0138", Error, "two branches of one fork may write the same field";
    E0139 = "E0139", Error, "a `return` goes into another branch, or to a merge node";
    E0140 = "E0140", Error, "a `start` names no workflow";
    E0141 = "E0141", Error, "a `start` line writes no field of its form, or `creator` is not a person";
    E0142 = "E0142", Error, "a second `start` on a node, or one on a create, merge or archive node";
    E0201 = "E0201", Error, "column rule type does not match the detail column";
    E0202 = "E0202", Error, "a detail column's aggregate is assigned to more than one main field";
    E0203 = "E0203", Error, "a row rule may use only numeric fields of its own row and main fields";
    E0204 = "E0204", Error, "formulas form a cycle";
    E0205 = "E0205", Error, "a decimal is stored into an `int` field without `round()`";
    E0206 = "E0206", Error, "an aggregate needs a detail column";
    E0207 = "E0207", Error, "this kind of field cannot have a formula";
    E0301 = "E0301", Error, "display name longer than 100 characters";
    E0302 = "E0302", Error, "duplicate name";
    E0303 = "E0303", Error, "`select` needs options and at most one `default`";
    E0304 = "E0304", Error, "computed, `link`, `note` and `serial` fields cannot be edited or assigned";
    W0305 = "W0305", Warning, "field is never filled";
    E0306 = "E0306", Error, "a field is both hidden and editable at one node";
    E0307 = "E0307", Error, "invalid type parameter";
    E0308 = "E0308", Error, "a `link` field needs a label and a URL";
    E0309 = "E0309", Error, "a `serial` field needs a label and a pattern with one `{seq}`";
    E0401 = "E0401", Error, "batch numbers repeat, or grouped and ungrouped operator lines are mixed";
    E0402 = "E0402", Error, "operator line is not people, or `where`/`when` is not boolean";
    E0403 = "E0403", Error, "`where` reads a name that is not a person attribute";
    E0501 = "E0501", Error, "unknown name";
    E0502 = "E0502", Error, "type mismatch";
    E0503 = "E0503", Error, "select compared with a string that is none of its options";
    E0504 = "E0504", Error, "wrong number of arguments";
    E0505 = "E0505", Error, "a function calls itself";
    E0506 = "E0506", Error, "only fields can be assigned";
    E0601 = "E0601", Error, "`use` target not found";
    E0602 = "E0602", Error, "`use` cycle";
    W0701 = "W0701", Warning, "some requests match no exit of a node";
    W0702 = "W0702", Warning, "an exit no request can take";
    W0703 = "W0703", Warning, "two exits overlap and their written order decides";
    E0704 = "E0704", Error, "requests that reach this node can never finish (a trap)";
    W0705 = "W0705", Warning, "for some requests or creators every batch of a node's operators is empty";
    W0706 = "W0706", Warning, "a condition compares a field that may be empty there";
    E0707 = "E0707", Error, "`allow` names no warning of the route analysis, or gives no reason";
    W0708 = "W0708", Warning, "the route analysis stopped looking for example requests: findings may be missing";
    E0901 = "E0901", Error, "a test names no workflow, or one that does not exist";
    E0902 = "E0902", Error, "a test expects a node or exit its workflow does not have";
    E0903 = "E0903", Error, "a test names a field its workflow's form does not have";
    E0904 = "E0904", Error, "a test expects a refusal code or status that does not exist";
    E0905 = "E0905", Error, "a test has no creator, or gives a setting twice";
    E0801 = "E0801", Error, "a deadline's `take` names no exit or return of its node";
    E0802 = "E0802", Error, "a deadline is given twice, on an archive node, or with a duration that is not a whole number above 0 or a reminder not inside it";
    E0803 = "E0803", Error, "a deadline on a node inside a fork's branch, or on a merge node";
    R0101 = "R0101", Error, "division by zero";
    R0102 = "R0102", Error, "number out of range";
    R0103 = "R0103", Error, "text too long for its field";
    R0104 = "R0104", Error, "a built-in function cannot compute this value";
    R0201 = "R0201", Error, "no exit holds";
    R0202 = "R0202", Error, "no return holds";
    R0203 = "R0203", Error, "not a pending operator of the current node";
    R0204 = "R0204", Error, "no operator resolved for the next node";
    R0205 = "R0205", Error, "the request is archived";
    R0206 = "R0206", Error, "this person may not create requests of this workflow";
    R0207 = "R0207", Error, "the request cannot be taken back now";
    R0208 = "R0208", Error, "not a supervisor of this workflow nor an administrator";
    R0209 = "R0209", Error, "this action needs an opinion";
    R0210 = "R0210", Error, "the person is pending at several nodes: the action must name one";
    R0211 = "R0211", Error, "an action is dated before the run's clock, or deadline timers fire without end";
    R0212 = "R0212", Error, "the node waits for the request it started to be archived";
    R0301 = "R0301", Error, "field is not editable here";
    R0302 = "R0302", Error, "required field is empty";
    R0303 = "R0303", Error, "a validate rule does not hold";
    R0304 = "R0304", Error, "value does not fit the field's type";
    R0305 = "R0305", Error, "unknown id";
    R0306 = "R0306", Error, "unknown field";
    R0401 = "R0401", Error, "script error";
    R0402 = "R0402", Error, "script broke a limit";
    R0501 = "R0501", Error, "state belongs to another workflow or version";
    R0502 = "R0502", Error, "malformed request, action or state";
    R0503 = "R0503", Error, "state does not match its log";
}

impl Code {
    /// The warnings of the route analysis (`W07xx`), which `allow` may silence on one node.
    pub fn is_analysis_warning(self) -> bool {
        self.severity() == Severity::Warning && self.as_str().starts_with("W07")
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}
