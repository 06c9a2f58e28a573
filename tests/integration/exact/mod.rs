//! Exact-output tests: the whole stdout, the whole stderr and the exit code of the commands
//! people read most, compared with an expected text written in the test (as just's tests do),
//! so that a change in wording, alignment, ordering or blank lines is a reviewed change.
//!
//! This file holds the comparison and its normaliser; the tests are in the sibling files. Only
//! the parts of an output that vary from run to run are normalised, each by a narrow rule:
//!
//! - an RFC 3339 UTC timestamp (`2026-12-02T09:06:21.129236Z`, any number of fraction digits
//!   or none) becomes `[timestamp]`;
//! - a clock time `HH:MM:SS` at the start of a line followed by a space (event lines) becomes
//!   `HH:MM:SS`;
//! - a duration as little prints it (`0.0s`, `12.3s`: digits, a dot, one digit, `s`, not inside
//!   a word) becomes `[duration]`;
//! - a table column named with [`Exact::column`] is re-padded after the rules above, because
//!   its width follows the width of what varied (a timestamp of 20 to 30 characters); every
//!   other column's alignment is still compared;
//! - a literal named with [`Exact::replace`] (such as the temporary project's path);
//! - with [`Exact::trim_line_ends`] (help text only), the spaces at the end of a line.
//!
//! Nothing else: account ids are the emulator's fixed `123456789012`, and no test prints a
//! change set name or a stack id.

use std::fmt::Write as _;
use std::path::Path;

use crate::harness::{Output, TestProject};

mod aws;
mod local;

/// Runs `little ARGS` in the project as [`TestProject::run`] does, with `COLUMNS` removed from
/// the environment so that help text is wrapped at clap's default width whatever the terminal.
pub fn run(p: &TestProject, args: &[&str]) -> Output {
    let mut cmd = p.command(p.path(), args);
    cmd.env_remove("COLUMNS");
    let out = cmd.output().expect("run little");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked at") && !stderr.contains("RUST_BACKTRACE"),
        "little panicked:\n{stderr}"
    );
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

/// A run's output about to be compared exactly, with the normalisation it needs.
pub struct Exact<'a> {
    out: &'a Output,
    columns: Vec<&'static str>,
    literals: Vec<(String, &'static str)>,
    trim: bool,
}

impl<'a> Exact<'a> {
    pub fn new(out: &'a Output) -> Self {
        Exact {
            out,
            columns: Vec::new(),
            literals: Vec::new(),
            trim: false,
        }
    }

    /// Re-pads the table column headed `name` (in stdout and stderr) after normalising it.
    pub fn column(mut self, name: &'static str) -> Self {
        self.columns.push(name);
        self
    }

    /// Replaces every occurrence of `from` with `to`.
    pub fn replace(mut self, from: impl Into<String>, to: &'static str) -> Self {
        self.literals.push((from.into(), to));
        self
    }

    /// Trims the spaces at the end of every line: clap pads the blank lines inside a help entry
    /// with the entry's indentation, which no one sees and a source file does not keep well.
    pub fn trim_line_ends(mut self) -> Self {
        self.trim = true;
        self
    }

    /// Replaces the project's directory (as given and canonicalised) with `[project]`.
    pub fn project(self, dir: &Path) -> Self {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        self.replace(canonical.display().to_string(), "[project]")
            .replace(dir.display().to_string(), "[project]")
    }

    fn normalise(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (from, to) in &self.literals {
            text = text.replace(from.as_str(), to);
        }
        for name in &self.columns {
            text = repad_column(&text, name);
        }
        let text = tokens(&text);
        if !self.trim {
            return text;
        }
        let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches(' ')).collect();
        lines.join("\n")
    }

    /// Asserts the exit code and the whole normalised stdout and stderr. `stdout` and `stderr`
    /// are written as [`unindent`] reads them; on a mismatch all three are reported, each text
    /// as a line diff.
    #[track_caller]
    pub fn is(&self, code: i32, stdout: &str, stderr: &str) {
        let mut report = String::new();
        if self.out.code != code {
            let _ = writeln!(report, "exit code: expected {code}, got {}", self.out.code);
        }
        for (name, expected, actual) in [
            ("stdout", stdout, &self.out.stdout),
            ("stderr", stderr, &self.out.stderr),
        ] {
            let expected = unindent(expected);
            let actual = self.normalise(actual);
            if expected != actual {
                let _ = writeln!(
                    report,
                    "{name} differs (- expected, + actual, after normalising):"
                );
                report.push_str(&diff(&expected, &actual));
            }
        }
        if !report.is_empty() {
            panic!(
                "{report}\n--- normalised stdout ---\n{}--- normalised stderr ---\n{}",
                self.normalise(&self.out.stdout),
                self.normalise(&self.out.stderr)
            );
        }
    }
}

