//! The YAML block-style walker behind `yaml_pointer_position`: lines by indentation, `key:`
//! and `- ` items, CloudFormation short-form tags (`!Ref`) as their long-form keys. Flow
//! collections met as values are handed to the flow scanner.

use super::flow::flow_find;
use super::json::read_double_quoted;
use super::parse_index;

/// The long-form key that a CloudFormation short-form tag stands for: `!Ref` is `Ref`,
/// `!Condition` is `Condition`, `!Sub` is `Fn::Sub`. `!!str` and friends are not intrinsics.
pub(super) fn tag_long_form(tag: &str) -> Option<String> {
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

pub(super) struct YamlDoc<'a> {
    text: &'a str,
    lines: Vec<Line>,
}

impl<'a> YamlDoc<'a> {
    pub(super) fn new(text: &'a str) -> Self {
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

    pub(super) fn find(&self, segments: &[String]) -> Option<usize> {
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
pub(super) fn token_end(text: &str, off: usize) -> usize {
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

/// A single-quoted YAML scalar at the start of `s` (`''` is a quote); the value and the byte
/// length including both quotes.
pub(super) fn read_single_quoted(s: &str) -> Option<(String, usize)> {
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
