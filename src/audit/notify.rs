//! The audit's notification (`little audit --notify`): the non-compliant repositories (and
//! stacks), each with its registry, region, findings and whether `--remediate` fixed it.
//! Nothing is sent when no finding reaches the notification's minimum severity. [`send`]
//! sends it to `audit.notify`'s targets and says what was sent; the command prints that.

use std::collections::BTreeMap;

use super::model::{AuditReport, Finding, Severity};
use crate::aws::connect::Account;
use crate::aws::connect::Connect;
use crate::error::{Error, Result, Verdict};
use crate::notify::{Item, Notification, Outcome, Targets};
use crate::project::config::NotifyFile;
use crate::text::plural;

/// The minimum severity notified when `audit.notify.min_severity` names none.
pub const DEFAULT_MIN_SEVERITY: &str = "LOW";

/// Where `--notify` sends, and from which severity: checked before the audit runs, so that a
/// bad target does not cost a whole audit.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub targets: Targets,
    pub min: Severity,
}

impl NotifySettings {
    /// The settings of little.yaml's `audit.notify`.
    pub fn resolve(file: &NotifyFile) -> Result<NotifySettings> {
        let min: Severity = file
            .min_severity
            .as_deref()
            .unwrap_or(DEFAULT_MIN_SEVERITY)
            .parse()
            .map_err(|e| Error::Usage(format!("`audit.notify.min_severity`: {e}")))?;
        Ok(NotifySettings {
            targets: file.targets()?,
            min,
        })
    }
}

/// What [`send`] did.
#[derive(Debug)]
pub enum Notified {
    /// No finding at or above this minimum: nothing was sent.
    Nothing { min: Severity },
    /// Sent to every target: a line per target.
    Sent(Vec<String>),
    /// A target could not be reached (the others were tried).
    Failed(Error),
}

impl Notified {
    /// The audit's verdict with this notification: one that could not be sent fails an
    /// audit that otherwise passed.
    pub fn verdict(&self, audit: Verdict) -> Verdict {
        match (self, audit) {
            (Notified::Failed(_), Verdict::Ok) => Verdict::Failed,
            (_, audit) => audit,
        }
    }
}

/// Where the audit's SNS client acts: the project's default region and account.
pub struct SnsTarget<'a> {
    pub region: Option<&'a str>,
    pub account: Option<&'a Account>,
}

/// Sends the report's notification (see [`audit_notification`]) to the targets; `fail_on`
/// decides its colour.
pub async fn send(
    report: &AuditReport,
    settings: &NotifySettings,
    fail_on: Severity,
    connect: &dyn Connect,
    sns_at: SnsTarget<'_>,
) -> Notified {
    let Some(message) = audit_notification(report, settings.min, fail_on, sns_at.region) else {
        return Notified::Nothing { min: settings.min };
    };
    let sent = async {
        let sns = match &settings.targets.sns_topic_arn {
            Some(_) => Some(connect.clients(sns_at.region, sns_at.account).await?.sns),
            None => None,
        };
        crate::notify::send(
            &message,
            &settings.targets,
            sns.as_deref(),
            crate::notify::webhook::Retry::default(),
        )
        .await
    };
    match sent.await {
        Ok(lines) => Notified::Sent(lines),
        Err(e) => Notified::Failed(e),
    }
}

