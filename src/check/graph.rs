//! Graph helpers shared by the checks that look for cycles.

/// Strongly connected components of a directed graph (Tarjan's algorithm,
/// written with an explicit stack so a long chain cannot exhaust the call
/// stack). Linear in nodes plus edges.
pub fn strongly_connected_components(count: usize, edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNVISITED: usize = usize::MAX;
    let mut index_of = vec![UNVISITED; count];
    let mut low_link = vec![0usize; count];
    let mut on_stack = vec![false; count];
    let mut stack: Vec<usize> = Vec::new();
    let mut components = Vec::new();
    let mut next_index = 0usize;
    for root in 0..count {
        if index_of.get(root) != Some(&UNVISITED) {
            continue;
        }
        // (node, position of the next edge to follow)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&(node, edge)) = work.last() {
            if edge == 0 && index_of.get(node) == Some(&UNVISITED) {
                set(&mut index_of, node, next_index);
                set(&mut low_link, node, next_index);
                next_index += 1;
                stack.push(node);
                set(&mut on_stack, node, true);
            }
            let targets = edges.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(&target) = targets.get(edge) {
                if let Some(top) = work.last_mut() {
                    top.1 += 1;
                }
                if target >= count {
                    continue;
                }
                if index_of.get(target) == Some(&UNVISITED) {
                    work.push((target, 0));
                } else if on_stack.get(target) == Some(&true) {
                    let lowest =
                        low_link.get(node).copied().unwrap_or(0).min(index_of.get(target).copied().unwrap_or(0));
                    set(&mut low_link, node, lowest);
                }
                continue;
            }
            // Every edge of `node` is done.
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                let lowest = low_link.get(parent).copied().unwrap_or(0).min(low_link.get(node).copied().unwrap_or(0));
                set(&mut low_link, parent, lowest);
            }
            if low_link.get(node) == index_of.get(node) {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    set(&mut on_stack, member, false);
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                component.sort_unstable();
                components.push(component);
            }
        }
    }
    components
}

fn set<T>(slice: &mut [T], index: usize, value: T) {
    if let Some(slot) = slice.get_mut(index) {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::strongly_connected_components;

    #[test]
    fn finds_cycles_and_singletons() {
        // 0 → 1 → 2 → 0, 3 → 3, 4 → 0
        let edges = vec![vec![1], vec![2], vec![0], vec![3], vec![0]];
        let mut components = strongly_connected_components(5, &edges);
        components.sort();
        assert_eq!(components, vec![vec![0, 1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn a_long_chain_does_not_recurse() {
        let count = 200_000;
        let edges: Vec<Vec<usize>> =
            (0..count).map(|node| if node + 1 < count { vec![node + 1] } else { vec![] }).collect();
        assert_eq!(strongly_connected_components(count, &edges).len(), count);
    }
}
