//! Stack operations beyond create and delete: events (with a cursor that yields each new event
//! once, in order), resources, termination protection, stack policy, and the rollback controls;
//! plus the analysis of a failed operation's events (root cause, resources to skip).
//!
//! No SDK type leaves this file; AWS's English texts are matched only here.

use std::collections::HashSet;

use async_trait::async_trait;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::{Deserialize, Serialize};

use super::sdk_error;
use crate::error::Result;

/// One stack event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackEvent {
    pub id: String,
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// One resource of a deployed stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
    pub drift_status: Option<String>,
}

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
    async fn set_termination_protection(&self, stack: &str, enabled: bool) -> Result<()>;
    async fn set_stack_policy(&self, stack: &str, policy_body: &str) -> Result<()>;
    async fn continue_update_rollback(
        &self,
        stack: &str,
        resources_to_skip: &[String],
    ) -> Result<()>;
    async fn cancel_update(&self, stack: &str) -> Result<()>;
}

/// [`StackOps`] through the SDK's CloudFormation client.
pub struct StackOpsClient {
    client: aws_sdk_cloudformation::Client,
}

impl StackOpsClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        StackOpsClient {
            client: aws_sdk_cloudformation::Client::new(config),
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
        let events = out
            .stack_events()
            .iter()
            .map(|e| StackEvent {
                id: e.event_id().unwrap_or_default().to_owned(),
                timestamp: rfc3339(e.timestamp()),
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: e
                    .physical_resource_id()
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: e
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                reason: e
                    .resource_status_reason()
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
            })
            .collect();
        Ok((events, out.next_token().map(str::to_owned)))
    }

    async fn resources(&self, stack: &str) -> Result<Vec<StackResource>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("cloudformation:ListStackResources", e))?;
            for r in page.stack_resource_summaries() {
                out.push(StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                    physical_id: r
                        .physical_resource_id()
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned),
                    resource_type: r.resource_type().unwrap_or_default().to_owned(),
                    status: r
                        .resource_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    drift_status: r
                        .drift_information()
                        .and_then(|d| d.stack_resource_drift_status())
                        .map(|s| s.as_str().to_owned()),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() && token.as_deref() != Some(t) => {
                    token = Some(t.to_owned())
                }
                _ => return Ok(out),
            }
        }
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

/// A timestamp as (seconds, nanoseconds), for ordering; RFC 3339 texts with and without
/// fractions do not sort as strings.
fn instant(ts: &str) -> (i64, u32) {
    DateTime::from_str(ts, Format::DateTime)
        .map(|d| (d.secs(), d.subsec_nanos()))
        .unwrap_or((i64::MIN, 0))
}

/// Tracks which events of a stack were already seen, to show each new one once, in order.
pub struct EventCursor {
    seen: HashSet<String>,
    since: Option<(i64, u32)>,
}

impl EventCursor {
    /// Events at or after `since` (RFC 3339) only; all events when None.
    pub fn new(since: Option<String>) -> Self {
        EventCursor {
            seen: HashSet::new(),
            since: since.as_deref().map(instant),
        }
    }

