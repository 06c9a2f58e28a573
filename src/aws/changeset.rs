//! CloudFormation change sets: create, describe (page by page), delete and execute them behind
//! the [`ChangeSets`] trait; [`wait_for_change_set`] polls one until CloudFormation has worked
//! out its changes and reads every page; [`change_set_name`] names one after its inputs.
//!
//! The SDK adapter [`ChangeSetClient`] maps the SDK's types to [`ChangeSet`] and friends;
//! nothing of the SDK leaves this file. A change set with nothing to change is `FAILED` on AWS,
//! told apart from a real failure only by the English text of its status reason; those texts
//! are matched here ([`ChangeSet::has_no_changes`]) and nowhere else. The local emulator (moto)
//! reports the same situation as an `AVAILABLE` change set without changes, which counts as
//! "no changes" too.

use async_trait::async_trait;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetType as SdkChangeSetType, Parameter, ResourceChangeDetail,
    ResourceToImport as SdkResourceToImport, Tag,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sdk_error;
use crate::error::{Error, Result};
use crate::poll::{poll_until, Poll};

/// Whether a change set creates a new stack or updates an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeSetType {
    Create,
    Update,
    /// Takes existing resources into the stack (`ResourcesToImport`); creates nothing.
    Import,
}

/// One existing resource that an IMPORT change set takes into a stack: its logical id in the
/// template, its type, and the type's identifier (such as `RepositoryName` → `team-a/api`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceToImport {
    pub logical_id: String,
    pub resource_type: String,
    /// Identifier property → value; one pair for the types `little` imports.
    pub identifier: Vec<(String, String)>,
}

/// What [`ChangeSets::create_change_set`] sends.
#[derive(Debug, Clone, Default)]
pub struct ChangeSetRequest {
    /// The stack's name (or ARN, for an update).
    pub stack_name: String,
    pub change_set_name: String,
    /// `None` means [`ChangeSetType::Update`].
    pub change_set_type: Option<ChangeSetType>,
    /// The template itself; or `template_url`.
    pub template_body: Option<String>,
    pub template_url: Option<String>,
    /// Parameter key → value.
    pub parameters: Vec<(String, String)>,
    /// Tag key → value.
    pub tags: Vec<(String, String)>,
    /// Such as `CAPABILITY_NAMED_IAM`.
    pub capabilities: Vec<String>,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub notification_arns: Vec<String>,
    /// For [`ChangeSetType::Import`]: the existing resources to take into the stack.
    pub resources_to_import: Vec<ResourceToImport>,
}

/// Which change set: its ARN and name, and its stack's ARN and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeSetId {
    /// The change set's ARN.
    pub id: String,
    /// The stack's ARN.
    pub stack_id: String,
    pub name: String,
    pub stack_name: String,
}

/// Why one attribute of a resource changes (a `ResourceChangeDetail`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeDetail {
    /// `Properties`, `Metadata`, `CreationPolicy`, `UpdatePolicy`, `DeletionPolicy`,
    /// `UpdateReplacePolicy`, `Tags`.
    pub attribute: Option<String>,
    /// The property's name, when `attribute` is `Properties`.
    pub name: Option<String>,
    /// `Never`, `Conditionally` or `Always`.
    pub requires_recreation: Option<String>,
    /// `Static` or `Dynamic`.
    pub evaluation: Option<String>,
    /// `ResourceReference`, `ParameterReference`, `ResourceAttribute`, `DirectModification`,
    /// `Automatic`.
    pub change_source: Option<String>,
    /// The parameter, resource or attribute that causes the change.
    pub causing_entity: Option<String>,
}

/// One resource that the change set would add, modify or remove.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`, `Import` or `Dynamic`.
    pub action: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    /// `True`, `False` or `Conditional`; only for `Modify`.
    pub replacement: Option<String>,
    /// The changed attribute kinds, such as `Properties` and `Tags`.
    pub scope: Vec<String>,
    pub details: Vec<ChangeDetail>,
}

impl ResourceChange {
    /// The properties whose change the change set says recreates the resource
    /// (`RequiresRecreation` `Always` or `Conditionally`), each once, in the details' order.
    pub fn recreating_properties(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for d in &self.details {
            let recreates = matches!(
                d.requires_recreation.as_deref(),
                Some("Always" | "Conditionally")
            );
            if let (true, Some("Properties"), Some(name)) =
                (recreates, d.attribute.as_deref(), d.name.as_deref())
            {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
        names
    }
}

/// A change set as DescribeChangeSet reports it (all pages merged, after
/// [`wait_for_change_set`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    pub id: ChangeSetId,
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `DELETE_*` or `FAILED`.
    pub status: String,
    /// `AVAILABLE`, `UNAVAILABLE`, `EXECUTE_IN_PROGRESS`, `EXECUTE_COMPLETE`, `EXECUTE_FAILED`,
    /// `OBSOLETE`.
    pub execution_status: Option<String>,
    pub status_reason: Option<String>,
    pub changes: Vec<ResourceChange>,
}

/// The status reasons with which AWS fails a change set that would change nothing.
const NO_CHANGES_REASONS: [&str; 2] = [
    "The submitted information didn't contain changes",
    "No updates are to be performed",
];

impl ChangeSet {
    /// Whether there is nothing to change: `FAILED` because the submitted information didn't
    /// contain changes (AWS), or complete and `AVAILABLE` without any change (the emulator).
    pub fn has_no_changes(&self) -> bool {
        match self.status.as_str() {
            "FAILED" => self
                .status_reason
                .as_deref()
                .is_some_and(|r| NO_CHANGES_REASONS.iter().any(|t| r.contains(t))),
            "CREATE_COMPLETE" => {
                self.changes.is_empty()
                    && self
                        .execution_status
                        .as_deref()
                        .is_none_or(|s| s == "AVAILABLE")
            }
            _ => false,
        }
    }

