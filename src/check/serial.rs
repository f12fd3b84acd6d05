//! The pattern of a `serial` field (流程编号, issue 10): `编号: serial
//! "流程编号" "BX-{yyyy}-{seq:4}"`. Text with placeholders for the creation
//! date (`{yyyy}`, `{yy}`, `{MM}`, `{dd}`) and, exactly once, the number
//! drawn from the workflow's counter (`{seq}`, or `{seq:4}` zero-padded to
//! four digits). The checker parses it (E0309); the IR keeps the parts and
//! the runtime fills the field when a request is created.

use serde::{Deserialize, Serialize};

/// Widest zero padding of `{seq:N}`.
pub const MAX_SEQUENCE_WIDTH: u32 = 12;

/// One piece of a serial pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SerialPart {
    Text(String),
    /// `{yyyy}`
    Year,
    /// `{yy}`
    ShortYear,
    /// `{MM}`
    Month,
    /// `{dd}`
    Day,
    /// `{seq}` (width 0: as many digits as it has) or `{seq:N}`.
    Sequence {
        width: u32,
    },
}

/// The parts of a pattern, or what is wrong with it.
pub fn parse_pattern(pattern: &str) -> Result<Vec<SerialPart>, String> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = pattern;
    let mut sequences = 0;
    while let Some(open) = rest.find(['{', '}']) {
        text.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open..).unwrap_or_default();
        if after.starts_with('}') {
            return Err("a `}` without its `{`".into());
        }
        let Some(close) = after.find('}') else {
            return Err("a `{` without its `}`".into());
        };
        let name = after.get(1..close).unwrap_or_default();
        let part = match name {
            "yyyy" => SerialPart::Year,
            "yy" => SerialPart::ShortYear,
            "MM" => SerialPart::Month,
            "dd" => SerialPart::Day,
            "seq" => SerialPart::Sequence { width: 0 },
            other => match other.strip_prefix("seq:").map(str::parse::<u32>) {
                Some(Ok(width)) if (1..=MAX_SEQUENCE_WIDTH).contains(&width) => SerialPart::Sequence { width },
                Some(_) => return Err(format!("`{{{other}}}`: the width is 1 to {MAX_SEQUENCE_WIDTH} digits")),
                None => {
                    return Err(format!(
                        "`{{{other}}}` is not a placeholder (they are `{{yyyy}}`, `{{yy}}`, `{{MM}}`, `{{dd}}`, `{{seq}}` and `{{seq:N}}`)"
                    ))
                }
            },
        };
        if matches!(part, SerialPart::Sequence { .. }) {
            sequences += 1;
        }
        if !text.is_empty() {
            parts.push(SerialPart::Text(std::mem::take(&mut text)));
        }
        parts.push(part);
        rest = after.get(close + 1..).unwrap_or_default();
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(SerialPart::Text(text));
    }
    match sequences {
        0 => Err("the pattern has no `{seq}`: two requests would get the same number".into()),
        1 => Ok(parts),
        _ => Err("`{seq}` appears more than once".into()),
    }
}

impl<'a> super::Checker<'a> {
    /// E0309: a serial needs a label and a pattern, the pattern must parse, and it is a main
    /// field (a request has one number).
    pub(super) fn check_serial(&self, module: usize, field: &'a crate::syntax::ast::FieldDecl, in_detail: bool) {
        use crate::diag::{Code, Diagnostic};
        let name = &field.name.name;
        if in_detail {
            self.report(
                Diagnostic::new(
                    Code::E0309,
                    format!("serial `{name}` is a detail column; a request has one number"),
                    self.at(module, field.name.span),
                    "in a detail table",
                )
                .with_help("declare the serial among the form's main fields"),
            );
        }
        let Some(pattern) = &field.extra else {
            self.report(
                Diagnostic::new(
                    Code::E0309,
                    format!("serial `{name}` needs a label and a pattern"),
                    self.at(module, field.name.span),
                    "no pattern",
                )
                .with_help(format!("write `{name}: serial \"流程编号\" \"BX-{{yyyy}}-{{seq:4}}\"`")),
            );
            return;
        };
        if let Err(problem) = parse_pattern(&pattern.value) {
            self.report(
                Diagnostic::new(
                    Code::E0309,
                    format!("the pattern of serial `{name}` is wrong: {problem}"),
                    self.at(module, pattern.span),
                    "this pattern",
                )
                .with_help("for example \"BX-{yyyy}-{seq:4}\": the year, then the counter on four digits"),
            );
        }
    }
}
