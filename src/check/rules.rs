//! The image checks of `little check`, each configurable in little.yaml (`check.checks`): on or
//! off, `warn` or `fail`, and its parameters. They read only what [`ImageFacts`] holds (the
//! image config, the manifest's layers and the few files of [`super::layers::FileView`]);
//! nothing is executed.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use regex_lite::Regex;
use serde::{Deserialize, Serialize};

use super::image::ImageConfig;
use super::layers::FileView;
use super::redact::Redactor;

/// What a failed check means.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warn,
    Fail,
}

/// A check's (or the image's) result, from best to worst.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Skipped,
    Pass,
    Warn,
    Fail,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skipped => "skipped",
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Fail => "fail",
        }
    }

    fn of(level: Level) -> Outcome {
        match level {
            Level::Warn => Outcome::Warn,
            Level::Fail => Outcome::Fail,
        }
    }
}

fn yes() -> bool {
    true
}

/// `check.checks` in little.yaml; every check is on by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Checks {
    pub labels: LabelsCheck,
    pub non_root: Toggle,
    pub secrets: SecretsCheck,
    pub os: OsCheck,
    pub runtimes: RuntimesCheck,
    pub size: SizeCheck,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Toggle {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "fail")]
    pub severity: Level,
}

fn fail() -> Level {
    Level::Fail
}

fn warn() -> Level {
    Level::Warn
}

impl Default for Toggle {
    fn default() -> Self {
        Toggle {
            enabled: true,
            severity: Level::Fail,
        }
    }
}

/// Labels the image must carry, each with a regular expression its value must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelsCheck {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "fail")]
    pub severity: Level,
    /// Label to pattern, such as `owner_team: "^[a-z][a-z0-9-]+$"` (`.*`: any value).
    #[serde(default)]
    pub required: IndexMap<String, String>,
}

impl Default for LabelsCheck {
    fn default() -> Self {
        LabelsCheck {
            enabled: true,
            severity: Level::Fail,
            required: IndexMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretsCheck {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "fail")]
    pub severity: Level,
    /// Environment variables never reported (names).
    #[serde(default)]
    pub allow: Vec<String>,
    /// More patterns (regular expressions) of secret values.
    #[serde(default)]
    pub patterns: Vec<String>,
}

impl Default for SecretsCheck {
    fn default() -> Self {
        SecretsCheck {
            enabled: true,
            severity: Level::Fail,
            allow: Vec::new(),
            patterns: Vec::new(),
        }
    }
}

/// One row of the end-of-life table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndOfLife {
    /// `/etc/os-release`'s ID: `debian`, `alpine`, `ubuntu`, `amzn`, ...
    pub id: String,
    /// A version or version prefix: `10`, `3.16`, `20.04`.
    pub version: String,
    /// YYYY-MM-DD.
    pub date: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OsCheck {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "warn")]
    pub severity: Level,
    #[serde(default)]
    pub end_of_life: Vec<EndOfLife>,
    /// Warn this many days before the end of life [default: 90].
    #[serde(default = "ninety")]
    pub warn_days: u32,
}

fn ninety() -> u32 {
    90
}