    /// Whether CloudFormation has worked out the changes (`CREATE_COMPLETE`).
    pub fn is_ready(&self) -> bool {
        self.status == "CREATE_COMPLETE"
    }

    /// Whether the change set failed for a reason other than having nothing to change.
    pub fn is_failed(&self) -> bool {
        self.status == "FAILED" && !self.has_no_changes()
    }

    /// Whether CloudFormation is still working on it (`CREATE_PENDING`, `CREATE_IN_PROGRESS`).
    fn is_pending(&self) -> bool {
        matches!(
            self.status.as_str(),
            "CREATE_PENDING" | "CREATE_IN_PROGRESS"
        )
    }
}

/// CloudFormation's change-set calls.
#[async_trait]
pub trait ChangeSets: Send + Sync {
    /// `None` when AWS refuses to create it because nothing would change ("No updates are to
    /// be performed", as the emulator and some AWS paths answer).
    async fn create_change_set(&self, req: &ChangeSetRequest) -> Result<Option<ChangeSetId>>;
    /// One page of DescribeChangeSet; the next token if there are more.
    async fn describe_change_set_page(
        &self,
        stack_name: &str,
        name: &str,
        next_token: Option<String>,
    ) -> Result<(ChangeSet, Option<String>)>;
    async fn delete_change_set(&self, stack_name: &str, name: &str) -> Result<()>;
    async fn execute_change_set(&self, stack_name: &str, name: &str) -> Result<()>;
    /// ListChangeSets of a stack, every page: the change sets it holds now.
    async fn list_change_sets(&self, stack_name: &str) -> Result<Vec<ChangeSetSummary>>;
}

/// A change set as ListChangeSets reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetSummary {
    pub name: String,
    /// The stack's name, as AWS reports it.
    pub stack_name: String,
    pub status: String,
    /// `AVAILABLE` until it is executed.
    pub execution_status: Option<String>,
}

/// [`ChangeSets`] through the SDK's CloudFormation client.
pub struct ChangeSetClient {
    client: aws_sdk_cloudformation::Client,
}

impl ChangeSetClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        ChangeSetClient {
            client: super::sdk_client!(aws_sdk_cloudformation, config),
        }
    }

    /// Wraps a client built elsewhere (tests: a mock client).
    pub fn from_client(client: aws_sdk_cloudformation::Client) -> Self {
        ChangeSetClient { client }
    }
}

/// `None` for an empty string: the SDK treats an empty stack name as a value, AWS as an error.
fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn detail(d: &ResourceChangeDetail) -> ChangeDetail {
    let target = d.target();
    ChangeDetail {
        attribute: target
            .and_then(|t| t.attribute())
            .map(|a| a.as_str().to_owned()),
        name: target.and_then(|t| t.name()).map(str::to_owned),
        requires_recreation: target
            .and_then(|t| t.requires_recreation())
            .map(|r| r.as_str().to_owned()),
        evaluation: d.evaluation().map(|e| e.as_str().to_owned()),
        change_source: d.change_source().map(|c| c.as_str().to_owned()),
        causing_entity: d.causing_entity().map(str::to_owned),
    }
}

fn resource_change(rc: &aws_sdk_cloudformation::types::ResourceChange) -> ResourceChange {
    ResourceChange {
        action: rc
            .action()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
        physical_id: rc.physical_resource_id().map(str::to_owned),
        resource_type: rc.resource_type().unwrap_or_default().to_owned(),
        replacement: rc.replacement().map(|r| r.as_str().to_owned()),
        scope: rc.scope().iter().map(|s| s.as_str().to_owned()).collect(),
        details: rc.details().iter().map(detail).collect(),
    }
}

