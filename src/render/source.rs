//! Template source preprocessing: a small lexer that tells template data from `{{ }}`, `{% %}`
//! and `{# #}` blocks, used to
//! - rewrite nunjucks' `list.length` into minijinja's `list|length` (same width, so error
//!   columns stay true),
//! - insert line markers into template data for source-mapped errors (see [`SourceMap`]),
//! - find `include`/`import`/`from`/`extends` statements, for include chains in errors.
//!
//! Not a parser: minijinja parses; this only needs to know where blocks start and end.

use std::collections::{BTreeMap, VecDeque};

/// Start and end of a line marker in instrumented output:
/// `\u{E000}<nonce>:<file id>:<line>\u{E001}` (with `:0` after the line for a marker before a
/// block). Private-use characters and digits survive case filters; a template may hold the
/// characters too, but not the process's nonce, so its own text is never read as a marker.
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Data,
    Expr,
    Stmt,
    Comment,
}

/// A segment of template source: data (literal text) or the inside of a block.
#[derive(Debug, PartialEq)]
struct Segment {
    data: bool,
    start: usize,
    end: usize,
}

/// Splits a template into data and block segments. A block segment includes its delimiters.
fn segments(src: &str) -> Vec<Segment> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut state = State::Data;
    let mut seg_start = 0;
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        match state {
            State::Data => {
                if bytes[i] == b'{' && i + 1 < bytes.len() {
                    let next = match bytes[i + 1] {
                        b'{' => Some(State::Expr),
                        b'%' => Some(State::Stmt),
                        b'#' => Some(State::Comment),
                        _ => None,
                    };
                    if let Some(next) = next {
                        if i > seg_start {
                            out.push(Segment {
                                data: true,
                                start: seg_start,
                                end: i,
                            });
                        }
                        seg_start = i;
                        state = next;
                        i += 2;
                        continue;
                    }
                }
                i += 1;
            }
            State::Comment => {
                if bytes[i] == b'#' && bytes.get(i + 1) == Some(&b'}') {
                    i += 2;
                    out.push(Segment {
                        data: false,
                        start: seg_start,
                        end: i,
                    });
                    seg_start = i;
                    state = State::Data;
                } else {
                    i += 1;
                }
            }
            State::Expr | State::Stmt => {
                let close = if state == State::Expr { b'}' } else { b'%' };
                if let Some(q) = quote {
                    if bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == q {
                        quote = None;
                    }
                    i += 1;
                } else if bytes[i] == b'"' || bytes[i] == b'\'' {
                    quote = Some(bytes[i]);
                    i += 1;
                } else if bytes[i] == close && bytes.get(i + 1) == Some(&b'}') {
                    i += 2;
                    out.push(Segment {
                        data: false,
                        start: seg_start,
                        end: i,
                    });
                    seg_start = i;
                    state = State::Data;
                    // A raw block's body is data up to `{% endraw %}`, whatever it holds.
                    let block = &src[out.last().map(|s| s.start).unwrap_or(0)..i];
                    if is_raw_open(block) {
                        if let Some(end) = find_endraw(src, i) {
                            if end > i {
                                out.push(Segment {
                                    data: true,
                                    start: i,
                                    end,
                                });
                            }
                            seg_start = end;
                            i = end;
                        }
                    }
                } else {
                    i += 1;
                }
            }
        }
    }
    if seg_start < bytes.len() {
        out.push(Segment {
            data: state == State::Data,
            start: seg_start,
            end: bytes.len(),
        });
    }
    out
}

/// Whether a whole block (`{% ... %}`) is a raw block's opening tag.
fn is_raw_open(block: &str) -> bool {
    block
        .strip_prefix("{%")
        .and_then(|rest| basic_tag(rest, "raw"))
        .is_some_and(|len| len + 2 == block.len())
}

