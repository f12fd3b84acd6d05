//! The SVG picture drawn to PNG by resvg, with the system's fonts. Chinese
//! labels need a font with CJK glyphs: one is looked for among the system's
//! fonts, and its absence is an error that says what to install, rather than
//! a picture of empty boxes.

use resvg::tiny_skia;
use resvg::usvg::{self, fontdb};

/// The most pixels a picture may have (a 2,000-node route is drawn smaller).
const MAX_PIXELS: f32 = 60_000_000.0;
const MAX_SIDE: f32 = 30_000.0;
/// Drawn at twice the SVG's size, so text is sharp on today's screens.
const SCALE: f32 = 2.0;

#[derive(Debug)]
pub enum PngError {
    NoCjkFont,
    Svg(String),
    Encode(String),
}

impl std::fmt::Display for PngError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PngError::NoCjkFont => formatter.write_str(
                "no font with Chinese characters was found on this system, so the labels cannot be drawn in a PNG; \
                 install one (Debian/Ubuntu: `apt-get install fonts-noto-cjk` or `fonts-wqy-zenhei`), \
                 or write SVG (`--format svg`), which the browser draws with its own fonts",
            ),
            PngError::Svg(message) => write!(formatter, "cannot read the picture: {message}"),
            PngError::Encode(message) => write!(formatter, "cannot write the PNG: {message}"),
        }
    }
}

impl std::error::Error for PngError {}

/// The family of the first font in `database` that draws `审批` (in the order
/// of the families the SVG asks for, then any).
pub fn cjk_family(database: &fontdb::Database) -> Option<String> {
    let draws_cjk = |id: fontdb::ID| database.with_face_data(id, draws_chinese).unwrap_or(false);
    let preferred = [
        "Noto Sans CJK SC",
        "Source Han Sans SC",
        "PingFang SC",
        "Microsoft YaHei",
        "WenQuanYi Zen Hei",
        "Noto Sans SC",
    ];
    for family in preferred {
        let query = fontdb::Query { families: &[fontdb::Family::Name(family)], ..fontdb::Query::default() };
        if let Some(id) = database.query(&query) {
            if draws_cjk(id) {
                return Some(family.to_owned());
            }
        }
    }
    database
        .faces()
        .find(|face| draws_cjk(face.id))
        .and_then(|face| face.families.first().map(|(name, _)| name.clone()))
}

fn draws_chinese(data: &[u8], index: u32) -> bool {
    use skrifa::MetadataProvider;
    skrifa::FontRef::from_index(data, index)
        .is_ok_and(|font| "审批流程".chars().all(|character| font.charmap().map(character).is_some()))
}

/// Draws `svg` (as [`super::svg::render`] writes it) to PNG bytes with the system's fonts.
pub fn render(svg: &str) -> Result<Vec<u8>, PngError> {
    let mut fonts = fontdb::Database::new();
    fonts.load_system_fonts();
    render_with_fonts(svg, fonts)
}

/// As [`render`], with the fonts of `fonts`.
pub fn render_with_fonts(svg: &str, fonts: fontdb::Database) -> Result<Vec<u8>, PngError> {
    let mut options = usvg::Options { fontdb: std::sync::Arc::new(fonts), ..usvg::Options::default() };
    let needs_cjk = svg.chars().any(super::text::is_wide);
    match cjk_family(options.fontdb.as_ref()) {
        Some(family) => {
            options.fontdb_mut().set_sans_serif_family(family.clone());
            options.font_family = family;
        }
        None if needs_cjk => return Err(PngError::NoCjkFont),
        None => {}
    }
    let tree = usvg::Tree::from_str(svg, &options).map_err(|error| PngError::Svg(error.to_string()))?;
    let size = tree.size();
    let area = size.width() * size.height() * SCALE * SCALE;
    let scale =
        SCALE.min((MAX_PIXELS / area.max(1.0)).sqrt() * SCALE).min(MAX_SIDE / size.width().max(size.height()).max(1.0));
    let width = (size.width() * scale).ceil() as u32;
    let height = (size.height() * scale).ceil() as u32;
    let mut pixmap = tiny_skia::Pixmap::new(width.max(1), height.max(1))
        .ok_or_else(|| PngError::Encode(format!("a picture of {width}×{height} pixels is too large")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|error| PngError::Encode(error.to_string()))
}
