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

use crate::diag::line_col;

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
fn parse_index(segment: &str) -> Option<usize> {
    if segment.is_empty()
        || !segment.bytes().all(|b| b.is_ascii_digit())
        || (segment.len() > 1 && segment.starts_with('0'))
    {
        return None;
    }
    segment.parse().ok()
}

/// Byte offsets of what a pointer designates: the value, and the key when the last segment names
/// an object member.
#[derive(Debug, Clone, Copy)]
struct Found {
    value: usize,
    key: Option<usize>,
}

/// A forgiving JSON scanner over bytes. Structural characters are ASCII, so byte offsets always
/// fall on character boundaries when they point at one.
struct JsonScanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> JsonScanner<'a> {
    fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        // A byte-order mark is not part of the document.
        let pos = if bytes.starts_with("\u{feff}".as_bytes()) {
            3
        } else {
            0
        };
        JsonScanner { bytes, pos }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn find(&mut self, segments: &[String]) -> Option<Found> {
        self.skip_ws();
        self.peek()?;
        let mut found = Found {
            value: self.pos,
            key: None,
        };
        for segment in segments {
            self.pos = found.value;
            found = match self.peek()? {
                b'{' => self.find_member(segment)?,
                b'[' => Found {
                    value: self.find_element(parse_index(segment)?)?,
                    key: None,
                },
                _ => return None,
            };
        }
        Some(found)
    }

    /// With `pos` at `{`, finds the member named `wanted`. Like serde_json, a repeated key means
    /// its last occurrence; if the text turns invalid after a match, that match stands.
    fn find_member(&mut self, wanted: &str) -> Option<Found> {
        self.pos += 1;
        let mut found = None;
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return found;
            }
            let key_start = self.pos;
            let Some(key) = self.read_string() else {
                return found;
            };
            self.skip_ws();
            if self.peek() != Some(b':') {
                return found;
            }
            self.pos += 1;
            self.skip_ws();
            if self.peek().is_none() {
                return found;
            }
            if key == wanted {
                found = Some(Found {
                    value: self.pos,
                    key: Some(key_start),
                });
            }
            if !self.skip_value() {
                return found;
            }
            self.skip_ws();
            if self.peek() != Some(b',') {
                return found;
            }
            self.pos += 1;
        }
    }

    /// With `pos` at `[`, finds the start of element `index`.
    fn find_element(&mut self, index: usize) -> Option<usize> {
        self.pos += 1;
        let mut i = 0;
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(b']') => return None,
                Some(_) if i == index => return Some(self.pos),
                Some(_) => {}
            }
            if !self.skip_value() {
                return None;
            }
            self.skip_ws();
            if self.peek() != Some(b',') {
                return None;
            }
            self.pos += 1;
            i += 1;
        }
    }

    /// Reads a string starting at `"` and returns it unescaped; `None` if it is unterminated.
    fn read_string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = self.peek()?;
            self.pos += 1;
            match b {
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    let e = self.peek()?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'u' => {
                            let c = self.read_unicode_escape();
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        // `\"`, `\\`, `\/` and, leniently, anything else stand for themselves.
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
    }

    /// After `\u`: reads four hex digits, and a low surrogate escape when the first is a high
    /// surrogate. Invalid escapes give U+FFFD.
    fn read_unicode_escape(&mut self) -> char {
        let Some(first) = self.read_hex4() else {
            return char::REPLACEMENT_CHARACTER;
        };
        if (0xD800..0xDC00).contains(&first) {
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            if rest.starts_with(b"\\u") {
                let save = self.pos;
                self.pos += 2;
                if let Some(second) = self.read_hex4() {
                    if (0xDC00..0xE000).contains(&second) {
                        let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        return char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
                    }
                }
                self.pos = save;
            }
            return char::REPLACEMENT_CHARACTER;
        }
        char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    fn read_hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4)?;
        let mut v = 0u32;
        for &d in digits {
            v = v * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(v)
    }

    /// Skips one value (string, container or scalar). Containers are skipped by counting brackets
    /// outside strings, without recursion. Returns false at the end of the text.
    fn skip_value(&mut self) -> bool {
        match self.peek() {
            None => false,
            Some(b'"') => self.read_string().is_some(),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(b) = self.peek() {
                    match b {
                        b'"' => {
                            if self.read_string().is_none() {
                                return false;
                            }
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return true;
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
                false
            }
            Some(_) => {
                let start = self.pos;
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                self.pos > start
            }
        }
    }
}

/// The long-form key that a CloudFormation short-form tag stands for: `!Ref` is `Ref`,
/// `!Condition` is `Condition`, `!Sub` is `Fn::Sub`. `!!str` and friends are not intrinsics.
fn tag_long_form(tag: &str) -> Option<String> {
    let name = tag.strip_prefix('!')?;
    if name.is_empty() || name.starts_with('!') {
        return None;
    }
    Some(match name {
        "Ref" | "Condition" => name.to_owned(),
        _ => format!("Fn::{name}"),
    })
}

/// One line of a YAML document, by byte offsets into the text.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    /// End of the content, before `\r\n` or `\n`.
    end: usize,
    /// Leading spaces.
    indent: usize,
    /// Empty, only whitespace, or only a comment.
    blank: bool,
}

/// A block node: lines `first..end`, whose content on line `first` begins at byte `first_off`
/// (after `- ` for the mapping inside a sequence item, say).
#[derive(Debug, Clone, Copy)]
struct Block {
    first: usize,
    first_off: usize,
    end: usize,
}

/// Where one step of the walk landed.
#[derive(Debug, Clone, Copy)]
enum Node {
    /// A block on its own lines; `at` is the position to report for it (a key or a dash).
    Block { block: Block, at: usize },
    /// A value beginning at `off` on line `line`, which belongs to a key or dash at column
    /// `owner_col`; following lines indented past that column continue it, up to line `end`.
    Inline {
        off: usize,
        line: usize,
        owner_col: usize,
        end: usize,
    },
}

struct YamlDoc<'a> {
    text: &'a str,
    lines: Vec<Line>,
}