#[async_trait]
impl ChangeSets for ChangeSetClient {
    async fn create_change_set(&self, req: &ChangeSetRequest) -> Result<Option<ChangeSetId>> {
        let kind = match req.change_set_type.unwrap_or(ChangeSetType::Update) {
            ChangeSetType::Create => SdkChangeSetType::Create,
            ChangeSetType::Update => SdkChangeSetType::Update,
            ChangeSetType::Import => SdkChangeSetType::Import,
        };
        let imports: Vec<SdkResourceToImport> = req
            .resources_to_import
            .iter()
            .map(|r| {
                SdkResourceToImport::builder()
                    .logical_resource_id(&r.logical_id)
                    .resource_type(&r.resource_type)
                    .set_resource_identifier(Some(r.identifier.iter().cloned().collect()))
                    .build()
            })
            .collect();
        let parameters = req
            .parameters
            .iter()
            .map(|(k, v)| {
                Parameter::builder()
                    .parameter_key(k)
                    .parameter_value(v)
                    .build()
            })
            .collect();
        let tags = req
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let capabilities = req
            .capabilities
            .iter()
            .map(|c| Capability::from(c.as_str()))
            .collect();
        let out = self
            .client
            .create_change_set()
            .stack_name(&req.stack_name)
            .change_set_name(&req.change_set_name)
            .change_set_type(kind)
            .set_template_body(req.template_body.clone())
            .set_template_url(req.template_url.clone())
            .set_parameters(Some(parameters))
            .set_tags(Some(tags))
            .set_capabilities(Some(capabilities))
            .set_description(req.description.clone())
            .set_role_arn(req.role_arn.clone())
            .set_notification_arns(Some(req.notification_arns.clone()))
            .set_resources_to_import((!imports.is_empty()).then_some(imports))
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let err = sdk_error("cloudformation:CreateChangeSet", e);
                if let Error::Aws { message, .. } = &err {
                    if NO_CHANGES_REASONS.iter().any(|r| message.contains(r)) {
                        return Ok(None);
                    }
                }
                return Err(err);
            }
        };
        let id = out
            .id()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Aws {
                operation: "cloudformation:CreateChangeSet".into(),
                message: format!(
                    "the response for change set `{}` of stack `{}` carried no change set id",
                    req.change_set_name, req.stack_name
                ),
            })?;
        Ok(Some(ChangeSetId {
            id: id.to_owned(),
            stack_id: out.stack_id().unwrap_or_default().to_owned(),
            name: req.change_set_name.clone(),
            stack_name: req.stack_name.clone(),
        }))
    }

    async fn describe_change_set_page(
        &self,
        stack_name: &str,
        name: &str,
        next_token: Option<String>,
    ) -> Result<(ChangeSet, Option<String>)> {
        let out = self
            .client
            .describe_change_set()
            .set_stack_name(non_empty(stack_name))
            .change_set_name(name)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:DescribeChangeSet", e))?;
        let change_set = ChangeSet {
            id: ChangeSetId {
                id: out.change_set_id().unwrap_or_default().to_owned(),
                stack_id: out.stack_id().unwrap_or_default().to_owned(),
                name: out.change_set_name().unwrap_or(name).to_owned(),
                stack_name: out.stack_name().unwrap_or(stack_name).to_owned(),
            },
            status: out
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            execution_status: out.execution_status().map(|s| s.as_str().to_owned()),
            status_reason: out.status_reason().map(str::to_owned),
            changes: out
                .changes()
                .iter()
                .filter_map(|c| c.resource_change())
                .map(resource_change)
                .collect(),
        };
        let next = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        Ok((change_set, next))
    }

    async fn delete_change_set(&self, stack_name: &str, name: &str) -> Result<()> {
        self.client
            .delete_change_set()
            .set_stack_name(non_empty(stack_name))
            .change_set_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:DeleteChangeSet", e))?;
        Ok(())
    }

    async fn execute_change_set(&self, stack_name: &str, name: &str) -> Result<()> {
        self.client
            .execute_change_set()
            .set_stack_name(non_empty(stack_name))
            .change_set_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:ExecuteChangeSet", e))?;
        Ok(())
    }

    async fn list_change_sets(&self, stack_name: &str) -> Result<Vec<ChangeSetSummary>> {
        let mut pages = self
            .client
            .list_change_sets()
            .stack_name(stack_name)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("cloudformation:ListChangeSets", e))?;
            for s in page.summaries() {
                let stack = s.stack_name().unwrap_or_default();
                // Some endpoints list every stack's change sets: keep this stack's.
                if stack != stack_name && s.stack_id() != Some(stack_name) {
                    continue;
                }
                out.push(ChangeSetSummary {
                    name: s.change_set_name().unwrap_or_default().to_owned(),
                    stack_name: stack.to_owned(),
                    status: s
                        .status()
                        .map(|x| x.as_str().to_owned())
                        .unwrap_or_default(),
                    execution_status: s.execution_status().map(|x| x.as_str().to_owned()),
                });
            }
        }
        Ok(out)
    }
}

/// A mark for the change sets of one run of `plan` or `apply`: eight random hex digits, ending
/// every change set name the run makes, so that a run finds and deletes its own change sets and
/// never another run's (a concurrent `plan --out` keeps its own).
pub fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the operating system's randomness, per process.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(crate::time::now_nanos());
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() & 0xffff_ffff)
}

/// The name of a run's change set for a stack: `little-`, 16 hex digits of a SHA-256 over the
/// stack's name and the content name ([`change_set_name`]), and the run's mark. The stack is in
/// the hash so that two stacks deploying the same thing in one run never share a name (AWS
/// scopes names per stack; an endpoint that looks change sets up by name alone would mix them).
pub fn run_change_set_name(stack: &str, content_name: &str, run_id: &str) -> String {
    let mut h = Sha256::new();
    h.update((stack.len() as u64).to_be_bytes());
    h.update(stack.as_bytes());
    h.update(content_name.as_bytes());
    let digest = hex::encode(h.finalize());
    format!("little-{}-{run_id}", &digest[..16])
}

/// Whether a change set was made by the run with this mark.
pub fn made_by_run(change_set: &str, run_id: &str) -> bool {
    change_set.starts_with("little-")
        && change_set
            .strip_suffix(run_id)
            .is_some_and(|rest| rest.ends_with('-'))
}

/// How many pages [`wait_for_change_set`] reads at most: far beyond any real change set
/// (a template holds at most 500 resources), a guard against a token that never ends.
const MAX_PAGES: usize = 1000;

/// Polls until the change set leaves `CREATE_PENDING`/`CREATE_IN_PROGRESS`, then reads all
/// pages and returns the merged change set (status and ids of the first page, the changes of
/// all pages in order).
///
/// A `FAILED` change set is returned, not an error: [`ChangeSet::has_no_changes`] tells
/// "nothing to change" apart, [`ChangeSet::is_failed`] a real failure, whose reason is in
/// `status_reason`. Still pending after `poll.timeout`: an [`Error::Aws`] saying so.
pub async fn wait_for_change_set(
    cs: &dyn ChangeSets,
    stack_name: &str,
    name: &str,
    poll: Poll,
) -> Result<ChangeSet> {
    let first = poll_until(
        poll,
        || cs.describe_change_set_page(stack_name, name, None),
        |(page, _): &(ChangeSet, Option<String>)| !page.is_pending(),
    )
    .await?;
    let (mut change_set, mut next) = first.map_err(|(page, _)| Error::Aws {
        operation: "cloudformation:DescribeChangeSet".into(),
        message: format!(
            "timed out after {} waiting for change set `{name}` of stack `{stack_name}` \
             (still {})",
            crate::duration::human(poll.timeout),
            page.status
        ),
    })?;
    let mut pages = 1;
    while let Some(token) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(Error::Aws {
                operation: "cloudformation:DescribeChangeSet".into(),
                message: format!(
                    "change set `{name}` of stack `{stack_name}` did not end after {MAX_PAGES} pages"
                ),
            });
        }
        let (page, token) = cs
            .describe_change_set_page(stack_name, name, Some(token))
            .await?;
        change_set.changes.extend(page.changes);
        next = token;
    }
    Ok(change_set)
}

