//! Where everything of a route picture goes: a layered (Sugiyama-style)
//! layout computed here, so no Graphviz is needed.
//!
//! 1. Layers. The exits are searched depth first from the create node, each
//!    node's targets in written order of the nodes; an exit back to a node
//!    still on the search path closes a cycle and is left out, as are returns.
//!    What is left is acyclic; a node's layer is its longest path from the top.
//! 2. Bands. Node layers alternate with label bands: every edge drawn down has
//!    its label in the band below its source, and a dummy in every band it
//!    crosses, so no line ever passes through a box. Edges that go back up
//!    (returns, exits closing a cycle) leave their source's top through their
//!    label in the band above and join one trunk per target that climbs to
//!    the target's bottom: returns to the same node share one dashed line.
//! 3. Order. Barycenter sweeps down and up reorder each band, keeping the
//!    order with the fewest crossings (counted exactly, with a Fenwick tree).
//! 4. Coordinates. Each band in turn is placed as near as it can to the
//!    weighted mean of its neighbours (edge inner segments weigh most, so long
//!    edges run straight), keeping its order and the gaps between boxes: a
//!    least-squares problem solved exactly by pooling adjacent violators.
//! 5. Ports and lines. Lines leave and enter nodes at ports spread along the
//!    bottom or top border, go straight through their own column within a
//!    band and cross between bands only in the gaps, where nothing is drawn.
//!
//! The result is plain geometry ([`Layout`]); tests assert on it (boxes
//! disjoint, lines ending on box borders, layers ordered along the route).

use std::collections::BTreeMap;

use super::text::{self, LINE_HEIGHT, TEXT_SIZE, TITLE_SIZE};
use super::{kind_word, mode_word, Marks, Route};

/// Blank space around the picture.
pub const MARGIN: f64 = 20.0;
/// Padding inside a node box.
pub const PAD_X: f64 = 10.0;
pub const PAD_Y: f64 = 7.0;
/// Size of the kind tag in a node's title line.
pub const TAG_SIZE: f64 = 11.0;
/// The gap between two bands, where lines cross from one band to the next.
const BAND_GAP: f64 = 22.0;
const NODE_MIN_WIDTH: f64 = 120.0;
/// The widest a line of operators or notes may be inside a node.
const NODE_TEXT_MAX: f64 = 250.0;
/// The widest a line of an edge label may be.
const LABEL_TEXT_MAX: f64 = 190.0;
/// How far a label's text stands to the right of its line.
pub const LABEL_OFFSET: f64 = 5.0;
/// The most operator lines and notes a node box lists.
const MAX_OPERATOR_ROWS: usize = 5;
const MAX_NOTES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.width
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }

    /// Whether the two rectangles share more than a border.
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right() && other.x < self.right() && self.y < other.bottom() && other.y < self.bottom()
    }

    /// Whether `point` lies on the border, within `tolerance`.
    pub fn on_border(&self, point: Point, tolerance: f64) -> bool {
        let within_x = point.x >= self.x - tolerance && point.x <= self.right() + tolerance;
        let within_y = point.y >= self.y - tolerance && point.y <= self.bottom() + tolerance;
        let on_vertical = (point.x - self.x).abs() <= tolerance || (point.x - self.right()).abs() <= tolerance;
        let on_horizontal = (point.y - self.y).abs() <= tolerance || (point.y - self.bottom()).abs() <= tolerance;
        within_x && within_y && (on_vertical || on_horizontal)
    }
}

/// What a line inside a node box says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRole {
    /// The node's display label, when it differs from its name.
    Label,
    Operators,
    /// An overlay's note (a step, who acted).
    Note,
}

#[derive(Debug, Clone)]
pub struct BoxLine {
    pub text: String,
    pub role: LineRole,
}

#[derive(Debug, Clone)]
pub struct NodeBox {
    pub rect: Rect,
    /// The node's name, in bold.
    pub title: String,
    /// Its kind and countersign mode (`批准 · 会签`), at the right of the title.
    pub tag: String,
    pub lines: Vec<BoxLine>,
}

