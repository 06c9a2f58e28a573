//! What `little init` says: the files it wrote and the next steps.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::project::placeholders;
use crate::text::plural;

/// The files written into `dir` (relative to it), then the next steps: a `cd` unless `dir`
/// is the current directory, the placeholders left to replace (with the `little init` flag
/// that fills each, if one does), and the first commands.
pub fn write_text(
    out: &mut dyn Write,
    dir: &Path,
    files: &[String],
    left: &[(String, String)],
) -> Result<()> {
    let shown = dir.display().to_string();
    writeln!(
        out,
        "created {} in `{shown}`:",
        plural(files.len(), "file", "files")
    )
    .map_err(Error::output)?;
    for rel in files {
        writeln!(out, "  {rel}").map_err(Error::output)?;
    }
    let mut next = String::new();
    if dir != Path::new(".") {
        next.push_str(&format!(
            "  cd {}
",
            shell_word(&shown)
        ));
    }
    if !left.is_empty() {
        next.push_str(
            "  # replace the placeholders left (`little validate` refuses each, at its line):\n",
        );
        for (file, word) in left {
            let how = match placeholders::flag(word) {
                Some(flag) => format!(" (or scaffold with `{flag}`)"),
                None => String::new(),
            };
            next.push_str(&format!("  #   {file}: {word}{how}\n"));
        }
    }
    write!(
        out,
        "\nnext steps:\n{next}  \
         # .github/workflows/little-plan.yml: set the repository variable LITTLE_PLAN_ROLE_ARN\n  \
         little validate --all\n  \
         little plan --all\n"
    )
    .map_err(Error::output)
}

/// `s` quoted for a POSIX shell when it needs to be.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("a/b-c"), "a/b-c");
        assert_eq!(shell_word("my dir"), "'my dir'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn the_next_steps_cd_only_elsewhere() {
        let mut here = Vec::new();
        write_text(&mut here, Path::new("."), &["little.yaml".into()], &[]).unwrap();
        let here = String::from_utf8(here).unwrap();
        assert!(here.starts_with(
            "created 1 file in `.`:\n  little.yaml\n\nnext steps:\n  # .github/workflows/"
        ));
        let mut there = Vec::new();
        write_text(&mut there, Path::new("my dir"), &[], &[]).unwrap();
        let there = String::from_utf8(there).unwrap();
        assert!(
            there.contains("\nnext steps:\n  cd 'my dir'\n  # .github/"),
            "{there}"
        );
        assert!(there.ends_with("  little plan --all\n"));
    }

    #[test]
    fn the_placeholders_left_name_their_file_and_flag() {
        let left = [
            ("stacks/iam/ci.yaml".into(), "REPLACE_ME_GITHUB_ORG".into()),
            ("little.yaml".into(), "REPLACE_ME_ORGANIZATION_ID".into()),
        ];
        let mut out = Vec::new();
        write_text(&mut out, Path::new("p"), &["a".into(), "b".into()], &left).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("created 2 files in `p`:"), "{out}");
        assert!(
            out.contains(
                "  #   stacks/iam/ci.yaml: REPLACE_ME_GITHUB_ORG (or scaffold with \
                 `--github-repo OWNER/NAME`)\n  #   little.yaml: REPLACE_ME_ORGANIZATION_ID\n"
            ),
            "{out}"
        );
    }
}
