//! The simpler locator for `little.yaml` and stack config files: the position of a `key:` at a
//! nesting path, found by indentation, and of a word at or after it. Best effort: the first
//! match wins, and flow collections are not walked (see the parent module for that).

/// The 1-based line and column of `key:` in YAML text, searched at the given nesting path
/// (`["parameters", "CiRoleArn"]`), by indentation. Best effort: returns the first match.
pub fn yaml_key_position(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    if path.is_empty() {
        return None;
    }
    let mut depth = 0;
    let mut min_indent = 0usize;
    let mut parent_indent: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if let Some(p) = parent_indent {
            if indent <= p {
                // Left the block of the parent key without finding the child.
                return None;
            }
        }
        if indent < min_indent {
            continue;
        }
        let key = trimmed.trim_start_matches("- ");
        let wanted = path[depth];
        let matches = key
            .strip_prefix(wanted)
            .or_else(|| {
                key.strip_prefix('"')
                    .and_then(|k| k.strip_prefix(wanted))
                    .and_then(|k| k.strip_prefix('"'))
            })
            .is_some_and(|rest| rest.trim_start().starts_with(':'));
        if matches {
            let column = indent + (trimmed.len() - key.len()) + 1;
            if depth + 1 == path.len() {
                return Some((i + 1, column));
            }
            depth += 1;
            parent_indent = Some(indent);
            min_indent = indent + 1;
        }
    }
    None
}

/// The 1-based line and column of the first occurrence of `needle` at or after the line of
/// `key:` at `path`; used to point at one entry of a list (`depends_on: [a, b]`).
pub fn yaml_value_position(text: &str, path: &[&str], needle: &str) -> Option<(usize, usize)> {
    let (start, _) = yaml_key_position(text, path)?;
    for (i, line) in text.lines().enumerate().skip(start - 1) {
        if let Some(col) = find_word(line, needle) {
            return Some((i + 1, line[..col].chars().count() + 1));
        }
    }
    None
}

fn find_word(line: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].find(word) {
        let at = from + i;
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        let is_part =
            |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if !is_part(before) && !is_part(after) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_position_follows_nesting() {
        let text = "name: a\nparameters:\n  Foo: x\n  Bar: y\ntags:\n  Bar: z\n";
        assert_eq!(
            yaml_key_position(text, &["parameters", "Bar"]),
            Some((4, 3))
        );
        assert_eq!(yaml_key_position(text, &["tags", "Bar"]), Some((6, 3)));
        assert_eq!(yaml_key_position(text, &["name"]), Some((1, 1)));
        assert_eq!(yaml_key_position(text, &["parameters", "Baz"]), None);
    }

    #[test]
    fn value_position_finds_list_entries() {
        let text = "name: a\ndepends_on: [iam, iam-roles]\n";
        assert_eq!(
            yaml_value_position(text, &["depends_on"], "iam-roles"),
            Some((2, 19))
        );
        assert_eq!(
            yaml_value_position(text, &["depends_on"], "iam"),
            Some((2, 14))
        );
    }
}