/// An edge's label: its text area (the edge's line runs just left of it).
#[derive(Debug, Clone)]
pub struct LabelBox {
    pub rect: Rect,
    /// The exit's name (numbered when the node has several), then its condition, then notes.
    pub lines: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct EdgePath {
    /// From a point on the source's border to a point on the target's border,
    /// or to a point of its trunk. Consecutive points either share `x` (a run
    /// inside a band) or lie on the two sides of a gap between bands.
    pub points: Vec<Point>,
    /// Drawn going up: a return or an exit that closes a cycle.
    pub back: bool,
    /// The trunk (an index of `Layout::trunks`) the line ends on, which takes it to its target.
    pub trunk: Option<usize>,
}

/// The line that the edges going back to one node share: from the node's
/// bottom border down to the lowest point where one of them joins it.
#[derive(Debug, Clone)]
pub struct Trunk {
    pub target: usize,
    /// Returns (dashed) or exits that close a cycle.
    pub returns: bool,
    pub points: Vec<Point>,
    /// The edges that join it.
    pub edges: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// By node index of the route.
    pub nodes: Vec<NodeBox>,
    /// By edge index of the route.
    pub labels: Vec<LabelBox>,
    pub edges: Vec<EdgePath>,
    pub trunks: Vec<Trunk>,
    /// Each node's layer, 0 at the top.
    pub layers: Vec<usize>,
    /// The main route: from the create node, each node's last exit that goes down
    /// (its default, tried when no condition before it held).
    pub main_route: Vec<usize>,
    /// Edge crossings between bands after ordering.
    pub crossings: usize,
}

fn line_height(size: f64) -> f64 {
    (size * LINE_HEIGHT).round()
}

/// The box of a node before it is placed: its text and size.
fn node_box(route: &Route, marks: &Marks, index: usize) -> NodeBox {
    let Some(node) = route.nodes.get(index) else {
        return NodeBox {
            rect: Rect { x: 0.0, y: 0.0, width: 0.0, height: 0.0 },
            title: String::new(),
            tag: String::new(),
            lines: Vec::new(),
        };
    };
    let tag = match mode_word(node.mode) {
        Some(mode) if !node.batches.is_empty() => format!("{} · {mode}", kind_word(node.kind)),
        _ => kind_word(node.kind).to_owned(),
    };
    let mut lines = Vec::new();
    if node.label != node.name && !node.label.is_empty() {
        lines.push(BoxLine { text: text::truncate(&node.label, TEXT_SIZE, NODE_TEXT_MAX), role: LineRole::Label });
    }
    // One row per operator line, numbered by batch when there are several.
    let numbered = node.batches.len() > 1;
    let rows: Vec<String> = node
        .batches
        .iter()
        .flat_map(|batch| {
            batch.lines.iter().enumerate().map(move |(index, line)| match (numbered, index) {
                (true, 0) => format!("{}) {line}", batch.number),
                (true, _) => format!("    {line}"),
                _ => line.clone(),
            })
        })
        .collect();
    for row in rows.iter().take(MAX_OPERATOR_ROWS) {
        lines.push(BoxLine { text: text::truncate(row, TEXT_SIZE, NODE_TEXT_MAX), role: LineRole::Operators });
    }
    if rows.len() > MAX_OPERATOR_ROWS {
        let more = rows.len() - MAX_OPERATOR_ROWS;
        lines.push(BoxLine { text: format!("… {more} more"), role: LineRole::Operators });
    }
    for extra in &node.extras {
        lines.push(BoxLine { text: text::truncate(extra, TEXT_SIZE, NODE_TEXT_MAX), role: LineRole::Label });
    }
    let notes = marks.node_notes.get(index).map(Vec::as_slice).unwrap_or(&[]);
    for note in notes.iter().take(MAX_NOTES) {
        lines.push(BoxLine { text: text::truncate(note, TEXT_SIZE, NODE_TEXT_MAX), role: LineRole::Note });
    }
    if notes.len() > MAX_NOTES {
        lines.push(BoxLine { text: format!("… {} more", notes.len() - MAX_NOTES), role: LineRole::Note });
    }
    let title_width = text::width(&node.name, TITLE_SIZE) * 1.06 + 14.0 + text::width(&tag, TAG_SIZE);
    let widest = lines.iter().map(|line| text::width(&line.text, TEXT_SIZE)).fold(title_width, f64::max);
    let width = (widest + 2.0 * PAD_X).max(NODE_MIN_WIDTH).ceil();
    let height = 2.0 * PAD_Y + line_height(TITLE_SIZE) + lines.len() as f64 * line_height(TEXT_SIZE);
    NodeBox { rect: Rect { x: 0.0, y: 0.0, width, height }, title: node.name.clone(), tag, lines }
}

fn label_box(route: &Route, marks: &Marks, index: usize) -> LabelBox {
    let mut lines = Vec::new();
    if let Some(edge) = route.edges.get(index) {
        let name = edge.shown_name();
        lines.push(text::truncate(&name, TEXT_SIZE, LABEL_TEXT_MAX));
        if let Some(condition) = &edge.condition {
            lines.extend(text::wrap(&format!("when {condition}"), TEXT_SIZE, LABEL_TEXT_MAX, 3));
        }
    }
    for note in marks.edge_notes.get(index).map(Vec::as_slice).unwrap_or(&[]) {
        lines.extend(text::wrap(note, TEXT_SIZE, LABEL_TEXT_MAX, 2));
    }
    let width = lines.iter().map(|line| text::width(line, TEXT_SIZE)).fold(0.0, f64::max).ceil();
    let height = lines.len() as f64 * line_height(TEXT_SIZE);
    LabelBox { rect: Rect { x: 0.0, y: 0.0, width, height }, lines }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Node(usize),
    Label(usize),
    Dummy,
}

#[derive(Debug, Clone)]
struct Vertex {
    item: Item,
    band: usize,
    /// Extent to the left and right of the anchor `x`.
    left: f64,
    right: f64,
    height: f64,
    x: f64,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    upper: usize,
    lower: usize,
    weight: f64,
}

#[derive(Debug, Default)]
struct Graph {
    vertices: Vec<Vertex>,
    links: Vec<Link>,
    bands: Vec<Vec<usize>>,
    /// Link ids by vertex: those going up (the vertex is their lower end) and down.
    up: Vec<Vec<usize>>,
    down: Vec<Vec<usize>>,
}

impl Graph {
    fn add(&mut self, item: Item, band: usize, left: f64, right: f64, height: f64) -> usize {
        let id = self.vertices.len();
        self.vertices.push(Vertex { item, band, left, right, height, x: 0.0 });
        if self.bands.len() <= band {
            self.bands.resize_with(band + 1, Vec::new);
        }
        if let Some(members) = self.bands.get_mut(band) {
            members.push(id);
        }
        self.up.push(Vec::new());
        self.down.push(Vec::new());
        id
    }

