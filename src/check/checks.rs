//! The image checks, one function each, and [`run_checks`], which runs them over what
//! `facts` read from the image. Each check is a pure function of its settings and the facts:
//! it returns one [`CheckResult`] (or, for a setting that cannot be used, the message naming
//! it).

use std::collections::BTreeMap;

use regex_lite::Regex;

use super::facts::Efficiency;
use super::facts::{
    below, day_number, detect_os, detect_runtimes, version_numbers, Facts, ImageFacts, OsInfo,
};
use super::jar::Library;
use super::rules::{
    default_library_rules, CheckResult, Checks, EfficiencyCheck, LabelsCheck, Level,
    LibrariesCheck, OsCheck, Outcome, RuntimesCheck, SecretsCheck, SizeCheck, Toggle,
};
use super::waste::Waste;
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
        efficiency_check(&checks.efficiency, &facts.files.waste)?,
        libraries_check(&checks.libraries, &facts.files)?,
        label_credentials_check(&checks.label_credentials, &labels, redactor),
    ];
    let waste = &facts.files.waste;
    let libraries: Vec<Library> = facts
        .files
        .libraries
        .values()
        .flat_map(|(_, found)| found.iter().cloned())
        .collect();
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
        efficiency: (waste.file_bytes > 0 || facts.files.entries > 0).then(|| Efficiency {
            file_bytes: waste.file_bytes,
            wasted_bytes: waste.wasted_bytes,
            percent: (waste.percent() * 10.0).floor() / 10.0,
            capped: waste.capped,
        }),
        libraries,
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
                    redactor.label(name, v)
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