impl<'a> YamlDoc<'a> {
    fn new(text: &'a str) -> Self {
        let mut lines = Vec::new();
        let mut start = 0;
        for raw in text.split_inclusive('\n') {
            let content = raw.strip_suffix('\n').unwrap_or(raw);
            let content = content.strip_suffix('\r').unwrap_or(content);
            let indent = content.bytes().take_while(|&b| b == b' ').count();
            let rest = content[indent..].trim_start();
            let directive = start == 0 && rest.starts_with('%');
            let marker = (rest.starts_with("---") || rest.starts_with("...")) && indent == 0 && {
                let after = rest[3..].trim_start();
                after.is_empty() || after.starts_with('#')
            };
            lines.push(Line {
                start,
                end: start + content.len(),
                indent,
                blank: rest.is_empty() || rest.starts_with('#') || directive || marker,
            });
            start += raw.len();
        }
        YamlDoc { text, lines }
    }

    fn line_text(&self, i: usize) -> &'a str {
        self.lines
            .get(i)
            .and_then(|l| self.text.get(l.start..l.end))
            .unwrap_or("")
    }

    /// The column (in characters) of byte `off` within line `i`.
    fn col_of(&self, i: usize, off: usize) -> usize {
        let Some(line) = self.lines.get(i) else {
            return 0;
        };
        self.text
            .get(line.start..off.max(line.start))
            .map_or(0, |s| s.chars().count())
    }

    /// The first line of `block` with content, and the byte offset where that content starts.
    fn first_content(&self, block: Block) -> Option<(usize, usize)> {
        for i in block.first..block.end.min(self.lines.len()) {
            let line = self.lines[i];
            let line_content = line.start + line.indent;
            if i == block.first && block.first_off > line_content {
                // Content after a dash or a tag on the block's first line.
                let off = self.skip_spaces(block.first_off);
                if !self.rest_is_blank(off) {
                    return Some((i, off));
                }
            } else if !line.blank {
                return Some((i, line_content));
            }
        }
        None
    }

    /// The line index that holds byte offset `off`.
    fn line_of(&self, off: usize) -> usize {
        self.lines
            .partition_point(|l| l.start <= off)
            .saturating_sub(1)
    }

    /// Whether the rest of the line from `off` is whitespace or a comment.
    fn rest_is_blank(&self, off: usize) -> bool {
        let i = self.line_of(off);
        let end = self.lines.get(i).map_or(off, |l| l.end);
        let rest = self.text.get(off..end.max(off)).unwrap_or("").trim_start();
        rest.is_empty() || rest.starts_with('#')
    }

    /// Byte offset of the first non-space character at or after `off` on its line.
    fn skip_spaces(&self, off: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut p = off;
        while p < bytes.len() && matches!(bytes[p], b' ' | b'\t') {
            p += 1;
        }
        p
    }

    /// The end of the block that continues after line `line` for an owner at column `col`: the
    /// first following non-blank line indented at most `col` (or, with `compact_seq`, a line at
    /// exactly `col` that is not a `- ` item, since a mapping value may be a sequence at the key's
    /// own indentation).
    fn block_end(&self, line: usize, col: usize, end: usize, compact_seq: bool) -> usize {
        let end = end.min(self.lines.len());
        ((line + 1)..end)
            .find(|&i| {
                let l = self.lines[i];
                if l.blank || l.indent > col {
                    return false;
                }
                !(compact_seq && l.indent == col && is_dash(self.line_text(i).get(l.indent..)))
            })
            .unwrap_or(end)
    }

    fn find(&self, segments: &[String]) -> Option<usize> {
        let root = Block {
            first: 0,
            first_off: 0,
            end: self.lines.len(),
        };
        let (first_line, first_off) = self.first_content(root)?;
        let content = self
            .text
            .get(first_off..self.lines[first_line].end)
            .unwrap_or("");
        let mut node = if is_dash(Some(content)) || parse_key(content).is_some() {
            Node::Block {
                block: Block {
                    first: first_line,
                    first_off,
                    end: self.lines.len(),
                },
                at: first_off,
            }
        } else {
            Node::Inline {
                off: first_off,
                line: first_line,
                owner_col: 0,
                end: self.lines.len(),
            }
        };
        let mut i = 0;
        while i < segments.len() {
            let segment = &segments[i];
            node = match node {
                Node::Block { block, .. } => self.step_block(block, segment)?,
                Node::Inline {
                    off,
                    line,
                    owner_col,
                    end,
                } => {
                    let bytes = self.text.as_bytes();
                    match bytes.get(off) {
                        Some(b'{' | b'[') => return flow_find(self.text, off, &segments[i..]),
                        Some(b'!') => {
                            // A short-form intrinsic stands for a one-key mapping.
                            let tag_end = token_end(self.text, off);
                            let tag = self.text.get(off..tag_end).unwrap_or("");
                            if tag_long_form(tag).as_deref() != Some(segment.as_str()) {
                                return None;
                            }
                            let next = self.skip_spaces(tag_end);
                            if self.rest_is_blank(next) {
                                let end = self.block_end(line, owner_col, end, false);
                                Node::Block {
                                    block: Block {
                                        first: line + 1,
                                        first_off: self.lines.get(line + 1).map_or(0, |l| l.start),
                                        end,
                                    },
                                    at: off,
                                }
                            } else {
                                Node::Inline {
                                    off: next,
                                    line,
                                    owner_col,
                                    end,
                                }
                            }
                        }
                        _ => return None,
                    }
                }
            };
            i += 1;
        }
        Some(match node {
            Node::Block { at, .. } => at,
            Node::Inline { off, .. } => off,
        })
    }

    fn step_block(&self, block: Block, segment: &str) -> Option<Node> {
        let (first, off) = self.first_content(block)?;
        let c0 = self.col_of(first, off);
        let first_text = self.text.get(off..self.lines[first].end).unwrap_or("");
        if first_text.starts_with('{') || first_text.starts_with('[') {
            // A flow collection on its own line(s).
            let target = flow_find(self.text, off, &[segment.to_owned()])?;
            let line = self.line_of(target);
            return Some(Node::Inline {
                off: target,
                line,
                owner_col: c0,
                end: block.end,
            });
        }
        let sequence = is_dash(Some(first_text));
        let mut index = 0usize;
        let wanted_index = if sequence {
            Some(parse_index(segment)?)
        } else {
            None
        };
        for i in first..block.end.min(self.lines.len()) {
            let (content_off, col) = if i == first {
                (off, c0)
            } else {
                let l = self.lines[i];
                if l.blank {
                    continue;
                }
                (l.start + l.indent, l.indent)
            };
            if col < c0 {
                break;
            }
            if col > c0 {
                continue;
            }
            let content = self.text.get(content_off..self.lines[i].end).unwrap_or("");
            let dash = is_dash(Some(content));
            if let Some(wanted) = wanted_index {
                if !dash {
                    // The sequence ended.
                    return None;
                }
                if index == wanted {
                    return Some(self.enter_item(i, content_off, c0, block.end));
                }
                index += 1;
            } else {
                if dash {
                    // A compact sequence under the previous key.
                    continue;
                }
                let Some((key, after)) = parse_key(content) else {
                    continue;
                };
                if key == segment {
                    return Some(self.enter_value(i, content_off, content_off + after, c0, block));
                }
            }
        }
        None
    }

    /// The value of the key at `key_off` on line `line` (content column `c0`); `value_off` is just
    /// after the colon.
    fn enter_value(
        &self,
        line: usize,
        key_off: usize,
        value_off: usize,
        c0: usize,
        block: Block,
    ) -> Node {
        let v = self.skip_anchor(self.skip_spaces(value_off));
        if self.rest_is_blank(v) {
            let end = self.block_end(line, c0, block.end, true);
            Node::Block {
                block: Block {
                    first: line + 1,
                    first_off: self.lines.get(line + 1).map_or(0, |l| l.start),
                    end,
                },
                at: key_off,
            }
        } else {
            Node::Inline {
                off: v,
                line,
                owner_col: c0,
                end: block.end,
            }
        }
    }

    /// The sequence item whose dash is at `dash_off` on line `line` (column `c0`).
    fn enter_item(&self, line: usize, dash_off: usize, c0: usize, end: usize) -> Node {
        let v = self.skip_anchor(self.skip_spaces(dash_off + 1));
        let item_end = self.block_end(line, c0, end, false);
        if self.rest_is_blank(v) {
            Node::Block {
                block: Block {
                    first: line + 1,
                    first_off: self.lines.get(line + 1).map_or(0, |l| l.start),
                    end: item_end,
                },
                at: dash_off,
            }
        } else {
            let content = self.text.get(v..self.lines[line].end).unwrap_or("");
            if is_dash(Some(content)) || parse_key(content).is_some() {
                Node::Block {
                    block: Block {
                        first: line,
                        first_off: v,
                        end: item_end,
                    },
                    at: v,
                }
            } else {
                Node::Inline {
                    off: v,
                    line,
                    owner_col: c0,
                    end: item_end,
                }
            }
        }
    }

    /// Skips an anchor (`&name `) in front of a value.
    fn skip_anchor(&self, off: usize) -> usize {
        if self.text.as_bytes().get(off) == Some(&b'&') {
            self.skip_spaces(token_end(self.text, off))
        } else {
            off
        }
    }
}

