//! The image's file system as far as the checks need it: layers are read in order as tar
//! streams (gzip-compressed or not), keeping only the few small files the checks look at
//! (`/etc/os-release`, release files of the OS and of Java, `/etc/passwd`, Node's version
//! header) and the Python library directories. Whiteouts of later layers delete what earlier
//! ones added, as the container runtime does. Nothing is extracted to disk or executed.
//!
//! The tar stream is read by [`super::tarstream`] within [`Limits`]; the files kept are
//! bounded in number and total size (`max_kept_files`, `max_kept_bytes`), so what a layer
//! can make this view hold does not depend on the layer.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::jar::{self, Library};
use super::limits::{over, Limits};
use super::tarstream::{Kind, TarError, TarStream};
use super::waste::Waste;
use crate::text::thousands;

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
    /// Uncompressed bytes of the entries read.
    pub bytes: u64,
    /// The size of `files`.
    pub kept_bytes: u64,
    /// The bytes wasted by files that later layers overwrite or delete.
    pub waste: Waste,
    /// Java archive path to (the layer that added it, the libraries in it).
    pub libraries: BTreeMap<String, (u32, Vec<Library>)>,
    /// The libraries in `libraries`, at most `check.limits.max_libraries`.
    pub library_count: u64,
    /// Libraries were left out (over `max_libraries`).
    pub libraries_capped: bool,
    /// Archives over `max_archive_bytes`, judged by their file names only.
    pub large_archives: u64,
    /// The layer being applied (the first is 1).
    libraries_layer: u32,
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
    // At most three digits of minor version: the set of versions stays small whatever the
    // layer holds.
    (major == "3" || major == "2")
        .then(|| minor.chars().all(|c| c.is_ascii_digit()) && (1..=3).contains(&minor.len()))
        .filter(|ok| *ok)
        .map(|_| version.clone())
}

/// A tar path made relative and clean: no leading `./` or `/`, no trailing `/`.
fn clean(path: &str) -> String {
    let p = path.trim_start_matches("./").trim_start_matches('/');
    p.trim_end_matches('/').to_owned()
}

impl FileView {
    /// Keeps `content` at `path`, within the limits on kept files.
    fn keep(&mut self, path: String, content: Vec<u8>, limits: &Limits) -> Result<(), TarError> {
        let replaced = self.files.get(&path).map_or(0, |c| c.len() as u64);
        if replaced == 0
            && !self.files.contains_key(&path)
            && self.files.len() as u64 >= limits.max_kept_files
        {
            return Err(over(
                "max_kept_files",
                limits.max_kept_files,
                format!(
                    "more than {} files the checks read (such as JDK release files)",
                    thousands(limits.max_kept_files)
                ),
            )
            .into());
        }
        let total = self.kept_bytes - replaced + content.len() as u64;
        if total > limits.max_kept_bytes {
            return Err(over(
                "max_kept_bytes",
                limits.max_kept_bytes,
                format!("{} bytes of files the checks read", thousands(total)),
            )
            .into());
        }
        self.kept_bytes = total;
        self.files.insert(path, content);
        Ok(())
    }

    /// Drops the kept files `gone` says are gone.
    fn forget(
        &mut self,
        added_here: &mut BTreeSet<String>,
        gone: impl Fn(&str, &BTreeSet<String>) -> bool,
    ) {
        let mut freed = 0;
        self.files.retain(|p, c| {
            let keep = !gone(p, added_here);
            if !keep {
                freed += c.len() as u64;
            }
            keep
        });
        self.kept_bytes -= freed;
        added_here.retain(|p| self.files.contains_key(p));
    }

    /// Drops the archives under `prefix` (all when empty) that an earlier layer added, or the
    /// one at `exact`.
    fn forget_libraries(&mut self, exact: Option<&str>, prefix: Option<&str>) {
        let layer = self.libraries_layer;
        let mut dropped = 0u64;
        self.libraries.retain(|p, (l, found)| {
            let gone = exact == Some(p.as_str())
                || prefix.is_some_and(|pre| *l < layer && p.starts_with(pre));
            if gone {
                dropped += found.len() as u64;
            }
            !gone
        });
        self.library_count -= dropped;
    }

    /// Keeps the libraries of the archive at `path` (its bytes when it was read).
    fn keep_libraries(&mut self, path: &str, data: Option<&[u8]>, limits: &Limits) {
        let room = limits.max_libraries.saturating_sub(self.library_count) as usize;
        // One more than there is room for: enough to know that some were left out.
        let mut found = jar::libraries(path, data, room.saturating_add(1));
        if found.len() > room {
            found.truncate(room);
            self.libraries_capped = true;
        }
        if !found.is_empty() {
            self.library_count += found.len() as u64;
            self.libraries
                .insert(path.to_owned(), (self.libraries_layer, found));
        }
    }

