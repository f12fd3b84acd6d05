//! Did-you-mean: the closest known name by edit distance over characters,
//! so it works as well for `合记` → `合计` as for `aprove` → `approve`.

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
pub fn best<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = name.chars().count();
    if length == 0 {
        return None;
    }
    // One-character names are too short for a typo to be recognisable.
    if length < 2 {
        return None;
    }
    let limit = std::cmp::max(1, (length + 1) / 3);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == name || candidate.is_empty() {
            continue;
        }
        let candidate_length = candidate.chars().count();
        if candidate_length.abs_diff(length) > limit {
            continue;
        }
        let score = distance(name, candidate);
        if score <= limit && best.is_none_or(|(best_score, _)| score < best_score) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
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
}