/// `os`: two tiers. The OS release is past its end of life (`severity`), or near it: a
/// warning `warn_days` before, or from the row's `warn_from`. The table is
/// `check.checks.os.end_of_life`, then the built-in one (`eol`).
fn os_check(
    c: &OsCheck,
    os: Option<&OsInfo>,
    today: i64,
) -> std::result::Result<CheckResult, String> {
    const TITLE: &str = "Supported operating system";
    if !c.enabled {
        return Ok(off("os", TITLE, c.severity));
    }
    let Some(info) = os else {
        return Ok(result(
            "os",
            TITLE,
            c.severity,
            Outcome::Pass,
            "no OS release file (a scratch or distroless image)".into(),
            Vec::new(),
        ));
    };
    let date = |d: &str, r: &super::rules::EndOfLife, key: &str| {
        day_number(d).ok_or_else(|| {
            format!(
                "`check.checks.os.end_of_life`: the {key} `{d}` for {} {} is not a date (YYYY-MM-DD)",
                r.id, r.version
            )
        })
    };
    // The rows of little.yaml are checked whether they match or not.
    for r in &c.end_of_life {
        date(&r.date, r, "date")?;
        if let Some(w) = &r.warn_from {
            date(w, r, "warn_from")?;
        }
    }
    let built_in = if c.default_table {
        super::eol::default_table()
    } else {
        Vec::new()
    };
    let matches = |r: &&super::rules::EndOfLife| {
        r.id == info.id
            && (info.version == r.version || info.version.starts_with(&format!("{}.", r.version)))
    };
    let (row, source) = match c.end_of_life.iter().find(matches) {
        Some(r) => (r, "check.checks.os.end_of_life"),
        None => match built_in.iter().find(matches) {
            Some(r) => (r, "the built-in end-of-life table"),
            None => {
                return Ok(result(
                    "os",
                    TITLE,
                    c.severity,
                    Outcome::Pass,
                    format!("{} (not in the end-of-life table)", info.name),
                    Vec::new(),
                ))
            }
        },
    };
    let end = date(&row.date, row, "date")?;
    let warn_from = match &row.warn_from {
        Some(w) => date(w, row, "warn_from")?,
        None => end - i64::from(c.warn_days),
    };
    let (outcome, summary) = if end <= today {
        (
            Outcome::of(c.severity),
            format!("{} reached its end of life on {}", info.name, row.date),
        )
    } else if today >= warn_from {
        (
            Outcome::Warn,
            format!(
                "{} reaches its end of life on {} (in {} days)",
                info.name,
                row.date,
                end - today
            ),
        )
    } else {
        (
            Outcome::Pass,
            format!("{} is supported until {}", info.name, row.date),
        )
    };
    Ok(result(
        "os",
        TITLE,
        c.severity,
        outcome,
        summary,
        vec![format!(
            "{} {}: end of life {} (from {source})",
            row.id, row.version, row.date
        )],
    ))
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

/// `efficiency`: the share of the layers' file bytes that is not overwritten or deleted by a
/// later layer is at least `min_percent`, and the wasted bytes at most `max_wasted_bytes`.
fn efficiency_check(
    c: &EfficiencyCheck,
    waste: &Waste,
) -> std::result::Result<CheckResult, String> {
    const TITLE: &str = "Image efficiency";
    if c.min_percent > 100 {
        return Err(format!(
            "`check.checks.efficiency.min_percent` is {}; it is a percentage (0 to 100)",
            c.min_percent
        ));
    }
    if !c.enabled {
        return Ok(off("efficiency", TITLE, c.severity));
    }
    let percent = (waste.percent() * 10.0).floor() / 10.0;
    let mut details = Vec::new();
    if percent < f64::from(c.min_percent) {
        details.push(format!(
            "{percent:.1}% is below the minimum of {}%",
            c.min_percent
        ));
    }
    if let Some(max) = c.max_wasted_bytes {
        if waste.wasted_bytes > max {
            details.push(format!(
                "{} wasted is more than {}",
                human(waste.wasted_bytes),
                human(max)
            ));
        }
    }
    let outcome = if details.is_empty() {
        Outcome::Pass
    } else {
        Outcome::of(c.severity)
    };
    if waste.capped {
        details.push("more paths than `check.limits.max_tracked_paths` (or `max_tracked_path_bytes`) were followed: the wasted bytes are at least this".into());
    }
    if waste.skipped_layers > 0 {
        details.push(format!(
            "{} zstd layers were not read and are not counted",
            waste.skipped_layers
        ));
    }
    Ok(result(
        "efficiency",
        TITLE,
        c.severity,
        outcome,
        format!(
            "{percent:.1}% efficient: {} of {} of files wasted (overwritten or deleted by a later layer)",
            human(waste.wasted_bytes),
            human(waste.file_bytes)
        ),
        details,
    ))
}

/// Whether a rule names a library: its artifact id (a Scala artifact's `_2.13` suffix left
/// out) and, when both say one, its group.
fn rule_matches(rule: &super::rules::LibraryRule, lib: &Library) -> bool {
    let name = lib.name.as_str();
    let named = name == rule.name
        || name
            .strip_prefix(rule.name.as_str())
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
    named
        && match (&rule.group, &lib.group) {
            (Some(want), Some(have)) => want == have,
            _ => true,
        }
}

/// `libraries`: no JAR in the layers is older than the `below` of a rule that names it.
fn libraries_check(
    c: &LibrariesCheck,
    files: &FileView,
) -> std::result::Result<CheckResult, String> {
    const TITLE: &str = "Library versions";
    let mut rules = c.rules.clone();
    if c.default_rules {
        for d in default_library_rules() {
            if !rules.iter().any(|r| r.name == d.name) {
                rules.push(d);
            }
        }
    }
    let severity = rules
        .iter()
        .map(|r| r.severity)
        .max()
        .unwrap_or(Level::Fail);
    if !c.enabled {
        return Ok(off("libraries", TITLE, severity));
    }
    for (i, r) in c.rules.iter().enumerate() {
        if version_numbers(&r.below).is_empty() {
            return Err(format!(
                "`check.checks.libraries.rules[{i}]`: `below: {}` for {} is not a version",
                r.below, r.name
            ));
        }
    }
    let mut details = Vec::new();
    let mut outcome = Outcome::Pass;
    let mut count = 0;
    for (_, found) in files.libraries.values() {
        for lib in found {
            count += 1;
            for rule in rules.iter().filter(|r| rule_matches(r, lib)) {
                if below(&lib.version, &rule.below) {
                    outcome = outcome.max(Outcome::of(rule.severity));
                    details.push(format!(
                        "{} {}{} in {} is older than {} ({})",
                        lib.name,
                        lib.version,
                        lib.group
                            .as_ref()
                            .map(|g| format!(" ({g})"))
                            .unwrap_or_default(),
                        lib.path,
                        rule.below,
                        rule.severity_word()
                    ));
                }
            }
        }
    }
    let summary = if count == 0 {
        "no Java libraries found".to_owned()
    } else if details.is_empty() {
        format!("{count} Java libraries found, none older than its rule")
    } else {
        format!(
            "{} of {count} Java libraries are older than their rules",
            details.len()
        )
    };
    let mut details = capped(details);
    if files.libraries_capped {
        details
            .push("more JARs than `check.limits.max_libraries`: the rest were not judged".into());
    }
    if files.large_archives > 0 {
        details.push(format!(
            "{} archives over `check.limits.max_archive_bytes` were judged by their file names only",
            files.large_archives
        ));
    }
    Ok(result(
        "libraries",
        TITLE,
        severity,
        outcome,
        summary,
        details,
    ))
}

/// `label_credentials`: no label holds credentials: a URL with a user and password or a
/// token before its host, a value of a known secret form, or a value under a name that says
/// it is secret. Wherever labels are shown, the credentials of a URL are stripped.
fn label_credentials_check(
    c: &Toggle,
    labels: &BTreeMap<String, String>,
    redactor: &Redactor,
) -> CheckResult {
    const TITLE: &str = "No credentials in labels";
    if !c.enabled {
        return off("label_credentials", TITLE, c.severity);
    }
    let mut details = Vec::new();
    for (k, v) in labels {
        if let Some(what) = redactor.url_credentials(v) {
            details.push(format!(
                "label `{k}` holds {what} in a URL: `{}` (shown without them)",
                redactor.label(k, v)
            ));
        } else if let Some(kind) = redactor.kind_of(v) {
            details.push(format!(
                "label `{k}` holds {}: {}",
                kind.described(),
                redactor.label(k, v)
            ));
        } else if !v.is_empty() && redactor.secret_name(k) {
            details.push(format!(
                "label `{k}` is named like a secret and set to a value: {}",
                redactor.label(k, v)
            ));
        }
    }
    let outcome = if details.is_empty() {
        Outcome::Pass
    } else {
        Outcome::of(c.severity)
    };
    result(
        "label_credentials",
        TITLE,
        c.severity,
        outcome,
        if details.is_empty() {
            format!("{} labels hold no credentials", labels.len())
        } else {
            format!("{} labels hold credentials", details.len())
        },
        capped(details),
    )
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
