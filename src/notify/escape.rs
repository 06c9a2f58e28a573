//! The one place where text from outside the tool (push events, image configs and build
//! history, registries, AWS answers) is made safe for the format it is written into: Slack
//! mrkdwn and text objects ([`slack`]), Microsoft Teams Adaptive Card markdown ([`teams`]),
//! HTML and XML ([`html`]), one line of a log or a plain-text message ([`line`]), and S3 object
//! keys ([`s3_key`]). Each writer calls the function of its format on every piece of text it
//! did not write itself, and nowhere else escapes by hand.
//!
//! It does not decide what is trusted (the check worker confirms events with ECR first) and it
//! does not shorten text, except [`slack_clipped`] and [`line`], which must fit a limit.

/// Text for a Slack text object (mrkdwn or plain_text) or a message's `text`: `&`, `<` and `>`
/// become entities, so no `<!channel>`, `<@U123>`, `<#C123>` or `<https://evil|click>` is
/// parsed from it; control characters other than a newline or a tab become U+FFFD.
///
/// Slack has no escape for its formatting marks (`*bold*`, `_italic_`, `~strike~`, `` `code` ``):
/// outside text goes into `plain_text` objects, where they are not applied, and mrkdwn only
/// carries what the tool writes itself.
pub fn slack(s: &str) -> String {
    s.chars().map(slack_char).collect()
}

fn slack_char(c: char) -> std::borrow::Cow<'static, str> {
    match c {
        '&' => "&amp;".into(),
        '<' => "&lt;".into(),
        '>' => "&gt;".into(),
        c if is_bad_control(c) => "\u{FFFD}".into(),
        c => c.to_string().into(),
    }
}

/// [`slack`], at most `max` characters once escaped (Slack refuses longer text), with an
/// ellipsis when cut; an entity is never cut in half.
pub fn slack_clipped(s: &str, max: usize) -> String {
    let escaped = slack(s);
    if escaped.chars().count() <= max {
        return escaped;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let piece = slack_char(c);
        let n = piece.chars().count();
        if used + n + 1 > max {
            break;
        }
        used += n;
        out.push_str(&piece);
    }
    out.push('…');
    out
}

