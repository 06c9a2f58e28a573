//! Reading the project's files without leaving the project: `little.yaml`, stack configs,
//! templates, includes and imports, and policies are read only where they resolve inside the
//! project root once every link is followed. A template that is a link to
//! `/proc/self/environ` (or a stack config linked to a file of another checkout) is refused
//! with the path and where it leads, and its content is never read.
//!
//! The check canonicalizes the file (following every link) and compares the result with the
//! canonical project root; the file is then read through the canonical path, so a link swapped
//! between the check and the read is not followed. Links inside the project (a Kubernetes
//! ConfigMap mounted as the project or its `stacks/` folder is links into `..data/`) are fine.
//!
//! Not here: which names are valid template or policy names (`render`), and files the user
//! names on the command line (`--plan`, `--out`), which are the user's own choice.

use std::io;
use std::path::{Path, PathBuf};

/// The project's root, as given and as the file system resolves it.
#[derive(Debug, Clone)]
pub struct ProjectFiles {
    root: PathBuf,
    canonical: PathBuf,
}

/// A project file that resolves outside the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outside {
    /// The file as the project names it, relative to the root.
    pub path: PathBuf,
    /// Where it leads, every link followed.
    pub target: PathBuf,
    /// The project root, every link followed.
    pub root: PathBuf,
}

impl std::fmt::Display for Outside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` resolves to `{}`, outside the project `{}`",
            self.path.display(),
            self.target.display(),
            self.root.display()
        )
    }
}

/// Why a project file could not be read.
#[derive(Debug)]
pub enum ReadError {
    Outside(Outside),
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Outside(o) => o.fmt(f),
            ReadError::Io(e) => e.fmt(f),
        }
    }
}

impl ProjectFiles {
    /// The files of the project at `root`. A root that cannot be resolved (it does not exist)
    /// is kept as given: every file under it then fails to resolve as missing.
    pub fn new(root: &Path) -> ProjectFiles {
        ProjectFiles {
            root: root.to_path_buf(),
            canonical: std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()),
        }
    }

    /// The project root, as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The canonical path of `rel` (relative to the root, or absolute under it): None when it
    /// does not exist (or a link on its way is dangling); an error when it leads outside.
    pub fn resolve(&self, rel: &Path) -> Result<Option<PathBuf>, Outside> {
        let full = self.root.join(rel);
        let canonical = match std::fs::canonicalize(&full) {
            Ok(c) => c,
            Err(_) => return Ok(None),
        };
        if canonical.starts_with(&self.canonical) {
            Ok(Some(canonical))
        } else {
            Err(Outside {
                path: full
                    .strip_prefix(&self.root)
                    .map(Path::to_path_buf)
                    .unwrap_or(full),
                target: canonical,
                root: self.canonical.clone(),
            })
        }
    }

    /// Whether `rel` is a file inside the project; an error when it leads outside.
    pub fn is_file(&self, rel: &Path) -> Result<bool, Outside> {
        Ok(self.resolve(rel)?.is_some_and(|c| c.is_file()))
    }

    /// The text of the file `rel`: None when it does not exist or is a folder.
    pub fn read_to_string(&self, rel: &Path) -> Result<Option<String>, ReadError> {
        let Some(canonical) = self.resolve(rel).map_err(ReadError::Outside)? else {
            return Ok(None);
        };
        if canonical.is_dir() {
            return Ok(None);
        }
        match std::fs::read_to_string(&canonical) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ReadError::Io(e)),
        }
    }

    /// The text of `rel` when it is a file inside the project, else None: for showing a source
    /// line in a message, where a file that cannot be read has already been reported.
    pub fn text(&self, rel: &Path) -> Option<String> {
        self.read_to_string(rel).ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn links_inside_are_followed_and_links_outside_refused() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "AWS_SECRET_ACCESS_KEY=x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), "AWS_SECRET_ACCESS_KEY=y").unwrap();
        let root = dir.path().join("project");
        std::fs::create_dir_all(root.join("templates/lib")).unwrap();
        std::fs::create_dir_all(root.join("..data")).unwrap();
        std::fs::write(root.join("templates/a.njk"), "a").unwrap();
        std::fs::write(root.join("..data/b.njk"), "b").unwrap();
        symlink("../..data/b.njk", root.join("templates/b.njk")).unwrap();
        symlink(
            outside.path().join("secret"),
            root.join("templates/env.njk"),
        )
        .unwrap();
        symlink(outside.path(), root.join("templates/ext")).unwrap();
        symlink("../../templates/a.njk", root.join("templates/lib/up.njk")).unwrap();
        symlink(root.join("nope"), root.join("templates/dangling.njk")).unwrap();

        // The root itself through a link: the same files.
        let link_root = dir.path().join("link");
        symlink(&root, &link_root).unwrap();
        for files in [ProjectFiles::new(&root), ProjectFiles::new(&link_root)] {
            let read = |p: &str| files.read_to_string(Path::new(p));
            assert_eq!(read("templates/a.njk").unwrap().as_deref(), Some("a"));
            assert_eq!(read("templates/b.njk").unwrap().as_deref(), Some("b"));
            assert_eq!(read("templates/lib/up.njk").unwrap().as_deref(), Some("a"));
            assert_eq!(read("templates/missing.njk").unwrap(), None);
            assert_eq!(read("templates/dangling.njk").unwrap(), None);
            assert_eq!(read("templates").unwrap(), None);
            for escaping in ["templates/env.njk", "templates/ext/secret", "../secret"] {
                match read(escaping) {
                    Err(ReadError::Outside(o)) => {
                        assert_eq!(o.path, Path::new(escaping));
                        assert!(o.target.ends_with("secret"), "{o}");
                        assert!(!o.target.starts_with(&o.root), "{o}");
                        let message = o.to_string();
                        assert!(message.contains(escaping), "{message}");
                        assert!(!message.contains("AWS_SECRET"), "{message}");
                    }
                    other => panic!("{escaping}: {other:?}"),
                }
            }
            assert!(files.is_file(Path::new("templates/b.njk")).unwrap());
            assert!(files.is_file(Path::new("templates/env.njk")).is_err());
            assert_eq!(files.text(Path::new("templates/env.njk")), None);
        }
    }
}
