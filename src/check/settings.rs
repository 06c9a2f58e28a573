//! `little check`'s options, resolved from its flags over little.yaml's `check` section and
//! the documented defaults (platform, report prefix, link expiry and its 7-day cap, delivery
//! attempts, the worker's poll waits, webhook URLs), and where one image's reports are written.
//! The checks themselves are in `check` and the worker's loop in `worker`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::worker::{CheckTargets, WorkerOptions};
use super::{CheckReport, CheckSettings, ImageRef, WaiverLabel};
use crate::aws::pipeline::Encryption;
use crate::error::{Error, Result};
use crate::notify::escape;
use crate::project::config::CheckFile;

/// The platform an image index is resolved to when neither `--platform` nor
/// `check.platform` names one.
pub const DEFAULT_PLATFORM: &str = "linux/amd64";
/// The key prefix of stored reports (`check.report_prefix`).
pub const DEFAULT_REPORT_PREFIX: &str = "reports/";
/// How long report links are valid (`check.link_expiry`).
pub const DEFAULT_LINK_EXPIRY: &str = "24h";
/// The longest a presigned S3 link lasts.
pub const MAX_LINK_EXPIRY: Duration = Duration::from_secs(7 * 86_400);
/// The deliveries in which a failing target is tried (`check.notify.delivery_attempts`).
pub const DEFAULT_DELIVERY_ATTEMPTS: u32 = 3;

impl CheckSettings {
    /// The settings of one check: the flags over little.yaml's `check` section, the waiver
    /// label and the report's branding URLs checked.
    pub fn resolve(
        platform: Option<&str>,
        registry_url: Option<&str>,
        file: &CheckFile,
    ) -> Result<CheckSettings> {
        let waiver = match file.waiver_label.as_deref() {
            None => CheckSettings::default().waiver,
            Some("") => None,
            Some(text) => match text.split_once('=') {
                Some((name, value)) if !name.trim().is_empty() && !value.trim().is_empty() => {
                    Some(WaiverLabel {
                        name: name.trim().to_owned(),
                        value: value.trim().to_owned(),
                    })
                }
                _ => {
                    return Err(Error::Usage(format!(
                        "`check.waiver_label` is `{}`; write it as NAME=VALUE (such as `ops_permit_dangerous=exigency`), or \"\" for no waivers",
                        escape::line(text, 200)
                    )))
                }
            },
        };
        for (key, url) in [
            ("logo_url", &file.report.logo_url),
            ("css_url", &file.report.css_url),
        ] {
            if let Some(url) = url {
                https_url(url).map_err(|why| {
                    Error::Usage(format!(
                        "`check.report.{key}` is `{}`: {why}",
                        escape::line(url, 200)
                    ))
                })?;
            }
        }
        Ok(CheckSettings {
            waiver,
            branding: file.report.clone(),
            checks: file.checks.clone(),
            platform: platform
                .map(str::to_owned)
                .or_else(|| file.platform.clone())
                .unwrap_or_else(|| DEFAULT_PLATFORM.into()),
            registry_url: registry_url
                .map(str::to_owned)
                .or_else(|| file.registry_url.clone()),
            limits: file.limits.clone(),
        })
    }
}

/// Checks that `url` is an `https://` URL with a host, and nothing in it that could leave an
/// HTML attribute or a CSS context (quotes, angle brackets, spaces, control characters).
fn https_url(url: &str) -> std::result::Result<(), &'static str> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err("it must be an https:// URL");
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return Err("it names no host (or a user before it)");
    }
    if url.len() > 2048
        || url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "\"'<>\\`(){}".contains(c))
    {
        return Err("it holds a character a URL does not need (a quote, a bracket, a space)");
    }
    Ok(())
}

/// The flags of `little check` that the worker reads.
#[derive(Debug, Clone, Default)]
pub struct WorkerFlags {
    /// `--queue`.
    pub queue: Option<String>,
    /// `--bucket`.
    pub bucket: Option<String>,
    /// `--enforce`.
    pub enforce: bool,
    /// `--once`.
    pub once: bool,
    /// `--skip-untagged`.
    pub skip_untagged: bool,
}

