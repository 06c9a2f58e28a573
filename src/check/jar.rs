//! Java libraries in a layer: a JAR (or WAR, EAR) is named by its file (`log4j-core-2.14.1.jar`)
//! and, when it is at most `check.limits.max_archive_bytes`, read from memory for the
//! `META-INF/maven/<group>/<artifact>/pom.properties` files in it (a shaded JAR has one per
//! library it holds) and the names of the JARs nested in it (`BOOT-INF/lib/`, `WEB-INF/lib/`).
//! Nested archives are named, never opened: one level, bounded by the archive itself. The
//! reader is a small ZIP central-directory parser over a byte slice with every offset checked;
//! a ZIP it cannot read (ZIP64, corrupt) falls back to the file name. Nothing is extracted.

use std::io::Read;

/// A library found in the image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Library {
    /// The Maven group id, when a pom.properties names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The artifact id, or the file's name without its version.
    pub name: String,
    pub version: String,
    /// Where it was found: `/app/lib/x-1.jar`, `/app.jar!/BOOT-INF/lib/y-2.jar`.
    pub path: String,
}

/// Whether a path is a Java archive whose libraries are looked for.
pub fn is_archive(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".jar", ".war", ".ear"].iter().any(|e| lower.ends_with(e))
}

/// `log4j-core-2.14.1.jar` → (`log4j-core`, `2.14.1`): the name ends before the first `-`
/// followed by a digit.
pub fn name_version(file: &str) -> Option<(String, String)> {
    let base = file.rsplit('/').next().unwrap_or(file);
    let stem = base.get(..base.len().checked_sub(4)?)?;
    if !is_archive(base) {
        return None;
    }
    let bytes = stem.as_bytes();
    let at = (0..bytes.len().saturating_sub(1))
        .find(|i| bytes[*i] == b'-' && bytes[*i + 1].is_ascii_digit())?;
    (at > 0).then(|| (stem[..at].to_owned(), stem[at + 1..].to_owned()))
}

/// The largest pom.properties read, and the most entries of one archive looked at.
const MAX_PROPERTIES: u64 = 64 * 1024;
const MAX_ENTRIES: usize = 200_000;
/// The most pom.properties files read in one archive (each inflated at most
/// [`MAX_PROPERTIES`] bytes).
const MAX_POMS: usize = 1_000;
/// Longer names inside an archive are skipped.
const MAX_INNER_NAME: usize = 256;

fn u16_at(d: &[u8], at: usize) -> Option<usize> {
    d.get(at..at.checked_add(2)?)
        .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
}

fn u32_at(d: &[u8], at: usize) -> Option<usize> {
    d.get(at..at.checked_add(4)?)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// `key=value` lines of a properties file.
fn property(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().to_owned())
    })
}

/// The data of the entry whose local header is at `offset`, inflated if it is deflated,
/// at most [`MAX_PROPERTIES`] bytes.
fn entry_data(d: &[u8], offset: usize, method: usize, compressed: usize) -> Option<Vec<u8>> {
    if u32_at(d, offset)? != 0x0403_4b50 {
        return None;
    }
    let start = offset
        .checked_add(30)?
        .checked_add(u16_at(d, offset + 26)?)?
        .checked_add(u16_at(d, offset + 28)?)?;
    let raw = d.get(start..start.checked_add(compressed)?)?;
    let mut out = Vec::new();
    match method {
        0 => raw.take(MAX_PROPERTIES).read_to_end(&mut out).ok()?,
        8 => flate2::read::DeflateDecoder::new(raw)
            .take(MAX_PROPERTIES)
            .read_to_end(&mut out)
            .ok()?,
        _ => return None,
    };
    Some(out)
}

/// The libraries an archive's bytes hold, by its central directory, at most `max` of them;
/// `None` when it cannot be read as a ZIP.
pub fn read_archive(path: &str, d: &[u8], max: usize) -> Option<Vec<Library>> {
    // The end of central directory record: within the last 64 KiB + 22 bytes.
    let last = d.len().checked_sub(22)?;
    let first = last.saturating_sub(65_535);
    let eocd = (first..=last)
        .rev()
        .find(|i| u32_at(d, *i) == Some(0x0605_4b50))?;
    let count = u16_at(d, eocd + 10)?;
    let mut at = u32_at(d, eocd + 16)?;
    if count == 0xFFFF || at == 0xFFFF_FFFF {
        return None; // ZIP64
    }
    let mut found = Vec::new();
    let mut poms = 0;
    for _ in 0..count.min(MAX_ENTRIES) {
        if found.len() >= max {
            break;
        }
        if u32_at(d, at)? != 0x0201_4b50 {
            return None;
        }
        let method = u16_at(d, at + 10)?;
        let compressed = u32_at(d, at + 20)?;
        let size = u32_at(d, at + 24)?;
        let name_len = u16_at(d, at + 28)?;
        let extra = u16_at(d, at + 30)?;
        let comment = u16_at(d, at + 32)?;
        let local = u32_at(d, at + 42)?;
        let name = d.get(at + 46..(at + 46).checked_add(name_len)?)?;
        at = (at + 46)
            .checked_add(name_len)?
            .checked_add(extra)?
            .checked_add(comment)?;
        if name.len() > MAX_INNER_NAME {
            continue;
        }
        let name = String::from_utf8_lossy(name);
        if name.starts_with("META-INF/maven/")
            && name.ends_with("/pom.properties")
            && size as u64 <= MAX_PROPERTIES
            && poms < MAX_POMS
        {
            poms += 1;
            let Some(data) = entry_data(d, local, method, compressed) else {
                continue;
            };
            let text = String::from_utf8_lossy(&data);
            if let (Some(name), Some(version)) =
                (property(&text, "artifactId"), property(&text, "version"))
            {
                found.push(Library {
                    group: property(&text, "groupId"),
                    name,
                    version,
                    path: path.to_owned(),
                });
            }
        } else if is_archive(&name) {
            if let Some((n, v)) = name_version(&name) {
                found.push(Library {
                    group: None,
                    name: n,
                    version: v,
                    path: format!("{path}!/{name}"),
                });
            }
        }
    }
    Some(found)
}

