//! Stack operations beyond create and delete, behind the [`StackOps`] trait: stack events page
//! by page, the stack's resources, termination protection, the stack policy, and the rollback
//! controls (continue an update rollback, cancel an update). [`EventCursor`] turns the
//! newest-first event pages into "each new event once, oldest first" for a running operation;
//! [`root_cause`] and [`rollback_failures`] read a failed operation's events.
//!
//! The SDK adapter [`StackOpsClient`] maps the SDK's types to [`StackEvent`] and
//! [`StackResource`]; nothing of the SDK leaves this file. Telling a root cause from the
//! failures that only follow from it takes CloudFormation's English status reasons; those
//! texts are matched here and nowhere else.
//!
//! The local emulator (moto) writes only two stack-level events per operation and implements
//! neither UpdateTerminationProtection nor the rollback controls (it answers 500 with an HTML
//! page, which [`sdk_error`] reports as such).

use std::collections::HashSet;

use async_trait::async_trait;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::{Deserialize, Serialize};

use super::sdk_error;
use crate::error::Result;

/// The resource type of the stack itself in its own events.
const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// One stack event, as DescribeStackEvents reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackEvent {
    /// The event's id, unique within the stack (`Repo-CREATE_FAILED-2026-11-23T07:31:24.123Z`,
    /// or a UUID for the stack's own events).
    pub id: String,
    /// RFC 3339, UTC, such as `2026-11-23T07:31:24.123Z`; empty if AWS gave none.
    pub timestamp: String,
    /// The resource's logical id; the stack's name for the stack's own events.
    pub logical_id: String,
    pub physical_id: Option<String>,
    /// Such as `AWS::SQS::Queue`; `AWS::CloudFormation::Stack` for the stack's own events.
    pub resource_type: String,
    /// Such as `CREATE_IN_PROGRESS` or `UPDATE_FAILED`; a hook's status (`HOOK_*`) for a
    /// hook's event.
    pub status: String,
    pub reason: Option<String>,
}

/// One resource of a deployed stack, as ListStackResources reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    /// Such as `CREATE_COMPLETE`.
    pub status: String,
    /// `IN_SYNC`, `MODIFIED`, `DELETED` or `NOT_CHECKED`, when CloudFormation reports it.
    pub drift_status: Option<String>,
}

/// CloudFormation's calls on an existing stack, other than describe, create and delete.
#[async_trait]
pub trait StackOps: Send + Sync {
    /// One page of DescribeStackEvents (newest first, as AWS returns them) and the next token.
    async fn events_page(
        &self,
        stack: &str,
        next_token: Option<String>,
    ) -> Result<(Vec<StackEvent>, Option<String>)>;
    /// ListStackResources, all pages.
    async fn resources(&self, stack: &str) -> Result<Vec<StackResource>>;
    /// ListStacks, all pages: the names of the stacks that exist (not deleted), in the
    /// order CloudFormation lists them.
    async fn stack_names(&self) -> Result<Vec<String>>;
    /// UpdateTerminationProtection.
    async fn set_termination_protection(&self, stack: &str, enabled: bool) -> Result<()>;
    /// SetStackPolicy with a policy document (JSON).
    async fn set_stack_policy(&self, stack: &str, policy_body: &str) -> Result<()>;
    /// GetStackPolicy: the stack's policy document, None when it has none.
    async fn stack_policy(&self, stack: &str) -> Result<Option<String>>;
    /// UpdateStack with the deployed template and every parameter's previous value, and new
    /// stack tags: how tags reach a stack when a change set sees nothing else to change.
    async fn update_tags(&self, update: &TagUpdate) -> Result<()>;
    /// ContinueUpdateRollback of a stack in `UPDATE_ROLLBACK_FAILED`, skipping the named
    /// resources (see [`rollback_failures`]); none skipped when empty.
    async fn continue_update_rollback(
        &self,
        stack: &str,
        resources_to_skip: &[String],
    ) -> Result<()>;
    /// CancelUpdateStack of a stack in `UPDATE_IN_PROGRESS`.
    async fn cancel_update(&self, stack: &str) -> Result<()>;
}

/// What [`StackOps::update_tags`] sends.
#[derive(Debug, Clone, Default)]
pub struct TagUpdate {
    pub stack: String,
    /// The keys of the deployed parameters, each kept at its previous value.
    pub parameter_keys: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub capabilities: Vec<String>,
    pub role_arn: Option<String>,
}

/// [`StackOps`] through the SDK's CloudFormation client.
pub struct StackOpsClient {
    client: aws_sdk_cloudformation::Client,
}

impl StackOpsClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        StackOpsClient {
            client: super::sdk_client!(aws_sdk_cloudformation, config),
        }
    }

    /// Wraps a client built elsewhere (tests: a mock client).
    pub fn from_client(client: aws_sdk_cloudformation::Client) -> Self {
        StackOpsClient { client }
    }
}

fn rfc3339(t: Option<&DateTime>) -> String {
    t.and_then(|t| t.fmt(Format::DateTime).ok())
        .unwrap_or_default()
}

/// `None` for an absent or empty text: AWS sends empty physical ids and tokens at times.
fn text(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_owned)
}

fn stack_event(e: &aws_sdk_cloudformation::types::StackEvent) -> StackEvent {
    StackEvent {
        id: e.event_id().unwrap_or_default().to_owned(),
        timestamp: rfc3339(e.timestamp()),
        logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
        physical_id: text(e.physical_resource_id()),
        resource_type: e.resource_type().unwrap_or_default().to_owned(),
        status: e
            .resource_status()
            .map(|s| s.as_str())
            .or_else(|| e.hook_status().map(|s| s.as_str()))
            .unwrap_or_default()
            .to_owned(),
        reason: text(e.resource_status_reason()).or_else(|| text(e.hook_status_reason())),
    }
}

fn stack_resource(r: &aws_sdk_cloudformation::types::StackResourceSummary) -> StackResource {
    StackResource {
        logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
        physical_id: text(r.physical_resource_id()),
        resource_type: r.resource_type().unwrap_or_default().to_owned(),
        status: r
            .resource_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        drift_status: r
            .drift_information()
            .and_then(|d| d.stack_resource_drift_status())
            .map(|s| s.as_str().to_owned()),
    }
}

/// How many pages a listing reads at most: far beyond any real stack, a guard against a token
/// that never ends.
const MAX_PAGES: usize = 1000;

#[async_trait]
impl StackOps for StackOpsClient {
    async fn events_page(
        &self,
        stack: &str,
        next_token: Option<String>,
    ) -> Result<(Vec<StackEvent>, Option<String>)> {
        let out = self
            .client
            .describe_stack_events()
            .stack_name(stack)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:DescribeStackEvents", e))?;
        let events = out.stack_events().iter().map(stack_event).collect();
        Ok((events, text(out.next_token())))
    }