impl Default for OsCheck {
    fn default() -> Self {
        OsCheck {
            enabled: true,
            severity: Level::Warn,
            end_of_life: Vec::new(),
            warn_days: 90,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuntimesCheck {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "warn")]
    pub severity: Level,
    /// `java`, `node`, `python` to the lowest version allowed, such as `java: "17"`.
    #[serde(default)]
    pub minimum: BTreeMap<String, String>,
}

impl Default for RuntimesCheck {
    fn default() -> Self {
        RuntimesCheck {
            enabled: true,
            severity: Level::Warn,
            minimum: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizeCheck {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "warn")]
    pub severity: Level,
    /// Compressed size of all layers [default: 1 GiB].
    #[serde(default = "gib")]
    pub max_bytes: u64,
    #[serde(default = "fifty")]
    pub max_layers: u32,
}

fn gib() -> u64 {
    1 << 30
}

fn fifty() -> u32 {
    50
}

impl Default for SizeCheck {
    fn default() -> Self {
        SizeCheck {
            enabled: true,
            severity: Level::Warn,
            max_bytes: gib(),
            max_layers: 50,
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// `labels`, `non_root`, `secrets`, `os`, `runtimes`, `size`.
    pub id: String,
    pub title: String,
    pub outcome: Outcome,
    /// What a failure of this check means (from config).
    pub severity: Level,
    pub summary: String,
    #[serde(default)]
    pub details: Vec<String>,
}

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
}

/// The day number (days since 1970-01-01) of `YYYY-MM-DD`.
fn day_number(date: &str) -> Option<i64> {
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
fn below(version: &str, minimum: &str) -> bool {
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
fn split_command(cmd: &str) -> Vec<String> {
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
fn wrap(line: &str, width: usize) -> Vec<String> {
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

fn result(
    id: &str,
    title: &str,
    severity: Level,
    outcome: Outcome,
    summary: String,
    details: Vec<String>,
) -> CheckResult {
    CheckResult {
        id: id.into(),
        title: title.into(),
        outcome,
        severity,
        summary,
        details,
    }
}

/// The most details a check lists (an image decides how many it could have); the rest are
/// counted.
pub const MAX_DETAILS: usize = 50;

fn capped(mut details: Vec<String>) -> Vec<String> {
    if details.len() > MAX_DETAILS {
        let more = details.len() - MAX_DETAILS;
        details.truncate(MAX_DETAILS);
        details.push(format!("and {more} more"));
    }
    details
}

/// The result of a check that is turned off.
fn off(id: &str, title: &str, severity: Level) -> CheckResult {
    result(
        id,
        title,
        severity,
        Outcome::Skipped,
        "turned off".into(),
        Vec::new(),
    )
}

/// Runs the checks; `today` is the day number of the report's date.
pub fn run_checks(
    checks: &Checks,
    facts: &ImageFacts,
    today: i64,
    redactor: &Redactor,
) -> std::result::Result<(Vec<CheckResult>, Facts), String> {
    let config = &facts.config;
    let env = config.env();
    let labels = config.config.labels.clone().unwrap_or_default();
    let user = config
        .config
        .user
        .clone()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "root".into());
    let os = detect_os(&facts.files);
    let runtimes = detect_runtimes(config, &facts.files);
    // Sizes come from the manifest: summed without overflow whatever they say.
    let size: i64 = facts
        .layer_sizes
        .iter()
        .fold(0i64, |total, s| total.saturating_add((*s).max(0)));
    let mut results = Vec::new();

    // Labels.
    let c = &checks.labels;
    if !c.enabled || c.required.is_empty() {
        results.push(result(
            "labels",
            "Required labels",
            c.severity,
            Outcome::Skipped,
            if c.enabled {
                "no labels are required (check.checks.labels.required)".into()
            } else {
                "turned off".into()
            },
            Vec::new(),
        ));
    } else {
        let mut details = Vec::new();
        for (name, pattern) in &c.required {
            let re = Regex::new(pattern).map_err(|e| {
                format!("`check.checks.labels.required.{name}`: `{pattern}` is not a regular expression: {e}")
            })?;
            match labels.get(name) {
                None => details.push(format!("label `{name}` is missing")),
                Some(v) if !re.is_match(v) => details.push(format!(
                    "label `{name}` is `{}`, which does not match `{pattern}`",
                    redactor.pair(name, v)
                )),
                Some(_) => {}
            }
        }
        let outcome = if details.is_empty() {
            Outcome::Pass
        } else {
            Outcome::of(c.severity)
        };
        results.push(result(
            "labels",
            "Required labels",
            c.severity,
            outcome,
            if details.is_empty() {
                format!("all {} required labels are set", c.required.len())
            } else {
                format!(
                    "{} of {} required labels are wrong",
                    details.len(),
                    c.required.len()
                )
            },
            details,
        ));
    }

    // The user.
    let c = &checks.non_root;
    if c.enabled {
        let name = user.split(':').next().unwrap_or("").to_owned();
        let uid = if name.chars().all(|ch| ch.is_ascii_digit()) {
            name.parse::<u64>().ok()
        } else {
            facts.files.read_text("etc/passwd").and_then(|p| {
                p.lines().find_map(|l| {
                    let f: Vec<&str> = l.split(':').collect();
                    (f.first() == Some(&name.as_str()))
                        .then(|| f.get(2).and_then(|u| u.parse().ok()))
                        .flatten()
                })
            })
        };
        let (outcome, summary) = match (name.as_str(), uid) {
            ("root", _) | (_, Some(0)) => (
                Outcome::of(c.severity),
                format!("runs as `{user}` (uid 0): set USER to an unprivileged user"),
            ),
            (_, Some(u)) => (Outcome::Pass, format!("runs as `{user}` (uid {u})")),
            (_, None) => (
                Outcome::Pass,
                format!("runs as `{user}` (not in /etc/passwd: its uid is not known)"),
            ),
        };
        results.push(result(
            "non_root",
            "Runs as a non-root user",
            c.severity,
            outcome,
            summary,
            Vec::new(),
        ));
    } else {
        results.push(off("non_root", "Runs as a non-root user", c.severity));
    }

    // Secrets in the environment and the build history.
    let c = &checks.secrets;
    let mut shown_env = Vec::new();
    let mut details = Vec::new();
    for (k, v) in &env {
        let allowed = redactor.allowed(k);
        let by_value = redactor.kind_of(v);
        let by_name = !v.is_empty() && redactor.secret_name(k);
        let shown = redactor.pair(k, v);
        if !allowed && (by_value.is_some() || by_name) {
            details.push(match by_value {
                Some(what) => format!(
                    "environment variable `{k}` holds {}: {shown}",
                    what.described()
                ),
                None => format!("environment variable `{k}` is set to a value: {shown}"),
            });
        }
        shown_env.push((k.clone(), shown));
    }
    for (i, h) in config.history.iter().enumerate() {
        let text = h.created_by.as_deref().unwrap_or("");
        if let Some((what, shown)) = redactor.first_secret(text) {
            details.push(format!(
                "build step {} holds {}: {shown}",
                i + 1,
                what.described()
            ));
        } else if let Some((name, shown)) = redactor.first_assignment(text) {
            details.push(format!(
                "build step {} sets `{name}` to a value: {shown}",
                i + 1
            ));
        }
    }
    if c.enabled {
        let outcome = if details.is_empty() {
            Outcome::Pass
        } else {
            Outcome::of(c.severity)
        };
        results.push(result(
            "secrets",
            "No secrets in the environment or the build history",
            c.severity,
            outcome,
            if details.is_empty() {
                format!(
                    "{} environment variables and {} build steps look clean",
                    env.len(),
                    config.history.len()
                )
            } else {
                format!("{} possible secrets", details.len())
            },
            capped(details),
        ));
    } else {
        results.push(off(
            "secrets",
            "No secrets in the environment or the build history",
            c.severity,
        ));
    }

    // The OS and its end of life.
    let c = &checks.os;
    if !c.enabled {
        results.push(off("os", "Supported operating system", c.severity));
    } else {
        match &os {
            None => results.push(result(
                "os",
                "Supported operating system",
                c.severity,
                Outcome::Pass,
                "no OS release file (a scratch or distroless image)".into(),
                Vec::new(),
            )),
            Some(info) => {
                let row = c.end_of_life.iter().find(|r| {
                    r.id == info.id
                        && (info.version == r.version
                            || info.version.starts_with(&format!("{}.", r.version)))
                });
                let (outcome, summary) = match row.map(|r| (r, day_number(&r.date))) {
                    Some((r, None)) => {
                        return Err(format!(
                        "`check.checks.os.end_of_life`: `{}` for {} {} is not a date (YYYY-MM-DD)",
                        r.date, r.id, r.version
                    ))
                    }
                    Some((r, Some(day))) if day <= today => (
                        Outcome::of(c.severity),
                        format!("{} reached its end of life on {}", info.name, r.date),
                    ),
                    Some((r, Some(day))) if day - today <= i64::from(c.warn_days) => (
                        Outcome::Warn.min(Outcome::of(c.severity)),
                        format!(
                            "{} reaches its end of life on {} (in {} days)",
                            info.name,
                            r.date,
                            day - today
                        ),
                    ),
                    Some((r, Some(_))) => (
                        Outcome::Pass,
                        format!("{} is supported until {}", info.name, r.date),
                    ),
                    None => (
                        Outcome::Pass,
                        format!("{} (not in the end-of-life table)", info.name),
                    ),
                };
                results.push(result(
                    "os",
                    "Supported operating system",
                    c.severity,
                    outcome,
                    summary,
                    Vec::new(),
                ));
            }
        }
    }

    // Language runtimes.
    let c = &checks.runtimes;
    if !c.enabled {
        results.push(off("runtimes", "Runtime versions", c.severity));
    } else {
        let mut details = Vec::new();
        let mut found = Vec::new();
        for (name, (version, source)) in &runtimes {
            found.push(format!("{name} {version}"));
            if let Some(min) = c.minimum.get(name) {
                if below(version, min) {
                    details.push(format!(
                        "{name} {version} (from {source}) is older than {min}"
                    ));
                }
            }
        }
        let outcome = if details.is_empty() {
            Outcome::Pass
        } else {
            Outcome::of(c.severity)
        };
        results.push(result(
            "runtimes",
            "Runtime versions",
            c.severity,
            outcome,
            if found.is_empty() {
                "no Java, Node.js or Python runtime found".into()
            } else {
                found.join(", ")
            },
            details,
        ));
    }

    // Size and layers.
    let c = &checks.size;
    if !c.enabled {
        results.push(off("size", "Image size", c.severity));
    } else {
        let mut details = Vec::new();
        if size as u64 > c.max_bytes {
            details.push(format!(
                "{} compressed is more than {}",
                human(size as u64),
                human(c.max_bytes)
            ));
        }
        if facts.layer_sizes.len() > c.max_layers as usize {
            details.push(format!(
                "{} layers is more than {}",
                facts.layer_sizes.len(),
                c.max_layers
            ));
        }
        let outcome = if details.is_empty() {
            Outcome::Pass
        } else {
            Outcome::of(c.severity)
        };
        results.push(result(
            "size",
            "Image size",
            c.severity,
            outcome,
            format!(
                "{} compressed in {} layers",
                human(size as u64),
                facts.layer_sizes.len()
            ),
            details,
        ));
    }

    let facts_out = Facts {
        os,
        user,
        labels: labels.into_iter().collect(),
        env: shown_env,
        runtimes: runtimes
            .into_iter()
            .map(|(k, (v, source))| (k, format!("{v} ({source})")))
            .collect(),
        size_bytes: size,
        layers: facts.layer_sizes.len(),
    };
    Ok((results, facts_out))
}

/// `1.5 MiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Today's day number from Unix seconds.
pub fn day_of(unix_seconds: u64) -> i64 {
    (unix_seconds / 86_400) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::image::{HistoryEntry, RunConfig};

    fn facts(
        user: Option<&str>,
        env: &[&str],
        labels: &[(&str, &str)],
        files: &[(&str, &str)],
    ) -> ImageFacts {
        let mut view = FileView::default();
        for (p, c) in files {
            view.files.insert((*p).into(), c.as_bytes().to_vec());
        }
        ImageFacts {
            config: ImageConfig {
                config: RunConfig {
                    user: user.map(str::to_owned),
                    env: Some(env.iter().map(|e| (*e).to_owned()).collect()),
                    labels: Some(labels.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()),
                    ..RunConfig::default()
                },
                history: vec![HistoryEntry {
                    created_by: Some("/bin/sh -c apt-get update && apt-get install -y curl; rm -rf /var/lib/apt/lists/*".into()),
                    ..HistoryEntry::default()
                }],
                ..ImageConfig::default()
            },
            layer_sizes: vec![10, 20],
            files: view,
        }
    }

    fn run(
        checks: &Checks,
        facts: &ImageFacts,
        today: i64,
    ) -> std::result::Result<(Vec<CheckResult>, Facts), String> {
        let redactor = Redactor::new(&checks.secrets).unwrap();
        run_checks(checks, facts, today, &redactor)
    }

    fn outcome<'a>(results: &'a [CheckResult], id: &str) -> &'a CheckResult {
        results.iter().find(|r| r.id == id).unwrap()
    }

    #[test]
    fn a_clean_image_passes() {
        let mut checks = Checks::default();
        checks
            .labels
            .required
            .insert("owner_team".into(), "^[a-z-]+$".into());
        let f = facts(
            Some("app"),
            &["PATH=/usr/bin", "JAVA_VERSION=jdk-21.0.2+13"],
            &[("owner_team", "platform")],
            &[("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:10001:10001::/app:/bin/false\n"), ("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")],
        );
        let (results, facts) = run(&checks, &f, day_number("2026-11-29").unwrap()).unwrap();
        for r in &results {
            assert_eq!(r.outcome, Outcome::Pass, "{r:?}");
        }
        assert_eq!(facts.user, "app");
        assert_eq!(facts.os.unwrap().version, "12");
        assert_eq!(facts.runtimes["java"], "jdk-21.0.2+13 (JAVA_VERSION)");
        assert_eq!(
            outcome(&results, "non_root").summary,
            "runs as `app` (uid 10001)"
        );
    }

    #[test]
    fn each_violation_is_found() {
        let mut checks = Checks::default();
        checks
            .labels
            .required
            .insert("owner_team".into(), "^[a-z-]+$".into());
        checks.labels.required.insert("version".into(), ".*".into());
        checks.os.end_of_life.push(EndOfLife {
            id: "debian".into(),
            version: "10".into(),
            date: "2024-06-30".into(),
        });
        checks.runtimes.minimum.insert("java".into(), "17".into());
        checks.size.max_layers = 1;
        let f = facts(
            None,
            &[
                "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
                "DB_PASSWORD=hunter2",
                "CONFIG_FILE=/etc/x",
            ],
            &[("owner_team", "Platform Team")],
            &[
                ("etc/os-release", "ID=debian\nVERSION_ID=\"10\"\n"),
                ("opt/java/openjdk/release", "JAVA_VERSION=\"11.0.22\"\n"),
            ],
        );
        let (results, facts) = run(&checks, &f, day_number("2026-11-29").unwrap()).unwrap();
        let labels = outcome(&results, "labels");
        assert_eq!(labels.outcome, Outcome::Fail);
        assert_eq!(
            labels.details,
            [
                "label `owner_team` is `Platform Team`, which does not match `^[a-z-]+$`",
                "label `version` is missing",
            ]
        );
        assert_eq!(outcome(&results, "non_root").outcome, Outcome::Fail);
        let secrets = outcome(&results, "secrets");
        assert_eq!(secrets.outcome, Outcome::Fail);
        assert_eq!(secrets.details, [
            "environment variable `AWS_ACCESS_KEY_ID` holds an AWS access key id: [redacted AWS access key id, 20 characters]",
            "environment variable `DB_PASSWORD` is set to a value: [redacted secret, 7 characters]",
        ]);
        assert!(!facts
            .env
            .iter()
            .any(|(_, v)| v.contains("EXAMPLE") || v == "hunter2"));
        let os = outcome(&results, "os");
        assert_eq!(os.outcome, Outcome::Warn);
        assert!(os.summary.contains("reached its end of life on 2024-06-30"));
        let rt = outcome(&results, "runtimes");
        assert_eq!(rt.outcome, Outcome::Warn);
        assert_eq!(
            rt.details,
            ["java 11.0.22 (from /opt/java/openjdk/release) is older than 17"]
        );
        assert_eq!(outcome(&results, "size").outcome, Outcome::Warn);
    }

    #[test]
    fn secrets_in_the_build_history() {
        let mut f = facts(Some("1000"), &[], &[], &[]);
        f.config.history.push(HistoryEntry {
            created_by: Some("|1 NPM_TOKEN=npm_abcdefgh /bin/sh -c npm ci".into()),
            ..HistoryEntry::default()
        });
        f.config.history.push(HistoryEntry {
            created_by: Some(
                "/bin/sh -c echo ghp_0123456789abcdefghijklmnopqrstuvwxyz > /root/.token".into(),
            ),
            ..HistoryEntry::default()
        });
        let (results, _) = run(&Checks::default(), &f, 0).unwrap();
        assert_eq!(
            outcome(&results, "secrets").details,
            [
                "build step 2 sets `NPM_TOKEN` to a value: [redacted secret, 12 characters]",
                "build step 3 holds a GitHub token: [redacted GitHub token, 40 characters]",
            ]
        );
    }

    #[test]
    fn the_details_of_a_check_are_capped() {
        let env: Vec<String> = (0..120).map(|i| format!("TOKEN_{i}=v{i}")).collect();
        let env: Vec<&str> = env.iter().map(String::as_str).collect();
        let (results, facts) = run(&Checks::default(), &facts(None, &env, &[], &[]), 0).unwrap();
        let secrets = outcome(&results, "secrets");
        assert_eq!(secrets.summary, "120 possible secrets");
        assert_eq!(secrets.details.len(), MAX_DETAILS + 1);
        assert_eq!(secrets.details[MAX_DETAILS], "and 70 more");
        assert_eq!(facts.env.len(), 120);
    }

    #[test]
    fn history_is_split_and_wrapped() {
        let f = facts(None, &[], &[], &[]);
        let steps = history(&f.config, &Redactor::new(&SecretsCheck::default()).unwrap());
        assert_eq!(
            steps[0].lines,
            [
                "apt-get update",
                "apt-get install -y curl",
                "rm -rf /var/lib/apt/lists/*"
            ]
        );
        let long = format!("echo {}", "word ".repeat(40));
        let wrapped = wrap(long.trim(), 40);
        assert!(
            wrapped.iter().all(|l| l.chars().count() <= 40),
            "{wrapped:?}"
        );
        assert!(wrapped[1].starts_with("    "));
        assert_eq!(split_command("echo 'a && b'; ls"), ["echo 'a && b'", "ls"]);
    }

    #[test]
    fn versions_compare_by_their_numbers() {
        assert!(below("11.0.22", "17"));
        assert!(!below("17.0.1", "17"));
        assert!(below("3.8.10", "3.9"));
        assert!(!below("20.11.0", "18"));
        assert_eq!(version_numbers("jdk-21.0.2+13"), [21, 0, 2]);
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2024-03-01"), Some(19_783));
        assert_eq!(day_number("2024-13-01"), None);
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let mut checks = Checks::default();
        checks.labels.required.insert("team".into(), "([".into());
        let e = run(&checks, &facts(None, &[], &[], &[]), 0).unwrap_err();
        assert!(
            e.starts_with("`check.checks.labels.required.team`: `([` is not a regular expression"),
            "{e}"
        );
    }
}