    fn link(&mut self, upper: usize, lower: usize) -> usize {
        let inner = |vertex: Option<&Vertex>| vertex.is_some_and(|vertex| !matches!(vertex.item, Item::Node(_)));
        let weight = match (inner(self.vertices.get(upper)), inner(self.vertices.get(lower))) {
            (true, true) => 8.0,
            (true, false) | (false, true) => 2.0,
            (false, false) => 1.0,
        };
        let id = self.links.len();
        self.links.push(Link { upper, lower, weight });
        if let Some(list) = self.down.get_mut(upper) {
            list.push(id);
        }
        if let Some(list) = self.up.get_mut(lower) {
            list.push(id);
        }
        id
    }

    fn boost(&mut self, link: usize, factor: f64) {
        if let Some(link) = self.links.get_mut(link) {
            link.weight *= factor;
        }
    }

    fn x(&self, vertex: usize) -> f64 {
        self.vertices.get(vertex).map_or(0.0, |vertex| vertex.x)
    }

    fn band_of(&self, vertex: usize) -> usize {
        self.vertices.get(vertex).map_or(0, |vertex| vertex.band)
    }
}

/// Which exits are kept for layering (not closing a cycle, not returns), and
/// the nodes in depth-first order from the create node.
fn break_cycles(route: &Route) -> (Vec<bool>, Vec<usize>) {
    let count = route.nodes.len();
    let mut kept = vec![false; route.edges.len()];
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (index, edge) in route.edges.iter().enumerate() {
        if !edge.is_return() {
            if let Some(list) = outgoing.get_mut(edge.from) {
                list.push(index);
            }
        }
    }
    let target = |edge: usize| route.edges.get(edge).map_or(0, |edge| edge.to);
    for list in &mut outgoing {
        list.sort_by_key(|&edge| (target(edge), edge));
    }
    // 0: not seen, 1: on the search path, 2: done.
    let mut state = vec![0u8; count];
    let mut preorder = Vec::with_capacity(count);
    let roots = std::iter::once(route.create).chain(0..count);
    for root in roots {
        if state.get(root) != Some(&0) {
            continue;
        }
        if let Some(slot) = state.get_mut(root) {
            *slot = 1;
        }
        preorder.push(root);
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some((node, next)) = stack.last_mut() {
            let Some(&edge) = outgoing.get(*node).and_then(|list| list.get(*next)) else {
                if let Some(slot) = state.get_mut(*node) {
                    *slot = 2;
                }
                stack.pop();
                continue;
            };
            *next += 1;
            let to = target(edge);
            match state.get(to) {
                Some(0) => {
                    if let Some(slot) = kept.get_mut(edge) {
                        *slot = true;
                    }
                    if let Some(slot) = state.get_mut(to) {
                        *slot = 1;
                    }
                    preorder.push(to);
                    stack.push((to, 0));
                }
                Some(2) => {
                    if let Some(slot) = kept.get_mut(edge) {
                        *slot = true;
                    }
                }
                _ => {} // on the path: this exit closes a cycle
            }
        }
    }
    (kept, preorder)
}

/// Longest path from the top over the kept exits.
fn layers(route: &Route, kept: &[bool], preorder: &[usize]) -> Vec<usize> {
    let count = route.nodes.len();
    let mut incoming = vec![0usize; count];
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (edge, keep) in route.edges.iter().zip(kept) {
        if *keep {
            if let Some(value) = incoming.get_mut(edge.to) {
                *value += 1;
            }
            if let Some(list) = outgoing.get_mut(edge.from) {
                list.push(edge.to);
            }
        }
    }
    let mut layer = vec![0usize; count];
    let mut ready: std::collections::VecDeque<usize> =
        preorder.iter().copied().filter(|&node| incoming.get(node) == Some(&0)).collect();
    while let Some(node) = ready.pop_front() {
        let here = layer.get(node).copied().unwrap_or(0);
        for &next in outgoing.get(node).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(value) = layer.get_mut(next) {
                *value = (*value).max(here + 1);
            }
            if let Some(value) = incoming.get_mut(next) {
                *value -= 1;
                if *value == 0 {
                    ready.push_back(next);
                }
            }
        }
    }
    layer
}

