//! CloudFormation stacks: describe, read the template, create, delete and find imports,
//! behind the [`CloudFormation`] trait, and [`wait_for_stack`] to poll a stack to rest.
//!
//! The SDK adapter [`CfnClient`] maps the SDK's types to [`StackInfo`] and friends; nothing of
//! the SDK leaves this file. AWS answers a few expected conditions ("stack does not exist",
//! "export is not imported") with a `ValidationError` whose English text is the only way to
//! tell them apart; those texts are matched here and nowhere else.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudformation::types::{Capability, Parameter, Tag, TemplateStage};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::Serialize;

use super::sdk_error;
use crate::error::{Error, Result};
use crate::poll::{poll_until, Poll};

/// One output of a deployed stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub export_name: Option<String>,
    pub description: Option<String>,
}

/// A deployed stack, as DescribeStacks reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StackInfo {
    pub name: String,
    /// The stack's ARN.
    pub id: String,
    /// CloudFormation's status, such as `CREATE_COMPLETE`.
    pub status: String,
    pub status_reason: Option<String>,
    /// RFC 3339.
    pub created: Option<String>,
    /// RFC 3339.
    pub last_updated: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub outputs: Vec<StackOutput>,
    pub termination_protection: bool,
    pub capabilities: Vec<String>,
    /// `IN_SYNC`, `DRIFTED`, `NOT_CHECKED` or `UNKNOWN`, when CloudFormation reports it.
    pub drift_status: Option<String>,
    /// The service role CloudFormation uses for the stack's operations (`RoleARN`).
    pub role_arn: Option<String>,
    /// The SNS topics that receive the stack's events (`NotificationARNs`).
    pub notification_arns: Vec<String>,
}

/// The stack statuses `little` acts on, by name; any other is [`StackStatus::Other`]. Read one
/// with [`StackInfo::state`] or [`StackStatus::of`]; write one with [`StackStatus::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackStatus {
    CreateComplete,
    UpdateComplete,
    ImportComplete,
    DeleteComplete,
    /// The creation failed and was rolled back: nothing is left, and it cannot be updated.
    RollbackComplete,
    /// The creation failed and so did its rollback: resources may be left.
    RollbackFailed,
    /// An update failed and was rolled back: the stack is as it was.
    UpdateRollbackComplete,
    /// An update failed and so did its rollback: it needs `continue-update-rollback`.
    UpdateRollbackFailed,
    DeleteFailed,
    /// Only an unexecuted change set: nothing of the stack is deployed.
    ReviewInProgress,
    /// Any other status (in progress, import rollbacks, ...).
    Other,
}

impl StackStatus {
    const NAMED: [(StackStatus, &'static str); 10] = [
        (StackStatus::CreateComplete, "CREATE_COMPLETE"),
        (StackStatus::UpdateComplete, "UPDATE_COMPLETE"),
        (StackStatus::ImportComplete, "IMPORT_COMPLETE"),
        (StackStatus::DeleteComplete, "DELETE_COMPLETE"),
        (StackStatus::RollbackComplete, "ROLLBACK_COMPLETE"),
        (StackStatus::RollbackFailed, "ROLLBACK_FAILED"),
        (
            StackStatus::UpdateRollbackComplete,
            "UPDATE_ROLLBACK_COMPLETE",
        ),
        (StackStatus::UpdateRollbackFailed, "UPDATE_ROLLBACK_FAILED"),
        (StackStatus::DeleteFailed, "DELETE_FAILED"),
        (StackStatus::ReviewInProgress, "REVIEW_IN_PROGRESS"),
    ];

    /// The status CloudFormation names `text`.
    pub fn of(text: &str) -> StackStatus {
        Self::NAMED
            .iter()
            .find(|(_, name)| *name == text)
            .map_or(StackStatus::Other, |(status, _)| *status)
    }

    /// CloudFormation's name of the status (`Other` has none of its own: `""`).
    pub fn as_str(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(status, _)| *status == self)
            .map_or("", |(_, name)| name)
    }
}

