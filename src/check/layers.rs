//! The image's file system as far as the checks need it: layers are read in order as tar
//! streams (gzip-compressed or not), keeping only the few small files the checks look at
//! (`/etc/os-release`, release files of the OS and of Java, `/etc/passwd`, Node's version
//! header) and the Python library directories. Whiteouts of later layers delete what earlier
//! ones added, as the container runtime does. Nothing is extracted to disk or executed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// Files larger than this are never kept (the files read are a few hundred bytes).
pub const MAX_FILE: u64 = 256 * 1024;

/// What the layers hold that the checks read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileView {
    /// Path (without a leading `/`) to content.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Python versions whose library directory exists (`3.12` for `usr/local/lib/python3.12`).
    pub python_dirs: BTreeSet<String>,
    /// Entries read across all layers.
    pub entries: u64,
    /// Uncompressed bytes read.
    pub bytes: u64,
}

/// Whether the checks read this file.
pub fn wanted(path: &str) -> bool {
    matches!(
        path,
        "etc/os-release"
            | "usr/lib/os-release"
            | "etc/alpine-release"
            | "etc/debian_version"
            | "etc/redhat-release"
            | "etc/passwd"
            | "usr/local/include/node/node_version.h"
            | "usr/include/node/node_version.h"
    ) || java_release(path)
}

/// `release` files of JDK and JRE installations.
fn java_release(path: &str) -> bool {
    let Some(dir) = path.strip_suffix("/release") else {
        return false;
    };
    let parts: Vec<&str> = dir.split('/').collect();
    match parts.as_slice() {
        ["usr", "lib", "jvm", _] => true,
        ["opt", "java", ..] => parts.len() <= 3,
        ["usr", "local", "openjdk" | "java", ..] => parts.len() <= 3,
        [name] => name.starts_with("jdk") || name.starts_with("jre") || *name == "java",
        ["opt", name] => {
            name.starts_with("jdk") || name.starts_with("jre") || name.starts_with("java")
        }
        _ => false,
    }
}

/// `3.12` for a path under a Python library directory.
fn python_dir(path: &str) -> Option<String> {
    let rest = path
        .strip_prefix("usr/local/lib/python")
        .or_else(|| path.strip_prefix("usr/lib/python"))?;
    let version: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let (major, minor) = version.split_once('.')?;
    (major == "3" || major == "2")
        .then(|| minor.chars().all(|c| c.is_ascii_digit()) && !minor.is_empty())
        .filter(|ok| *ok)
        .map(|_| version.clone())
}

/// A tar path made relative and clean: no leading `./` or `/`, no trailing `/`.
fn clean(path: &str) -> String {
    let p = path.trim_start_matches("./").trim_start_matches('/');
    p.trim_end_matches('/').to_owned()
}

