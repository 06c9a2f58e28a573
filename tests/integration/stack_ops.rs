//! The stack operations adapter against the local emulator, through the library: a stack's
//! events (and the cursor that returns each once), its resources, its stack policy, and the
//! controls the emulator does not implement, which must come back as errors.
//!
//! moto writes only two stack-level events per operation (no per-resource events) and answers
//! UpdateTerminationProtection, ContinueUpdateRollback and CancelUpdateStack with a 500 and an
//! HTML page; the unit tests in `src/aws/stack_ops.rs` cover AWS's shapes with SDK mocks.

use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use little_stack::aws::changeset::{
    wait_for_change_set, ChangeSetClient, ChangeSetRequest, ChangeSets,
};
use little_stack::aws::cloudformation::{wait_for_stack, CfnClient, CloudFormation, StackRequest};
use little_stack::aws::stack_ops::{EventCursor, StackEvent, StackOps, StackOpsClient};
use little_stack::error::Error;
use little_stack::poll::Poll;
use tokio::runtime::Runtime;

use crate::cfn::{emulator_config, FAST};
use crate::harness::Emulator;

const STACK: &str = "little-ops";

const QUEUE_TEMPLATE: &str = r#"{
  "Parameters": {"Suffix": {"Type": "String"}},
  "Resources": {
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "little-ops-${Suffix}"}}}
  }
}"#;

/// The same queue, and an output: a change for the update.
const QUEUE_TEMPLATE_WITH_OUTPUT: &str = r#"{
  "Parameters": {"Suffix": {"Type": "String"}},
  "Resources": {
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "little-ops-${Suffix}"}}}
  },
  "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}}
}"#;

fn params(suffix: &str) -> Vec<(String, String)> {
    vec![("Suffix".into(), suffix.into())]
}

/// Creates the one-queue stack and waits for it.
fn create_queue_stack(rt: &Runtime, cfn: &CfnClient) -> String {
    let req = StackRequest {
        stack_name: STACK.into(),
        template_body: QUEUE_TEMPLATE.into(),
        parameters: params("orders"),
        ..StackRequest::default()
    };
    let id = rt.block_on(cfn.create_stack(&req)).unwrap();
    let info = rt
        .block_on(wait_for_stack(cfn, STACK, FAST))
        .unwrap()
        .expect("the stack exists");
    assert_eq!(info.status, "CREATE_COMPLETE");
    id
}

fn statuses(events: &[StackEvent]) -> Vec<&str> {
    events.iter().map(|e| e.status.as_str()).collect()
}

