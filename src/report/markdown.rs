//! Writing GitHub Markdown safely: code spans and fences that nothing inside can close, table
//! cells whose `|` are escaped, prose whose Markdown punctuation stays text, HTML text.
//!
//! Only the escaping: what a document says is its printer's (`plan_markdown`).

/// The longest run of backticks in `s`.
fn longest_backticks(s: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// A code block that nothing in `body` can close, followed by a blank line.
pub fn fenced(info: &str, body: &str) -> String {
    let fence = "`".repeat(longest_backticks(body).max(2) + 1);
    let body = body.trim_end_matches('\n');
    format!("{fence}{info}\n{body}\n{fence}\n\n")
}

/// A code span outside a table: on one line, its delimiters longer than any backticks inside.
pub fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let ticks = "`".repeat(longest_backticks(&s) + 1);
    if s.starts_with('`') || s.ends_with('`') || ticks.len() > 1 {
        format!("{ticks} {s} {ticks}")
    } else {
        format!("{ticks}{s}{ticks}")
    }
}

/// A code span in a table cell: `|` escaped, which GitHub undoes inside the span.
pub fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// Text in a table cell: [`prose`] with every `|` escaped, in code spans too.
pub fn cell(s: &str) -> String {
    escape(s, true)
}

/// Text that `little` wrote (reasons, with names in code spans), for a Markdown paragraph: on
/// one line, Markdown's punctuation escaped outside code spans, code spans as they are.
pub fn prose(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, in_table: bool) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let chars: Vec<char> = s.chars().collect();
    let run_at = |i: usize| chars[i..].iter().take_while(|c| **c == '`').count();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            let n = run_at(i);
            // A code span: the same number of backticks closes it.
            let mut j = i + n;
            let mut close = None;
            while j < chars.len() {
                if chars[j] == '`' {
                    let m = run_at(j);
                    if m == n {
                        close = Some(j);
                        break;
                    }
                    j += m;
                } else {
                    j += 1;
                }
            }
            match close {
                Some(j) => {
                    let span: String = chars[i..j + n].iter().collect();
                    out.push_str(&if in_table {
                        span.replace('|', "\\|")
                    } else {
                        span
                    });
                    i = j + n;
                }
                None => {
                    for _ in 0..n {
                        out.push_str("\\`");
                    }
                    i += n;
                }
            }
            continue;
        }
        let c = chars[i];
        if matches!(
            c,
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Text inside an HTML element (`<summary>`).
pub fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_special_characters_stay_text() {
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("two\nlines"), "`two lines`");
        assert_eq!(cell_code("a|b"), "`a\\|b`");
        assert_eq!(
            prose("grants `a|b` to *x* <y>"),
            "grants `a|b` to \\*x\\* \\<y\\>"
        );
        assert_eq!(cell("`a|b` c|d"), "`a\\|b` c\\|d");
        assert_eq!(prose("an odd ` tick"), "an odd \\` tick");
        assert_eq!(prose("``a` b``"), "``a` b``");
        assert_eq!(fenced("", "x ``` y"), "````\nx ``` y\n````\n\n");
        assert_eq!(fenced("diff", "+a\n"), "```diff\n+a\n```\n\n");
        assert_eq!(html("<a & b>"), "&lt;a &amp; b&gt;");
    }
}