impl StackInfo {
    /// The stack's status, for the ones `little` acts on.
    pub fn state(&self) -> StackStatus {
        StackStatus::of(&self.status)
    }

    /// Whether CloudFormation is still working on the stack (`*_IN_PROGRESS`).
    ///
    /// `REVIEW_IN_PROGRESS` (a stack created by a change set that was never executed) is not:
    /// it stays that way until someone acts, so waiting on it would never end.
    pub fn is_in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS") && !self.is_review()
    }

    /// Whether the stack holds only a change set that was never executed
    /// (`REVIEW_IN_PROGRESS`): it exists, but nothing of it is deployed.
    pub fn is_review(&self) -> bool {
        self.state() == StackStatus::ReviewInProgress
    }

    /// Whether the stack is deployed: it exists and is more than an unexecuted change set.
    pub fn is_deployed(&self) -> bool {
        !self.is_review()
    }

    /// Whether the stack's creation failed and was rolled back (`ROLLBACK_COMPLETE`): nothing
    /// is left in it, and it cannot be updated.
    pub fn is_rolled_back_creation(&self) -> bool {
        self.state() == StackStatus::RollbackComplete
    }

    /// Whether the last drift detection found drift (`DRIFTED`).
    pub fn has_drifted(&self) -> bool {
        super::drift::drifted(self.drift_status.as_deref()) == Some(true)
    }

    /// Whether the last operation failed: `*_FAILED`, or a rollback that completed
    /// (`ROLLBACK_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`, `IMPORT_ROLLBACK_COMPLETE`).
    pub fn is_failed(&self) -> bool {
        self.status.ends_with("_FAILED")
            || matches!(
                self.status.as_str(),
                "ROLLBACK_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" | "IMPORT_ROLLBACK_COMPLETE"
            )
    }

    /// The names of the stack's exports (its outputs' `ExportName`s).
    pub fn export_names(&self) -> Vec<String> {
        self.outputs
            .iter()
            .filter_map(|o| o.export_name.clone())
            .collect()
    }

    /// The outputs as key → value, for `stack_output()`.
    pub fn outputs_map(&self) -> BTreeMap<String, String> {
        self.outputs
            .iter()
            .map(|o| (o.key.clone(), o.value.clone()))
            .collect()
    }
}

/// A page of [`CloudFormation::describe_stacks_page`]: its stacks (none deleted), the names of
/// the stacks whose description lacks what a stack's own DescribeStacks gives (their
/// `EnableTerminationProtection`: such a stack is to be read on its own), and the token of the
/// next page (none: the last).
#[derive(Debug, Clone, Default)]
pub struct StacksPage {
    pub stacks: Vec<StackInfo>,
    pub unsure: Vec<String>,
    pub next: Option<String>,
}

/// What [`CloudFormation::create_stack`] sends.
#[derive(Debug, Clone, Default)]
pub struct StackRequest {
    pub stack_name: String,
    pub template_body: String,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    /// `CAPABILITY_IAM`, `CAPABILITY_NAMED_IAM`, `CAPABILITY_AUTO_EXPAND`.
    pub capabilities: Vec<String>,
    pub termination_protection: bool,
    pub timeout_in_minutes: Option<u32>,
}

