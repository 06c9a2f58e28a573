//! The stack-level settings that change sets do not carry, planned like template changes:
//! termination protection and the stack policy. Here is what changed and whether a change
//! lowers a protection (turning termination protection off; a stack policy that denies less or
//! allows more than the deployed one), which `apply` refuses without `--allow-unprotect`.
//!
//! Reads the two documents only; it does not talk to AWS and does not evaluate policies (no
//! wildcard matching: a statement changed in any way is one statement removed and one added).

use std::collections::BTreeSet;

use serde_json::Value;

use super::model::{BoolChange, PolicyChange};
use super::risk::{Risk, RiskKind};
use crate::template::canonical::canonical;

/// The resource type named by the risks of a stack's own settings; their logical ids are
/// `TerminationProtection` and `StackPolicy`.
pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// One statement, canonical: keys sorted, and the order of Action, NotAction, Resource,
/// NotResource and Principal lists ignored.
fn statement_key(statement: &Value) -> String {
    let mut s = canonical(statement);
    if let Value::Object(map) = &mut s {
        for key in [
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Principal",
        ] {
            if let Some(Value::Array(items)) = map.get_mut(key) {
                items.sort_by_key(|v| v.to_string());
                items.dedup();
            }
        }
    }
    s.to_string()
}

/// The statements of a policy document (a lone statement object counts as a list of one).
fn statements(policy: &Value) -> BTreeSet<String> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().map(statement_key).collect(),
        Some(one @ Value::Object(_)) => [statement_key(one)].into_iter().collect(),
        _ => BTreeSet::new(),
    }
}

fn effect(statement: &str) -> Option<String> {
    serde_json::from_str::<Value>(statement)
        .ok()?
        .get("Effect")?
        .as_str()
        .map(str::to_owned)
}

/// Compares the deployed stack policy with the configured one. None when the config sets no
/// policy (little does not manage it then: CloudFormation cannot remove a stack policy, only
/// replace it) or when both say the same.
pub fn policy_change(deployed: Option<&str>, configured: Option<&str>) -> Option<PolicyChange> {
    let after_text = configured?;
    let after: Value = serde_json::from_str(after_text).ok()?;
    let before: Option<Value> = deployed
        .filter(|t| !t.trim().is_empty())
        .and_then(|t| serde_json::from_str(t).ok());
    let old = before.as_ref().map(statements).unwrap_or_default();
    let new = statements(&after);
    if before.is_some() && old == new {
        return None;
    }
    let removed: Vec<String> = old.difference(&new).cloned().collect();
    let added: Vec<String> = new.difference(&old).cloned().collect();
    // No policy lets every update through: any policy protects at least as much.
    let loosens = before.is_some()
        && (removed
            .iter()
            .any(|s| effect(s).as_deref() != Some("Allow"))
            || added.iter().any(|s| effect(s).as_deref() != Some("Deny")));
    Some(PolicyChange {
        before: before.map(|b| canonical(&b).to_string()),
        after: canonical(&after).to_string(),
        removed,
        added,
        loosens,
    })
}

/// The risks of a stack's settings changes: termination protection turned off, and a stack
/// policy that protects less.
pub fn settings_risks(
    stack: &str,
    termination_protection: Option<&BoolChange>,
    stack_policy: Option<&PolicyChange>,
) -> Vec<Risk> {
    let mut risks = Vec::new();
    if termination_protection.is_some_and(|tp| tp.before && !tp.after) {
        risks.push(Risk {
            kind: RiskKind::Unprotecting,
            logical_id: "TerminationProtection".into(),
            resource_type: STACK_TYPE.into(),
            reason: format!(
                "turns termination protection off for `{stack}`: the stack and the resources it does not retain can then be deleted by anyone allowed to delete stacks"
            ),
            added: Vec::new(),
            removed: Vec::new(),
            holds: None,
        });
    }
    if let Some(p) = stack_policy.filter(|p| p.loosens) {
        let denies = p
            .removed
            .iter()
            .filter(|s| effect(s).as_deref() != Some("Allow"))
            .count();
        let allows = p
            .added
            .iter()
            .filter(|s| effect(s).as_deref() != Some("Deny"))
            .count();
        let mut what = Vec::new();
        if denies > 0 {
            what.push(format!(
                "drops {denies} Deny statement{}",
                if denies == 1 { "" } else { "s" }
            ));
        }
        if allows > 0 {
            what.push(format!(
                "adds {allows} Allow statement{}",
                if allows == 1 { "" } else { "s" }
            ));
        }
        risks.push(Risk {
            kind: RiskKind::Unprotecting,
            logical_id: "StackPolicy".into(),
            resource_type: STACK_TYPE.into(),
            reason: format!(
                "loosens the stack policy of `{stack}` (it {}): updates it blocked may then replace or delete resources",
                what.join(" and ")
            ),
            added: Vec::new(),
            removed: Vec::new(),
            holds: None,
        });
    }
    risks
}

