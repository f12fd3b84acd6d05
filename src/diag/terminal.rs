//! Text made safe to print on a terminal. Opinions and form values come from
//! people, names from the directory; printed raw, an escape sequence in one
//! could clear the screen or recolour what follows, and a carriage return
//! could write over a line and forge it. Every control character but the
//! newline is shown as an escape instead (`\e`, `\r`, `\u{7f}`), and so are
//! the characters that reorder a line or break it on display (bidirectional
//! overrides and isolates, the Unicode line and paragraph separators).
//! Newlines are the caller's to place: the text trace indents what follows
//! one, the diagnostics keep them.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every character a terminal would obey written as an escape;
/// borrowed when there is none (the common case costs one scan).
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for character in text.chars() {
        if !needs_escape(character) {
            out.push(character);
            continue;
        }
        let _ = match character {
            '\u{1b}' => write!(out, "\\e"),
            '\r' => write!(out, "\\r"),
            '\t' => write!(out, "\\t"),
            '\0' => write!(out, "\\0"),
            other => write!(out, "\\u{{{:x}}}", u32::from(other)),
        };
    }
    Cow::Owned(out)
}

fn needs_escape(character: char) -> bool {
    (character.is_control() && character != '\n')
        || matches!(
            character,
            '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn controls_become_escapes_and_plain_text_is_kept() {
        assert_eq!(escape_controls("同意。\u{1b}[2J"), "同意。\\e[2J");
        assert_eq!(escape_controls("a\r\n status: archived"), "a\\r\n status: archived");
        assert_eq!(escape_controls("\u{202e}cba\u{7}\u{9b}"), "\\u{202e}cba\\u{7}\\u{9b}");
        assert!(matches!(escape_controls("报销 ¥4,271.50\n第二行"), std::borrow::Cow::Borrowed(_)));
    }
}
