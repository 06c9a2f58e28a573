//! The AWS calls each stack costs, counted by `little -v`: applying a new stack, planning a
//! changed one and planning an unchanged one. At AWS latency the calls a command makes decide
//! the wait; these budgets make a regression show.

use crate::harness::{Emulator, TestProject};

const QUEUE: &str = r#"{
  "Resources": {
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "{{ stack.name }}", "DelaySeconds": {{ vars.delay }}}}
  }
}
"#;

const STACKS: u64 = 3;

/// The `-v` table: operation to first attempts.
fn table(stderr: &str) -> Vec<(String, u64)> {
    assert!(
        stderr.contains("AWS API calls:"),
        "no call table:\n{stderr}"
    );
    stderr
        .lines()
        .skip_while(|l| !l.starts_with("AWS API calls:"))
        .skip(1)
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let op = words.next()?;
            let n = words.next()?.parse().ok()?;
            (op != "total" && op.contains(':')).then(|| (op.to_owned(), n))
        })
        .collect()
}

/// The CloudFormation calls per stack (the counts divided by the stacks), operation by
/// operation, and their total per stack; STS calls (the caller's identity, once a run) apart.
fn per_stack(stderr: &str) -> (Vec<(String, u64)>, u64) {
    let rows: Vec<(String, u64)> = table(stderr)
        .into_iter()
        .filter(|(op, _)| op.starts_with("cloudformation:"))
        .collect();
    for (op, n) in &rows {
        assert_eq!(
            n % STACKS,
            0,
            "{op} {n} is not the same for each stack:\n{stderr}"
        );
    }
    let rows: Vec<(String, u64)> = rows.into_iter().map(|(op, n)| (op, n / STACKS)).collect();
    let total = rows.iter().map(|(_, n)| n).sum();
    (rows, total)
}

fn project(emulator: &Emulator, delay: u32) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.template("queue.json.njk", QUEUE);
    for i in 0..STACKS {
        p.stack(
            &format!("calls-{i}"),
            "queue.json.njk",
            &format!("variables:\n  delay: {delay}\n"),
        );
    }
    p
}

#[test]
fn calls_per_stack_of_apply_and_plan() {
    let emulator = Emulator::lock();
    let p = project(&emulator, 0);

    // Apply of a new stack: the plan's read of the stack, its change set made and read, the
    // execution, one read of the stack that finds it done (the emulator is immediate), and
    // nothing more: no events, as the stack was never seen in progress and did not fail.
    let applied = p.run(&["-v", "apply", "--all", "--yes"]);
    applied.success();
    let (rows, total) = per_stack(&applied.stderr);
    eprintln!("apply of a new stack: {rows:?}");
    let of = |rows: &[(String, u64)], op: &str| {
        rows.iter().find(|(o, _)| o == op).map_or(0, |(_, n)| *n)
    };
    assert_eq!(of(&rows, "cloudformation:CreateChangeSet"), 1, "{rows:?}");
    assert_eq!(of(&rows, "cloudformation:ExecuteChangeSet"), 1, "{rows:?}");
    assert_eq!(
        of(&rows, "cloudformation:DescribeStackEvents"),
        0,
        "{rows:?}"
    );
    assert!(
        total <= APPLY_NEW,
        "apply of a new stack: {total} calls, budget {APPLY_NEW}: {rows:?}"
    );

    // Plan of an unchanged stack: reads only, no change set.
    let unchanged = p.run(&["-v", "plan", "--all", "--detailed-exitcode"]);
    unchanged.code(0);
    let (rows, total) = per_stack(&unchanged.stderr);
    eprintln!("plan of an unchanged stack: {rows:?}");
    assert_eq!(of(&rows, "cloudformation:CreateChangeSet"), 0, "{rows:?}");
    assert!(
        total <= PLAN_UNCHANGED,
        "plan of an unchanged stack: {total} calls, budget {PLAN_UNCHANGED}: {rows:?}"
    );

    // Plan of a changed stack whose change updates the queue in place: the reads of an
    // unchanged one, and the resource changes predicted (`--change-set auto`, the default).
    let p = project(&emulator, 5);
    let changed = p.run(&["-v", "plan", "--all", "--detailed-exitcode"]);
    changed.code(2);
    let (rows, total) = per_stack(&changed.stderr);
    eprintln!("plan of a changed stack: {rows:?}");
    assert_eq!(of(&rows, "cloudformation:CreateChangeSet"), 0, "{rows:?}");
    assert!(
        total <= PLAN_CHANGED,
        "plan of a changed stack: {total} calls, budget {PLAN_CHANGED}: {rows:?}"
    );
    assert!(
        changed
            .stdout
            .contains("Change set (predicted, none made):"),
        "{}",
        changed.stdout
    );

    // The same with `--change-set always`: one change set, made, read and deleted.
    let asked = p.run(&[
        "-v",
        "plan",
        "--all",
        "--detailed-exitcode",
        "--change-set",
        "always",
    ]);
    asked.code(2);
    let (rows, total) = per_stack(&asked.stderr);
    eprintln!("plan of a changed stack, --change-set always: {rows:?}");
    assert_eq!(of(&rows, "cloudformation:CreateChangeSet"), 1, "{rows:?}");
    assert_eq!(of(&rows, "cloudformation:DeleteChangeSet"), 1, "{rows:?}");
    assert!(
        total <= PLAN_CHANGED_ASKED,
        "plan of a changed stack, --change-set always: {total} calls, budget {PLAN_CHANGED_ASKED}: {rows:?}"
    );

    // Apply of a changed stack: the plan's reads and change set, its execution and one read
    // of the stack; the stack's history of events is not read beforehand.
    let updated = p.run(&["-v", "apply", "--all", "--yes"]);
    updated.success();
    let (rows, total) = per_stack(&updated.stderr);
    eprintln!("apply of a changed stack: {rows:?}");
    assert_eq!(of(&rows, "cloudformation:ExecuteChangeSet"), 1, "{rows:?}");
    assert_eq!(
        of(&rows, "cloudformation:DescribeStackEvents"),
        0,
        "{rows:?}"
    );
    assert!(
        total <= APPLY_CHANGED,
        "apply of a changed stack: {total} calls, budget {APPLY_CHANGED}: {rows:?}"
    );

    // Destroy: the preview's reads (stack, template, resources; its exports come with the
    // stack's outputs, so no ListExports), the deletion and one read that finds it gone.
    let destroyed = p.run(&["-v", "destroy", "--all", "--yes"]);
    destroyed.success();
    let (rows, total) = per_stack(&destroyed.stderr);
    eprintln!("destroy: {rows:?}");
    assert_eq!(of(&rows, "cloudformation:ListExports"), 0, "{rows:?}");
    assert_eq!(
        of(&rows, "cloudformation:DescribeStackEvents"),
        0,
        "{rows:?}"
    );
    assert!(
        total <= DESTROY,
        "destroy: {total} calls, budget {DESTROY}: {rows:?}"
    );
}

