//! Rendered templates as `little render` gives them: printed (one template; several as a JSON
//! object or a YAML stream keyed by stack), written one file per stack into a directory the
//! user named, and described in a line for `-v`.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::render::Rendered;
use crate::template::parse::Syntax;

/// `-v`: what a rendered template holds.
pub fn describe(r: &Rendered) -> String {
    let resources = r
        .template
        .get("Resources")
        .and_then(serde_json::Value::as_object)
        .map(|m| m.len())
        .unwrap_or(0);
    format!(
        "{}: templates/{} -> {} bytes, {resources} resource{}, {} parameter{}",
        r.stack,
        r.template_name,
        r.body().len(),
        if resources == 1 { "" } else { "s" },
        r.parameters.len(),
        if r.parameters.len() == 1 { "" } else { "s" }
    )
}

/// One template as it is; several as a JSON object keyed by stack, or a YAML stream with a
/// `# stack:` comment per document.
pub fn print(out: &mut dyn Write, rendered: &[Rendered], syntax: Syntax) -> Result<()> {
    let text = match (rendered, syntax) {
        ([one], _) => one.pretty(syntax),
        (many, Syntax::Json) => {
            let map: serde_json::Map<String, serde_json::Value> = many
                .iter()
                .map(|r| (r.stack.clone(), r.template.clone()))
                .collect();
            let mut s = serde_json::to_string_pretty(&map).map_err(|e| Error::Io(e.into()))?;
            s.push('\n');
            s
        }
        (many, Syntax::Yaml) => many
            .iter()
            .map(|r| format!("---\n# stack: {}\n{}", r.stack, r.pretty(Syntax::Yaml)))
            .collect(),
    };
    out.write_all(text.as_bytes()).map_err(Error::output)?;
    out.flush().map_err(Error::output)
}

/// Writes `DIR/<stack>.json` (or `.yaml`) for each template, creating `dir`; unless `quiet`,
/// says `wrote PATH` on stderr after each.
pub fn write_files(dir: &Path, rendered: &[Rendered], syntax: Syntax, quiet: bool) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    for r in rendered {
        let path = dir.join(file_name(&r.stack, syntax));
        std::fs::write(&path, r.pretty(syntax)).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        if !quiet {
            // Best effort: the exit code tells the result when stderr is gone.
            let _ = writeln!(std::io::stderr().lock(), "wrote {}", path.display());
        }
    }
    Ok(())
}

/// The file of one stack's template.
fn file_name(stack: &str, syntax: Syntax) -> String {
    let ext = match syntax {
        Syntax::Json => "json",
        Syntax::Yaml => "yaml",
    };
    format!("{stack}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_by_stack_and_syntax() {
        assert_eq!(file_name("iam-ci", Syntax::Json), "iam-ci.json");
        assert_eq!(file_name("iam-ci", Syntax::Yaml), "iam-ci.yaml");
    }
}
