//! `flowc graph` on the generated workflows (benches/generate.rs): the
//! route read from the IR, laid out and written as SVG, at ¼ and 1 × scale
//! (500 and 2,000 nodes). Checking the file is `benches/check.rs`'s job; the
//! whole process (check + layout + SVG) is timed as in benches/README.md on
//! `target/bench-input.flow`, which this bench writes at startup.

mod generate;

use std::sync::OnceLock;

use divan::{black_box, Bencher};
use flowc::graph::{draw_svg, layout, route_of, Marks, Route};

use generate::Size;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("bench-input.flow"), generate::flow(Size::scale(1.0)));
    divan::main();
}

fn route(per_mille: u32) -> Option<&'static Route> {
    static ROUTES: OnceLock<Vec<(u32, Route)>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        [250, 1000]
            .into_iter()
            .filter_map(|scale| {
                let text = generate::flow(Size::scale(f64::from(scale) / 1000.0));
                let analysis = flowc::check::check_source("bench.flow", &text);
                let program = flowc::ir::lower(&analysis).ok()?;
                Some((scale, route_of(&analysis, &program, None).ok()?))
            })
            .collect()
    });
    let found = routes.iter().find(|(scale, _)| *scale == per_mille).map(|(_, route)| route);
    if found.is_none() {
        eprintln!("no route generated for scale {per_mille}");
    }
    found
}

#[divan::bench(args = [250, 1000], sample_count = 10)]
fn layout_only(bencher: Bencher, per_mille: u32) {
    let Some(route) = route(per_mille) else { return };
    let marks = Marks::none(route);
    bencher.bench(|| black_box(layout::layout(route, &marks)));
}

#[divan::bench(args = [250, 1000], sample_count = 10)]
fn layout_and_svg(bencher: Bencher, per_mille: u32) {
    let Some(route) = route(per_mille) else { return };
    let marks = Marks::none(route);
    bencher.bench(|| black_box(draw_svg(route, &marks)));
}