/// The libraries of an archive at `path`, at most `max`: what its bytes say (`data`, when it
/// was read), else what its file name says.
pub fn libraries(path: &str, data: Option<&[u8]>, max: usize) -> Vec<Library> {
    let shown = format!("/{path}");
    let mut found = data
        .and_then(|d| read_archive(&shown, d, max))
        .unwrap_or_default();
    if !found.iter().any(|l| l.path == shown) {
        if let Some((name, version)) = name_version(path) {
            found.insert(
                0,
                Library {
                    group: None,
                    name,
                    version,
                    path: shown,
                },
            );
        }
    }
    found.truncate(max);
    found
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A ZIP of (name, content) entries, deflated or stored.
    pub(crate) fn zip_of(entries: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, content) in entries {
            let data = if deflate {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(content).unwrap();
                e.finish().unwrap()
            } else {
                content.to_vec()
            };
            let method: u16 = if deflate { 8 } else { 0 };
            let offset = out.len() as u32;
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0]);
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0; 8]); // time, date, crc (not checked)
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(content.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&data);
            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0]);
            central.extend_from_slice(&method.to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(content.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn names_and_versions_from_file_names() {
        assert_eq!(
            name_version("app/lib/log4j-core-2.14.1.jar"),
            Some(("log4j-core".into(), "2.14.1".into()))
        );
        assert_eq!(
            name_version("jackson-databind-2.13.4.2.jar"),
            Some(("jackson-databind".into(), "2.13.4.2".into()))
        );
        assert_eq!(
            name_version("reactivemongo_2.12-0.12.7.jar"),
            Some(("reactivemongo_2.12".into(), "0.12.7".into()))
        );
        assert_eq!(name_version("app.jar"), None);
        assert_eq!(name_version("-1.jar"), None);
        assert_eq!(name_version("x-1.txt"), None);
        assert_eq!(name_version(".jar"), None);
    }

    #[test]
    fn pom_properties_and_nested_jars_are_read_and_garbage_is_not() {
        let pom = b"#Generated by Maven\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n";
        for deflate in [false, true] {
            let jar = zip_of(
                &[
                    ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                    (
                        "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
                        pom,
                    ),
                    ("BOOT-INF/lib/commons-text-1.9.jar", b"PK nested"),
                ],
                deflate,
            );
            let found = libraries("app/app.jar", Some(&jar), 10);
            assert_eq!(
                found,
                vec![
                    Library {
                        group: Some("org.apache.logging.log4j".into()),
                        name: "log4j-core".into(),
                        version: "2.14.1".into(),
                        path: "/app/app.jar".into()
                    },
                    Library {
                        group: None,
                        name: "commons-text".into(),
                        version: "1.9".into(),
                        path: "/app/app.jar!/BOOT-INF/lib/commons-text-1.9.jar".into()
                    }
                ]
            );
            // Every truncation is read without a panic.
            for n in 0..jar.len() {
                let _ = read_archive("x", &jar[..n], 10);
            }
        }
        // Not a ZIP: the file name.
        assert_eq!(
            libraries("lib/log4j-core-2.17.1.jar", Some(b"not a zip"), 10),
            vec![Library {
                group: None,
                name: "log4j-core".into(),
                version: "2.17.1".into(),
                path: "/lib/log4j-core-2.17.1.jar".into()
            }]
        );
        assert!(libraries("lib/app.jar", None, 10).is_empty());
        // However many entries an archive names, at most `max` are kept.
        let names: Vec<String> = (0..500).map(|i| format!("lib/x{i}-1.0.jar")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let many = zip_of(&entries, false);
        assert_eq!(read_archive("x", &many, 1000).unwrap().len(), 500);
        assert_eq!(libraries("big.jar", Some(&many), 7).len(), 7);
    }
}