/// The main route's edges: from the create node, each node's last kept exit
/// to a node not yet on the route.
fn main_route(route: &Route, kept: &[bool]) -> Vec<usize> {
    let mut on_route = vec![false; route.nodes.len()];
    let mut edges = Vec::new();
    let mut node = route.create;
    loop {
        if let Some(slot) = on_route.get_mut(node) {
            *slot = true;
        }
        let next = route.edges.iter().enumerate().rev().find(|(index, edge)| {
            edge.from == node && kept.get(*index) == Some(&true) && on_route.get(edge.to) == Some(&false)
        });
        match next {
            Some((index, edge)) => {
                edges.push(index);
                node = edge.to;
            }
            None => break,
        }
    }
    edges
}

/// Lays out `route` with the notes of `marks`.
pub fn layout(route: &Route, marks: &Marks) -> Layout {
    let mut nodes: Vec<NodeBox> = (0..route.nodes.len()).map(|index| node_box(route, marks, index)).collect();
    let mut labels: Vec<LabelBox> = (0..route.edges.len()).map(|index| label_box(route, marks, index)).collect();
    let (kept, preorder) = break_cycles(route);
    let layer = layers(route, &kept, &preorder);
    let main_edges = main_route(route, &kept);
    let mut main_nodes: Vec<usize> = vec![route.create];
    main_nodes.extend(main_edges.iter().filter_map(|&edge| route.edges.get(edge).map(|edge| edge.to)));
    let band_of_node = |node: usize| 2 * layer.get(node).copied().unwrap_or(0) + 1;

    let mut graph = Graph::default();
    let mut node_vertex = vec![0usize; route.nodes.len()];
    for &node in &preorder {
        let (width, height) = nodes.get(node).map_or((0.0, 0.0), |node| (node.rect.width, node.rect.height));
        let vertex = graph.add(Item::Node(node), band_of_node(node), width / 2.0, width / 2.0, height);
        if let Some(slot) = node_vertex.get_mut(node) {
            *slot = vertex;
        }
    }
    let vertex_of = |node: usize| node_vertex.get(node).copied().unwrap_or(0);
    let mut rank = vec![0usize; route.nodes.len()];
    for (position, &node) in preorder.iter().enumerate() {
        if let Some(slot) = rank.get_mut(node) {
            *slot = position;
        }
    }
    let mut edge_order: Vec<usize> = (0..route.edges.len()).collect();
    edge_order
        .sort_by_key(|&edge| (route.edges.get(edge).map_or(0, |edge| rank.get(edge.from).copied().unwrap_or(0)), edge));

    // Trunks: one per target and style, from the target's bottom down to the deepest join.
    let mut deepest: BTreeMap<(usize, bool), usize> = BTreeMap::new();
    for edge in &route.edges {
        let (from, to) = (band_of_node(edge.from), band_of_node(edge.to));
        if to < from {
            let join = from - 2;
            let entry = deepest.entry((edge.to, edge.is_return())).or_insert(join);
            *entry = (*entry).max(join);
        }
    }
    // For each trunk: its vertices by band from the target's (the target itself) down, and the links between them.
    let mut trunks: BTreeMap<(usize, bool), (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (&(target, is_return), &bottom) in &deepest {
        let top = band_of_node(target);
        let mut vertices = vec![vertex_of(target)];
        let mut links = Vec::new();
        for band in top + 1..=bottom {
            let dummy = graph.add(Item::Dummy, band, 0.0, 0.0, 0.0);
            let above = vertices.last().copied().unwrap_or(dummy);
            let link = graph.link(above, dummy);
            // A trunk runs straight: its inner links weigh more than those joining it.
            graph.boost(link, 2.0);
            links.push(link);
            vertices.push(dummy);
        }
        trunks.insert((target, is_return), (vertices, links));
    }

    // Each edge's chain of vertices from source to target, and the links between them.
    let mut chains: Vec<(Vec<usize>, Vec<usize>)> = vec![(Vec::new(), Vec::new()); route.edges.len()];
    let mut back = vec![false; route.edges.len()];
    let mut joins: Vec<Option<(usize, bool)>> = vec![None; route.edges.len()];
    for &index in &edge_order {
        let Some(edge) = route.edges.get(index) else { continue };
        let (width, height) = labels.get(index).map_or((0.0, 0.0), |label| (label.rect.width, label.rect.height));
        let (from, to) = (band_of_node(edge.from), band_of_node(edge.to));
        let source = vertex_of(edge.from);
        let target = vertex_of(edge.to);
        let mut chain = vec![source];
        let mut links = Vec::new();
        if to > from {
            let label = graph.add(Item::Label(index), from + 1, 0.0, width + LABEL_OFFSET, height);
            links.push(graph.link(source, label));
            chain.push(label);
            for band in from + 2..to {
                let dummy = graph.add(Item::Dummy, band, 0.0, 0.0, 0.0);
                let above = chain.last().copied().unwrap_or(dummy);
                links.push(graph.link(above, dummy));
                chain.push(dummy);
            }
            let above = chain.last().copied().unwrap_or(source);
            links.push(graph.link(above, target));
            chain.push(target);
        } else {
            if let Some(slot) = back.get_mut(index) {
                *slot = true;
            }
            let label = graph.add(Item::Label(index), from.saturating_sub(1), 0.0, width + LABEL_OFFSET, height);
            links.push(graph.link(label, source));
            chain.push(label);
            if to == from {
                links.push(graph.link(label, target));
                chain.push(target);
            } else if let Some((trunk, _)) = trunks.get(&(edge.to, edge.is_return())) {
                // Join the trunk in the band above the label, then climb it to the target.
                let join = from - 2 - to;
                let joint = trunk.get(join).copied().unwrap_or(target);
                let link = graph.link(joint, label);
                // The label comes to the trunk rather than bending it.
                graph.boost(link, 0.25);
                links.push(link);
                chain.push(joint);
                if join > 0 {
                    if let Some(slot) = joins.get_mut(index) {
                        *slot = Some((edge.to, edge.is_return()));
                    }
                }
            }
        }
        if main_edges.contains(&index) {
            // The main route runs straight down the picture.
            for &link in &links {
                graph.boost(link, 16.0);
            }
        }
        if let Some(slot) = chains.get_mut(index) {
            *slot = (chain, links);
        }
    }

    let crossings = order(&mut graph);
    place(&mut graph);

    // Bands top to bottom.
    let band_count = graph.bands.len();
    let mut band_top = vec![0.0f64; band_count];
    let mut band_height = vec![0.0f64; band_count];
    let mut cursor = MARGIN;
    for (band, members) in graph.bands.iter().enumerate() {
        let height = members
            .iter()
            .filter_map(|&vertex| graph.vertices.get(vertex))
            .map(|vertex| vertex.height)
            .fold(0.0, f64::max);
        if let (Some(top), Some(size)) = (band_top.get_mut(band), band_height.get_mut(band)) {
            *top = cursor;
            *size = height;
        }
        if !members.is_empty() {
            cursor += height + BAND_GAP;
        }
    }
    let height = cursor - BAND_GAP + MARGIN;

    // Left edge at the margin.
    let leftmost = graph.vertices.iter().map(|vertex| vertex.x - vertex.left).fold(f64::INFINITY, f64::min);
    let shift = if leftmost.is_finite() { MARGIN - leftmost } else { 0.0 };
    for vertex in &mut graph.vertices {
        vertex.x = (vertex.x + shift).round();
    }
    let width = graph.vertices.iter().map(|vertex| vertex.x + vertex.right).fold(0.0, f64::max) + MARGIN;

    for vertex in &graph.vertices {
        let top = band_top.get(vertex.band).copied().unwrap_or(0.0);
        let size = band_height.get(vertex.band).copied().unwrap_or(0.0);
        match vertex.item {
            Item::Node(node) => {
                if let Some(node) = nodes.get_mut(node) {
                    node.rect.x = vertex.x - vertex.left;
                    node.rect.y = (top + (size - node.rect.height) / 2.0).round();
                }
            }
            Item::Label(edge) => {
                if let Some(label) = labels.get_mut(edge) {
                    label.rect.x = vertex.x + LABEL_OFFSET;
                    label.rect.y = (top + (size - label.rect.height) / 2.0).round();
                }
            }
            Item::Dummy => {}
        }
    }

    let ports = ports(&graph, &nodes);
    let mut trunk_paths: Vec<Trunk> = Vec::new();
    let mut trunk_index: BTreeMap<(usize, bool), usize> = BTreeMap::new();
    for (&(target, returns), (vertices, links)) in &trunks {
        if vertices.len() < 2 {
            continue;
        }
        trunk_index.insert((target, returns), trunk_paths.len());
        trunk_paths.push(Trunk {
            target,
            returns,
            points: polyline(&graph, &nodes, &ports, &band_top, &band_height, vertices, links),
            edges: Vec::new(),
        });
    }
    let edges = chains
        .iter()
        .zip(&back)
        .zip(&joins)
        .enumerate()
        .map(|(index, (((chain, links), &back), join))| {
            let trunk = join.and_then(|key| trunk_index.get(&key).copied());
            if let Some(trunk) = trunk.and_then(|trunk| trunk_paths.get_mut(trunk)) {
                trunk.edges.push(index);
            }
            EdgePath { points: polyline(&graph, &nodes, &ports, &band_top, &band_height, chain, links), back, trunk }
        })
        .collect();
    Layout {
        width: width.ceil(),
        height: height.ceil(),
        nodes,
        labels,
        edges,
        trunks: trunk_paths,
        layers: layer,
        main_route: main_nodes,
        crossings,
    }
}

/// Reorders the bands to reduce crossings; returns the crossings left.
fn order(graph: &mut Graph) -> usize {
    const MAX_SWEEPS: usize = 24;
    let mut position = vec![0usize; graph.vertices.len()];
    let set_positions = |graph: &Graph, position: &mut Vec<usize>| {
        for members in &graph.bands {
            for (index, &vertex) in members.iter().enumerate() {
                if let Some(slot) = position.get_mut(vertex) {
                    *slot = index;
                }
            }
        }
    };
    set_positions(graph, &mut position);
    let mut best = graph.bands.clone();
    let mut best_crossings = crossings(graph, &position);
    let mut stale = 0;
    for sweep in 0..MAX_SWEEPS {
        if best_crossings == 0 {
            break;
        }
        let downward = sweep % 2 == 0;
        let band_count = graph.bands.len();
        let sequence: Vec<usize> =
            if downward { (1..band_count).collect() } else { (0..band_count.saturating_sub(1)).rev().collect() };
        for band in sequence {
            let Some(members) = graph.bands.get(band) else { continue };
            let size = members.len().max(1) as f64;
            let other_size =
                graph.bands.get(if downward { band - 1 } else { band + 1 }).map_or(1, Vec::len).max(1) as f64;
            let mut keyed: Vec<(f64, usize)> = members
                .iter()
                .enumerate()
                .map(|(index, &vertex)| {
                    let links = if downward { graph.up.get(vertex) } else { graph.down.get(vertex) };
                    let others: Vec<usize> = links
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|&link| graph.links.get(link))
                        .map(|link| if downward { link.upper } else { link.lower })
                        .collect();
                    let key = if others.is_empty() {
                        index as f64 * other_size / size
                    } else {
                        others.iter().map(|&other| position.get(other).copied().unwrap_or(0) as f64).sum::<f64>()
                            / others.len() as f64
                    };
                    (key, vertex)
                })
                .collect();
            keyed.sort_by(|left, right| left.0.total_cmp(&right.0));
            if let Some(members) = graph.bands.get_mut(band) {
                *members = keyed.into_iter().map(|(_, vertex)| vertex).collect();
                for (index, &vertex) in members.iter().enumerate() {
                    if let Some(slot) = position.get_mut(vertex) {
                        *slot = index;
                    }
                }
            }
        }
        let now = crossings(graph, &position);
        if now < best_crossings {
            best_crossings = now;
            best = graph.bands.clone();
            stale = 0;
        } else {
            stale += 1;
            if stale >= 4 {
                break;
            }
        }
    }
    graph.bands = best;
    best_crossings
}

