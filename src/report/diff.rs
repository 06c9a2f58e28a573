//! The coloured text diff of two template values for `plan`'s output: a unified diff of their
//! canonical forms, pretty-printed with sorted keys.
//!
//! Which values changed is decided by `plan::diff`; this module only draws them.

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::plan::diff::{display_form, same};
use crate::template::canonical::canonical;

/// A unified diff (3 lines of context) of two values, each pretty-printed as canonical JSON
/// (keys sorted, embedded JSON strings expanded). `None` is no text at all, so an added value is
/// all `+` lines. Returns "" when the values are semantically equal. With `color`, `-` lines are
/// red and `+` lines green (ANSI).
pub fn unified(before: Option<&Value>, after: Option<&Value>, color: bool) -> String {
    let before = before.map(canonical);
    let after = after.map(canonical);
    if same(before.as_ref(), after.as_ref()) {
        return String::new();
    }
    let old_text = before
        .map(display_form)
        .as_ref()
        .map(pretty)
        .unwrap_or_default();
    let new_text = after
        .map(display_form)
        .as_ref()
        .map(pretty)
        .unwrap_or_default();
    let diff = TextDiff::from_lines(old_text.as_str(), new_text.as_str());
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&hunk.header().to_string());
        out.push('\n');
        for change in hunk.iter_changes() {
            let line = change.value().trim_end_matches(['\n', '\r']);
            let (sign, paint) = match change.tag() {
                ChangeTag::Delete => ('-', Some("31")),
                ChangeTag::Insert => ('+', Some("32")),
                ChangeTag::Equal => (' ', None),
            };
            match paint {
                Some(code) if color => {
                    out.push_str(&format!("\x1b[{code}m{sign}{line}\x1b[0m"));
                }
                _ => {
                    out.push(sign);
                    out.push_str(line);
                }
            }
            out.push('\n');
        }
    }
    out
}

fn pretty(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sort_keys(v)).unwrap_or_default();
    text.push('\n');
    text
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::diff::{diff_templates, ChangeKind, PropertyChange};
    use serde_json::json;

    fn paths(changes: &[PropertyChange]) -> Vec<(&str, ChangeKind)> {
        changes.iter().map(|c| (c.path.as_str(), c.kind)).collect()
    }

    #[test]
    fn unified_is_empty_for_equal_values() {
        assert_eq!(unified(None, None, false), "");
        assert_eq!(
            unified(
                Some(&json!({"a": 1, "b": 2})),
                Some(&json!({"b": "2", "a": 1.0})),
                true
            ),
            ""
        );
        assert_eq!(
            unified(Some(&json!("{\"a\": 1}")), Some(&json!({"a": 1})), false),
            ""
        );
    }

    #[test]
    fn unified_shows_sorted_expanded_lines() {
        let before = json!({"z": 1, "doc": "{\"rules\": [{\"n\": 1}]}"});
        let after = json!({"z": 1, "doc": "{\"rules\": [{\"n\": 2}]}"});
        let text = unified(Some(&before), Some(&after), false);
        assert!(text.starts_with("@@ "), "{text}");
        assert!(text.contains("\n-        \"n\": 1\n"), "{text}");
        assert!(text.contains("\n+        \"n\": 2\n"), "{text}");
        assert!(text.contains("\n   \"doc\": {\n"), "{text}");
        assert!(!text.contains('\x1b'));
        // Keys sorted recursively.
        let text = unified(
            Some(&json!({"z": 1, "m": {"y": 1, "b": 1}})),
            Some(&json!({"z": 2, "m": {"y": 1, "b": 1}})),
            false,
        );
        assert_eq!(
            text,
            "@@ -3,5 +3,5 @@\n     \"b\": 1,\n     \"y\": 1\n   },\n-  \"z\": 1\n+  \"z\": 2\n }\n"
        );
    }

    #[test]
    fn unified_context_is_three_lines() {
        let before: Vec<u32> = (0..20).collect();
        let mut after = before.clone();
        after[10] = 99;
        let text = unified(Some(&json!(before)), Some(&json!(after)), false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 3 + 2 + 3, "{text}");
        assert_eq!(lines[4], "-  10,");
        assert_eq!(lines[5], "+  99,");
    }

    #[test]
    fn unified_colors_and_one_sided_values() {
        let text = unified(None, Some(&json!({"a": 1})), true);
        assert!(text.contains("\x1b[32m+{\x1b[0m\n"), "{text:?}");
        assert!(!text.contains("\x1b[31m"), "{text:?}");
        let text = unified(Some(&json!("x")), None, true);
        assert!(text.contains("\x1b[31m-\"x\"\x1b[0m\n"), "{text:?}");
        let text = unified(Some(&json!("x")), None, false);
        assert_eq!(text, "@@ -1 +0,0 @@\n-\"x\"\n");
    }

    #[test]
    fn odd_templates_do_not_panic() {
        let odd = [
            json!(null),
            json!([]),
            json!("text"),
            json!({"Resources": []}),
            json!({"Resources": {"R": "x", "S": null, "T": {"Type": 5, "Properties": [1], "DependsOn": {"a": 1}}}}),
            json!({"Outputs": "x", "Parameters": [1], "Transform": {"a": 1}}),
            json!({"Resources": {"R": {"Type": "T", "Properties": {"Statement": "x", "P": {"Statement": [1, {"Fn::If": ["c", {}, {}]}]}}}}}),
        ];
        for a in &odd {
            for b in &odd {
                let d = diff_templates(Some(a), b);
                let _ = serde_json::to_string(&d).unwrap();
                for r in &d.resources {
                    for c in &r.changes {
                        let _ = unified(c.before.as_ref(), c.after.as_ref(), true);
                    }
                }
                if a == b {
                    assert!(d.is_empty(), "{a} {d:#?}");
                }
            }
            let _ = diff_templates(None, a);
        }
        let d = diff_templates(Some(&json!({"Outputs": "x"})), &json!({"Outputs": "y"}));
        assert_eq!(paths(&d.outputs), [("Outputs", ChangeKind::Modified)]);
    }
}