    /// Reads pages newest first until it meets an event already seen or older than `since`
    /// (or the last page), and returns the new events oldest first, marking them seen.
    pub async fn poll(&mut self, ops: &dyn StackOps, stack: &str) -> Result<Vec<StackEvent>> {
        let mut fresh = Vec::new();
        let mut token = None;
        'pages: loop {
            let (page, next) = ops.events_page(stack, token).await?;
            for e in page {
                let too_old = self.since.is_some_and(|s| instant(&e.timestamp) < s);
                if too_old || self.seen.contains(&e.id) {
                    break 'pages;
                }
                fresh.push(e);
            }
            match next {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        for e in &fresh {
            self.seen.insert(e.id.clone());
        }
        fresh.reverse();
        Ok(fresh)
    }
}

/// Reasons that only follow from another failure.
const CONSEQUENCES: &[&str] = &[
    "Resource creation cancelled",
    "Resource update cancelled",
    "Resource deletion cancelled",
    "The following resource(s) failed to",
    "Resource handler returned message: \"null\"",
    "Resource handler returned message: null",
];

/// The root cause of a failed operation: the earliest `*_FAILED` events (by time) with a
/// reason that is not a consequence of another failure; at most three distinct causes.
pub fn root_cause(events: &[StackEvent]) -> Vec<StackEvent> {
    let mut failed: Vec<&StackEvent> = events
        .iter()
        .filter(|e| e.status.ends_with("_FAILED"))
        .filter(|e| {
            e.reason
                .as_deref()
                .is_some_and(|r| !CONSEQUENCES.iter().any(|c| r.starts_with(c)))
        })
        .collect();
    failed.sort_by_key(|e| instant(&e.timestamp));
    // Resource failures first: a stack-level failure usually only summarises them.
    let (resources, stacks): (Vec<&StackEvent>, Vec<&StackEvent>) = failed
        .into_iter()
        .partition(|e| e.resource_type != "AWS::CloudFormation::Stack");
    let mut out: Vec<StackEvent> = Vec::new();
    for e in resources.into_iter().chain(stacks) {
        let duplicate = out
            .iter()
            .any(|o| o.logical_id == e.logical_id && o.reason == e.reason);
        if !duplicate && out.len() < 3 {
            out.push(e.clone());
        }
    }
    out
}

/// For UPDATE_ROLLBACK_FAILED: the resources whose rollback failed (UPDATE_FAILED after the
/// latest stack-level UPDATE_ROLLBACK_IN_PROGRESS), to pass as resources to skip.
pub fn rollback_failures(events: &[StackEvent]) -> Vec<String> {
    let mut sorted: Vec<&StackEvent> = events.iter().collect();
    sorted.sort_by_key(|e| instant(&e.timestamp));
    let start = sorted
        .iter()
        .rposition(|e| {
            e.resource_type == "AWS::CloudFormation::Stack"
                && e.status == "UPDATE_ROLLBACK_IN_PROGRESS"
        })
        .map(|i| i + 1)
        .unwrap_or(sorted.len());
    let mut out: Vec<String> = Vec::new();
    for e in &sorted[start..] {
        if e.status == "UPDATE_FAILED"
            && e.resource_type != "AWS::CloudFormation::Stack"
            && !out.contains(&e.logical_id)
        {
            out.push(e.logical_id.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
    use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
    use aws_sdk_cloudformation::types::{
        ResourceStatus, StackEvent as SdkEvent, StackResourceSummary,
    };
    use aws_sdk_cloudformation::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/6c1b1e30-a1b2-11ef-8000-0a1b2c3d4e5f";

    fn ev(secs: u32, logical: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
        let ts = format!("2026-11-23T07:31:{secs:02}.123Z");
        StackEvent {
            id: format!("{logical}-{status}-{ts}"),
            timestamp: ts,
            logical_id: logical.into(),
            physical_id: None,
            resource_type: ty.into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
        }
    }

    fn sdk_event(secs: i64, logical: &str, status: ResourceStatus) -> SdkEvent {
        SdkEvent::builder()
            .stack_id(STACK_ID)
            .stack_name("app")
            .event_id(format!("{logical}-{}-{secs}", status.as_str()))
            .timestamp(DateTime::from_secs(1_795_400_000 + secs))
            .logical_resource_id(logical)
            .physical_resource_id(format!("phys-{logical}"))
            .resource_type("AWS::SQS::Queue")
            .resource_status(status)
            .build()
    }

    #[tokio::test]
    async fn events_come_in_pages_with_their_tokens() {
        let first = mock!(Client::describe_stack_events)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                DescribeStackEventsOutput::builder()
                    .stack_events(sdk_event(3, "Q", ResourceStatus::CreateComplete))
                    .next_token("t1")
                    .build()
            });
        let second = mock!(Client::describe_stack_events)
            .match_requests(|r| r.next_token() == Some("t1"))
            .then_output(|| {
                DescribeStackEventsOutput::builder()
                    .stack_events(sdk_event(2, "Q", ResourceStatus::CreateInProgress))
                    .next_token("t2")
                    .build()
            });
        let third = mock!(Client::describe_stack_events)
            .match_requests(|r| r.next_token() == Some("t2"))
            .then_output(|| {
                DescribeStackEventsOutput::builder()
                    .stack_events(sdk_event(1, "app", ResourceStatus::CreateInProgress))
                    .build()
            });
        let client = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::Sequential,
            [&first, &second, &third]
        );
        let ops = StackOpsClient::from_client(client);
        let mut cursor = EventCursor::new(None);
        let events = cursor.poll(&ops, "app").await.unwrap();
        let seen: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e.logical_id.as_str(), e.status.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("app", "CREATE_IN_PROGRESS"),
                ("Q", "CREATE_IN_PROGRESS"),
                ("Q", "CREATE_COMPLETE")
            ]
        );
        assert_eq!(events[2].physical_id.as_deref(), Some("phys-Q"));
        assert!(
            events[0].timestamp.starts_with("2026-11-"),
            "{}",
            events[0].timestamp
        );
        assert_eq!(third.num_calls(), 1);
    }

    #[tokio::test]
    async fn resources_come_in_pages() {
        let first = mock!(Client::list_stack_resources)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                ListStackResourcesOutput::builder()
                    .stack_resource_summaries(
                        StackResourceSummary::builder()
                            .logical_resource_id("Repo")
                            .physical_resource_id("team/api")
                            .resource_type("AWS::ECR::Repository")
                            .resource_status(ResourceStatus::CreateComplete)
                            .last_updated_timestamp(DateTime::from_secs(1))
                            .build(),
                    )
                    .next_token("n")
                    .build()
            });
        let second = mock!(Client::list_stack_resources)
            .match_requests(|r| r.next_token() == Some("n"))
            .then_output(|| {
                ListStackResourcesOutput::builder()
                    .stack_resource_summaries(
                        StackResourceSummary::builder()
                            .logical_resource_id("Queue")
                            .resource_type("AWS::SQS::Queue")
                            .resource_status(ResourceStatus::CreateComplete)
                            .last_updated_timestamp(DateTime::from_secs(1))
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::Sequential,
            [&first, &second]
        );
        let ops = StackOpsClient::from_client(client);
        let rs = ops.resources("app").await.unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].physical_id.as_deref(), Some("team/api"));
        assert_eq!(rs[1].logical_id, "Queue");
    }

    /// Events that grow between polls, newest first, like DescribeStackEvents.
    struct Growing {
        polls: Mutex<Vec<Vec<StackEvent>>>,
    }

    #[async_trait]
    impl StackOps for Growing {
        async fn events_page(
            &self,
            _stack: &str,
            _next: Option<String>,
        ) -> Result<(Vec<StackEvent>, Option<String>)> {
            let mut polls = self.polls.lock().unwrap();
            let page = if polls.len() > 1 {
                polls.remove(0)
            } else {
                polls[0].clone()
            };
            Ok((page, None))
        }
        async fn resources(&self, _s: &str) -> Result<Vec<StackResource>> {
            Ok(Vec::new())
        }
        async fn set_termination_protection(&self, _s: &str, _e: bool) -> Result<()> {
            Ok(())
        }
        async fn set_stack_policy(&self, _s: &str, _p: &str) -> Result<()> {
            Ok(())
        }
        async fn continue_update_rollback(&self, _s: &str, _r: &[String]) -> Result<()> {
            Ok(())
        }
        async fn cancel_update(&self, _s: &str) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_cursor_yields_each_new_event_once_oldest_first() {
        let old = ev(
            1,
            "app",
            "AWS::CloudFormation::Stack",
            "CREATE_COMPLETE",
            None,
        );
        let a = ev(
            10,
            "app",
            "AWS::CloudFormation::Stack",
            "UPDATE_IN_PROGRESS",
            Some("User Initiated"),
        );
        let b = ev(11, "Q", "AWS::SQS::Queue", "UPDATE_IN_PROGRESS", None);
        let c = ev(12, "Q", "AWS::SQS::Queue", "UPDATE_COMPLETE", None);
        let d = ev(
            13,
            "app",
            "AWS::CloudFormation::Stack",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            None,
        );
        let e = ev(
            14,
            "app",
            "AWS::CloudFormation::Stack",
            "UPDATE_COMPLETE",
            None,
        );
        let ops = Growing {
            polls: Mutex::new(vec![
                vec![b.clone(), a.clone(), old.clone()],
                vec![
                    e.clone(),
                    d.clone(),
                    c.clone(),
                    b.clone(),
                    a.clone(),
                    old.clone(),
                ],
            ]),
        };
        let mut cursor = EventCursor::new(Some("2026-11-23T07:31:05Z".into()));
        let first = cursor.poll(&ops, "app").await.unwrap();
        assert_eq!(first, [a, b]);
        let second = cursor.poll(&ops, "app").await.unwrap();
        assert_eq!(second, [c, d, e]);
        assert!(cursor.poll(&ops, "app").await.unwrap().is_empty());
    }

    #[test]
    fn the_root_cause_of_a_failed_create() {
        let events = vec![
            ev(1, "app", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", Some("User Initiated")),
            ev(2, "Queue", "AWS::SQS::Queue", "CREATE_IN_PROGRESS", None),
            ev(2, "Repo", "AWS::ECR::Repository", "CREATE_IN_PROGRESS", None),
            ev(3, "Repo", "AWS::ECR::Repository", "CREATE_FAILED", Some("Resource handler returned message: \"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure'\" (RequestToken: 5f1c0d7e-0000-4000-8000-000000000000, HandlerErrorCode: InvalidRequest)")),
            ev(4, "Queue", "AWS::SQS::Queue", "CREATE_FAILED", Some("Resource creation cancelled")),
            ev(5, "app", "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to create: [Repo, Queue]. Rollback requested by user.")),
            ev(6, "app", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", None),
        ];
        let cause = root_cause(&events);
        assert_eq!(cause.len(), 1, "{cause:?}");
        assert_eq!(cause[0].logical_id, "Repo");
    }

    #[test]
    fn rollback_failures_are_the_resources_that_failed_to_roll_back() {
        let events = vec![
            ev(
                1,
                "app",
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            ev(
                2,
                "Fn",
                "AWS::Lambda::Function",
                "UPDATE_FAILED",
                Some("Resource handler returned message: \"Rate exceeded\""),
            ),
            ev(
                3,
                "app",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to update: [Fn]."),
            ),
            ev(
                4,
                "Db",
                "AWS::RDS::DBInstance",
                "UPDATE_FAILED",
                Some("Resource handler returned message: \"instance is not in available state\""),
            ),
            ev(
                5,
                "app",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_FAILED",
                Some("The following resource(s) failed to update: [Db]."),
            ),
        ];
        assert_eq!(rollback_failures(&events), ["Db"]);
        // The root cause is the first failure, not the rollback's.
        assert_eq!(root_cause(&events)[0].logical_id, "Fn");
    }

    #[test]
    fn instants_order_with_and_without_fractions() {
        assert!(instant("2026-11-23T07:31:24Z") < instant("2026-11-23T07:31:24.5Z"));
        assert!(instant("2026-11-23T07:31:25Z") > instant("2026-11-23T07:31:24.999Z"));
    }
}