/// The CloudFormation calls the tool makes.
#[async_trait]
pub trait CloudFormation: Send + Sync {
    /// None when the stack does not exist (AWS answers ValidationError "Stack with id X does not
    /// exist"); a DELETE_COMPLETE stack also counts as absent.
    async fn describe_stack(&self, name: &str) -> Result<Option<StackInfo>>;
    /// A page of the region's live stacks: DescribeStacks without a stack name, from `token`
    /// (none: the first page).
    async fn describe_stacks_page(&self, token: Option<String>) -> Result<StacksPage>;
    /// The deployed template body, stage Original.
    async fn get_template(&self, name: &str) -> Result<String>;
    /// Starts creating a stack; returns its id.
    async fn create_stack(&self, req: &StackRequest) -> Result<String>;
    /// Starts deleting a stack.
    async fn delete_stack(&self, name: &str) -> Result<()>;
    /// Every import of the stack's exports: ListExports + ListImports (all pages), each export
    /// with each stack importing it. Sorted, without duplicates.
    async fn imports_of(&self, name: &str) -> Result<Vec<Import>>;
    /// Every import of these exports (ListImports, all pages; no call for none), for a caller
    /// that has the stack's outputs (their `ExportName`s) and so needs no ListExports of the
    /// whole region. Sorted, without duplicates.
    async fn imports_of_exports(&self, exports: &[String]) -> Result<Vec<Import>>;
    /// The stacks that import one of the stack's exports. Sorted, without duplicates.
    async fn importers_of(&self, name: &str) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .imports_of(name)
            .await?
            .into_iter()
            .map(|i| i.importer)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// A stack that imports (`Fn::ImportValue`) an export of another stack.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Import {
    /// The export's name.
    pub export: String,
    /// The importing stack's name.
    pub importer: String,
}

/// [`CloudFormation`] through the SDK's client.
pub struct CfnClient {
    client: aws_sdk_cloudformation::Client,
}

impl CfnClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        CfnClient {
            client: super::sdk_client!(aws_sdk_cloudformation, config),
        }
    }
}

/// Whether a service error is AWS's way of saying that a stack does not exist.
fn is_missing_stack<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ValidationError") && e.message().is_some_and(|m| m.contains("does not exist"))
}

/// Whether a ListImports error says that nothing imports the export
/// ("Export 'X' is not imported by any stack.").
fn is_not_imported<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ValidationError")
        && e.message()
            .is_some_and(|m| m.contains("is not imported by any stack"))
}

fn rfc3339(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(Format::DateTime).ok())
}

/// The stack name in a stack id (`arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID`), or
/// the id itself when it is not an ARN.
fn stack_name_of(id: &str) -> &str {
    match id.split_once(":stack/") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => id,
    }
}

