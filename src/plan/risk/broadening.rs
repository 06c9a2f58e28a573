//! Broadening risks: a resource's policies grant more than before (an `Allow` tuple appears or
//! a `Deny` tuple disappears), compared tuple by tuple over `policy::expand`, and the sentence
//! that says where.

use serde_json::Value;

use super::data_bearing::data_bearing;
use super::destructive::join_and;
use super::{type_of, Risk, RiskKind};
use crate::policy::expand::{contains, permissions, Permission};

pub(super) fn broadening(id: &str, old: Option<&Value>, new: Option<&Value>) -> Option<Risk> {
    let before = old.map(permissions).unwrap_or_default();
    let after = new.map(permissions).unwrap_or_default();
    let added: Vec<Permission> = after
        .iter()
        .filter(|p| !contains(&before, p))
        .cloned()
        .collect();
    let removed: Vec<Permission> = before
        .iter()
        .filter(|p| !contains(&after, p))
        .cloned()
        .collect();
    let widens = added.iter().any(|p| !is_deny(p) || is_negated(p)) || removed.iter().any(is_deny);
    if !widens {
        return None;
    }
    let resource_type = new.or(old).map(type_of).unwrap_or_default();
    let reason = broadening_reason(id, &resource_type, old.is_none(), &added, &removed);
    Some(Risk {
        kind: RiskKind::Broadening,
        logical_id: id.to_owned(),
        resource_type,
        reason,
        added,
        removed,
        holds: None,
    })
}

pub(super) fn is_deny(p: &Permission) -> bool {
    p.effect.eq_ignore_ascii_case("Deny")
}

pub(super) fn is_negated(p: &Permission) -> bool {
    [&p.principal, &p.action, &p.resource]
        .iter()
        .any(|t| t.starts_with("NOT "))
}

pub(super) fn noun(resource_type: &str) -> String {
    if let Some(b) = data_bearing(resource_type) {
        return b.noun.to_owned();
    }
    let known = match resource_type {
        "AWS::IAM::Role" => "IAM role",
        "AWS::IAM::User" => "IAM user",
        "AWS::IAM::Group" => "IAM group",
        "AWS::IAM::Policy" => "IAM policy",
        "AWS::IAM::ManagedPolicy" => "IAM managed policy",
        "AWS::IAM::RolePolicy" => "IAM role policy",
        "AWS::IAM::UserPolicy" => "IAM user policy",
        "AWS::IAM::GroupPolicy" => "IAM group policy",
        "AWS::ECR::RegistryPolicy" => "ECR registry policy",
        "AWS::S3::BucketPolicy" => "S3 bucket policy",
        "AWS::SQS::QueuePolicy" => "SQS queue policy",
        "AWS::SNS::TopicPolicy" => "SNS topic policy",
        "AWS::KMS::ReplicaKey" => "KMS replica key",
        "AWS::SecretsManager::ResourcePolicy" => "secret resource policy",
        "" => "resource",
        other => other,
    };
    known.to_owned()
}

/// "trust policy", "inline policy `ecr-push`": where in the resource, when the noun does not
/// already say it.
pub(super) fn location_phrase(policy: &str) -> Option<String> {
    if let Some(name) = policy
        .strip_prefix("Policies[")
        .and_then(|s| s.strip_suffix(']'))
    {
        return Some(format!("inline policy `{name}`"));
    }
    let phrase = match policy {
        "AssumeRolePolicyDocument" => "trust policy",
        "ManagedPolicyArns" => "managed policies",
        "RepositoryPolicyText" => "repository policy",
        "KeyPolicy" => "key policy",
        _ => return None,
    };
    Some(phrase.to_owned())
}

pub(super) fn broadening_reason(
    id: &str,
    resource_type: &str,
    is_new: bool,
    added: &[Permission],
    removed: &[Permission],
) -> String {
    let mut places: Vec<String> = Vec::new();
    for p in added.iter().chain(removed) {
        if let Some(place) = location_phrase(&p.policy) {
            if !places.contains(&place) {
                places.push(place);
            }
        }
    }
    let noun = noun(resource_type);
    let count = |n: usize| format!("{n} permission{}", if n == 1 { "" } else { "s" });
    if is_new {
        let through = if places.is_empty() {
            String::new()
        } else {
            format!(" ({})", join_and(&places))
        };
        return format!(
            "grants {} through new {noun} `{id}`{through}",
            count(added.iter().filter(|p| !is_deny(p)).count())
        );
    }
    let mut parts = Vec::new();
    let widening = added
        .iter()
        .filter(|p| !is_deny(p) || is_negated(p))
        .count();
    if widening > 0 {
        parts.push(format!("{} added", count(widening)));
    }
    if !removed.is_empty() {
        let denies = removed.iter().filter(|p| is_deny(p)).count();
        let mut part = if added.is_empty() {
            format!("{} removed", count(removed.len()))
        } else {
            format!("{} removed", removed.len())
        };
        if denies == removed.len() {
            part.push_str(" (Deny)");
        } else if denies > 0 {
            part.push_str(&format!(" ({denies} Deny)"));
        }
        parts.push(part);
    }
    let place = if places.is_empty() {
        String::new()
    } else {
        format!(" {}", join_and(&places))
    };
    format!("widens {noun} `{id}`{place}: {}", parts.join(", "))
}
