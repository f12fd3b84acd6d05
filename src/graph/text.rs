//! How wide a line of text is drawn, without a font at hand: the layout
//! must size boxes before any renderer runs. A CJK character (and any other
//! East Asian wide character) counts one em, about twice a Latin one; the
//! estimate errs on the wide side so text never spills out of its box.

/// Font sizes and line height of the drawing, in pixels.
pub const TITLE_SIZE: f64 = 14.0;
pub const TEXT_SIZE: f64 = 12.0;
pub const LINE_HEIGHT: f64 = 1.4;

/// Whether a character takes a full em (CJK ideographs, kana, hangul,
/// full-width forms and CJK punctuation).
pub fn is_wide(character: char) -> bool {
    matches!(u32::from(character),
        0x1100..=0x115F
        | 0x2460..=0x24FF
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// The width of `text` at `size` pixels, in pixels.
pub fn width(text: &str, size: f64) -> f64 {
    text.chars().map(|character| char_width(character, size)).sum()
}

fn char_width(character: char, size: f64) -> f64 {
    if is_wide(character) {
        size
    } else if character.is_ascii_uppercase() || matches!(character, 'm' | 'w' | 'M' | 'W' | '@') {
        size * 0.68
    } else {
        size * 0.56
    }
}

/// `text` cut to at most `max` pixels at `size`, with `…` when cut.
pub fn truncate(text: &str, size: f64, max: f64) -> String {
    if width(text, size) <= max {
        return text.to_owned();
    }
    let ellipsis = char_width('…', size);
    let mut used = 0.0;
    let mut out = String::new();
    for character in text.chars() {
        let next = char_width(character, size);
        if used + next + ellipsis > max {
            break;
        }
        used += next;
        out.push(character);
    }
    out.push('…');
    out
}

/// `text` broken into lines of at most `max` pixels at `size`: at spaces
/// when it can, inside a word (a long name, a CJK run) when it must. At most
/// `max_lines` lines; the last one ends with `…` when text was left over.
pub fn wrap(text: &str, size: f64, max: f64, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|word| !word.is_empty()) {
        let candidate = if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
        if width(&candidate, size) <= max {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // A word wider than a line is cut where it must be.
        let mut piece = String::new();
        for character in word.chars() {
            if width(&piece, size) + char_width(character, size) > max && !piece.is_empty() {
                lines.push(std::mem::take(&mut piece));
            }
            piece.push(character);
        }
        current = piece;
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines.max(1) {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            // Text was left over: the last line ends with `…`, shortened until it fits.
            let mut kept: Vec<char> = last.chars().collect();
            while !kept.is_empty() && width(&kept.iter().collect::<String>(), size) + char_width('…', size) > max {
                kept.pop();
            }
            kept.push('…');
            *last = kept.into_iter().collect();
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_counts_twice_latin() {
        assert_eq!(width("审批", 10.0), 20.0);
        assert!(width("ab", 10.0) < 12.0);
    }

    #[test]
    fn wrap_keeps_every_line_within_the_width() {
        let lines = wrap("类型 != \"年假\" or 天数 <= 可用年假 and 一个很长很长很长很长的名字", 12.0, 100.0, 10);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|line| width(line, 12.0) <= 100.0), "{lines:?}");
        let cut = wrap("一二三四五六七八九十一二三四五六七八九十", 12.0, 60.0, 2);
        assert_eq!(cut.len(), 2);
        assert!(cut.iter().all(|line| width(line, 12.0) <= 60.0), "{cut:?}");
        assert!(cut[1].ends_with('…'));
    }
}
