//! Small wording helpers shared by messages everywhere: lists of names, JSON type names, counts,
//! RFC 6901 pointer segments, the "did you mean" suggestions (one edit distance), and fitting
//! text into a width (shortened with `…`, wrapped at spaces, lists packed into lines).
//!
//! Nothing here knows about templates, policies or AWS; callers choose the words.

use serde_json::Value;

/// One JSON pointer segment, escaped per RFC 6901 (`~` → `~0`, `/` → `~1`).
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Appends one segment to a JSON pointer, escaped per RFC 6901.
pub fn child(pointer: &str, segment: &str) -> String {
    format!("{pointer}/{}", escape_segment(segment))
}

/// The JSON type of a value with its article, for messages: "a string", "an object", "null".
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value for a message: strings and numbers as written (in backticks), containers by type.
pub fn short(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        Value::Number(n) => format!("`{n}`"),
        other => type_name(other).to_owned(),
    }
}

/// A list of names for messages: "`a`, `b` or `c`".
pub fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Names in backticks, comma-separated: "`a`, `b`".
pub fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A count with its noun: "1 image", "3 images".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The English plural suffix for a count: "" for 1, "s" otherwise.
pub fn plural_suffix(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A number with thousands separators: 51200 → "51,200".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The closest candidate within a small edit distance, for "did you mean" hints on names the
/// user typed (profiles, stacks, checks, regions): case-sensitive, within a third of the name's
/// length (at least 2, at most 3); ties go to the smallest candidate.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).clamp(2, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c.to_owned())
}

/// The closest candidate for template names (sections, keys, logical ids): within an edit
/// distance of 2 ignoring case, and less than the name's length (so that `A` does not suggest
/// `B`); the name itself is never suggested. Ties go to the first candidate.
pub fn closest_ignoring_case<'n>(
    name: &str,
    candidates: impl Iterator<Item = &'n str>,
) -> Option<&'n str> {
    let lower = name.to_lowercase();
    let len = lower.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let c = candidate.to_lowercase();
        if c.chars().count().abs_diff(len) > 2 {
            continue;
        }
        let d = edit_distance(&lower, &c);
        if d <= 2 && d < len && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// How many columns a text takes on a terminal: its characters (no East Asian wide forms are
/// expected in what `little` prints).
pub fn columns(s: &str) -> usize {
    s.chars().count()
}

/// `s` in at most `max` columns: whole when it fits, else its start and `…`.
pub fn shorten(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if columns(s) <= max {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    std::borrow::Cow::Owned(out)
}

/// Prose in lines of at most `width` columns, broken at spaces; a word longer than a line is
/// split, so that nothing is lost and no line is wider. An empty text is one empty line.
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        let used = columns(&line);
        if used > 0 && used + 1 + word.len() <= width {
            line.push(' ');
            line.extend(word.iter());
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        line.extend(word.iter());
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A value without spaces (an ARN, compact JSON) in lines of at most `width` columns, broken
/// after a `,` where one is in the second half of a line, else at the width.
pub fn wrap_value(s: &str, width: usize) -> Vec<String> {
    let width = width.max(2);
    let mut rest: Vec<char> = s.chars().collect();
    let mut lines = Vec::new();
    while rest.len() > width {
        let at = rest[width / 2..width]
            .iter()
            .rposition(|c| *c == ',')
            .map_or(width, |i| width / 2 + i + 1);
        lines.push(rest.drain(..at).collect());
    }
    lines.push(rest.into_iter().collect());
    lines
}

/// Items joined with `sep` (such as `", "`) into lines of at most `width` columns; each line
/// but the last ends with the separator, trimmed. An item wider than a line has a line of its
/// own, whole.
pub fn pack(items: &[&str], sep: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for (i, item) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        let piece = if last {
            (*item).to_owned()
        } else {
            format!("{item}{sep}")
        };
        let fits = columns(&line) + columns(piece.trim_end()) <= width;
        if !line.is_empty() && !fits {
            lines.push(line.trim_end().to_owned());
            line.clear();
        }
        line.push_str(&piece);
    }
    if !line.is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// `text` percent-encoded for a URL's query or path segment (RFC 3986): every byte but the
/// unreserved `A-Z a-z 0-9 - . _ ~` as `%XX`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decoding (`%7B` is `{`; `+` stays `+`, as IAM encodes spaces as `%20`). A `%` not
/// followed by two hex digits is kept as it is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 (RFC 4648, with or without `=` padding) decoded; None for any other
/// character.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let keep = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&n.to_be_bytes()[1..1 + keep]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_wrap_and_pack_fit_the_width() {
        assert_eq!(shorten("abcdef", 6), "abcdef");
        assert_eq!(shorten("abcdefg", 6), "abcde…");
        assert_eq!(columns(&shorten("ééééééé", 3)), 3);
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("", 7), [""]);
        assert_eq!(wrap("a  b", 7), ["a b"]);
        assert_eq!(wrap("abcdefghij x", 4), ["abcd", "efgh", "ij x"]);
        for line in wrap("the quick brown fox jumps over the lazy dog again", 10) {
            assert!(columns(&line) <= 10, "{line}");
        }
        assert_eq!(
            pack(&["ecr:A", "ecr:BB", "ecr:CCC"], ", ", 14),
            ["ecr:A, ecr:BB,", "ecr:CCC"]
        );
        assert_eq!(pack(&["a-long-item", "b"], ", ", 4), ["a-long-item,", "b"]);
        assert_eq!(pack(&[], ", ", 4), Vec::<String>::new());
        assert_eq!(wrap_value("abc", 5), ["abc"]);
        assert_eq!(
            wrap_value(r#"{"a":1,"bb":2}"#, 9),
            [r#"{"a":1,"#, r#""bb":2}"#]
        );
        assert_eq!(wrap_value("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn closest_finds_typos_only() {
        let names = ["iam-roles", "ecr-repositories"];
        assert_eq!(closest("iam-role", names), Some("iam-roles".into()));
        assert_eq!(closest("zzzzzz", names), None);
    }

    #[test]
    fn counts() {
        assert_eq!(plural(1, "image", "images"), "1 image");
        assert_eq!(plural(0, "image", "images"), "0 images");
        assert_eq!(plural_suffix(1), "");
        assert_eq!(plural_suffix(2), "s");
        assert_eq!(short(&Value::Bool(true)), "a boolean");
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_bytes() {
        assert_eq!(
            percent_encode("status.phase!=Succeeded,a b/é~"),
            "status.phase%21%3DSucceeded%2Ca%20b%2F%C3%A9~"
        );
    }

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("QVdTOnNlY3JldA==").unwrap(), b"AWS:secret");
        assert_eq!(base64_decode("QVdTOnNlY3JldA").unwrap(), b"AWS:secret");
        assert_eq!(base64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("a$bc").is_none());
        assert!(base64_decode("a").is_none());
    }
}
