//! The safety contract on the emulator, checked through the AWS API and not only through
//! little's own output: the stack policy and termination protection planned and applied (and
//! refused when they are lowered without `--allow-unprotect`), change sets that belong to their
//! run, saved plans whose risks are computed again, and Ctrl-C at the approval prompt (on a
//! pseudo-terminal) and while waiting (behind a proxy that makes each call slow) leaving no
//! change set and no empty stack behind.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{python, repo, Emulator, TestProject};

const QUEUE: &str = r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "{{ stack.name }}-q"}}}}"#;

const DENY_DELETE: &str = r#"{"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "Update:Delete", "Principal": "*", "Resource": "LogicalResourceId/Queue"}]}"#;

/// What the emulator holds: `name status` per live stack, `stack/change-set` per change set
/// not executed,
/// and termination protection and stack policy per stack; read with boto3.
fn state(endpoint: &str) -> serde_json::Value {
    let out = python(
        r#"
import json, sys, boto3
cf = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=sys.argv[1],
                  aws_access_key_id="testing", aws_secret_access_key="testing")
stacks, change_sets, protection, policy = [], [], {}, {}
for s in cf.describe_stacks()["Stacks"]:
    if s["StackStatus"] == "DELETE_COMPLETE":
        continue
    stacks.append(s["StackName"] + " " + s["StackStatus"])
    protection[s["StackName"]] = s.get("EnableTerminationProtection", False)
    policy[s["StackName"]] = cf.get_stack_policy(StackName=s["StackName"]).get("StackPolicyBody")
    for c in cf.list_change_sets(StackName=s["StackName"])["Summaries"]:
        # moto keeps executed change sets listed (AWS deletes them): only the others count.
        if c["StackName"] == s["StackName"] and c.get("ExecutionStatus") != "EXECUTE_COMPLETE":
            change_sets.append(c["StackName"] + "/" + c["ChangeSetName"])
print(json.dumps({"stacks": sorted(stacks), "change_sets": sorted(set(change_sets)),
                  "protection": protection, "policy": policy}))
"#,
        &[endpoint],
        "",
    );
    assert!(
        out.status.success(),
        "boto3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn change_sets(endpoint: &str) -> Vec<String> {
    serde_json::from_value(state(endpoint)["change_sets"].clone()).unwrap()
}

fn stacks(endpoint: &str) -> Vec<String> {
    serde_json::from_value(state(endpoint)["stacks"].clone()).unwrap()
}

#[test]
fn the_stack_policy_is_planned_applied_and_never_loosened_without_the_flag() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.template("q.json.njk", QUEUE);
    p.stack("q", "q.json.njk", "");
    p.run(&["apply", "q", "--yes"]).success();
    assert_eq!(
        state(&emulator.endpoint)["policy"]["q"],
        serde_json::Value::Null
    );

    // A policy in the config, on a stack whose template does not change.
    p.stack("q", "q.json.njk", &format!("stack_policy: {DENY_DELETE}\n"));
    let plan = p.run(&["plan", "q", "--detailed-exitcode"]);
    plan.code(2)
        .stdout_has("q (us-east-1")
        .stdout_has("Stack policy: set (the stack has none)")
        .stdout_has("\"Update:Delete\"");
    p.run(&["apply", "q", "--yes"]).success();
    let policy = state(&emulator.endpoint)["policy"]["q"].clone();
    let read: serde_json::Value = serde_json::from_str(policy.as_str().unwrap()).unwrap();
    assert_eq!(
        read,
        serde_json::from_str::<serde_json::Value>(DENY_DELETE).unwrap()
    );
    p.run(&["plan", "q", "--detailed-exitcode"]).success();

    // Dropping the Deny loosens it: refused, and the deployed policy stays.
    p.stack(
        "q",
        "q.json.njk",
        "stack_policy: {\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"Update:*\", \"Principal\": \"*\", \"Resource\": \"*\"}]}\n",
    );
    let refused = p.run(&["apply", "q", "--yes"]);
    refused
        .code(3)
        .stdout_has("! unprotecting: loosens the stack policy of `q` (it drops 1 Deny statement)")
        .stderr_has("--allow-unprotect");
    assert_eq!(state(&emulator.endpoint)["policy"]["q"], policy);
    assert!(change_sets(&emulator.endpoint).is_empty());
    p.run(&["apply", "q", "--yes", "--allow-unprotect"])
        .success();
    assert_ne!(state(&emulator.endpoint)["policy"]["q"], policy);
}

