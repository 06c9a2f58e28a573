//! The forgiving JSON scanner behind `json_pointer_position` and `json_key_position`: follows
//! pointer segments through the text by bytes, without building values or validating what
//! follows the target. YAML's double-quoted scalars are read with it too.

use super::parse_index;

/// Byte offsets of what a pointer designates: the value, and the key when the last segment names
/// an object member.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found {
    pub(super) value: usize,
    pub(super) key: Option<usize>,
}

/// A forgiving JSON scanner over bytes. Structural characters are ASCII, so byte offsets always
/// fall on character boundaries when they point at one.
pub(super) struct JsonScanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> JsonScanner<'a> {
    pub(super) fn new(text: &'a str) -> Self {
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

    pub(super) fn find(&mut self, segments: &[String]) -> Option<Found> {
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

/// A double-quoted YAML scalar at the start of `s`, read as a JSON string (YAML's escapes are
/// JSON-like); the value and the byte length including both quotes.
pub(super) fn read_double_quoted(s: &str) -> Option<(String, usize)> {
    let mut scanner = JsonScanner {
        bytes: s.as_bytes(),
        pos: 0,
    };
    let value = scanner.read_string()?;
    Some((value, scanner.pos))
}