fn now_rfc3339() -> String {
    DateTime::from(SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap()
}

#[test]
fn events_come_once_each_and_resources_list_the_queue() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let cfn = CfnClient::new(&config);
    let ops = StackOpsClient::new(&config);
    let stack_id = create_queue_stack(&rt, &cfn);

    // One page, newest first; moto writes the stack's own events only.
    let (page, next) = rt.block_on(ops.events_page(STACK, None)).unwrap();
    assert_eq!(next, None);
    assert_eq!(statuses(&page), ["CREATE_COMPLETE", "CREATE_IN_PROGRESS"]);
    for e in &page {
        assert_eq!(e.logical_id, STACK);
        assert_eq!(e.resource_type, "AWS::CloudFormation::Stack");
        assert_eq!(e.physical_id.as_deref(), Some(stack_id.as_str()));
        assert!(!e.id.is_empty());
        assert!(
            DateTime::from_str(&e.timestamp, Format::DateTime).is_ok(),
            "not RFC 3339 UTC: {}",
            e.timestamp
        );
    }
    assert_ne!(page[0].id, page[1].id);

    // The cursor returns them oldest first, then nothing until something happens.
    let mut cursor = EventCursor::new(None);
    let first = rt.block_on(cursor.poll(&ops, STACK)).unwrap();
    assert_eq!(statuses(&first), ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]);
    assert_eq!(first[0].reason.as_deref(), Some("User Initiated"));
    assert!(rt.block_on(cursor.poll(&ops, STACK)).unwrap().is_empty());

    // An update through a change set: only its two events are new.
    std::thread::sleep(Duration::from_millis(20));
    let since = now_rfc3339();
    std::thread::sleep(Duration::from_millis(20));
    let change_sets = ChangeSetClient::new(&config);
    let req = ChangeSetRequest {
        stack_name: STACK.into(),
        change_set_name: "little-ops-update".into(),
        template_body: Some(QUEUE_TEMPLATE_WITH_OUTPUT.into()),
        parameters: params("orders"),
        ..ChangeSetRequest::default()
    };
    let id = rt
        .block_on(change_sets.create_change_set(&req))
        .unwrap()
        .expect("a change set");
    let poll = Poll {
        first: Duration::ZERO,
        max: Duration::ZERO,
        timeout: Duration::from_secs(30),
    };
    rt.block_on(wait_for_change_set(&change_sets, STACK, &id.name, poll))
        .unwrap();
    rt.block_on(change_sets.execute_change_set(STACK, &id.name))
        .unwrap();
    rt.block_on(wait_for_stack(&cfn, STACK, FAST)).unwrap();

    let update = rt.block_on(cursor.poll(&ops, STACK)).unwrap();
    assert_eq!(statuses(&update), ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]);
    assert!(rt.block_on(cursor.poll(&ops, STACK)).unwrap().is_empty());

    // A cursor from a moment before the update sees the update's events only.
    let mut fresh = EventCursor::new(Some(since));
    let only_update = rt.block_on(fresh.poll(&ops, STACK)).unwrap();
    assert_eq!(only_update, update);

    // The stack's one resource: the queue, by its URL.
    let resources = rt.block_on(ops.resources(STACK)).unwrap();
    assert_eq!(resources.len(), 1, "{resources:?}");
    let queue = &resources[0];
    assert_eq!(queue.logical_id, "Queue");
    assert_eq!(queue.resource_type, "AWS::SQS::Queue");
    assert!(queue.status.ends_with("_COMPLETE"), "{}", queue.status);
    assert!(
        queue
            .physical_id
            .as_deref()
            .is_some_and(|p| p.ends_with("/123456789012/little-ops-orders")),
        "{queue:?}"
    );
}

#[test]
fn the_stack_policy_is_set() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let cfn = CfnClient::new(&config);
    let ops = StackOpsClient::new(&config);
    create_queue_stack(&rt, &cfn);

    let policy = r#"{"Statement":[{"Effect":"Deny","Action":"Update:Replace","Principal":"*","Resource":"LogicalResourceId/Queue"},{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}]}"#;
    rt.block_on(ops.set_stack_policy(STACK, policy)).unwrap();
    match rt.block_on(ops.set_stack_policy("nothing-here", policy)) {
        Err(Error::Aws { operation, message }) => {
            assert_eq!(operation, "cloudformation:SetStackPolicy");
            assert!(message.contains("does not exist"), "{message}");
        }
        other => panic!("expected Error::Aws, got {other:?}"),
    }
}

#[test]
fn calls_the_emulator_lacks_are_errors() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let cfn = CfnClient::new(&config);
    let ops = StackOpsClient::new(&config);
    create_queue_stack(&rt, &cfn);

    // UpdateTerminationProtection is implemented by the project's launcher, as AWS has it.
    rt.block_on(ops.set_termination_protection(STACK, true))
        .unwrap();
    assert!(
        rt.block_on(cfn.describe_stack(STACK))
            .unwrap()
            .unwrap()
            .termination_protection
    );
    rt.block_on(ops.set_termination_protection(STACK, false))
        .unwrap();
    // So do the rollback controls (and on AWS they would refuse a stack at rest).
    let skip = ["Queue".to_owned()];
    match rt.block_on(ops.continue_update_rollback(STACK, &skip)) {
        Err(Error::Aws { operation, .. }) => {
            assert_eq!(operation, "cloudformation:ContinueUpdateRollback")
        }
        other => panic!("expected Error::Aws, got {other:?}"),
    }
    match rt.block_on(ops.cancel_update(STACK)) {
        Err(Error::Aws { operation, .. }) => {
            assert_eq!(operation, "cloudformation:CancelUpdateStack")
        }
        other => panic!("expected Error::Aws, got {other:?}"),
    }

    // The events of a stack that does not exist: an error too.
    let err = rt
        .block_on(EventCursor::new(None).poll(&ops, "nothing-here"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Aws { operation, .. } if operation == "cloudformation:DescribeStackEvents"),
        "{err}"
    );
}
