//! The constraint language the analysis reasons in: variables with finite
//! or numeric domains, literals over them (a variable in a set of values, a
//! linear inequality between numeric variables), formulas built from
//! literals with `and`/`or`/`not`, and their disjunctive normal form — a
//! list of cubes, each a conjunction that the solver (`solve.rs`) decides.
//!
//! Numbers are kept as scaled integers: a `money` value 12.50 is the integer
//! 1250 at scale 2, so "greater than 5000.00" is exactly "at least 500001",
//! and every strict inequality becomes a non-strict one. Empty values are a
//! value of their own (`null` in a numeric domain, a class of a finite one),
//! so language.md §4's rules about empty values are exact, not approximated.

use std::fmt;

use smallvec::{smallvec, SmallVec};

/// A variable of the analysis: a field, an aggregate, a row count, or an
/// expression the analysis does not solve, at one moment of a request.
pub type VarId = u32;

/// What values a variable ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sort {
    /// Decimals with `scale` places, as integers × 10^scale; `null` when
    /// `nullable`; never below `min` (row counts are not negative).
    Num { scale: u32, nullable: bool, min: Option<i128> },
    /// One of `size` classes (at most 128): a check's false/true, a select's
    /// options, the kinds of text the conditions tell apart.
    Fin { size: u8 },
}

impl Sort {
    /// Every value of the sort.
    pub fn universe(&self) -> Dom {
        match self {
            Sort::Num { nullable, min, .. } => Dom::Num {
                null: *nullable,
                set: match min {
                    Some(min) => Intervals::at_least(*min),
                    None => Intervals::full(),
                },
            },
            Sort::Fin { size } => Dom::fin(full_mask(*size)),
        }
    }

    pub fn scale(&self) -> u32 {
        match self {
            Sort::Num { scale, .. } => *scale,
            Sort::Fin { .. } => 0,
        }
    }
}

pub fn full_mask(size: u8) -> u128 {
    if size >= 128 {
        u128::MAX
    } else {
        (1u128 << size) - 1
    }
}

/// A set of integers: sorted, disjoint, non-adjacent closed intervals; a
/// missing bound is infinite.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Intervals(Pieces);

impl Clone for Intervals {
    /// A copy of the pieces' bytes (the derived clone goes piece by piece).
    fn clone(&self) -> Intervals {
        Intervals(SmallVec::from_slice(&self.0))
    }
}

/// One interval of a set; most sets are one (`x > 5000`), held inline.
type Pieces = SmallVec<[Piece; 1]>;

/// A closed interval. Its bounds are `i128`s kept as bytes, so a domain
/// needs no 16-byte alignment and is half the size of a pair of
/// `Option<i128>` (cubes are copied and compared all the time). The
/// lowest `i128` as the low bound, the highest as the high one, mean no
/// bound: every `i128` beyond them is in the interval anyway.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Piece {
    low: [u8; 16],
    high: [u8; 16],
}

impl Piece {
    fn new(low: Option<i128>, high: Option<i128>) -> Piece {
        Piece { low: low.unwrap_or(i128::MIN).to_le_bytes(), high: high.unwrap_or(i128::MAX).to_le_bytes() }
    }

    fn low(&self) -> Option<i128> {
        let low = i128::from_le_bytes(self.low);
        (low != i128::MIN).then_some(low)
    }

    fn high(&self) -> Option<i128> {
        let high = i128::from_le_bytes(self.high);
        (high != i128::MAX).then_some(high)
    }

    fn bounds(&self) -> (Option<i128>, Option<i128>) {
        (self.low(), self.high())
    }
}

impl fmt::Debug for Piece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.bounds())
    }
}

impl Intervals {
    pub fn full() -> Intervals {
        Intervals(smallvec![Piece::new(None, None)])
    }

    pub fn empty() -> Intervals {
        Intervals(SmallVec::new())
    }

    pub fn point(value: i128) -> Intervals {
        Intervals(smallvec![Piece::new(Some(value), Some(value))])
    }

    pub fn at_least(value: i128) -> Intervals {
        Intervals(smallvec![Piece::new(Some(value), None)])
    }

    pub fn at_most(value: i128) -> Intervals {
        Intervals(smallvec![Piece::new(None, Some(value))])
    }

    pub fn range(low: Option<i128>, high: Option<i128>) -> Intervals {
        match (low, high) {
            (Some(low), Some(high)) if low > high => Intervals::empty(),
            _ => Intervals(smallvec![Piece::new(low, high)]),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The intervals in order, each as its low and high bound (`None`: infinite).
    pub fn pieces(&self) -> impl ExactSizeIterator<Item = (Option<i128>, Option<i128>)> + '_ {
        self.0.iter().map(Piece::bounds)
    }

    pub fn contains(&self, value: i128) -> bool {
        self.pieces().any(|(low, high)| low.is_none_or(|low| low <= value) && high.is_none_or(|high| value <= high))
    }

    /// The smallest and largest members (`None` for an infinite side).
    pub fn hull(&self) -> (Option<i128>, Option<i128>) {
        match (self.0.first(), self.0.last()) {
            (Some(first), Some(last)) => (first.low(), last.high()),
            _ => (Some(0), Some(-1)),
        }
    }

    pub fn intersect(&self, other: &Intervals) -> Intervals {
        let mut out = Pieces::new();
        for (a_low, a_high) in self.pieces() {
            for (b_low, b_high) in other.pieces() {
                let low = max_low(a_low, b_low);
                let high = min_high(a_high, b_high);
                if let (Some(low), Some(high)) = (low, high) {
                    if low > high {
                        continue;
                    }
                }
                out.push(Piece::new(low, high));
            }
        }
        Intervals::normalized(out)
    }

    pub fn union(&self, other: &Intervals) -> Intervals {
        let mut all = self.0.clone();
        all.extend(other.0.iter().copied());
        Intervals::normalized(all)
    }

    pub fn complement(&self) -> Intervals {
        let mut out = Pieces::new();
        let mut cursor: Option<i128> = None; // next uncovered value; None = -inf
        let mut open = true;
        for (low, high) in self.pieces() {
            match low {
                None => {}
                Some(low) => {
                    let gap_high = low.checked_sub(1);
                    if let Some(gap_high) = gap_high {
                        if cursor.is_none_or(|start| start <= gap_high) {
                            out.push(Piece::new(cursor, Some(gap_high)));
                        }
                    }
                }
            }
            match high {
                None => {
                    open = false;
                    break;
                }
                Some(high) => cursor = high.checked_add(1),
            }
        }
        if open {
            out.push(Piece::new(cursor, None));
        }
        Intervals::normalized(out)
    }

    /// Every piece of `self` lies within one piece of `other` (pieces are
    /// disjoint and non-adjacent, so a piece cannot straddle two).
    pub fn is_subset(&self, other: &Intervals) -> bool {
        self.0.iter().all(|piece| {
            // With no bound as the lowest and highest `i128`, containment is two comparisons.
            let (low, high) = (i128::from_le_bytes(piece.low), i128::from_le_bytes(piece.high));
            other.0.iter().any(|outer| i128::from_le_bytes(outer.low) <= low && high <= i128::from_le_bytes(outer.high))
        })
    }

    /// Whether every integer from `low` (`None`: unbounded) upwards is in the set.
    fn covers_from(&self, low: Option<i128>) -> bool {
        self.pieces().any(|(piece_low, piece_high)| {
            piece_high.is_none()
                && match (piece_low, low) {
                    (None, _) => true,
                    (Some(_), None) => false,
                    (Some(piece), Some(low)) => piece <= low,
                }
        })
    }

    /// Sorts and merges overlapping or adjacent pieces.
    fn normalized(mut pieces: Pieces) -> Intervals {
        if pieces.len() <= 1 {
            return Intervals(pieces);
        }
        // The lowest `i128` stands for no low bound: ordering the bounds orders the pieces.
        pieces.sort_by_key(|piece| i128::from_le_bytes(piece.low));
        let mut out = Pieces::with_capacity(pieces.len());
        for piece in pieces {
            let (low, high) = piece.bounds();
            if let Some(last) = out.last_mut() {
                let touches = match (last.high(), low) {
                    (None, _) | (_, None) => true,
                    (Some(last_high), Some(low)) => low <= last_high.saturating_add(1),
                };
                if touches {
                    let merged_high = match (last.high(), high) {
                        (None, _) | (_, None) => None,
                        (Some(a), Some(b)) => Some(a.max(b)),
                    };
                    *last = Piece::new(last.low(), merged_high);
                    continue;
                }
            }
            out.push(piece);
        }
        Intervals(out)
    }
}

fn max_low(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    match (a, b) {
        (None, other) | (other, None) => other,
        (Some(a), Some(b)) => Some(a.max(b)),
    }
}

fn min_high(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    match (a, b) {
        (None, other) | (other, None) => other,
        (Some(a), Some(b)) => Some(a.min(b)),
    }
}

/// The values one variable may take.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dom {
    Num {
        null: bool,
        set: Intervals,
    },
    /// A bit per class.
    Fin(Mask),
}