#[test]
fn termination_protection_is_applied_and_turned_off_only_with_the_flag() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.template("q.json.njk", QUEUE);
    p.stack("q", "q.json.njk", "termination_protection: true\n");
    p.run(&["apply", "q", "--yes"]).success();
    assert_eq!(state(&emulator.endpoint)["protection"]["q"], true);
    p.run(&["plan", "q", "--detailed-exitcode"]).success();

    p.stack("q", "q.json.njk", "termination_protection: false\n");
    p.run(&["plan", "q"])
        .success()
        .stdout_has("Termination protection: true -> false")
        .stdout_has("! unprotecting: turns termination protection off for `q`")
        .stdout_has("1 unprotecting");
    p.run(&["apply", "q", "--yes"])
        .code(3)
        .stderr_has("1 change that lowers a stack's protection (`TerminationProtection`); pass `--allow-unprotect` to allow");
    assert_eq!(state(&emulator.endpoint)["protection"]["q"], true);
    p.run(&["apply", "q", "--yes", "--allow-unprotect"])
        .success();
    assert_eq!(state(&emulator.endpoint)["protection"]["q"], false);
}

#[test]
fn a_plan_keeps_another_runs_change_set_and_a_saved_plan_with_edited_risks_is_refused() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    let two = r#"{"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {"RepositoryName": "team/app"}}, "Topic": {"Type": "AWS::SNS::Topic"}}}"#;
    p.template("t.json.njk", two);
    p.stack("s", "t.json.njk", "");
    p.run(&["apply", "s", "--yes"]).success();

    // The repository is removed from the template: destructive.
    p.template(
        "t.json.njk",
        r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#,
    );
    let saved = p.path().join("plan.json");
    p.run(&["plan", "s", "--out", saved.to_str().unwrap()])
        .success()
        .stdout_has("! destructive:");
    let kept = change_sets(&emulator.endpoint);
    assert_eq!(kept.len(), 1, "{kept:?}");
    // Another plan, made meanwhile, neither replaces nor deletes the saved plan's change set.
    p.run(&["plan", "s"]).success();
    assert_eq!(change_sets(&emulator.endpoint), kept);

    // The risk is taken out of the file: refused, nothing executed.
    let mut edited: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    edited["stacks"][0]["risks"] = serde_json::json!([]);
    edited["summary"]["destructive"] = serde_json::json!(0);
    let edited_path = p.path().join("edited.json");
    std::fs::write(&edited_path, edited.to_string()).unwrap();
    p.run(&["apply", "--plan", edited_path.to_str().unwrap(), "--yes"])
        .code(3)
        .stderr_has("the risks of `s` are not those in the saved plan");
    assert_eq!(change_sets(&emulator.endpoint), kept);

    // As saved, it still needs its flag; with it, it applies.
    p.run(&["apply", "--plan", saved.to_str().unwrap(), "--yes"])
        .code(3)
        .stderr_has("--allow-destructive");
    p.run(&[
        "apply",
        "--plan",
        saved.to_str().unwrap(),
        "--yes",
        "--allow-destructive",
    ])
    .success();
    assert!(change_sets(&emulator.endpoint).is_empty());
}

/// `little ARGS` on a pseudo-terminal; presses Ctrl-C when the approval prompt shows. Returns
/// the exit code and what the terminal showed.
fn interrupt_at_prompt(p: &TestProject, args: &[&str]) -> (i32, String) {
    let little = p.command(p.path(), args);
    let mut cmd = Command::new(repo().join(".venv/bin/python"));
    cmd.arg("-c")
        .arg(
            r#"
import os, pty, select, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen, interrupted, deadline = b"", False, time.time() + 120
while time.time() < deadline:
    if not interrupted and b"[y/N]" in seen:
        os.kill(pid, signal.SIGINT)
        interrupted = True
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(str(os.waitstatus_to_exitcode(status)) + "\n" + seen.decode("utf-8", "replace"))
"#,
        )
        .arg(little.get_program())
        .args(little.get_args())
        .current_dir(p.path())
        .env_clear();
    for (k, v) in little.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let out = cmd.output().expect("run python pty");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (code, shown) = text.split_once('\n').unwrap_or(("-1", ""));
    (code.trim().parse().unwrap_or(-1), shown.to_owned())
}