/// The notification for a report, or None when no finding is at or above `min`.
/// `fail_on` decides the colour: at or above it is a failure, below it a warning.
pub fn audit_notification(
    report: &AuditReport,
    min: Severity,
    fail_on: Severity,
    default_region: Option<&str>,
) -> Option<Notification> {
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity >= min)
        .collect();
    if findings.is_empty() {
        return None;
    }
    // Grouped by (kind, account, region, resource), in the report's order.
    let mut groups: BTreeMap<(bool, String, String, String), Vec<&Finding>> = BTreeMap::new();
    for f in &findings {
        let is_stack = f.resource_type == "AWS::CloudFormation::Stack";
        groups
            .entry((
                is_stack,
                f.account.clone().unwrap_or_default(),
                f.region.clone().unwrap_or_default(),
                f.resource.clone(),
            ))
            .or_default()
            .push(f);
    }
    let repositories = groups.keys().filter(|k| !k.0).count();
    let stacks = groups.keys().filter(|k| k.0).count();
    let registries: std::collections::BTreeSet<(&str, &str)> = groups
        .keys()
        .map(|(_, a, r, _)| (a.as_str(), r.as_str()))
        .collect();
    let mut items = Vec::new();
    for ((is_stack, account, region, resource), fs) in &groups {
        let mut facts = vec![
            (
                if *is_stack { "account" } else { "registry" }.to_owned(),
                or_unknown(account),
            ),
            ("region".to_owned(), or_unknown(region)),
        ];
        if !is_stack {
            facts.push(("remediated".to_owned(), remediated(fs)));
        }
        items.push(Item {
            title: if *is_stack {
                format!("stack {resource}")
            } else {
                resource.clone()
            },
            facts,
            lines: fs
                .iter()
                .map(|f| {
                    let done = match &f.remediation {
                        Some(r) if r.applied => {
                            format!(" (remediated: {} -> {})", r.before, r.after)
                        }
                        _ => String::new(),
                    };
                    format!("{} {}: {}{done}", f.severity.as_str(), f.check, f.message)
                })
                .collect(),
        });
    }
    let mut parts = Vec::new();
    if repositories > 0 {
        parts.push(plural(
            repositories,
            "non-compliant repository",
            "non-compliant repositories",
        ));
    }
    if stacks > 0 {
        parts.push(plural(
            stacks,
            "stack with findings",
            "stacks with findings",
        ));
    }
    let place = match registries.iter().next() {
        Some((account, region)) if registries.len() == 1 => {
            let region = if region.is_empty() {
                default_region.unwrap_or("")
            } else {
                region
            };
            format!(" in {} ({})", or_unknown(account), or_unknown(region))
        }
        _ => format!(" in {} registries", registries.len()),
    };
    let title = format!("little audit: {}{place}", parts.join(" and "));
    let worst = findings.iter().map(|f| f.severity).max().unwrap_or(min);
    let fixed = findings
        .iter()
        .filter(|f| f.remediation.as_ref().is_some_and(|r| r.applied))
        .count();
    let mut summary = format!(
        "{} at or above {} (worst: {}); checked {}, {} and {}.",
        plural(findings.len(), "finding", "findings"),
        min.as_str(),
        worst.as_str(),
        plural(report.checked.repositories, "repository", "repositories"),
        plural(report.checked.images, "image", "images"),
        plural(report.checked.stacks, "stack", "stacks"),
    );
    if fixed > 0 {
        summary.push_str(&format!(" {fixed} remediated by this run."));
    }
    if !report.errors.is_empty() {
        summary.push_str(&format!(
            " {} part{} could not be audited.",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        ));
    }
    Some(Notification {
        source: format!("little audit {}", env!("CARGO_PKG_VERSION")),
        title,
        outcome: if worst >= fail_on {
            Outcome::Fail
        } else {
            Outcome::Warn
        },
        summary,
        items,
        link: None,
    })
}

/// `yes` when every finding was fixed by `--remediate`, `partly` when some were, else `no`.
fn remediated(findings: &[&Finding]) -> String {
    let fixed = findings
        .iter()
        .filter(|f| f.remediation.as_ref().is_some_and(|r| r.applied))
        .count();
    match fixed {
        0 => "no".into(),
        n if n == findings.len() => "yes".into(),
        _ => "partly".into(),
    }
}

