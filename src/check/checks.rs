//! The six image checks, one function each, and [`run_checks`], which runs them over what
//! `facts` read from the image. Each check is a pure function of its settings and the facts:
//! it returns one [`CheckResult`] (or, for a setting that cannot be used, the message naming
//! it).

use std::collections::BTreeMap;

use regex_lite::Regex;

use super::facts::{below, day_number, detect_os, detect_runtimes, Facts, ImageFacts, OsInfo};
use super::rules::{
    CheckResult, Checks, LabelsCheck, Level, OsCheck, Outcome, RuntimesCheck, SecretsCheck,
    SizeCheck, Toggle,
};
use crate::check::image::ImageConfig;
use crate::check::layers::FileView;
use crate::check::redact::Redactor;

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
    let (secrets, shown_env) = secrets_check(&checks.secrets, config, redactor);
    let results = vec![
        labels_check(&checks.labels, &labels, redactor)?,
        user_check(&checks.non_root, &user, &facts.files),
        secrets,
        os_check(&checks.os, os.as_ref(), today)?,
        runtimes_check(&checks.runtimes, &runtimes),
        size_check(&checks.size, size, facts.layer_sizes.len()),
    ];
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

/// `labels`: every label `required` names is set and matches its pattern.
fn labels_check(
    c: &LabelsCheck,
    labels: &BTreeMap<String, String>,
    redactor: &Redactor,
) -> std::result::Result<CheckResult, String> {
    if !c.enabled || c.required.is_empty() {
        Ok(result(
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
        ))
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
        Ok(result(
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
        ))
    }
}

/// `non_root`: the image names a user other than root (by name through `/etc/passwd`).
fn user_check(c: &Toggle, user: &str, files: &FileView) -> CheckResult {
    if c.enabled {
        let name = user.split(':').next().unwrap_or("").to_owned();
        let uid = if name.chars().all(|ch| ch.is_ascii_digit()) {
            name.parse::<u64>().ok()
        } else {
            files.read_text("etc/passwd").and_then(|p| {
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
        result(
            "non_root",
            "Runs as a non-root user",
            c.severity,
            outcome,
            summary,
            Vec::new(),
        )
    } else {
        off("non_root", "Runs as a non-root user", c.severity)
    }
}

/// `secrets`: no environment variable or build step holds what looks like a secret; with the
/// environment as the report shows it (secret values shortened), whether the check is on or
/// not.
fn secrets_check(
    c: &SecretsCheck,
    config: &ImageConfig,
    redactor: &Redactor,
) -> (CheckResult, Vec<(String, String)>) {
    let env = config.env();
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
        (
            result(
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
            ),
            shown_env,
        )
    } else {
        (
            off(
                "secrets",
                "No secrets in the environment or the build history",
                c.severity,
            ),
            shown_env,
        )
    }
}

/// `os`: the OS release is not past (or near) its end of life in `end_of_life`.
fn os_check(
    c: &OsCheck,
    os: Option<&OsInfo>,
    today: i64,
) -> std::result::Result<CheckResult, String> {
    if !c.enabled {
        Ok(off("os", "Supported operating system", c.severity))
    } else {
        match &os {
            None => Ok(result(
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
                Ok(result(
                    "os",
                    "Supported operating system",
                    c.severity,
                    outcome,
                    summary,
                    Vec::new(),
                ))
            }
        }
    }
}

/// `runtimes`: each Java, Node.js or Python runtime found is at least its `minimum`.
fn runtimes_check(c: &RuntimesCheck, runtimes: &BTreeMap<String, (String, String)>) -> CheckResult {
    if !c.enabled {
        off("runtimes", "Runtime versions", c.severity)
    } else {
        let mut details = Vec::new();
        let mut found = Vec::new();
        for (name, (version, source)) in runtimes {
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
        result(
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
        )
    }
}

/// `size`: the compressed size and the layer count are within their maximums.
fn size_check(c: &SizeCheck, size: i64, layers: usize) -> CheckResult {
    if !c.enabled {
        off("size", "Image size", c.severity)
    } else {
        let mut details = Vec::new();
        if size as u64 > c.max_bytes {
            details.push(format!(
                "{} compressed is more than {}",
                human(size as u64),
                human(c.max_bytes)
            ));
        }
        if layers > c.max_layers as usize {
            details.push(format!("{} layers is more than {}", layers, c.max_layers));
        }
        let outcome = if details.is_empty() {
            Outcome::Pass
        } else {
            Outcome::of(c.severity)
        };
        result(
            "size",
            "Image size",
            c.severity,
            outcome,
            format!("{} compressed in {} layers", human(size as u64), layers),
            details,
        )
    }
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
mod tests;