impl WorkerOptions {
    /// The worker's options: the flags over little.yaml's `check` section, every setting
    /// checked (link expiry, delivery attempts, repository patterns, webhook URLs) before
    /// the worker starts. `html` writes a report's HTML page (the caller's printer).
    pub fn resolve(
        flags: WorkerFlags,
        file: &CheckFile,
        settings: CheckSettings,
        html: fn(&CheckReport, &super::rules::ReportBranding) -> String,
    ) -> Result<WorkerOptions> {
        let queue_url = flags
            .queue
            .or_else(|| file.queue_url.clone())
            .ok_or_else(|| {
                Error::Usage(
                    "name an image (REPOSITORY:TAG), or a queue with `--queue` or `check.queue_url`"
                        .into(),
                )
            })?;
        let link_text = file
            .link_expiry
            .clone()
            .unwrap_or_else(|| DEFAULT_LINK_EXPIRY.into());
        let link_expiry = crate::duration::parse(&link_text)
            .map_err(|e| Error::Usage(format!("`check.link_expiry`: {e}")))?;
        if link_expiry > MAX_LINK_EXPIRY {
            return Err(Error::Usage(format!(
                "`check.link_expiry` is {link_text}; presigned links last at most 7d"
            )));
        }
        let delivery_attempts = file
            .notify
            .delivery_attempts
            .unwrap_or(DEFAULT_DELIVERY_ATTEMPTS);
        if !(1..=10).contains(&delivery_attempts) {
            return Err(Error::Usage(format!(
                "`check.notify.delivery_attempts` is {delivery_attempts}; it must be 1 to 10 (and below the queue's maxReceiveCount)"
            )));
        }
        for (i, pattern) in file.repositories.iter().enumerate() {
            let name = pattern.replace('*', "x");
            if !super::event::is_repository_name(&name) && pattern != "*" {
                return Err(Error::Usage(format!(
                    "`check.repositories[{i}]` is `{pattern}`, which matches no repository name (lower-case letters, digits, `.`, `_`, `-` and `/`; `*` for any characters)"
                )));
            }
        }
        let mut webhooks = Vec::new();
        for (i, w) in file.notify.webhooks.iter().enumerate() {
            let url = crate::notify::webhook_url(
                w.url.as_deref(),
                w.url_env.as_deref(),
                &format!("check.notify.webhooks[{i}]"),
            )?;
            webhooks.push((url, w.format, w.on.clone()));
        }
        Ok(WorkerOptions {
            queue_url,
            bucket: flags.bucket.or_else(|| file.report_bucket.clone()),
            prefix: file
                .report_prefix
                .clone()
                .unwrap_or_else(|| DEFAULT_REPORT_PREFIX.into()),
            encryption: match &file.report_kms_key {
                Some(k) => Encryption::Kms(Some(k.clone())),
                None => Encryption::S3,
            },
            link_expiry,
            enforce: flags.enforce,
            targets: CheckTargets {
                sns_topic_arn: file.notify.sns_topic_arn.clone(),
                sns_on: file.notify.sns_on.clone(),
                webhooks,
            },
            settings,
            repositories: file.repositories.clone(),
            delivery_attempts,
            skip_untagged: flags.skip_untagged || file.skip_untagged.unwrap_or(false),
            once: flags.once,
            // Long polls (which ask every SQS server); with --once a short one ends the run
            // soon after the queue is empty.
            wait: Duration::from_secs(if flags.once { 2 } else { 20 }),
            retry: crate::notify::webhook::Retry::default(),
            html,
        })
    }
}

/// Where one image's reports go under `dir`: `<dir>/<repository>/<tag>.json` and `.html`
/// (a digest's `:` becomes `-`).
pub fn report_paths(dir: &Path, image: &ImageRef) -> (PathBuf, PathBuf) {
    let name = if image.is_digest() {
        image.reference.replace(':', "-")
    } else {
        image.reference.clone()
    };
    let dir = dir.join(&image.repository);
    (
        dir.join(format!("{name}.json")),
        dir.join(format!("{name}.html")),
    )
}