    async fn resources(&self, stack: &str) -> Result<Vec<StackResource>> {
        let mut resources = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("cloudformation:ListStackResources", e))?;
            resources.extend(page.stack_resource_summaries().iter().map(stack_resource));
            match text(page.next_token()) {
                // The same token again would read the same page forever.
                Some(next) if token.as_ref() != Some(&next) => token = Some(next),
                _ => break,
            }
        }
        Ok(resources)
    }

    async fn stack_names(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .list_stacks()
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("cloudformation:ListStacks", e))?;
            names.extend(
                page.stack_summaries()
                    .iter()
                    .filter(|s| s.stack_status().map(|st| st.as_str()) != Some("DELETE_COMPLETE"))
                    .filter_map(|s| s.stack_name().map(str::to_owned)),
            );
            match text(page.next_token()) {
                Some(next) if token.as_ref() != Some(&next) => token = Some(next),
                _ => break,
            }
        }
        Ok(names)
    }

    async fn set_termination_protection(&self, stack: &str, enabled: bool) -> Result<()> {
        self.client
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(enabled)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:UpdateTerminationProtection", e))?;
        Ok(())
    }

    async fn set_stack_policy(&self, stack: &str, policy_body: &str) -> Result<()> {
        self.client
            .set_stack_policy()
            .stack_name(stack)
            .stack_policy_body(policy_body)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:SetStackPolicy", e))?;
        Ok(())
    }

    async fn stack_policy(&self, stack: &str) -> Result<Option<String>> {
        let out = self
            .client
            .get_stack_policy()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:GetStackPolicy", e))?;
        Ok(out
            .stack_policy_body()
            .filter(|b| !b.trim().is_empty())
            .map(str::to_owned))
    }

    async fn update_tags(&self, update: &TagUpdate) -> Result<()> {
        use aws_sdk_cloudformation::types::{Capability, Parameter, Tag};
        let mut req = self
            .client
            .update_stack()
            .stack_name(&update.stack)
            .use_previous_template(true)
            .set_role_arn(update.role_arn.clone());
        for key in &update.parameter_keys {
            req = req.parameters(
                Parameter::builder()
                    .parameter_key(key)
                    .use_previous_value(true)
                    .build(),
            );
        }
        for (k, v) in &update.tags {
            req = req.tags(Tag::builder().key(k).value(v).build());
        }
        for c in &update.capabilities {
            req = req.capabilities(Capability::from(c.as_str()));
        }
        req.send()
            .await
            .map_err(|e| sdk_error("cloudformation:UpdateStack", e))?;
        Ok(())
    }

    async fn continue_update_rollback(
        &self,
        stack: &str,
        resources_to_skip: &[String],
    ) -> Result<()> {
        self.client
            .continue_update_rollback()
            .stack_name(stack)
            .set_resources_to_skip(
                (!resources_to_skip.is_empty()).then(|| resources_to_skip.to_vec()),
            )
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:ContinueUpdateRollback", e))?;
        Ok(())
    }

    async fn cancel_update(&self, stack: &str) -> Result<()> {
        self.client
            .cancel_update_stack()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:CancelUpdateStack", e))?;
        Ok(())
    }
}

/// A timestamp as (seconds, nanoseconds) since the epoch, for ordering: RFC 3339 texts with
/// and without fractions, or with offsets, do not sort as strings. `None` if it is not one.
fn instant(ts: &str) -> Option<(i64, u32)> {
    DateTime::from_str(ts, Format::DateTimeWithOffset)
        .ok()
        .map(|d| (d.secs(), d.subsec_nanos()))
}

/// Events in time order (oldest first); the order given is kept among equal times, and events
/// without a readable time come first.
fn chronological(events: &[StackEvent]) -> Vec<&StackEvent> {
    let mut sorted: Vec<&StackEvent> = events.iter().collect();
    sorted.sort_by_key(|e| instant(&e.timestamp));
    sorted
}

/// Whether `e` is the stack's own event (not a resource's) with status `status`.
fn is_stack_event(e: &StackEvent, stack: &str, status: &str) -> bool {
    // A nested stack's events are the parent's resource's: its logical id is not the stack's.
    e.status == status && e.resource_type == "AWS::CloudFormation::Stack" && e.logical_id == stack
}

/// Tracks which events of a stack were already seen, to show each new one once, in order.
#[derive(Debug, Clone, Default)]
pub struct EventCursor {
    /// The ids of the events returned (or passed over as old) so far.
    seen: HashSet<String>,
    /// Events before this instant are ignored.
    since: Option<(i64, u32)>,
    /// The events of a change set's review (`REVIEW_IN_PROGRESS`) are ignored.
    skip_review: bool,
    /// The stack's own status that begins the operation whose events are wanted
    /// (`UPDATE_IN_PROGRESS`, `DELETE_IN_PROGRESS`), until its event is found: that event and
    /// the ones after it are the operation's, everything older is history.
    start: Option<&'static str>,
    /// A start event older than this is an earlier operation's, never this one's.
    not_before: Option<(i64, u32)>,
}

/// How far AWS's clock may be behind this machine's for a start event still to count as the
/// operation's: an earlier operation's start is older than that, unless it was minutes ago
/// and the new one's event is not recorded yet when the stack already reads in progress.
const START_SKEW_SECS: u64 = 300;

impl EventCursor {
    /// Events at or after `since` (RFC 3339; e.g. the moment an operation started) only; all
    /// events when `None` (or when `since` is not a time). AWS stamps events with its own
    /// clock: a `since` from a clock running ahead hides the first events.
    pub fn new(since: Option<String>) -> Self {
        EventCursor {
            seen: HashSet::new(),
            since: since.as_deref().and_then(instant),
            ..EventCursor::default()
        }
    }

    /// The events of a stack that a CREATE change set of this run made: its history is only
    /// the review of that change set, which is passed over without a read beforehand.
    pub fn new_stack() -> Self {
        EventCursor {
            skip_review: true,
            ..EventCursor::default()
        }
    }

    /// The events of the operation that is about to begin on an existing stack with the
    /// stack's own `start` event (`UPDATE_IN_PROGRESS`, `DELETE_IN_PROGRESS`), without reading
    /// the stack's history beforehand: the newest such event found by the first poll marks
    /// where the operation's events begin. If a poll finds none (the operation's first event
    /// not recorded yet), what it read is taken for history: passed over, never shown as new.
    fn from_start(start: &'static str) -> Self {
        let not_before = crate::time::now().saturating_sub(START_SKEW_SECS);
        EventCursor {
            start: Some(start),
            not_before: Some((i64::try_from(not_before).unwrap_or(0), 0)),
            ..EventCursor::default()
        }
    }

    /// The events of an update about to begin on an existing stack ([`Self::from_start`]
    /// with `UPDATE_IN_PROGRESS`).
    pub fn for_update() -> Self {
        Self::from_start("UPDATE_IN_PROGRESS")
    }

