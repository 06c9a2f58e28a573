//! Every output format. Writers take `&mut dyn Write` and data that an operation returned;
//! they never compute anything a user could not get from the data itself.
//!
//! Data goes to stdout, diagnostics and progress to stderr; the caller picks the stream.

pub mod apply;
pub mod atom;
pub mod audit;
pub mod aws_json;
pub mod check;
pub mod diagnostics;
pub mod diff;
pub mod discover;
pub mod drift;
pub mod gate;
pub mod html;
pub mod init;
pub mod lifecycle;
pub mod markdown;
pub mod permissions;
pub mod plan;
pub mod plan_markdown;
pub mod render;
pub mod stacks;
pub mod validate;
pub mod whoami;

use std::io::Write;

use crate::error::{Error, Result};

/// Whether to colour output; decided once from `--color` and the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("1;31", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint("1;33", t)
    }
    pub fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn blue(&self, t: &str) -> String {
        self.paint("1;34", t)
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
}

/// How wide text for people may be; decided once, like [`Style`], from the terminal, `COLUMNS`
/// and `--verbose`. Printers that use it wrap prose and lists to `width` and shorten single
/// long values with `…`, unless `full` asks for every value whole (a line may then be wider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Columns a line may take.
    pub width: usize,
    /// `--verbose`: values whole, never shortened.
    pub full: bool,
}

impl Layout {
    /// The width without a terminal and without `COLUMNS`.
    pub const DEFAULT_WIDTH: usize = 120;
    /// A narrower width is taken as this one: below it, tables and values are unreadable.
    pub const MIN_WIDTH: usize = 60;
    /// At least this much of a shortened value is shown, however deep its indentation.
    const MIN_VALUE: usize = 24;

    /// A value that starts `used` columns into its line: whole with `full` or when it fits,
    /// else shortened to the rest of the line.
    pub fn value<'a>(&self, s: &'a str, used: usize) -> std::borrow::Cow<'a, str> {
        if self.full {
            std::borrow::Cow::Borrowed(s)
        } else {
            crate::text::shorten(s, self.room(used))
        }
    }

    /// The columns left on a line after `used`, never fewer than a readable minimum.
    pub fn room(&self, used: usize) -> usize {
        self.width.saturating_sub(used).max(Self::MIN_VALUE)
    }
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            width: Self::DEFAULT_WIDTH,
            full: false,
        }
    }
}

/// Writes JSON (pretty, newline-terminated).
pub fn write_json<T: serde::Serialize>(w: &mut dyn Write, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Io(e.into()))?;
    writeln!(w, "{text}").map_err(Error::output)
}

/// Pads cells into aligned columns; the last column is not padded.
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// [`table`] in `layout.width` columns, each line starting `indent` columns in: when it is
/// wider, the widest columns are narrowed (their cells shortened with `…`) until it fits or
/// every column is down to a few characters. With `layout.full`, it is [`table`].
pub fn fit_table(rows: &[Vec<String>], layout: Layout, indent: usize) -> String {
    const NARROWEST: usize = 8;
    if layout.full {
        return table(rows);
    }
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(crate::text::columns(cell));
        }
    }
    let total = |w: &[usize]| indent + w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    while total(&widths) > layout.width {
        let Some((i, widest)) = widths
            .iter()
            .copied()
            .enumerate()
            .max_by_key(|(i, w)| (*w, std::cmp::Reverse(*i)))
        else {
            break;
        };
        if widest <= NARROWEST {
            break;
        }
        widths[i] = widest - 1;
    }
    let fitted: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, cell)| crate::text::shorten(cell, widths[i]).into_owned())
                .collect()
        })
        .collect();
    table(&fitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_table_narrows_the_widest_columns() {
        let rows = vec![
            vec!["Add".into(), "Short".into(), "x".repeat(40)],
            vec!["Modify".into(), "y".repeat(30), "z".into()],
        ];
        let layout = Layout {
            width: 40,
            full: false,
        };
        let text = fit_table(&rows, layout, 4);
        for line in text.lines() {
            assert!(4 + crate::text::columns(line) <= 40, "{line:?}");
        }
        assert!(text.contains('…'), "{text}");
        assert!(text.starts_with("Add     Short"), "{text}");
        let full = Layout {
            full: true,
            ..layout
        };
        assert_eq!(fit_table(&rows, full, 4), table(&rows));
        assert_eq!(fit_table(&rows, Layout::default(), 4), table(&rows));
    }

    #[test]
    fn table_aligns_columns() {
        let rows = vec![
            vec!["NAME".into(), "REGION".into()],
            vec!["iam-roles".into(), "us-east-1".into()],
        ];
        assert_eq!(table(&rows), "NAME       REGION\niam-roles  us-east-1\n");
    }

    #[test]
    fn style_without_color_is_plain() {
        assert_eq!(Style { color: false }.red("x"), "x");
        assert_eq!(Style { color: true }.red("x"), "\x1b[1;31mx\x1b[0m");
    }
}
