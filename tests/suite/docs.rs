//! Every diagnostic code has a page, and every page a code.

use flowc::diag::ALL_CODES;

#[test]
fn every_code_has_a_docs_page_with_the_four_sections() {
    for code in ALL_CODES {
        let path = format!("docs/diagnostics/{}.md", code.as_str());
        let page = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{path} is missing"));
        assert!(page.starts_with(&format!("# {}", code.as_str())), "{path} should start with its code");
        for section in ["## What it means", "## Example", "## Fix"] {
            assert!(page.contains(section), "{path} lacks `{section}`");
        }
    }
}

#[test]
fn every_docs_page_is_a_known_code() {
    for entry in std::fs::read_dir("docs/diagnostics").expect("docs dir").filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(code) = name.strip_suffix(".md") else { continue };
        if code == "README" {
            continue;
        }
        assert!(ALL_CODES.iter().any(|known| known.as_str() == code), "docs page {name} has no code");
    }
}