/// An expected text as written in a test: either a one-line literal (`""`, `"ok\n"`), used as
/// it is, or a raw string that opens with a newline and closes on a line of only spaces, whose
/// width is taken off every line (a line of only spaces is an empty line). So the expected output can be
/// indented with the code, and its own leading spaces still count.
pub fn unindent(text: &str) -> String {
    let Some(body) = text.strip_prefix('\n') else {
        return text.to_owned();
    };
    let (body, last) = body.rsplit_once('\n').unwrap_or(("", body));
    assert!(
        last.chars().all(|c| c == ' '),
        "an expected text closes on a line of only spaces: {last:?}"
    );
    let indent = last.len();
    let mut out = String::new();
    for line in body.split('\n') {
        if line.trim_start_matches(' ').is_empty() {
            out.push('\n');
            continue;
        }
        let stripped = line.strip_prefix(&last[..indent]).unwrap_or_else(|| {
            panic!("a line of an expected text is indented less than its closing line: {line:?}")
        });
        out.push_str(stripped);
        out.push('\n');
    }
    out
}

/// The token rules of the module doc: timestamps, clock times and durations.
pub fn tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let at_line_start = out.is_empty() || out.ends_with('\n');
        let previous_is_word = out
            .chars()
            .next_back()
            .is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '.');
        if let Some(len) = timestamp_len(rest) {
            out.push_str("[timestamp]");
            rest = &rest[len..];
        } else if at_line_start && clock_len(rest).is_some() {
            out.push_str("HH:MM:SS");
            rest = &rest[8..];
        } else if let Some(len) = duration_len(rest).filter(|_| !previous_is_word) {
            out.push_str("[duration]");
            rest = &rest[len..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// How many leading ASCII digits `s` has.
fn digits(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// The length of an RFC 3339 UTC timestamp at the start of `s`: `YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction, then `Z` or `+00:00`.
fn timestamp_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let shape = "dddd-dd-ddTdd:dd:dd";
    if b.len() < shape.len() {
        return None;
    }
    for (i, want) in shape.bytes().enumerate() {
        let ok = match want {
            b'd' => b[i].is_ascii_digit(),
            other => b[i] == other,
        };
        if !ok {
            return None;
        }
    }
    let mut len = shape.len();
    if b.get(len) == Some(&b'.') && digits(&s[len + 1..]) > 0 {
        len += 1 + digits(&s[len + 1..]);
    }
    if s[len..].starts_with('Z') {
        Some(len + 1)
    } else if s[len..].starts_with("+00:00") {
        Some(len + 6)
    } else {
        None
    }
}

/// 8 when `s` starts with `HH:MM:SS ` (a clock time followed by a space).
fn clock_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let ok = b.len() > 8
        && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit())
        && b[2] == b':'
        && b[5] == b':'
        && b[8] == b' ';
    ok.then_some(8)
}

/// The length of a duration `N.Ns` at the start of `s`, not followed by a word character.
fn duration_len(s: &str) -> Option<usize> {
    let whole = digits(s);
    if whole == 0 || !s[whole..].starts_with('.') {
        return None;
    }
    let after_dot = &s[whole + 1..];
    if digits(after_dot) != 1 || !after_dot[1..].starts_with('s') {
        return None;
    }
    let len = whole + 3;
    let next = s[len..].chars().next();
    (!next.is_some_and(|c| c.is_alphanumeric() || c == '_')).then_some(len)
}