    /// Applies one layer (a tar stream) on top of what earlier layers left, within `limits`.
    pub fn apply_layer(&mut self, mut reader: impl Read, limits: &Limits) -> Result<(), TarError> {
        let mut archive = TarStream::new(&mut reader, limits);
        // The kept files this layer added (an opaque directory keeps them); a subset of
        // `files`, so it is bounded as they are.
        let mut added_here: BTreeSet<String> = BTreeSet::new();
        self.waste.begin_layer();
        self.libraries_layer += 1;
        while let Some(entry) = archive.next_entry()? {
            self.entries += 1;
            // A header may claim any size (GNU base-256 sizes reach 2^64 - 1); the data is
            // never there, but the count must not overflow on the way to finding that out.
            self.bytes = self.bytes.saturating_add(entry.size);
            let path = clean(&entry.path);
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
                self.forget(&mut added_here, |p, here| {
                    p.starts_with(&prefix) && !here.contains(p)
                });
                self.waste.opaque(&dir);
                self.forget_libraries(None, Some(&prefix));
                continue;
            }
            if let Some(deleted) = name.strip_prefix(".wh.") {
                let target = if dir.is_empty() {
                    deleted.to_owned()
                } else {
                    format!("{dir}/{deleted}")
                };
                let under = format!("{target}/");
                self.forget(&mut added_here, |p, _| p == target || p.starts_with(&under));
                self.waste.whiteout(&target);
                self.forget_libraries(Some(&target), Some(&under));
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
            if entry.kind == Kind::File {
                self.waste.file(&path, entry.size, limits);
            } else {
                self.waste.other(&path, entry.kind == Kind::Directory);
            }
            if entry.kind != Kind::Directory {
                self.forget_libraries(Some(&path), None);
            }
            if entry.kind == Kind::File && jar::is_archive(&path) {
                if entry.size <= limits.max_archive_bytes {
                    let data = archive.read_data()?;
                    self.keep_libraries(&path, Some(&data), limits);
                } else {
                    self.large_archives += 1;
                    self.keep_libraries(&path, None, limits);
                }
                continue;
            }
            if !wanted(&path) {
                continue;
            }
            match entry.kind {
                Kind::File if entry.size <= MAX_FILE => {
                    let content = archive.read_data()?;
                    self.keep(path.clone(), content, limits)?;
                    added_here.insert(path);
                }
                Kind::Symlink | Kind::HardLink => {
                    // `/etc/os-release` is a link to `../usr/lib/os-release` on many
                    // distributions: resolve it to its target when that is read.
                    if let Some(target) = &entry.link {
                        let resolved = if target.starts_with('/') || entry.kind == Kind::HardLink {
                            clean(target)
                        } else {
                            resolve(&dir, target)
                        };
                        self.keep(
                            path.clone(),
                            format!("@link:{resolved}").into_bytes(),
                            limits,
                        )?;
                        added_here.insert(path);
                    }
                }
                _ => {}
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
    fn a_header_claiming_an_enormous_size_is_an_error_not_an_overflow() {
        // Found by `scripts/fuzz layers`: after a real entry, a header claiming 2^64 - 1 bytes
        // (GNU base-256) overflowed the count of bytes (a panic in a debug build).
        let mut layer = tar_of(&[("etc/hostname", "box\n")], &[]);
        layer.truncate(layer.len() - 1024); // drop the end-of-archive blocks
        let mut h = tar::Header::new_gnu();
        h.set_path("var/huge").unwrap();
        h.set_size(u64::MAX);
        h.set_mode(0o644);
        h.set_cksum();
        layer.extend_from_slice(h.as_bytes());
        let mut view = FileView::default();
        let result = view.apply_layer(&layer[..], &Limits::default());
        assert!(result.is_err(), "the data of 2^64 - 1 bytes is not there");
        assert_eq!(view.bytes, u64::MAX);
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
        view.apply_layer(&layer[..], &Limits::default()).unwrap();
        assert_eq!(
            view.read_text("etc/os-release").unwrap(),
            "ID=debian\nVERSION_ID=\"12\"\n"
        );
        assert!(view.read("usr/bin/big").is_none());
        assert!(view.read("opt/java/openjdk/release").is_some());
        assert_eq!(view.python_dirs.iter().collect::<Vec<_>>(), ["3.12"]);
        assert_eq!(view.entries, 5);
    }

    /// A tar archive of (path, bytes) files.
    fn tar_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, content) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(content.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, path, *content).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn waste_and_libraries_are_followed_as_the_layers_stream() {
        let pom = b"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n";
        let jar = crate::check::jar::tests::zip_of(
            &[(
                "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
                pom,
            )],
            true,
        );
        let big = vec![7u8; 4000];
        let mut view = FileView::default();
        let limits = Limits::default();
        view.apply_layer(
            &tar_bytes(&[
                ("app/lib/core.jar", &jar),
                ("app/lib/log4j-api-2.14.1.jar", b"not a zip"),
                ("tmp/build.tar", &big),
                ("etc/os-release", b"ID=debian\n"),
            ])[..],
            &limits,
        )
        .unwrap();
        assert_eq!(view.library_count, 2);
        let found: Vec<String> = view
            .libraries
            .values()
            .flat_map(|(_, l)| {
                l.iter()
                    .map(|l| format!("{} {} {}", l.name, l.version, l.path))
            })
            .collect();
        assert_eq!(
            found,
            [
                "log4j-core 2.14.1 /app/lib/core.jar",
                "log4j-api 2.14.1 /app/lib/log4j-api-2.14.1.jar"
            ]
        );
        view.apply_layer(
            &tar_bytes(&[
                ("tmp/.wh.build.tar", b""),
                ("app/lib/.wh.log4j-api-2.14.1.jar", b""),
                ("etc/os-release", b"ID=alpine\n"),
            ])[..],
            &limits,
        )
        .unwrap();
        assert_eq!(view.library_count, 1, "the whiteout deleted a JAR");
        let total = (jar.len() + 9 + 4000 + 10 + 10) as u64;
        assert_eq!(view.waste.file_bytes, total);
        assert_eq!(view.waste.wasted_bytes, 9 + 4000 + 10);
        // A JAR over `max_archive_bytes` is named by its file only.
        let small = Limits {
            max_archive_bytes: 4,
            ..Limits::default()
        };
        let mut view = FileView::default();
        view.apply_layer(&tar_bytes(&[("core.jar", &jar)])[..], &small)
            .unwrap();
        assert_eq!((view.library_count, view.large_archives), (0, 1));
        // The number of libraries kept is bounded.
        let capped = Limits {
            max_libraries: 1,
            ..Limits::default()
        };
        let mut view = FileView::default();
        view.apply_layer(
            &tar_bytes(&[("a-1.jar", b"x"), ("b-2.jar", b"y")])[..],
            &capped,
        )
        .unwrap();
        assert_eq!(view.library_count, 1);
        assert!(view.libraries_capped);
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
            &Limits::default(),
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
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(view.read_text("etc/os-release").unwrap(), "ID=debian\n");
        assert!(view.read("usr/lib/jvm/java-11/release").is_none());
        view.apply_layer(
            &tar_of(&[("etc/.wh..wh..opq", "")], &[])[..],
            &Limits::default(),
        )
        .unwrap();
        assert!(view.read("etc/passwd").is_none(), "an opaque /etc hides it");
    }

    #[test]
    fn kept_files_are_bounded_in_number_and_size() {
        let paths: Vec<String> = (0..300)
            .map(|i| format!("usr/lib/jvm/java-{i}/release"))
            .collect();
        let files: Vec<(&str, &str)> = paths
            .iter()
            .map(|p| (p.as_str(), "JAVA_VERSION=\"17\"\n"))
            .collect();
        let layer = tar_of(&files, &[]);
        let mut view = FileView::default();
        let Err(TarError::Problem(p)) = view.apply_layer(&layer[..], &Limits::default()) else {
            panic!("the 257th kept file is refused")
        };
        assert_eq!(
            p.to_string(),
            "more than 256 files the checks read (such as JDK release files): over `check.limits.max_kept_files` (256)"
        );
        assert_eq!(view.files.len(), 256);

        let limits = Limits {
            max_kept_bytes: 100,
            ..Limits::default()
        };
        let mut view = FileView::default();
        let big = "x".repeat(60);
        let layer = tar_of(&[("etc/passwd", &big), ("etc/os-release", &big)], &[]);
        let Err(TarError::Problem(p)) = view.apply_layer(&layer[..], &limits) else {
            panic!("over the kept bytes")
        };
        assert_eq!(
            p.to_string(),
            "120 bytes of files the checks read: over `check.limits.max_kept_bytes` (100)"
        );
        // Replacing a file and deleting one give their room back.
        let mut view = FileView::default();
        view.apply_layer(&tar_of(&[("etc/passwd", &big)], &[])[..], &limits)
            .unwrap();
        view.apply_layer(&tar_of(&[("etc/passwd", &big)], &[])[..], &limits)
            .unwrap();
        view.apply_layer(&tar_of(&[("etc/.wh.passwd", "")], &[])[..], &limits)
            .unwrap();
        assert_eq!(view.kept_bytes, 0);
        view.apply_layer(&tar_of(&[("etc/os-release", &big)], &[])[..], &limits)
            .unwrap();
        assert_eq!(view.kept_bytes, 60);
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
