//! The stack checks of the audit: every stack of the project is deployed, not in a failed or
//! rolled-back state, protected against termination, and (when drift was detected) in sync.

use crate::audit::model::{Finding, Severity};
use crate::aws::cloudformation::StackInfo;

pub const STACK_DEPLOYED: &str = "stack.deployed";
pub const STACK_HEALTHY: &str = "stack.healthy";
pub const STACK_PROTECTED: &str = "stack.termination-protection";
pub const STACK_DRIFT: &str = "stack.drift";

/// Findings for one stack of the project; `info` None means it is not deployed.
pub fn check_stack(
    name: &str,
    info: Option<&StackInfo>,
    account: Option<&str>,
    region: &str,
) -> Vec<Finding> {
    let finding = |check: &str, severity: Severity, message: String| Finding {
        check: check.to_owned(),
        control: None,
        severity,
        resource: name.to_owned(),
        resource_type: "AWS::CloudFormation::Stack".to_owned(),
        arn: info.map(|i| i.id.clone()),
        account: account.map(str::to_owned),
        region: Some(region.to_owned()),
        message,
        remediation: None,
    };
    let Some(info) = info else {
        return vec![finding(
            STACK_DEPLOYED,
            Severity::Medium,
            format!("stack `{name}` is in the project but not deployed"),
        )];
    };
    let mut out = Vec::new();
    if info.is_failed() || info.is_review() {
        out.push(finding(
            STACK_HEALTHY,
            Severity::High,
            format!(
                "stack `{name}` is `{}`{}",
                info.status,
                info.status_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        ));
    }
    if !info.termination_protection {
        out.push(finding(
            STACK_PROTECTED,
            Severity::Low,
            format!("stack `{name}` has no termination protection"),
        ));
    }
    if info.has_drifted() {
        out.push(finding(
            STACK_DRIFT,
            Severity::Medium,
            format!("stack `{name}` has drifted from its template (`little drift {name}`)"),
        ));
    }
    out
}

/// The findings of a StackSet stack: not deployed, instances that are not CURRENT (each at
/// its own account and region), and the last drift detection's result.
pub fn check_stack_set(
    name: &str,
    info: Option<&crate::aws::stacksets::StackSetInfo>,
    instances: &[crate::aws::stacksets::InstanceSummary],
    account: Option<&str>,
    region: &str,
) -> Vec<Finding> {
    let finding = |check: &str,
                   severity: Severity,
                   account: Option<&str>,
                   region: &str,
                   resource: String,
                   message: String| Finding {
        check: check.to_owned(),
        control: None,
        severity,
        resource,
        resource_type: "AWS::CloudFormation::StackSet".to_owned(),
        arn: None,
        account: account.map(str::to_owned),
        region: Some(region.to_owned()),
        message,
        remediation: None,
    };
    let Some(info) = info else {
        return vec![finding(
            STACK_DEPLOYED,
            Severity::Medium,
            account,
            region,
            name.to_owned(),
            format!("StackSet `{name}` is in the project but not deployed"),
        )];
    };
    let mut out: Vec<Finding> = instances
        .iter()
        .filter(|i| i.status != "CURRENT")
        .map(|i| {
            finding(
                STACK_HEALTHY,
                Severity::High,
                Some(&i.account),
                &i.region,
                format!("{name} {}/{}", i.account, i.region),
                format!(
                    "the instance of StackSet `{name}` in {} {} is `{}`{} (`little status {name}`; `little apply {name}` deploys it again)",
                    i.account,
                    i.region,
                    i.status,
                    i.status_reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
            )
        })
        .collect();
    if info.has_drifted() {
        out.push(finding(
            STACK_DRIFT,
            Severity::Medium,
            account,
            region,
            name.to_owned(),
            format!(
                "StackSet `{name}` has {} drifted instance(s) (`little drift {name}`)",
                info.drifted_instances.unwrap_or(0)
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_set_instance_that_is_not_current_is_a_finding_at_its_account() {
        let info = crate::aws::stacksets::StackSetInfo {
            name: "iam-audit".into(),
            status: "ACTIVE".into(),
            ..Default::default()
        };
        let instance = |account: &str, status: &str| crate::aws::stacksets::InstanceSummary {
            account: account.into(),
            region: "us-east-1".into(),
            organizational_unit: None,
            status: status.into(),
            detailed_status: None,
            status_reason: Some("Role already exists".into()),
            drift_status: None,
            stack_id: None,
        };
        let findings = check_stack_set(
            "iam-audit",
            Some(&info),
            &[
                instance("111111111111", "CURRENT"),
                instance("222222222222", "INOPERABLE"),
            ],
            Some("123456789012"),
            "us-east-1",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].check, STACK_HEALTHY);
        assert_eq!(findings[0].account.as_deref(), Some("222222222222"));
        assert!(findings[0]
            .message
            .contains("`INOPERABLE`: Role already exists"));
        let missing = check_stack_set("iam-audit", None, &[], None, "us-east-1");
        assert_eq!(missing[0].check, STACK_DEPLOYED);
    }

    fn info(status: &str, protected: bool, drift: Option<&str>) -> StackInfo {
        StackInfo {
            name: "s".into(),
            id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/x".into(),
            status: status.into(),
            status_reason: None,
            created: None,
            last_updated: None,
            parameters: Vec::new(),
            tags: Vec::new(),
            outputs: Vec::new(),
            termination_protection: protected,
            capabilities: Vec::new(),
            drift_status: drift.map(str::to_owned),
            role_arn: None,
            notification_arns: Vec::new(),
        }
    }

    fn checks(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.check.as_str()).collect()
    }

    #[test]
    fn a_healthy_protected_stack_passes() {
        assert!(check_stack(
            "s",
            Some(&info("UPDATE_COMPLETE", true, Some("IN_SYNC"))),
            None,
            "us-east-1"
        )
        .is_empty());
    }

    #[test]
    fn missing_failed_unprotected_and_drifted_stacks() {
        assert_eq!(
            checks(&check_stack("s", None, None, "us-east-1")),
            [STACK_DEPLOYED]
        );
        assert_eq!(
            checks(&check_stack(
                "s",
                Some(&info("ROLLBACK_COMPLETE", true, None)),
                None,
                "us-east-1"
            )),
            [STACK_HEALTHY]
        );
        assert_eq!(
            checks(&check_stack(
                "s",
                Some(&info("UPDATE_COMPLETE", false, Some("DRIFTED"))),
                Some("1"),
                "us-east-1"
            )),
            [STACK_PROTECTED, STACK_DRIFT]
        );
    }
}