/// A bit per class, as bytes: a `u128` field would make every domain
/// 16-byte aligned (see `Piece`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mask([u8; 16]);

impl Mask {
    pub fn bits(self) -> u128 {
        u128::from_le_bytes(self.0)
    }
}

impl Dom {
    /// A finite domain of the classes whose bits are set.
    pub fn fin(bits: u128) -> Dom {
        Dom::Fin(Mask(bits.to_le_bytes()))
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Dom::Num { null, set } => !null && set.is_empty(),
            Dom::Fin(mask) => mask.bits() == 0,
        }
    }

    pub fn intersect(&self, other: &Dom) -> Dom {
        match (self, other) {
            (Dom::Num { null: a, set: x }, Dom::Num { null: b, set: y }) => {
                Dom::Num { null: *a && *b, set: x.intersect(y) }
            }
            (Dom::Fin(a), Dom::Fin(b)) => Dom::fin(a.bits() & b.bits()),
            // Sorts never mix; an impossible pair is empty rather than a panic.
            _ => Dom::fin(0),
        }
    }

    pub fn union(&self, other: &Dom) -> Dom {
        match (self, other) {
            (Dom::Num { null: a, set: x }, Dom::Num { null: b, set: y }) => {
                Dom::Num { null: *a || *b, set: x.union(y) }
            }
            (Dom::Fin(a), Dom::Fin(b)) => Dom::fin(a.bits() | b.bits()),
            (other, _) => other.clone(),
        }
    }

    /// The values of `universe` outside this domain.
    pub fn complement(&self, universe: &Dom) -> Dom {
        match self {
            Dom::Num { null, set } => Dom::Num { null: !null, set: set.complement() }.intersect(universe),
            Dom::Fin(mask) => Dom::fin(!mask.bits()).intersect(universe),
        }
    }

    /// The values outside this domain among every value of its kind (an
    /// empty value and every integer, or all 128 classes).
    pub fn complement_everywhere(&self) -> Dom {
        match self {
            Dom::Num { null, set } => Dom::Num { null: !null, set: set.complement() },
            Dom::Fin(mask) => Dom::fin(!mask.bits()),
        }
    }

    pub fn is_subset(&self, other: &Dom) -> bool {
        match (self, other) {
            (Dom::Num { null: a, set: x }, Dom::Num { null: b, set: y }) => (!a || *b) && x.is_subset(y),
            (Dom::Fin(a), Dom::Fin(b)) => a.bits() & !b.bits() == 0,
            _ => false,
        }
    }

    /// Whether every value of `sort` is in this domain (`sort.universe().is_subset(self)`, without building it).
    pub fn contains_universe(&self, sort: &Sort) -> bool {
        match (sort, self) {
            (Sort::Num { nullable, min, .. }, Dom::Num { null, set }) => (!nullable || *null) && set.covers_from(*min),
            (Sort::Fin { size }, Dom::Fin(mask)) => full_mask(*size) & !mask.bits() == 0,
            _ => false,
        }
    }

    pub fn not_null() -> Dom {
        Dom::Num { null: false, set: Intervals::full() }
    }

    pub fn only_null() -> Dom {
        Dom::Num { null: true, set: Intervals::empty() }
    }
}

/// `Σ coefficient × variable + constant <= 0` over scaled integers, every
/// variable non-empty. Normalised: sorted by variable, no zero coefficient,
/// coefficients divided by their common divisor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Linear {
    /// Shared: cubes are copied all the time and their inequalities with
    /// them, and an inequality is never changed in place.
    pub terms: std::sync::Arc<[(VarId, i128)]>,
    pub constant: i128,
}

impl Linear {
    /// Normalises; `None` when an intermediate overflows.
    pub fn new(mut terms: Vec<(VarId, i128)>, constant: i128) -> Option<Linear> {
        terms.sort_by_key(|term| term.0);
        let mut merged: Vec<(VarId, i128)> = Vec::with_capacity(terms.len());
        for (var, coefficient) in terms {
            match merged.last_mut() {
                Some(last) if last.0 == var => last.1 = last.1.checked_add(coefficient)?,
                _ => merged.push((var, coefficient)),
            }
        }
        merged.retain(|term| term.1 != 0);
        let divisor = merged.iter().fold(0i128, |acc, term| gcd(acc, term.1));
        if divisor > 1 {
            for term in &mut merged {
                term.1 /= divisor;
            }
            // Σ a x <= -c  becomes  Σ (a/g) x <= floor(-c/g)
            let bound = floor_div(constant.checked_neg()?, divisor);
            return Some(Linear { terms: merged.into(), constant: bound.checked_neg()? });
        }
        Some(Linear { terms: merged.into(), constant })
    }

    /// Not (Σ <= 0), for non-empty variables: Σ >= 1, that is -Σ + 1 <= 0.
    pub fn negated(&self) -> Option<Linear> {
        let terms: Option<Vec<(VarId, i128)>> =
            self.terms.iter().map(|&(var, coefficient)| Some((var, coefficient.checked_neg()?))).collect();
        Linear::new(terms?, self.constant.checked_neg()?.checked_add(1)?)
    }