    /// The events of a deletion about to begin ([`Self::from_start`] with
    /// `DELETE_IN_PROGRESS`).
    pub fn for_delete() -> Self {
        Self::from_start("DELETE_IN_PROGRESS")
    }

    /// Whether an event is older than `since`; an event without a readable time is not.
    fn is_old(&self, e: &StackEvent) -> bool {
        match (self.since, instant(&e.timestamp)) {
            (Some(since), Some(at)) => at < since,
            _ => false,
        }
    }

    /// Reads pages newest first until it meets an event already seen or older than `since`
    /// (or the last page), and returns the new events oldest first (chronological), marking
    /// them seen.
    ///
    /// The page where it stops is read to its end: an event that AWS recorded late, behind
    /// one already seen, still comes out (once). The first poll of a cursor without `since`
    /// reads the stack's whole history; polling once before an operation starts marks that
    /// history seen.
    pub async fn poll(&mut self, ops: &dyn StackOps, stack: &str) -> Result<Vec<StackEvent>> {
        let mut fresh: Vec<StackEvent> = Vec::new();
        let mut ids: HashSet<String> = HashSet::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let (page, next) = ops.events_page(stack, token.clone()).await?;
            let mut reached_known = false;
            for e in page {
                if self.skip_review && e.status == "REVIEW_IN_PROGRESS" {
                    continue;
                }
                let recent = match (self.not_before, instant(&e.timestamp)) {
                    (Some(limit), Some(at)) => at >= limit,
                    _ => true,
                };
                if recent
                    && self
                        .start
                        .is_some_and(|start| is_stack_event(&e, stack, start))
                {
                    // Where the operation begins: older events are history.
                    self.start = None;
                    self.since = instant(&e.timestamp).or(self.since);
                    reached_known = true;
                    if !self.seen.contains(&e.id) && ids.insert(e.id.clone()) {
                        fresh.push(e);
                    }
                    continue;
                }
                if self.seen.contains(&e.id) || self.is_old(&e) {
                    reached_known = true;
                } else if ids.insert(e.id.clone()) {
                    // (Pages that shift while they are read may repeat an event.)
                    fresh.push(e);
                }
            }
            match next {
                Some(next) if !reached_known && token.as_ref() != Some(&next) => token = Some(next),
                _ => break,
            }
        }
        self.seen.extend(ids);
        if self.start.is_some() {
            // The operation's first event is not there yet: all of it is history.
            return Ok(Vec::new());
        }
        // Newest first as AWS lists them: reversed, oldest first; the sort (stable) only moves
        // an event that came late.
        fresh.reverse();
        fresh.sort_by_key(|e| instant(&e.timestamp));
        Ok(fresh)
    }
}

/// The beginnings of status reasons that only follow from another failure: the resources
/// CloudFormation cancels when another one fails, the stack-level summaries naming the failed
/// resources, and handlers that failed without a message.
const CONSEQUENCES: &[&str] = &[
    "Resource creation cancelled",
    "Resource update cancelled",
    "Resource deletion cancelled",
    // "The following resource(s) failed to create: [Repo, Queue]. Rollback requested by user."
    // and "... failed to update: [...]", "... failed to delete: [...]".
    "The following resource(s) failed to ",
    "Resource handler returned message: null",
    "Resource handler returned message: \"null\"",
];

/// Whether a status reason only follows from another failure.
fn is_consequence(reason: &str) -> bool {
    let reason = reason.trim();
    CONSEQUENCES.iter().any(|c| reason.starts_with(c))
}

/// How many causes [`root_cause`] returns at most.
const MAX_CAUSES: usize = 3;

/// The root cause of a failed operation: the earliest `*_FAILED` events (by timestamp) with a
/// reason, skipping the ones that only follow from another failure (resources
/// cancelled because another failed, the stack-level "The following resource(s) failed to
/// ..." summaries, handlers that returned no message) and hooks' own events (a failing hook
/// fails its resource, whose event names it). At most the first three distinct causes (the
/// same resource failing with the same reason twice is one); empty if none.
pub fn root_cause(events: &[StackEvent]) -> Vec<StackEvent> {
    let mut causes: Vec<StackEvent> = Vec::new();
    for e in chronological(events) {
        if causes.len() == MAX_CAUSES {
            break;
        }
        let failed = e.status.ends_with("_FAILED") && !e.status.starts_with("HOOK_");
        let Some(reason) = e.reason.as_deref().filter(|r| !r.trim().is_empty()) else {
            continue;
        };
        if !failed || is_consequence(reason) {
            continue;
        }
        let known = causes
            .iter()
            .any(|c| c.logical_id == e.logical_id && c.reason == e.reason);
        if !known {
            causes.push(e.clone());
        }
    }
    causes
}

