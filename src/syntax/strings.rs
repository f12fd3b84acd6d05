//! String literals: escape decoding (docs/language.md §2.5) and `title`
//! interpolation, where `{expr}` is a hole and `{{`/`}}` are braces.

use crate::source::Span;

/// A problem inside a string literal, located by absolute byte span.
#[derive(Debug, Clone)]
pub struct StringProblem {
    pub span: Span,
    pub message: String,
    pub help: &'static str,
}

/// Decodes `\n \t \" \\ \u{…}` in `body` (the text between the quotes),
/// which starts at absolute offset `base`.
pub fn unescape(body: &str, base: usize, problems: &mut Vec<StringProblem>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((index, character)) = chars.next() {
        if character != '\\' {
            out.push(character);
            continue;
        }
        let Some((_, escape)) = chars.next() else {
            problems.push(StringProblem {
                span: Span::new(base + index, base + index + 1),
                message: "string ends with a lone `\\`".into(),
                help: "write `\\\\` for a backslash",
            });
            break;
        };
        match escape {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'u' => match unicode_escape(body, index) {
                Some((decoded, length)) => {
                    out.push(decoded);
                    // Skip the `{hex}` part (the `u` is already consumed).
                    for _ in 0..length.saturating_sub(2) {
                        chars.next();
                    }
                }
                None => problems.push(StringProblem {
                    span: Span::new(base + index, base + index + 2),
                    message: "invalid unicode escape".into(),
                    help: "write a code point in hex between braces, such as `\\u{4E2D}`",
                }),
            },
            other => problems.push(StringProblem {
                span: Span::new(base + index, base + index + 1 + other.len_utf8()),
                message: format!("unknown escape `\\{other}`"),
                help: "the escapes are `\\n`, `\\t`, `\\\"`, `\\\\` and `\\u{…}`",
            }),
        }
    }
    out
}

/// Decodes `\u{XXXX}` starting at the backslash at `index`; returns the
/// character and the length of the escape in bytes.
fn unicode_escape(body: &str, index: usize) -> Option<(char, usize)> {
    let rest = body.get(index + 2..)?;
    let inner = rest.strip_prefix('{')?;
    let close = inner.find('}')?;
    let hex = inner.get(..close)?;
    if hex.is_empty() || hex.len() > 6 {
        return None;
    }
    let value = u32::from_str_radix(hex, 16).ok()?;
    let decoded = char::from_u32(value)?;
    Some((decoded, 2 + 1 + close + 1))
}

/// One piece of a title string.
#[derive(Debug, Clone)]
pub enum RawTitlePart {
    /// Literal text, escapes not yet decoded; absolute start offset.
    Text(String, usize),
    /// The source text of a hole and its absolute start offset.
    Hole(String, usize),
}

/// Splits a title body (between the quotes, starting at `base`) into text
/// and holes.
pub fn split_title(body: &str, base: usize, problems: &mut Vec<StringProblem>) -> Vec<RawTitlePart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut text_start = base;
    let mut index = 0;
    let bytes = body.as_bytes();
    while index < bytes.len() {
        let rest = body.get(index..).unwrap_or("");
        if rest.starts_with("{{") || rest.starts_with("}}") {
            text.push_str(rest.get(..1).unwrap_or(""));
            index += 2;
        } else if rest.starts_with('{') {
            if !text.is_empty() {
                parts.push(RawTitlePart::Text(std::mem::take(&mut text), text_start));
            }
            match rest.find('}') {
                Some(close) => {
                    let hole = rest.get(1..close).unwrap_or("");
                    if hole.trim().is_empty() {
                        problems.push(StringProblem {
                            span: Span::new(base + index, base + index + close + 1),
                            message: "empty `{}` in a title".into(),
                            help: "put a name or expression between the braces, or write `{{` and `}}` for literal braces",
                        });
                    } else {
                        parts.push(RawTitlePart::Hole(hole.to_string(), base + index + 1));
                    }
                    index += close + 1;
                }
                None => {
                    problems.push(StringProblem {
                        span: Span::new(base + index, base + index + 1),
                        message: "`{` in a title is never closed".into(),
                        help: "close the expression with `}`, or write `{{` for a literal brace",
                    });
                    index = bytes.len();
                }
            }
            text_start = base + index;
        } else if rest.starts_with('}') {
            problems.push(StringProblem {
                span: Span::new(base + index, base + index + 1),
                message: "stray `}` in a title".into(),
                help: "write `}}` for a literal brace",
            });
            index += 1;
        } else {
            let character = rest.chars().next().unwrap_or(' ');
            text.push_str(rest.get(..character.len_utf8()).unwrap_or(""));
            index += character.len_utf8();
        }
    }
    if !text.is_empty() {
        parts.push(RawTitlePart::Text(text, text_start));
    }
    parts
}