/// The length of a tag without arguments at the start of `s` (the text after `{%`): an
/// optional `-` or `+`, whitespace, `name`, whitespace, an optional `-` or `+`, and `%}`. As
/// minijinja's lexer reads `raw` and `endraw`.
fn basic_tag(s: &str, name: &str) -> Option<usize> {
    let rest = s.strip_prefix(['-', '+']).unwrap_or(s);
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let rest = rest.strip_prefix(name)?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let rest = rest.strip_prefix(['-', '+']).unwrap_or(rest);
    let rest = rest.strip_prefix("%}")?;
    Some(s.len() - rest.len())
}

/// The start of the `{% endraw %}` that closes a raw block whose body begins at `from`. Every
/// `{%` in the body is a candidate, as in minijinja: in `{%}` the `%}` overlaps the `{%`, and
/// that is no tag at all.
fn find_endraw(src: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = src.get(at..)?.find("{%") {
        let start = at + i;
        let body = start + 2;
        if basic_tag(src.get(body..)?, "endraw").is_some() {
            return Some(start);
        }
        at = body;
    }
    None
}

/// Rewrites nunjucks' `.length` attribute into `|length` inside blocks (not in data).
pub fn rewrite_length(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for seg in segments(src) {
        let text = &src[seg.start..seg.end];
        if seg.data {
            out.push_str(text);
        } else {
            out.push_str(&rewrite_length_in_block(text));
        }
    }
    out
}

fn rewrite_length_in_block(block: &str) -> String {
    let bytes = block.as_bytes();
    let mut out = String::with_capacity(block.len());
    let mut last = 0;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == q {
                quote = None;
            }
        } else if b == b'"' || b == b'\'' {
            quote = Some(b);
        } else if b == b'.' && block[i + 1..].starts_with("length") {
            let prev_ok = i > 0
                && (bytes[i - 1].is_ascii_alphanumeric()
                    || matches!(bytes[i - 1], b'_' | b')' | b']'))
                // `loop.length` is minijinja's own.
                && !is_loop_ident(&bytes[..i]);
            let after = bytes.get(i + 7).copied();
            let next_ok =
                !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'(');
            if prev_ok && next_ok {
                out.push_str(&block[last..i]);
                out.push_str("|length");
                i += 7;
                last = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&block[last..]);
    out
}

/// Whether the identifier that ends `before` is exactly `loop`.
fn is_loop_ident(before: &[u8]) -> bool {
    let start = before
        .iter()
        .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .map(|i| i + 1)
        .unwrap_or(0);
    &before[start..] == b"loop"
}

/// What follows the line of a marker put before a file's first block when its first line does
/// not begin with data: the output after it comes from that line, at no known column. Digits
/// only, like the rest of a marker, so that case filters leave markers alone.
const BLOCK_MARK: &str = ":0";

/// A number that starts every marker's body, random per process: a template's own text may
/// hold the marker characters (they are only private-use characters), but not this number, so
/// the source map never takes the template's text for a marker.
fn nonce() -> u64 {
    static NONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *NONCE.get_or_init(|| {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(0x6c69_7474_6c65_u64)
    })
}

/// Writes the marker of `file_id:line` (with [`BLOCK_MARK`] when it stands before a block).
fn push_marker(out: &mut String, file_id: usize, line: usize, block: bool) {
    use std::fmt::Write;
    let suffix = if block { BLOCK_MARK } else { "" };
    let _ = write!(
        out,
        "{MARK_START}{}:{file_id}:{line}{suffix}{MARK_END}",
        nonce()
    );
}

/// Inserts a line marker at the start of every source line that begins in template data, and
/// one before the first block when the file begins with a block (so that output before any
/// data still maps to its file and line 1).
pub fn instrument(src: &str, file_id: usize) -> String {
    let mut out = String::with_capacity(src.len() + src.len() / 4);
    let mut line = 1;
    let mut at_line_start = true;
    let segs = segments(src);
    if segs.first().is_some_and(|s| !s.data) {
        push_marker(&mut out, file_id, 1, true);
    }
    for seg in segs {
        let text = &src[seg.start..seg.end];
        if !seg.data {
            line += text.matches('\n').count();
            out.push_str(text);
            at_line_start = text.ends_with('\n');
            continue;
        }
        for piece in text.split_inclusive('\n') {
            if at_line_start {
                push_marker(&mut out, file_id, line, false);
            }
            out.push_str(piece);
            at_line_start = piece.ends_with('\n');
            if at_line_start {
                line += 1;
            }
        }
    }
    out
}

