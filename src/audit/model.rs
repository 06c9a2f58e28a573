//! The audit's data: findings with a stable check id, a severity and the Security Hub control
//! they map to, and the report that collects them. Computing findings is in the check modules;
//! writing them is `report::audit`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The version of the audit JSON document's shape.
pub const AUDIT_VERSION: u32 = 1;

/// How bad a finding is; ordered, so `--fail-on HIGH` means HIGH and CRITICAL.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    /// Case-insensitive; `INFO` and `UNDEFINED` (ECR's) read as informational.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "INFORMATIONAL" | "INFO" | "UNDEFINED" => Ok(Severity::Informational),
            "LOW" => Ok(Severity::Low),
            "MEDIUM" => Ok(Severity::Medium),
            "HIGH" => Ok(Severity::High),
            "CRITICAL" => Ok(Severity::Critical),
            other => Err(format!(
                "`{other}` is not a severity; use one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL"
            )),
        }
    }
}

/// What `--remediate` did, or would do, about a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Remediation {
    /// The API call, such as `ecr:PutImageTagMutability`.
    pub action: String,
    pub before: String,
    pub after: String,
    /// Whether it was applied (`--remediate`) or only described.
    pub applied: bool,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// A stable id, such as `ecr.tag-immutability`.
    pub check: String,
    /// The Security Hub control it maps to, such as `ECR.2`.
    pub control: Option<String>,
    pub severity: Severity,
    /// The repository or stack name.
    pub resource: String,
    /// `AWS::ECR::Repository`, `AWS::CloudFormation::Stack`, ...
    pub resource_type: String,
    /// The resource's ARN, when known.
    pub arn: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub message: String,
    pub remediation: Option<Remediation>,
}

/// A check that could not run in one registry because IAM denied a call it needs; the other
/// checks ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NotChecked {
    /// The check id, such as `ecr.lifecycle`.
    pub check: String,
    /// The permission that was denied, such as `ecr:GetLifecyclePolicy`.
    pub permission: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// Why it was not checked.
    pub reason: String,
}

/// What the audit looked at.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Checked {
    pub repositories: usize,
    pub images: usize,
    pub stacks: usize,
}

/// The audit's result: every finding, sorted by resource, then severity (worst first), then
/// check; and the errors that kept a check from running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditReport {
    pub version: u32,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    pub checked: Checked,
    pub findings: Vec<Finding>,
    pub errors: Vec<String>,
    /// The names of the accounts audited, by id, when the audit reached more than one account
    /// (`--accounts`, `--org`): the little.yaml name, else the organisation's.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub accounts: std::collections::BTreeMap<String, String>,
    /// The checks that did not run for a denied permission, once per check and registry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<NotChecked>,
    /// The images of the audited registries that run (ECS services and tasks, Lambda
    /// functions, the pods of `audit.kubernetes`), when a check that reads them was selected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images_in_use: Vec<ImageInUse>,
}

/// An image of an audited registry that a workload uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImageInUse {
    pub repository: String,
    pub digest: String,
    /// The image's tags in the repository.
    pub tags: Vec<String>,
    /// Who uses it: `ecs:CLUSTER/SERVICE`, `ecs:CLUSTER/task/FAMILY`, `lambda:FUNCTION`.
    pub in_use_by: Vec<String>,
    pub account: Option<String>,
    pub region: Option<String>,
}

impl AuditReport {
    pub fn new(
        created_at: u64,
        checked: Checked,
        mut findings: Vec<Finding>,
        errors: Vec<String>,
    ) -> Self {
        findings.sort_by(|a, b| {
            (
                &a.account,
                &a.region,
                &a.resource,
                std::cmp::Reverse(a.severity),
                &a.check,
            )
                .cmp(&(
                    &b.account,
                    &b.region,
                    &b.resource,
                    std::cmp::Reverse(b.severity),
                    &b.check,
                ))
        });
        AuditReport {
            version: AUDIT_VERSION,
            created_at,
            checked,
            findings,
            errors,
            accounts: std::collections::BTreeMap::new(),
            not_checked: Vec::new(),
            images_in_use: Vec::new(),
        }
    }

    /// Whether any finding is at or above `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }

    /// Whether any finding at or above `threshold` is still there: not remediated by
    /// `--remediate`.
    pub fn fails_unremediated(&self, threshold: Severity) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity >= threshold && !f.remediation.as_ref().is_some_and(|r| r.applied))
    }

    /// Changes when a finding at or above `fail_on` is left (one that `--remediate` fixed is
    /// not left), over errors; failed when something could not be checked for another reason
    /// than a denied permission (a check that IAM kept from running is in `not_checked`, and
    /// does not fail the run).
    pub fn verdict(&self, fail_on: Severity) -> crate::error::Verdict {
        use crate::error::Verdict;
        if self.fails_unremediated(fail_on) {
            Verdict::Changes
        } else if !self.errors.is_empty() {
            Verdict::Failed
        } else {
            Verdict::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert_eq!("high".parse::<Severity>(), Ok(Severity::High));
        assert_eq!("UNDEFINED".parse::<Severity>(), Ok(Severity::Informational));
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn fails_at_or_above_the_threshold() {
        let f = |s| Finding {
            check: "c".into(),
            control: None,
            severity: s,
            resource: "r".into(),
            resource_type: "t".into(),
            arn: None,
            account: None,
            region: None,
            message: "m".into(),
            remediation: None,
        };
        let r = AuditReport::new(
            0,
            Checked::default(),
            vec![f(Severity::Medium), f(Severity::High)],
            vec![],
        );
        assert_eq!(r.findings[0].severity, Severity::High);
        assert!(r.fails(Severity::High));
        assert!(!r.fails(Severity::Critical));
    }

    #[test]
    fn remediated_findings_do_not_fail_and_not_checked_ones_do_not_either() {
        use crate::error::Verdict;
        let f = |s, applied: Option<bool>| Finding {
            check: "ecr.tag-immutability".into(),
            control: None,
            severity: s,
            resource: "r".into(),
            resource_type: "t".into(),
            arn: None,
            account: None,
            region: None,
            message: "m".into(),
            remediation: applied.map(|applied| Remediation {
                action: "ecr:PutImageTagMutability".into(),
                before: "MUTABLE".into(),
                after: "IMMUTABLE".into(),
                applied,
            }),
        };
        let report = |findings| {
            let mut r = AuditReport::new(0, Checked::default(), findings, vec![]);
            r.not_checked.push(NotChecked {
                check: "ecr.lifecycle".into(),
                permission: "ecr:GetLifecyclePolicy".into(),
                account: None,
                region: None,
                reason: "denied".into(),
            });
            r
        };
        let fixed = report(vec![f(Severity::High, Some(true)), f(Severity::Low, None)]);
        assert_eq!(fixed.verdict(Severity::High), Verdict::Ok);
        // Described, not applied (no --remediate): still a finding that fails.
        let described = report(vec![f(Severity::High, Some(false))]);
        assert_eq!(described.verdict(Severity::High), Verdict::Changes);
        let partly = report(vec![
            f(Severity::High, Some(true)),
            f(Severity::Critical, None),
        ]);
        assert_eq!(partly.verdict(Severity::High), Verdict::Changes);
    }
}
