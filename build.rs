//! Build script: puts the git revision the binary is built from into `LITTLE_GIT_REVISION`
//! for `little --version`: `git rev-parse --short=12 HEAD`, with `-dirty` when tracked files
//! differ from HEAD, or `unknown` when git or the repository is absent (a Docker build copies
//! no `.git`; a crate from a registry has none). It never fails the build.
//!
//! It does nothing else: the embedded bootstrap library is plain `include_str!` in
//! `src/cli/kit.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LITTLE_GIT_REVISION");
    // Whether the tree is dirty can change with any source file: look again when they do.
    for dir in [
        "src",
        "Cargo.toml",
        "Cargo.lock",
        "stacks",
        "templates",
        "policies",
        "examples",
    ] {
        if root.join(dir).exists() {
            println!("cargo:rerun-if-changed={dir}");
        }
    }
    let revision = match std::env::var("LITTLE_GIT_REVISION") {
        Ok(r) if !r.trim().is_empty() => r.trim().to_owned(),
        _ => git_revision(&root).unwrap_or_else(|| "unknown".to_owned()),
    };
    println!("cargo:rustc-env=LITTLE_GIT_REVISION={revision}");
}

/// The revision, or `None` when this is not the top of a git work tree or git is missing.
fn git_revision(root: &Path) -> Option<String> {
    // Only the repository whose top is this crate: not one that happens to contain it.
    if !root.join(".git").exists() {
        return None;
    }
    // Not the index: `git status` run by anyone refreshes it, which would rebuild the crate.
    for file in ["HEAD", "packed-refs"] {
        watch(root, &git(root, &["rev-parse", "--git-path", file])?);
    }
    if let Some(reference) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        watch(root, &git(root, &["rev-parse", "--git-path", &reference])?);
    }
    let hash = git(root, &["rev-parse", "--short=12", "HEAD"])?;
    // Without optional locks, `git status` does not refresh the index: writing it would
    // change `.git/index` and make cargo run this script again on every build.
    let status = git(
        root,
        &[
            "--no-optional-locks",
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--ignore-submodules",
        ],
    );
    let dirty = status.is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// Reruns the build script when `path` (relative to `root`, as git prints it) changes, if it
/// exists: cargo reruns every time for a path that does not.
fn watch(root: &Path, path: &str) {
    let full = root.join(path);
    if full.exists() {
        println!("cargo:rerun-if-changed={}", full.display());
    }
}

/// Runs git in `root`; its trimmed stdout on success.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