/// The marker body after [`MARK_START`]: (file id, line, whether before a block, its length
/// up to and with [`MARK_END`]); None when `after` does not hold one of this process's markers.
fn read_marker(after: &str) -> Option<(usize, usize, bool, usize)> {
    let end = after.find(MARK_END)?;
    let body = &after[..end];
    let rest = body.strip_prefix(&nonce().to_string())?.strip_prefix(':')?;
    let (rest, block) = match rest.strip_suffix(BLOCK_MARK) {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (file, line) = rest.split_once(':')?;
    Some((
        file.parse().ok()?,
        line.parse().ok()?,
        block,
        end + MARK_END.len_utf8(),
    ))
}

/// The source of a position in rendered output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePos {
    pub file_id: usize,
    pub line: usize,
    /// Characters between the marker and the position: the column when the line is literal;
    /// None when the marker stood before a block.
    pub offset_in_line: Option<usize>,
}

/// Instrumented output with its markers removed, and where each marked line came from.
#[derive(Debug)]
pub struct SourceMap {
    /// The output without markers.
    pub text: String,
    /// (byte offset in `text`, file id, source line, whether the marker stood before a block),
    /// in output order.
    marks: Vec<(usize, usize, usize, bool)>,
}

impl SourceMap {
    pub fn new(instrumented: &str) -> SourceMap {
        let mut text = String::with_capacity(instrumented.len());
        let mut marks = Vec::new();
        let mut rest = instrumented;
        while let Some(i) = rest.find(MARK_START) {
            text.push_str(&rest[..i]);
            let after = &rest[i + MARK_START.len_utf8()..];
            match read_marker(after) {
                Some((file, line, block, len)) => {
                    marks.push((text.len(), file, line, block));
                    rest = &after[len..];
                }
                None => {
                    // The template's own character, not a marker.
                    text.push(MARK_START);
                    rest = after;
                }
            }
        }
        text.push_str(rest);
        SourceMap { text, marks }
    }

    /// The source line that produced the byte at `offset` of [`SourceMap::text`].
    pub fn source_at(&self, offset: usize) -> Option<SourcePos> {
        let idx = self.marks.partition_point(|(o, _, _, _)| *o <= offset);
        let (mark_at, file_id, line, block) = *self.marks.get(idx.checked_sub(1)?)?;
        let between = self.text.get(mark_at..offset).unwrap_or_default();
        // Text from the marker may span several output lines (a multi-line expression's value):
        // count from the last newline then.
        let offset_in_line = (!block).then(|| {
            between
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
        });
        Some(SourcePos {
            file_id,
            line,
            offset_in_line,
        })
    }
}

/// `include`, `import`, `from ... import` and `extends` statements: (target, line, column).
pub fn references(src: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for seg in segments(src) {
        if seg.data {
            continue;
        }
        let block = &src[seg.start..seg.end];
        if !block.starts_with("{%") {
            continue;
        }
        let inner = block[2..].trim_start_matches(['-', '+']).trim_start();
        let word = inner.split_whitespace().next().unwrap_or_default();
        if !matches!(word, "include" | "import" | "from" | "extends") {
            continue;
        }
        let rest = &inner[word.len()..];
        let rest = rest.trim_start();
        if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            if let Some(end) = rest[1..].find(q) {
                let (line, col) = crate::diag::line_col(src, seg.start);
                out.push((rest[1..1 + end].to_owned(), line, col));
            }
        }
    }
    out
}

