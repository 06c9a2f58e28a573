//! Diagnostics: a problem found in the user's files (config, template, policy), with the
//! file, line and column it comes from, the offending source line and the include chain.
//!
//! Every module that reads user input reports through [`Diagnostic`]; `report` renders them.
//! This module holds data only: no I/O and no formatting decisions beyond `Display`.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is. Errors fail `validate` (exit 1); warnings are printed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A position in a user file. `line` and `column` are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Location {
            file: file.into(),
            line: None,
            column: None,
        }
    }

    pub fn at(file: impl Into<PathBuf>, line: usize, column: Option<usize>) -> Self {
        Location {
            file: file.into(),
            line: Some(line),
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// One problem in the user's input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case identifier of the kind of problem (`undefined-variable`, `dangling-ref`).
    pub code: &'static str,
    pub message: String,
    pub location: Option<Location>,
    /// The text of the offending line, when the file could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_line: Option<String>,
    /// Where the file of `location` was included from, innermost first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include_chain: Vec<Location>,
    /// The stack whose rendering produced this diagnostic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// Extra hints shown after the location (`help: ...`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: None,
            source_line: None,
            include_chain: Vec::new(),
            stack: None,
            notes: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Sets the location and, when the line is known, the source line from `text`.
    pub fn at(mut self, location: Location, text: Option<&str>) -> Self {
        if let (Some(line), Some(text)) = (location.line, text) {
            self.source_line = text.lines().nth(line.saturating_sub(1)).map(str::to_owned);
        }
        self.location = Some(location);
        self
    }

    pub fn in_file(self, file: &Path) -> Self {
        self.at(Location::file(file), None)
    }

    pub fn with_stack(mut self, stack: &str) -> Self {
        self.stack = Some(stack.to_owned());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// Plain, uncoloured rendering, in the style of rustc:
    ///
    /// ```text
    /// error[undefined-variable]: undefined value `vars.nme`
    ///   --> templates/ecr/repositories.json.njk:12:15
    ///    |
    /// 12 |   "Name": "{{ vars.nme }}"
    ///    |               ^
    ///    = included from templates/main.json.njk:3:1
    ///    = stack: ecr-repositories
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        let line_no = self.location.as_ref().and_then(|l| l.line);
        let width = line_no.map(|n| n.to_string().len()).unwrap_or(1);
        let pad = " ".repeat(width);
        if let Some(loc) = &self.location {
            writeln!(f, "{pad}--> {loc}")?;
        }
        if let (Some(n), Some(src)) = (line_no, &self.source_line) {
            writeln!(f, "{pad} |")?;
            writeln!(f, "{n} | {}", src.trim_end())?;
            if let Some(col) = self.location.as_ref().and_then(|l| l.column) {
                // Keep tabs so the caret lines up with the source line above it.
                let lead: String = src
                    .chars()
                    .take(col.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                writeln!(f, "{pad} | {lead}^")?;
            }
        }
        for inc in &self.include_chain {
            writeln!(f, "{pad} = included from {inc}")?;
        }
        if let Some(stack) = &self.stack {
            writeln!(f, "{pad} = stack: {stack}")?;
        }
        for note in &self.notes {
            writeln!(f, "{pad} = help: {note}")?;
        }
        Ok(())
    }
}

/// Converts a byte offset in `text` to a 1-based (line, column) pair, the column counted in characters.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Removes the " at line X column Y" that serde errors append: the location is shown apart.
pub fn strip_position(message: &str) -> String {
    let mut m = message.to_owned();
    if let Some(i) = m.find(" at line ") {
        let tail = &m[i + " at line ".len()..];
        if tail
            .split_whitespace()
            .next()
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        {
            m.truncate(i);
        }
    }
    // serde lists every expected field; that is useful, but keep it on one line.
    m.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 7), (2, 4));
        assert_eq!(line_col(text, 8), (3, 1));
    }

    #[test]
    fn display_shows_location_line_and_caret() {
        let d = Diagnostic::error("undefined-variable", "undefined value `vars.x`")
            .at(
                Location::at("templates/a.json.njk", 2, Some(5)),
                Some("{\n  \"A\": {{ vars.x }}\n}"),
            )
            .with_stack("s");
        let text = d.to_string();
        assert!(text.contains("--> templates/a.json.njk:2:5"), "{text}");
        assert!(text.contains("2 |   \"A\": {{ vars.x }}"), "{text}");
        assert!(text.contains("  |     ^"), "{text}");
        assert!(text.contains("= stack: s"), "{text}");
    }
}