    pub fn vars(&self) -> impl Iterator<Item = VarId> + '_ {
        self.terms.iter().map(|term| term.0)
    }

    pub fn mentions(&self, var: VarId) -> bool {
        self.terms.iter().any(|term| term.0 == var)
    }

    /// The value of Σ + constant for the given values; `None` on overflow or a missing value.
    pub fn evaluate(&self, value_of: &dyn Fn(VarId) -> Option<i128>) -> Option<i128> {
        let mut total = self.constant;
        for &(var, coefficient) in self.terms.iter() {
            total = total.checked_add(coefficient.checked_mul(value_of(var)?)?)?;
        }
        Some(total)
    }
}

pub fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        let rest = a % b;
        a = b;
        b = rest;
    }
    i128::try_from(a).unwrap_or(1)
}

pub fn floor_div(a: i128, b: i128) -> i128 {
    let quotient = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        quotient - 1
    } else {
        quotient
    }
}

pub fn ceil_div(a: i128, b: i128) -> i128 {
    let quotient = a / b;
    if (a % b != 0) && ((a < 0) == (b < 0)) {
        quotient + 1
    } else {
        quotient
    }
}

/// `coefficient × var + constant <= 0` with `var` not empty, as its domain
/// (what `simplified` makes of that inequality beside `var`'s "not empty").
pub fn bound_literal(var: VarId, coefficient: i128, constant: i128, sorts: &dyn Sorts) -> Formula {
    domain_literal(var, Dom::Num { null: false, set: one_variable_set(coefficient, constant) }, sorts)
}

/// The values of x for which `coefficient·x + constant <= 0`.
fn one_variable_set(coefficient: i128, constant: i128) -> Intervals {
    if coefficient > 0 {
        Intervals::at_most(floor_div(-constant, coefficient))
    } else {
        Intervals::at_least(ceil_div(constant, -coefficient))
    }
}

/// One fact about the variables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lit {
    /// The variable's value is in the domain.
    Dom(VarId, Dom),
    /// The linear inequality holds (its variables are non-empty).
    Lin(Linear),
}

/// A condition over the variables.
#[derive(Debug, Clone, PartialEq)]
pub enum Formula {
    True,
    False,
    Lit(Lit),
    And(Vec<Formula>),
    Or(Vec<Formula>),
    Not(Box<Formula>),
    /// Cases whose guards cover every value and exclude one another:
    /// `(g1 and b1) or (g2 and b2) …`. Negating keeps the guards and negates
    /// the bodies, which is what keeps `not (a < b)` small.
    Cases(Vec<(Formula, Formula)>),
}

impl Formula {
    pub fn and(parts: Vec<Formula>) -> Formula {
        // Already flat (the common case): the parts are kept where they are.
        if parts.len() > 1 && !parts.iter().any(|part| matches!(part, Formula::True | Formula::False | Formula::And(_)))
        {
            return Formula::And(parts);
        }
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                Formula::True => {}
                Formula::False => return Formula::False,
                Formula::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Formula::True,
            1 => out.pop().unwrap_or(Formula::True),
            _ => Formula::And(out),
        }
    }

    pub fn or(parts: Vec<Formula>) -> Formula {
        if parts.len() > 1 && !parts.iter().any(|part| matches!(part, Formula::True | Formula::False | Formula::Or(_)))
        {
            return Formula::Or(parts);
        }
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                Formula::False => {}
                Formula::True => return Formula::True,
                Formula::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Formula::False,
            1 => out.pop().unwrap_or(Formula::False),
            _ => Formula::Or(out),
        }
    }

    pub fn not(inner: Formula) -> Formula {
        match inner {
            Formula::True => Formula::False,
            Formula::False => Formula::True,
            Formula::Not(inner) => *inner,
            // The values outside a domain, as a domain: one literal (and one
            // cube) instead of a negation to expand. Its extra values (an
            // empty value of a variable that has none, classes past a
            // sort's last) are values the variable never takes.
            Formula::Lit(Lit::Dom(var, dom)) => Formula::Lit(Lit::Dom(var, dom.complement_everywhere())),
            other => Formula::Not(Box::new(other)),
        }
    }

    pub fn dom(var: VarId, dom: Dom) -> Formula {
        Formula::Lit(Lit::Dom(var, dom))
    }

    /// Every variable the formula mentions.
    pub fn vars(&self, out: &mut Vec<VarId>) {
        match self {
            Formula::True | Formula::False => {}
            Formula::Lit(Lit::Dom(var, _)) => out.push(*var),
            Formula::Lit(Lit::Lin(linear)) => out.extend(linear.vars()),
            Formula::And(parts) | Formula::Or(parts) => parts.iter().for_each(|part| part.vars(out)),
            Formula::Not(inner) => inner.vars(out),
            Formula::Cases(cases) => {
                for (guard, body) in cases {
                    guard.vars(out);
                    body.vars(out);
                }
            }
        }
    }

    /// Replaces variables (the analysis renames a formula onto another
    /// moment's variables).
    pub fn rename(&self, map: &dyn Fn(VarId) -> VarId) -> Formula {
        match self {
            Formula::True => Formula::True,
            Formula::False => Formula::False,
            Formula::Lit(Lit::Dom(var, dom)) => Formula::Lit(Lit::Dom(map(*var), dom.clone())),
            Formula::Lit(Lit::Lin(linear)) => {
                let terms = linear.terms.iter().map(|&(var, coefficient)| (map(var), coefficient)).collect();
                match Linear::new(terms, linear.constant) {
                    Some(renamed) => Formula::Lit(Lit::Lin(renamed)),
                    None => Formula::True,
                }
            }
            Formula::And(parts) => Formula::And(parts.iter().map(|part| part.rename(map)).collect()),
            Formula::Or(parts) => Formula::Or(parts.iter().map(|part| part.rename(map)).collect()),
            Formula::Not(inner) => Formula::Not(Box::new(inner.rename(map))),
            Formula::Cases(cases) => {
                Formula::Cases(cases.iter().map(|(guard, body)| (guard.rename(map), body.rename(map))).collect())
            }
        }
    }
}