/// `{% import ... as NAME %}` statements whose NAME is not a name: (line, column of NAME,
/// NAME). minijinja 3.1 parses NAME as any expression and panics compiling one that is not a
/// name, a dotted name or a list of them (`as m | dump`, `as m()`, `as 1`): such templates
/// are refused before minijinja sees them.
pub fn bad_import_names(src: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for seg in segments(src) {
        if seg.data {
            continue;
        }
        let block = &src[seg.start..seg.end];
        let Some(inner) = block.strip_prefix("{%").and_then(|b| b.strip_suffix("%}")) else {
            continue;
        };
        let body_start = seg.start + 2;
        let tokens = tokens(inner);
        if tokens.first().map(|t| t.1) != Some("import") {
            continue;
        }
        // The last `as` outside brackets ends the imported expression.
        let Some(at) = tokens
            .iter()
            .rev()
            .find(|(_, t, depth)| *t == "as" && *depth == 0)
            .map(|(at, _, _)| *at)
        else {
            continue;
        };
        let name_start = at + 2;
        let name = inner[name_start..].trim_end_matches(['-', '+']).trim_end();
        let name = name
            .strip_suffix("context")
            .map(str::trim_end)
            .and_then(|n| n.strip_suffix("without").or_else(|| n.strip_suffix("with")))
            .unwrap_or(name)
            .trim();
        if !is_assignable(name) {
            let offset = body_start
                + name_start
                + (inner[name_start..].len() - inner[name_start..].trim_start().len());
            let (line, col) = crate::diag::line_col(src, offset);
            out.push((line, col, name.to_owned()));
        }
    }
    out
}

/// The identifiers of a block's inside, outside strings: (byte offset, text, bracket depth).
fn tokens(inner: &str) -> Vec<(usize, &str, usize)> {
    let bytes = inner.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push((start, &inner[start..i], depth));
            }
            _ => i += 1,
        }
    }
    out
}

/// What minijinja can assign to: a name, a dotted name, or a list or tuple of them.
fn is_assignable(text: &str) -> bool {
    let text = text.trim();
    let bracketed = |open: char, close: char| {
        text.strip_prefix(open)
            .and_then(|t| t.strip_suffix(close))
            .map(|items| {
                split_top(items)
                    .iter()
                    .all(|i| i.trim().is_empty() || is_assignable(i))
            })
    };
    if let Some(ok) = bracketed('(', ')').or_else(|| bracketed('[', ']')) {
        return ok;
    }
    !text.is_empty()
        && text.split('.').all(|part| {
            let part = part.trim();
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !matches!(part, "true" | "True" | "false" | "False" | "none" | "None")
        })
}

/// `items` split at the commas outside brackets.
fn split_top(items: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in items.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&items[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&items[start..]);
    out
}

