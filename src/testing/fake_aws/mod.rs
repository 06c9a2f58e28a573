//! In-memory fakes of the `aws` traits, shaped like real AWS responses, for tests of plan,
//! apply, destroy, audit, serve and check where the emulator falls short: replacement details,
//! failed change sets, stacks that fail to describe. StackSets are `stacksets`. Test-only.

pub mod stacksets;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::aws::changeset::{ChangeSet, ChangeSetId, ChangeSetRequest, ChangeSets};
use crate::aws::cloudformation::{
    CloudFormation, Import, StackInfo, StackOutput, StackRequest, StacksPage,
};
use crate::aws::connect::Account;
use crate::aws::connect::{Clients, Connect};
use crate::aws::stack_ops::{StackEvent, StackOps, StackResource};
use crate::error::{Error, Result};

/// A complete, executable change set with these `(action, logical id, type)` changes, as
/// DescribeChangeSet answers it.
pub fn change_set(changes: &[(&str, &str, &str)]) -> ChangeSet {
    ChangeSet {
        id: ChangeSetId {
            id: String::new(),
            stack_id: String::new(),
            name: String::new(),
            stack_name: String::new(),
        },
        status: "CREATE_COMPLETE".into(),
        execution_status: Some("AVAILABLE".into()),
        status_reason: None,
        changes: changes
            .iter()
            .map(|(action, id, ty)| crate::aws::changeset::ResourceChange {
                action: (*action).into(),
                logical_id: (*id).into(),
                physical_id: None,
                resource_type: (*ty).into(),
                replacement: None,
                scope: Vec::new(),
                details: Vec::new(),
            })
            .collect(),
    }
}

/// How many stacks a page of the fake's DescribeStacks without a stack name holds.
pub const FAKE_PAGE: usize = 4;

/// A deployed stack in the fake.
#[derive(Clone)]
pub struct FakeStack {
    pub info: StackInfo,
    pub template: String,
}