/// Writes one image's report as JSON and as `html` (the HTML page of it, written by the
/// caller's printer) at [`report_paths`]; returns the two paths.
pub fn write_reports(
    dir: &Path,
    image: &ImageRef,
    report: &CheckReport,
    html: String,
) -> Result<(PathBuf, PathBuf)> {
    let (json_path, html_path) = report_paths(dir, image);
    let folder = dir.join(&image.repository);
    std::fs::create_dir_all(&folder).map_err(|source| Error::Write {
        path: folder.clone(),
        source,
    })?;
    let json = serde_json::to_string_pretty(report).map_err(|e| Error::Internal(e.to_string()))?;
    for (path, body) in [(&json_path, json), (&html_path, html)] {
        std::fs::write(path, body).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok((json_path, html_path))
}

/// The process's peak resident memory (Linux), for `-v`.
pub fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(text: &str) -> ImageRef {
        ImageRef::parse(text).unwrap()
    }

    #[test]
    fn settings_take_the_flags_over_the_file_over_the_defaults() {
        let empty = CheckFile::default();
        let s = CheckSettings::resolve(None, None, &empty).unwrap();
        assert_eq!(s.platform, "linux/amd64");
        assert_eq!(s.registry_url, None);
        let file = CheckFile {
            platform: Some("linux/arm64".into()),
            registry_url: Some("http://proxy".into()),
            ..CheckFile::default()
        };
        let s = CheckSettings::resolve(None, None, &file).unwrap();
        assert_eq!(s.platform, "linux/arm64");
        assert_eq!(s.registry_url.as_deref(), Some("http://proxy"));
        let s = CheckSettings::resolve(Some("linux/386"), Some("http://local"), &file).unwrap();
        assert_eq!(s.platform, "linux/386");
        assert_eq!(s.registry_url.as_deref(), Some("http://local"));
    }

    #[test]
    fn the_waiver_label_and_branding_urls_are_checked() {
        let s = CheckSettings::resolve(None, None, &CheckFile::default()).unwrap();
        assert_eq!(
            s.waiver.unwrap().to_string(),
            "ops_permit_dangerous=exigency"
        );
        let file = |waiver: &str| CheckFile {
            waiver_label: Some(waiver.into()),
            ..CheckFile::default()
        };
        let s = CheckSettings::resolve(None, None, &file("emergency = yes")).unwrap();
        assert_eq!(
            s.waiver,
            Some(WaiverLabel {
                name: "emergency".into(),
                value: "yes".into()
            })
        );
        assert_eq!(
            CheckSettings::resolve(None, None, &file(""))
                .unwrap()
                .waiver,
            None
        );
        for bad in ["emergency", "=yes", "x="] {
            let e = CheckSettings::resolve(None, None, &file(bad)).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!(
                    "`check.waiver_label` is `{bad}`; write it as NAME=VALUE"
                )),
                "{e}"
            );
        }
        let branded = |logo: &str| CheckFile {
            report: crate::check::rules::ReportBranding {
                logo_url: Some(logo.into()),
                css_url: Some("https://cdn.example/r.css".into()),
            },
            ..CheckFile::default()
        };
        let s = CheckSettings::resolve(None, None, &branded("https://cdn.example/l.svg")).unwrap();
        assert_eq!(
            s.branding.logo_url.as_deref(),
            Some("https://cdn.example/l.svg")
        );
        for (bad, why) in [
            ("http://cdn.example/l.svg", "it must be an https:// URL"),
            ("javascript:alert(1)", "it must be an https:// URL"),
            ("https://", "it names no host"),
            ("https://u:p@cdn.example/l", "it names no host"),
            ("https://cdn.example/\" onerror=\"x", "it holds a character"),
            ("https://cdn.example/a b", "it holds a character"),
        ] {
            let e = CheckSettings::resolve(None, None, &branded(bad)).unwrap_err();
            assert!(
                e.to_string().starts_with("`check.report.logo_url` is `"),
                "{e}"
            );
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn skip_untagged_comes_from_the_flag_or_the_file() {
        assert!(
            !worker(queue(), &CheckFile::default())
                .unwrap()
                .skip_untagged
        );
        let file = CheckFile {
            skip_untagged: Some(true),
            ..CheckFile::default()
        };
        assert!(worker(queue(), &file).unwrap().skip_untagged);
        let flag = WorkerFlags {
            skip_untagged: true,
            ..queue()
        };
        assert!(worker(flag, &CheckFile::default()).unwrap().skip_untagged);
    }

    fn worker(flags: WorkerFlags, file: &CheckFile) -> Result<WorkerOptions> {
        WorkerOptions::resolve(
            flags,
            file,
            CheckSettings::resolve(None, None, file).unwrap(),
            crate::report::check::html,
        )
    }

    fn queue() -> WorkerFlags {
        WorkerFlags {
            queue: Some("https://sqs/q".into()),
            ..WorkerFlags::default()
        }
    }

    #[test]
    fn worker_defaults() {
        let o = worker(queue(), &CheckFile::default()).unwrap();
        assert_eq!(o.queue_url, "https://sqs/q");
        assert_eq!(o.prefix, "reports/");
        assert_eq!(o.link_expiry, Duration::from_secs(86_400));
        assert_eq!(o.delivery_attempts, 3);
        assert_eq!(o.wait, Duration::from_secs(20));
        assert_eq!(o.bucket, None);
        assert!(matches!(o.encryption, Encryption::S3));
        let once = worker(
            WorkerFlags {
                once: true,
                ..queue()
            },
            &CheckFile::default(),
        )
        .unwrap();
        assert_eq!(once.wait, Duration::from_secs(2));
        assert!(once.once);
    }

    #[test]
    fn worker_flags_over_the_file() {
        let file = CheckFile {
            queue_url: Some("https://sqs/file".into()),
            report_bucket: Some("file-bucket".into()),
            report_prefix: Some("r/".into()),
            report_kms_key: Some("alias/k".into()),
            link_expiry: Some("7d".into()),
            ..CheckFile::default()
        };
        let o = worker(WorkerFlags::default(), &file).unwrap();
        assert_eq!(o.queue_url, "https://sqs/file");
        assert_eq!(o.bucket.as_deref(), Some("file-bucket"));
        assert_eq!(o.prefix, "r/");
        assert_eq!(o.link_expiry, MAX_LINK_EXPIRY);
        assert!(matches!(o.encryption, Encryption::Kms(Some(ref k)) if k == "alias/k"));
        let o = worker(
            WorkerFlags {
                bucket: Some("flag-bucket".into()),
                ..queue()
            },
            &file,
        )
        .unwrap();
        assert_eq!(o.queue_url, "https://sqs/q");
        assert_eq!(o.bucket.as_deref(), Some("flag-bucket"));
    }

    #[test]
    fn worker_settings_out_of_range_are_usage_errors() {
        let e = worker(WorkerFlags::default(), &CheckFile::default()).unwrap_err();
        assert!(e.to_string().contains("`check.queue_url`"), "{e}");
        let mut file = CheckFile {
            link_expiry: Some("8d".into()),
            ..CheckFile::default()
        };
        let e = worker(queue(), &file).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`check.link_expiry` is 8d; presigned links last at most 7d"
        );
        file.link_expiry = Some("soon".into());
        let e = worker(queue(), &file).unwrap_err();
        assert!(e.to_string().starts_with("`check.link_expiry`: "), "{e}");
        file.link_expiry = None;
        file.notify.delivery_attempts = Some(11);
        let e = worker(queue(), &file).unwrap_err();
        assert!(e.to_string().contains("is 11; it must be 1 to 10"), "{e}");
        file.notify.delivery_attempts = Some(0);
        assert!(worker(queue(), &file).is_err());
        file.notify.delivery_attempts = Some(10);
        file.repositories = vec!["team/*".into(), "*".into()];
        assert!(worker(queue(), &file).is_ok());
        file.repositories = vec!["Team/API".into()];
        let e = worker(queue(), &file).unwrap_err();
        assert!(e.to_string().contains("`check.repositories[0]`"), "{e}");
    }

    #[test]
    fn reports_are_named_by_repository_and_reference() {
        let dir = Path::new("out");
        assert_eq!(
            report_paths(dir, &image("team/api:v1")),
            (
                PathBuf::from("out/team/api/v1.json"),
                PathBuf::from("out/team/api/v1.html")
            )
        );
        let digest = format!("sha256:{}", "a".repeat(64));
        let (json, html) = report_paths(dir, &image(&format!("api@{digest}")));
        let file = format!("sha256-{}", "a".repeat(64));
        assert_eq!(json, Path::new("out/api").join(format!("{file}.json")));
        assert_eq!(html, Path::new("out/api").join(format!("{file}.html")));
    }
}