#[cfg(test)]
mod tests {
    use super::*;

    const DENY_REPLACE: &str = r#"{"Statement": [
        {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"], "Principal": "*", "Resource": "LogicalResourceId/Repo"}]}"#;

    #[test]
    fn the_same_policy_written_otherwise_is_no_change() {
        let reordered = r#"{"Statement": [
            {"Resource": "LogicalResourceId/Repo", "Principal": "*", "Action": ["Update:Delete", "Update:Replace"], "Effect": "Deny"},
            {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}"#;
        assert_eq!(policy_change(Some(DENY_REPLACE), Some(reordered)), None);
    }

    #[test]
    fn no_configured_policy_is_not_managed() {
        assert_eq!(policy_change(Some(DENY_REPLACE), None), None);
    }

    #[test]
    fn a_first_policy_tightens() {
        let c = policy_change(None, Some(DENY_REPLACE)).unwrap();
        assert!(!c.loosens);
        assert_eq!(c.before, None);
        assert_eq!(c.added.len(), 2);
        // An empty body, as GetStackPolicy answers for a stack without one, is no policy.
        assert!(!policy_change(Some(""), Some(DENY_REPLACE)).unwrap().loosens);
        assert!(settings_risks("s", None, Some(&c)).is_empty());
    }

    #[test]
    fn dropping_a_deny_or_adding_an_allow_loosens() {
        let allow_all = r#"{"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}"#;
        let c = policy_change(Some(DENY_REPLACE), Some(allow_all)).unwrap();
        assert!(c.loosens, "{c:?}");
        assert_eq!(c.removed.len(), 1);
        let risks = settings_risks("ecr", None, Some(&c));
        assert_eq!(risks.len(), 1);
        assert_eq!(risks[0].kind, RiskKind::Unprotecting);
        assert!(
            risks[0].reason.contains("drops 1 Deny statement"),
            "{}",
            risks[0].reason
        );

        // Narrowing a Deny is a Deny removed and another added: it loosens.
        let narrower = DENY_REPLACE.replace(
            r#"["Update:Replace", "Update:Delete"]"#,
            "\"Update:Delete\"",
        );
        assert!(
            policy_change(Some(DENY_REPLACE), Some(&narrower))
                .unwrap()
                .loosens
        );

        // Adding a Deny only tightens.
        let more = DENY_REPLACE.replace(
            "]}",
            r#", {"Effect": "Deny", "Action": "Update:Delete", "Principal": "*", "Resource": "LogicalResourceId/Role"}]}"#,
        );
        let c = policy_change(Some(DENY_REPLACE), Some(&more)).unwrap();
        assert!(!c.loosens, "{c:?}");
    }

    #[test]
    fn termination_protection_off_is_a_risk_and_on_is_not() {
        let off = BoolChange {
            before: true,
            after: false,
        };
        let on = BoolChange {
            before: false,
            after: true,
        };
        let risks = settings_risks("ecr", Some(&off), None);
        assert_eq!(risks.len(), 1);
        assert_eq!(risks[0].kind, RiskKind::Unprotecting);
        assert!(risks[0].reason.contains("termination protection off"));
        assert!(settings_risks("ecr", Some(&on), None).is_empty());
    }
}
