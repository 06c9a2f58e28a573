//! Diagnostics as text for people (rustc style, optionally coloured) or as JSON for tools.

use std::io::Write;

use super::Style;
use crate::diag::{Diagnostic, Severity};
use crate::error::{Error, Result};

/// Writes each diagnostic followed by a blank line.
pub fn write_text(w: &mut dyn Write, diags: &[Diagnostic], style: Style) -> Result<()> {
    for d in diags {
        let text = d.to_string();
        let mut lines = text.lines();
        if let Some(first) = lines.next() {
            // "error[code]: message": colour the severity and code.
            let (head, rest) = first.split_once(": ").unwrap_or((first, ""));
            let head = match d.severity {
                Severity::Error => style.red(head),
                Severity::Warning => style.yellow(head),
            };
            writeln!(w, "{head}: {}", style.bold(rest)).map_err(Error::output)?;
        }
        for line in lines {
            let trimmed = line.trim_start();
            let painted = if trimmed.starts_with("-->")
                || trimmed.starts_with('|')
                || trimmed.starts_with('=')
            {
                let indent = &line[..line.len() - trimmed.len()];
                let (mark, rest) = trimmed.split_at(trimmed.find(' ').unwrap_or(trimmed.len()));
                format!("{indent}{}{rest}", style.blue(mark))
            } else if let Some((num, rest)) = line.split_once(" | ") {
                if num.trim().chars().all(|c| c.is_ascii_digit()) {
                    format!("{}{rest}", style.blue(&format!("{num} | ")))
                } else {
                    line.to_owned()
                }
            } else {
                line.to_owned()
            };
            writeln!(w, "{painted}").map_err(Error::output)?;
        }
        writeln!(w).map_err(Error::output)?;
    }
    Ok(())
}