/// Re-pads the column headed `name` in every table of `text`. A table is a header line holding
/// `name` as a cell (at the start of the line or after two spaces, and followed by two spaces
/// or the line's end) and the lines after it up to a blank line. The column's cells (from the
/// header's start of the column to the next column's start) are normalised by [`tokens`] and
/// padded to the widest of them; the other columns keep their text and spacing.
fn repad_column(text: &str, name: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let Some((start, next)) = header_cell(lines[i], name) else {
            out.push(lines[i].to_owned());
            i += 1;
            continue;
        };
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].is_empty())
            .unwrap_or(lines.len());
        let rows: Vec<Vec<char>> = lines[i..end].iter().map(|l| l.chars().collect()).collect();
        let cells: Vec<String> = rows
            .iter()
            .map(|row| {
                let cell: String = row
                    .iter()
                    .skip(start)
                    .take(next.map_or(usize::MAX, |n| n - start))
                    .collect();
                tokens(cell.trim_end())
            })
            .collect();
        let width = cells.iter().map(|c| c.chars().count()).max().unwrap_or(0);
        for (row, cell) in rows.iter().zip(&cells) {
            let head: String = row.iter().take(start).collect();
            let line = match next {
                Some(n) => {
                    let tail: String = row.iter().skip(n).collect();
                    format!("{head}{cell:<width$}  {tail}")
                }
                None => format!("{head}{cell}"),
            };
            out.push(line);
        }
        i = end;
    }
    out.join("\n")
}

/// Where the header cell `name` starts in `line` (in characters), and where the next column
/// starts (None for the last column), if `line` has it as a cell.
fn header_cell(line: &str, name: &str) -> Option<(usize, Option<usize>)> {
    let chars: Vec<char> = line.chars().collect();
    let name: Vec<char> = name.chars().collect();
    (0..chars.len()).find_map(|start| {
        let end = start + name.len();
        let here = chars.get(start..end)? == name.as_slice();
        let before = start == 0 || chars[..start].ends_with(&[' ', ' ']);
        let after = end == chars.len() || chars[end..].starts_with(&[' ', ' ']);
        if !(here && before && after) {
            return None;
        }
        let next = (end..chars.len()).find(|&k| chars[k] != ' ');
        Some((start, next))
    })
}

fn without_final_newline(text: &str) -> &str {
    text.strip_suffix('\n').unwrap_or(text)
}

/// A line diff of two texts (longest common subsequence): `  ` common, `- ` expected only,
/// `+ ` actual only. Trailing spaces are shown as `·` and a missing final newline is said.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = without_final_newline(expected).split('\n').collect();
    let b: Vec<&str> = without_final_newline(actual).split('\n').collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let show = |l: &str| {
        let trimmed = l.trim_end_matches(' ');
        format!("{trimmed}{}", "·".repeat(l.len() - trimmed.len()))
    };
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "  {}", show(a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", show(a[i]));
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", show(b[j]));
            j += 1;
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("(the texts differ in their final newline)\n");
    }
    out
}

#[test]
fn exact_normaliser_rules() {
    assert_eq!(
        tokens(
            "at 2026-12-02T09:06:21.129236Z and 2026-12-02T09:06:21Z, 2026-12-02T09:06:21+00:00"
        ),
        "at [timestamp] and [timestamp], [timestamp]"
    );
    assert_eq!(
        tokens("09:06:21 queues CREATE\nnot 09:06:21 mid-line\n"),
        "HH:MM:SS queues CREATE\nnot 09:06:21 mid-line\n"
    );
    assert_eq!(
        tokens("took 0.0s, 12.3s; not v1.2s nor 1.25s nor 1.2sec"),
        "took [duration], [duration]; not v1.2s nor 1.25s nor 1.2sec"
    );
    let table = "A  LONG COLUMN   Z\nx  1.0s          z\ny  -             zz\n\nafter\n";
    assert_eq!(
        repad_column(table, "LONG COLUMN"),
        "A  LONG COLUMN  Z\nx  [duration]   z\ny  -            zz\n\nafter\n"
    );
    assert_eq!(unindent("\n    a\n      b\n\n    c\n    "), "a\n  b\n\nc\n");
    assert_eq!(unindent("one\n"), "one\n");
    assert_eq!(diff("a\nb\n", "a\nc \n"), "  a\n- b\n+ c·\n");
    assert_eq!(
        diff("a\n", "a"),
        "  a\n(the texts differ in their final newline)\n"
    );
}
