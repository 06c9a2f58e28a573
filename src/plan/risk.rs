//! The risks in a plan that a reviewer must not miss:
//!
//! - destructive: a data-bearing resource (ECR repository, S3 bucket, database, queue, key, ...)
//!   is removed or replaced, so that the stack ends up without its data, whatever its
//!   `DeletionPolicy`/`UpdateReplacePolicy` (a retained resource leaves the stack; a replaced one
//!   is followed by a new, empty one);
//! - broadening: a policy (trust, inline, managed, resource or key policy) grants more than
//!   before: an `Allow` (principal × action × resource × condition) tuple appears, or a `Deny`
//!   tuple disappears;
//! - unprotecting: termination protection turned off, or a looser stack policy (computed in
//!   `settings`, which owns those two settings).
//!
//! This module reads templates and the template diff only. It does not evaluate policies (no
//! wildcard matching: `ecr:*` replacing `ecr:GetDownloadUrlForLayer` is one permission added and
//! one removed), does not resolve intrinsic functions or parameters (their compact JSON is used
//! as text), and does not talk to AWS: replacements that only a change set can see come in
//! through [`replacement_risk`].

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::diff::{ChangeKind, TemplateDiff};
use crate::template::canonical::canonical;
use crate::template::intrinsic::is_intrinsic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RiskKind {
    Destructive,
    Broadening,
    /// A protection of the stack itself is lowered: termination protection turned off, or a
    /// stack policy that protects less (see `settings`).
    Unprotecting,
}

impl RiskKind {
    /// The word for people and Markdown tables: `destructive`, `broadening`, `unprotecting`.
    pub fn word(self) -> &'static str {
        match self {
            RiskKind::Destructive => "destructive",
            RiskKind::Broadening => "broadening",
            RiskKind::Unprotecting => "unprotecting",
        }
    }
}

/// Whether a change replaces a resource, as CloudFormation change sets say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Replacement {
    True,
    Conditional,
    False,
}

/// One (principal × action × resource) tuple of one policy statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Permission {
    /// Where the statement is: `AssumeRolePolicyDocument`, `Policies[ecr-push]`,
    /// `ManagedPolicyArns`, `RepositoryPolicyText`, `PolicyDocument`, `KeyPolicy`, ...
    pub policy: String,
    /// `Allow` or `Deny` as written (`-` when missing).
    pub effect: String,
    /// `*`, `AWS:<arn>`, `Service:<name>`, `Federated:<provider>`, `CanonicalUser:<id>`;
    /// `NOT ...` for `NotPrincipal`; `-` for identity policies (no principal).
    pub principal: String,
    /// The action; `NOT ...` for `NotAction`; `(managed policy)` for a managed policy ARN.
    pub action: String,
    /// The resource; `NOT ...` for `NotResource`; `-` when there is none.
    pub resource: String,
    /// The statement's `Condition` as compact canonical JSON (keys sorted, value lists sorted).
    pub condition: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Risk {
    pub kind: RiskKind,
    pub logical_id: String,
    pub resource_type: String,
    /// One sentence for people, naming the resource in backticks.
    pub reason: String,
    /// For `Broadening`: every tuple the resource's policies gain (Allow and Deny), sorted.
    pub added: Vec<Permission>,
    /// For `Broadening`: every tuple the resource's policies lose (Allow and Deny), sorted.
    pub removed: Vec<Permission>,
}

/// A resource type that holds data, and how to speak of it.
struct DataBearing {
    resource_type: &'static str,
    /// "ECR repository": the type, for people.
    noun: &'static str,
    /// "repository": the thing itself.
    short: &'static str,
    /// "its images": what it holds; "" when the thing is all there is.
    contents: &'static str,
    /// What happens to it when CloudFormation deletes it ("deleted").
    gone: &'static str,
    /// What the stack points at after a replacement.
    fresh: &'static str,
    /// Whether `Snapshot` is a valid deletion policy for the type.
    snapshots: bool,
    /// Properties whose change replaces the resource.
    replacing: &'static [&'static str],
}

const fn bearing(
    resource_type: &'static str,
    noun: &'static str,
    short: &'static str,
    contents: &'static str,
    fresh: &'static str,
    snapshots: bool,
    replacing: &'static [&'static str],
) -> DataBearing {
    DataBearing {
        resource_type,
        noun,
        short,
        contents,
        gone: "deleted",
        fresh,
        snapshots,
        replacing,
    }
}