/// Crossings between every pair of adjacent bands (inversions of the links'
/// lower ends when sorted by their upper ends, counted with a Fenwick tree).
fn crossings(graph: &Graph, position: &[usize]) -> usize {
    let mut by_band: Vec<Vec<(usize, usize)>> = vec![Vec::new(); graph.bands.len()];
    for link in &graph.links {
        let band = graph.band_of(link.upper);
        if let Some(list) = by_band.get_mut(band) {
            list.push((position.get(link.upper).copied().unwrap_or(0), position.get(link.lower).copied().unwrap_or(0)));
        }
    }
    let mut total = 0;
    for (band, pairs) in by_band.iter_mut().enumerate() {
        pairs.sort_unstable();
        let size = graph.bands.get(band + 1).map_or(0, Vec::len) + 1;
        let mut tree = vec![0usize; size + 1];
        for (seen, &(_, lower)) in pairs.iter().enumerate() {
            // Links seen so far whose lower end is at or left of `lower`.
            let mut at_or_left = 0;
            let mut index = lower + 1;
            while index > 0 {
                at_or_left += tree.get(index).copied().unwrap_or(0);
                index -= index & index.wrapping_neg();
            }
            total += seen - at_or_left;
            let mut index = lower + 1;
            while index <= size {
                if let Some(slot) = tree.get_mut(index) {
                    *slot += 1;
                }
                index += index & index.wrapping_neg();
            }
        }
    }
    total
}