/// The budgets (CloudFormation calls per stack, as measured when they were set): apply of a
/// new stack DescribeStacks 2 (the plan's, the wait's), CreateChangeSet, DescribeChangeSet,
/// ExecuteChangeSet; plan of an unchanged stack DescribeStacks and GetTemplate; plan of a
/// changed one that updates in place the same; with `--change-set always` those and
/// CreateChangeSet, DescribeChangeSet, DeleteChangeSet; apply of a
/// changed one DescribeStacks 2, GetTemplate, CreateChangeSet, DescribeChangeSet,
/// ExecuteChangeSet; destroy DescribeStacks 2, GetTemplate, ListStackResources, DeleteStack.
const APPLY_NEW: u64 = 5;
const PLAN_UNCHANGED: u64 = 2;
const PLAN_CHANGED: u64 = 2;
const PLAN_CHANGED_ASKED: u64 = 5;
const APPLY_CHANGED: u64 = 6;
const DESTROY: u64 = 5;

/// The most stacks of one account and region that are each read on their own (the listing
/// starts at one more: `context::listing::LIST_FROM`).
const READ_ALONE: u64 = 9;

#[test]
fn many_stacks_of_one_region_are_read_in_one_listing() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.template("queue.json.njk", QUEUE);
    let stacks = READ_ALONE + 1;
    for i in 0..stacks {
        p.stack(
            &format!("many-{i}"),
            "queue.json.njk",
            "variables:\n  delay: 0\n",
        );
    }
    let count = |stderr: &str, op: &str| {
        table(stderr)
            .into_iter()
            .find(|(o, _)| o == op)
            .map_or(0, |(_, n)| n)
    };

    // New stacks: one DescribeStacks of the region (a page: the emulator's holds 50) finds
    // none of them; nothing else is read.
    let new = p.run(&["-v", "plan", "--all", "--detailed-exitcode"]);
    new.code(2);
    assert_eq!(
        count(&new.stderr, "cloudformation:DescribeStacks"),
        1,
        "{}",
        new.stderr
    );

    // Applied: the plan's one listing, and each stack's read after its execution.
    let applied = p.run(&["-v", "apply", "--all", "--yes"]);
    applied.success();
    assert_eq!(
        count(&applied.stderr, "cloudformation:DescribeStacks"),
        1 + stacks,
        "{}",
        applied.stderr
    );

    // Unchanged: one listing and each stack's template, compared.
    let unchanged = p.run(&["-v", "plan", "--all", "--detailed-exitcode"]);
    unchanged.code(0);
    assert_eq!(count(&unchanged.stderr, "cloudformation:DescribeStacks"), 1);
    assert_eq!(
        count(&unchanged.stderr, "cloudformation:GetTemplate"),
        stacks
    );

    // Below the listing's threshold, each stack is read on its own.
    let few: Vec<String> = (0..READ_ALONE).map(|i| format!("many-{i}")).collect();
    let mut args = vec!["-v", "plan", "--detailed-exitcode"];
    args.extend(few.iter().map(String::as_str));
    let out = p.run(&args);
    out.code(0);
    assert_eq!(
        count(&out.stderr, "cloudformation:DescribeStacks"),
        READ_ALONE,
        "{}",
        out.stderr
    );
}