/// Text for a Teams Adaptive Card `TextBlock` or `FactSet` (which render a markdown subset):
/// one line (control characters, newlines included, become spaces, so no list item or
/// paragraph can be started), with every markdown and HTML mark backslash-escaped (`*`, `_`,
/// `~`, `` ` ``, `[`, `]`, `(`, `)`, `<`, `>`, `&`, `#`, `|`, `{`, `}`, `!`, `\`), so no link
/// (`[x](javascript:...)`), emphasis or `{{DATE()}}` function is made of it; a leading `-`,
/// `+`, `=` or a number and a dot is escaped too.
pub fn teams(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = String::with_capacity(one_line.len() + 8);
    let trimmed = one_line.trim_start();
    out.push_str(&one_line[..one_line.len() - trimmed.len()]);
    // A list or heading mark at the start of the text.
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    let mut rest = trimmed;
    if digits > 0 && trimmed[digits..].starts_with(['.', ')']) {
        out.push_str(&trimmed[..digits]);
        out.push('\\');
        rest = &trimmed[digits..];
    } else if trimmed.starts_with(['-', '+', '=']) {
        out.push('\\');
    }
    for c in rest.chars() {
        if matches!(
            c,
            '\\' | '*'
                | '_'
                | '~'
                | '`'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '&'
                | '#'
                | '|'
                | '{'
                | '}'
                | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text for HTML (an element's content or a quoted attribute) and XML: `&`, `<`, `>`, `"` and
/// `'` become entities; control characters other than a tab, a newline or a carriage return
/// (which XML 1.0 forbids and HTML calls errors) become U+FFFD.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if is_bad_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text for one line of a log or of a plain-text message (an SNS e-mail): control characters
/// are shown escaped (`\n`, `\u{1b}`), so a value cannot start a line of its own, and at most
/// `max` characters are kept (then `…`).
pub fn line(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for c in s.chars() {
        let piece: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        };
        let n = piece.chars().count();
        if count + n > max {
            out.push('…');
            return out;
        }
        count += n;
        out.push_str(&piece);
    }
    out
}

/// An S3 object key: `prefix` (from the tool's own configuration) and `segments` joined with
/// `/`. Each segment must be made of letters, digits, `.`, `_` and `-` only, must not be empty,
/// `.` or `..`, and must not start with a dot; the error names the first segment that is not.
/// Callers pass validated names (a repository name is passed as its path components), never
/// text from an event as it came.
pub fn s3_key(prefix: &str, segments: &[&str]) -> Result<String, String> {
    let mut key = prefix.to_owned();
    for (i, segment) in segments.iter().enumerate() {
        let safe = !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !safe {
            return Err(format!(
                "`{}` cannot be part of an S3 key",
                line(segment, 80)
            ));
        }
        if i > 0 {
            key.push('/');
        }
        key.push_str(segment);
    }
    Ok(key)
}

/// A control character that no format here shows: anything but a tab, a newline or a
/// carriage return.
fn is_bad_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an attacker would put in a tag, a label or a build step.
    const HOSTILE: &[&str] = &[
        "<!channel>",
        "<!here|here> <@U024BE7LH> <#C024BE7LR>",
        "<https://evil.example|click>",
        "[click](javascript:alert(1))",
        "](javascript:alert(1))",
        "../../etc/passwd",
        "line one\nline two\r\n- fake item",
        "*bold* _italic_ ~strike~ `code`",
        "{{DATE(2017-02-14T06:08:39Z, SHORT)}}",
        "<script>alert('x')</script> & \"q\"",
        "bell\u{7} escape\u{1b}[31m",
    ];

    #[test]
    fn slack_text_has_no_control_sequences() {
        for s in HOSTILE {
            let out = slack(s);
            assert!(!out.contains('<') && !out.contains('>'), "{out}");
            // Every `&` starts one of the three entities.
            for (i, _) in out.match_indices('&') {
                let rest = &out[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;"]
                        .iter()
                        .any(|e| rest.starts_with(e)),
                    "{out}"
                );
            }
            assert!(!out.contains('\u{7}') && !out.contains('\u{1b}'), "{out}");
        }
        assert_eq!(slack("<!channel>"), "&lt;!channel&gt;");
        assert_eq!(
            slack("<https://evil|click> & co"),
            "&lt;https://evil|click&gt; &amp; co"
        );
        // Newlines stay (plain_text shows them as line breaks).
        assert_eq!(slack("a\nb"), "a\nb");
    }

    #[test]
    fn slack_clipping_never_cuts_an_entity() {
        let out = slack_clipped("a<<<<<<", 8);
        assert_eq!(out, "a&lt;…");
        assert!(out.chars().count() <= 8);
        assert_eq!(slack_clipped("short", 8), "short");
        let long = slack_clipped(&"&".repeat(5000), 3000);
        assert!(long.chars().count() <= 3000);
        assert!(long.ends_with("&amp;…"));
    }

    #[test]
    fn teams_text_has_no_links_emphasis_lines_or_functions() {
        assert_eq!(
            teams("[click](javascript:alert(1))"),
            "\\[click\\]\\(javascript:alert\\(1\\)\\)"
        );
        assert_eq!(teams("*bold* _it_"), "\\*bold\\* \\_it\\_");
        assert_eq!(teams("a\nb\r\n- fake"), "a b  - fake");
        assert_eq!(teams("- item"), "\\- item");
        assert_eq!(teams("  1. item"), "  1\\. item");
        assert_eq!(teams("v1.2.3-rc"), "v1.2.3-rc");
        assert_eq!(teams("{{DATE(x)}}"), "\\{\\{DATE\\(x\\)\\}\\}");
        assert_eq!(teams("<at>everyone</at>"), "\\<at\\>everyone\\</at\\>");
        assert_eq!(teams("a\\*b"), "a\\\\\\*b");
        for s in HOSTILE {
            let out = teams(s);
            assert!(!out.contains('\n') && !out.contains('\r'), "{out}");
            // Every mark is preceded by a backslash.
            let chars: Vec<char> = out.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                if matches!(c, '*' | '_' | '[' | ']' | '(' | ')' | '<' | '>' | '{' | '`') {
                    let backslashes = chars[..i].iter().rev().take_while(|c| **c == '\\').count();
                    assert!(backslashes % 2 == 1, "{c} unescaped in {out}");
                }
            }
        }
    }

    #[test]
    fn html_text_has_no_markup() {
        assert_eq!(
            html("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(html("a\u{7}b\nc"), "a\u{FFFD}b\nc");
        for s in HOSTILE {
            let out = html(s);
            assert!(!out.contains(['<', '>', '"', '\'']), "{out}");
        }
    }

    #[test]
    fn a_log_line_stays_one_line() {
        assert_eq!(
            line("v1\nmessage 2: checked", 100),
            "v1\\nmessage 2: checked"
        );
        assert_eq!(line("\u{1b}[31mred", 100), "\\u{1b}[31mred");
        assert_eq!(line("abcdef", 3), "abc…");
        for s in HOSTILE {
            assert!(!line(s, 1000).contains(['\n', '\r', '\u{1b}', '\u{7}']));
        }
    }

    #[test]
    fn s3_keys_are_made_of_safe_segments_only() {
        assert_eq!(
            s3_key(
                "reports/",
                &["team", "api", "sha256-0a1b", "20261129T100000Z"]
            )
            .unwrap(),
            "reports/team/api/sha256-0a1b/20261129T100000Z"
        );
        for bad in [
            "..",
            ".",
            "",
            ".hidden",
            "a/b",
            "a b",
            "<!channel>",
            "v1\n",
            "é",
        ] {
            let err = s3_key("reports/", &["team", bad]).unwrap_err();
            assert!(err.contains("cannot be part of an S3 key"), "{err}");
            assert!(!err.contains('\n'));
        }
        for s in HOSTILE {
            assert!(s3_key("", &[s]).is_err(), "{s}");
        }
    }
}
