//! The image checks of `little check`, each configurable in little.yaml (`check.checks`): on or
//! off, `warn` or `fail`, and its parameters. They read only what `ImageFacts` holds (the
//! image config, the manifest's layers and the few files of `check::layers::FileView`);
//! nothing is executed.
//!
//! This file holds their settings (the vocabulary little.yaml's `check.checks` is written in,
//! which the project model uses) and [`CheckResult`]; `check::facts` reads the image,
//! `check::checks` runs one function per check.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

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

    pub(crate) fn of(level: Level) -> Outcome {
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
    /// Bytes wasted by files that a later layer overwrites or deletes.
    pub efficiency: EfficiencyCheck,
    /// Versions of Java libraries (JARs) found in the layers.
    pub libraries: LibrariesCheck,
    /// No label carries credentials (a URL with a user and password or a token, such as
    /// `https://user:token@github.com/...`, or a value of a known secret form).
    pub label_credentials: Toggle,
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
    /// `/etc/os-release`'s ID: `debian`, `alpine`, `ubuntu`, `amzn`, `rhel`, ...
    pub id: String,
    /// A version or version prefix: `10`, `3.16`, `20.04`.
    pub version: String,
    /// The end of life, YYYY-MM-DD: past it the check fails (at `severity`).
    pub date: String,
    /// YYYY-MM-DD from which the check warns [default: `warn_days` before `date`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_from: Option<String>,
}

/// `os`: two tiers, a warning as the OS release nears its end of life (`warn_days` before it,
/// or from a row's `warn_from`) and `severity` past it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OsCheck {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What an OS release past its end of life is [default: fail].
    #[serde(default = "fail")]
    pub severity: Level,
    /// Rows of the end-of-life table; a row here wins over the built-in row of the same
    /// `id` and `version`.
    #[serde(default)]
    pub end_of_life: Vec<EndOfLife>,
    /// Use the built-in table (Debian, Ubuntu, Alpine, Amazon Linux, RHEL and UBI, CentOS,
    /// Rocky) after the rows of `end_of_life` [default: true].
    #[serde(default = "yes")]
    pub default_table: bool,
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
            severity: Level::Fail,
            end_of_life: Vec::new(),
            default_table: true,
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

/// `efficiency`: how much of what the layers hold is still in the image. Wasted bytes are
/// those of files that a later layer overwrites or deletes (a whiteout, an opaque
/// directory); the efficiency is the share of the layers' file bytes not wasted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EfficiencyCheck {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "warn")]
    pub severity: Level,
    /// The lowest efficiency allowed, in percent (0 to 100) [default: 80].
    #[serde(default = "eighty")]
    #[schemars(range(max = 100))]
    pub min_percent: u8,
    /// The most bytes that may be wasted [default: no maximum].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wasted_bytes: Option<u64>,
}

fn eighty() -> u8 {
    80
}

impl Default for EfficiencyCheck {
    fn default() -> Self {
        EfficiencyCheck {
            enabled: true,
            severity: Level::Warn,
            min_percent: 80,
            max_wasted_bytes: None,
        }
    }
}

/// A rule for a Java library: a JAR of this name older than `below` is a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryRule {
    /// The artifact id (`log4j-core`); a Scala artifact's `_2.13` suffix is ignored.
    pub name: String,
    /// The Maven group id, when it must match too (`org.apache.logging.log4j`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The lowest version allowed: an older one is a finding (`2.17.1`).
    pub below: String,
    #[serde(default = "fail")]
    pub severity: Level,
}

impl LibraryRule {
    /// `fail` or `warn`.
    pub fn severity_word(&self) -> &'static str {
        match self.severity {
            Level::Fail => "fail",
            Level::Warn => "warn",
        }
    }
}

/// `libraries`: JARs in the layers (`name-version.jar`, and `META-INF/maven/**/pom.properties`
/// inside a JAR small enough to read) checked against `rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LibrariesCheck {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Rules; a rule here replaces the built-in rule of the same name.
    #[serde(default)]
    pub rules: Vec<LibraryRule>,
    /// Use the built-in rules (log4j-core below 2.17.1, Log4Shell: fail) [default: true].
    #[serde(default = "yes")]
    pub default_rules: bool,
}

impl Default for LibrariesCheck {
    fn default() -> Self {
        LibrariesCheck {
            enabled: true,
            rules: Vec::new(),
            default_rules: true,
        }
    }
}

/// The built-in library rules.
pub fn default_library_rules() -> Vec<LibraryRule> {
    vec![LibraryRule {
        name: "log4j-core".into(),
        group: Some("org.apache.logging.log4j".into()),
        below: "2.17.1".into(),
        severity: Level::Fail,
    }]
}

/// `check.report`: the branding of the HTML report. Each is an `https://` URL; with either,
/// the page loads it (the page's referrer policy keeps its own address from being sent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBranding {
    /// A logo shown at the top of the page, instead of little's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// A style sheet loaded after the page's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub css_url: Option<String>,
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