/// For `UPDATE_ROLLBACK_FAILED`: the resources whose rollback failed (`UPDATE_FAILED` events
/// after the rollback started, i.e. after the latest stack-level `UPDATE_ROLLBACK_IN_PROGRESS`),
/// to pass as `resources_to_skip`; in the order they failed, each once. Empty when no rollback
/// started. The events may come in either order.
pub fn rollback_failures(events: &[StackEvent]) -> Vec<String> {
    let sorted = chronological(events);
    let Some(start) = sorted
        .iter()
        .rposition(|e| e.resource_type == STACK_TYPE && e.status == "UPDATE_ROLLBACK_IN_PROGRESS")
    else {
        return Vec::new();
    };
    let mut failed: Vec<String> = Vec::new();
    for e in &sorted[start + 1..] {
        if e.status == "UPDATE_FAILED"
            && e.resource_type != STACK_TYPE
            && !failed.contains(&e.logical_id)
        {
            failed.push(e.logical_id.clone());
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use aws_sdk_cloudformation::operation::cancel_update_stack::CancelUpdateStackOutput;
    use aws_sdk_cloudformation::operation::continue_update_rollback::ContinueUpdateRollbackOutput;
    use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
    use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
    use aws_sdk_cloudformation::operation::set_stack_policy::SetStackPolicyOutput;
    use aws_sdk_cloudformation::operation::update_termination_protection::UpdateTerminationProtectionOutput;
    use aws_sdk_cloudformation::types::{
        ResourceStatus, StackEvent as SdkEvent, StackResourceDriftInformationSummary,
        StackResourceDriftStatus, StackResourceSummary,
    };
    use aws_sdk_cloudformation::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::retry::RetryConfig;

    const STACK: &str = "little-registry";
    const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/little-registry/6c1b1e30-c8a7-11f0-9e1b-0affd1e2c3b4";
    const QUEUE_URL: &str =
        "https://sqs.us-east-1.amazonaws.com/123456789012/little-registry-Queue-Xq3v9LkP2mTa";
    /// NextTokens as AWS sends them: long and opaque.
    const TOKEN_2: &str = "AAIAAWq0bXk3N2JvZlRqcGZ5eVpkSmhGQ2dPZz09ZXZlbnRzLXBhZ2UtMg==";
    const TOKEN_3: &str = "AAIAAWq0bXk3N2JvZlRqcGZ5eVpkSmhGQ2dPZz09ZXZlbnRzLXBhZ2UtMw==";
    const REPO_FAILURE: &str = "Resource handler returned message: \"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: string \"untagged\" is not a valid tag status'\" (RequestToken: 2f8c4a6e-1b3d-4e5f-8a9b-0c1d2e3f4a5b, HandlerErrorCode: InvalidRequest)";

    fn at(ts: &str) -> DateTime {
        DateTime::from_str(ts, Format::DateTime).unwrap()
    }

    /// A DescribeStackEvents entry as AWS writes it: the stack's own events have a UUID for an
    /// id and the stack's ARN for a physical id; a resource's id is `Logical-STATUS-time`.
    fn sdk_event(
        ts: &str,
        logical: &str,
        ty: &str,
        status: &str,
        physical: Option<&str>,
        reason: Option<&str>,
    ) -> SdkEvent {
        let id = if ty == STACK_TYPE {
            let digits: String = ts.chars().filter(char::is_ascii_digit).collect();
            format!(
                "{}-c8a7-11f0-9e1b-0affd1e2c3b4",
                &digits[digits.len() - 8..]
            )
        } else {
            format!("{logical}-{status}-{ts}")
        };
        SdkEvent::builder()
            .stack_id(STACK_ID)
            .stack_name(STACK)
            .event_id(id)
            .timestamp(at(ts))
            .logical_resource_id(logical)
            .set_physical_resource_id(physical.map(str::to_owned))
            .resource_type(ty)
            .resource_status(ResourceStatus::from(status))
            .set_resource_status_reason(reason.map(str::to_owned))
            .client_request_token("Console-CreateStack-5a1e9f0c-3b2d-4c6e-8f7a-9b0c1d2e3f4a")
            .build()
    }

    /// The stack's own event.
    fn stack_ev(ts: &str, status: &str, reason: Option<&str>) -> SdkEvent {
        sdk_event(ts, STACK, STACK_TYPE, status, Some(STACK_ID), reason)
    }

    fn queue_ev(ts: &str, status: &str, physical: bool, reason: Option<&str>) -> SdkEvent {
        let physical = physical.then_some(QUEUE_URL);
        sdk_event(ts, "Queue", "AWS::SQS::Queue", status, physical, reason)
    }

    fn repo_ev(ts: &str, status: &str, physical: bool, reason: Option<&str>) -> SdkEvent {
        let physical = physical.then_some("little-registry/api");
        sdk_event(ts, "Repo", "AWS::ECR::Repository", status, physical, reason)
    }

    fn page(events: Vec<SdkEvent>, next: Option<&str>) -> DescribeStackEventsOutput {
        DescribeStackEventsOutput::builder()
            .set_stack_events(Some(events))
            .set_next_token(next.map(str::to_owned))
            .build()
    }

    /// A client answering with these rules in order, without retries.
    fn client(rules: &[&aws_smithy_mocks::Rule]) -> StackOpsClient {
        StackOpsClient::from_client(mock_client!(
            aws_sdk_cloudformation,
            RuleMode::Sequential,
            rules,
            |c| c.retry_config(RetryConfig::disabled())
        ))
    }

    /// The events of a successful create in three pages, newest first.
    fn created_page(n: usize) -> DescribeStackEventsOutput {
        match n {
            1 => page(
                vec![
                    stack_ev("2026-11-23T07:31:41.877Z", "CREATE_COMPLETE", None),
                    queue_ev("2026-11-23T07:31:41.2Z", "CREATE_COMPLETE", true, None),
                ],
                Some(TOKEN_2),
            ),
            2 => page(
                vec![
                    queue_ev(
                        "2026-11-23T07:31:24.123Z",
                        "CREATE_IN_PROGRESS",
                        true,
                        Some("Resource creation Initiated"),
                    ),
                    // AWS sends an empty physical id before the resource exists.
                    sdk_event(
                        "2026-11-23T07:31:23Z",
                        "Queue",
                        "AWS::SQS::Queue",
                        "CREATE_IN_PROGRESS",
                        Some(""),
                        None,
                    ),
                ],
                Some(TOKEN_3),
            ),
            _ => page(
                vec![stack_ev(
                    "2026-11-23T07:31:20.312Z",
                    "CREATE_IN_PROGRESS",
                    Some("User Initiated"),
                )],
                None,
            ),
        }
    }

    /// DescribeStackEvents rules for the three pages of [`created_page`], asserting the
    /// stack and the token that each is asked with.
    fn created_rules() -> [aws_smithy_mocks::Rule; 3] {
        let token = |t: Option<&'static str>| {
            move |r: &aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsInput| {
                r.stack_name() == Some(STACK) && r.next_token() == t
            }
        };
        [
            mock!(Client::describe_stack_events)
                .match_requests(token(None))
                .then_output(|| created_page(1)),
            mock!(Client::describe_stack_events)
                .match_requests(token(Some(TOKEN_2)))
                .then_output(|| created_page(2)),
            mock!(Client::describe_stack_events)
                .match_requests(token(Some(TOKEN_3)))
                .then_output(|| created_page(3)),
        ]
    }

    #[tokio::test]
    async fn events_come_page_by_page_with_the_tokens_sent() {
        let [first, second, third] = created_rules();
        let ops = client(&[&first, &second, &third]);

        let (events, next) = ops.events_page(STACK, None).await.unwrap();
        assert_eq!(next.as_deref(), Some(TOKEN_2));
        assert_eq!(
            events[0],
            StackEvent {
                id: "73141877-c8a7-11f0-9e1b-0affd1e2c3b4".into(),
                timestamp: "2026-11-23T07:31:41.877Z".into(),
                logical_id: STACK.into(),
                physical_id: Some(STACK_ID.into()),
                resource_type: "AWS::CloudFormation::Stack".into(),
                status: "CREATE_COMPLETE".into(),
                reason: None,
            }
        );
        assert_eq!(events[1].timestamp, "2026-11-23T07:31:41.2Z");

        let (events, next) = ops.events_page(STACK, next).await.unwrap();
        assert_eq!(next.as_deref(), Some(TOKEN_3));
        assert_eq!(
            events[0],
            StackEvent {
                id: "Queue-CREATE_IN_PROGRESS-2026-11-23T07:31:24.123Z".into(),
                timestamp: "2026-11-23T07:31:24.123Z".into(),
                logical_id: "Queue".into(),
                physical_id: Some(QUEUE_URL.into()),
                resource_type: "AWS::SQS::Queue".into(),
                status: "CREATE_IN_PROGRESS".into(),
                reason: Some("Resource creation Initiated".into()),
            }
        );
        // An empty physical id is none; a time without fraction has none.
        assert_eq!(events[1].physical_id, None);
        assert_eq!(events[1].timestamp, "2026-11-23T07:31:23Z");

        let (events, next) = ops.events_page(STACK, next).await.unwrap();
        assert_eq!(next, None);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].reason.as_deref(), Some("User Initiated"));
        assert_eq!(
            (first.num_calls(), second.num_calls(), third.num_calls()),
            (1, 1, 1)
        );
    }

    #[tokio::test]
    async fn a_new_cursor_reads_every_page_and_returns_the_events_oldest_first() {
        let [first, second, third] = created_rules();
        let ops = client(&[&first, &second, &third]);
        let mut cursor = EventCursor::new(None);
        let events = cursor.poll(&ops, STACK).await.unwrap();
        let got: Vec<(&str, &str, &str)> = events
            .iter()
            .map(|e| {
                (
                    e.timestamp.as_str(),
                    e.logical_id.as_str(),
                    e.status.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("2026-11-23T07:31:20.312Z", STACK, "CREATE_IN_PROGRESS"),
                ("2026-11-23T07:31:23Z", "Queue", "CREATE_IN_PROGRESS"),
                ("2026-11-23T07:31:24.123Z", "Queue", "CREATE_IN_PROGRESS"),
                ("2026-11-23T07:31:41.2Z", "Queue", "CREATE_COMPLETE"),
                ("2026-11-23T07:31:41.877Z", STACK, "CREATE_COMPLETE"),
            ]
        );
        assert_eq!(
            (first.num_calls(), second.num_calls(), third.num_calls()),
            (1, 1, 1)
        );
    }

    /// A stack that stays CREATE_IN_PROGRESS while new events arrive; it was made by a change
    /// set, so an older REVIEW_IN_PROGRESS event (before `since`) is there too.
    #[tokio::test]
    async fn the_cursor_returns_each_new_event_once_oldest_first() {
        let review = || {
            stack_ev(
                "2026-11-23T07:30:58.117Z",
                "REVIEW_IN_PROGRESS",
                Some("User Initiated"),
            )
        };
        let started = || {
            stack_ev(
                "2026-11-23T07:31:20.312Z",
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            )
        };
        let queue = || {
            queue_ev(
                "2026-11-23T07:31:23.004Z",
                "CREATE_IN_PROGRESS",
                false,
                None,
            )
        };
        let newer = || {
            vec![
                repo_ev(
                    "2026-11-23T07:31:24.123Z",
                    "CREATE_IN_PROGRESS",
                    true,
                    Some("Resource creation Initiated"),
                ),
                queue_ev(
                    "2026-11-23T07:31:23.950Z",
                    "CREATE_IN_PROGRESS",
                    true,
                    Some("Resource creation Initiated"),
                ),
                repo_ev("2026-11-23T07:31:23.01Z", "CREATE_IN_PROGRESS", false, None),
            ]
        };
        let stack_only = |r: &aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsInput| {
            r.stack_name() == Some(STACK) && r.next_token().is_none()
        };
        let poll1 = mock!(Client::describe_stack_events)
            .match_requests(stack_only)
            .then_output(move || page(vec![queue(), started(), review()], None));
        // Older events follow on a next page, which the cursor must not ask for: the next rule
        // would not match a request with a token.
        let poll2 = mock!(Client::describe_stack_events)
            .match_requests(stack_only)
            .then_output(move || {
                let mut events = newer();
                events.extend([queue(), started(), review()]);
                page(events, Some(TOKEN_2))
            });
        let poll3 = mock!(Client::describe_stack_events)
            .match_requests(stack_only)
            .then_output(move || {
                let mut events = newer();
                events.extend([queue(), started()]);
                page(events, Some(TOKEN_2))
            });
        let ops = client(&[&poll1, &poll2, &poll3]);
        let mut cursor = EventCursor::new(Some("2026-11-23T07:31:20Z".into()));

        let first = cursor.poll(&ops, STACK).await.unwrap();
        let ids: Vec<&str> = first.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "73120312-c8a7-11f0-9e1b-0affd1e2c3b4",
                "Queue-CREATE_IN_PROGRESS-2026-11-23T07:31:23.004Z",
            ]
        );

        let second = cursor.poll(&ops, STACK).await.unwrap();
        let ids: Vec<&str> = second.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "Repo-CREATE_IN_PROGRESS-2026-11-23T07:31:23.01Z",
                "Queue-CREATE_IN_PROGRESS-2026-11-23T07:31:23.950Z",
                "Repo-CREATE_IN_PROGRESS-2026-11-23T07:31:24.123Z",
            ]
        );
        assert_eq!(
            second[2].physical_id.as_deref(),
            Some("little-registry/api")
        );

        assert!(cursor.poll(&ops, STACK).await.unwrap().is_empty());
        assert_eq!(
            (poll1.num_calls(), poll2.num_calls(), poll3.num_calls()),
            (1, 1, 1)
        );
    }

    /// An update of a stack with a history: without a read before the update, the cursor
    /// shows the update's events from its stack-level UPDATE_IN_PROGRESS on and reads no page
    /// past it. An earlier update's start (an hour ago) is not taken for this one's while
    /// this one's is not recorded yet: that poll is all history, and shows nothing.
    #[tokio::test]
    async fn a_cursor_from_the_start_event_shows_only_that_operation() {
        let now = crate::time::now();
        let ago = move |secs: u64| crate::time::rfc3339_utc(now - secs);
        let history = move || {
            vec![
                stack_ev(&ago(3590), "UPDATE_COMPLETE", None),
                stack_ev(&ago(3600), "UPDATE_IN_PROGRESS", Some("User Initiated")),
                stack_ev(&ago(86_400), "CREATE_COMPLETE", None),
            ]
        };
        let update = move || {
            vec![
                queue_ev(&ago(1), "UPDATE_IN_PROGRESS", true, None),
                stack_ev(&ago(2), "UPDATE_IN_PROGRESS", Some("User Initiated")),
            ]
        };
        // Poll 1: the update has not been recorded yet.
        let before =
            mock!(Client::describe_stack_events).then_output(move || page(history(), None));
        // Poll 2: the update's events, then a next page of history that must not be read.
        let during = mock!(Client::describe_stack_events).then_output(move || {
            let mut events = update();
            events.extend(history());
            page(events, Some(TOKEN_2))
        });
        // Poll 3: one more event of the update.
        let after = mock!(Client::describe_stack_events).then_output(move || {
            let mut events = vec![stack_ev(&ago(0), "UPDATE_COMPLETE", None)];
            events.extend(update());
            events.extend(history());
            page(events, Some(TOKEN_2))
        });
        let ops = client(&[&before, &during, &after]);
        let mut cursor = EventCursor::for_update();
        assert!(cursor.poll(&ops, STACK).await.unwrap().is_empty());
        let got: Vec<(String, String)> = cursor
            .poll(&ops, STACK)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.logical_id, e.status))
            .collect();
        let update_in_progress = "UPDATE_IN_PROGRESS".to_owned();
        assert_eq!(
            got,
            [
                (STACK.to_owned(), update_in_progress.clone()),
                ("Queue".to_owned(), update_in_progress)
            ]
        );
        let last = cursor.poll(&ops, STACK).await.unwrap();
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].status, "UPDATE_COMPLETE");
        assert_eq!(
            (before.num_calls(), during.num_calls(), after.num_calls()),
            (1, 1, 1)
        );
    }

    /// The events of a failed create, oldest first, as the cursor returns them.
    fn failed_create() -> Vec<SdkEvent> {
        vec![
            stack_ev(
                "2026-11-23T07:31:20.312Z",
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            queue_ev("2026-11-23T07:31:23.004Z", "CREATE_IN_PROGRESS", false, None),
            repo_ev("2026-11-23T07:31:23.01Z", "CREATE_IN_PROGRESS", false, None),
            queue_ev(
                "2026-11-23T07:31:23.95Z",
                "CREATE_IN_PROGRESS",
                true,
                Some("Resource creation Initiated"),
            ),
            repo_ev(
                "2026-11-23T07:31:24.123Z",
                "CREATE_FAILED",
                false,
                Some(REPO_FAILURE),
            ),
            queue_ev(
                "2026-11-23T07:31:24.48Z",
                "CREATE_FAILED",
                true,
                Some("Resource creation cancelled"),
            ),
            stack_ev(
                "2026-11-23T07:31:24.901Z",
                "ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to create: [Repo, Queue]. Rollback requested by user."),
            ),
            queue_ev("2026-11-23T07:31:25.3Z", "DELETE_IN_PROGRESS", true, None),
            repo_ev("2026-11-23T07:31:25.31Z", "DELETE_COMPLETE", false, None),
            queue_ev("2026-11-23T07:31:26.022Z", "DELETE_COMPLETE", true, None),
            stack_ev("2026-11-23T07:31:26.5Z", "ROLLBACK_COMPLETE", None),
        ]
    }

    #[tokio::test]
    async fn the_root_cause_of_a_failed_create_is_the_resource_that_failed_first() {
        let describe = mock!(Client::describe_stack_events).then_output(|| {
            let mut events = failed_create();
            events.reverse();
            page(events, None)
        });
        let ops = client(&[&describe]);
        let events = EventCursor::new(None).poll(&ops, STACK).await.unwrap();
        assert_eq!(events.len(), 11);

        let cause = root_cause(&events);
        assert_eq!(cause.len(), 1, "{cause:?}");
        assert_eq!(cause[0].id, "Repo-CREATE_FAILED-2026-11-23T07:31:24.123Z");
        assert_eq!(cause[0].logical_id, "Repo");
        assert_eq!(cause[0].resource_type, "AWS::ECR::Repository");
        assert_eq!(cause[0].status, "CREATE_FAILED");
        assert_eq!(cause[0].reason.as_deref(), Some(REPO_FAILURE));

        // In AWS's own order (newest first) too.
        let mut newest_first = events.clone();
        newest_first.reverse();
        assert_eq!(root_cause(&newest_first), cause);
        // Nothing failed: no cause.
        assert!(root_cause(&events[..4]).is_empty());
        // Only consequences: no cause either.
        let consequences: Vec<StackEvent> = events
            .iter()
            .filter(|e| e.logical_id != "Repo")
            .cloned()
            .collect();
        assert!(root_cause(&consequences).is_empty());
    }

    fn ev(ts: &str, logical: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
        let physical = (ty == STACK_TYPE).then_some(STACK_ID);
        stack_event(&sdk_event(ts, logical, ty, status, physical, reason))
    }

    #[test]
    fn root_causes_are_the_first_three_distinct_failures_in_time() {
        let lambda = "AWS::Lambda::Function";
        let events = vec![
            // Newest first, as AWS lists them.
            ev("2026-11-23T07:40:09Z", STACK, STACK_TYPE, "UPDATE_ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to update: [A, B, C, D, E, F].")),
            ev("2026-11-23T07:40:08.5Z", "F", lambda, "UPDATE_FAILED", Some("Resource handler returned message: \"Unzipped size must be smaller than 262144000 bytes\" (RequestToken: 0e20, HandlerErrorCode: InvalidRequest)")),
            ev("2026-11-23T07:40:08Z", "E", lambda, "UPDATE_FAILED", Some("Resource handler returned message: \"Memory size 20480 is out of range\" (RequestToken: 0e1f, HandlerErrorCode: InvalidRequest)")),
            ev("2026-11-23T07:40:07Z", "D", lambda, "UPDATE_FAILED", Some("Resource handler returned message: \"Runtime nodejs8.10 is deprecated\" (RequestToken: 0e1e, HandlerErrorCode: InvalidRequest)")),
            ev("2026-11-23T07:40:06Z", "C", lambda, "UPDATE_FAILED", Some("Resource update cancelled")),
            ev("2026-11-23T07:40:05Z", "B", lambda, "UPDATE_FAILED", Some("Resource handler returned message: \"The role defined for the function cannot be assumed by Lambda.\" (RequestToken: 0e1d, HandlerErrorCode: InvalidRequest)")),
            ev("2026-11-23T07:40:04Z", "B", lambda, "UPDATE_FAILED", Some("Resource handler returned message: \"The role defined for the function cannot be assumed by Lambda.\" (RequestToken: 0e1d, HandlerErrorCode: InvalidRequest)")),
            ev("2026-11-23T07:40:03.5Z", "A", lambda, "UPDATE_FAILED", Some("Resource handler returned message: \"null\" (RequestToken: 0e1c, HandlerErrorCode: InternalFailure)")),
            ev("2026-11-23T07:40:03Z", "A", lambda, "UPDATE_FAILED", None),
            ev("2026-11-23T07:40:02Z", "Hook", "Private::Guard::Hook", "HOOK_COMPLETE_FAILED", Some("Template failed validation (warning only)")),
            ev("2026-11-23T07:40:01Z", STACK, STACK_TYPE, "UPDATE_IN_PROGRESS", Some("User Initiated")),
        ];
        let cause: Vec<String> = root_cause(&events)
            .into_iter()
            .map(|e| e.logical_id)
            .collect();
        // B once (it failed twice the same way), not A (no message), C (cancelled) nor the
        // hook's warning; F is the fourth.
        assert_eq!(cause, ["B", "D", "E"]);

        // A failure of the stack itself: a timeout, which cancels the resources.
        let timeout = vec![
            ev("2026-11-23T08:31:20Z", STACK, STACK_TYPE, "CREATE_IN_PROGRESS", Some("User Initiated")),
            ev("2026-11-23T08:36:20Z", STACK, STACK_TYPE, "CREATE_FAILED", Some("Stack creation time exceeded the specified timeout.")),
            ev("2026-11-23T08:36:21Z", "Service", "AWS::ECS::Service", "CREATE_FAILED", Some("Resource creation cancelled")),
            ev("2026-11-23T08:36:22Z", STACK, STACK_TYPE, "ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to create: [Service]. Rollback requested by user.")),
        ];
        let cause = root_cause(&timeout);
        assert_eq!(cause.len(), 1, "{cause:?}");
        assert_eq!(
            cause[0].reason.as_deref(),
            Some("Stack creation time exceeded the specified timeout.")
        );
    }

    #[test]
    fn rollback_failures_are_the_resources_whose_last_rollback_failed() {
        let db = "AWS::RDS::DBInstance";
        let cache = "AWS::ElastiCache::CacheCluster";
        let lambda = "AWS::Lambda::Function";
        let mut events = vec![
            ev("2026-11-23T07:31:20.312Z", STACK, STACK_TYPE, "UPDATE_IN_PROGRESS", Some("User Initiated")),
            ev("2026-11-23T07:31:22Z", "Fn", lambda, "UPDATE_IN_PROGRESS", None),
            ev("2026-11-23T07:31:24.123Z", "Fn", lambda, "UPDATE_FAILED", Some("Resource handler returned message: \"Rate exceeded\" (RequestToken: 1a2b, HandlerErrorCode: Throttling)")),
            ev("2026-11-23T07:31:25Z", STACK, STACK_TYPE, "UPDATE_ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to update: [Fn].")),
            ev("2026-11-23T07:31:27Z", "Fn", lambda, "UPDATE_COMPLETE", None),
            ev("2026-11-23T07:33:02Z", "Db", db, "UPDATE_FAILED", Some("Resource handler returned message: \"Instance little-db is not in available state.\" (RequestToken: 3c4d, HandlerErrorCode: NotStabilized)")),
            ev("2026-11-23T07:33:05Z", "Cache", cache, "UPDATE_FAILED", Some("Resource handler returned message: \"Cache cluster little-cache is not available\" (RequestToken: 5e6f, HandlerErrorCode: NotStabilized)")),
            ev("2026-11-23T07:33:06Z", "Db", db, "UPDATE_FAILED", Some("Resource handler returned message: \"Instance little-db is not in available state.\" (RequestToken: 3c4e, HandlerErrorCode: NotStabilized)")),
            ev("2026-11-23T07:33:07Z", STACK, STACK_TYPE, "UPDATE_ROLLBACK_FAILED", Some("The following resource(s) failed to update: [Cache, Db].")),
        ];
        assert_eq!(rollback_failures(&events), ["Db", "Cache"]);
        // In AWS's order too.
        let mut newest_first = events.clone();
        newest_first.reverse();
        assert_eq!(rollback_failures(&newest_first), ["Db", "Cache"]);
        // The root cause is the update's failure, not the rollback's.
        assert_eq!(root_cause(&events)[0].logical_id, "Fn");

        // ContinueUpdateRollback: a second rollback, in which only the database fails again.
        events.extend([
            ev("2026-11-23T07:50:00Z", STACK, STACK_TYPE, "UPDATE_ROLLBACK_IN_PROGRESS", None),
            ev("2026-11-23T07:50:30Z", "Cache", cache, "UPDATE_COMPLETE", None),
            ev("2026-11-23T07:51:02Z", "Db", db, "UPDATE_FAILED", Some("Resource handler returned message: \"Instance little-db is not in available state.\" (RequestToken: 7a8b, HandlerErrorCode: NotStabilized)")),
            ev("2026-11-23T07:51:03Z", STACK, STACK_TYPE, "UPDATE_ROLLBACK_FAILED", Some("The following resource(s) failed to update: [Db].")),
        ]);
        assert_eq!(rollback_failures(&events), ["Db"]);

        // No rollback started: nothing to skip.
        assert!(rollback_failures(&events[..3]).is_empty());
    }

    #[tokio::test]
    async fn resources_come_from_every_page() {
        let summary = |logical: &str, physical: &str, ty: &str, drift: StackResourceDriftStatus| {
            StackResourceSummary::builder()
                .logical_resource_id(logical)
                .physical_resource_id(physical)
                .resource_type(ty)
                .resource_status(ResourceStatus::CreateComplete)
                .last_updated_timestamp(at("2026-11-23T07:31:41.2Z"))
                .drift_information(
                    StackResourceDriftInformationSummary::builder()
                        .stack_resource_drift_status(drift)
                        .build(),
                )
                .build()
        };
        let first = mock!(Client::list_stack_resources)
            .match_requests(|r| r.stack_name() == Some(STACK) && r.next_token().is_none())
            .then_output(move || {
                ListStackResourcesOutput::builder()
                    .stack_resource_summaries(summary(
                        "Repo",
                        "little-registry/api",
                        "AWS::ECR::Repository",
                        StackResourceDriftStatus::InSync,
                    ))
                    .stack_resource_summaries(summary(
                        "Topic",
                        "arn:aws:sns:us-east-1:123456789012:little-registry-Topic-1B2C3D4E5F6G",
                        "AWS::SNS::Topic",
                        StackResourceDriftStatus::NotChecked,
                    ))
                    .next_token(TOKEN_2)
                    .build()
            });
        let second = mock!(Client::list_stack_resources)
            .match_requests(|r| r.stack_name() == Some(STACK) && r.next_token() == Some(TOKEN_2))
            .then_output(move || {
                ListStackResourcesOutput::builder()
                    .stack_resource_summaries(summary(
                        "Queue",
                        QUEUE_URL,
                        "AWS::SQS::Queue",
                        StackResourceDriftStatus::Modified,
                    ))
                    .build()
            });
        let ops = client(&[&first, &second]);
        let resources = ops.resources(STACK).await.unwrap();
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
        let ids: Vec<&str> = resources.iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(ids, ["Repo", "Topic", "Queue"]);
        assert_eq!(
            resources[2],
            StackResource {
                logical_id: "Queue".into(),
                physical_id: Some(QUEUE_URL.into()),
                resource_type: "AWS::SQS::Queue".into(),
                status: "CREATE_COMPLETE".into(),
                drift_status: Some("MODIFIED".into()),
            }
        );
        assert_eq!(resources[0].drift_status.as_deref(), Some("IN_SYNC"));
    }

    /// AWS's answer to a throttled Query API call: HTTP 400 with code `Throttling`.
    const THROTTLING: &str = r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>3c5f2b1e-0000-4000-8000-000000000000</RequestId></ErrorResponse>"#;

    #[tokio::test]
    async fn a_throttled_call_is_an_aws_error_when_retries_are_off() {
        let throttled = mock!(Client::describe_stack_events)
            .sequence()
            .http_status(400, Some(THROTTLING.to_owned()))
            .build();
        let ops = client(&[&throttled]);
        match ops.events_page(STACK, None).await {
            Err(Error::Aws { operation, message }) => {
                assert_eq!(operation, "cloudformation:DescribeStackEvents");
                assert_eq!(message, "Throttling: Rate exceeded");
            }
            other => panic!("expected Error::Aws, got {other:?}"),
        }
        assert_eq!(throttled.num_calls(), 1);
    }

    /// A poll that fails part-way marks nothing seen: the next one returns the same events.
    #[tokio::test]
    async fn a_failed_poll_loses_no_event() {
        let [first, second, third] = created_rules();
        let first_again = mock!(Client::describe_stack_events)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| created_page(1));
        let throttled = mock!(Client::describe_stack_events)
            .match_requests(|r| r.next_token() == Some(TOKEN_2))
            .sequence()
            .http_status(400, Some(THROTTLING.to_owned()))
            .build();
        let ops = client(&[&first_again, &throttled, &first, &second, &third]);
        let mut cursor = EventCursor::new(None);
        let err = cursor.poll(&ops, STACK).await.unwrap_err();
        assert!(err.to_string().contains("Rate exceeded"), "{err}");
        assert_eq!(cursor.poll(&ops, STACK).await.unwrap().len(), 5);
    }

    #[tokio::test]
    async fn an_unimplemented_call_is_an_aws_error() {
        // The emulator's answer to a call it does not implement.
        let html = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request.</p>\n";
        let rule = mock!(Client::update_termination_protection)
            .sequence()
            .http_status(500, Some(html.to_owned()))
            .build();
        let ops = client(&[&rule]);
        match ops.set_termination_protection(STACK, true).await {
            Err(Error::Aws { operation, message }) => {
                assert_eq!(operation, "cloudformation:UpdateTerminationProtection");
                assert!(message.contains("500"), "{message}");
            }
            other => panic!("expected Error::Aws, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_controls_send_their_parameters() {
        let protect = mock!(Client::update_termination_protection)
            .match_requests(|r| {
                r.stack_name() == Some(STACK) && r.enable_termination_protection() == Some(true)
            })
            .then_output(|| {
                UpdateTerminationProtectionOutput::builder()
                    .stack_id(STACK_ID)
                    .build()
            });
        let policy_body = r#"{"Statement":[{"Effect":"Deny","Action":"Update:Replace","Principal":"*","Resource":"LogicalResourceId/Repo"},{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}]}"#;
        let policy = mock!(Client::set_stack_policy)
            .match_requests(move |r| {
                r.stack_name() == Some(STACK) && r.stack_policy_body() == Some(policy_body)
            })
            .then_output(|| SetStackPolicyOutput::builder().build());
        let skip = mock!(Client::continue_update_rollback)
            .match_requests(|r| {
                r.stack_name() == Some(STACK) && r.resources_to_skip() == ["Db", "Cache"]
            })
            .then_output(|| ContinueUpdateRollbackOutput::builder().build());
        let no_skip = mock!(Client::continue_update_rollback)
            .match_requests(|r| r.stack_name() == Some(STACK_ID) && r.resources_to_skip.is_none())
            .then_output(|| ContinueUpdateRollbackOutput::builder().build());
        let cancel = mock!(Client::cancel_update_stack)
            .match_requests(|r| r.stack_name() == Some(STACK))
            .then_output(|| CancelUpdateStackOutput::builder().build());
        let ops = client(&[&protect, &policy, &skip, &no_skip, &cancel]);

        ops.set_termination_protection(STACK, true).await.unwrap();
        ops.set_stack_policy(STACK, policy_body).await.unwrap();
        ops.continue_update_rollback(STACK, &["Db".into(), "Cache".into()])
            .await
            .unwrap();
        ops.continue_update_rollback(STACK_ID, &[]).await.unwrap();
        ops.cancel_update(STACK).await.unwrap();
        let calls = [&protect, &policy, &skip, &no_skip, &cancel].map(|r| r.num_calls());
        assert_eq!(calls, [1; 5]);
    }

    #[test]
    fn instants_order_with_and_without_fractions_and_offsets() {
        assert!(instant("2026-11-23T07:31:24Z") < instant("2026-11-23T07:31:24.5Z"));
        assert!(instant("2026-11-23T07:31:25Z") > instant("2026-11-23T07:31:24.999Z"));
        assert_eq!(
            instant("2026-11-23T08:31:24+01:00"),
            instant("2026-11-23T07:31:24Z")
        );
        assert_eq!(instant("yesterday"), None);
        // A `since` that is not a time filters nothing.
        assert_eq!(EventCursor::new(Some("yesterday".into())).since, None);
    }

    #[test]
    fn a_hook_event_carries_the_hook_status() {
        let hook = SdkEvent::builder()
            .stack_id(STACK_ID)
            .event_id("Repo-a3f2c1d0-hook")
            .stack_name(STACK)
            .logical_resource_id("Repo")
            .resource_type("AWS::ECR::Repository")
            .timestamp(at("2026-11-23T07:31:23.5Z"))
            .hook_type("Private::Guard::Hook")
            .hook_status(aws_sdk_cloudformation::types::HookStatus::HookCompleteFailed)
            .hook_status_reason("Template failed validation")
            .build();
        let e = stack_event(&hook);
        assert_eq!(e.status, "HOOK_COMPLETE_FAILED");
        assert_eq!(e.reason.as_deref(), Some("Template failed validation"));
        // A hook's failure is no root cause: the resource it fails says so.
        assert!(root_cause(&[e]).is_empty());
    }

    #[tokio::test]
    async fn stack_names_come_over_pages_without_deleted_stacks() {
        use aws_sdk_cloudformation::operation::list_stacks::ListStacksOutput;
        use aws_sdk_cloudformation::types::{StackStatus as SdkStatus, StackSummary};
        let summary = |name: &str, status: SdkStatus| {
            StackSummary::builder()
                .stack_name(name)
                .stack_status(status)
                .creation_time(aws_smithy_types::DateTime::from_secs(0))
                .build()
        };
        let first = mock!(Client::list_stacks)
            .match_requests(|r| r.next_token().is_none())
            .then_output(move || {
                ListStacksOutput::builder()
                    .stack_summaries(summary("app", SdkStatus::CreateComplete))
                    .stack_summaries(summary("old", SdkStatus::DeleteComplete))
                    .next_token("t2")
                    .build()
            });
        let second = mock!(Client::list_stacks)
            .match_requests(|r| r.next_token() == Some("t2"))
            .then_output(move || {
                ListStacksOutput::builder()
                    .stack_summaries(summary("repos", SdkStatus::ImportComplete))
                    .build()
            });
        let client = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::MatchAny,
            [&first, &second]
        );
        let ops = StackOpsClient::from_client(client);
        assert_eq!(ops.stack_names().await.unwrap(), vec!["app", "repos"]);
    }
}
