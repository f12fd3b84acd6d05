//! The route as SVG: text stays text (browsers draw the Chinese with the
//! reader's fonts), no CSS (so every renderer, resvg included, draws the same),
//! and the output depends only on the route, so committed pictures can be
//! compared byte for byte with what the binary draws today.

use std::fmt::Write as _;

use super::layout::{Layout, LineRole, Point, PAD_X, PAD_Y, TAG_SIZE};
use super::text::{self, LINE_HEIGHT, TEXT_SIZE, TITLE_SIZE};
use super::{Mark, Marks, Route};
use crate::ir::NodeKind;

/// Fonts with Chinese glyphs first, as readers' systems name them.
pub const FONT_FAMILY: &str =
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Zen Hei', 'Noto Sans SC', sans-serif";

/// The space above the layout for the workflow's name.
pub const HEADER: f64 = 34.0;
const ARROW: f64 = 8.0;

const EXIT_COLOR: &str = "#546e7a";
const RETURN_COLOR: &str = "#c0392b";
const TRACE_COLOR: &str = "#8e24aa";
const UNTESTED_COLOR: &str = "#ef6c00";

struct Palette {
    fill: &'static str,
    stroke: &'static str,
}

fn palette(kind: NodeKind) -> Palette {
    match kind {
        NodeKind::Create => Palette { fill: "#e8f5e9", stroke: "#2e7d32" },
        NodeKind::Approve => Palette { fill: "#e3f2fd", stroke: "#1565c0" },
        NodeKind::Realize => Palette { fill: "#fff3e0", stroke: "#e65100" },
        NodeKind::Merge => Palette { fill: "#f3e5f5", stroke: "#6a1b9a" },
        NodeKind::Archive => Palette { fill: "#eceff1", stroke: "#455a64" },
    }
}

/// A coordinate, whole when it is whole, else to one decimal.
fn num(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(character),
        }
    }
    out
}

/// The y of the baseline of a line of `size` whose line box starts at `top`.
fn baseline(top: f64, size: f64) -> f64 {
    let line = (size * LINE_HEIGHT).round();
    top + line / 2.0 + size * 0.36
}

/// The picture: a header with the workflow's name, then edges, labels and nodes.
pub fn render(route: &Route, layout: &Layout, marks: &Marks) -> String {
    let header = format!("{} · {}", route.workflow, route.label);
    let header_width = text::width(&header, 15.0) * 1.06 + 40.0;
    let width = layout.width.max(header_width).ceil();
    let height = layout.height + HEADER;
    let mut out = String::with_capacity(4096 + route.edges.len() * 600 + route.nodes.len() * 800);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT_FAMILY}">"#,
        w = num(width),
        h = num(height),
    );
    let _ = writeln!(out, "<title>{}</title>", escape(&header));
    let _ = writeln!(out, r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##, num(width), num(height));
    let _ = writeln!(
        out,
        r##"<text x="20" y="24" font-size="15" font-weight="bold" fill="#263238">{}</text>"##,
        escape(&header)
    );
    let _ = writeln!(out, r#"<g transform="translate(0 {})">"#, num(HEADER));
    edges(&mut out, route, layout, marks);
    labels(&mut out, route, layout, marks);
    nodes(&mut out, route, layout, marks);
    out.push_str("</g>\n</svg>\n");
    out
}

fn edge_color(route: &Route, marks: &Marks, index: usize) -> &'static str {
    match marks.edge(index) {
        Mark::Taken | Mark::Current => TRACE_COLOR,
        Mark::Untested => UNTESTED_COLOR,
        _ if route.edges.get(index).is_some_and(|edge| edge.is_return()) => RETURN_COLOR,
        _ => EXIT_COLOR,
    }
}

