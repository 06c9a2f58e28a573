//! The documentation: docs/commands/ is exactly what scripts/docs writes from the built
//! binary's help, so the command pages cannot go stale; and every relative link in docs/ and
//! in the examples' READMEs leads to a file that exists.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::repo;

/// The `*.md` files of a directory (not its subdirectories), by name.
fn pages(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn command_pages_are_what_scripts_docs_writes() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(repo().join("scripts/docs"))
        .arg(out.path())
        .env("LITTLE", env!("CARGO_BIN_EXE_little"))
        .output()
        .expect("run scripts/docs");
    assert!(
        run.status.success(),
        "scripts/docs failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let fresh = pages(out.path());
    assert!(fresh.contains_key("README.md") && fresh.contains_key("plan.md"));
    let committed = pages(&repo().join("docs/commands"));
    let mut stale = Vec::new();
    for (name, text) in &fresh {
        match committed.get(name) {
            None => stale.push(format!("{name} is missing")),
            Some(old) if old != text => {
                let line = old
                    .lines()
                    .zip(text.lines())
                    .position(|(a, b)| a != b)
                    .map_or(old.lines().count().min(text.lines().count()), |i| i)
                    + 1;
                stale.push(format!("{name} differs from line {line}"));
            }
            Some(_) => {}
        }
    }
    for name in committed.keys().filter(|n| !fresh.contains_key(*n)) {
        stale.push(format!("{name} documents no command"));
    }
    assert!(
        stale.is_empty(),
        "docs/commands/ does not match the help of `little` ({}): run scripts/docs",
        stale.join(", ")
    );
}

/// The Markdown files whose links are checked.
fn documents() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![repo().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.push(repo().join("examples/github-actions/README.md"));
    files.sort();
    files
}

/// The targets of the Markdown links `[text](target)` in a text, outside code.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Inline code spans may hold `](`: drop them.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            let tail = &rest[at + 2..];
            let Some(end) = tail.find(')') else { break };
            found.push(tail[..end].to_owned());
            rest = &tail[end..];
        }
    }
    found
}

#[test]
fn relative_links_in_the_docs_lead_to_files() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in documents() {
        let text = std::fs::read_to_string(&file).unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap();
            checked += 1;
            if !file.parent().unwrap().join(path).exists() {
                broken.push(format!(
                    "{}: {target}",
                    file.strip_prefix(repo()).unwrap().display()
                ));
            }
        }
    }
    assert!(checked > 10, "only {checked} links found");
    assert!(
        broken.is_empty(),
        "links to nothing:\n{}",
        broken.join("\n")
    );
}