/// The fake account: stacks by name, the change set every create answers with, and a log of
/// the calls made.
#[derive(Default)]
pub struct FakeAws {
    pub stacks: Mutex<BTreeMap<String, FakeStack>>,
    /// What DescribeChangeSet answers, by stack name (changes, status, reason).
    pub change_sets: Mutex<BTreeMap<String, ChangeSet>>,
    /// Stacks whose DescribeStacks fails with this message.
    pub broken: Mutex<BTreeMap<String, String>>,
    pub calls: Mutex<Vec<String>>,
    /// Stack events by stack, newest first (as DescribeStackEvents returns them).
    pub events: Mutex<BTreeMap<String, Vec<StackEvent>>>,
    /// The status a stack ends in when a change set is executed, by stack (default: the
    /// success status of the change set's type).
    pub outcome: Mutex<BTreeMap<String, String>>,
    /// How many DescribeStacks calls a stack stays in progress for after an execute.
    pub in_progress_polls: Mutex<BTreeMap<String, usize>>,
    /// Events that arrive one per DescribeStacks call while in progress (oldest first), by
    /// stack; they are moved to `events` as they arrive.
    pub arriving: Mutex<BTreeMap<String, Vec<StackEvent>>>,
    pending: Mutex<BTreeMap<String, (usize, String)>>,
    /// ListStackResources by stack (default: none).
    pub resources: Mutex<BTreeMap<String, Vec<StackResource>>>,
    /// Scripted CloudFormation drift results by stack; drift detection is unavailable for
    /// the others.
    pub drifts: Mutex<BTreeMap<String, Vec<crate::aws::drift::ResourceDrift>>>,
    /// Live ECR repositories by name.
    pub repositories: Mutex<BTreeMap<String, crate::aws::drift::RepositoryFacts>>,
    /// Live IAM roles by name.
    pub roles: Mutex<BTreeMap<String, crate::aws::iam::RoleFacts>>,
    /// Live S3 buckets by name, as HeadBucket answers (default: missing).
    pub buckets: Mutex<BTreeMap<String, crate::aws::named::BucketState>>,
    /// Live SQS queues: URL by name.
    pub queues: Mutex<BTreeMap<String, String>>,
    /// Live SNS topics by ARN.
    pub topics: Mutex<std::collections::BTreeSet<String>>,
    /// Live KMS aliases (`alias/...`).
    pub kms_aliases: Mutex<std::collections::BTreeSet<String>>,
    /// Messages published to SNS: (topic, subject, message).
    pub published: Mutex<Vec<(String, String, String)>>,
    /// The organisation: accounts by parent (root or OU id), and child OUs by parent.
    pub org_accounts: Mutex<BTreeMap<String, Vec<crate::aws::organizations::OrgAccount>>>,
    pub org_units: Mutex<BTreeMap<String, Vec<String>>>,
    /// The organisation's management account (DescribeOrganization).
    pub org_management: Mutex<String>,
    /// StackSets, their instances and operations.
    pub sets: Mutex<stacksets::FakeSets>,
    /// The change sets each stack holds: (name, execution status), as ListChangeSets answers.
    pub held: Mutex<BTreeMap<String, Vec<(String, String)>>>,
    /// Stack policies by stack (GetStackPolicy).
    pub policies: Mutex<BTreeMap<String, String>>,
    /// ListExports + ListImports: the imports of each stack's exports, by exporting stack.
    pub imports: Mutex<BTreeMap<String, Vec<Import>>>,
    /// The status a stack ends in when it is deleted, by stack (default: gone). Deletions
    /// take `in_progress_polls` DescribeStacks calls too.
    pub delete_outcome: Mutex<BTreeMap<String, String>>,
    /// Calls that fail, as logged (`UpdateTerminationProtection s true`), with the message.
    pub failing: Mutex<BTreeMap<String, String>>,
    /// The account GetCallerIdentity answers; none: the account asked for (the stack's), else
    /// 123456789012.
    pub caller_account: Mutex<Option<String>>,
    /// BatchGetImage: the image every reference names; none: no such image.
    pub image: Mutex<Option<crate::aws::ecr_images::Manifest>>,
    /// DescribeImageScanFindings, one answer per call in turn (the last one stays); none
    /// scripted: the image has no scan.
    pub scans: Mutex<Vec<Option<crate::aws::ecr::ScanResult>>>,
    /// ECR's lifecycle policy preview's answer (none: an error).
    pub lifecycle_preview: Mutex<Option<Vec<crate::aws::ecr_lifecycle::PreviewImage>>>,
    /// DescribeImages: the images of each repository (none: no images).
    pub repository_images: Mutex<BTreeMap<String, Vec<crate::aws::ecr::Image>>>,
    /// What runs: the images of ECS services and tasks, and of Lambda functions.
    pub ecs_images: Mutex<Vec<crate::aws::workloads::ImageUse>>,
    pub lambda_images: Mutex<Vec<crate::aws::workloads::ImageUse>>,
    /// ListObjectsV2: the buckets that hold objects.
    pub buckets_with_objects: Mutex<std::collections::BTreeSet<String>>,
    /// DescribeStacks of a stack answers throttling (after the SDK's retries) this many times
    /// more, by stack.
    pub throttled_reads: Mutex<BTreeMap<String, u32>>,
    /// Stacks whose description in a page of DescribeStacks without a stack name lacks
    /// `EnableTerminationProtection`.
    pub listed_unsure: Mutex<std::collections::BTreeSet<String>>,
}

impl FakeAws {
    pub fn new() -> Arc<FakeAws> {
        Arc::new(FakeAws::default())
    }

    pub fn deploy(
        &self,
        name: &str,
        template: &str,
        parameters: &[(&str, &str)],
        outputs: &[(&str, &str)],
    ) {
        let info = StackInfo {
            name: name.into(),
            id: format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/6c1b1e30-0000-11ef-8000-0a1b2c3d4e5f"),
            status: "CREATE_COMPLETE".into(),
            status_reason: None,
            created: Some("2026-11-01T10:00:00Z".into()),
            last_updated: None,
            parameters: parameters.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
            tags: Vec::new(),
            outputs: outputs
                .iter()
                .map(|(k, v)| StackOutput {
                    key: (*k).into(),
                    value: (*v).into(),
                    export_name: None,
                    description: None,
                })
                .collect(),
            termination_protection: false,
            capabilities: Vec::new(),
            drift_status: None,
            role_arn: None,
            notification_arns: Vec::new(),
        };
        self.stacks.lock().unwrap().insert(
            name.into(),
            FakeStack {
                info,
                template: template.into(),
            },
        );
    }

    /// Scripts what DescribeChangeSet answers for `stack`'s change sets.
    pub fn answer_change_set(&self, stack: &str, change_set: ChangeSet) {
        self.change_sets
            .lock()
            .unwrap()
            .insert(stack.to_owned(), change_set);
    }