/// The least distance between the anchors of two neighbours in a band.
fn separation(left: &Vertex, right: &Vertex) -> f64 {
    let gap = match (left.item, right.item) {
        (Item::Node(_), Item::Node(_)) => 36.0,
        (Item::Node(_), _) | (_, Item::Node(_)) => 22.0,
        (Item::Label(_), _) | (_, Item::Label(_)) => 14.0,
        (Item::Dummy, Item::Dummy) => 10.0,
    };
    left.right + gap + right.left
}

/// Horizontal coordinates: each band placed nearest the weighted mean of its
/// neighbours, keeping its order and gaps, sweeping down and up.
fn place(graph: &mut Graph) {
    const ROUNDS: usize = 12;
    for band in 0..graph.bands.len() {
        let mut x = 0.0;
        let members = graph.bands.get(band).cloned().unwrap_or_default();
        let mut previous: Option<usize> = None;
        for vertex in members {
            if let Some(previous) = previous {
                if let (Some(left), Some(right)) = (graph.vertices.get(previous), graph.vertices.get(vertex)) {
                    x += separation(left, right);
                }
            }
            if let Some(slot) = graph.vertices.get_mut(vertex) {
                slot.x = x;
            }
            previous = Some(vertex);
        }
    }
    let band_count = graph.bands.len();
    for _ in 0..ROUNDS {
        for band in 0..band_count {
            relax(graph, band);
        }
        for band in (0..band_count).rev() {
            relax(graph, band);
        }
    }
}