impl FileView {
    /// Applies one layer (a tar stream) on top of what earlier layers left.
    pub fn apply_layer(&mut self, reader: impl Read) -> std::io::Result<()> {
        let mut archive = tar::Archive::new(reader);
        let mut added_here: BTreeSet<String> = BTreeSet::new();
        for entry in archive.entries()? {
            let mut entry = entry?;
            self.entries += 1;
            let size = entry.header().size().unwrap_or(0);
            self.bytes += size;
            let raw = entry.path()?.to_string_lossy().into_owned();
            let path = clean(&raw);
            let (dir, name) = match path.rsplit_once('/') {
                Some((d, n)) => (d.to_owned(), n.to_owned()),
                None => (String::new(), path.clone()),
            };
            // Whiteouts: an opaque directory hides what lower layers had in it; `.wh.x`
            // deletes x.
            if name == ".wh..wh..opq" {
                let prefix = if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                };
                self.files
                    .retain(|p, _| !p.starts_with(&prefix) || added_here.contains(p));
                continue;
            }
            if let Some(deleted) = name.strip_prefix(".wh.") {
                let target = if dir.is_empty() {
                    deleted.to_owned()
                } else {
                    format!("{dir}/{deleted}")
                };
                let under = format!("{target}/");
                self.files
                    .retain(|p, _| p != &target && !p.starts_with(&under));
                if let Some(v) = python_dir(&format!("{target}/")) {
                    if target.ends_with(&format!("python{v}")) {
                        self.python_dirs.remove(&v);
                    }
                }
                continue;
            }
            if let Some(v) = python_dir(&format!("{path}/")) {
                self.python_dirs.insert(v);
            }
            let kind = entry.header().entry_type();
            if wanted(&path) {
                if kind.is_file() && size <= MAX_FILE {
                    let mut content = Vec::with_capacity(size as usize);
                    entry.read_to_end(&mut content)?;
                    self.files.insert(path.clone(), content);
                    added_here.insert(path);
                } else if kind.is_symlink() || kind.is_hard_link() {
                    // `/etc/os-release` is a link to `../usr/lib/os-release` on many
                    // distributions: resolve it to its target when that is read.
                    if let Some(target) =
                        entry.link_name()?.map(|t| t.to_string_lossy().into_owned())
                    {
                        let resolved = if target.starts_with('/') || kind.is_hard_link() {
                            clean(&target)
                        } else {
                            resolve(&dir, &target)
                        };
                        self.files
                            .insert(path.clone(), format!("@link:{resolved}").into_bytes());
                        added_here.insert(path);
                    }
                }
            }
        }
        Ok(())
    }

    /// A file's content, following the links recorded by [`FileView::apply_layer`].
    pub fn read(&self, path: &str) -> Option<&[u8]> {
        let mut p = path.to_owned();
        for _ in 0..8 {
            let content = self.files.get(&p)?;
            match content.strip_prefix(b"@link:") {
                Some(target) => p = String::from_utf8_lossy(target).into_owned(),
                None => return Some(content),
            }
        }
        None
    }

    pub fn read_text(&self, path: &str) -> Option<String> {
        self.read(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// `dir/target` with `..` and `.` resolved.
fn resolve(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar archive of (path, content) files, with `None` content for a symlink given as
    /// (path, target).
    pub(crate) fn tar_of(files: &[(&str, &str)], links: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, content) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(content.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, path, content.as_bytes()).unwrap();
        }
        for (path, target) in links {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, path, target).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn keeps_only_wanted_files_and_follows_links() {
        let mut view = FileView::default();
        let layer = tar_of(
            &[
                ("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
                ("usr/bin/big", "not kept"),
                ("usr/local/lib/python3.12/os.py", "x"),
                ("opt/java/openjdk/release", "JAVA_VERSION=\"17.0.9\"\n"),
            ],
            &[("etc/os-release", "../usr/lib/os-release")],
        );
        view.apply_layer(&layer[..]).unwrap();
        assert_eq!(
            view.read_text("etc/os-release").unwrap(),
            "ID=debian\nVERSION_ID=\"12\"\n"
        );
        assert!(view.read("usr/bin/big").is_none());
        assert!(view.read("opt/java/openjdk/release").is_some());
        assert_eq!(view.python_dirs.iter().collect::<Vec<_>>(), ["3.12"]);
        assert_eq!(view.entries, 5);
    }

    #[test]
    fn later_layers_override_and_whiteouts_delete() {
        let mut view = FileView::default();
        view.apply_layer(
            &tar_of(
                &[
                    ("etc/os-release", "ID=alpine\n"),
                    ("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
                    ("usr/lib/jvm/java-11/release", "JAVA_VERSION=\"11\"\n"),
                ],
                &[],
            )[..],
        )
        .unwrap();
        view.apply_layer(
            &tar_of(
                &[
                    ("etc/os-release", "ID=debian\n"),
                    ("usr/lib/jvm/.wh.java-11", ""),
                ],
                &[],
            )[..],
        )
        .unwrap();
        assert_eq!(view.read_text("etc/os-release").unwrap(), "ID=debian\n");
        assert!(view.read("usr/lib/jvm/java-11/release").is_none());
        view.apply_layer(&tar_of(&[("etc/.wh..wh..opq", "")], &[])[..])
            .unwrap();
        assert!(view.read("etc/passwd").is_none(), "an opaque /etc hides it");
    }

    #[test]
    fn java_release_locations() {
        assert!(wanted("usr/lib/jvm/java-17-openjdk-amd64/release"));
        assert!(wanted("opt/java/openjdk/release"));
        assert!(wanted("opt/jdk-21/release"));
        assert!(!wanted("usr/share/doc/release"));
        assert!(!wanted("etc/release"));
    }
}