impl Formula {
    /// An equivalent formula with fewer, larger literals, so expanding it
    /// splits fewer cubes: an inequality over one variable becomes that
    /// variable's domain; the domains `and` and `or` put on one variable
    /// become one domain; `not` of a domain is its complement; and cases
    /// over one variable (what a comparison with an empty value gives:
    /// `x > 5000` is "x empty: false; else x ≥ 5000.01") become one domain
    /// — so `not (x > 5000)` is one cube (x empty or at most 5000), not two.
    pub fn simplified(self, sorts: &dyn Sorts) -> Formula {
        match self {
            Formula::True | Formula::False => self,
            Formula::Lit(Lit::Lin(linear)) => match linear.terms.as_ref() {
                [] => bool_of(linear.constant <= 0),
                [(var, coefficient)] => domain_literal(
                    *var,
                    Dom::Num { null: false, set: one_variable_set(*coefficient, linear.constant) },
                    sorts,
                ),
                _ => Formula::Lit(Lit::Lin(linear)),
            },
            Formula::Lit(Lit::Dom(var, dom)) => domain_literal(var, dom, sorts),
            Formula::Not(inner) => match inner.simplified(sorts) {
                Formula::Lit(Lit::Dom(var, dom)) => {
                    let universe = sorts.sort(var).universe();
                    domain_literal(var, dom.complement(&universe), sorts)
                }
                other => Formula::not(other),
            },
            Formula::And(parts) => {
                let parts = parts.into_iter().map(|part| part.simplified(sorts)).collect();
                match Formula::and(parts) {
                    Formula::And(parts) => join_domains(parts, true, sorts),
                    other => other,
                }
            }
            Formula::Or(parts) => {
                let parts = parts.into_iter().map(|part| part.simplified(sorts)).collect();
                match Formula::or(parts) {
                    Formula::Or(parts) => join_domains(parts, false, sorts),
                    other => other,
                }
            }
            Formula::Cases(cases) => {
                // A case whose guard never holds covers nothing: dropping it
                // keeps the guards covering every value.
                let cases: Vec<(Formula, Formula)> = cases
                    .into_iter()
                    .map(|(guard, body)| (guard.simplified(sorts), body.simplified(sorts)))
                    .filter(|(guard, _)| *guard != Formula::False)
                    .collect();
                let holding: Vec<&(Formula, Formula)> =
                    cases.iter().filter(|(_, body)| *body != Formula::False).collect();
                match holding.as_slice() {
                    [] => return Formula::False,
                    [(guard, body)] => {
                        return Formula::And(vec![guard.clone(), body.clone()]).simplified(sorts);
                    }
                    _ => {}
                }
                // Every guard and body a domain of one variable: the union of
                // each guard's values the body accepts.
                let mut single: Option<(VarId, Dom)> = None;
                for (guard, body) in &cases {
                    let mut within = match domain_of(guard) {
                        Some(found) => found,
                        None => return Formula::Cases(cases),
                    };
                    match body {
                        Formula::True => {}
                        Formula::False => continue,
                        other => match domain_of(other) {
                            Some((var, dom)) if var == within.0 => within.1 = within.1.intersect(&dom),
                            _ => return Formula::Cases(cases),
                        },
                    }
                    single = match single {
                        None => Some(within),
                        Some((var, dom)) if var == within.0 => Some((var, dom.union(&within.1))),
                        Some(_) => return Formula::Cases(cases),
                    };
                }
                match single {
                    Some((var, dom)) => domain_literal(var, dom, sorts),
                    None => Formula::False,
                }
            }
        }
    }
}

fn bool_of(value: bool) -> Formula {
    if value {
        Formula::True
    } else {
        Formula::False
    }
}

/// `var ∈ dom`, as `True` or `False` when the domain is every value or none.
fn domain_literal(var: VarId, dom: Dom, sorts: &dyn Sorts) -> Formula {
    let sort = sorts.sort(var);
    let dom = dom.intersect(&sort.universe());
    if dom.is_empty() {
        Formula::False
    } else if dom.contains_universe(&sort) {
        Formula::True
    } else {
        Formula::Lit(Lit::Dom(var, dom))
    }
}

/// The variable and domain of a formula that is one domain literal.
fn domain_of(formula: &Formula) -> Option<(VarId, Dom)> {
    match formula {
        Formula::Lit(Lit::Dom(var, dom)) => Some((*var, dom.clone())),
        _ => None,
    }
}

/// The parts of an `and` (`all`) or `or` with the domains of each variable
/// joined into one literal, where the variable's first one was.
fn join_domains(parts: Vec<Formula>, all: bool, sorts: &dyn Sorts) -> Formula {
    let mut out: Vec<Formula> = Vec::with_capacity(parts.len());
    // An inequality holds only where its variables are not empty: next to
    // it under `and`, "not empty" says nothing more.
    let in_inequalities: Vec<VarId> = if all {
        parts
            .iter()
            .filter_map(|part| match part {
                Formula::Lit(Lit::Lin(linear)) => Some(linear.vars()),
                _ => None,
            })
            .flatten()
            .collect()
    } else {
        Vec::new()
    };
    for part in parts {
        if let Formula::Lit(Lit::Dom(var, Dom::Num { null: false, set })) = &part {
            if in_inequalities.contains(var) && set.covers_from(None) {
                continue;
            }
        }
        if let Formula::Lit(Lit::Dom(var, dom)) = &part {
            let earlier = out.iter_mut().find(|kept| matches!(kept, Formula::Lit(Lit::Dom(other, _)) if other == var));
            if let Some(Formula::Lit(Lit::Dom(_, kept))) = earlier {
                let joined = if all { kept.intersect(dom) } else { kept.union(dom) };
                match domain_literal(*var, joined, sorts) {
                    Formula::Lit(Lit::Dom(_, joined)) => *kept = joined,
                    // Empty under `and`, everything under `or`: the whole is decided.
                    decided => return decided,
                }
                continue;
            }
        }
        out.push(part);
    }
    if all {
        Formula::and(out)
    } else {
        Formula::or(out)
    }
}

/// The sorts of the variables, for complements.
pub trait Sorts {
    fn sort(&self, var: VarId) -> Sort;

    /// Whether `dom` holds every value of `var`'s sort (the sort is not copied where it is stored).
    fn holds_all(&self, var: VarId, dom: &Dom) -> bool {
        dom.contains_universe(&self.sort(var))
    }
}

/// A conjunction: a domain per constrained variable (sorted by variable)
/// and linear inequalities over several variables.
#[derive(Debug, PartialEq, Eq, Hash, Default)]
pub struct Cube {
    pub doms: Vec<(VarId, Dom)>,
    pub lins: Vec<Linear>,
}

/// Room a copied cube keeps for domains: a copy is made to be narrowed,
/// and a copy exactly as long as its original grew (a new allocation and a
/// copy of every domain) at the first variable it was narrowed on.
const DOMAIN_SLACK: usize = 2;

impl Clone for Cube {
    fn clone(&self) -> Cube {
        let mut doms = Vec::with_capacity(self.doms.len() + DOMAIN_SLACK);
        doms.extend(self.doms.iter().cloned());
        Cube { doms, lins: self.lins.clone() }
    }
}

impl Cube {
    pub fn top() -> Cube {
        Cube::default()
    }

    pub fn dom(&self, var: VarId) -> Option<&Dom> {
        self.doms.binary_search_by_key(&var, |entry| entry.0).ok().and_then(|at| self.doms.get(at)).map(|e| &e.1)
    }

    /// The domain of `var` here (its universe when unconstrained).
    pub fn dom_or_universe(&self, var: VarId, sorts: &dyn Sorts) -> Dom {
        self.dom(var).cloned().unwrap_or_else(|| sorts.sort(var).universe())
    }

