//! Terminal tables, kubectl style: no borders, columns two spaces apart, no trailing spaces.
//! comfy-table measures cells without their colour codes (its `custom_styling` feature), so a
//! coloured cell keeps its column aligned.

use comfy_table::presets::NOTHING;
use comfy_table::{CellAlignment, Table};

use super::bold;

/// A table with a bold header row; each row should have as many cells as the header.
pub fn table<R, C>(header: &[&str], rows: R) -> String
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = String>,
{
    table_aligned(header, &[], rows)
}

/// As [`table`], with the columns at these indexes aligned to the right (numbers).
pub fn table_aligned<R, C>(header: &[&str], right: &[usize], rows: R) -> String
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = String>,
{
    let mut t = Table::new();
    t.load_style(NOTHING)
        .set_header(header.iter().map(|h| bold(h)).collect::<Vec<_>>());
    for r in rows {
        t.add_row(r.into_iter().collect::<Vec<_>>());
    }
    for (i, c) in t.column_iter_mut().enumerate() {
        c.set_padding((0, 2));
        if right.contains(&i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = t.trim_fmt();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_two_spaces_apart_without_trailing_spaces() {
        let text = table_aligned(
            &["NAME", "N", "NOTE"],
            &[1],
            [
                vec!["a".to_string(), "7".into(), "".into()],
                vec!["longer".to_string(), "12".into(), "x".into()],
            ],
        );
        // No colour here: unit tests do not run on a terminal.
        assert_eq!(text, "NAME     N  NOTE\na        7\nlonger  12  x\n");
    }
}
