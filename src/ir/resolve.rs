//! Where each name the checker resolved points, for the lowering: the
//! checker's index lists every reference (use site, declaration) in the
//! order the checker met them, which is nearly the order the lowering
//! walks the program. A few cursors into that list find almost every name
//! within a short scan, with no map of 100,000 entries to build and probe
//! at random (on the largest benchmark workflow, all but three of 65,000
//! names). A name found nowhere near a cursor is looked for in the whole
//! list; after a few such misses, a map of every reference is built once.

use std::cell::{Cell, OnceCell};

use rustc_hash::FxHashMap as HashMap;

use crate::source::FileSpan;

/// How many streams of references the lookups follow at once (the checker
/// visits a form's formulas and its validates in two passes, the lowering
/// in one).
const CURSORS: usize = 4;
/// How far before a cursor a name is looked for (the lowering may visit an
/// expression's parts in a slightly different order) and how far after.
const BEHIND: usize = 8;
const AHEAD: usize = 32;
/// How many names are looked for in the whole list before the map is built.
const SCANS: usize = 8;

pub struct References<'a> {
    references: &'a [(FileSpan, FileSpan)],
    /// The positions just after the last names found, most recent first.
    cursors: Cell<[usize; CURSORS]>,
    scans_left: Cell<usize>,
    everything: OnceCell<HashMap<FileSpan, FileSpan>>,
}

impl<'a> References<'a> {
    pub fn new(references: &'a [(FileSpan, FileSpan)]) -> References<'a> {
        References {
            references,
            cursors: Cell::new([0; CURSORS]),
            scans_left: Cell::new(SCANS),
            everything: OnceCell::new(),
        }
    }

    /// The declaration the name at `site` refers to, if the checker resolved it.
    pub fn definition(&self, site: FileSpan) -> Option<FileSpan> {
        if let Some(map) = self.everything.get() {
            return map.get(&site).copied();
        }
        let cursors = self.cursors.get();
        for slot in 0..CURSORS {
            let cursor = cursors.get(slot).copied().unwrap_or(0);
            let start = cursor.saturating_sub(BEHIND);
            let end = cursor.saturating_add(AHEAD).min(self.references.len());
            let window = self.references.get(start..end).unwrap_or(&[]);
            if let Some(offset) = window.iter().position(|(candidate, _)| *candidate == site) {
                return self.follow(cursors, slot, start + offset);
            }
        }
        let scans_left = self.scans_left.get();
        if scans_left == 0 {
            let map = self.everything.get_or_init(|| self.references.iter().copied().collect());
            return map.get(&site).copied();
        }
        self.scans_left.set(scans_left - 1);
        let found = self.references.iter().position(|(candidate, _)| *candidate == site)?;
        // A new stream: it replaces the least recent.
        self.follow(cursors, CURSORS - 1, found)
    }

    /// The reference at `found`, whose stream (the cursor in `slot`) becomes the most recent.
    fn follow(&self, mut cursors: [usize; CURSORS], slot: usize, found: usize) -> Option<FileSpan> {
        if let Some(moved) = cursors.get_mut(..=slot) {
            moved.rotate_right(1);
        }
        cursors[0] = found + 1;
        self.cursors.set(cursors);
        self.references.get(found).map(|(_, definition)| *definition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn at(start: usize) -> FileSpan {
        FileSpan::new(FileId(0), Span::new(start, start + 1))
    }

    /// Every lookup agrees with a map of the references, whatever the order
    /// of the lookups: in the list's order, shuffled, reversed, and for
    /// names that were never resolved.
    #[test]
    fn every_order_of_lookups_finds_what_a_map_finds() {
        let references: Vec<(FileSpan, FileSpan)> = (0..2000).map(|index| (at(index * 3), at(index % 17))).collect();
        let map: HashMap<FileSpan, FileSpan> = references.iter().copied().collect();
        let mut seed = 7u64;
        let mut shuffled: Vec<usize> = (0..2000).collect();
        for index in (1..shuffled.len()).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(index, (seed >> 33) as usize % (index + 1));
        }
        let in_order: Vec<usize> = (0..2000).collect();
        let reversed: Vec<usize> = (0..2000).rev().collect();
        for order in [in_order, shuffled, reversed] {
            let resolver = References::new(&references);
            for index in order {
                // Each position, the one after it (never a use site) and a far one.
                for start in [index * 3, index * 3 + 1, 10_000 + index] {
                    assert_eq!(resolver.definition(at(start)), map.get(&at(start)).copied(), "at {start}");
                }
            }
        }
    }

    /// Two interleaved streams (a form's formulas and its validates) are
    /// followed without building the map.
    #[test]
    fn interleaved_streams_need_no_map() {
        let references: Vec<(FileSpan, FileSpan)> = (0..1000).map(|index| (at(index), at(0))).collect();
        let resolver = References::new(&references);
        for index in 0..500 {
            assert_eq!(resolver.definition(at(index)), Some(at(0)));
            assert_eq!(resolver.definition(at(500 + index)), Some(at(0)));
        }
        assert!(resolver.everything.get().is_none(), "the map was built");
    }
}