    /// Narrows `var` to `dom`; false when the cube becomes empty.
    pub fn restrict(&mut self, var: VarId, dom: &Dom, sorts: &dyn Sorts) -> bool {
        match self.doms.binary_search_by_key(&var, |entry| entry.0) {
            Ok(at) => {
                if let Some(entry) = self.doms.get_mut(at) {
                    // Already as narrow (the common case of a condition asked again): nothing to build.
                    if !entry.1.is_subset(dom) {
                        entry.1 = entry.1.intersect(dom);
                    }
                    return !entry.1.is_empty();
                }
                false
            }
            Err(at) => {
                let narrowed = sorts.sort(var).universe().intersect(dom);
                let empty = narrowed.is_empty();
                self.doms.insert(at, (var, narrowed));
                !empty
            }
        }
    }

    /// Whether `restrict(var, dom)` would leave the cube possible (as far
    /// as domains tell), without changing it.
    pub fn admits(&self, var: VarId, dom: &Dom, sorts: &dyn Sorts) -> bool {
        match self.dom(var) {
            Some(current) => !current.intersect(dom).is_empty(),
            None => !sorts.sort(var).universe().intersect(dom).is_empty(),
        }
    }

    /// Adds a literal; false when the cube becomes empty (as far as domains tell).
    pub fn add(&mut self, lit: &Lit, sorts: &dyn Sorts) -> bool {
        match lit {
            Lit::Dom(var, dom) => self.restrict(*var, dom, sorts),
            Lit::Lin(linear) => self.add_linear(linear, sorts),
        }
    }

    pub fn add_linear(&mut self, linear: &Linear, sorts: &dyn Sorts) -> bool {
        match linear.terms.as_ref() {
            [] => linear.constant <= 0,
            [(var, coefficient)] => self.restrict(
                *var,
                &Dom::Num { null: false, set: one_variable_set(*coefficient, linear.constant) },
                sorts,
            ),
            terms => {
                for &(var, _) in terms {
                    if !self.restrict(var, &Dom::not_null(), sorts) {
                        return false;
                    }
                }
                if !self.lins.contains(linear) {
                    self.lins.push(linear.clone());
                    self.lins.sort();
                }
                true
            }
        }
    }

    pub fn is_trivially_empty(&self) -> bool {
        self.doms.iter().any(|(_, dom)| dom.is_empty())
    }

    /// Whether every value of `self` is in `other`, judged by domains and
    /// by `other`'s inequalities being among `self`'s (a sufficient test).
    pub fn is_subset(&self, other: &Cube, sorts: &dyn Sorts) -> bool {
        // Both lists are sorted by variable: one walk, nothing built.
        let mut mine = self.doms.iter().peekable();
        for (var, dom) in &other.doms {
            while mine.next_if(|(candidate, _)| candidate < var).is_some() {}
            let holds = match mine.peek() {
                Some((candidate, narrower)) if candidate == var => narrower.is_subset(dom),
                _ => sorts.holds_all(*var, dom),
            };
            if !holds {
                return false;
            }
        }
        other.lins.iter().all(|linear| self.lins.contains(linear))
    }

    /// Whether the cube has a solution for a reason seen without solving:
    /// no domain is empty, and each inequality has a variable of its own
    /// (in no other inequality) whose values go on without end in the
    /// direction that satisfies it — the other variables take any value of
    /// their domains, then that variable is taken far enough. Two
    /// inequalities that bound the same sum from both sides (an equality,
    /// what `x = y` gives) count as one, when the range is not empty and
    /// they share a variable of their own, with coefficient ±1 and every
    /// integer as its values. `false` means "ask the solver", not "impossible".
    pub fn obviously_possible(&self, sorts: &dyn Sorts) -> bool {
        if self.is_trivially_empty() {
            return false;
        }
        let set_of = |var: VarId| -> Option<Intervals> {
            match self.dom(var) {
                Some(Dom::Num { set, .. }) => Some(set.clone()),
                Some(Dom::Fin(_)) => None,
                None => match sorts.sort(var).universe() {
                    Dom::Num { set, .. } => Some(set),
                    Dom::Fin(_) => None,
                },
            }
        };
        // Whether `var` is in no inequality but those at `own`.
        let private = |var: VarId, own: &[usize]| {
            self.lins.iter().enumerate().all(|(index, linear)| own.contains(&index) || !linear.mentions(var))
        };
        let mut paired = vec![false; self.lins.len()];
        for (index, linear) in self.lins.iter().enumerate() {
            if paired.get(index).copied().unwrap_or(false) {
                continue;
            }
            if !linear.vars().all(|var| set_of(var).is_some_and(|set| !set.is_empty())) {
                return false;
            }
            let opposite = self.lins.iter().enumerate().skip(index + 1).find(|(_, other)| {
                other.terms.len() == linear.terms.len()
                    && other.terms.iter().zip(linear.terms.iter()).all(|(a, b)| a.0 == b.0 && a.1 == -b.1)
            });
            let holds = match opposite {
                Some((other_index, other)) => {
                    if let Some(flag) = paired.get_mut(other_index) {
                        *flag = true;
                    }
                    // Σ + c1 <= 0 and -Σ + c2 <= 0: c2 <= Σ <= -c1, not empty when c1 + c2 <= 0.
                    linear.constant.checked_add(other.constant).is_some_and(|sum| sum <= 0)
                        && linear.terms.iter().any(|&(var, coefficient)| {
                            coefficient.abs() == 1
                                && set_of(var).is_some_and(|set| set == Intervals::full())
                                && private(var, &[index, other_index])
                        })
                }
                None => linear.terms.iter().any(|&(var, coefficient)| {
                    // a·x + … <= 0: x without end downwards when a > 0, upwards when a < 0.
                    let Some(set) = set_of(var) else { return false };
                    let (low, high) = set.hull();
                    let endless = if coefficient > 0 { low.is_none() } else { high.is_none() };
                    endless && !set.is_empty() && private(var, &[index])
                }),
            };
            if !holds {
                return false;
            }
        }
        true
    }

    pub fn mentions(&self, var: VarId) -> bool {
        self.dom(var).is_some() || self.lins.iter().any(|linear| linear.mentions(var))
    }

    /// Renames one variable, `from`, to `to`: what `rename` does with a map
    /// that changes only `from`, without rebuilding the rest of the cube
    /// when `to` is not constrained already (an assignment's new value
    /// becoming the field's, after the old value was forgotten).
    pub fn rename_one(self, from: VarId, to: VarId, sorts: &dyn Sorts) -> Option<Cube> {
        if self.mentions(to) {
            return self.rename(&|var| if var == from { to } else { var }, sorts);
        }
        let mut out = self;
        if let Ok(at) = out.doms.binary_search_by_key(&from, |entry| entry.0) {
            let (_, dom) = out.doms.remove(at);
            let at = out.doms.binary_search_by_key(&to, |entry| entry.0).unwrap_or_else(|at| at);
            out.doms.insert(at, (to, dom));
        }
        if out.lins.iter().any(|linear| linear.mentions(from)) {
            let mut lins = Vec::with_capacity(out.lins.len());
            for linear in &out.lins {
                if linear.mentions(from) {
                    let terms = linear.terms.iter().map(|&(var, c)| (if var == from { to } else { var }, c)).collect();
                    lins.push(Linear::new(terms, linear.constant)?);
                } else {
                    lins.push(linear.clone());
                }
            }
            lins.sort();
            lins.dedup();
            out.lins = lins;
        }
        Some(out)
    }

