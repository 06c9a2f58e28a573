//! Locating JSON pointers in source text: turns an RFC 6901 pointer produced by a check (lint,
//! policy validation) into the 1-based line and column of the value it designates in the text the
//! user wrote, so that a diagnostic can show the offending line with a caret.
//!
//! This module scans the text itself with a small hand-rolled scanner; it is not a parser. It does
//! not validate the text (text after the target may even be invalid), does not build values, and
//! does not report errors: a pointer it cannot follow gives `None`, and the caller falls back to a
//! diagnostic without a position. The YAML walker is best effort for block style (with flow
//! collections as values); it does not understand anchors, aliases, merge keys or multi-line
//! plain scalars.
//!
//! Here: the entry points and RFC 6901 pointer parsing. The scanners are in `json`, `yaml`
//! (block style) and `flow` (YAML flow collections); the simpler key locator for the
//! project's own config files is [`config`].

pub mod config;
mod flow;
mod json;
mod yaml;

use crate::diag::line_col;
use json::JsonScanner;
use yaml::YamlDoc;

/// 1-based (line, column) of the value that `pointer` designates in JSON `text` (which may also be
/// slightly invalid after the target); None if not found. Scans the text itself: keys are matched
/// after unescaping, arrays by index. The position is that of the value's first character; for the
/// root pointer "" it is the first non-whitespace character.
pub fn json_pointer_position(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let segments = parse_pointer(pointer)?;
    let found = JsonScanner::new(text).find(&segments)?;
    Some(line_col(text, found.value))
}

/// Best effort for YAML block style: walks `key:` lines by indentation and `- ` sequence items;
/// returns the position of the value (or of the key, if the value is on following lines).
pub fn yaml_pointer_position(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let segments = parse_pointer(pointer)?;
    let offset = YamlDoc::new(text).find(&segments)?;
    Some(line_col(text, offset))
}

/// Position of the key (not the value) that a pointer's last segment names in a JSON object; used
/// to point at an unknown key. None for array indices or when not found.
pub fn json_key_position(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let segments = parse_pointer(pointer)?;
    let found = JsonScanner::new(text).find(&segments)?;
    Some(line_col(text, found.key?))
}

/// Position of the key that a pointer's last segment names in YAML `text` (block or flow
/// style): the value's position when the value starts a block (the walker reports the key
/// then), else the key written before the value on its line, plain or quoted. None for array
/// indices or when not found.
pub fn yaml_key_position(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let segments = parse_pointer(pointer)?;
    let key = segments.last()?;
    let offset = YamlDoc::new(text).find(&segments)?;
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..offset];
    let candidates = [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ];
    if before.trim().is_empty() || before.trim() == "-" {
        // The walker reported the key itself (the value is a block below it).
        let at = &text[offset..];
        return candidates
            .iter()
            .any(|c| at.starts_with(c.as_str()))
            .then(|| line_col(text, offset));
    }
    // The last `key:` (or `"key":`, `'key':`) before the value on its line.
    let found = candidates
        .iter()
        .flat_map(|c| before.match_indices(c.as_str()).map(|(i, _)| i))
        .filter(|&i| {
            // The key starts a token: nothing but space, `-`, `{` or `,` before it.
            before[..i]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || matches!(c, '-' | '{' | ','))
        })
        .max()?;
    Some(line_col(text, line_start + found))
}

/// Splits an RFC 6901 pointer into unescaped segments. `""` is the root (no segments); anything
/// else must start with `/`. `~0` is `~`, `~1` is `/`; any other `~` makes the pointer invalid.
fn parse_pointer(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').map(unescape_segment).collect()
}

fn unescape_segment(segment: &str) -> Option<String> {
    let mut out = String::with_capacity(segment.len());
    let mut chars = segment.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// An array index segment: digits without leading zeros (RFC 6901).
pub(super) fn parse_index(segment: &str) -> Option<usize> {
    if segment.is_empty()
        || !segment.bytes().all(|b| b.is_ascii_digit())
        || (segment.len() > 1 && segment.starts_with('0'))
    {
        return None;
    }
    segment.parse().ok()
}

#[cfg(test)]
mod tests;
