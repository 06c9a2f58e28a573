//! What the image checks look at, read from the image without running it: the OS release,
//! the language runtimes, the build history (with secrets redacted), and the day numbers of
//! dates. The checks themselves are in `checks`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::check::image::ImageConfig;
use crate::check::layers::FileView;
use crate::check::redact::Redactor;

/// The OS of the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    pub id: String,
    pub version: String,
    pub name: String,
}

/// What the checks look at.
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    pub config: ImageConfig,
    /// Compressed layer sizes, in order.
    pub layer_sizes: Vec<i64>,
    pub files: FileView,
}

/// Everything the checks found, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub os: Option<OsInfo>,
    /// The user the image runs as (`root` when it names none).
    pub user: String,
    pub labels: BTreeMap<String, String>,
    /// The environment, with values that look secret shortened.
    pub env: Vec<(String, String)>,
    /// `java`, `node`, `python` to the version found, and where it was found.
    pub runtimes: BTreeMap<String, String>,
    pub size_bytes: i64,
    pub layers: usize,
    /// The bytes of files in the layers and those wasted (overwritten or deleted by a later
    /// layer); none when the layers were not read to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efficiency: Option<Efficiency>,
    /// The Java libraries (JARs) found, at most `check.limits.max_libraries`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub libraries: Vec<crate::check::jar::Library>,
}

/// How much of what the layers hold is still in the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Efficiency {
    /// Bytes of regular files in all layers.
    pub file_bytes: u64,
    /// Bytes of files a later layer overwrote or deleted.
    pub wasted_bytes: u64,
    /// The share not wasted, in percent, rounded down to a tenth.
    pub percent: f64,
    /// More paths than `check.limits.max_tracked_paths` were in the layers:
    /// `wasted_bytes` is a lower bound.
    #[serde(default)]
    pub capped: bool,
}

// The percent is a finite number (a ratio of two counts), never NaN.
impl Eq for Efficiency {}

/// The day number (days since 1970-01-01) of `YYYY-MM-DD`.
pub(crate) fn day_number(date: &str) -> Option<i64> {
    let mut parts = date.trim().split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (proleptic Gregorian).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The leading numbers of a version: `17.0.9+9` → [17, 0, 9]; `jdk-21.0.1` → [21, 0, 1].
pub fn version_numbers(v: &str) -> Vec<u64> {
    let start = v.find(|c: char| c.is_ascii_digit()).unwrap_or(v.len());
    v[start..]
        .split(['.', '_'])
        .map_while(|p| {
            let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        })
        .collect()
}

/// Whether `version` is below `minimum`, comparing as many parts as `minimum` has.
pub(crate) fn below(version: &str, minimum: &str) -> bool {
    let v = version_numbers(version);
    let m = version_numbers(minimum);
    for (i, want) in m.iter().enumerate() {
        let have = v.get(i).copied().unwrap_or(0);
        if have != *want {
            return have < *want;
        }
    }
    false
}

/// `KEY=value` lines of an os-release file, unquoted.
fn os_release(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_owned(),
                v.trim().trim_matches('"').trim_matches('\'').to_owned(),
            )
        })
        .collect()
}

/// The image's OS, from os-release or the older release files.
pub fn detect_os(files: &FileView) -> Option<OsInfo> {
    if let Some(text) = files
        .read_text("etc/os-release")
        .or_else(|| files.read_text("usr/lib/os-release"))
    {
        let kv = os_release(&text);
        if let Some(id) = kv.get("ID") {
            let version = kv
                .get("VERSION_ID")
                .cloned()
                .or_else(|| {
                    (id == "debian")
                        .then(|| files.read_text("etc/debian_version"))
                        .flatten()
                        .map(|v| v.trim().to_owned())
                })
                .unwrap_or_default();
            return Some(OsInfo {
                id: id.clone(),
                name: kv
                    .get("PRETTY_NAME")
                    .cloned()
                    .unwrap_or_else(|| format!("{id} {version}")),
                version,
            });
        }
    }
    if let Some(v) = files.read_text("etc/alpine-release") {
        let v = v.trim().to_owned();
        return Some(OsInfo {
            id: "alpine".into(),
            name: format!("Alpine Linux v{v}"),
            version: v,
        });
    }
    if let Some(v) = files.read_text("etc/debian_version") {
        let v = v.trim().to_owned();
        return Some(OsInfo {
            id: "debian".into(),
            name: format!("Debian GNU/Linux {v}"),
            version: v,
        });
    }
    files.read_text("etc/redhat-release").map(|t| {
        let t = t.trim().to_owned();
        OsInfo {
            id: "rhel".into(),
            version: version_numbers(&t)
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join("."),
            name: t,
        }
    })
}