    /// Renames variables (onto another moment's).
    pub fn rename(&self, map: &dyn Fn(VarId) -> VarId, sorts: &dyn Sorts) -> Option<Cube> {
        let mut out = Cube::top();
        for (var, dom) in &self.doms {
            if !out.restrict(map(*var), dom, sorts) {
                return None;
            }
        }
        for linear in &self.lins {
            let terms = linear.terms.iter().map(|&(var, coefficient)| (map(var), coefficient)).collect();
            let renamed = Linear::new(terms, linear.constant)?;
            if !out.add_linear(&renamed, sorts) {
                return None;
            }
        }
        Some(out)
    }
}

/// A formula too large to expand: the analysis says so instead of guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

/// The most cubes one expansion may produce.
pub const CUBE_LIMIT: usize = 4096;

/// The cubes of `formula` (negations pushed to the literals), each
/// intersected with `base`; cubes found empty by their domains are dropped.
pub fn dnf(formula: &Formula, base: &Cube, sorts: &dyn Sorts) -> Result<Vec<Cube>, TooLarge> {
    expand(formula, false, vec![base.clone()], sorts)
}

fn expand(formula: &Formula, negated: bool, cubes: Vec<Cube>, sorts: &dyn Sorts) -> Result<Vec<Cube>, TooLarge> {
    if cubes.is_empty() {
        return Ok(cubes);
    }
    match (formula, negated) {
        (Formula::True, false) | (Formula::False, true) => Ok(cubes),
        (Formula::False, false) | (Formula::True, true) => Ok(Vec::new()),
        (Formula::Not(inner), _) => expand(inner, !negated, cubes, sorts),
        (Formula::Lit(lit), false) => Ok(add_to_all(cubes, lit, sorts)),
        (Formula::Lit(Lit::Dom(var, dom)), true) => {
            let complement = dom.complement(&sorts.sort(*var).universe());
            Ok(add_to_all(cubes, &Lit::Dom(*var, complement), sorts))
        }
        (Formula::Lit(Lit::Lin(linear)), true) => expand_linear_negation(linear, cubes, sorts),
        (Formula::And(parts), false) | (Formula::Or(parts), true) => {
            let mut current = cubes;
            for part in parts {
                current = expand(part, negated, current, sorts)?;
                if current.is_empty() {
                    break;
                }
            }
            Ok(current)
        }
        (Formula::Or(parts), false) | (Formula::And(parts), true) => {
            let mut out = Vec::new();
            // The last part takes the cubes themselves; the others a copy.
            let mut cubes = Some(cubes);
            for (index, part) in parts.iter().enumerate() {
                let these = if index + 1 == parts.len() { cubes.take() } else { cubes.clone() };
                out.extend(expand(part, negated, these.unwrap_or_default(), sorts)?);
                if out.len() > CUBE_LIMIT {
                    return Err(TooLarge);
                }
            }
            Ok(dedup(out))
        }
        (Formula::Cases(cases), _) => {
            let mut out = Vec::new();
            let mut cubes = Some(cubes);
            for (index, (guard, body)) in cases.iter().enumerate() {
                let these = if index + 1 == cases.len() { cubes.take() } else { cubes.clone() };
                let guarded = expand(guard, false, these.unwrap_or_default(), sorts)?;
                out.extend(expand(body, negated, guarded, sorts)?);
                if out.len() > CUBE_LIMIT {
                    return Err(TooLarge);
                }
            }
            Ok(dedup(out))
        }
    }
}

/// Whether some cube of `formula`'s expansion over `base` is accepted: the
/// cubes of `dnf`, built one at a time depth first and offered to `accept`
/// as each is complete, stopping at the first accepted (a question that
/// only asks whether some request can, answered without expanding the rest).
pub fn any_cube(
    formula: &Formula,
    base: &Cube,
    sorts: &dyn Sorts,
    accept: &mut dyn FnMut(&Cube) -> bool,
) -> Result<bool, TooLarge> {
    let mut budget = CUBE_LIMIT;
    each_cube(&mut vec![(formula, false)], base.clone(), sorts, accept, &mut budget)
}

/// The cubes of the conjunction of `pending` (each formula with whether it
/// is negated) over `cube`, depth first.
fn each_cube<'f>(
    pending: &mut Vec<(&'f Formula, bool)>,
    mut cube: Cube,
    sorts: &dyn Sorts,
    accept: &mut dyn FnMut(&Cube) -> bool,
    budget: &mut usize,
) -> Result<bool, TooLarge> {
    loop {
        let Some((formula, negated)) = pending.pop() else {
            *budget = budget.checked_sub(1).ok_or(TooLarge)?;
            return Ok(accept(&cube));
        };
        match (formula, negated) {
            (Formula::True, false) | (Formula::False, true) => {}
            (Formula::False, false) | (Formula::True, true) => return Ok(false),
            (Formula::Not(inner), _) => pending.push((inner, !negated)),
            (Formula::Lit(lit), false) => {
                if !cube.add(lit, sorts) {
                    return Ok(false);
                }
            }
            (Formula::Lit(Lit::Dom(var, dom)), true) => {
                if !cube.restrict(*var, &dom.complement(&sorts.sort(*var).universe()), sorts) {
                    return Ok(false);
                }
            }
            (Formula::Lit(Lit::Lin(linear)), true) => {
                let either = linear_negation(linear)?;
                let mut branch: Vec<(&Formula, bool)> = pending.clone();
                branch.push((&either, false));
                return each_cube(&mut branch, cube, sorts, accept, budget);
            }
            (Formula::And(parts), false) | (Formula::Or(parts), true) => {
                // Taken in written order: the last pushed is taken first.
                pending.extend(parts.iter().rev().map(|part| (part, negated)));
            }
            (Formula::Or(parts), false) | (Formula::And(parts), true) => {
                for part in parts {
                    let mut branch = pending.clone();
                    branch.push((part, negated));
                    if each_cube(&mut branch, cube.clone(), sorts, accept, budget)? {
                        return Ok(true);
                    }
                }
                return Ok(false);
            }
            (Formula::Cases(cases), _) => {
                for (guard, body) in cases {
                    let mut branch = pending.clone();
                    branch.push((body, negated));
                    branch.push((guard, false));
                    if each_cube(&mut branch, cube.clone(), sorts, accept, budget)? {
                        return Ok(true);
                    }
                }
                return Ok(false);
            }
        }
    }
}

/// Not (all its variables non-empty and Σ <= 0): some variable empty, or Σ >= 1.
fn linear_negation(linear: &Linear) -> Result<Formula, TooLarge> {
    Ok(Formula::Or(linear_negation_literals(linear)?.into_iter().map(Formula::Lit).collect()))
}