const DATA_BEARING: &[DataBearing] = &[
    bearing(
        "AWS::Backup::BackupVault",
        "backup vault",
        "vault",
        "its recovery points",
        "a new, empty vault",
        false,
        &["BackupVaultName", "EncryptionKeyArn"],
    ),
    bearing(
        "AWS::DocDB::DBCluster",
        "DocumentDB cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        true,
        &["DBClusterIdentifier", "KmsKeyId", "StorageEncrypted"],
    ),
    bearing(
        "AWS::DynamoDB::GlobalTable",
        "DynamoDB global table",
        "table",
        "its items",
        "a new, empty table",
        false,
        &["TableName", "KeySchema"],
    ),
    bearing(
        "AWS::DynamoDB::Table",
        "DynamoDB table",
        "table",
        "its items",
        "a new, empty table",
        false,
        &["TableName", "KeySchema"],
    ),
    bearing(
        "AWS::EC2::Volume",
        "EBS volume",
        "volume",
        "its data",
        "a new, empty volume",
        true,
        &["AvailabilityZone", "Encrypted", "KmsKeyId", "SnapshotId"],
    ),
    bearing(
        "AWS::ECR::Repository",
        "ECR repository",
        "repository",
        "its images",
        "a new, empty repository",
        false,
        &["RepositoryName", "EncryptionConfiguration"],
    ),
    bearing(
        "AWS::EFS::FileSystem",
        "EFS file system",
        "file system",
        "its files",
        "a new, empty file system",
        false,
        &["Encrypted", "KmsKeyId", "PerformanceMode"],
    ),
    bearing(
        "AWS::ElastiCache::CacheCluster",
        "ElastiCache cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        true,
        &["ClusterName", "Engine"],
    ),
    bearing(
        "AWS::ElastiCache::ReplicationGroup",
        "ElastiCache replication group",
        "replication group",
        "its data",
        "a new, empty replication group",
        true,
        &["ReplicationGroupId"],
    ),
    bearing(
        "AWS::ElastiCache::ServerlessCache",
        "ElastiCache serverless cache",
        "cache",
        "its data",
        "a new, empty cache",
        false,
        &["ServerlessCacheName", "Engine"],
    ),
    bearing(
        "AWS::Elasticsearch::Domain",
        "Elasticsearch domain",
        "domain",
        "its indices",
        "a new, empty domain",
        false,
        &["DomainName"],
    ),
    bearing(
        "AWS::FSx::FileSystem",
        "FSx file system",
        "file system",
        "its files",
        "a new, empty file system",
        false,
        &["FileSystemType", "KmsKeyId"],
    ),
    bearing(
        "AWS::Kinesis::Stream",
        "Kinesis stream",
        "stream",
        "its records",
        "a new, empty stream",
        false,
        &["Name"],
    ),
    DataBearing {
        gone: "scheduled for deletion (data encrypted with it becomes unreadable)",
        ..bearing(
            "AWS::KMS::Key",
            "KMS key",
            "key",
            "",
            "a new key",
            false,
            &["KeySpec", "KeyUsage", "MultiRegion"],
        )
    },
    bearing(
        "AWS::Logs::LogGroup",
        "log group",
        "log group",
        "its log events",
        "a new, empty log group",
        false,
        &["LogGroupName"],
    ),
    bearing(
        "AWS::MemoryDB::Cluster",
        "MemoryDB cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        false,
        &["ClusterName"],
    ),
    bearing(
        "AWS::Neptune::DBCluster",
        "Neptune cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        true,
        &["DBClusterIdentifier", "KmsKeyId", "StorageEncrypted"],
    ),
    bearing(
        "AWS::OpenSearchService::Domain",
        "OpenSearch domain",
        "domain",
        "its indices",
        "a new, empty domain",
        false,
        &["DomainName"],
    ),
    bearing(
        "AWS::RDS::DBCluster",
        "RDS DB cluster",
        "DB cluster",
        "its data",
        "a new, empty DB cluster",
        true,
        &[
            "DBClusterIdentifier",
            "DatabaseName",
            "Engine",
            "KmsKeyId",
            "StorageEncrypted",
        ],
    ),
    bearing(
        "AWS::RDS::DBInstance",
        "RDS DB instance",
        "DB instance",
        "its data",
        "a new, empty DB instance",
        true,
        &[
            "DBInstanceIdentifier",
            "DBName",
            "Engine",
            "CharacterSetName",
            "KmsKeyId",
            "StorageEncrypted",
        ],
    ),
    bearing(
        "AWS::Redshift::Cluster",
        "Redshift cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        true,
        &["ClusterIdentifier", "DBName"],
    ),
    bearing(
        "AWS::S3::Bucket",
        "S3 bucket",
        "bucket",
        "its objects",
        "a new, empty bucket",
        false,
        &["BucketName", "ObjectLockEnabled"],
    ),
    bearing(
        "AWS::SQS::Queue",
        "SQS queue",
        "queue",
        "its messages",
        "a new, empty queue",
        false,
        &["QueueName", "FifoQueue"],
    ),
    bearing(
        "AWS::SecretsManager::Secret",
        "secret",
        "secret",
        "its value",
        "a new secret",
        false,
        &["Name"],
    ),
];

fn data_bearing(resource_type: &str) -> Option<&'static DataBearing> {
    DATA_BEARING
        .iter()
        .find(|b| b.resource_type == resource_type)
}

/// Whether removing or replacing a resource of this type loses data. Configuration-only types
/// (SNS topics, IAM, ECR pull-through cache rules, ElastiCache subnet and parameter groups)
/// are not data-bearing.
pub fn is_data_bearing(resource_type: &str) -> bool {
    data_bearing(resource_type).is_some()
}

/// The properties whose change replaces a resource of a data-bearing type (from the
/// CloudFormation resource reference; only the common ones). Empty for other types.
pub fn replacing_properties(resource_type: &str) -> &'static [&'static str] {
    data_bearing(resource_type).map_or(&[], |b| b.replacing)
}

/// Risks visible in the templates alone: the removal of a data-bearing resource; a predicted
/// replacement of one (a replacing property changed, or its `Type` changed); the broadening of
/// any policy. `old` None = a new stack (every `Allow` tuple is added). Destructive risks come
/// first, each kind sorted by logical id.
pub fn template_risks(old: Option<&Value>, new: &Value, diff: &TemplateDiff) -> Vec<Risk> {
    let old = old
        .map(canonical)
        .unwrap_or_else(|| Value::Object(Map::new()));
    let new = canonical(new);
    let empty = Map::new();
    let old_resources = resources(&old).unwrap_or(&empty);
    let new_resources = resources(&new).unwrap_or(&empty);

    let mut risks = Vec::new();
    for rd in &diff.resources {
        let old_resource = old_resources.get(&rd.logical_id);
        let new_resource = new_resources.get(&rd.logical_id);
        match rd.kind {
            ChangeKind::Added => {}
            ChangeKind::Removed => {
                if let Some(b) = data_bearing(&rd.resource_type) {
                    risks.push(destructive(
                        rd,
                        format!(
                            "removes {} `{}`{}",
                            b.noun,
                            rd.logical_id,
                            removal_tail(b, old_resource)
                        ),
                    ));
                }
            }
            ChangeKind::Modified if rd.type_changed => {
                let old_type = old_resource.map(type_of).unwrap_or_default();
                if let Some(b) = data_bearing(&old_type) {
                    risks.push(Risk {
                        resource_type: old_type.clone(),
                        ..destructive(
                            rd,
                            format!(
                                "replaces {} `{}` because its type changes to `{}`{}",
                                b.noun,
                                rd.logical_id,
                                rd.resource_type,
                                replacement_tail(b, new_resource)
                            ),
                        )
                    });
                }
            }
            ChangeKind::Modified => {
                let Some(b) = data_bearing(&rd.resource_type) else {
                    continue;
                };
                let changed: Vec<&str> = b
                    .replacing
                    .iter()
                    .copied()
                    .filter(|p| rd.changes.iter().any(|c| touches(&c.path, p)))
                    .collect();
                if !changed.is_empty() {
                    let names: Vec<String> = changed.iter().map(|p| format!("`{p}`")).collect();
                    risks.push(destructive(
                        rd,
                        format!(
                            "replaces {} `{}` because {} change{}{}",
                            b.noun,
                            rd.logical_id,
                            join_and(&names),
                            if changed.len() == 1 { "s" } else { "" },
                            replacement_tail(b, new_resource)
                        ),
                    ));
                }
            }
        }
    }
    risks.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));

    let ids: BTreeSet<&String> = old_resources.keys().chain(new_resources.keys()).collect();
    for id in ids {
        if let Some(r) = broadening(id, old_resources.get(id), new_resources.get(id)) {
            risks.push(r);
        }
    }
    risks
}