    /// Makes GetCallerIdentity answer this account, whatever account is asked for.
    pub fn answer_caller_account(&self, account: &str) {
        *self.caller_account.lock().unwrap() = Some(account.to_owned());
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// The names of the change sets `stack` holds now.
    pub fn held_change_sets(&self, stack: &str) -> Vec<String> {
        self.held
            .lock()
            .unwrap()
            .get(stack)
            .map(|l| l.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    }

    pub(crate) fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    /// Logs a call and answers the error scripted for it in `failing`, if any.
    fn log_or_fail(&self, call: String, operation: &str) -> Result<()> {
        let failure = self.failing.lock().unwrap().get(&call).cloned();
        self.log(call);
        match failure {
            Some(message) => Err(Error::Aws {
                operation: operation.into(),
                message,
            }),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl CloudFormation for FakeAws {
    async fn describe_stack(&self, name: &str) -> Result<Option<StackInfo>> {
        self.log(format!("DescribeStacks {name}"));
        if let Some(left) = self.throttled_reads.lock().unwrap().get_mut(name) {
            if *left > 0 {
                *left -= 1;
                return Err(Error::Aws {
                    operation: "cloudformation:DescribeStacks".into(),
                    message: "Throttling: Rate exceeded".into(),
                });
            }
        }
        if let Some(msg) = self.broken.lock().unwrap().get(name) {
            return Err(Error::Aws {
                operation: "cloudformation:DescribeStacks".into(),
                message: msg.clone(),
            });
        }
        // An executing stack: one poll less in progress, and the next event arrives.
        let mut pending = self.pending.lock().unwrap();
        if let Some((left, end)) = pending.get_mut(name) {
            let next = self
                .arriving
                .lock()
                .unwrap()
                .get_mut(name)
                .filter(|a| !a.is_empty())
                .map(|a| a.remove(0));
            if let Some(e) = next {
                self.events
                    .lock()
                    .unwrap()
                    .entry(name.to_owned())
                    .or_default()
                    .insert(0, e);
            }
            *left = left.saturating_sub(1);
            if *left == 0 {
                let end = end.clone();
                let mut stacks = self.stacks.lock().unwrap();
                if end == "DELETE_COMPLETE" {
                    stacks.remove(name);
                } else if let Some(s) = stacks.get_mut(name) {
                    s.info.status = end;
                }
                drop(stacks);
                // The rest of the events arrive with the final status.
                let rest = self
                    .arriving
                    .lock()
                    .unwrap()
                    .remove(name)
                    .unwrap_or_default();
                let mut events = self.events.lock().unwrap();
                let list = events.entry(name.to_owned()).or_default();
                for e in rest {
                    list.insert(0, e);
                }
                pending.remove(name);
            }
        }
        drop(pending);
        Ok(self
            .stacks
            .lock()
            .unwrap()
            .get(name)
            .map(|s| s.info.clone()))
    }

    /// Pages of [`FAKE_PAGE`] stacks in name order, each logged `DescribeStacks (page N)`
    /// (`failing` can fail a page by that name); the token is the next page's number.
    async fn describe_stacks_page(&self, token: Option<String>) -> Result<StacksPage> {
        let page: usize = token.map_or(1, |t| t.parse().unwrap());
        self.log_or_fail(
            format!("DescribeStacks (page {page})"),
            "cloudformation:DescribeStacks",
        )?;
        let all: Vec<StackInfo> = self
            .stacks
            .lock()
            .unwrap()
            .values()
            .map(|s| s.info.clone())
            .collect();
        let start = (page - 1) * FAKE_PAGE;
        let unsure = self.listed_unsure.lock().unwrap().clone();
        let (unsure, stacks): (Vec<StackInfo>, Vec<StackInfo>) = all
            .iter()
            .skip(start)
            .take(FAKE_PAGE)
            .cloned()
            .partition(|s| unsure.contains(&s.name));
        Ok(StacksPage {
            stacks,
            unsure: unsure.into_iter().map(|s| s.name).collect(),
            next: (all.len() > start + FAKE_PAGE).then(|| (page + 1).to_string()),
        })
    }

    async fn get_template(&self, name: &str) -> Result<String> {
        self.log(format!("GetTemplate {name}"));
        Ok(self
            .stacks
            .lock()
            .unwrap()
            .get(name)
            .map(|s| s.template.clone())
            .unwrap_or_default())
    }

    async fn create_stack(&self, req: &StackRequest) -> Result<String> {
        self.log(format!("CreateStack {}", req.stack_name));
        Ok(format!(
            "arn:aws:cloudformation:us-east-1:123456789012:stack/{}/x",
            req.stack_name
        ))
    }

    async fn delete_stack(&self, name: &str) -> Result<()> {
        self.log_or_fail(format!("DeleteStack {name}"), "cloudformation:DeleteStack")?;
        let mut stacks = self.stacks.lock().unwrap();
        if stacks
            .get(name)
            .is_some_and(|s| s.info.termination_protection)
        {
            return Err(Error::Aws {
                operation: "cloudformation:DeleteStack".into(),
                message: format!("ValidationError: Stack [{name}] cannot be deleted while TerminationProtection is enabled"),
            });
        }
        self.held.lock().unwrap().remove(name);
        let end = self
            .delete_outcome
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_else(|| "DELETE_COMPLETE".into());
        let polls = self
            .in_progress_polls
            .lock()
            .unwrap()
            .get(name)
            .copied()
            .unwrap_or(0);
        if polls == 0 && end == "DELETE_COMPLETE" {
            stacks.remove(name);
            return Ok(());
        }
        if let Some(s) = stacks.get_mut(name) {
            s.info.status = if polls > 0 {
                "DELETE_IN_PROGRESS".into()
            } else {
                end.clone()
            };
        }
        // Never hold `stacks` while taking `pending`: describe_stack takes them the other way.
        drop(stacks);
        if polls > 0 {
            self.pending
                .lock()
                .unwrap()
                .insert(name.to_owned(), (polls, end));
        }
        Ok(())
    }

    async fn imports_of_exports(&self, exports: &[String]) -> Result<Vec<Import>> {
        if exports.is_empty() {
            return Ok(Vec::new());
        }
        self.log(format!("ListImports {}", exports.join(",")));
        let mut found: Vec<Import> = self
            .imports
            .lock()
            .unwrap()
            .values()
            .flatten()
            .filter(|i| exports.contains(&i.export))
            .cloned()
            .collect();
        found.sort();
        found.dedup();
        Ok(found)
    }

    async fn imports_of(&self, name: &str) -> Result<Vec<Import>> {
        self.log(format!("ListImports {name}"));
        Ok(self
            .imports
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_default())
    }
}

#[async_trait]
impl ChangeSets for FakeAws {
    async fn create_change_set(&self, req: &ChangeSetRequest) -> Result<Option<ChangeSetId>> {
        self.log(format!(
            "CreateChangeSet {} {:?}{}",
            req.stack_name,
            req.change_set_type,
            req.template_url
                .as_deref()
                .map(|u| format!(" url={u}"))
                .unwrap_or_default()
        ));
        self.held
            .lock()
            .unwrap()
            .entry(req.stack_name.clone())
            .or_default()
            .push((req.change_set_name.clone(), "AVAILABLE".into()));
        if req.change_set_type == Some(crate::aws::changeset::ChangeSetType::Create) {
            // Like AWS: a CREATE change set makes the stack, in REVIEW_IN_PROGRESS.
            self.deploy(&req.stack_name, "", &[], &[]);
            if let Some(s) = self.stacks.lock().unwrap().get_mut(&req.stack_name) {
                s.info.status = "REVIEW_IN_PROGRESS".into();
            }
        }
        Ok(Some(ChangeSetId {
            id: format!(
                "arn:aws:cloudformation:us-east-1:123456789012:changeSet/{}/0f4c1a2b-1111-4a5b-9c8d-0123456789ab",
                req.change_set_name
            ),
            stack_id: format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{}/x", req.stack_name),
            name: req.change_set_name.clone(),
            stack_name: req.stack_name.clone(),
        }))
    }

    async fn describe_change_set_page(
        &self,
        stack_name: &str,
        name: &str,
        _next_token: Option<String>,
    ) -> Result<(ChangeSet, Option<String>)> {
        self.log(format!("DescribeChangeSet {stack_name}"));
        let mut cs = self
            .change_sets
            .lock()
            .unwrap()
            .get(stack_name)
            .cloned()
            .unwrap_or_else(|| ChangeSet {
                id: ChangeSetId {
                    id: String::new(),
                    stack_id: String::new(),
                    name: String::new(),
                    stack_name: String::new(),
                },
                status: "FAILED".into(),
                execution_status: Some("UNAVAILABLE".into()),
                status_reason: Some("The submitted information didn't contain changes. Submit different information to create a change set.".into()),
                changes: Vec::new(),
            });
        cs.id.name = name.into();
        cs.id.stack_name = stack_name.into();
        Ok((cs, None))
    }

    async fn delete_change_set(&self, stack_name: &str, name: &str) -> Result<()> {
        self.log(format!("DeleteChangeSet {stack_name}"));
        if let Some(list) = self.held.lock().unwrap().get_mut(stack_name) {
            list.retain(|(n, _)| n != name);
        }
        Ok(())
    }

    async fn list_change_sets(
        &self,
        stack_name: &str,
    ) -> Result<Vec<crate::aws::changeset::ChangeSetSummary>> {
        self.log(format!("ListChangeSets {stack_name}"));
        Ok(self
            .held
            .lock()
            .unwrap()
            .get(stack_name)
            .map(|l| {
                l.iter()
                    .map(|(n, e)| crate::aws::changeset::ChangeSetSummary {
                        name: n.clone(),
                        stack_name: stack_name.to_owned(),
                        status: "CREATE_COMPLETE".into(),
                        execution_status: Some(e.clone()),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn execute_change_set(&self, stack_name: &str, name: &str) -> Result<()> {
        self.log(format!("ExecuteChangeSet {stack_name}"));
        // Executing a change set removes the stack's other change sets, as AWS does.
        self.held.lock().unwrap().remove(stack_name);
        let _ = name;
        let mut stacks = self.stacks.lock().unwrap();
        let Some(s) = stacks.get_mut(stack_name) else {
            return Err(Error::Aws {
                operation: "cloudformation:ExecuteChangeSet".into(),
                message: format!("ValidationError: Stack [{stack_name}] does not exist"),
            });
        };
        let creating = s.info.is_review();
        let fallback = if creating {
            "CREATE_COMPLETE"
        } else {
            "UPDATE_COMPLETE"
        };
        let end = self
            .outcome
            .lock()
            .unwrap()
            .get(stack_name)
            .cloned()
            .unwrap_or_else(|| fallback.to_owned());
        let polls = self
            .in_progress_polls
            .lock()
            .unwrap()
            .get(stack_name)
            .copied()
            .unwrap_or(0);
        s.info.status = if polls > 0 {
            if creating {
                "CREATE_IN_PROGRESS"
            } else {
                "UPDATE_IN_PROGRESS"
            }
            .to_owned()
        } else {
            end.clone()
        };
        // Never hold `stacks` while taking `pending`: describe_stack takes them the other way.
        drop(stacks);
        self.pending
            .lock()
            .unwrap()
            .insert(stack_name.to_owned(), (polls, end));
        Ok(())
    }
}

/// A [`Connect`] that hands out the fake for every account and region.
pub struct FakeConnect(pub Arc<FakeAws>);

#[async_trait]
impl Connect for FakeConnect {
    async fn clients(&self, region: Option<&str>, _account: Option<&Account>) -> Result<Clients> {
        Ok(Clients {
            region: region.unwrap_or("us-east-1").into(),
            cfn: self.0.clone(),
            change_sets: self.0.clone(),
            ops: self.0.clone(),
            staging: self.0.clone(),
            drift: self.0.clone(),
            iam: self.0.clone(),
            named: self.0.clone(),
            ecr: self.0.clone(),
            workloads: self.0.clone(),
            images: self.0.clone(),
            lifecycle: self.0.clone(),
            sns: self.0.clone(),
            queue: self.0.clone(),
            reports: self.0.clone(),
            org: self.0.clone(),
            stack_sets: self.0.clone(),
            stack_sets_delegated: self.0.clone(),
            caller: None,
        })
    }

    async fn caller(
        &self,
        region: Option<&str>,
        account: Option<&Account>,
    ) -> Result<crate::aws::connect::Caller> {
        let scripted = self.0.caller_account.lock().unwrap().clone();
        let id = scripted
            .or_else(|| account.map(|a| a.id.clone()))
            .unwrap_or_else(|| "123456789012".into());
        self.0.log(format!("GetCallerIdentity {id}"));
        let (arn, credentials) = match account.and_then(|a| a.role_arn.as_deref()) {
            Some(role) => (
                format!(
                    "arn:aws:sts::{id}:assumed-role/{}/little-stack",
                    role.rsplit('/').next().unwrap_or_default()
                ),
                crate::aws::credentials::CredentialSource::AssumedRole {
                    role_arn: role.to_owned(),
                    base: Box::new(crate::aws::credentials::CredentialSource::Environment),
                },
            ),
            None => (
                format!("arn:aws:iam::{id}:user/fake"),
                crate::aws::credentials::CredentialSource::Environment,
            ),
        };
        Ok(crate::aws::connect::Caller {
            identity: crate::aws::sts::CallerIdentity {
                account: id,
                arn,
                user_id: "AIDAFAKE".into(),
            },
            region: region.unwrap_or("us-east-1").into(),
            credentials,
        })
    }
}

#[async_trait]
impl StackOps for FakeAws {
    async fn events_page(
        &self,
        stack: &str,
        _next_token: Option<String>,
    ) -> Result<(Vec<StackEvent>, Option<String>)> {
        self.log(format!("DescribeStackEvents {stack}"));
        Ok((
            self.events
                .lock()
                .unwrap()
                .get(stack)
                .cloned()
                .unwrap_or_default(),
            None,
        ))
    }

    async fn resources(&self, stack: &str) -> Result<Vec<StackResource>> {
        self.log(format!("ListStackResources {stack}"));
        Ok(self
            .resources
            .lock()
            .unwrap()
            .get(stack)
            .cloned()
            .unwrap_or_default())
    }

    async fn stack_names(&self) -> Result<Vec<String>> {
        self.log("ListStacks".to_owned());
        Ok(self.stacks.lock().unwrap().keys().cloned().collect())
    }

    async fn set_termination_protection(&self, stack: &str, enabled: bool) -> Result<()> {
        self.log_or_fail(
            format!("UpdateTerminationProtection {stack} {enabled}"),
            "cloudformation:UpdateTerminationProtection",
        )?;
        if let Some(s) = self.stacks.lock().unwrap().get_mut(stack) {
            s.info.termination_protection = enabled;
        }
        Ok(())
    }

    async fn set_stack_policy(&self, stack: &str, policy_body: &str) -> Result<()> {
        self.log(format!("SetStackPolicy {stack}"));
        self.policies
            .lock()
            .unwrap()
            .insert(stack.to_owned(), policy_body.to_owned());
        Ok(())
    }

    async fn update_tags(&self, update: &crate::aws::stack_ops::TagUpdate) -> Result<()> {
        self.log(format!(
            "UpdateStack {} previous-template {:?}",
            update.stack, update.tags
        ));
        let mut stacks = self.stacks.lock().unwrap();
        if let Some(s) = stacks.get_mut(&update.stack) {
            s.info.tags = update.tags.clone();
            s.info.status = "UPDATE_COMPLETE".into();
        }
        Ok(())
    }

    async fn stack_policy(&self, stack: &str) -> Result<Option<String>> {
        self.log(format!("GetStackPolicy {stack}"));
        Ok(self.policies.lock().unwrap().get(stack).cloned())
    }

    async fn continue_update_rollback(&self, stack: &str, _skip: &[String]) -> Result<()> {
        self.log(format!("ContinueUpdateRollback {stack}"));
        Ok(())
    }

    async fn cancel_update(&self, stack: &str) -> Result<()> {
        self.log(format!("CancelUpdateStack {stack}"));
        Ok(())
    }
}

#[async_trait]
impl crate::aws::drift::StackDrift for FakeAws {
    async fn detect(&self, stack: &str) -> Result<Option<String>> {
        self.log(format!("DetectStackDrift {stack}"));
        Ok(self
            .drifts
            .lock()
            .unwrap()
            .contains_key(stack)
            .then(|| format!("detection-{stack}")))
    }

    async fn status(&self, detection_id: &str) -> Result<crate::aws::drift::DetectionStatus> {
        self.log(format!("DescribeStackDriftDetectionStatus {detection_id}"));
        let stack = detection_id.trim_start_matches("detection-");
        let drifted = self.drifts.lock().unwrap().get(stack).is_some_and(|d| {
            d.iter()
                .any(|r| r.status == "MODIFIED" || r.status == "DELETED")
        });
        Ok(crate::aws::drift::DetectionStatus {
            status: "DETECTION_COMPLETE".into(),
            drift_status: Some(if drifted { "DRIFTED" } else { "IN_SYNC" }.into()),
            reason: None,
        })
    }

    async fn resource_drifts(&self, stack: &str) -> Result<Vec<crate::aws::drift::ResourceDrift>> {
        self.log(format!("DescribeStackResourceDrifts {stack}"));
        Ok(self
            .drifts
            .lock()
            .unwrap()
            .get(stack)
            .cloned()
            .unwrap_or_default())
    }

    async fn repository(&self, name: &str) -> Result<Option<crate::aws::drift::RepositoryFacts>> {
        self.log(format!("DescribeRepositories {name}"));
        Ok(self.repositories.lock().unwrap().get(name).cloned())
    }
}

#[async_trait]
impl crate::aws::iam::Iam for FakeAws {
    async fn role(&self, name: &str) -> Result<Option<crate::aws::iam::RoleFacts>> {
        self.log(format!("GetRole {name}"));
        Ok(self.roles.lock().unwrap().get(name).cloned())
    }
    async fn account_alias(&self) -> Result<Option<String>> {
        self.log("ListAccountAliases".to_owned());
        Ok(Some("fake-alias".into()))
    }
    async fn roles(&self) -> Result<Vec<crate::aws::iam::RoleListing>> {
        self.log("ListRoles".to_owned());
        Ok(self
            .roles
            .lock()
            .unwrap()
            .iter()
            .map(|(name, facts)| crate::aws::iam::RoleListing {
                name: name.clone(),
                path: if facts.settings.path.is_empty() {
                    "/".into()
                } else {
                    facts.settings.path.clone()
                },
            })
            .collect())
    }
}

#[async_trait]
impl crate::aws::staging::Staging for FakeAws {
    async fn upload_template(&self, stack: &str, body: &str) -> Result<String> {
        self.log(format!("PutObject {stack} {} bytes", body.len()));
        Ok(format!(
            "https://little-templates-123456789012-us-east-1.s3.us-east-1.amazonaws.com/templates/{stack}/x.json"
        ))
    }
}

/// A project in a temporary directory: `little.yaml` with region us-east-1, and `files`.
pub fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Arc<crate::project::Project>) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![("little.yaml", "defaults:\n  region: us-east-1\n")];
    all.extend_from_slice(files);
    for (path, text) in all {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let project = crate::project::Project::load(dir.path()).unwrap();
    (dir, Arc::new(project))
}

/// ECR's preview in the fake: what `lifecycle_preview` holds (none: an error).
#[async_trait]
impl crate::aws::ecr_lifecycle::LifecyclePreviews for FakeAws {
    async fn preview(
        &self,
        repository: &str,
        _policy: Option<&str>,
        _poll: std::time::Duration,
        _timeout: std::time::Duration,
    ) -> Result<Vec<crate::aws::ecr_lifecycle::PreviewImage>> {
        self.log(format!("StartLifecyclePolicyPreview {repository}"));
        self.lifecycle_preview
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| crate::error::Error::Aws {
                operation: "ecr:StartLifecyclePolicyPreview".into(),
                message: "the fake has no preview".into(),
            })
    }
}

/// The fake registry is empty: the audit's checks are tested on the data they take.
#[async_trait]
impl crate::aws::ecr::Ecr for FakeAws {
    async fn repositories(&self) -> Result<Vec<crate::aws::ecr::Repository>> {
        Ok(Vec::new())
    }
    async fn registry_scanning(&self) -> Result<crate::aws::ecr::RegistryScanning> {
        Ok(crate::aws::ecr::RegistryScanning {
            scan_type: "BASIC".into(),
            rules: Vec::new(),
        })
    }
    async fn lifecycle_policy(&self, _repo: &str) -> Result<Option<String>> {
        Ok(None)
    }
    async fn repository_policy(&self, _repo: &str) -> Result<Option<String>> {
        Ok(None)
    }
    async fn images(&self, repo: &str) -> Result<Vec<crate::aws::ecr::Image>> {
        self.log_or_fail(format!("DescribeImages {repo}"), "ecr:DescribeImages")?;
        Ok(self
            .repository_images
            .lock()
            .unwrap()
            .get(repo)
            .cloned()
            .unwrap_or_default())
    }
    async fn scan_findings(
        &self,
        repo: &str,
        digest: &str,
    ) -> Result<Option<crate::aws::ecr::ScanResult>> {
        self.log(format!("DescribeImageScanFindings {repo} {digest}"));
        let mut scans = self.scans.lock().unwrap();
        Ok(match scans.len() {
            0 => None,
            1 => scans[0].clone(),
            _ => scans.remove(0),
        })
    }
    async fn set_tag_mutability(
        &self,
        repo: &str,
        mutability: &str,
        _exclusion_filters: &[String],
    ) -> Result<()> {
        self.log(format!("PutImageTagMutability {repo} {mutability}"));
        Ok(())
    }
}

#[async_trait]
impl crate::aws::workloads::Workloads for FakeAws {
    async fn ecs_images(&self) -> Result<Vec<crate::aws::workloads::ImageUse>> {
        self.log_or_fail("ListClusters".into(), "ecs:ListClusters")?;
        Ok(self.ecs_images.lock().unwrap().clone())
    }
    async fn lambda_images(&self) -> Result<Vec<crate::aws::workloads::ImageUse>> {
        self.log_or_fail("ListFunctions".into(), "lambda:ListFunctions")?;
        Ok(self.lambda_images.lock().unwrap().clone())
    }
}

#[async_trait]
impl crate::aws::ecr_images::EcrImages for FakeAws {
    async fn manifest(
        &self,
        _repo: &str,
        _reference: &str,
    ) -> Result<Option<crate::aws::ecr_images::Manifest>> {
        Ok(self.image.lock().unwrap().clone())
    }
    async fn describe_image(
        &self,
        _repo: &str,
        _digest: &str,
    ) -> Result<crate::aws::ecr_images::ImageLookup> {
        Ok(crate::aws::ecr_images::ImageLookup::NoRepository)
    }
    async fn put_tag(
        &self,
        _repo: &str,
        _manifest: &crate::aws::ecr_images::Manifest,
        _tag: &str,
    ) -> Result<crate::aws::ecr_images::PutTag> {
        Ok(crate::aws::ecr_images::PutTag::Tagged)
    }
    async fn start_scan(
        &self,
        repo: &str,
        digest: &str,
    ) -> Result<crate::aws::ecr_images::StartScan> {
        self.log(format!("StartImageScan {repo} {digest}"));
        Ok(crate::aws::ecr_images::StartScan::Started)
    }
    async fn registry_auth(&self) -> Result<crate::aws::ecr_images::RegistryAuth> {
        Ok(crate::aws::ecr_images::RegistryAuth {
            endpoint: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
            header: "Basic QVdTOnRva2Vu".into(),
        })
    }
    async fn delete_image(&self, _repo: &str, _digest: &str) -> Result<bool> {
        Ok(true)
    }
}

#[async_trait]
impl crate::aws::sns::Publish for FakeAws {
    async fn publish(&self, topic_arn: &str, subject: &str, message: &str) -> Result<String> {
        let mut published = self.published.lock().unwrap();
        published.push((topic_arn.into(), subject.into(), message.into()));
        Ok(format!("message-{}", published.len()))
    }
}

#[async_trait]
impl crate::aws::pipeline::Queue for FakeAws {
    async fn receive(
        &self,
        _queue_url: &str,
        _max: i32,
        _wait: std::time::Duration,
    ) -> Result<Vec<crate::aws::pipeline::Message>> {
        Ok(Vec::new())
    }
    async fn delete(&self, _queue_url: &str, _receipt_handle: &str) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl crate::aws::pipeline::ReportStore for FakeAws {
    async fn exists(&self, _bucket: &str, _key: &str) -> Result<bool> {
        Ok(false)
    }
    async fn holds_objects(&self, bucket: &str) -> Result<bool> {
        self.log(format!("ListObjectsV2 {bucket}"));
        Ok(self.buckets_with_objects.lock().unwrap().contains(bucket))
    }
    async fn get(&self, _bucket: &str, _key: &str, _limit: usize) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
    async fn put(
        &self,
        _bucket: &str,
        _key: &str,
        _body: Vec<u8>,
        _content_type: &str,
        _encryption: &crate::aws::pipeline::Encryption,
    ) -> Result<()> {
        Ok(())
    }
    async fn presign(
        &self,
        bucket: &str,
        key: &str,
        _expires: std::time::Duration,
    ) -> Result<String> {
        Ok(format!(
            "https://{bucket}.s3.amazonaws.com/{key}?X-Amz-Signature=fake"
        ))
    }
}

#[async_trait]
impl crate::aws::organizations::Organization for FakeAws {
    async fn accounts(&self) -> Result<Vec<crate::aws::organizations::OrgAccount>> {
        self.log("ListAccounts".into());
        let mut all: Vec<_> = self
            .org_accounts
            .lock()
            .unwrap()
            .values()
            .flatten()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all.dedup_by(|a, b| a.id == b.id);
        Ok(all)
    }
    async fn accounts_for_parent(
        &self,
        parent: &str,
    ) -> Result<Vec<crate::aws::organizations::OrgAccount>> {
        self.log(format!("ListAccountsForParent {parent}"));
        Ok(self
            .org_accounts
            .lock()
            .unwrap()
            .get(parent)
            .cloned()
            .unwrap_or_default())
    }
    async fn management_account(&self) -> Result<String> {
        Ok(self.org_management.lock().unwrap().clone())
    }
    async fn child_units(&self, parent: &str) -> Result<Vec<String>> {
        Ok(self
            .org_units
            .lock()
            .unwrap()
            .get(parent)
            .cloned()
            .unwrap_or_default())
    }
}

#[async_trait]
impl crate::aws::named::Named for FakeAws {
    async fn bucket(
        &self,
        name: &str,
        _owner: Option<&str>,
    ) -> Result<crate::aws::named::BucketState> {
        self.log(format!("HeadBucket {name}"));
        Ok(self
            .buckets
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or(crate::aws::named::BucketState::Missing))
    }
    async fn queue_url(&self, name: &str) -> Result<Option<String>> {
        self.log(format!("GetQueueUrl {name}"));
        Ok(self.queues.lock().unwrap().get(name).cloned())
    }
    async fn topic_exists(&self, arn: &str) -> Result<bool> {
        self.log(format!("GetTopicAttributes {arn}"));
        Ok(self.topics.lock().unwrap().contains(arn))
    }
    async fn kms_alias_exists(&self, alias: &str) -> Result<bool> {
        self.log(format!("ListAliases {alias}"));
        Ok(self.kms_aliases.lock().unwrap().contains(alias))
    }
}
