//! Every output format. Writers take `&mut dyn Write` and data that an operation returned;
//! they never compute anything a user could not get from the data itself.
//!
//! Data goes to stdout, diagnostics and progress to stderr; the caller picks the stream.

pub mod apply;
pub mod atom;
pub mod audit;
pub mod check;
pub mod diagnostics;
pub mod diff;
pub mod drift;
pub mod gate;
pub mod html;
pub mod init;
pub mod plan;
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

#[cfg(test)]
mod tests {
    use super::*;

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