fn or_unknown(s: &str) -> String {
    if s.is_empty() {
        "unknown".into()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::model::{Checked, Remediation};

    fn finding(resource: &str, check: &str, severity: Severity, applied: Option<bool>) -> Finding {
        Finding {
            check: check.into(),
            control: None,
            severity,
            resource: resource.into(),
            resource_type: if resource.starts_with("stack") {
                "AWS::CloudFormation::Stack".into()
            } else {
                "AWS::ECR::Repository".into()
            },
            arn: None,
            account: Some("123456789012".into()),
            region: Some("eu-west-1".into()),
            message: format!("{check} failed"),
            remediation: applied.map(|applied| Remediation {
                action: "ecr:PutImageTagMutability".into(),
                before: "MUTABLE".into(),
                after: "IMMUTABLE".into(),
                applied,
            }),
        }
    }

    fn report(findings: Vec<Finding>) -> AuditReport {
        AuditReport::new(
            0,
            Checked {
                repositories: 5,
                images: 9,
                stacks: 1,
            },
            findings,
            vec![],
        )
    }

    #[test]
    fn nothing_to_send_below_the_minimum() {
        let r = report(vec![finding("a", "ecr.lifecycle", Severity::Low, None)]);
        assert!(audit_notification(&r, Severity::Medium, Severity::High, None).is_none());
        assert!(audit_notification(&report(vec![]), Severity::Low, Severity::High, None).is_none());
    }

    #[test]
    fn lists_repositories_with_registry_region_and_remediation() {
        let r = report(vec![
            finding("team/a", "ecr.tag-immutability", Severity::High, Some(true)),
            finding(
                "team/b",
                "ecr.tag-immutability",
                Severity::High,
                Some(false),
            ),
            finding("team/b", "ecr.lifecycle", Severity::Medium, None),
            finding("stack-x", "stack.deployed", Severity::Medium, None),
        ]);
        let n = audit_notification(&r, Severity::Low, Severity::High, None).unwrap();
        assert_eq!(
            n.title,
            "little audit: 2 non-compliant repositories and 1 stack with findings in 123456789012 (eu-west-1)"
        );
        assert_eq!(n.outcome, Outcome::Fail);
        assert!(n.summary.contains("1 remediated by this run"));
        let titles: Vec<&str> = n.items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["team/a", "team/b", "stack stack-x"]);
        assert_eq!(n.items[0].facts[2], ("remediated".into(), "yes".into()));
        assert_eq!(n.items[1].facts[2], ("remediated".into(), "no".into()));
        assert_eq!(
            n.items[0].facts[0],
            ("registry".into(), "123456789012".into())
        );
        assert!(n.items[0].lines[0].ends_with("(remediated: MUTABLE -> IMMUTABLE)"));
        assert_eq!(n.items[1].lines.len(), 2);
    }

    #[test]
    fn below_the_failure_threshold_is_a_warning() {
        let r = report(vec![finding("a", "ecr.lifecycle", Severity::Medium, None)]);
        let n = audit_notification(&r, Severity::Low, Severity::High, None).unwrap();
        assert_eq!(n.outcome, Outcome::Warn);
        assert_eq!(
            n.title,
            "little audit: 1 non-compliant repository in 123456789012 (eu-west-1)"
        );
    }

    #[test]
    fn a_failed_notification_fails_only_an_audit_that_passed() {
        let failed = Notified::Failed(Error::Notify("down".into()));
        assert_eq!(failed.verdict(Verdict::Ok), Verdict::Failed);
        assert_eq!(failed.verdict(Verdict::Changes), Verdict::Changes);
        assert_eq!(failed.verdict(Verdict::Failed), Verdict::Failed);
        let sent = Notified::Sent(vec!["webhook x".into()]);
        assert_eq!(sent.verdict(Verdict::Ok), Verdict::Ok);
        let nothing = Notified::Nothing { min: Severity::Low };
        assert_eq!(nothing.verdict(Verdict::Changes), Verdict::Changes);
    }

    #[test]
    fn notify_settings_default_to_low_and_need_a_target() {
        let file = NotifyFile {
            sns_topic_arn: Some("arn:aws:sns:us-east-1:111111111111:t".into()),
            ..NotifyFile::default()
        };
        let s = NotifySettings::resolve(&file).unwrap();
        assert_eq!(s.min, Severity::Low);
        let high = NotifyFile {
            min_severity: Some("high".into()),
            ..file.clone()
        };
        assert_eq!(NotifySettings::resolve(&high).unwrap().min, Severity::High);
        let bad = NotifyFile {
            min_severity: Some("loud".into()),
            ..file
        };
        let e = NotifySettings::resolve(&bad).unwrap_err();
        assert!(
            e.to_string().starts_with("`audit.notify.min_severity`: "),
            "{e}"
        );
        assert!(NotifySettings::resolve(&NotifyFile::default()).is_err());
    }
}