/// Whether `content` starts a block sequence item: `-` followed by a space, a tab or nothing.
fn is_dash(content: Option<&str>) -> bool {
    match content {
        Some(c) => c == "-" || c.starts_with("- ") || c.starts_with("-\t"),
        None => false,
    }
}

/// The byte offset just past the token (non-whitespace run) starting at `off`.
fn token_end(text: &str, off: usize) -> usize {
    let bytes = text.as_bytes();
    let mut p = off;
    while p < bytes.len() && !matches!(bytes[p], b' ' | b'\t' | b'\n' | b'\r') {
        p += 1;
    }
    p
}

/// Parses a block mapping key at the start of `content`: a plain key up to `: ` (or `:` at the
/// end), or a single- or double-quoted key. Returns the key and the byte length up to and
/// including the colon.
fn parse_key(content: &str) -> Option<(String, usize)> {
    let bytes = content.as_bytes();
    let (key, after_key) = match bytes.first()? {
        b'"' => {
            let (key, len) = read_double_quoted(content)?;
            (key, len)
        }
        b'\'' => {
            let (key, len) = read_single_quoted(content)?;
            (key, len)
        }
        b'{' | b'[' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' => return None,
        b'-' | b'?' if is_dash(Some(content)) || content.starts_with("? ") || content == "?" => {
            return None
        }
        _ => {
            let mut i = 0;
            loop {
                let rel = content.get(i..)?.find(':')?;
                let colon = i + rel;
                let next = bytes.get(colon + 1);
                if matches!(next, None | Some(b' ' | b'\t')) {
                    let key = &content[..colon];
                    if key.contains(" #") {
                        return None;
                    }
                    return Some((key.trim_end().to_owned(), colon + 1));
                }
                i = colon + 1;
            }
        }
    };
    let mut p = after_key;
    while matches!(bytes.get(p), Some(b' ' | b'\t')) {
        p += 1;
    }
    if bytes.get(p) != Some(&b':') || !matches!(bytes.get(p + 1), None | Some(b' ' | b'\t')) {
        return None;
    }
    Some((key, p + 1))
}

