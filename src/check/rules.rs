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
