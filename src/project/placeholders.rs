//! Placeholders: the values of a scaffolded project that belong to someone else (a GitHub
//! repository, a mailbox, an organisation's ids), written by `little init` as `REPLACE_ME_…`
//! words, and found again wherever they are left. A placeholder left in a project is an error
//! at its file, line and column, with what replaces it (and the `little init` flag that fills
//! it): `Project::load` finds them in little.yaml and the stack configs, the render in the
//! templates and policies it reads.
//!
//! Not here: writing them (`init`).

use std::path::Path;

use crate::diag::{line_col, Diagnostic, Location};

/// What every placeholder starts with.
pub const PREFIX: &str = "REPLACE_ME_";

/// The diagnostic code of a placeholder left in a project.
pub const CODE: &str = "placeholder";

/// The GitHub owner (user or organisation) of the repository CI runs in.
pub const GITHUB_ORG: &str = "REPLACE_ME_GITHUB_ORG";
/// The GitHub repository CI runs in.
pub const GITHUB_REPO: &str = "REPLACE_ME_GITHUB_REPO";
/// The address the scan notifications are sent to.
pub const NOTIFY_EMAIL: &str = "REPLACE_ME_NOTIFY_EMAIL";
/// The AWS Organization's id (`o-…`).
pub const ORGANIZATION_ID: &str = "REPLACE_ME_ORGANIZATION_ID";
/// The account that administers the StackSets.
pub const TOOLING_ACCOUNT_ID: &str = "REPLACE_ME_TOOLING_ACCOUNT_ID";
/// The OU of the workload accounts.
pub const WORKLOADS_OU: &str = "REPLACE_ME_WORKLOADS_OU";
/// The OU of the infrastructure accounts (the tooling account's).
pub const INFRASTRUCTURE_OU: &str = "REPLACE_ME_INFRASTRUCTURE_OU";

/// What replaces `placeholder`.
pub fn hint(placeholder: &str) -> &'static str {
    match placeholder {
        GITHUB_ORG => "the owner of your GitHub repository (OWNER of OWNER/NAME)",
        GITHUB_REPO => "the name of your GitHub repository (NAME of OWNER/NAME)",
        NOTIFY_EMAIL => "the address that gets the scan notifications",
        ORGANIZATION_ID => {
            "your AWS Organization's id (`o-…`: `aws organizations describe-organization`)"
        }
        TOOLING_ACCOUNT_ID => {
            "the 12-digit id of the account that administers the StackSets (a delegated \
             administrator of StackSets)"
        }
        WORKLOADS_OU | INFRASTRUCTURE_OU => {
            "an OU id of your organisation (`ou-…`: `aws organizations \
             list-organizational-units-for-parent`)"
        }
        _ => "your value",
    }
}

/// The `little init` flag that writes the value of `placeholder`, if one does.
pub fn flag(placeholder: &str) -> Option<&'static str> {
    match placeholder {
        GITHUB_ORG | GITHUB_REPO => Some("--github-repo OWNER/NAME"),
        NOTIFY_EMAIL => Some("--notify-email ADDRESS"),
        _ => None,
    }
}

/// Every placeholder in `text`: its byte offset and the word.
pub fn find(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(PREFIX) {
        let start = from + at;
        let len = text[start..]
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(text.len() - start);
        found.push((start, &text[start..start + len]));
        from = start + len;
    }
    found
}

/// An error for each placeholder in `text`, the file shown as `shown`.
pub fn diagnostics(shown: &Path, text: &str) -> Vec<Diagnostic> {
    find(text)
        .into_iter()
        .map(|(offset, word)| {
            let (line, col) = line_col(text, offset);
            Diagnostic::error(
                CODE,
                format!("`{word}` is a placeholder left by `little init`"),
            )
            .at(Location::at(shown, line, Some(col)), Some(text))
            .with_note(match flag(word) {
                Some(flag) => format!(
                    "replace it with {}, or scaffold with `little init {flag}`",
                    hint(word)
                ),
                None => format!("replace it with {}", hint(word)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_word_at_its_line_and_column() {
        let text = "a: 1\nsubjects: [\"repo:REPLACE_ME_GITHUB_ORG/REPLACE_ME_GITHUB_REPO:x\"]\n\
                    email: REPLACE_ME_NOTIFY_EMAIL";
        let words: Vec<&str> = find(text).into_iter().map(|(_, w)| w).collect();
        assert_eq!(words, [GITHUB_ORG, GITHUB_REPO, NOTIFY_EMAIL]);
        let d = diagnostics(Path::new("stacks/ci.yaml"), text);
        let at: Vec<String> = d
            .iter()
            .map(|d| d.location.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(
            at,
            [
                "stacks/ci.yaml:2:18",
                "stacks/ci.yaml:2:40",
                "stacks/ci.yaml:3:8"
            ]
        );
        assert!(d[0].notes[0].contains("--github-repo OWNER/NAME"));
        assert!(d[2].notes[0].contains("--notify-email"));
        assert_eq!(d[0].code, CODE);
        assert!(d.iter().all(Diagnostic::is_error));
    }

    #[test]
    fn no_placeholder_no_finding() {
        assert!(find("REPLACE: a comment, REPLACE_ME alone is no word").is_empty());
        assert!(find("name: platform\n").is_empty());
        assert_eq!(find("x REPLACE_ME_").len(), 1);
    }
}
