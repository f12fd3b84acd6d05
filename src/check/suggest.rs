//! Did-you-mean: the closest known name by edit distance over characters,
//! so it works as well for `合记` → `合计` as for `aprove` → `approve`.
//!
//! One search looks at every candidate, so a file with thousands of
//! unknown names in a scope of thousands of names would cost their
//! product. A check therefore searches through a [`Suggester`], which
//! stops offering suggestions once a fixed amount of work is spent: the
//! whole check stays linear, and only files with very many mistakes lose
//! the suggestions of their later ones.

use std::cell::Cell;

/// Names longer than this (in characters) get no suggestion: a typo in
/// them is rare, and comparing two long names costs the product of their
/// lengths.
const MAX_NAME: usize = 64;

/// The work one check may spend on suggestions: candidates looked at plus
/// cells of the edit-distance table filled; a few milliseconds, since the
/// language server re-checks on every keystroke. Enough for a few thousand
/// suggestions in a scope of a hundred names, or a hundred in a scope of
/// four thousand.
pub const WORK_BUDGET: usize = 500_000;

/// Levenshtein distance between two strings, counted in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b_chars: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b_chars.len()).collect();
    let mut current = vec![0; b_chars.len() + 1];
    for (i, a_char) in a.chars().enumerate() {
        if let Some(first) = current.first_mut() {
            *first = i + 1;
        }
        for (j, b_char) in b_chars.iter().enumerate() {
            let substitution = previous.get(j).copied().unwrap_or(0) + usize::from(a_char != *b_char);
            let deletion = previous.get(j + 1).copied().unwrap_or(0) + 1;
            let insertion = current.get(j).copied().unwrap_or(0) + 1;
            if let Some(cell) = current.get_mut(j + 1) {
                *cell = substitution.min(deletion).min(insertion);
            }
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous.last().copied().unwrap_or(0)
}

/// The candidate closest to `name`, if it is close enough to be a typo.
/// Unbudgeted: for a single message (the runtime's unknown field).
pub fn best<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    search(name, candidates).0
}

/// Did-you-mean for one check, within [`WORK_BUDGET`].
#[derive(Debug)]
pub struct Suggester {
    remaining: Cell<usize>,
}

impl Default for Suggester {
    fn default() -> Suggester {
        Suggester::with_budget(WORK_BUDGET)
    }
}

impl Suggester {
    pub fn with_budget(work: usize) -> Suggester {
        Suggester { remaining: Cell::new(work) }
    }

    /// Whether the budget is spent: callers skip gathering candidates then.
    pub fn exhausted(&self) -> bool {
        self.remaining.get() == 0
    }

    /// Like [`best`] while the budget lasts, then `None`. A search that
    /// starts runs to the end (so its answer does not depend on the order
    /// of the candidates), and its work is charged afterwards.
    pub fn best<'a>(&self, name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        if self.exhausted() {
            return None;
        }
        let (found, work) = search(name, candidates);
        self.remaining.set(self.remaining.get().saturating_sub(work));
        found
    }
}

/// The closest candidate within the typo limit, and the work spent.
fn search<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> (Option<&'a str>, usize) {
    let mut name_chars = ['\0'; MAX_NAME];
    let mut length = 0;
    for character in name.chars() {
        // Longer names get no suggestion (see MAX_NAME).
        let Some(slot) = name_chars.get_mut(length) else { return (None, 1) };
        *slot = character;
        length += 1;
    }
    // One-character names are too short for a typo to be recognisable.
    if length < 2 {
        return (None, 1);
    }
    let name_chars = name_chars.get(..length).unwrap_or_default();
    let name_mask = character_mask(name_chars);
    let limit = std::cmp::max(1, (length + 1) / 3);
    let mut work = 0;
    let mut best: Option<(usize, &str)> = None;
    let mut candidate_chars = ['\0'; MAX_NAME * 2];
    let mut rows = Rows::default();
    for candidate in candidates {
        work += 1;
        if candidate == name || candidate.is_empty() {
            continue;
        }
        // Decoded only as far as the length limit allows.
        let mut candidate_length = 0;
        for character in candidate.chars() {
            let Some(slot) = candidate_chars.get_mut(candidate_length) else { break };
            *slot = character;
            candidate_length += 1;
        }
        if candidate_length.abs_diff(length) > limit {
            continue;
        }
        let candidate_chars = candidate_chars.get(..candidate_length).unwrap_or_default();
        // An edit changes at most two bits of the mask: a cheap way to
        // skip most candidates without the table.
        if (character_mask(candidate_chars) ^ name_mask).count_ones() as usize > 2 * limit {
            continue;
        }
        let score = distance_within(name_chars, candidate_chars, limit, &mut rows, &mut work);
        if let Some(score) = score {
            if best.is_none_or(|(best_score, _)| score < best_score) {
                best = Some((score, candidate));
            }
        }
    }
    (best.map(|(_, candidate)| candidate), work)
}

/// Which characters a name holds, hashed to one of 64 bits each.
fn character_mask(characters: &[char]) -> u64 {
    characters.iter().fold(0, |mask, &character| mask | 1 << ((u32::from(character).wrapping_mul(0x9E37_79B1)) >> 26))
}

/// Two rows of the edit-distance table, reused from one candidate to the
/// next. Distances never exceed `2 * MAX_NAME`, so a byte holds them.
struct Rows {
    previous: [u8; MAX_NAME * 2 + 1],
    current: [u8; MAX_NAME * 2 + 1],
}