fn stack_info(s: &aws_sdk_cloudformation::types::Stack) -> StackInfo {
    StackInfo {
        name: s.stack_name().unwrap_or_default().to_owned(),
        id: s.stack_id().unwrap_or_default().to_owned(),
        status: s
            .stack_status()
            .map(|st| st.as_str().to_owned())
            .unwrap_or_default(),
        status_reason: s.stack_status_reason().map(str::to_owned),
        created: rfc3339(s.creation_time()),
        last_updated: rfc3339(s.last_updated_time()),
        parameters: s
            .parameters()
            .iter()
            .map(|p| {
                (
                    p.parameter_key().unwrap_or_default().to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        tags: s
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        outputs: s
            .outputs()
            .iter()
            .map(|o| StackOutput {
                key: o.output_key().unwrap_or_default().to_owned(),
                value: o.output_value().unwrap_or_default().to_owned(),
                export_name: o.export_name().map(str::to_owned),
                description: o.description().map(str::to_owned),
            })
            .collect(),
        termination_protection: s.enable_termination_protection().unwrap_or(false),
        capabilities: s
            .capabilities()
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        drift_status: s
            .drift_information()
            .and_then(|d| d.stack_drift_status())
            .map(|d| d.as_str().to_owned()),
        role_arn: s.role_arn().map(str::to_owned),
        notification_arns: s.notification_arns().to_vec(),
    }
}

#[async_trait]
impl CloudFormation for CfnClient {
    async fn describe_stack(&self, name: &str) -> Result<Option<StackInfo>> {
        let out = match self.client.describe_stacks().stack_name(name).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(is_missing_stack) => return Ok(None),
            Err(e) => return Err(sdk_error("cloudformation:DescribeStacks", e)),
        };
        Ok(out
            .stacks()
            .iter()
            .map(stack_info)
            .find(|s| s.status != "DELETE_COMPLETE"))
    }

    async fn describe_stacks_page(&self, token: Option<String>) -> Result<StacksPage> {
        let out = self
            .client
            .describe_stacks()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:DescribeStacks", e))?;
        let (complete, unsure): (Vec<_>, Vec<_>) = out
            .stacks()
            .iter()
            .partition(|s| s.enable_termination_protection().is_some());
        Ok(StacksPage {
            stacks: complete
                .into_iter()
                .map(stack_info)
                .filter(|s| s.status != "DELETE_COMPLETE")
                .collect(),
            unsure: unsure
                .into_iter()
                .filter_map(|s| s.stack_name().map(str::to_owned))
                .collect(),
            next: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }

    async fn get_template(&self, name: &str) -> Result<String> {
        let out = self
            .client
            .get_template()
            .stack_name(name)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:GetTemplate", e))?;
        out.template_body()
            .map(str::to_owned)
            .ok_or_else(|| Error::Aws {
                operation: "cloudformation:GetTemplate".into(),
                message: format!("the answer for stack `{name}` holds no template body"),
            })
    }

    async fn create_stack(&self, req: &StackRequest) -> Result<String> {
        let mut call = self
            .client
            .create_stack()
            .stack_name(&req.stack_name)
            .template_body(&req.template_body)
            .enable_termination_protection(req.termination_protection);
        for (k, v) in &req.parameters {
            call = call.parameters(
                Parameter::builder()
                    .parameter_key(k)
                    .parameter_value(v)
                    .build(),
            );
        }
        for (k, v) in &req.tags {
            call = call.tags(Tag::builder().key(k).value(v).build());
        }
        for c in &req.capabilities {
            call = call.capabilities(Capability::from(c.as_str()));
        }
        if let Some(t) = req.timeout_in_minutes {
            call = call.timeout_in_minutes(i32::try_from(t).unwrap_or(i32::MAX));
        }
        let out = call
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:CreateStack", e))?;
        out.stack_id().map(str::to_owned).ok_or_else(|| Error::Aws {
            operation: "cloudformation:CreateStack".into(),
            message: format!(
                "the answer for stack `{}` holds no stack id",
                req.stack_name
            ),
        })
    }

    async fn delete_stack(&self, name: &str) -> Result<()> {
        self.client
            .delete_stack()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:DeleteStack", e))?;
        Ok(())
    }

    async fn imports_of(&self, name: &str) -> Result<Vec<Import>> {
        // The stack's exports.
        let mut exports = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_exports()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| sdk_error("cloudformation:ListExports", e))?;
            for e in out.exports() {
                let exporter = e.exporting_stack_id().map(stack_name_of);
                if let (Some(export), Some(exporter)) = (e.name(), exporter) {
                    if exporter == name {
                        exports.push(export.to_owned());
                    }
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }

        self.imports_of_exports(&exports).await
    }

    async fn imports_of_exports(&self, exports: &[String]) -> Result<Vec<Import>> {
        // The stacks importing each of them.
        let mut imports = Vec::new();
        for export in exports {
            let mut token: Option<String> = None;
            loop {
                let out = match self
                    .client
                    .list_imports()
                    .export_name(export)
                    .set_next_token(token.take())
                    .send()
                    .await
                {
                    Ok(out) => out,
                    Err(e) if e.as_service_error().is_some_and(is_not_imported) => break,
                    Err(e) => return Err(sdk_error("cloudformation:ListImports", e)),
                };
                imports.extend(out.imports().iter().map(|importer| Import {
                    export: export.clone(),
                    importer: importer.clone(),
                }));
                match out.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                    _ => break,
                }
            }
        }
        imports.sort();
        imports.dedup();
        Ok(imports)
    }
}

/// Polls describe_stack until the status is no longer `*_IN_PROGRESS`, with backoff and a
/// timeout; returns the final StackInfo or, for a stack that disappeared during a delete, None.
pub async fn wait_for_stack(
    cfn: &dyn CloudFormation,
    name: &str,
    poll: Poll,
) -> Result<Option<StackInfo>> {
    let waited = poll_until(
        poll,
        || cfn.describe_stack(name),
        |info: &Option<StackInfo>| info.as_ref().is_none_or(|i| !i.is_in_progress()),
    )
    .await?;
    waited.map_err(|info| Error::Aws {
        operation: format!("waiting for stack `{name}`"),
        message: format!(
            "it is still `{}` after {}",
            info.map(|i| i.status).unwrap_or_default(),
            crate::duration::human(poll.timeout)
        ),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    #[test]
    fn stack_statuses_read_and_write_as_cloudformation_names_them() {
        for status in StackStatus::NAMED.map(|(s, _)| s) {
            assert_eq!(StackStatus::of(status.as_str()), status);
        }
        assert_eq!(
            StackStatus::of("UPDATE_COMPLETE"),
            StackStatus::UpdateComplete
        );
        assert_eq!(StackStatus::of("UPDATE_IN_PROGRESS"), StackStatus::Other);
        assert_eq!(StackStatus::Other.as_str(), "");
        assert_eq!(StackStatus::DeleteComplete.as_str(), "DELETE_COMPLETE");
    }

    fn info(status: &str) -> StackInfo {
        StackInfo {
            name: "s".into(),
            id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1".into(),
            status: status.into(),
            ..Default::default()
        }
    }

    /// Answers describe_stack from a script, one answer per call; the last one repeats.
    struct Scripted {
        answers: Vec<Option<&'static str>>,
        calls: Mutex<usize>,
    }

    impl Scripted {
        fn new(answers: Vec<Option<&'static str>>) -> Self {
            Scripted {
                answers,
                calls: Mutex::new(0),
            }
        }

        fn calls(&self) -> usize {
            *self.calls.lock().unwrap()
        }
    }

    #[async_trait]
    impl CloudFormation for Scripted {
        async fn describe_stack(&self, _name: &str) -> Result<Option<StackInfo>> {
            let mut calls = self.calls.lock().unwrap();
            let i = (*calls).min(self.answers.len() - 1);
            *calls += 1;
            Ok(self.answers[i].map(info))
        }
        async fn describe_stacks_page(&self, _token: Option<String>) -> Result<StacksPage> {
            unreachable!()
        }
        async fn get_template(&self, _name: &str) -> Result<String> {
            unreachable!()
        }
        async fn create_stack(&self, _req: &StackRequest) -> Result<String> {
            unreachable!()
        }
        async fn delete_stack(&self, _name: &str) -> Result<()> {
            unreachable!()
        }
        async fn imports_of(&self, _name: &str) -> Result<Vec<Import>> {
            unreachable!()
        }
        async fn imports_of_exports(&self, _exports: &[String]) -> Result<Vec<Import>> {
            unreachable!()
        }
    }

    const FAST: Poll = Poll {
        first: Duration::ZERO,
        max: Duration::ZERO,
        timeout: Duration::from_secs(5),
    };

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn waits_until_the_stack_is_at_rest() {
        let fake = Scripted::new(vec![
            Some("CREATE_IN_PROGRESS"),
            Some("CREATE_IN_PROGRESS"),
            Some("CREATE_IN_PROGRESS"),
            Some("CREATE_COMPLETE"),
        ]);
        let got = block_on(wait_for_stack(&fake, "s", FAST)).unwrap();
        assert_eq!(got.map(|s| s.status), Some("CREATE_COMPLETE".to_owned()));
        assert_eq!(fake.calls(), 4);
    }

    #[test]
    fn returns_at_once_for_a_stack_at_rest_or_failed() {
        let fake = Scripted::new(vec![Some("ROLLBACK_COMPLETE")]);
        let got = block_on(wait_for_stack(&fake, "s", FAST)).unwrap().unwrap();
        assert!(got.is_failed());
        assert_eq!(fake.calls(), 1);
    }

    #[test]
    fn a_stack_that_disappears_during_a_delete_is_none() {
        let fake = Scripted::new(vec![
            Some("DELETE_IN_PROGRESS"),
            Some("DELETE_IN_PROGRESS"),
            None,
        ]);
        let got = block_on(wait_for_stack(&fake, "s", FAST)).unwrap();
        assert_eq!(got, None);
        assert_eq!(fake.calls(), 3);
    }

    #[test]
    fn gives_up_after_the_timeout() {
        let fake = Scripted::new(vec![Some("UPDATE_IN_PROGRESS")]);
        let poll = Poll {
            first: Duration::from_millis(1),
            max: Duration::from_millis(2),
            timeout: Duration::from_millis(20),
        };
        let started = std::time::Instant::now();
        let err = block_on(wait_for_stack(&fake, "s", poll)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(fake.calls() >= 2, "polled {} times", fake.calls());
        let msg = err.to_string();
        assert!(
            msg.contains("waiting for stack `s`") && msg.contains("UPDATE_IN_PROGRESS"),
            "{msg}"
        );
        assert!(msg.contains("after 20ms"), "{msg}");
    }

    #[test]
    fn backoff_grows_by_half_up_to_the_cap() {
        // Intervals 100, 150, 200 (capped), 200 ms, each jittered by up to a fifth either
        // way: at least 520 ms for five polls (650 without the jitter).
        let fake = Scripted::new(vec![
            Some("CREATE_IN_PROGRESS"),
            Some("CREATE_IN_PROGRESS"),
            Some("CREATE_IN_PROGRESS"),
            Some("CREATE_IN_PROGRESS"),
            Some("CREATE_COMPLETE"),
        ]);
        let poll = Poll {
            first: Duration::from_millis(100),
            max: Duration::from_millis(200),
            timeout: Duration::from_secs(10),
        };
        let started = std::time::Instant::now();
        block_on(wait_for_stack(&fake, "s", poll)).unwrap();
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(520), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert_eq!(fake.calls(), 5);
    }

    #[test]
    fn status_helpers() {
        for s in [
            "CREATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "DELETE_IN_PROGRESS",
        ] {
            assert!(info(s).is_in_progress(), "{s}");
            assert!(!info(s).is_failed(), "{s}");
        }
        for s in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "REVIEW_IN_PROGRESS"] {
            assert!(!info(s).is_in_progress(), "{s}");
            assert!(!info(s).is_failed(), "{s}");
        }
        for s in [
            "CREATE_FAILED",
            "ROLLBACK_FAILED",
            "DELETE_FAILED",
            "UPDATE_ROLLBACK_FAILED",
            "ROLLBACK_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
        ] {
            assert!(info(s).is_failed(), "{s}");
            assert!(!info(s).is_in_progress(), "{s}");
        }
    }

    #[test]
    fn outputs_map_and_stack_names() {
        let mut s = info("CREATE_COMPLETE");
        s.outputs = vec![
            StackOutput {
                key: "B".into(),
                value: "2".into(),
                export_name: Some("x-B".into()),
                description: None,
            },
            StackOutput {
                key: "A".into(),
                value: "1".into(),
                export_name: None,
                description: Some("first".into()),
            },
        ];
        let m = s.outputs_map();
        assert_eq!(
            m.into_iter().collect::<Vec<_>>(),
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        assert_eq!(
            stack_name_of("arn:aws:cloudformation:us-east-1:123456789012:stack/net-base/6a1b"),
            "net-base"
        );
        assert_eq!(stack_name_of("plain"), "plain");
    }
}