/// The ways an inequality fails, in order: each of its variables empty,
/// or the opposite inequality.
fn linear_negation_literals(linear: &Linear) -> Result<Vec<Lit>, TooLarge> {
    let mut literals: Vec<Lit> = Vec::with_capacity(linear.terms.len() + 1);
    literals.extend(linear.vars().map(|var| Lit::Dom(var, Dom::only_null())));
    literals.push(Lit::Lin(linear.negated().ok_or(TooLarge)?));
    Ok(literals)
}

/// `expand` of `linear_negation(linear)` without building that formula:
/// the cubes of each of its literals in turn, as the expansion of an `or`
/// gives them. A cube that a variable's domain would empty is not copied
/// to be found so (`Cube::admits`).
fn expand_linear_negation(linear: &Linear, cubes: Vec<Cube>, sorts: &dyn Sorts) -> Result<Vec<Cube>, TooLarge> {
    let mut literals = linear_negation_literals(linear)?;
    let Some(opposite) = literals.pop() else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for literal in &literals {
        for cube in &cubes {
            if let Lit::Dom(var, dom) = literal {
                if !cube.admits(*var, dom, sorts) {
                    continue;
                }
            }
            let mut copy = cube.clone();
            if copy.add(literal, sorts) {
                out.push(copy);
            }
        }
        if out.len() > CUBE_LIMIT {
            return Err(TooLarge);
        }
    }
    out.extend(add_to_all(cubes, &opposite, sorts));
    if out.len() > CUBE_LIMIT {
        return Err(TooLarge);
    }
    Ok(dedup(out))
}

fn add_to_all(cubes: Vec<Cube>, lit: &Lit, sorts: &dyn Sorts) -> Vec<Cube> {
    cubes.into_iter().filter_map(|mut cube| if cube.add(lit, sorts) { Some(cube) } else { None }).collect()
}

/// Drops repeated cubes, once there are enough for it to pay (hashing a
/// cube costs about as much as keeping it).
fn dedup(mut cubes: Vec<Cube>) -> Vec<Cube> {
    if cubes.len() <= 32 {
        return cubes;
    }
    let mut seen = rustc_hash::FxHashSet::default();
    cubes.retain(|cube| seen.insert(cube.clone()));
    cubes
}

impl fmt::Display for Linear {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (var, coefficient)) in self.terms.iter().enumerate() {
            if index > 0 {
                formatter.write_str(" + ")?;
            }
            write!(formatter, "{coefficient}·v{var}")?;
        }
        write!(formatter, " + {} <= 0", self.constant)
    }
}

