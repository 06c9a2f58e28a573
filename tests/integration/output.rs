//! Exit codes that cannot lie: `little` run through a shell with its stdout into `head -1` (a
//! pipe its reader closes early) or into `/dev/full` (a disk that is full), with outputs larger
//! than a pipe's buffer (64 KiB) so that the close is certain to be seen; and every error on
//! stderr whatever stdout carries.

use std::process::Command;

use little_stack::deploy::status::StackStatus;

use crate::harness::{Emulator, Output, TestProject};

/// A template of `n` no-op resources with 200-character logical ids: 120 of them make about
/// 30 KB of template (under CloudFormation's 51,200 bytes for a body) and of plan text.
fn wide_template(n: usize) -> String {
    let pad = "W".repeat(200);
    let resources: Vec<String> = (0..n)
        .map(|i| {
            format!("\"{pad}{i}\": {{\"Type\": \"AWS::CloudFormation::WaitConditionHandle\"}}")
        })
        .collect();
    // The description tells the stacks' change sets apart: moto finds a change set by its name
    // alone, and little names them by their content.
    format!(
        "{{\"Description\": \"{{{{ stack.name }}}}\", \"Resources\": {{\n{}\n}}}}\n",
        resources.join(",\n")
    )
}

/// A project of `n` stacks `wide-1`.. of 120 resources each; with `chain`, each depends on the
/// one before, so that they deploy one at a time.
fn wide_project(p: &TestProject, n: usize, chain: bool) {
    p.template("wide.json.njk", &wide_template(120));
    for i in 1..=n {
        let extra = if chain && i > 1 {
            format!("depends_on: [wide-{}]\n", i - 1)
        } else {
            String::new()
        };
        p.stack(&format!("wide-{i}"), "wide.json.njk", &extra);
    }
}

/// Runs `little ARGS SHELL_TAIL` through bash in the project with the test environment, such
/// as `little plan --all | head -1`. The code is little's own (`PIPESTATUS[0]`), not the
/// pipeline's; stdout is what reached the end of the pipeline.
fn shell(p: &TestProject, args: &[&str], tail: &str) -> Output {
    let little = p.command(p.path(), args);
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(format!("\"$0\" \"$@\" {tail}; exit \"${{PIPESTATUS[0]}}\""))
        .arg(little.get_program())
        .args(little.get_args())
        .current_dir(p.path());
    for (key, value) in little.get_envs() {
        match value {
            Some(v) => bash.env(key, v),
            None => bash.env_remove(key),
        };
    }
    let out = bash.output().expect("run bash");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked at"),
        "little panicked:\n{stderr}"
    );
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

fn statuses(p: &TestProject) -> Vec<(String, Option<String>)> {
    let out = p.run(&["status", "--format", "json"]);
    out.success();
    let stacks: Vec<StackStatus> = serde_json::from_str(&out.stdout).unwrap();
    stacks.into_iter().map(|s| (s.stack, s.status)).collect()
}

#[test]
fn render_into_a_full_disk_exits_1_and_says_why_on_stderr() {
    let p = TestProject::new();
    wide_project(&p, 1, false);
    let out = shell(&p, &["render", "--all"], ">/dev/full");
    out.code(1)
        .stderr_has("error: cannot write to stdout: No space left on device");
    // A command without an error of its own is no different.
    shell(&p, &["stacks"], ">/dev/full")
        .code(1)
        .stderr_has("error: cannot write to stdout:");
}

#[test]
fn render_into_a_closed_pipe_exits_0_without_an_error() {
    let p = TestProject::new();
    wide_project(&p, 4, false);
    let full = p.run(&["render", "--all"]);
    assert!(full.success().stdout.len() > 96 * 1024, "output too small");
    let out = shell(&p, &["render", "--all"], "| head -1");
    out.success();
    assert_eq!(out.stdout, "{\n");
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn plan_with_changes_keeps_exit_2_through_head() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    wide_project(&p, 4, false);
    // -v: the 200-character logical ids whole, not shortened to the width.
    let args = ["plan", "--all", "--detailed-exitcode", "-v"];
    // Larger than the pipe's buffer, so that `head` closes it while `little` still writes.
    let full = p.run(&args);
    full.code(2);
    assert!(full.stdout.len() > 96 * 1024, "{} bytes", full.stdout.len());
    let out = shell(&p, &args, "| head -1");
    out.code(2);
    assert_eq!(out.stdout, "wide-1 (us-east-1, 123456789012): new\n");
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
}

#[test]
fn a_failed_apply_through_head_goes_on_and_exits_1_with_its_cause_on_stderr() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    wide_project(&p, 3, true);
    // moto refuses the queue's name when the change set is executed.
    p.template(
        "bad.json.njk",
        r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "not a queue name!"}}}}"#,
    );
    p.stack("bad", "bad.json.njk", "depends_on: [wide-3]\n");
    let out = shell(&p, &["apply", "--all", "--yes"], "| head -1");
    out.code(1)
        .stderr_has("note: stdout is closed; the apply goes on")
        .stderr_has("error: stack `bad` failed: ")
        .stderr_has("InvalidParameterValue");
    // The plan on stdout was cut short; the apply was not.
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    let deployed = statuses(&p);
    for i in 1..=3 {
        assert!(
            deployed.contains(&(format!("wide-{i}"), Some("CREATE_COMPLETE".into()))),
            "{deployed:?}"
        );
    }
}

#[test]
fn a_refused_apply_through_head_exits_3_and_leaves_nothing_behind() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    wide_project(&p, 4, false);
    // No `--yes` and no terminal: refused after the plan was shown, its change sets deleted.
    let out = shell(&p, &["apply", "--all"], "| head -1");
    out.code(3).stderr_has("refused: there is no terminal");
    let left = statuses(&p);
    assert!(
        left.iter().all(|(_, status)| status.is_none()),
        "stacks left behind: {left:?}"
    );
}

#[test]
fn plan_and_validate_errors_are_on_stderr_beside_json_on_stdout() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.template(
        "broken.json.njk",
        "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": {{ vars.nope }}}}}}",
    );
    p.stack("broken", "broken.json.njk", "");

    let out = p.run(&["validate", "--all", "--format", "json"]);
    out.code(1).stderr_has("templates/broken.json.njk:1:");
    assert_eq!(out.json()["valid"], false);

    let out = p.run(&["plan", "--all", "--format", "json"]);
    out.code(1)
        .stderr_has("error: cannot plan stack `broken`: ")
        .stderr_has("templates/broken.json.njk:1:");
    assert_eq!(out.json()["summary"]["failed"], 1);

    // And with the text plan cut short by its reader.
    shell(&p, &["plan", "--all"], "| head -1")
        .code(1)
        .stderr_has("error: cannot plan stack `broken`: ");
}