/// `java`, `node`, `python` to (version, where it was found).
pub fn detect_runtimes(
    config: &ImageConfig,
    files: &FileView,
) -> BTreeMap<String, (String, String)> {
    let env: BTreeMap<String, String> = config.env().into_iter().collect();
    let mut out = BTreeMap::new();
    // Java: a JDK's release file, else JAVA_VERSION.
    let java = files
        .files
        .keys()
        .filter(|p| p.ends_with("/release") && p.as_str() != "etc/release")
        .filter_map(|p| {
            let kv = os_release(&files.read_text(p)?);
            kv.get("JAVA_VERSION").map(|v| (v.clone(), format!("/{p}")))
        })
        .next()
        .or_else(|| {
            env.get("JAVA_VERSION")
                .map(|v| (v.clone(), "JAVA_VERSION".to_owned()))
        });
    if let Some(j) = java {
        out.insert("java".into(), j);
    }
    let node = env
        .get("NODE_VERSION")
        .map(|v| (v.clone(), "NODE_VERSION".to_owned()))
        .or_else(|| {
            [
                "usr/local/include/node/node_version.h",
                "usr/include/node/node_version.h",
            ]
            .iter()
            .find_map(|p| {
                let text = files.read_text(p)?;
                let define = |name: &str| {
                    text.lines().find_map(|l| {
                        l.strip_prefix(&format!("#define {name} "))
                            .map(|v| v.trim().to_owned())
                    })
                };
                Some((
                    format!(
                        "{}.{}.{}",
                        define("NODE_MAJOR_VERSION")?,
                        define("NODE_MINOR_VERSION")?,
                        define("NODE_PATCH_VERSION")?
                    ),
                    format!("/{p}"),
                ))
            })
        });
    if let Some(n) = node {
        out.insert("node".into(), n);
    }
    let python = env
        .get("PYTHON_VERSION")
        .map(|v| (v.clone(), "PYTHON_VERSION".to_owned()))
        .or_else(|| {
            files
                .python_dirs
                .iter()
                .max_by_key(|v| version_numbers(v))
                .map(|v| (v.clone(), format!("a python{v} library directory")))
        });
    if let Some(p) = python {
        out.insert("python".into(), p);
    }
    out
}

/// One step of the build history, made readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryStep {
    pub created: Option<String>,
    pub empty_layer: bool,
    /// The command split at `&&` and `;` and wrapped.
    pub lines: Vec<String>,
}

/// Splits a shell command at `&&` and `;` outside quotes.
pub(crate) fn split_command(cmd: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let chars: Vec<char> = cmd.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == ';' => {
                parts.push(std::mem::take(&mut current));
                i += 1;
                continue;
            }
            None if c == '&' && chars.get(i + 1) == Some(&'&') => {
                parts.push(std::mem::take(&mut current));
                i += 2;
                continue;
            }
            None => {}
        }
        current.push(c);
        i += 1;
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Lines of at most `width` characters, broken at spaces; continuations indented.
pub(crate) fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let extra = if current.is_empty() { 0 } else { 1 };
        if !current.is_empty() && current.chars().count() + extra + word.chars().count() > width {
            out.push(std::mem::take(&mut current));
            current.push_str("    ");
        } else if !current.is_empty() && !current.trim().is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// The build history, reformatted: the shell prefix dropped, commands split and wrapped. The
/// commands are redacted whole before they are split, so that a secret that spans lines (a
/// private key) is found.
pub fn history(config: &ImageConfig, redactor: &Redactor) -> Vec<HistoryStep> {
    config
        .history
        .iter()
        .map(|h| {
            let raw = redactor.text(h.created_by.as_deref().unwrap_or_default());
            let mut cmd = raw.trim().to_owned();
            for prefix in ["/bin/sh -c #(nop) ", "/bin/sh -c ", "|"] {
                if let Some(rest) = cmd.strip_prefix(prefix) {
                    cmd = rest.trim().to_owned();
                }
            }
            let lines = split_command(&cmd)
                .iter()
                .flat_map(|p| wrap(p, 100))
                .collect();
            HistoryStep {
                created: h.created.clone(),
                empty_layer: h.empty_layer,
                lines,
            }
        })
        .collect()
}
