//! What `little init` says: the files it wrote and the next steps.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// The files written into `dir` (relative to it), then the next steps: a `cd` unless `dir`
/// is the current directory, the placeholders to replace, and the first commands.
pub fn write_text(out: &mut dyn Write, dir: &Path, files: &[String]) -> Result<()> {
    let shown = dir.display().to_string();
    writeln!(out, "created {} files in `{shown}`:", files.len()).map_err(Error::output)?;
    for rel in files {
        writeln!(out, "  {rel}").map_err(Error::output)?;
    }
    let cd = if dir == Path::new(".") {
        String::new()
    } else {
        format!("  cd {}\n", shell_word(&shown))
    };
    write!(
        out,
        "\nnext steps:\n{cd}  \
         # little.yaml: replace the placeholders marked REPLACE (account ids, organization id)\n  \
         # .github/workflows/little-plan.yml: replace its install step as its comment says, and\n  \
         # set the repository variable LITTLE_PLAN_ROLE_ARN\n  \
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
        write_text(&mut here, Path::new("."), &["little.yaml".into()]).unwrap();
        let here = String::from_utf8(here).unwrap();
        assert!(here
            .starts_with("created 1 files in `.`:\n  little.yaml\n\nnext steps:\n  # little.yaml"));
        let mut there = Vec::new();
        write_text(&mut there, Path::new("my dir"), &[]).unwrap();
        let there = String::from_utf8(there).unwrap();
        assert!(
            there.contains("\nnext steps:\n  cd 'my dir'\n  # little.yaml"),
            "{there}"
        );
        assert!(there.ends_with("  little plan --all\n"));
    }
}
