//! The scanner for YAML flow collections (`{a: 1, "b": [x, y]}`), as values inside block-style
//! YAML: follows pointer segments through braces and brackets, quoted and plain scalars, tags
//! and comments.

use super::json::read_double_quoted;
use super::parse_index;
use super::yaml::{read_single_quoted, tag_long_form, token_end};

/// Follows `segments` through YAML flow collections (`{a: 1, "b": [x, y]}`) starting at byte
/// `off` of `text`; returns the byte offset of the target value.
pub(super) fn flow_find(text: &str, off: usize, segments: &[String]) -> Option<usize> {
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