fn edges(out: &mut String, route: &Route, layout: &Layout, marks: &Marks) {
    // Plain edges first, marked ones over them.
    let mut order: Vec<usize> = (0..layout.edges.len()).collect();
    order.sort_by_key(|&index| marks.edge(index) != Mark::Plain);
    for index in order {
        let (Some(path), Some(edge)) = (layout.edges.get(index), route.edges.get(index)) else { continue };
        let color = edge_color(route, marks, index);
        let width = if marks.edge(index) == Mark::Plain { "1.4" } else { "2.6" };
        let title = match &edge.condition {
            Some(condition) => format!("{} when {condition}", edge.name),
            None => edge.name.clone(),
        };
        let mut points = path.points.clone();
        // A line going back is drawn from its target end; one that ends on a trunk has no arrow (the trunk has it).
        let arrow = if path.back {
            points.reverse();
            if path.trunk.is_some() {
                Arrow::None
            } else {
                Arrow::Start
            }
        } else {
            Arrow::End
        };
        line(out, &points, arrow, color, width, edge.is_return(), &title);
    }
    for trunk in &layout.trunks {
        let taken = trunk.edges.iter().any(|&edge| matches!(marks.edge(edge), Mark::Taken | Mark::Current));
        let untested = !trunk.edges.is_empty() && trunk.edges.iter().all(|&edge| marks.edge(edge) == Mark::Untested);
        let (color, width) = match (taken, untested, trunk.returns) {
            (true, _, _) => (TRACE_COLOR, "2.6"),
            (_, true, _) => (UNTESTED_COLOR, "2.6"),
            (_, _, true) => (RETURN_COLOR, "1.4"),
            _ => (EXIT_COLOR, "1.4"),
        };
        let title = route.nodes.get(trunk.target).map_or(String::new(), |node| format!("back to {}", node.name));
        line(out, &trunk.points, Arrow::Start, color, width, trunk.returns, &title);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arrow {
    None,
    Start,
    End,
}

/// One line, with an arrowhead at its start or end pointing into the border it touches.
fn line(out: &mut String, points: &[Point], arrow: Arrow, color: &str, width: &str, dashed: bool, title: &str) {
    if points.len() < 2 {
        return;
    }
    let mut points = points.to_vec();
    let tip_and_before = match arrow {
        Arrow::None => None,
        Arrow::Start => points.first().copied().zip(points.get(1).copied()),
        Arrow::End => {
            points.last().copied().zip(points.len().checked_sub(2).and_then(|index| points.get(index)).copied())
        }
    };
    if let Some((tip, before)) = tip_and_before {
        let direction = if before.y < tip.y { 1.0 } else { -1.0 };
        let trimmed = Point { x: tip.x, y: tip.y - direction * ARROW };
        let end = if arrow == Arrow::Start { points.first_mut() } else { points.last_mut() };
        if let Some(end) = end {
            *end = trimmed;
        }
        let _ = writeln!(
            out,
            r#"<path d="M{} {} L{} {} L{} {} Z" fill="{color}"/>"#,
            num(tip.x),
            num(tip.y),
            num(tip.x - 4.5),
            num(tip.y - direction * ARROW),
            num(tip.x + 4.5),
            num(tip.y - direction * ARROW)
        );
    }
    let dash = if dashed { r#" stroke-dasharray="6 4""# } else { "" };
    let _ = writeln!(
        out,
        r#"<path d="{}" fill="none" stroke="{color}" stroke-width="{width}"{dash}><title>{}</title></path>"#,
        path_data(&points),
        escape(title)
    );
}

/// Straight runs inside bands, smooth S-curves across the gaps between them
/// (vertical at both ends, so arrows meet borders square).
fn path_data(points: &[Point]) -> String {
    let mut data = String::new();
    let mut previous: Option<Point> = None;
    for &point in points {
        match previous {
            None => {
                let _ = write!(data, "M{} {}", num(point.x), num(point.y));
            }
            Some(from) if (from.x - point.x).abs() < 0.05 => {
                let _ = write!(data, " L{} {}", num(point.x), num(point.y));
            }
            Some(from) => {
                let middle = (from.y + point.y) / 2.0;
                let _ = write!(
                    data,
                    " C{} {} {} {} {} {}",
                    num(from.x),
                    num(middle),
                    num(point.x),
                    num(middle),
                    num(point.x),
                    num(point.y)
                );
            }
        }
        previous = Some(point);
    }
    data
}

fn labels(out: &mut String, route: &Route, layout: &Layout, marks: &Marks) {
    let line = (TEXT_SIZE * LINE_HEIGHT).round();
    for (index, label) in layout.labels.iter().enumerate() {
        if label.lines.is_empty() {
            continue;
        }
        let color = edge_color(route, marks, index);
        let rect = label.rect;
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#ffffff" fill-opacity="0.85"/>"##,
            num(rect.x - 1.0),
            num(rect.y),
            num(rect.width + 2.0),
            num(rect.height)
        );
        let _ = write!(out, r#"<text font-size="{}" fill="{color}">"#, num(TEXT_SIZE));
        for (number, text) in label.lines.iter().enumerate() {
            let weight = if number == 0 { r#" font-weight="bold""# } else { "" };
            let _ = write!(
                out,
                r#"<tspan x="{}" y="{}"{weight}>{}</tspan>"#,
                num(rect.x),
                num(baseline(rect.y + number as f64 * line, TEXT_SIZE)),
                escape(text)
            );
        }
        out.push_str("</text>\n");
    }
}

fn nodes(out: &mut String, route: &Route, layout: &Layout, marks: &Marks) {
    for (index, (node, placed)) in route.nodes.iter().zip(&layout.nodes).enumerate() {
        let colors = palette(node.kind);
        let rect = placed.rect;
        let mark = marks.node(index);
        let (stroke, width) = match mark {
            Mark::Plain | Mark::Untested => (colors.stroke, "1.5"),
            Mark::Taken => (TRACE_COLOR, "2.5"),
            Mark::Current => (TRACE_COLOR, "4"),
            Mark::Refused => (RETURN_COLOR, "4"),
        };
        let radius = match node.kind {
            NodeKind::Create => (rect.height / 2.0).min(20.0),
            _ => 6.0,
        };
        let mut tooltip = format!("{} “{}”", node.name, node.label);
        for batch in &node.batches {
            let _ = write!(tooltip, "\nbatch {}: {}", batch.number, batch.lines.join(", "));
        }
        let _ = writeln!(out, "<g><title>{}</title>", escape(&tooltip));
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="{}" stroke="{stroke}" stroke-width="{width}"/>"#,
            num(rect.x),
            num(rect.y),
            num(rect.width),
            num(rect.height),
            num(radius),
            colors.fill
        );
        if node.kind == NodeKind::Archive {
            let _ = writeln!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="none" stroke="{}" stroke-width="1"/>"#,
                num(rect.x + 3.0),
                num(rect.y + 3.0),
                num(rect.width - 6.0),
                num(rect.height - 6.0),
                colors.stroke
            );
        }
        if node.kind == NodeKind::Realize {
            let _ = writeln!(
                out,
                r#"<rect x="{}" y="{}" width="4" height="{}" fill="{}"/>"#,
                num(rect.x + 1.0),
                num(rect.y + 5.0),
                num(rect.height - 10.0),
                colors.stroke
            );
        }
        let title_top = rect.y + PAD_Y;
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" font-size="{}" font-weight="bold" fill="#1b2631">{}</text>"##,
            num(rect.x + PAD_X),
            num(baseline(title_top, TITLE_SIZE)),
            num(TITLE_SIZE),
            escape(&placed.title)
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="end" fill="{}">{}</text>"#,
            num(rect.right() - PAD_X),
            num(baseline(title_top, TITLE_SIZE)),
            num(TAG_SIZE),
            colors.stroke,
            escape(&placed.tag)
        );
        let mut top = title_top + (TITLE_SIZE * LINE_HEIGHT).round();
        for line in &placed.lines {
            let color = match line.role {
                LineRole::Label => "#607d8b",
                LineRole::Operators => "#263238",
                LineRole::Note => TRACE_COLOR,
            };
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" font-size="{}" fill="{color}">{}</text>"#,
                num(rect.x + PAD_X),
                num(baseline(top, TEXT_SIZE)),
                num(TEXT_SIZE),
                escape(&line.text)
            );
            top += (TEXT_SIZE * LINE_HEIGHT).round();
        }
        out.push_str("</g>\n");
    }
}