/// The chain of include statements from `root` to `target`, innermost first: for each step
/// the including template and the statement's line and column. Empty when `target` is `root`
/// or cannot be reached statically.
pub fn include_chain(
    root: &str,
    target: &str,
    load: &dyn Fn(&str) -> Option<String>,
    join: &dyn Fn(&str, &str) -> String,
) -> Vec<(String, usize, usize)> {
    if root == target {
        return Vec::new();
    }
    let mut parent: BTreeMap<String, (String, usize, usize)> = BTreeMap::new();
    let mut queue = VecDeque::from([root.to_owned()]);
    let mut seen = std::collections::BTreeSet::from([root.to_owned()]);
    while let Some(name) = queue.pop_front() {
        let Some(src) = load(&name) else { continue };
        for (r, line, col) in references(&src) {
            let child = join(&r, &name);
            if seen.insert(child.clone()) {
                parent.insert(child.clone(), (name.clone(), line, col));
                if child == target {
                    let mut chain = Vec::new();
                    let mut cur = child;
                    while let Some((p, l, c)) = parent.get(&cur) {
                        chain.push((p.clone(), *l, *c));
                        cur = p.clone();
                    }
                    return chain;
                }
                queue.push_back(child);
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The marker of `file:line` as [`instrument`] writes it.
    fn mark(file: usize, line: usize) -> String {
        let mut s = String::new();
        push_marker(&mut s, file, line, false);
        s
    }

    #[test]
    fn length_is_rewritten_only_in_blocks() {
        let src = "a.length {% if xs.length > 0 %}{{ xs.length }}{{ 'x.length' }}{{ f().length }}{% endif %}";
        assert_eq!(
            rewrite_length(src),
            "a.length {% if xs|length > 0 %}{{ xs|length }}{{ 'x.length' }}{{ f()|length }}{% endif %}"
        );
        assert_eq!(rewrite_length("{{ a.lengthy }}"), "{{ a.lengthy }}");
        assert_eq!(rewrite_length("{{ loop.length }}"), "{{ loop.length }}");
        assert_eq!(rewrite_length("{{ myloop.length }}"), "{{ myloop|length }}");
    }

    #[test]
    fn markers_only_at_data_line_starts() {
        let src = "{\n{% if x %}\n  \"a\": 1\n{% endif %}\n}";
        let out = instrument(src, 3);
        let m = |l: usize| mark(3, l);
        assert!(out.starts_with(&m(1)), "{out:?}");
        assert!(out.contains(&format!("\n{}  \"a\"", m(3))), "{out:?}");
        assert!(out.contains(&m(5)), "{out:?}");
        assert!(!out.contains(&m(2)), "{out:?}");
    }

    #[test]
    fn strings_in_blocks_may_hold_delimiters() {
        let src = "{{ '%}' ~ \"}}\" }}\nx";
        let out = instrument(src, 0);
        assert!(out.ends_with(&format!("{}x", mark(0, 2))), "{out:?}");
    }

    #[test]
    fn raw_blocks_are_data() {
        let src = "{% raw %}{{ x }}\n{% endraw %}";
        let segs = segments(src);
        assert!(segs
            .iter()
            .any(|s| s.data && &src[s.start..s.end] == "{{ x }}\n"));
    }

    #[test]
    fn raw_body_may_hold_what_looks_like_delimiters() {
        // `{%}`: the `%}` overlaps the `{%`; once a panic (a slice from after `{%` to before
        // `%}`, which ended before it began).
        let src = "{% raw %}{%}{% endraw %}";
        let segs = segments(src);
        assert!(
            segs.iter().any(|s| s.data && &src[s.start..s.end] == "{%}"),
            "{segs:?}"
        );
        assert_eq!(rewrite_length(src), src);
        // The file begins with a block: a marker without a column before it.
        let mut before_block = String::new();
        push_marker(&mut before_block, 0, 1, true);
        assert_eq!(instrument(src, 0), format!("{before_block}{src}"));
        let map = SourceMap::new(&instrument(src, 2));
        assert_eq!(map.text, src);
        assert_eq!(
            map.source_at(10),
            Some(SourcePos {
                file_id: 2,
                line: 1,
                offset_in_line: None
            })
        );
        assert_eq!(
            instrument(&format!("x\n{src}"), 0),
            format!("{}x\n{src}", mark(0, 1))
        );
        // As minijinja reads them: every `{%` of the body may start `endraw`, with whitespace
        // control on either side.
        let src = "{%- raw +%}{%%}{%{%-endraw%} x";
        assert!(segments(src)
            .iter()
            .any(|s| s.data && &src[s.start..s.end] == "{%%}{%"));
        assert!(is_raw_open("{%raw%}") && is_raw_open("{%- raw -%}"));
        assert!(!is_raw_open("{% raw x %}") && !is_raw_open("{% rawx %}"));
    }

    #[test]
    fn no_text_makes_the_lexer_panic() {
        for src in [
            "{% raw %}{%",
            "{% raw %}{%}",
            "{% raw %}%}",
            "{% raw %}{% endraw",
            "{% raw %}{% endraw %",
            "{%raw%}{%-",
            "{{ 'é\\",
            "{{ \"\\é",
            "{% if x.length",
            "{% raw %}é{%}é{% endraw %}é",
            "{",
            "{%",
            "{#",
        ] {
            let _ = rewrite_length(src);
            let _ = instrument(src, 0);
            let _ = references(src);
            let map = SourceMap::new(&instrument(src, 1));
            for offset in 0..=map.text.len() + 1 {
                let _ = map.source_at(offset);
            }
        }
    }

    #[test]
    fn the_templates_own_marker_characters_are_text() {
        // Found by `scripts/fuzz template`: a template holding U+E000 and U+E001 (as the
        // markers' own characters) lost its text in the source map, and errors their lines.
        let src = "{\"A\": \"\u{e000}0:1\u{e001}\", \"B\": \"\u{e001}\"}\n{% raw %}\u{e000}1:2:0\u{e001}{% endraw %}\u{e000}";
        let map = SourceMap::new(&instrument(src, 4));
        assert_eq!(map.text, src);
        assert_eq!(map.source_at(3).map(|p| (p.file_id, p.line)), Some((4, 1)));
        let bad = format!("{MARK_START}{}:9:9{MARK_END}x", nonce().wrapping_add(1));
        assert_eq!(SourceMap::new(&bad).text, bad);
    }

    #[test]
    fn import_names_that_minijinja_cannot_compile() {
        for good in [
            "{% import 'm.njk' as m %}",
            "{%- import \"m.njk\" as m with context -%}",
            "{% import 'm.njk' as m without context %}",
            "{% import 'a' ~ ' as ' ~ 'b' as ns.m %}",
            "{% import 'm.njk' as (a, [b, c]) %}",
            "{% from 'm.njk' import a as b %}",
            "{% set x = 1 | dump %}",
        ] {
            assert_eq!(bad_import_names(good), vec![], "{good}");
        }
        for (bad, name, col) in [
            ("{% import 'm.njk' as m | dump(2) %}", "m | dump(2)", 22),
            ("{% import 'm.njk' as m() %}", "m()", 22),
            ("{% import 'm.njk' as m[0] %}", "m[0]", 22),
            ("x\n{%import 'm.njk' as 1%}", "1", 21),
            ("{% import 'm.njk' as true %}", "true", 22),
            ("{% import 'm.njk' as [m | f] %}", "[m | f]", 22),
            ("{% import 'm.njk' as 'm' %}", "'m'", 22),
        ] {
            let found = bad_import_names(bad);
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert_eq!(found[0].2, name, "{bad}");
            assert_eq!(found[0].1, col, "{bad}");
        }
    }

    #[test]
    fn source_map_finds_the_line() {
        let instrumented = format!("{}{{\n{}  \"a\": x\n", mark(0, 1), mark(1, 7));
        let map = SourceMap::new(&instrumented);
        assert_eq!(map.text, "{\n  \"a\": x\n");
        let at = map.text.find('x').unwrap();
        assert_eq!(
            map.source_at(at),
            Some(SourcePos {
                file_id: 1,
                line: 7,
                offset_in_line: Some(7)
            })
        );
        assert_eq!(map.source_at(0).unwrap().line, 1);
    }

    #[test]
    fn references_and_chain() {
        let a = "{% include \"b.njk\" %}\n{% from 'm.njk' import x %}";
        let b = "line\n  {%- include './c.njk' %}";
        let load = |n: &str| match n {
            "a.njk" => Some(a.to_owned()),
            "b.njk" => Some(b.to_owned()),
            "c.njk" => Some(String::new()),
            _ => None,
        };
        assert_eq!(
            references(a),
            vec![("b.njk".to_owned(), 1, 1), ("m.njk".to_owned(), 2, 1)]
        );
        let join = |n: &str, _p: &str| n.trim_start_matches("./").to_owned();
        let chain = include_chain("a.njk", "c.njk", &load, &join);
        assert_eq!(
            chain,
            vec![("b.njk".to_owned(), 2, 3), ("a.njk".to_owned(), 1, 1)]
        );
    }
}