fn relax(graph: &mut Graph, band: usize) {
    let Some(members) = graph.bands.get(band) else { return };
    let mut offsets = Vec::with_capacity(members.len());
    let mut targets = Vec::with_capacity(members.len());
    let mut offset = 0.0;
    for (index, &vertex) in members.iter().enumerate() {
        if index > 0 {
            if let (Some(left), Some(right)) =
                (members.get(index - 1).and_then(|&left| graph.vertices.get(left)), graph.vertices.get(vertex))
            {
                offset += separation(left, right);
            }
        }
        offsets.push(offset);
        let mut sum = 0.0;
        let mut weight = 0.0;
        let links = graph.up.get(vertex).into_iter().flatten().chain(graph.down.get(vertex).into_iter().flatten());
        for link in links.filter_map(|&link| graph.links.get(link)) {
            let other = if link.upper == vertex { link.lower } else { link.upper };
            sum += link.weight * graph.x(other);
            weight += link.weight;
        }
        let (desired, weight) = if weight > 0.0 { (sum / weight, weight) } else { (graph.x(vertex), 0.01) };
        targets.push((desired - offset, weight));
    }
    // Pool adjacent violators: blocks of (weighted sum, weight, count) with non-decreasing means.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for &(target, weight) in &targets {
        blocks.push((target * weight, weight, 1));
        while blocks.len() >= 2 {
            let last = blocks.len() - 1;
            let (Some(&(sum_b, weight_b, count_b)), Some(&(sum_a, weight_a, count_a))) =
                (blocks.get(last), blocks.get(last - 1))
            else {
                break;
            };
            if sum_a / weight_a <= sum_b / weight_b {
                break;
            }
            blocks.truncate(last - 1);
            blocks.push((sum_a + sum_b, weight_a + weight_b, count_a + count_b));
        }
    }
    let members = members.clone();
    let mut index = 0;
    for (sum, weight, count) in blocks {
        let value = sum / weight;
        for _ in 0..count {
            if let (Some(&vertex), Some(&offset)) = (members.get(index), offsets.get(index)) {
                if let Some(slot) = graph.vertices.get_mut(vertex) {
                    slot.x = value + offset;
                }
            }
            index += 1;
        }
    }
}

