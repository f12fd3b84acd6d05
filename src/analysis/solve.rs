//! Deciding a cube: is there a value for every variable that meets all of
//! its facts, and which? Domains alone are decided directly. Linear
//! inequalities between variables are decided by Fourier–Motzkin
//! elimination over the rationals — if the rationals have no solution,
//! neither do the integers, so "no solution" is always sound — and a
//! solution is then built back variable by variable in whole steps of each
//! variable's scale. When that construction fails (it can only for
//! inequalities whose coefficients are not ±1), the answer is `Unknown`,
//! never a guess.

use super::logic::{ceil_div, floor_div, Cube, Dom, Intervals, Linear, Sorts, VarId};

/// One variable's value in a solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Val {
    Null,
    /// A scaled integer.
    Num(i128),
    /// A class of a finite sort.
    Class(u8),
}

/// Values for the variables a cube constrains, sorted by variable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Model(pub Vec<(VarId, Val)>);

impl Model {
    pub fn get(&self, var: VarId) -> Option<Val> {
        self.0.binary_search_by_key(&var, |entry| entry.0).ok().and_then(|at| self.0.get(at)).map(|entry| entry.1)
    }

    pub fn set(&mut self, var: VarId, val: Val) {
        match self.0.binary_search_by_key(&var, |entry| entry.0) {
            Ok(at) => {
                if let Some(entry) = self.0.get_mut(at) {
                    entry.1 = val;
                }
            }
            Err(at) => self.0.insert(at, (var, val)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Unsat,
    Sat(Model),
    /// Too large to decide, or no whole-number solution was constructed.
    Unknown,
}

impl Outcome {
    pub fn is_unsat(&self) -> bool {
        matches!(self, Outcome::Unsat)
    }
}

/// How a class is chosen when several are possible (the analysis prefers
/// the ones that read best in a counterexample).
pub trait Prefer: Sorts {
    fn prefer_class(&self, var: VarId, mask: u128) -> u8 {
        let _ = var;
        mask.trailing_zeros() as u8
    }
}

/// The most combinations of interval pieces tried for one cube.
const SPLIT_LIMIT: usize = 64;
/// The most inequalities one elimination step may produce.
const ROW_LIMIT: usize = 2000;

pub fn solve(cube: &Cube, sorts: &dyn Prefer) -> Outcome {
    solve_with(cube, sorts, true)
}

/// Whether the cube has a solution, as `solve` decides it, without choosing
/// a value for the variables no inequality reads (a non-empty domain each):
/// the model of a `Sat` holds only the inequalities' variables, and none
/// when the cube is possible on sight (`Cube::obviously_possible`).
pub fn feasible(cube: &Cube, sorts: &dyn Prefer) -> Outcome {
    if cube.obviously_possible(sorts) {
        return Outcome::Sat(Model::default());
    }
    solve_with(cube, sorts, false)
}

fn solve_with(cube: &Cube, sorts: &dyn Prefer, whole_model: bool) -> Outcome {
    if cube.is_trivially_empty() {
        return Outcome::Unsat;
    }
    let mut model = Model::default();
    let mut linear_vars: Vec<VarId> = cube.lins.iter().flat_map(|linear| linear.vars()).collect();
    linear_vars.sort_unstable();
    linear_vars.dedup();
    for (var, dom) in &cube.doms {
        if linear_vars.binary_search(var).is_ok() {
            continue;
        }
        if !whole_model {
            if dom.is_empty() {
                return Outcome::Unsat;
            }
            continue;
        }
        match pick(*var, dom, sorts) {
            Some(val) => model.set(*var, val),
            None => return Outcome::Unsat,
        }
    }
    if linear_vars.is_empty() {
        return Outcome::Sat(model);
    }
    // Split the variables' interval pieces into combinations.
    let pieces: Vec<Vec<(Option<i128>, Option<i128>)>> = linear_vars
        .iter()
        .map(|var| match cube.dom_or_universe(*var, sorts) {
            Dom::Num { set, .. } => set.pieces().collect(),
            Dom::Fin(_) => Vec::new(),
        })
        .collect();
    if pieces.iter().any(Vec::is_empty) {
        return Outcome::Unsat;
    }
    let combinations = pieces.iter().try_fold(1usize, |acc, list| acc.checked_mul(list.len()));
    let mut unknown = false;
    match combinations {
        Some(count) if count <= SPLIT_LIMIT => {
            for index in 0..count {
                let mut rest = index;
                let mut bounds = Vec::with_capacity(linear_vars.len());
                for list in &pieces {
                    let choice = list.get(rest % list.len()).copied().unwrap_or((None, None));
                    rest /= list.len();
                    bounds.push(choice);
                }
                match solve_linear(&linear_vars, &bounds, &cube.lins) {
                    Outcome::Sat(values) => {
                        for (var, val) in values.0 {
                            model.set(var, val);
                        }
                        return Outcome::Sat(model);
                    }
                    Outcome::Unknown => unknown = true,
                    Outcome::Unsat => {}
                }
            }
            if unknown {
                Outcome::Unknown
            } else {
                Outcome::Unsat
            }
        }
        _ => {
            // Too many pieces: decide on the hulls (sound for "no solution"),
            // and accept a solution only if it lands inside the pieces.
            let hulls: Vec<(Option<i128>, Option<i128>)> = linear_vars
                .iter()
                .map(|var| match cube.dom_or_universe(*var, sorts) {
                    Dom::Num { set, .. } => set.hull(),
                    Dom::Fin(_) => (None, None),
                })
                .collect();
            match solve_linear(&linear_vars, &hulls, &cube.lins) {
                Outcome::Sat(values) => {
                    let inside = values.0.iter().all(|(var, val)| match (cube.dom(*var), val) {
                        (Some(Dom::Num { set, .. }), Val::Num(number)) => set.contains(*number),
                        (None, _) => true,
                        _ => false,
                    });
                    if !inside {
                        return Outcome::Unknown;
                    }
                    for (var, val) in values.0 {
                        model.set(var, val);
                    }
                    Outcome::Sat(model)
                }
                other => other,
            }
        }
    }
}

/// A value in the domain, chosen to read well: for numbers the finite bound
/// of largest size (a boundary of some condition), for classes the one the
/// sorts prefer.
pub fn pick(var: VarId, dom: &Dom, sorts: &dyn Prefer) -> Option<Val> {
    match dom {
        Dom::Fin(mask) => (mask.bits() != 0).then(|| Val::Class(sorts.prefer_class(var, mask.bits()))),
        Dom::Num { null, set } => match nice(set) {
            Some(number) => Some(Val::Num(number)),
            None if *null => Some(Val::Null),
            None => None,
        },
    }
}

/// The member of the set that reads best: the finite bound of largest
/// magnitude, or 0 when the set is everything.
pub fn nice(set: &Intervals) -> Option<i128> {
    if set.is_empty() {
        return None;
    }
    if set.contains(0) && set.pieces().all(|(low, high)| low.is_none() && high.is_none()) {
        return Some(0);
    }
    let mut best: Option<i128> = None;
    for (low, high) in set.pieces() {
        for bound in [low, high].into_iter().flatten() {
            if best.is_none_or(|current| bound.unsigned_abs() > current.unsigned_abs()) {
                best = Some(bound);
            }
        }
    }
    best.or(Some(0))
}

/// Solves inequalities over `vars`, each within `bounds`, in whole numbers.
fn solve_linear(vars: &[VarId], bounds: &[(Option<i128>, Option<i128>)], lins: &[Linear]) -> Outcome {
    let mut rows: Vec<Linear> = lins.to_vec();
    for (var, (low, high)) in vars.iter().zip(bounds) {
        if let Some(low) = low {
            // -x + low <= 0
            match Linear::new(vec![(*var, -1)], *low) {
                Some(row) => rows.push(row),
                None => return Outcome::Unknown,
            }
        }
        if let Some(high) = high {
            match high.checked_neg().and_then(|constant| Linear::new(vec![(*var, 1)], constant)) {
                Some(row) => rows.push(row),
                None => return Outcome::Unknown,
            }
        }
    }
    // Eliminate one variable at a time, keeping every stage.
    let mut stages: Vec<Vec<Linear>> = vec![rows];
    let mut order: Vec<VarId> = Vec::new();
    let mut remaining: Vec<VarId> = vars.to_vec();
    while !remaining.is_empty() {
        let Some(current) = stages.last() else { return Outcome::Unknown };
        // The variable whose elimination makes the fewest new rows.
        let mut best: Option<(usize, usize)> = None;
        for (position, var) in remaining.iter().enumerate() {
            let positive = current.iter().filter(|row| coefficient(row, *var) > 0).count();
            let negative = current.iter().filter(|row| coefficient(row, *var) < 0).count();
            let cost = positive * negative;
            if best.is_none_or(|(_, best_cost)| cost < best_cost) {
                best = Some((position, cost));
            }
        }
        let Some((position, _)) = best else { return Outcome::Unknown };
        let var = remaining.remove(position);
        match eliminate(current, var) {
            Eliminated::Rows(next) => {
                order.push(var);
                stages.push(next);
            }
            Eliminated::Contradiction => return Outcome::Unsat,
            Eliminated::TooMany => return Outcome::Unknown,
        }
    }
    // Build the solution back, last eliminated first.
    let mut values: Vec<(VarId, i128)> = Vec::new();
    for (stage, var) in stages.iter().zip(order.iter()).rev() {
        let value_of = |other: VarId| values.iter().find(|entry| entry.0 == other).map(|entry| entry.1);
        let mut low: Option<i128> = None;
        let mut high: Option<i128> = None;
        for row in stage {
            let own = coefficient(row, *var);
            if own == 0 {
                continue;
            }
            // own·x + rest <= 0, every other variable of the row already chosen
            let mut rest = row.constant;
            let mut complete = true;
            for &(other, other_coefficient) in row.terms.iter() {
                if other == *var {
                    continue;
                }
                match value_of(other).and_then(|value| other_coefficient.checked_mul(value)) {
                    Some(product) => match rest.checked_add(product) {
                        Some(sum) => rest = sum,
                        None => return Outcome::Unknown,
                    },
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if !complete {
                continue;
            }
            if own > 0 {
                let bound = floor_div(-rest, own);
                high = Some(high.map_or(bound, |current| current.min(bound)));
            } else {
                let bound = ceil_div(rest, -own);
                low = Some(low.map_or(bound, |current| current.max(bound)));
            }
        }
        let range = Intervals::range(low, high);
        match nice(&range) {
            Some(value) => values.push((*var, value)),
            None => return Outcome::Unknown,
        }
    }
    let value_of = |var: VarId| values.iter().find(|entry| entry.0 == var).map(|entry| entry.1);
    for row in lins {
        match row.evaluate(&value_of) {
            Some(total) if total <= 0 => {}
            _ => return Outcome::Unknown,
        }
    }
    let mut model = Model::default();
    for (var, value) in values {
        model.set(var, Val::Num(value));
    }
    Outcome::Sat(model)
}

fn coefficient(row: &Linear, var: VarId) -> i128 {
    row.terms.iter().find(|term| term.0 == var).map_or(0, |term| term.1)
}

enum Eliminated {
    Rows(Vec<Linear>),
    Contradiction,
    TooMany,
}

/// One Fourier–Motzkin step: the rows without `var`, plus every sum of an
/// upper and a lower bound on it.
fn eliminate(rows: &[Linear], var: VarId) -> Eliminated {
    let mut out: Vec<Linear> = Vec::new();
    let mut upper: Vec<&Linear> = Vec::new();
    let mut lower: Vec<&Linear> = Vec::new();
    for row in rows {
        match coefficient(row, var) {
            0 => out.push(row.clone()),
            own if own > 0 => upper.push(row),
            _ => lower.push(row),
        }
    }
    for up in &upper {
        for down in &lower {
            let a = coefficient(up, var);
            let b = -coefficient(down, var);
            let mut terms = Vec::new();
            let mut overflow = false;
            for &(other, value) in up.terms.iter() {
                match value.checked_mul(b) {
                    Some(product) => terms.push((other, product)),
                    None => overflow = true,
                }
            }
            for &(other, value) in down.terms.iter() {
                match value.checked_mul(a) {
                    Some(product) => terms.push((other, product)),
                    None => overflow = true,
                }
            }
            let constant = up.constant.checked_mul(b).and_then(|x| down.constant.checked_mul(a)?.checked_add(x));
            let (Some(constant), false) = (constant, overflow) else { return Eliminated::TooMany };
            let Some(combined) = Linear::new(terms, constant) else { return Eliminated::TooMany };
            if combined.terms.is_empty() {
                if combined.constant > 0 {
                    return Eliminated::Contradiction;
                }
                continue;
            }
            out.push(combined);
        }
        if out.len() > ROW_LIMIT {
            return Eliminated::TooMany;
        }
    }
    out.sort();
    out.dedup();
    // A row with no variables left is a plain fact.
    if out.iter().any(|row| row.terms.is_empty() && row.constant > 0) {
        return Eliminated::Contradiction;
    }
    out.retain(|row| !row.terms.is_empty());
    Eliminated::Rows(out)
}

/// Projects `var` out of a cube: the cube's other variables keep every
/// value they could have with some value of `var` (exact over the
/// rationals, so never too small).
/// Forgets, in place, every variable of `cube` for which `drop` holds: what
/// `project` does one variable at a time, without rebuilding the cube for a
/// variable that only has a domain (most of them).
pub fn forget_where(cube: &mut Cube, drop: &dyn Fn(VarId) -> bool, sorts: &dyn Sorts) {
    let mut in_inequalities: Vec<VarId> = Vec::new();
    for linear in &cube.lins {
        in_inequalities.extend(linear.vars().filter(|var| drop(*var)));
    }
    cube.doms.retain(|(var, _)| !drop(*var) || in_inequalities.contains(var));
    if in_inequalities.is_empty() {
        return;
    }
    in_inequalities.sort_unstable();
    in_inequalities.dedup();
    for var in in_inequalities {
        *cube = project(cube, var, sorts);
    }
}

pub fn project(cube: &Cube, var: VarId, sorts: &dyn Sorts) -> Cube {
    let mut out = Cube { doms: cube.doms.iter().filter(|entry| entry.0 != var).cloned().collect(), lins: Vec::new() };
    let (with, without): (Vec<&Linear>, Vec<&Linear>) = cube.lins.iter().partition(|linear| linear.mentions(var));
    out.lins = without.into_iter().cloned().collect();
    if with.is_empty() {
        return out;
    }
    let mut rows: Vec<Linear> = with.into_iter().cloned().collect();
    if let Some(Dom::Num { set, .. }) = cube.dom(var) {
        let (low, high) = set.hull();
        if let Some(row) = low.and_then(|low| Linear::new(vec![(var, -1)], low)) {
            rows.push(row);
        }
        if let Some(row) = high.and_then(|high| Linear::new(vec![(var, 1)], high.checked_neg()?)) {
            rows.push(row);
        }
    }
    match eliminate(&rows, var) {
        Eliminated::Rows(derived) => {
            for row in derived {
                if !out.add_linear(&row, sorts) {
                    // Cannot happen for a consistent cube; keeping the cube is sound.
                    break;
                }
            }
            out
        }
        // A contradiction means the cube was empty; dropping the rows is sound either way.
        Eliminated::Contradiction | Eliminated::TooMany => out,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::logic::{Intervals, Sort};
    use super::*;

    struct Money;
    impl Sorts for Money {
        fn sort(&self, _: VarId) -> Sort {
            Sort::Num { scale: 2, nullable: true, min: None }
        }
    }
    impl Prefer for Money {}

    /// Random cubes over four variables: domains of one or two pieces
    /// (some unbounded), inequalities of two or three variables, some as
    /// equalities (both directions).
    #[test]
    fn what_is_obviously_possible_is_possible() {
        let mut seed = 0x853c_49e6_748f_ea9b_u64;
        let mut next = |bound: u64| crate::analysis::logic::testing::below(&mut seed, bound) as i128;
        let (mut obvious, mut cases) = (0, 0);
        for _ in 0..20_000 {
            let mut cube = Cube::top();
            for var in 0..4u32 {
                let bound = |value: i128, open: bool| if open { None } else { Some(value) };
                let low = bound(next(11) - 5, next(3) == 0);
                let high = bound(next(11) - 5, next(3) == 0);
                let mut set = Intervals::range(low, high);
                if next(4) == 0 {
                    set = set.union(&Intervals::point(next(21) - 10));
                }
                if next(2) == 0 {
                    cube.restrict(var, &Dom::Num { null: next(3) == 0, set }, &Money);
                }
            }
            for _ in 0..next(4) {
                let width = 2 + next(2) as usize;
                let mut terms: Vec<(VarId, i128)> = Vec::new();
                for _ in 0..width {
                    let coefficient = [-2, -1, 1, 2][next(4) as usize];
                    terms.push((next(4) as VarId, coefficient));
                }
                let constant = next(11) - 5;
                let Some(linear) = Linear::new(terms, constant) else { continue };
                if next(3) == 0 {
                    if let Some(other) =
                        Linear::new(linear.terms.iter().map(|&(v, c)| (v, -c)).collect(), next(5) - 2 - constant)
                    {
                        cube.add_linear(&other, &Money);
                    }
                }
                cube.add_linear(&linear, &Money);
            }
            cases += 1;
            if cube.obviously_possible(&Money) {
                obvious += 1;
                assert!(!solve(&cube, &Money).is_unsat(), "{cube:?}");
            }
        }
        assert!(obvious > 2_000 && obvious < cases, "{obvious} of {cases} obvious");
    }

    #[test]
    fn a_gap_picks_the_boundary() {
        let mut cube = Cube::top();
        // 0 < x <= 5000.00
        assert!(cube.restrict(0, &Dom::Num { null: false, set: Intervals::range(Some(1), Some(500000)) }, &Money));
        assert_eq!(solve(&cube, &Money), Outcome::Sat(Model(vec![(0, Val::Num(500000))])));
    }

    #[test]
    fn difference_constraints() {
        // x <= y, y <= 10, x >= 10  ->  x = y = 10
        let mut cube = Cube::top();
        assert!(cube.add_linear(&Linear::new(vec![(0, 1), (1, -1)], 0).unwrap(), &Money));
        assert!(cube.restrict(1, &Dom::Num { null: false, set: Intervals::at_most(10) }, &Money));
        assert!(cube.restrict(0, &Dom::Num { null: false, set: Intervals::at_least(10) }, &Money));
        assert_eq!(solve(&cube, &Money), Outcome::Sat(Model(vec![(0, Val::Num(10)), (1, Val::Num(10))])));
        // and x >= 11 makes it impossible
        assert!(cube.restrict(0, &Dom::Num { null: false, set: Intervals::at_least(11) }, &Money));
        assert_eq!(solve(&cube, &Money), Outcome::Unsat);
    }

    #[test]
    fn projection_keeps_the_shadow() {
        // x <= y, y <= 10: projecting y leaves x <= 10
        let mut cube = Cube::top();
        assert!(cube.add_linear(&Linear::new(vec![(0, 1), (1, -1)], 0).unwrap(), &Money));
        assert!(cube.restrict(1, &Dom::Num { null: false, set: Intervals::at_most(10) }, &Money));
        let projected = project(&cube, 1, &Money);
        assert_eq!(projected.dom(0), Some(&Dom::Num { null: false, set: Intervals::at_most(10) }));
        assert!(projected.lins.is_empty());
    }
}