/// A double-quoted YAML scalar at the start of `s` (JSON-like escapes); the value and the byte
/// length including both quotes.
fn read_double_quoted(s: &str) -> Option<(String, usize)> {
    let mut scanner = JsonScanner {
        bytes: s.as_bytes(),
        pos: 0,
    };
    let value = scanner.read_string()?;
    Some((value, scanner.pos))
}

/// A single-quoted YAML scalar at the start of `s` (`''` is a quote); the value and the byte
/// length including both quotes.
fn read_single_quoted(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|&(_, c)| c) == Some('\'') {
                out.push('\'');
                chars.next();
            } else {
                return Some((out, i + 1));
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// Follows `segments` through YAML flow collections (`{a: 1, "b": [x, y]}`) starting at byte
/// `off` of `text`; returns the byte offset of the target value.
fn flow_find(text: &str, off: usize, segments: &[String]) -> Option<usize> {
    let mut f = FlowScanner {
        text,
        bytes: text.as_bytes(),
        pos: off,
    };
    for segment in segments {
        match f.peek()? {
            b'{' => f.find_member(segment)?,
            b'[' => f.find_element(parse_index(segment)?)?,
            b'!' => {
                let tag_end = token_end(text, f.pos);
                let tag = text.get(f.pos..tag_end)?;
                if tag_long_form(tag).as_deref() != Some(segment.as_str()) {
                    return None;
                }
                f.pos = tag_end;
                f.skip_ws();
            }
            _ => return None,
        }
    }
    Some(f.pos)
}

struct FlowScanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl FlowScanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace, line breaks and comments.
    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// With `pos` at `{`, moves to the value of member `wanted`.
    fn find_member(&mut self, wanted: &str) -> Option<()> {
        self.pos += 1;
        loop {
            self.skip_ws();
            let key = match self.peek()? {
                b'}' => return None,
                b'"' => self.quoted(read_double_quoted)?,
                b'\'' => self.quoted(read_single_quoted)?,
                _ => self.plain_key(),
            };
            self.skip_ws();
            if self.peek() == Some(b':') {
                self.pos += 1;
                self.skip_ws();
            }
            if key == wanted {
                return Some(());
            }
            self.skip_value()?;
            self.skip_ws();
            if self.peek()? != b',' {
                return None;
            }
            self.pos += 1;
        }
    }

    /// With `pos` at `[`, moves to element `index`.
    fn find_element(&mut self, index: usize) -> Option<()> {
        self.pos += 1;
        let mut i = 0;
        loop {
            self.skip_ws();
            if self.peek()? == b']' {
                return None;
            }
            if i == index {
                return Some(());
            }
            self.skip_value()?;
            self.skip_ws();
            if self.peek()? != b',' {
                return None;
            }
            self.pos += 1;
            i += 1;
        }
    }

    fn quoted(&mut self, read: fn(&str) -> Option<(String, usize)>) -> Option<String> {
        let (value, len) = read(self.text.get(self.pos..)?)?;
        self.pos += len;
        Some(value)
    }

    /// A plain key: up to `:` followed by a space, a line break or a flow indicator, or up to
    /// `,` / `}`.
    fn plain_key(&mut self) -> String {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(b, b',' | b'}' | b']' | b'\n' | b'\r') {
                break;
            }
            if b == b':'
                && matches!(
                    self.bytes.get(self.pos + 1),
                    None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b'}' | b']')
                )
            {
                break;
            }
            self.pos += 1;
        }
        self.text
            .get(start..self.pos)
            .unwrap_or("")
            .trim_end()
            .to_owned()
    }

    /// Skips one flow value, with a leading tag or anchor.
    fn skip_value(&mut self) -> Option<()> {
        while matches!(self.peek(), Some(b'!' | b'&')) {
            self.pos = token_end(self.text, self.pos);
            self.skip_ws();
        }
        match self.peek()? {
            b'"' => {
                self.quoted(read_double_quoted)?;
            }
            b'\'' => {
                self.quoted(read_single_quoted)?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    // A quote starts a quoted scalar only at the start of a token: `it's` is
                    // plain.
                    let token_start = self.pos == 0
                        || matches!(
                            self.bytes[self.pos - 1],
                            b'[' | b'{' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r'
                        );
                    match self.peek()? {
                        b'"' if token_start => {
                            self.quoted(read_double_quoted)?;
                            continue;
                        }
                        b'\'' if token_start => {
                            self.quoted(read_single_quoted)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']') {
                        break;
                    }
                    self.pos += 1;
                }
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "dépôt — ünïcode",
  "Resources": {
    "Repo": {
      "Type": "AWS::ECR::Repository",
      "Properties": {
        "Tags": [ {"Key": "a", "Value": {"Ref": "Env"}}, {"Key": "b", "Value": [1, [2, 3]]} ]
      }
    }
  },
  "a/b": {"m~n": 1, "\u00e9t\u00e9": 2, "q\"x": 3},
  "empty": {},
  "list": []
}"#;

    #[test]
    fn json_root_is_first_non_whitespace() {
        assert_eq!(json_pointer_position("  \n\t [1]", ""), Some((2, 3)));
        assert_eq!(json_pointer_position(JSON, ""), Some((1, 1)));
        assert_eq!(json_pointer_position("   ", ""), None);
        assert_eq!(json_pointer_position("", ""), None);
    }

    #[test]
    fn json_top_level_and_nested_members() {
        assert_eq!(
            json_pointer_position(JSON, "/AWSTemplateFormatVersion"),
            Some((2, 31))
        );
        assert_eq!(json_pointer_position(JSON, "/Resources"), Some((4, 16)));
        assert_eq!(
            json_pointer_position(JSON, "/Resources/Repo/Type"),
            Some((6, 15))
        );
    }

    #[test]
    fn json_columns_count_characters_after_multibyte_text() {
        let text = "{\"é\": \"ü\", \"k\": 1}";
        // `{"é": "ü", "k": 1}`: the value 1 is the 17th character (byte 19).
        assert_eq!(json_pointer_position(text, "/k"), Some((1, 17)));
        assert_eq!(json_pointer_position(text, "/é"), Some((1, 7)));
    }

    #[test]
    fn json_arrays_by_index_and_nested_arrays() {
        assert_eq!(
            json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/0/Value/Ref"),
            Some((8, 49))
        );
        assert_eq!(
            json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/1/Value/1/1"),
            Some((8, 88))
        );
        assert_eq!(
            json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/2"),
            None
        );
        assert_eq!(
            json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/01"),
            None
        );
        assert_eq!(
            json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/x"),
            None
        );
        assert_eq!(json_pointer_position(JSON, "/list/0"), None);
        assert_eq!(json_pointer_position(JSON, "/empty/x"), None);
    }

    #[test]
    fn json_escaped_pointer_segments_and_escaped_keys() {
        assert_eq!(json_pointer_position(JSON, "/a~1b"), Some((12, 10)));
        assert_eq!(json_pointer_position(JSON, "/a~1b/m~0n"), Some((12, 18)));
        // Keys written with \u escapes match their unescaped form.
        assert_eq!(json_pointer_position(JSON, "/a~1b/été"), Some((12, 38)));
        assert_eq!(json_pointer_position(JSON, "/a~1b/q\"x"), Some((12, 49)));
        // Invalid pointers.
        assert_eq!(json_pointer_position(JSON, "a~1b"), None);
        assert_eq!(json_pointer_position(JSON, "/a~2b"), None);
        assert_eq!(json_pointer_position(JSON, "/a/b"), None);
    }

    #[test]
    fn json_surrogate_pairs_in_keys() {
        let text = r#"{"\ud83d\ude00": 1, "\ud83d": 2}"#;
        assert_eq!(json_pointer_position(text, "/😀"), Some((1, 18)));
        assert_eq!(json_pointer_position(text, "/\u{fffd}"), Some((1, 31)));
    }

    #[test]
    fn json_scalar_cannot_be_descended() {
        assert_eq!(json_pointer_position(JSON, "/Description/0"), None);
        assert_eq!(json_pointer_position("3", "/0"), None);
    }

    #[test]
    fn json_skips_strings_containing_brackets_and_quotes() {
        let text = r#"{"a": "}]\"{[", "b": {"c": "}"}, "d": true}"#;
        assert_eq!(json_pointer_position(text, "/d"), Some((1, 39)));
        assert_eq!(json_pointer_position(text, "/b/c"), Some((1, 28)));
    }

    #[test]
    fn json_tolerates_invalid_text_after_the_target() {
        let text = "{\"a\": {\"b\": 1, \"c\": [1, 2 }} garbage {{{";
        assert_eq!(json_pointer_position(text, "/a/b"), Some((1, 13)));
        assert_eq!(json_pointer_position(text, "/a/c/1"), Some((1, 25)));
        assert_eq!(
            json_pointer_position("{\"a\": 1, \"b\"", "/a"),
            Some((1, 7))
        );
        assert_eq!(json_pointer_position("{\"a\": 1, \"b\"", "/b"), None);
        assert_eq!(json_pointer_position("{\"a\": \"unterminated", "/b"), None);
    }

    #[test]
    fn json_repeated_key_means_the_last_one() {
        let text = "{\"a\": 1,\n \"a\": 2}";
        assert_eq!(json_pointer_position(text, "/a"), Some((2, 7)));
    }

    #[test]
    fn json_crlf_and_bom() {
        let text = "\u{feff}{\r\n  \"a\": [\r\n    true\r\n  ]\r\n}";
        assert_eq!(json_pointer_position(text, "/a/0"), Some((3, 5)));
    }

    #[test]
    fn json_key_position_points_at_the_key() {
        assert_eq!(
            json_key_position(JSON, "/Resources/Repo/Type"),
            Some((6, 7))
        );
        assert_eq!(json_key_position(JSON, "/a~1b/m~0n"), Some((12, 11)));
        assert_eq!(
            json_key_position(JSON, "/Resources/Repo/Properties/Tags/0"),
            None
        );
        assert_eq!(json_key_position(JSON, ""), None);
        assert_eq!(json_key_position(JSON, "/Nope"), None);
        let text = "{\"ключ\": {\"é\": 1}}";
        assert_eq!(json_key_position(text, "/ключ/é"), Some((1, 11)));
    }

    #[test]
    fn json_deep_nesting_does_not_overflow() {
        let deep = format!(
            "{{\"a\": {}1{}, \"b\": 2}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(json_pointer_position(&deep, "/b"), Some((1, 200_015)));
        let unbalanced = format!("{{\"a\": {}", "[".repeat(10_000));
        assert_eq!(json_pointer_position(&unbalanced, "/b"), None);
    }

    #[test]
    fn never_panics_on_odd_input() {
        let inputs = [
            "",
            "{",
            "[",
            "\"",
            "{\"",
            "{\"a\"",
            "{\"a\":",
            "[1,",
            "\\",
            "{\"\\u12",
            "{\"\\ud800\\u",
            "é",
            "{\"é",
            "-",
            "- ",
            "a:",
            ":",
            "- - -",
            "{a: [",
            "a: {b: 'x",
            "a: !Ref",
            "\u{feff}",
        ];
        let pointers = ["", "/", "/a", "/0", "/a/0/b", "/~", "/a~1"];
        for text in inputs {
            for pointer in pointers {
                let _ = json_pointer_position(text, pointer);
                let _ = json_key_position(text, pointer);
                let _ = yaml_pointer_position(text, pointer);
            }
        }
    }

    /// A small deterministic generator (xorshift), to throw odd text at the scanners.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            let n = u64::try_from(items.len()).unwrap_or(1);
            let i = usize::try_from(self.next() % n).unwrap_or(0);
            items[i]
        }
    }

    #[test]
    fn random_text_never_panics() {
        let pieces = [
            "{", "}", "[", "]", "\"", "'", ":", ": ", ",", "-", "- ", "\n", "\r\n", "  ", "\t",
            "#", "\\", "\\u", "\\ud83d", "d83d", "a", "key", "é", "日本", "😀", "!Ref ", "&a ",
            "|", "~", "/", "0", "1", "---", "\u{feff}",
        ];
        let pointers = [
            "", "/a", "/key", "/0", "/1/a", "/key/0/a", "/a/Ref", "/é/0", "/~0/~1",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3000 {
            let len = usize::try_from(rng.next() % 40).unwrap_or(0);
            let text: String = (0..len).map(|_| rng.pick(&pieces)).collect();
            for pointer in pointers {
                for found in [
                    json_pointer_position(&text, pointer),
                    json_key_position(&text, pointer),
                    yaml_pointer_position(&text, pointer),
                ]
                .into_iter()
                .flatten()
                {
                    let (line, col) = found;
                    assert!(line >= 1 && col >= 1, "{text:?} {pointer}");
                    assert!(line <= text.lines().count().max(1), "{text:?} {pointer}");
                }
            }
        }
    }

    const YAML: &str = "\
# a comment
AWSTemplateFormatVersion: '2010-09-09'
Description: dépôt — ünïcode
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod, {nested: 'x'}]
Resources:
  Repo:
    Type: AWS::ECR::Repository   # trailing comment
    Properties:
      RepositoryName: !Sub '${Env}-repo'
      Tags:
        - Key: a
          Value: !Ref Env
        - Key: b
          Value:
            - 1
            -   2
      LifecyclePolicy: {LifecyclePolicyText: \"x\", RegistryId: !Ref AWS::AccountId}
  \"a/b\":
    'it''s': 1
Outputs:
  List:
  - one
  - two
  Cond:
    Value: !If
      - IsProd
      - yes
      - no
";

    #[test]
    fn yaml_root_and_top_level_keys() {
        assert_eq!(yaml_pointer_position(YAML, ""), Some((2, 1)));
        assert_eq!(
            yaml_pointer_position(YAML, "/AWSTemplateFormatVersion"),
            Some((2, 27))
        );
        assert_eq!(yaml_pointer_position(YAML, "/Description"), Some((3, 14)));
        // A value on following lines: the position of the key.
        assert_eq!(yaml_pointer_position(YAML, "/Resources"), Some((8, 1)));
        assert_eq!(yaml_pointer_position(YAML, "/Nope"), None);
    }

    #[test]
    fn yaml_nested_mappings() {
        assert_eq!(
            yaml_pointer_position(YAML, "/Resources/Repo/Type"),
            Some((10, 11))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Resources/Repo/Properties"),
            Some((11, 5))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Parameters/Env/Type"),
            Some((6, 11))
        );
        assert_eq!(yaml_pointer_position(YAML, "/Resources/Repo/Nope"), None);
        // `Type` of Env is not a key of Resources/Repo's parent.
        assert_eq!(yaml_pointer_position(YAML, "/Resources/Type"), None);
    }

    #[test]
    fn yaml_sequences_of_mappings() {
        let tags = "/Resources/Repo/Properties/Tags";
        assert_eq!(yaml_pointer_position(YAML, tags), Some((13, 7)));
        assert_eq!(
            yaml_pointer_position(YAML, &format!("{tags}/0")),
            Some((14, 11))
        );
        assert_eq!(
            yaml_pointer_position(YAML, &format!("{tags}/0/Key")),
            Some((14, 16))
        );
        assert_eq!(
            yaml_pointer_position(YAML, &format!("{tags}/0/Value")),
            Some((15, 18))
        );
        assert_eq!(
            yaml_pointer_position(YAML, &format!("{tags}/1/Key")),
            Some((16, 16))
        );
        assert_eq!(
            yaml_pointer_position(YAML, &format!("{tags}/1/Value/1")),
            Some((19, 17))
        );
        assert_eq!(yaml_pointer_position(YAML, &format!("{tags}/2")), None);
        assert_eq!(yaml_pointer_position(YAML, &format!("{tags}/Key")), None);
    }

    #[test]
    fn yaml_short_form_tags_stand_for_long_form_keys() {
        let tags = "/Resources/Repo/Properties/Tags";
        assert_eq!(
            yaml_pointer_position(YAML, &format!("{tags}/0/Value/Ref")),
            Some((15, 23))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Resources/Repo/Properties/RepositoryName/Fn::Sub"),
            Some((12, 28))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Resources/Repo/Properties/RepositoryName/Ref"),
            None
        );
        // A tag whose operand is a block sequence.
        assert_eq!(
            yaml_pointer_position(YAML, "/Outputs/Cond/Value"),
            Some((28, 12))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Outputs/Cond/Value/Fn::If/0"),
            Some((29, 9))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Outputs/Cond/Value/Fn::If/2"),
            Some((31, 9))
        );
    }

    #[test]
    fn yaml_flow_values() {
        assert_eq!(
            yaml_pointer_position(YAML, "/Parameters/Env/AllowedValues"),
            Some((7, 20))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Parameters/Env/AllowedValues/1"),
            Some((7, 26))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Parameters/Env/AllowedValues/2/nested"),
            Some((7, 41))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Parameters/Env/AllowedValues/3"),
            None
        );
        let lp = "/Resources/Repo/Properties/LifecyclePolicy";
        assert_eq!(
            yaml_pointer_position(YAML, &format!("{lp}/RegistryId")),
            Some((20, 63))
        );
        assert_eq!(
            yaml_pointer_position(YAML, &format!("{lp}/RegistryId/Ref")),
            Some((20, 68))
        );
        assert_eq!(
            yaml_pointer_position(YAML, &format!("{lp}/LifecyclePolicyText")),
            Some((20, 46))
        );
    }

    #[test]
    fn yaml_quoted_keys_and_escaped_pointer_segments() {
        assert_eq!(
            yaml_pointer_position(YAML, "/Resources/a~1b"),
            Some((21, 3))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Resources/a~1b/it's"),
            Some((22, 14))
        );
    }

    #[test]
    fn yaml_compact_sequence_at_key_indentation() {
        assert_eq!(
            yaml_pointer_position(YAML, "/Outputs/List/0"),
            Some((25, 5))
        );
        assert_eq!(
            yaml_pointer_position(YAML, "/Outputs/List/1"),
            Some((26, 5))
        );
        assert_eq!(yaml_pointer_position(YAML, "/Outputs/Cond"), Some((27, 3)));
    }

    #[test]
    fn yaml_top_level_sequence_and_nested_sequences() {
        let text = "---\n- a\n- - x\n  - y\n-\n  k: v\n";
        assert_eq!(yaml_pointer_position(text, ""), Some((2, 1)));
        assert_eq!(yaml_pointer_position(text, "/0"), Some((2, 3)));
        assert_eq!(yaml_pointer_position(text, "/1"), Some((3, 3)));
        assert_eq!(yaml_pointer_position(text, "/1/1"), Some((4, 5)));
        assert_eq!(yaml_pointer_position(text, "/2"), Some((5, 1)));
        assert_eq!(yaml_pointer_position(text, "/2/k"), Some((6, 6)));
        assert_eq!(yaml_pointer_position(text, "/3"), None);
    }

    #[test]
    fn yaml_multi_line_flow_comments_and_blank_lines() {
        let text = "\
--- # the document
Tags: {
  a: [1, 2],   # comment
  'b': {\"c\": x}
}
# between

List:

  - one   # first

  # comment between items
  - k: v

    k2: w
Last: end
";
        assert_eq!(yaml_pointer_position(text, ""), Some((2, 1)));
        assert_eq!(yaml_pointer_position(text, "/Tags"), Some((2, 7)));
        assert_eq!(yaml_pointer_position(text, "/Tags/a/1"), Some((3, 10)));
        assert_eq!(yaml_pointer_position(text, "/Tags/b/c"), Some((4, 14)));
        assert_eq!(yaml_pointer_position(text, "/List"), Some((8, 1)));
        assert_eq!(yaml_pointer_position(text, "/List/0"), Some((10, 5)));
        assert_eq!(yaml_pointer_position(text, "/List/1"), Some((13, 5)));
        assert_eq!(yaml_pointer_position(text, "/List/1/k2"), Some((15, 9)));
        assert_eq!(yaml_pointer_position(text, "/List/2"), None);
        assert_eq!(yaml_pointer_position(text, "/Last"), Some((16, 7)));
    }

    #[test]
    fn yaml_flow_plain_scalars_with_quotes_and_anchors() {
        let text = "a: &anchor [it's, \"x, y\", {k: 'v, w'}, last]\nb: &only\n  c: 1\n";
        assert_eq!(yaml_pointer_position(text, "/a"), Some((1, 12)));
        assert_eq!(yaml_pointer_position(text, "/a/2/k"), Some((1, 31)));
        assert_eq!(yaml_pointer_position(text, "/a/3"), Some((1, 40)));
        assert_eq!(yaml_pointer_position(text, "/b/c"), Some((3, 6)));
    }

    #[test]
    fn json_escaped_solidus_in_keys() {
        let text = r#"{"a\/b": 1, "c": {"d\\e": 2}}"#;
        assert_eq!(json_pointer_position(text, "/a~1b"), Some((1, 10)));
        assert_eq!(json_pointer_position(text, "/c/d\\e"), Some((1, 27)));
    }

    #[test]
    fn yaml_multibyte_keys_count_characters() {
        let text = "ключ:\n  été: значение\n";
        assert_eq!(yaml_pointer_position(text, "/ключ"), Some((1, 1)));
        assert_eq!(yaml_pointer_position(text, "/ключ/été"), Some((2, 8)));
    }

    #[test]
    fn yaml_keys_with_colons_and_crlf() {
        let text = "Value:\r\n  Fn::GetAtt: [Repo, Arn]\r\n  url: http://x\r\n";
        assert_eq!(
            yaml_pointer_position(text, "/Value/Fn::GetAtt/1"),
            Some((2, 22))
        );
        assert_eq!(yaml_pointer_position(text, "/Value/url"), Some((3, 8)));
    }

    #[test]
    fn yaml_sibling_after_nested_block() {
        let text = "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n";
        assert_eq!(yaml_pointer_position(text, "/a/d"), Some((4, 6)));
        assert_eq!(yaml_pointer_position(text, "/e"), Some((5, 4)));
        assert_eq!(yaml_pointer_position(text, "/a/e"), None);
        assert_eq!(yaml_pointer_position(text, "/a/b/d"), None);
    }
}