/// Where each link meets a node: its x on the node's bottom (links going
/// down) or top border, spread in the order of the other ends.
fn ports(graph: &Graph, nodes: &[NodeBox]) -> BTreeMap<(usize, usize), f64> {
    const INSET: f64 = 12.0;
    const SPACING: f64 = 14.0;
    let mut ports = BTreeMap::new();
    for (vertex, data) in graph.vertices.iter().enumerate() {
        let Item::Node(node) = data.item else { continue };
        let Some(rect) = nodes.get(node).map(|node| node.rect) else { continue };
        for (links, downward) in [(graph.down.get(vertex), true), (graph.up.get(vertex), false)] {
            let mut ends: Vec<(f64, usize)> = links
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .filter_map(|&link| {
                    let data = graph.links.get(link)?;
                    Some((graph.x(if downward { data.lower } else { data.upper }), link))
                })
                .collect();
            ends.sort_by(|left, right| left.0.total_cmp(&right.0).then(left.1.cmp(&right.1)));
            let (low, high) = (rect.x + INSET, rect.right() - INSET);
            let desired: Vec<f64> = ends.iter().map(|&(x, _)| x.clamp(low, high.max(low))).collect();
            let spaced = desired.windows(2).all(|pair| matches!(pair, [a, b] if b - a >= SPACING));
            let count = ends.len() as f64;
            for (index, &(_, link)) in ends.iter().enumerate() {
                let x = if spaced {
                    desired.get(index).copied().unwrap_or(low)
                } else {
                    low + (high - low) * (index as f64 + 0.5) / count
                };
                ports.insert((link, vertex), x.round());
            }
        }
    }
    ports
}

/// The points of one edge along its chain of vertices.
fn polyline(
    graph: &Graph,
    nodes: &[NodeBox],
    ports: &BTreeMap<(usize, usize), f64>,
    band_top: &[f64],
    band_height: &[f64],
    chain: &[usize],
    links: &[usize],
) -> Vec<Point> {
    let top_of = |vertex: usize| band_top.get(graph.band_of(vertex)).copied().unwrap_or(0.0);
    let bottom_of = |vertex: usize| top_of(vertex) + band_height.get(graph.band_of(vertex)).copied().unwrap_or(0.0);
    // Whether the link reaches `vertex` at its top (the link comes from above).
    let from_above = |link: usize, vertex: usize| graph.links.get(link).is_some_and(|link| link.lower == vertex);
    let mut points: Vec<Point> = Vec::new();
    for (step, &vertex) in chain.iter().enumerate() {
        let incoming = step.checked_sub(1).and_then(|index| links.get(index)).copied();
        let outgoing = links.get(step).copied();
        let rect = match graph.vertices.get(vertex).map(|vertex| vertex.item) {
            Some(Item::Node(node)) => nodes.get(node).map(|node| node.rect),
            _ => None,
        };
        match (rect, incoming, outgoing) {
            (Some(rect), None, Some(link)) => {
                let x = ports.get(&(link, vertex)).copied().unwrap_or(rect.x + rect.width / 2.0);
                if from_above(link, vertex) {
                    points.push(Point { x, y: rect.y });
                    points.push(Point { x, y: top_of(vertex) });
                } else {
                    points.push(Point { x, y: rect.bottom() });
                    points.push(Point { x, y: bottom_of(vertex) });
                }
            }
            (Some(rect), Some(link), _) => {
                let x = ports.get(&(link, vertex)).copied().unwrap_or(rect.x + rect.width / 2.0);
                if from_above(link, vertex) {
                    points.push(Point { x, y: top_of(vertex) });
                    points.push(Point { x, y: rect.y });
                } else {
                    points.push(Point { x, y: bottom_of(vertex) });
                    points.push(Point { x, y: rect.bottom() });
                }
            }
            (None, incoming, outgoing) => {
                let x = graph.x(vertex);
                let enter = match incoming {
                    Some(link) if from_above(link, vertex) => top_of(vertex),
                    _ => bottom_of(vertex),
                };
                let leave = match outgoing {
                    Some(link) if from_above(link, vertex) => top_of(vertex),
                    _ => bottom_of(vertex),
                };
                points.push(Point { x, y: enter });
                points.push(Point { x, y: leave });
            }
            (Some(_), None, None) => {}
        }
    }
    points.dedup();
    points
}