impl Default for Rows {
    fn default() -> Rows {
        Rows { previous: [0; MAX_NAME * 2 + 1], current: [0; MAX_NAME * 2 + 1] }
    }
}

/// Levenshtein distance of `a` and `b` if it is at most `limit`. Stops as
/// soon as every cell of a row is past the limit; adds the cells it fills
/// to `work`. Both are at most `2 * MAX_NAME` characters long.
fn distance_within(a: &[char], b: &[char], limit: usize, rows: &mut Rows, work: &mut usize) -> Option<usize> {
    let Rows { previous, current } = rows;
    for (index, cell) in previous.iter_mut().take(b.len() + 1).enumerate() {
        *cell = u8::try_from(index).unwrap_or(u8::MAX);
    }
    for (i, a_char) in a.iter().enumerate() {
        let row_start = u8::try_from(i + 1).unwrap_or(u8::MAX);
        if let Some(first) = current.first_mut() {
            *first = row_start;
        }
        let mut row_minimum = row_start;
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous.get(j).copied().unwrap_or(0).saturating_add(u8::from(a_char != b_char));
            let deletion = previous.get(j + 1).copied().unwrap_or(0).saturating_add(1);
            let insertion = current.get(j).copied().unwrap_or(0).saturating_add(1);
            let value = substitution.min(deletion).min(insertion);
            if let Some(cell) = current.get_mut(j + 1) {
                *cell = value;
            }
            row_minimum = row_minimum.min(value);
        }
        *work += b.len();
        if usize::from(row_minimum) > limit {
            return None;
        }
        std::mem::swap(previous, current);
    }
    previous.get(b.len()).map(|&score| usize::from(score)).filter(|&score| score <= limit)
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names() {
        assert_eq!(distance("合记", "合计"), 1);
        assert_eq!(best("合记", ["合计", "说明", "日期"]), Some("合计"));
        assert_eq!(best("部门审", ["部门审批", "财务审核"]), Some("部门审批"));
    }

    #[test]
    fn ascii_names() {
        assert_eq!(best("aprove", ["approve", "archive", "create"]), Some("approve"));
        assert_eq!(best("zzz", ["approve"]), None);
    }

    #[test]
    fn the_bounded_distance_agrees_with_the_plain_one() {
        let alphabet: Vec<char> = "ab字段断c".chars().collect();
        let mut state = 11u64;
        let mut next = |bound: usize| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % bound
        };
        // One pair of rows for every comparison, as a search uses them.
        let mut rows = Rows::default();
        for _ in 0..5000 {
            let a: Vec<char> = (0..next(9)).map(|_| alphabet[next(alphabet.len())]).collect();
            let b: Vec<char> = (0..next(9)).map(|_| alphabet[next(alphabet.len())]).collect();
            let limit = 1 + next(4);
            let plain = distance(&a.iter().collect::<String>(), &b.iter().collect::<String>());
            let mut work = 0;
            let found = distance_within(&a, &b, limit, &mut rows, &mut work);
            assert_eq!(found, Some(plain).filter(|&d| d <= limit), "{a:?} {b:?}");
        }
    }

    /// What `best` answered before it was made fast: every candidate's
    /// plain distance, the first of the closest within the limit.
    fn plain_best<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
        let length = name.chars().count();
        if length < 2 {
            return None;
        }
        let limit = std::cmp::max(1, (length + 1) / 3);
        let mut found: Option<(usize, &str)> = None;
        for &candidate in candidates {
            if candidate == name || candidate.is_empty() {
                continue;
            }
            let score = distance(name, candidate);
            if score <= limit && found.is_none_or(|(best, _)| score < best) {
                found = Some((score, candidate));
            }
        }
        found.map(|(_, candidate)| candidate)
    }

    #[test]
    fn the_fast_search_finds_what_the_plain_one_finds() {
        let alphabet: Vec<char> = "ab字段断c1".chars().collect();
        let state = Cell::new(5u64);
        let next = |bound: usize| {
            state.set(state.get().wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407));
            (state.get() >> 33) as usize % bound
        };
        for _ in 0..2000 {
            let word = || (0..next(8)).map(|_| alphabet[next(alphabet.len())]).collect::<String>();
            let name = word();
            let candidates: Vec<String> = (0..next(20)).map(|_| word()).collect();
            let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
            assert_eq!(
                best(&name, candidates.iter().copied()),
                plain_best(&name, &candidates),
                "{name} in {candidates:?}"
            );
        }
    }

    #[test]
    fn long_names_get_no_suggestion() {
        let long = "字".repeat(MAX_NAME + 1);
        let typo = format!("{long}x");
        assert_eq!(best(&typo, [long.as_str()]), None);
        let fits = "字".repeat(MAX_NAME - 1);
        assert_eq!(best(&format!("{fits}x"), [format!("{fits}y").as_str()]), Some(format!("{fits}y").as_str()));
    }

    #[test]
    fn a_spent_budget_stops_suggesting_but_a_started_search_finishes() {
        let names: Vec<String> = (0..100).map(|n| format!("字段{n}")).collect();
        let (_, work) = search("字断7", names.iter().map(String::as_str));
        assert!(work >= names.len());
        let suggester = Suggester::with_budget(work + 1);
        assert_eq!(suggester.best("字断7", names.iter().map(String::as_str)), Some("字段7"));
        assert!(!suggester.exhausted());
        assert_eq!(suggester.best("字断8", names.iter().map(String::as_str)), Some("字段8"));
        assert!(suggester.exhausted());
        assert_eq!(suggester.best("字断9", names.iter().map(String::as_str)), None);
    }
}