/// What the analysis's randomized tests share: a deterministic generator
/// (a failure replays) and sorts for two variables.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Sort, Sorts, VarId};

    /// The next number below `bound`, from an xorshift generator.
    pub fn below(seed: &mut u64, bound: u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed % bound
    }

    /// Variable 0: a nullable integer; any other: one of three classes.
    pub struct Pair;
    impl Sorts for Pair {
        fn sort(&self, var: VarId) -> Sort {
            if var == 0 {
                Sort::Num { scale: 0, nullable: true, min: None }
            } else {
                Sort::Fin { size: 3 }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    struct AllNum;
    impl Sorts for AllNum {
        fn sort(&self, _: VarId) -> Sort {
            Sort::Num { scale: 0, nullable: true, min: None }
        }
    }

    #[test]
    fn a_domain_is_small_and_8_byte_aligned() {
        // Cubes are copied and compared all the time: a 16-byte alignment
        // (an `i128` or `u128` field) doubles a domain and sends every
        // cube's allocation down the allocator's slower aligned path.
        assert_eq!(std::mem::align_of::<Dom>(), 8);
        assert!(std::mem::size_of::<(VarId, Dom)>() <= 56);
    }

    #[test]
    fn intervals_at_the_ends_of_i128() {
        // The lowest and highest `i128` stand for no bound.
        let top = Intervals::range(Some(5), Some(i128::MAX));
        assert_eq!(top, Intervals::at_least(5));
        assert_eq!(top.complement(), Intervals::at_most(4));
        assert_eq!(Intervals::range(Some(i128::MIN), Some(0)), Intervals::at_most(0));
        assert!(Intervals::full().contains(i128::MIN) && Intervals::full().contains(i128::MAX));
        assert!(!Intervals::at_least(0).contains(i128::MIN));
        assert!(Intervals::range(Some(i128::MIN + 1), Some(i128::MAX - 1)).is_subset(&Intervals::full()));
        assert!(!Intervals::full().is_subset(&Intervals::range(Some(i128::MIN + 1), None)));
    }

    #[test]
    fn intervals_complement_and_union() {
        let set = Intervals::range(Some(1), Some(5)).union(&Intervals::range(Some(10), None));
        let complement = set.complement();
        assert_eq!(complement.pieces().collect::<Vec<_>>(), vec![(None, Some(0)), (Some(6), Some(9))]);
        assert_eq!(complement.complement(), set);
        assert!(Intervals::range(Some(2), Some(3)).is_subset(&set));
        assert!(!Intervals::range(Some(2), Some(7)).is_subset(&set));
        assert_eq!(Intervals::range(Some(1), Some(2)).union(&Intervals::range(Some(3), Some(4))).pieces().len(), 1);
    }

    /// Small interval sets over -3..=3, with either side sometimes unbounded.
    fn sample_sets() -> Vec<Intervals> {
        let bounds = [None, Some(-3), Some(-1), Some(0), Some(1), Some(3)];
        let mut pieces = Vec::new();
        for low in bounds {
            for high in bounds {
                pieces.push(Intervals::range(low, high));
            }
        }
        let mut sets = pieces.clone();
        for (index, a) in pieces.iter().enumerate() {
            for b in pieces.iter().skip(index).step_by(5) {
                sets.push(a.union(&b.intersect(&Intervals::range(Some(2), None))));
            }
        }
        sets
    }

    #[test]
    fn interval_subset_agrees_with_set_difference() {
        let sets = sample_sets();
        for a in &sets {
            for b in &sets {
                assert_eq!(a.is_subset(b), a.intersect(&b.complement()).is_empty(), "{a:?} within {b:?}");
            }
        }
    }

    #[test]
    fn universe_containment_agrees_with_the_universe() {
        let sorts = [
            Sort::Num { scale: 0, nullable: true, min: None },
            Sort::Num { scale: 0, nullable: false, min: Some(0) },
            Sort::Num { scale: 2, nullable: true, min: Some(1) },
        ];
        for sort in &sorts {
            for set in sample_sets() {
                for null in [false, true] {
                    let dom = Dom::Num { null, set: set.clone() };
                    assert_eq!(dom.contains_universe(sort), sort.universe().is_subset(&dom), "{dom:?} for {sort:?}");
                }
            }
        }
        for mask in [0u128, 1, 2, 3, 7, 15] {
            let dom = Dom::fin(mask);
            let sort = Sort::Fin { size: 2 };
            assert_eq!(dom.contains_universe(&sort), sort.universe().is_subset(&dom));
        }
    }

    #[test]
    fn linear_normalises_and_negates() {
        // 2x + 2y + 3 <= 0  is  x + y <= -2 (floor(-3/2))
        let linear = Linear::new(vec![(1, 2), (0, 2)], 3).unwrap();
        assert_eq!(linear.terms.as_ref(), [(0, 1), (1, 1)]);
        assert_eq!(linear.constant, 2);
        // not (x + y <= -2): x + y >= -1: -x - y - 1 <= 0
        let negated = linear.negated().unwrap();
        assert_eq!(negated.terms.as_ref(), [(0, -1), (1, -1)]);
        assert_eq!(negated.constant, -1);
    }

    // Two variables, x (a nullable integer) and y (three classes: `testing::Pair`), and every
    // pair of their values in -3..=3.
    use super::testing::{below, Pair};

    fn holds(formula: &Formula, x: Option<i128>, y: u8) -> bool {
        let in_dom = |var: VarId, dom: &Dom| match (var, dom) {
            (0, Dom::Num { null, set }) => x.map_or(*null, |x| set.contains(x)),
            (1, Dom::Fin(mask)) => mask.bits() & (1u128 << y) != 0,
            _ => false,
        };
        match formula {
            Formula::True => true,
            Formula::False => false,
            Formula::Lit(Lit::Dom(var, dom)) => in_dom(*var, dom),
            Formula::Lit(Lit::Lin(linear)) => {
                linear.evaluate(&|var| if var == 0 { x } else { Some(i128::from(y)) }).is_some_and(|total| total <= 0)
            }
            Formula::And(parts) => parts.iter().all(|part| holds(part, x, y)),
            Formula::Or(parts) => parts.iter().any(|part| holds(part, x, y)),
            Formula::Not(inner) => !holds(inner, x, y),
            Formula::Cases(cases) => cases.iter().any(|(guard, body)| holds(guard, x, y) && holds(body, x, y)),
        }
    }

    /// A random formula over x and y, with comparisons as the model writes them (cases on x being empty).
    fn random_formula(seed: &mut u64, depth: u32) -> Formula {
        let mut next = |bound: u64| below(seed, bound);
        let value = |n: u64| i128::from(n as i8) - 3;
        let choice = if depth == 0 { next(4) } else { next(8) };
        match choice {
            0 => Formula::dom(
                0,
                Dom::Num { null: next(2) == 0, set: Intervals::range(Some(value(next(7))), Some(value(next(7)))) },
            ),
            1 => Formula::dom(1, Dom::fin(u128::from(next(8) as u8))),
            2 => Formula::Cases(vec![
                (Formula::dom(0, Dom::only_null()), if next(2) == 0 { Formula::True } else { Formula::False }),
                (
                    Formula::dom(0, Dom::not_null()),
                    Formula::Lit(Lit::Lin(
                        Linear::new(vec![(0, if next(2) == 0 { 1 } else { -1 })], value(next(7))).unwrap(),
                    )),
                ),
            ]),
            3 => Formula::Lit(Lit::Lin(Linear::new(vec![(0, 1), (1, -1)], value(next(7))).unwrap())),
            4 | 5 => {
                let parts = (0..2 + next(2)).map(|_| random_formula(seed, depth - 1)).collect();
                if choice == 4 {
                    Formula::And(parts)
                } else {
                    Formula::Or(parts)
                }
            }
            6 => Formula::Not(Box::new(random_formula(seed, depth - 1))),
            _ => Formula::Cases(vec![
                (Formula::dom(1, Dom::fin(1)), random_formula(seed, depth - 1)),
                (Formula::dom(1, Dom::fin(6)), random_formula(seed, depth - 1)),
            ]),
        }
    }

    #[test]
    fn simplified_formulas_hold_for_the_same_values() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3000 {
            let formula = random_formula(&mut seed, 3);
            let simplified = formula.clone().simplified(&Pair);
            for x in [None, Some(-4), Some(-3), Some(-1), Some(0), Some(1), Some(2), Some(3), Some(4)] {
                for y in 0..3 {
                    assert_eq!(
                        holds(&formula, x, y),
                        holds(&simplified, x, y),
                        "{formula:?} as {simplified:?} at {x:?}, {y}"
                    );
                    let negated = Formula::not(simplified.clone()).simplified(&Pair);
                    assert_eq!(!holds(&formula, x, y), holds(&negated, x, y), "not {formula:?} as {negated:?}");
                }
            }
        }
        // A comparison with an empty value and its negation are one domain each.
        let greater = Formula::Cases(vec![
            (Formula::dom(0, Dom::only_null()), Formula::False),
            (Formula::dom(0, Dom::not_null()), Formula::Lit(Lit::Lin(Linear::new(vec![(0, -1)], 6).unwrap()))),
        ]);
        let simplified = greater.simplified(&Pair);
        assert_eq!(simplified, Formula::dom(0, Dom::Num { null: false, set: Intervals::at_least(6) }));
        assert_eq!(
            Formula::not(simplified).simplified(&Pair),
            Formula::dom(0, Dom::Num { null: true, set: Intervals::at_most(5) })
        );
    }

    #[test]
    fn cubes_one_at_a_time_are_the_expansions_cubes() {
        let cube_holds = |cube: &Cube, x: Option<i128>, y: u8| {
            cube.doms.iter().all(|(var, dom)| holds(&Formula::dom(*var, dom.clone()), x, y))
                && cube.lins.iter().all(|linear| holds(&Formula::Lit(Lit::Lin(linear.clone())), x, y))
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2000 {
            let formula = random_formula(&mut seed, 3);
            let cubes = dnf(&formula, &Cube::top(), &Pair).unwrap();
            assert_eq!(any_cube(&formula, &Cube::top(), &Pair, &mut |_| true).unwrap(), !cubes.is_empty());
            for x in [None, Some(-4), Some(-1), Some(0), Some(2), Some(4)] {
                for y in 0..3 {
                    let expected = cubes.iter().any(|cube| cube_holds(cube, x, y));
                    let found = any_cube(&formula, &Cube::top(), &Pair, &mut |cube| cube_holds(cube, x, y)).unwrap();
                    assert_eq!(found, expected, "{formula:?} at {x:?}, {y}");
                }
            }
        }
    }

    #[test]
    fn negated_cases_keep_guards() {
        // x null -> false; x non-null -> x >= 5
        let formula = Formula::Cases(vec![
            (Formula::dom(0, Dom::only_null()), Formula::False),
            (Formula::dom(0, Dom::not_null()), Formula::dom(0, Dom::Num { null: false, set: Intervals::at_least(5) })),
        ]);
        let cubes = dnf(&Formula::not(formula), &Cube::top(), &AllNum).unwrap();
        // null, or at most 4
        assert_eq!(cubes.len(), 2);
        assert!(cubes.iter().any(|cube| cube.dom(0) == Some(&Dom::only_null())));
        assert!(cubes.iter().any(|cube| cube.dom(0) == Some(&Dom::Num { null: false, set: Intervals::at_most(4) })));
    }
}