/// A deterministic change-set name: `little-` and the first 16 hex digits of a SHA-256 over
/// the template body, parameters, tags and capabilities. Parameters and tags are sorted by key
/// and capabilities sorted, so their order does not matter. The name matches CloudFormation's
/// grammar (`[a-zA-Z][-a-zA-Z0-9]*`, at most 128 characters).
pub fn change_set_name(
    template_body: &str,
    parameters: &[(String, String)],
    tags: &[(String, String)],
    capabilities: &[String],
) -> String {
    // Every field is length-prefixed, so that no two different inputs frame the same bytes.
    fn field(h: &mut Sha256, s: &str) {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    }
    fn pairs(h: &mut Sha256, label: &str, pairs: &[(String, String)]) {
        let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
        sorted.sort();
        field(h, label);
        h.update((sorted.len() as u64).to_be_bytes());
        for (k, v) in sorted {
            field(h, k);
            field(h, v);
        }
    }
    let mut h = Sha256::new();
    field(&mut h, "template");
    field(&mut h, template_body);
    pairs(&mut h, "parameters", parameters);
    pairs(&mut h, "tags", tags);
    let mut caps: Vec<&String> = capabilities.iter().collect();
    caps.sort();
    field(&mut h, "capabilities");
    h.update((caps.len() as u64).to_be_bytes());
    for c in caps {
        field(&mut h, c);
    }
    let digest = hex::encode(h.finalize());
    format!("little-{}", &digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::operation::create_change_set::{
        CreateChangeSetError, CreateChangeSetOutput,
    };
    use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
    use aws_sdk_cloudformation::types::{
        Change, ChangeAction, ChangeSetStatus, ChangeSource, ChangeType, EvaluationType,
        ExecutionStatus, Replacement, RequiresRecreation, ResourceAttribute,
        ResourceChange as SdkResourceChange, ResourceTargetDefinition,
    };
    use aws_sdk_cloudformation::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;
    use std::time::Duration;

    #[test]
    fn recreating_properties_are_the_details_that_require_recreation() {
        let detail = |name: &str, recreation: &str, attribute: &str| ChangeDetail {
            attribute: Some(attribute.into()),
            name: Some(name.into()),
            requires_recreation: Some(recreation.into()),
            evaluation: None,
            change_source: None,
            causing_entity: None,
        };
        let change = ResourceChange {
            action: "Modify".into(),
            logical_id: "Repo".into(),
            physical_id: None,
            resource_type: "AWS::ECR::Repository".into(),
            replacement: Some("True".into()),
            scope: vec!["Properties".into()],
            details: vec![
                detail("RepositoryName", "Always", "Properties"),
                detail("Tags", "Never", "Properties"),
                detail("EncryptionConfiguration", "Conditionally", "Properties"),
                detail("RepositoryName", "Always", "Properties"),
                detail("Metadata", "Always", "Metadata"),
            ],
        };
        assert_eq!(
            change.recreating_properties(),
            ["RepositoryName", "EncryptionConfiguration"]
        );
    }

    const STACK: &str = "little-platform";
    const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/little-platform/6f1c2a30-5e0b-11ef-9b1a-0a4f7c1e2d11";
    const CS: &str = "little-3f9a0c1b2d4e5f60";
    const CS_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/little-3f9a0c1b2d4e5f60/0b8c7e52-2d7f-4f0e-9a3c-5b1d2e3f4a5b";

    fn zero() -> Poll {
        Poll {
            first: Duration::ZERO,
            max: Duration::ZERO,
            timeout: Duration::from_secs(30),
        }
    }

    /// A DescribeChangeSet response with the fields AWS always fills in.
    fn described(
        status: ChangeSetStatus,
        execution: ExecutionStatus,
    ) -> aws_sdk_cloudformation::operation::describe_change_set::builders::DescribeChangeSetOutputBuilder
    {
        DescribeChangeSetOutput::builder()
            .change_set_name(CS)
            .change_set_id(CS_ID)
            .stack_id(STACK_ID)
            .stack_name(STACK)
            .status(status)
            .execution_status(execution)
    }

    fn add(logical: &str, kind: &str) -> Change {
        Change::builder()
            .r#type(ChangeType::Resource)
            .resource_change(
                SdkResourceChange::builder()
                    .action(ChangeAction::Add)
                    .logical_resource_id(logical)
                    .resource_type(kind)
                    .build(),
            )
            .build()
    }

    fn target(
        attribute: ResourceAttribute,
        name: Option<&str>,
        recreation: RequiresRecreation,
    ) -> ResourceTargetDefinition {
        ResourceTargetDefinition::builder()
            .attribute(attribute)
            .set_name(name.map(str::to_owned))
            .requires_recreation(recreation)
            .build()
    }

    /// The two modifications of test 1: a repository replaced because its name changes, and a
    /// role whose replacement depends on a referenced resource.
    fn rich_changes() -> Vec<Change> {
        let repo = SdkResourceChange::builder()
            .action(ChangeAction::Modify)
            .logical_resource_id("Repository")
            .physical_resource_id("platform/api")
            .resource_type("AWS::ECR::Repository")
            .replacement(Replacement::True)
            .scope(ResourceAttribute::Properties)
            .scope(ResourceAttribute::Tags)
            .details(
                ResourceChangeDetail::builder()
                    .target(target(
                        ResourceAttribute::Properties,
                        Some("RepositoryName"),
                        RequiresRecreation::Always,
                    ))
                    .evaluation(EvaluationType::Static)
                    .change_source(ChangeSource::DirectModification)
                    .build(),
            )
            .details(
                ResourceChangeDetail::builder()
                    .target(target(
                        ResourceAttribute::Tags,
                        None,
                        RequiresRecreation::Never,
                    ))
                    .evaluation(EvaluationType::Static)
                    .change_source(ChangeSource::DirectModification)
                    .build(),
            )
            .build();
        let role = SdkResourceChange::builder()
            .action(ChangeAction::Modify)
            .logical_resource_id("TaskRole")
            .physical_resource_id("little-platform-TaskRole-1A2B3C4D5E6F")
            .resource_type("AWS::IAM::Role")
            .replacement(Replacement::Conditional)
            .scope(ResourceAttribute::Properties)
            .details(
                ResourceChangeDetail::builder()
                    .target(target(
                        ResourceAttribute::Properties,
                        Some("RoleName"),
                        RequiresRecreation::Conditionally,
                    ))
                    .evaluation(EvaluationType::Dynamic)
                    .change_source(ChangeSource::ResourceReference)
                    .causing_entity("Repository")
                    .build(),
            )
            .details(
                ResourceChangeDetail::builder()
                    .target(target(
                        ResourceAttribute::Properties,
                        Some("Path"),
                        RequiresRecreation::Always,
                    ))
                    .evaluation(EvaluationType::Static)
                    .change_source(ChangeSource::ParameterReference)
                    .causing_entity("RolePath")
                    .build(),
            )
            .build();
        [repo, role]
            .into_iter()
            .map(|rc| {
                Change::builder()
                    .r#type(ChangeType::Resource)
                    .resource_change(rc)
                    .build()
            })
            .collect()
    }

    fn detail(
        attribute: &str,
        name: Option<&str>,
        recreation: &str,
        evaluation: &str,
        source: &str,
        causing: Option<&str>,
    ) -> ChangeDetail {
        ChangeDetail {
            attribute: Some(attribute.into()),
            name: name.map(Into::into),
            requires_recreation: Some(recreation.into()),
            evaluation: Some(evaluation.into()),
            change_source: Some(source.into()),
            causing_entity: causing.map(Into::into),
        }
    }

    #[tokio::test]
    async fn waits_through_pending_and_maps_every_field() {
        let describe = mock!(Client::describe_change_set)
            .match_requests(|r| {
                r.stack_name() == Some(STACK)
                    && r.change_set_name() == Some(CS)
                    && r.next_token().is_none()
            })
            .sequence()
            .output(|| {
                described(ChangeSetStatus::CreatePending, ExecutionStatus::Unavailable).build()
            })
            .times(3)
            .output(|| {
                described(
                    ChangeSetStatus::CreateInProgress,
                    ExecutionStatus::Unavailable,
                )
                .build()
            })
            .output(|| {
                described(ChangeSetStatus::CreateComplete, ExecutionStatus::Available)
                    .set_changes(Some(rich_changes()))
                    .build()
            })
            .build();
        let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&describe]);
        let cs = ChangeSetClient::from_client(client);

        let got = wait_for_change_set(&cs, STACK, CS, zero()).await.unwrap();
        assert_eq!(describe.num_calls(), 5);
        assert!(got.is_ready());
        assert!(!got.is_failed());
        assert!(!got.has_no_changes());
        assert_eq!(
            got.id,
            ChangeSetId {
                id: CS_ID.into(),
                stack_id: STACK_ID.into(),
                name: CS.into(),
                stack_name: STACK.into(),
            }
        );
        assert_eq!(got.status, "CREATE_COMPLETE");
        assert_eq!(got.execution_status.as_deref(), Some("AVAILABLE"));
        assert_eq!(got.status_reason, None);
        assert_eq!(
            got.changes,
            vec![
                ResourceChange {
                    action: "Modify".into(),
                    logical_id: "Repository".into(),
                    physical_id: Some("platform/api".into()),
                    resource_type: "AWS::ECR::Repository".into(),
                    replacement: Some("True".into()),
                    scope: vec!["Properties".into(), "Tags".into()],
                    details: vec![
                        detail(
                            "Properties",
                            Some("RepositoryName"),
                            "Always",
                            "Static",
                            "DirectModification",
                            None
                        ),
                        detail("Tags", None, "Never", "Static", "DirectModification", None),
                    ],
                },
                ResourceChange {
                    action: "Modify".into(),
                    logical_id: "TaskRole".into(),
                    physical_id: Some("little-platform-TaskRole-1A2B3C4D5E6F".into()),
                    resource_type: "AWS::IAM::Role".into(),
                    replacement: Some("Conditional".into()),
                    scope: vec!["Properties".into()],
                    details: vec![
                        detail(
                            "Properties",
                            Some("RoleName"),
                            "Conditionally",
                            "Dynamic",
                            "ResourceReference",
                            Some("Repository")
                        ),
                        detail(
                            "Properties",
                            Some("Path"),
                            "Always",
                            "Static",
                            "ParameterReference",
                            Some("RolePath")
                        ),
                    ],
                },
            ]
        );
    }

    #[tokio::test]
    async fn failed_without_changes_is_no_changes_not_failure() {
        let describe = mock!(Client::describe_change_set)
            .sequence()
            .output(|| {
                described(ChangeSetStatus::CreatePending, ExecutionStatus::Unavailable).build()
            })
            .output(|| {
                described(ChangeSetStatus::Failed, ExecutionStatus::Unavailable)
                    .status_reason(
                        "The submitted information didn't contain changes. Submit different \
                         information to create a change set.",
                    )
                    .build()
            })
            .build();
        let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&describe]);
        let cs = ChangeSetClient::from_client(client);

        let got = wait_for_change_set(&cs, STACK, CS, zero()).await.unwrap();
        assert_eq!(got.status, "FAILED");
        assert!(got.has_no_changes());
        assert!(!got.is_failed());
        assert!(!got.is_ready());
        assert!(got.changes.is_empty());
    }

    #[test]
    fn no_updates_reason_and_emulator_shape_count_as_no_changes() {
        let mut cs = ChangeSet {
            id: ChangeSetId {
                id: CS_ID.into(),
                stack_id: STACK_ID.into(),
                name: CS.into(),
                stack_name: STACK.into(),
            },
            status: "FAILED".into(),
            execution_status: Some("UNAVAILABLE".into()),
            status_reason: Some("No updates are to be performed.".into()),
            changes: vec![],
        };
        assert!(cs.has_no_changes());
        assert!(!cs.is_failed());
        // moto: a change set without changes is complete and AVAILABLE.
        cs.status = "CREATE_COMPLETE".into();
        cs.execution_status = Some("AVAILABLE".into());
        cs.status_reason = None;
        assert!(cs.has_no_changes());
        assert!(cs.is_ready());
        cs.changes.push(ResourceChange {
            action: "Add".into(),
            logical_id: "Topic".into(),
            physical_id: None,
            resource_type: "AWS::SNS::Topic".into(),
            replacement: None,
            scope: vec![],
            details: vec![],
        });
        assert!(!cs.has_no_changes());
    }

    #[tokio::test]
    async fn reads_every_page_in_order() {
        let first = mock!(Client::describe_change_set)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                described(ChangeSetStatus::CreateComplete, ExecutionStatus::Available)
                    .changes(add("Cluster", "AWS::ECS::Cluster"))
                    .changes(add("LogGroup", "AWS::Logs::LogGroup"))
                    .next_token("a")
                    .build()
            });
        let second = mock!(Client::describe_change_set)
            .match_requests(|r| r.next_token() == Some("a"))
            .then_output(|| {
                described(ChangeSetStatus::CreateComplete, ExecutionStatus::Available)
                    .changes(add("Service", "AWS::ECS::Service"))
                    .next_token("b")
                    .build()
            });
        let third = mock!(Client::describe_change_set)
            .match_requests(|r| r.next_token() == Some("b"))
            .then_output(|| {
                described(ChangeSetStatus::CreateComplete, ExecutionStatus::Available)
                    .changes(add("TaskDefinition", "AWS::ECS::TaskDefinition"))
                    .build()
            });
        let client = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::Sequential,
            [&first, &second, &third]
        );
        let cs = ChangeSetClient::from_client(client);

        let got = wait_for_change_set(&cs, STACK, CS, zero()).await.unwrap();
        assert_eq!(
            (first.num_calls(), second.num_calls(), third.num_calls()),
            (1, 1, 1)
        );
        let ids: Vec<&str> = got.changes.iter().map(|c| c.logical_id.as_str()).collect();
        assert_eq!(ids, ["Cluster", "LogGroup", "Service", "TaskDefinition"]);
        assert!(got.changes.iter().all(|c| c.action == "Add"));
        assert_eq!(got.changes[2].resource_type, "AWS::ECS::Service");
        assert!(got.changes.iter().all(|c| c.replacement.is_none()));
        assert_eq!(got.id.id, CS_ID);
        assert!(got.is_ready());
    }

    #[tokio::test]
    async fn other_failure_is_failed_with_reason() {
        let reason = "Requires capabilities : [CAPABILITY_NAMED_IAM]";
        let describe = mock!(Client::describe_change_set).then_output(move || {
            described(ChangeSetStatus::Failed, ExecutionStatus::Unavailable)
                .status_reason(reason)
                .build()
        });
        let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&describe]);
        let cs = ChangeSetClient::from_client(client);

        let got = wait_for_change_set(&cs, STACK, CS, zero()).await.unwrap();
        assert!(got.is_failed());
        assert!(!got.has_no_changes());
        assert_eq!(got.status_reason.as_deref(), Some(reason));
    }

    #[tokio::test]
    async fn create_sends_the_request_and_returns_ids() {
        let create = mock!(Client::create_change_set)
            .match_requests(|r| {
                r.stack_name() == Some(STACK)
                    && r.change_set_name() == Some(CS)
                    && r.change_set_type() == Some(&SdkChangeSetType::Create)
                    && r.template_body() == Some("Resources: {}")
                    && r.parameters().len() == 1
                    && r.parameters()[0].parameter_key() == Some("Env")
                    && r.parameters()[0].parameter_value() == Some("prod")
                    && r.tags().len() == 1
                    && r.tags()[0].key() == Some("team")
                    && r.tags()[0].value() == Some("platform")
                    && r.capabilities() == [Capability::CapabilityNamedIam]
                    && r.description() == Some("planned by little")
            })
            .then_output(|| {
                CreateChangeSetOutput::builder()
                    .id(CS_ID)
                    .stack_id(STACK_ID)
                    .build()
            });
        let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&create]);
        let cs = ChangeSetClient::from_client(client);
        let req = ChangeSetRequest {
            stack_name: STACK.into(),
            change_set_name: CS.into(),
            change_set_type: Some(ChangeSetType::Create),
            template_body: Some("Resources: {}".into()),
            parameters: vec![("Env".into(), "prod".into())],
            tags: vec![("team".into(), "platform".into())],
            capabilities: vec!["CAPABILITY_NAMED_IAM".into()],
            description: Some("planned by little".into()),
            ..Default::default()
        };
        let id = cs.create_change_set(&req).await.unwrap();
        assert_eq!(
            id,
            Some(ChangeSetId {
                id: CS_ID.into(),
                stack_id: STACK_ID.into(),
                name: CS.into(),
                stack_name: STACK.into(),
            })
        );
    }

    #[tokio::test]
    async fn an_import_sends_its_resources_with_their_identifiers() {
        let create = mock!(Client::create_change_set)
            .match_requests(|r| {
                let imports = r.resources_to_import();
                r.change_set_type() == Some(&SdkChangeSetType::Import)
                    && imports.len() == 2
                    && imports[0].logical_resource_id() == Some("TeamAApiRepo")
                    && imports[0].resource_type() == Some("AWS::ECR::Repository")
                    && imports[0]
                        .resource_identifier()
                        .and_then(|m| m.get("RepositoryName"))
                        == Some(&"team-a/api".to_owned())
                    && imports[1]
                        .resource_identifier()
                        .and_then(|m| m.get("RoleName"))
                        == Some(&"ci".to_owned())
            })
            .then_output(|| {
                CreateChangeSetOutput::builder()
                    .id(CS_ID)
                    .stack_id(STACK_ID)
                    .build()
            });
        let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&create]);
        let cs = ChangeSetClient::from_client(client);
        let req = ChangeSetRequest {
            stack_name: STACK.into(),
            change_set_name: CS.into(),
            change_set_type: Some(ChangeSetType::Import),
            template_body: Some("Resources: {}".into()),
            resources_to_import: vec![
                ResourceToImport {
                    logical_id: "TeamAApiRepo".into(),
                    resource_type: "AWS::ECR::Repository".into(),
                    identifier: vec![("RepositoryName".into(), "team-a/api".into())],
                },
                ResourceToImport {
                    logical_id: "CiRole".into(),
                    resource_type: "AWS::IAM::Role".into(),
                    identifier: vec![("RoleName".into(), "ci".into())],
                },
            ],
            ..Default::default()
        };
        assert!(cs.create_change_set(&req).await.unwrap().is_some());
    }

    /// AWS refuses an import of a resource that another stack manages, or that lacks a
    /// DeletionPolicy, with a ValidationError: it comes back as that error, with AWS's text.
    #[tokio::test]
    async fn import_validation_errors_keep_aws_text() {
        for text in [
            "Resource team-a/api of type AWS::ECR::Repository is already managed by stack old",
            "The following resources to import [TeamAApiRepo] must have DeletionPolicy attribute specified in the template.",
        ] {
            let create = mock!(Client::create_change_set).then_error(move || {
                CreateChangeSetError::generic(
                    ErrorMetadata::builder()
                        .code("ValidationError")
                        .message(text)
                        .build(),
                )
            });
            let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&create]);
            let cs = ChangeSetClient::from_client(client);
            let req = ChangeSetRequest {
                stack_name: STACK.into(),
                change_set_name: CS.into(),
                change_set_type: Some(ChangeSetType::Import),
                ..Default::default()
            };
            let err = cs.create_change_set(&req).await.unwrap_err().to_string();
            assert!(err.contains(text), "{err}");
            assert!(err.contains("cloudformation:CreateChangeSet"), "{err}");
        }
    }

    #[tokio::test]
    async fn create_maps_validation_error() {
        let create = mock!(Client::create_change_set)
            .match_requests(|r| r.change_set_type() == Some(&SdkChangeSetType::Update))
            .then_error(|| {
                CreateChangeSetError::generic(
                    ErrorMetadata::builder()
                        .code("ValidationError")
                        .message("Stack [x] does not exist")
                        .build(),
                )
            });
        let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&create]);
        let cs = ChangeSetClient::from_client(client);
        let req = ChangeSetRequest {
            stack_name: "x".into(),
            change_set_name: CS.into(),
            template_body: Some("Resources: {}".into()),
            ..Default::default()
        };
        match cs.create_change_set(&req).await {
            Err(Error::Aws { operation, message }) => {
                assert_eq!(operation, "cloudformation:CreateChangeSet");
                assert_eq!(message, "ValidationError: Stack [x] does not exist");
            }
            other => panic!("expected Error::Aws, got {other:?}"),
        }
    }

    /// The SDK's standard retry takes a throttled call again; the adapter sees only the success.
    #[tokio::test]
    async fn a_throttled_call_is_retried() {
        // AWS's answer to a throttled Query API call: HTTP 400 with code `Throttling`.
        let throttling = r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>3c5f2b1e-0000-4000-8000-000000000000</RequestId></ErrorResponse>"#;
        let rule = mock!(Client::describe_change_set)
            .sequence()
            .http_status(400, Some(throttling.to_owned()))
            .output(|| {
                described(ChangeSetStatus::CreateComplete, ExecutionStatus::Available).build()
            })
            .build();
        let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&rule], |c| c
            .retry_config(
                aws_smithy_types::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1))
            ));
        let cs = ChangeSetClient::from_client(client);
        let (page, _) = cs.describe_change_set_page(STACK, CS, None).await.unwrap();
        assert_eq!(page.status, "CREATE_COMPLETE");
        assert_eq!(rule.num_calls(), 2);
    }

    #[tokio::test]
    async fn create_refused_for_no_changes_is_none() {
        let create = mock!(Client::create_change_set).then_error(|| {
            CreateChangeSetError::generic(
                ErrorMetadata::builder()
                    .code("ValidationError")
                    .message("No updates are to be performed.")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&create]);
        let cs = ChangeSetClient::from_client(client);
        let req = ChangeSetRequest {
            stack_name: "x".into(),
            change_set_name: CS.into(),
            template_body: Some("Resources: {}".into()),
            ..Default::default()
        };
        assert_eq!(cs.create_change_set(&req).await.unwrap(), None);
    }

    #[tokio::test]
    async fn times_out_while_pending() {
        let describe = mock!(Client::describe_change_set)
            .sequence()
            .output(|| {
                described(ChangeSetStatus::CreatePending, ExecutionStatus::Unavailable).build()
            })
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_cloudformation, RuleMode::Sequential, [&describe]);
        let cs = ChangeSetClient::from_client(client);
        let poll = Poll {
            first: Duration::from_millis(2),
            max: Duration::from_millis(5),
            timeout: Duration::from_millis(40),
        };
        let err = wait_for_change_set(&cs, STACK, CS, poll).await.unwrap_err();
        assert!(describe.num_calls() >= 1);
        match &err {
            Error::Aws { operation, message } => {
                assert_eq!(operation, "cloudformation:DescribeChangeSet");
                assert!(message.contains("timed out after 40ms"), "{message}");
                assert!(message.contains(CS) && message.contains(STACK), "{message}");
                assert!(message.contains("CREATE_PENDING"), "{message}");
            }
            other => panic!("expected Error::Aws, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn describe_delete_execute_send_the_names() {
        let delete = mock!(Client::delete_change_set)
            .match_requests(|r| r.stack_name() == Some(STACK) && r.change_set_name() == Some(CS))
            .then_output(|| {
                aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput::builder()
                    .build()
            });
        let execute = mock!(Client::execute_change_set)
            .match_requests(|r| r.stack_name().is_none() && r.change_set_name() == Some(CS_ID))
            .then_output(|| {
                aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput::builder()
                    .build()
            });
        let client = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::Sequential,
            [&delete, &execute]
        );
        let cs = ChangeSetClient::from_client(client);
        cs.delete_change_set(STACK, CS).await.unwrap();
        // An ARN names the change set on its own; an empty stack name is not sent.
        cs.execute_change_set("", CS_ID).await.unwrap();
        assert_eq!((delete.num_calls(), execute.num_calls()), (1, 1));
    }

    #[test]
    fn change_set_name_is_stable_and_valid() {
        let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let body = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";
        let params = vec![p("Env", "prod"), p("Size", "2")];
        let tags = vec![p("team", "platform")];
        let caps = vec!["CAPABILITY_IAM".to_owned()];
        let name = change_set_name(body, &params, &tags, &caps);

        assert_eq!(name, change_set_name(body, &params, &tags, &caps));
        assert_eq!(name.len(), "little-".len() + 16);
        assert!(name.starts_with("little-"));
        let mut chars = name.chars();
        assert!(chars.next().unwrap().is_ascii_alphabetic());
        assert!(chars.all(|c| c == '-' || c.is_ascii_alphanumeric()));
        assert!(name.len() <= 128);

        // Order of parameters and tags does not matter.
        let swapped = vec![p("Size", "2"), p("Env", "prod")];
        assert_eq!(name, change_set_name(body, &swapped, &tags, &caps));

        // Any change in any input does.
        let others = [
            change_set_name("Resources: {}", &params, &tags, &caps),
            change_set_name(body, &[p("Env", "dev"), p("Size", "2")], &tags, &caps),
            change_set_name(body, &params[..1], &tags, &caps),
            change_set_name(body, &params, &[p("team", "data")], &caps),
            change_set_name(body, &params, &[], &caps),
            change_set_name(body, &params, &tags, &["CAPABILITY_NAMED_IAM".to_owned()]),
            change_set_name(body, &params, &tags, &[]),
            // A tag is not a parameter, even with the same key and value.
            change_set_name(
                body,
                &[p("Env", "prod"), p("Size", "2"), p("team", "platform")],
                &[],
                &caps,
            ),
            // Framing: moving text between key and value changes the name.
            change_set_name(body, &[p("Envp", "rod"), p("Size", "2")], &tags, &caps),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(&name, other, "variant {i}");
        }
    }

    #[test]
    fn run_ids_differ_and_mark_only_their_runs_change_sets() {
        let a = new_run_id();
        let b = new_run_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 8);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        let content = change_set_name("{}", &[], &[], &[]);
        let name = run_change_set_name("q", &content, &a);
        assert!(name.len() <= 128);
        assert_eq!(name, run_change_set_name("q", &content, &a));
        assert_ne!(name, run_change_set_name("r", &content, &a));
        assert!(made_by_run(&name, &a));
        assert!(!made_by_run(&name, &b));
        assert!(!made_by_run(&format!("other-{a}"), &a));
        assert!(!made_by_run(&format!("little-x{a}"), &a));
    }

    #[test]
    fn change_set_type_serializes_uppercase() {
        assert_eq!(
            serde_json::to_string(&ChangeSetType::Create).unwrap(),
            "\"CREATE\""
        );
        assert_eq!(
            serde_json::from_str::<ChangeSetType>("\"UPDATE\"").unwrap(),
            ChangeSetType::Update
        );
    }
}