/// A change set said this resource is replaced (`True` or `Conditional`): destructive when the
/// type is data-bearing. `template` is the new template; its `UpdateReplacePolicy` for the
/// resource decides whether the old one is retained, which the reason says.
pub fn replacement_risk(
    logical_id: &str,
    resource_type: &str,
    replacement: Replacement,
    template: &Value,
) -> Option<Risk> {
    let b = data_bearing(resource_type)?;
    let resource = template
        .get("Resources")
        .and_then(|r| r.get(logical_id))
        .map(canonical);
    let tail = replacement_tail(b, resource.as_ref());
    let reason = match replacement {
        Replacement::False => return None,
        Replacement::True => format!("CloudFormation replaces {} `{logical_id}`{tail}", b.noun),
        Replacement::Conditional => format!(
            "CloudFormation may replace {} `{logical_id}`, depending on values known only during the update{tail}",
            b.noun
        ),
    };
    Some(Risk {
        kind: RiskKind::Destructive,
        logical_id: logical_id.to_owned(),
        resource_type: resource_type.to_owned(),
        reason,
        added: Vec::new(),
        removed: Vec::new(),
    })
}

/// Merges risks of the same kind and logical id (a replacement predicted from the template and
/// reported by the change set become one). The first risk's reason and type are kept, so pass
/// template risks first; permissions are merged. Order is that of first appearance.
pub fn dedupe(risks: Vec<Risk>) -> Vec<Risk> {
    let mut out: Vec<Risk> = Vec::new();
    for risk in risks {
        match out
            .iter_mut()
            .find(|r| r.kind == risk.kind && r.logical_id == risk.logical_id)
        {
            Some(existing) => {
                existing.added.extend(risk.added);
                existing.removed.extend(risk.removed);
                sort_permissions(&mut existing.added);
                sort_permissions(&mut existing.removed);
            }
            None => out.push(risk),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Destructive

fn resources(template: &Value) -> Option<&Map<String, Value>> {
    template.get("Resources").and_then(Value::as_object)
}

fn type_of(resource: &Value) -> String {
    match resource.get("Type") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn destructive(rd: &super::diff::ResourceDiff, reason: String) -> Risk {
    Risk {
        kind: RiskKind::Destructive,
        logical_id: rd.logical_id.clone(),
        resource_type: rd.resource_type.clone(),
        reason,
        added: Vec::new(),
        removed: Vec::new(),
    }
}

/// Whether a diff path (`Properties.KeySchema[0].AttributeName`) is at or under a property.
fn touches(path: &str, property: &str) -> bool {
    path.strip_prefix("Properties.")
        .and_then(|rest| rest.strip_prefix(property))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// "the old repository and its images".
fn subject(b: &DataBearing, old: bool) -> String {
    let mut s = String::from("the ");
    if old {
        s.push_str("old ");
    }
    s.push_str(b.short);
    if !b.contents.is_empty() {
        s.push_str(" and ");
        s.push_str(b.contents);
    }
    s
}

fn plural(b: &DataBearing) -> bool {
    !b.contents.is_empty()
}

/// "the repository and its images are deleted".
fn deleted(b: &DataBearing, old: bool) -> String {
    let verb = if plural(b) { "are" } else { "is" };
    format!("{} {verb} {}", subject(b, old), b.gone)
}

/// "the repository and its images stay in the account, outside the stack".
fn kept(b: &DataBearing, old: bool) -> String {
    let verb = if plural(b) { "stay" } else { "stays" };
    format!(
        "{} {verb} in the account, outside the stack",
        subject(b, old)
    )
}

/// A deletion or update-replace policy as written: `None` when absent.
fn policy_text(resource: Option<&Value>, attribute: &str) -> Option<String> {
    match resource?.get(attribute)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(serde_json::to_string(other).unwrap_or_default()),
    }
}

/// What removing the resource does with it, per its `DeletionPolicy` (in the old template).
fn removal_tail(b: &DataBearing, old_resource: Option<&Value>) -> String {
    let written = policy_text(old_resource, "DeletionPolicy");
    // RDS snapshots by default: DB clusters, and DB instances outside a cluster.
    let default_snapshot = match b.resource_type {
        "AWS::RDS::DBCluster" => true,
        "AWS::RDS::DBInstance" => old_resource
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("DBClusterIdentifier"))
            .is_none(),
        _ => false,
    };
    let (policy, label) = match &written {
        Some(p) => (p.as_str(), format!("DeletionPolicy {p}")),
        None if default_snapshot => ("Snapshot", "no DeletionPolicy, so Snapshot".to_owned()),
        None => ("Delete", String::new()),
    };
    match policy {
        "Retain" | "RetainExceptOnCreate" => format!(" ({label}: {})", kept(b, false)),
        "Snapshot" if b.snapshots => format!(
            " ({label}: a final snapshot is kept, then {})",
            deleted(b, false)
        ),
        "Snapshot" => format!(
            " ({label}, which {} does not support): {}",
            b.noun,
            deleted(b, false)
        ),
        "Delete" if label.is_empty() => format!(": {}", deleted(b, false)),
        "Delete" => format!(" ({label}): {}", deleted(b, false)),
        _ => format!(
            " ({label}): {} unless it resolves to Retain",
            deleted(b, false)
        ),
    }
}

/// What replacing the resource does with the old one, per its `UpdateReplacePolicy` (in the
/// new template; CloudFormation's default is Delete).
fn replacement_tail(b: &DataBearing, new_resource: Option<&Value>) -> String {
    let written = policy_text(new_resource, "UpdateReplacePolicy");
    let policy = written.as_deref().unwrap_or("Delete");
    let label = format!("UpdateReplacePolicy {policy}");
    match policy {
        "Retain" | "RetainExceptOnCreate" => format!(
            " ({label}: {}; the stack then points at {})",
            kept(b, true),
            b.fresh
        ),
        "Snapshot" if b.snapshots => format!(
            " ({label}: a final snapshot is kept, then {}; the stack then points at {})",
            deleted(b, true),
            b.fresh
        ),
        "Snapshot" => format!(
            " ({label}, which {} does not support): {}",
            b.noun,
            deleted(b, true)
        ),
        "Delete" if written.is_none() => format!(": {}", deleted(b, true)),
        "Delete" => format!(" ({label}): {}", deleted(b, true)),
        _ => format!(
            " ({label}): {} unless it resolves to Retain",
            deleted(b, true)
        ),
    }
}

/// "`A`", "`A` and `B`", "`A`, `B` and `C`".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

// ---------------------------------------------------------------------------------------------
// Broadening

fn broadening(id: &str, old: Option<&Value>, new: Option<&Value>) -> Option<Risk> {
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
    })
}

fn is_deny(p: &Permission) -> bool {
    p.effect.eq_ignore_ascii_case("Deny")
}

fn is_negated(p: &Permission) -> bool {
    [&p.principal, &p.action, &p.resource]
        .iter()
        .any(|t| t.starts_with("NOT "))
}

fn order(a: &Permission, b: &Permission) -> Ordering {
    (
        &a.policy,
        &a.effect,
        &a.principal,
        &a.action,
        &a.resource,
        &a.condition,
    )
        .cmp(&(
            &b.policy,
            &b.effect,
            &b.principal,
            &b.action,
            &b.resource,
            &b.condition,
        ))
}

fn sort_permissions(list: &mut Vec<Permission>) {
    list.sort_by(order);
    list.dedup_by(|a, b| order(a, b) == Ordering::Equal);
}

/// Membership in a sorted list.
fn contains(sorted: &[Permission], p: &Permission) -> bool {
    sorted.binary_search_by(|q| order(q, p)).is_ok()
}

fn noun(resource_type: &str) -> String {
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
fn location_phrase(policy: &str) -> Option<String> {
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

fn broadening_reason(
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

/// Every permission tuple of a canonical resource, sorted and without duplicates.
fn permissions(resource: &Value) -> Vec<Permission> {
    let mut out = Vec::new();
    let resource_type = type_of(resource);
    let empty = Map::new();
    let props = resource
        .get("Properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    // Each document is named by its property.
    let document = |key: &str, out: &mut Vec<Permission>| {
        if let Some(doc) = props.get(key) {
            expand_document(key, doc, out);
        }
    };
    match resource_type.as_str() {
        "AWS::IAM::Role" => {
            document("AssumeRolePolicyDocument", &mut out);
            inline_policies(props.get("Policies"), &mut out);
            managed_policies(props.get("ManagedPolicyArns"), &mut out);
        }
        "AWS::IAM::User" | "AWS::IAM::Group" => {
            inline_policies(props.get("Policies"), &mut out);
            managed_policies(props.get("ManagedPolicyArns"), &mut out);
        }
        "AWS::IAM::Policy"
        | "AWS::IAM::ManagedPolicy"
        | "AWS::IAM::RolePolicy"
        | "AWS::IAM::UserPolicy"
        | "AWS::IAM::GroupPolicy"
        | "AWS::S3::BucketPolicy"
        | "AWS::SQS::QueuePolicy"
        | "AWS::SNS::TopicPolicy" => document("PolicyDocument", &mut out),
        "AWS::ECR::Repository" => document("RepositoryPolicyText", &mut out),
        "AWS::ECR::RegistryPolicy" => document("PolicyText", &mut out),
        "AWS::KMS::Key" | "AWS::KMS::ReplicaKey" => document("KeyPolicy", &mut out),
        "AWS::SecretsManager::ResourcePolicy" => document("ResourcePolicy", &mut out),
        _ => {}
    }
    sort_permissions(&mut out);
    out
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    }
}

/// The values a template value may take: both branches of `Fn::If`, nothing for
/// `Ref: AWS::NoValue`, the value itself otherwise.
fn branches(v: &Value) -> Vec<&Value> {
    if let Some(Value::String(r)) = v.get("Ref") {
        if r == "AWS::NoValue" && is_intrinsic(v) {
            return Vec::new();
        }
    }
    if is_intrinsic(v) {
        if let Some(Value::Array(args)) = v.get("Fn::If") {
            if let [_, yes, no] = args.as_slice() {
                let mut out = branches(yes);
                out.extend(branches(no));
                return out;
            }
        }
    }
    vec![v]
}

/// The items of a list value (each branch flattened); a value that is not a list is one item.
fn items(v: &Value) -> Vec<&Value> {
    branches(v)
        .into_iter()
        .flat_map(|b| match b {
            Value::Array(list) => list.iter().flat_map(branches).collect(),
            other => vec![other],
        })
        .collect()
}

fn inline_policies(policies: Option<&Value>, out: &mut Vec<Permission>) {
    let Some(policies) = policies else {
        return;
    };
    for (i, policy) in items(policies).into_iter().enumerate() {
        let name = match policy.get("PolicyName") {
            Some(n) => text(n),
            None => i.to_string(),
        };
        match policy.get("PolicyDocument") {
            Some(doc) if !is_intrinsic(policy) => {
                expand_document(&format!("Policies[{name}]"), doc, out)
            }
            _ => out.push(unresolved(
                &format!("Policies[{i}]"),
                "(unresolved policy)",
                policy,
            )),
        }
    }
}

fn managed_policies(arns: Option<&Value>, out: &mut Vec<Permission>) {
    let Some(arns) = arns else {
        return;
    };
    for arn in items(arns) {
        out.push(Permission {
            policy: "ManagedPolicyArns".into(),
            effect: "Allow".into(),
            principal: "-".into(),
            action: "(managed policy)".into(),
            resource: text(arn),
            condition: None,
        });
    }
}

/// A part of a policy that cannot be read without resolving intrinsic functions: counted as an
/// Allow of its text, so that any change to it shows.
fn unresolved(policy: &str, what: &str, v: &Value) -> Permission {
    Permission {
        policy: policy.to_owned(),
        effect: "Allow".into(),
        principal: "-".into(),
        action: what.to_owned(),
        resource: compact(v),
        condition: None,
    }
}

fn expand_document(policy: &str, doc: &Value, out: &mut Vec<Permission>) {
    for doc in branches(doc) {
        // `Fn::Sub` of a document (already parsed by `canonical`): read the document, with its
        // placeholders as text.
        let doc = match doc.get("Fn::Sub") {
            Some(Value::Array(args)) if is_intrinsic(doc) => args.first().unwrap_or(doc),
            Some(inner) if is_intrinsic(doc) && inner.is_object() => inner,
            _ => doc,
        };
        let statements = match doc.get("Statement") {
            Some(s) if !is_intrinsic(doc) => s,
            _ => {
                out.push(unresolved(policy, "(unresolved policy document)", doc));
                continue;
            }
        };
        for statement in items(statements) {
            match statement.as_object() {
                Some(m) if !is_intrinsic(statement) => expand_statement(policy, m, out),
                _ => out.push(unresolved(policy, "(unresolved statement)", statement)),
            }
        }
    }
}

/// The texts of a list-valued field (`Action`, `Resource`, a principal's values).
fn texts(v: &Value) -> Vec<String> {
    if is_intrinsic(v) {
        return vec![compact(v)];
    }
    match v {
        Value::Array(list) => list.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

fn principal_texts(v: &Value) -> Vec<String> {
    match v {
        Value::Object(m) if !is_intrinsic(v) => m
            .iter()
            .flat_map(|(kind, values)| {
                texts(values)
                    .into_iter()
                    .map(move |value| format!("{kind}:{value}"))
            })
            .collect(),
        other => texts(other),
    }
}

/// The texts of a field and its `Not` form (`NOT ...`); `-` when neither is there.
fn field_texts(
    m: &Map<String, Value>,
    field: &str,
    not_field: &str,
    read: fn(&Value) -> Vec<String>,
) -> Vec<String> {
    let mut out: Vec<String> = m.get(field).map(read).unwrap_or_default();
    if let Some(v) = m.get(not_field) {
        out.extend(read(v).into_iter().map(|t| format!("NOT {t}")));
    }
    if !m.contains_key(field) && !m.contains_key(not_field) {
        out.push("-".into());
    }
    out.sort();
    out.dedup();
    out
}

/// The most (principal × action × resource) tuples one statement is expanded into.
const MAX_TUPLES: usize = 10_000;

fn expand_statement(policy: &str, m: &Map<String, Value>, out: &mut Vec<Permission>) {
    let effect = m.get("Effect").map(text).unwrap_or_else(|| "-".into());
    let principals = field_texts(m, "Principal", "NotPrincipal", principal_texts);
    let actions = field_texts(m, "Action", "NotAction", texts);
    let resources = field_texts(m, "Resource", "NotResource", texts);
    let condition = m.get("Condition").map(|c| compact(&condition_form(c)));
    let tuples = principals
        .len()
        .saturating_mul(actions.len())
        .saturating_mul(resources.len());
    if tuples > MAX_TUPLES {
        // Too many to list one by one: one permission of the joined lists.
        out.push(Permission {
            policy: policy.to_owned(),
            effect,
            principal: principals.join(", "),
            action: actions.join(", "),
            resource: resources.join(", "),
            condition,
        });
        return;
    }
    for principal in &principals {
        for action in &actions {
            for resource in &resources {
                out.push(Permission {
                    policy: policy.to_owned(),
                    effect: effect.clone(),
                    principal: principal.clone(),
                    action: action.clone(),
                    resource: resource.clone(),
                    condition: condition.clone(),
                });
            }
        }
    }
}

/// A condition without order: keys sorted (already, by `canonical`), value lists sorted and
/// without duplicates, a one-value list as the value itself.
fn condition_form(v: &Value) -> Value {
    if is_intrinsic(v) {
        return v.clone();
    }
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), condition_form(v)))
                .collect(),
        ),
        Value::Array(list) => {
            let mut items: Vec<Value> = list.iter().map(condition_form).collect();
            items.sort_by_key(compact);
            items.dedup();
            match <[Value; 1]>::try_from(items) {
                Ok([one]) => one,
                Err(items) => Value::Array(items),
            }
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::diff::diff_templates;
    use serde_json::json;

    fn template(resources: Value) -> Value {
        json!({"Resources": resources})
    }

    fn risks(old: &Value, new: &Value) -> Vec<Risk> {
        template_risks(Some(old), new, &diff_templates(Some(old), new))
    }

    fn only(risks: &[Risk]) -> &Risk {
        assert_eq!(risks.len(), 1, "{risks:#?}");
        &risks[0]
    }

    fn perm(
        policy: &str,
        effect: &str,
        principal: &str,
        action: &str,
        resource: &str,
    ) -> Permission {
        Permission {
            policy: policy.into(),
            effect: effect.into(),
            principal: principal.into(),
            action: action.into(),
            resource: resource.into(),
            condition: None,
        }
    }

    fn role(trust: Value, policies: Value, managed: Value) -> Value {
        template(json!({"CiRole": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": trust},
            "Policies": policies,
            "ManagedPolicyArns": managed
        }}}))
    }

    fn trust(principals: Value) -> Value {
        json!([{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}])
    }

    #[test]
    fn trust_policy_principal_added() {
        let old = role(
            trust(json!("arn:aws:iam::111111111111:root")),
            json!([]),
            json!([]),
        );
        let new = role(
            trust(json!([
                "arn:aws:iam::111111111111:root",
                "arn:aws:iam::222222222222:root"
            ])),
            json!([]),
            json!([]),
        );
        let all = risks(&old, &new);
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Broadening);
        assert_eq!(r.logical_id, "CiRole");
        assert_eq!(r.resource_type, "AWS::IAM::Role");
        assert_eq!(
            r.reason,
            "widens IAM role `CiRole` trust policy: 1 permission added"
        );
        assert_eq!(
            r.added,
            [perm(
                "AssumeRolePolicyDocument",
                "Allow",
                "AWS:arn:aws:iam::222222222222:root",
                "sts:AssumeRole",
                "-"
            )]
        );
        assert!(r.removed.is_empty());
    }

    #[test]
    fn inline_policy_action_widened_to_a_wildcard() {
        let policy = |actions: Value| {
            json!([{"PolicyName": "ecr-push", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": actions, "Resource": "arn:aws:ecr:eu-west-1:1:repository/app"}
            ]}}])
        };
        let t = trust(json!("arn:aws:iam::1:root"));
        let old = role(
            t.clone(),
            policy(json!(["ecr:PutImage", "ecr:InitiateLayerUpload"])),
            json!([]),
        );
        let new = role(t, policy(json!("ecr:*")), json!([]));
        let all = risks(&old, &new);
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Broadening);
        let repo = "arn:aws:ecr:eu-west-1:1:repository/app";
        assert_eq!(
            r.added,
            [perm("Policies[ecr-push]", "Allow", "-", "ecr:*", repo)]
        );
        assert_eq!(
            r.removed,
            [
                perm(
                    "Policies[ecr-push]",
                    "Allow",
                    "-",
                    "ecr:InitiateLayerUpload",
                    repo
                ),
                perm("Policies[ecr-push]", "Allow", "-", "ecr:PutImage", repo),
            ]
        );
        assert_eq!(
            r.reason,
            "widens IAM role `CiRole` inline policy `ecr-push`: 1 permission added, 2 removed"
        );
    }

    #[test]
    fn condition_removed() {
        let statement = |condition: Option<Value>| {
            let mut s = json!({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"});
            if let Some(c) = condition {
                s["Condition"] = c;
            }
            json!([s])
        };
        let cond = json!({"StringLike": {"token.actions.githubusercontent.com:sub": ["repo:org/app:*", "repo:org/lib:*"]}});
        let old = role(statement(Some(cond)), json!([]), json!([]));
        let new = role(statement(None), json!([]), json!([]));
        let all = risks(&old, &new);
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Broadening);
        assert_eq!(r.added.len(), 1);
        assert_eq!(r.added[0].condition, None);
        assert_eq!(r.removed.len(), 1);
        assert_eq!(
            r.removed[0].condition.as_deref(),
            Some(
                r#"{"StringLike":{"token.actions.githubusercontent.com:sub":["repo:org/app:*","repo:org/lib:*"]}}"#
            )
        );
        assert_eq!(
            r.removed[0].principal,
            "Federated:arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"
        );
    }

    #[test]
    fn condition_changed_is_removed_and_added() {
        let statement = |account: &str| {
            json!([{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}}}])
        };
        let queue = |s: Value| {
            template(
                json!({"P": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"PolicyDocument": {"Statement": s}}}}),
            )
        };
        let all = risks(&queue(statement("1")), &queue(statement("2")));
        let r = only(&all);
        assert_eq!(
            r.reason,
            "widens SQS queue policy `P`: 1 permission added, 1 removed"
        );
        assert_eq!(
            r.added[0].condition.as_deref(),
            Some(r#"{"StringEquals":{"aws:SourceAccount":"2"}}"#)
        );
        assert_eq!(
            r.removed[0].condition.as_deref(),
            Some(r#"{"StringEquals":{"aws:SourceAccount":"1"}}"#)
        );
    }

    fn repo(policy: Option<Value>, extra: Value) -> Value {
        let mut props = json!({"RepositoryName": "app"});
        if let Some(p) = policy {
            props["RepositoryPolicyText"] = p;
        }
        let mut resource = json!({"Type": "AWS::ECR::Repository", "Properties": props});
        if let (Some(r), Some(e)) = (resource.as_object_mut(), extra.as_object()) {
            r.extend(e.clone());
        }
        template(json!({"Repo": resource}))
    }

    #[test]
    fn repository_policy_as_json_string_gains_a_principal() {
        let old = repo(
            Some(json!("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Pull\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111111111111:root\"},\"Action\":[\"ecr:BatchGetImage\",\"ecr:GetDownloadUrlForLayer\"]}]}")),
            json!({}),
        );
        let new = repo(
            Some(json!("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Pull\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::111111111111:root\",\"*\"]},\"Action\":[\"ecr:BatchGetImage\",\"ecr:GetDownloadUrlForLayer\"]}]}")),
            json!({}),
        );
        let all = risks(&old, &new);
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Broadening);
        assert_eq!(r.resource_type, "AWS::ECR::Repository");
        assert_eq!(
            r.added,
            [
                perm(
                    "RepositoryPolicyText",
                    "Allow",
                    "AWS:*",
                    "ecr:BatchGetImage",
                    "-"
                ),
                perm(
                    "RepositoryPolicyText",
                    "Allow",
                    "AWS:*",
                    "ecr:GetDownloadUrlForLayer",
                    "-"
                ),
            ]
        );
        assert_eq!(
            r.reason,
            "widens ECR repository `Repo` repository policy: 2 permissions added"
        );
    }

    #[test]
    fn reordered_statements_and_keys_are_no_risk() {
        let s1 = json!({"Effect": "Allow", "Principal": {"AWS": ["arn:1", "arn:2"]}, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]});
        let s2 = json!({"Effect": "Deny", "Principal": "*", "Action": "ecr:DeleteRepository", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ["1", "2"]}}});
        let old = repo(
            Some(
                json!({"Version": "2012-10-17", "Statement": [s1, s2]})
                    .to_string()
                    .into(),
            ),
            json!({}),
        );
        let s1r = json!({"Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], "Principal": {"AWS": ["arn:2", "arn:1"]}, "Effect": "Allow"});
        let s2r = json!({"Condition": {"StringNotEquals": {"aws:PrincipalAccount": ["2", "1", "2"]}}, "Action": ["ecr:DeleteRepository"], "Effect": "Deny", "Principal": "*"});
        let new = repo(
            Some(json!({"Statement": [s2r, s1r], "Version": "2012-10-17"})),
            json!({}),
        );
        assert!(risks(&old, &new).is_empty(), "{:#?}", risks(&old, &new));
        assert!(diff_templates(Some(&old), &new).is_empty());
    }

    #[test]
    fn repository_rename_is_destructive() {
        let old = repo(None, json!({}));
        let mut new = old.clone();
        new["Resources"]["Repo"]["Properties"]["RepositoryName"] = json!("app-v2");
        let all = risks(&old, &new);
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Destructive);
        assert_eq!(r.logical_id, "Repo");
        assert_eq!(
            r.reason,
            "replaces ECR repository `Repo` because `RepositoryName` changes: the old repository and its images are deleted"
        );
    }

    #[test]
    fn replacement_with_retain_still_destructive_and_says_so() {
        let old = repo(None, json!({"UpdateReplacePolicy": "Retain"}));
        let mut new = old.clone();
        new["Resources"]["Repo"]["Properties"]["RepositoryName"] = json!("app-v2");
        new["Resources"]["Repo"]["Properties"]["EncryptionConfiguration"] =
            json!({"EncryptionType": "KMS"});
        let all = risks(&old, &new);
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Destructive);
        assert_eq!(
            r.reason,
            "replaces ECR repository `Repo` because `RepositoryName` and `EncryptionConfiguration` change (UpdateReplacePolicy Retain: the old repository and its images stay in the account, outside the stack; the stack then points at a new, empty repository)"
        );
    }

    #[test]
    fn bucket_replacement_reason() {
        let bucket = |name: &str| {
            template(
                json!({"Reports": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}}}),
            )
        };
        let all = risks(&bucket("a"), &bucket("b"));
        assert_eq!(
            only(&all).reason,
            "replaces S3 bucket `Reports` because `BucketName` changes: the old bucket and its objects are deleted"
        );
    }

    #[test]
    fn in_place_changes_of_data_bearing_resources_are_no_risk() {
        let old = repo(None, json!({}));
        let mut new = old.clone();
        new["Resources"]["Repo"]["Properties"]["ImageTagMutability"] = json!("IMMUTABLE");
        assert!(risks(&old, &new).is_empty());
    }

    #[test]
    fn removal_of_a_retained_repository_is_destructive_with_the_note() {
        let old = repo(None, json!({"DeletionPolicy": "Retain"}));
        let new = template(json!({}));
        let all = risks(&old, &new);
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Destructive);
        assert_eq!(r.resource_type, "AWS::ECR::Repository");
        assert_eq!(
            r.reason,
            "removes ECR repository `Repo` (DeletionPolicy Retain: the repository and its images stay in the account, outside the stack)"
        );
        let all = risks(&repo(None, json!({})), &new);
        assert_eq!(
            only(&all).reason,
            "removes ECR repository `Repo`: the repository and its images are deleted"
        );
    }

    #[test]
    fn removal_of_an_rds_instance_snapshots_by_default() {
        let old = template(
            json!({"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres"}}}),
        );
        let all = risks(&old, &template(json!({})));
        assert_eq!(
            only(&all).reason,
            "removes RDS DB instance `Db` (no DeletionPolicy, so Snapshot: a final snapshot is kept, then the DB instance and its data are deleted)"
        );
    }

    #[test]
    fn removal_of_an_sns_topic_is_no_risk() {
        let old = template(
            json!({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}}),
        );
        assert!(risks(&old, &template(json!({}))).is_empty());
    }

    #[test]
    fn type_change_of_a_data_bearing_resource_is_destructive() {
        let old = template(json!({"Q": {"Type": "AWS::SQS::Queue"}}));
        let new = template(json!({"Q": {"Type": "AWS::SNS::Topic"}}));
        let all = risks(&old, &new);
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Destructive);
        assert_eq!(r.resource_type, "AWS::SQS::Queue");
        assert_eq!(
            r.reason,
            "replaces SQS queue `Q` because its type changes to `AWS::SNS::Topic`: the old queue and its messages are deleted"
        );
        // The other way round loses nothing.
        assert!(risks(&new, &old).is_empty());
    }

    #[test]
    fn managed_policy_arn_added() {
        let t = trust(json!("arn:aws:iam::1:root"));
        let old = role(
            t.clone(),
            json!([]),
            json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
        );
        let new = role(
            t,
            json!([]),
            json!([
                "arn:aws:iam::aws:policy/AdministratorAccess",
                "arn:aws:iam::aws:policy/ReadOnlyAccess"
            ]),
        );
        let all = risks(&old, &new);
        let r = only(&all);
        assert_eq!(
            r.added,
            [perm(
                "ManagedPolicyArns",
                "Allow",
                "-",
                "(managed policy)",
                "arn:aws:iam::aws:policy/AdministratorAccess"
            )]
        );
        assert_eq!(
            r.reason,
            "widens IAM role `CiRole` managed policies: 1 permission added"
        );
        // Removing one is narrowing.
        assert!(risks(&new, &old).is_empty());
    }

    #[test]
    fn removed_deny_is_broadening() {
        let policy = |statements: Value| {
            template(
                json!({"BP": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": "b", "PolicyDocument": {"Statement": statements}}}}),
            )
        };
        let allow = json!({"Effect": "Allow", "Principal": {"AWS": "arn:1"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        let deny = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": false}}});
        let all = risks(&policy(json!([allow, deny])), &policy(json!([allow])));
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Broadening);
        assert!(r.added.is_empty());
        assert_eq!(r.removed.len(), 1);
        assert_eq!(r.removed[0].effect, "Deny");
        assert_eq!(
            r.removed[0].condition.as_deref(),
            Some(r#"{"Bool":{"aws:SecureTransport":"false"}}"#)
        );
        assert_eq!(
            r.reason,
            "widens S3 bucket policy `BP`: 1 permission removed (Deny)"
        );
        // Removing only an Allow narrows; adding a Deny narrows.
        assert!(risks(&policy(json!([allow, deny])), &policy(json!([deny]))).is_empty());
        assert!(risks(&policy(json!([allow])), &policy(json!([allow, deny]))).is_empty());
        // Removing the whole bucket policy removes its Deny.
        let all = risks(&policy(json!([deny])), &template(json!({})));
        assert_eq!(only(&all).removed.len(), 1);
    }

    #[test]
    fn negated_elements_are_broadening_whenever_added() {
        let policy = |statements: Value| {
            template(
                json!({"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": statements}}}}),
            )
        };
        let base = json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*"});
        let not = json!({"Effect": "Deny", "NotAction": ["s3:GetObject"], "NotResource": "arn:x"});
        let all = risks(&policy(json!([base])), &policy(json!([base, not])));
        let r = only(&all);
        assert_eq!(
            r.added,
            [perm(
                "PolicyDocument",
                "Deny",
                "-",
                "NOT s3:GetObject",
                "NOT arn:x"
            )]
        );
        assert_eq!(
            r.reason,
            "widens IAM managed policy `P`: 1 permission added"
        );
    }

    #[test]
    fn a_new_stack_shows_what_it_grants() {
        let new = role(
            trust(json!("arn:aws:iam::1:root")),
            json!([{"PolicyName": "push", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": ["ecr:PutImage"], "Resource": "*"}}}]),
            json!([]),
        );
        let all = template_risks(None, &new, &diff_templates(None, &new));
        let r = only(&all);
        assert_eq!(r.kind, RiskKind::Broadening);
        assert_eq!(r.added.len(), 2);
        assert_eq!(
            r.reason,
            "grants 2 permissions through new IAM role `CiRole` (trust policy and inline policy `push`)"
        );
        // A new, unprotected bucket is not destructive.
        let bucket = template(json!({"B": {"Type": "AWS::S3::Bucket"}}));
        assert!(template_risks(None, &bucket, &diff_templates(None, &bucket)).is_empty());
    }

    #[test]
    fn intrinsics_are_text_and_fn_if_expands_both_branches() {
        let policy = json!({"Fn::If": ["IsProd",
            {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "arn:aws:s3:::${Bucket}/*"}}]},
            {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, {"Ref": "AWS::NoValue"}]}
        ]});
        let new = template(
            json!({"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": policy}}}),
        );
        let all = template_risks(None, &new, &diff_templates(None, &new));
        let r = only(&all);
        assert_eq!(
            r.added,
            [
                perm("PolicyDocument", "Allow", "-", "s3:*", "*"),
                perm(
                    "PolicyDocument",
                    "Allow",
                    "-",
                    "s3:GetObject",
                    r#"{"Fn::Sub":"arn:aws:s3:::${Bucket}/*"}"#
                ),
            ]
        );
        // A document that cannot be read still shows its text.
        let new = template(
            json!({"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Ref": "Doc"}}}}),
        );
        let all = template_risks(None, &new, &diff_templates(None, &new));
        assert_eq!(only(&all).added[0].action, "(unresolved policy document)");
        assert_eq!(only(&all).added[0].resource, r#"{"Ref":"Doc"}"#);
    }

    #[test]
    fn huge_statements_are_not_expanded_one_by_one() {
        let many =
            |prefix: &str| -> Vec<String> { (0..30).map(|i| format!("{prefix}{i}")).collect() };
        let policy = |extra: &str| {
            let mut actions = many("s3:A");
            actions.push(extra.to_owned());
            template(
                json!({"P": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"PolicyDocument": {"Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": many("arn:")}, "Action": actions, "Resource": many("r")}
                ]}}}}),
            )
        };
        let all = risks(&policy("s3:X"), &policy("s3:Y"));
        let r = only(&all);
        assert_eq!((r.added.len(), r.removed.len()), (1, 1));
        assert!(
            r.added[0].action.ends_with(", s3:Y"),
            "{}",
            r.added[0].action
        );
        assert!(r.added[0].principal.starts_with("AWS:arn:0, AWS:arn:1, "));
        // Below the limit, every tuple is listed.
        let small = |extra: &str| {
            template(
                json!({"P": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"PolicyDocument": {"Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": many("arn:")}, "Action": [extra], "Resource": many("r")}
                ]}}}}),
            )
        };
        assert_eq!(only(&risks(&small("a"), &small("b"))).added.len(), 900);
    }

    #[test]
    fn key_policy_is_read() {
        let key = |principal: &str| {
            template(
                json!({"K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:Decrypt", "Resource": "*"}
                ]}}}}),
            )
        };
        let all = risks(&key("arn:1"), &key("arn:2"));
        let r = only(&all);
        assert_eq!(
            r.reason,
            "widens KMS key `K` key policy: 1 permission added, 1 removed"
        );
    }

    #[test]
    fn replacement_risk_from_a_change_set() {
        let t = repo(None, json!({"UpdateReplacePolicy": "Retain"}));
        let r = replacement_risk("Repo", "AWS::ECR::Repository", Replacement::True, &t).unwrap();
        assert_eq!(r.kind, RiskKind::Destructive);
        assert_eq!(
            r.reason,
            "CloudFormation replaces ECR repository `Repo` (UpdateReplacePolicy Retain: the old repository and its images stay in the account, outside the stack; the stack then points at a new, empty repository)"
        );
        let r = replacement_risk(
            "T",
            "AWS::DynamoDB::Table",
            Replacement::Conditional,
            &json!({}),
        )
        .unwrap();
        assert_eq!(
            r.reason,
            "CloudFormation may replace DynamoDB table `T`, depending on values known only during the update: the old table and its items are deleted"
        );
        assert!(replacement_risk("Repo", "AWS::ECR::Repository", Replacement::False, &t).is_none());
        assert!(replacement_risk("Topic", "AWS::SNS::Topic", Replacement::True, &t).is_none());
    }

    #[test]
    fn dedupe_merges_template_and_change_set_replacements() {
        let old = repo(None, json!({}));
        let mut new = old.clone();
        new["Resources"]["Repo"]["Properties"]["RepositoryName"] = json!("b");
        let mut all = risks(&old, &new);
        all.push(
            replacement_risk("Repo", "AWS::ECR::Repository", Replacement::True, &new).unwrap(),
        );
        all.push(replacement_risk("Other", "AWS::S3::Bucket", Replacement::True, &new).unwrap());
        let merged = dedupe(all);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].logical_id, "Repo");
        assert!(merged[0]
            .reason
            .contains("because `RepositoryName` changes"));
        assert_eq!(merged[1].logical_id, "Other");
        // Same logical id, other kind: kept apart; permissions merge without duplicates.
        let b = |added: Vec<Permission>| Risk {
            kind: RiskKind::Broadening,
            logical_id: "Repo".into(),
            resource_type: "AWS::ECR::Repository".into(),
            reason: "r".into(),
            added,
            removed: Vec::new(),
        };
        let p = perm("RepositoryPolicyText", "Allow", "*", "ecr:*", "-");
        let q = perm("RepositoryPolicyText", "Allow", "*", "ecr:A", "-");
        let merged = dedupe(vec![
            merged[0].clone(),
            b(vec![p.clone()]),
            b(vec![q.clone(), p.clone()]),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[1].added, [p, q]);
    }

    #[test]
    fn data_bearing_types_and_replacing_properties() {
        for t in [
            "AWS::ECR::Repository",
            "AWS::S3::Bucket",
            "AWS::KMS::Key",
            "AWS::Logs::LogGroup",
            "AWS::DynamoDB::Table",
            "AWS::RDS::DBInstance",
            "AWS::RDS::DBCluster",
            "AWS::EFS::FileSystem",
            "AWS::SQS::Queue",
            "AWS::Kinesis::Stream",
            "AWS::SecretsManager::Secret",
            "AWS::ElastiCache::ReplicationGroup",
            "AWS::EC2::Volume",
            "AWS::Backup::BackupVault",
        ] {
            assert!(is_data_bearing(t), "{t}");
        }
        for t in [
            "AWS::SNS::Topic",
            "AWS::ECR::PullThroughCacheRule",
            "AWS::IAM::Role",
            "",
            "aws::s3::bucket",
        ] {
            assert!(!is_data_bearing(t), "{t}");
            assert!(replacing_properties(t).is_empty());
        }
        assert_eq!(
            replacing_properties("AWS::DynamoDB::Table"),
            ["TableName", "KeySchema"]
        );
        assert!(!replacing_properties("AWS::Logs::LogGroup").contains(&"KmsKeyId"));
        assert!(touches(
            "Properties.KeySchema[0].AttributeName",
            "KeySchema"
        ));
        assert!(touches("Properties.Name", "Name"));
        assert!(!touches("Properties.NameSuffix", "Name"));
        assert!(!touches(
            "Properties.GlobalSecondaryIndexes[0].KeySchema",
            "KeySchema"
        ));
    }

    #[test]
    fn kms_key_replacement_names_the_consequence() {
        let key = |spec: &str| {
            template(json!({"K": {"Type": "AWS::KMS::Key", "Properties": {"KeySpec": spec}}}))
        };
        let all = risks(&key("SYMMETRIC_DEFAULT"), &key("RSA_2048"));
        assert_eq!(
            only(&all).reason,
            "replaces KMS key `K` because `KeySpec` changes: the old key is scheduled for deletion (data encrypted with it becomes unreadable)"
        );
    }

    #[test]
    fn destructive_risks_come_first_sorted() {
        let old = template(json!({
            "Z": {"Type": "AWS::S3::Bucket"},
            "A": {"Type": "AWS::SQS::Queue"},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}}
        }));
        let new = template(json!({
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": trust(json!("arn:1"))}}}
        }));
        let all = risks(&old, &new);
        let kinds: Vec<(RiskKind, &str)> = all
            .iter()
            .map(|r| (r.kind, r.logical_id.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (RiskKind::Destructive, "A"),
                (RiskKind::Destructive, "Z"),
                (RiskKind::Broadening, "Role")
            ]
        );
    }

    #[test]
    fn odd_input_does_not_panic() {
        let odd = [
            json!(null),
            json!({"Resources": 1}),
            json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Statement": [1, null, {"Effect": ["x"], "Principal": [1, {"a": 2}], "Action": {"b": 1}}]},
                "Policies": [1, {"PolicyName": {"Ref": "N"}}, {"PolicyDocument": "x"}, {"Fn::If": ["c", {"PolicyName": "p", "PolicyDocument": {"Statement": {}}}]}],
                "ManagedPolicyArns": {"Ref": "Arns"}
            }}}}),
            json!({"Resources": {"R": {"Type": "AWS::ECR::Repository", "DeletionPolicy": {"Fn::If": ["c", "Retain", "Delete"]}, "Properties": {"RepositoryPolicyText": "[1,2]"}}}}),
            json!({"Resources": {"R": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": {"Effect": "Allow", "Principal": {}, "Condition": [[], {}]}}}}}}),
        ];
        for a in &odd {
            for b in &odd {
                let d = diff_templates(Some(a), b);
                let all = template_risks(Some(a), b, &d);
                let _ = dedupe(all);
                let _ = replacement_risk("R", "AWS::ECR::Repository", Replacement::Conditional, b);
            }
            let _ = template_risks(None, a, &diff_templates(None, a));
        }
        // An intrinsic deletion policy is reported as written.
        let all = risks(&odd[3], &json!({}));
        assert!(
            only(&all)
                .reason
                .contains(r#"DeletionPolicy {"Fn::If":["c","Retain","Delete"]}"#),
            "{all:#?}"
        );
    }

    #[test]
    fn serialised_shapes() {
        assert_eq!(
            serde_json::to_string(&RiskKind::Destructive).unwrap(),
            "\"destructive\""
        );
        assert_eq!(
            serde_json::to_string(&Replacement::Conditional).unwrap(),
            "\"Conditional\""
        );
        let r: Replacement = serde_json::from_str("\"True\"").unwrap();
        assert_eq!(r, Replacement::True);
    }
}