#[test]
fn ctrl_c_at_the_prompt_leaves_no_change_set_and_no_empty_stack() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.template("q.json.njk", QUEUE);
    p.stack("old", "q.json.njk", "");
    p.run(&["apply", "old", "--yes"]).success();
    p.template(
        "q.json.njk",
        &QUEUE.replace("\"QueueName\"", "\"DelaySeconds\": 3, \"QueueName\""),
    );
    p.stack("new", "q.json.njk", "");

    let (code, shown) = interrupt_at_prompt(&p, &["apply", "--all"]);
    assert!(
        shown.contains("Apply these changes to 2 stacks? [y/N]"),
        "{shown}"
    );
    assert_eq!(code, 130, "{shown}");
    assert!(
        shown.contains("interrupted: not approved: nothing was applied"),
        "{shown}"
    );
    assert!(change_sets(&emulator.endpoint).is_empty());
    assert_eq!(stacks(&emulator.endpoint), ["old CREATE_COMPLETE"]);
}

/// Starts the latency proxy in front of the emulator; returns its URL and the process.
fn slow_endpoint(emulator: &Emulator, latency_ms: u32) -> (String, std::process::Child) {
    let mut child = Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("scripts/latency-proxy.py"))
        .arg(&emulator.endpoint)
        .arg("0")
        .arg("--latency-ms")
        .arg(latency_ms.to_string())
        .arg("--exit-with-parent")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the latency proxy");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (line.trim().to_owned(), child)
}

#[test]
fn sigint_while_waiting_deletes_every_unexecuted_change_set() {
    let emulator = Emulator::lock();
    let (slow, mut proxy) = slow_endpoint(&emulator, 150);
    let p = TestProject::new().with_endpoint(&slow);
    p.template("q.json.njk", QUEUE);
    for name in ["a", "b", "c"] {
        p.stack(name, "q.json.njk", "");
    }
    let mut cmd = p.command(p.path(), &["apply", "--all", "--yes", "--concurrency", "1"]);
    let mut child = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let pid = child.id();
    let reader = std::thread::spawn(move || {
        let mut seen = String::new();
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if !sent && line.contains("executing the change set") {
                let _ = Command::new("kill")
                    .args(["-INT", &pid.to_string()])
                    .status();
                sent = true;
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        (sent, seen)
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "little did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let (sent, seen) = reader.join().unwrap();
    let _ = proxy.kill();
    assert!(sent, "{seen}");
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(seen.contains("interrupted: deleted"), "{seen}");
    // The stacks not started had their change sets deleted, and their empty stacks.
    assert!(change_sets(&emulator.endpoint).is_empty(), "{seen}");
    let left = stacks(&emulator.endpoint);
    assert!(
        left.iter().all(|s| !s.ends_with("REVIEW_IN_PROGRESS")),
        "{left:?}\n{seen}"
    );
    assert!(left.len() < 3, "all three were deployed: {left:?}\n{seen}");
}

#[test]
fn a_tag_only_change_is_planned_and_applied() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.template("q.json.njk", QUEUE);
    p.stack("q", "q.json.njk", "tags: {team: a}\n");
    p.run(&["apply", "q", "--yes"]).success();
    p.stack("q", "q.json.njk", "tags: {team: b}\n");
    p.run(&["plan", "q", "--detailed-exitcode"])
        .code(2)
        .stdout_has("Tags:")
        .stdout_has("team: a -> b");
    p.run(&["apply", "q", "--yes"]).success();
    let tags = python(
        r#"
import json, sys, boto3
cf = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=sys.argv[1],
                  aws_access_key_id="testing", aws_secret_access_key="testing")
print(json.dumps({t["Key"]: t["Value"] for t in cf.describe_stacks(StackName="q")["Stacks"][0]["Tags"]}))
"#,
        &[&emulator.endpoint],
        "",
    );
    let tags: serde_json::Value = serde_json::from_slice(&tags.stdout).unwrap();
    assert_eq!(tags["team"], "b", "{tags}");
    p.run(&["plan", "q", "--detailed-exitcode"]).success();
}
