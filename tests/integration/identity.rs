//! Who `little` acts as, against the local emulator (whose caller is account 123456789012 for
//! any access key): the account guard refusing a stack of another account and callers that
//! `allowed_account_ids` does not allow, with nothing created; `--profile` winning over keys in
//! the environment (a `credential_process` profile), an unknown profile named with the files
//! searched; `--region` over `defaults.region`, against a stack's own region, and misspelt
//! regions; `little whoami` as text and JSON.

use little_stack::report::whoami::WhoamiJson;

use crate::harness::{Emulator, Output, TestProject};

const TOPIC: &str = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "{{ stack.name }}"}}}}
"#;

const CALLER: &str = "123456789012";

/// A project on the emulator with `little.yaml` and a stack `app` publishing a topic.
fn project(emulator: &Emulator, little_yaml: &str, app: &str) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.file("little.yaml", little_yaml);
    p.template("topic.json.njk", TOPIC);
    p.stack("app", "topic.json.njk", app);
    p
}

/// Runs `little ARGS` with these environment variables over the harness's.
fn run_with(p: &TestProject, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = p.command(p.path(), args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run little");
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

/// The CloudFormation stacks of account 123456789012 in a region, of any status, through
/// boto3 (not through `little`).
fn stacks_in(emulator: &Emulator, region: &str) -> Vec<String> {
    let out = crate::harness::python(
        "import sys, boto3\n\
         cfn = boto3.client('cloudformation', endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         for s in cfn.list_stacks()['StackSummaries']:\n    print(s['StackName'], s['StackStatus'])\n",
        &[&emulator.endpoint, region],
        "",
    );
    assert!(
        out.status.success(),
        "boto3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_stack_of_another_account_is_refused_and_nothing_is_created() {
    let emulator = Emulator::lock();
    let p = project(
        &emulator,
        "defaults:\n  region: us-east-1\naccounts:\n  other: {id: \"111111111111\"}\n",
        "account: other\n",
    );
    for args in [
        &["plan", "app"][..],
        &["apply", "app", "--yes"],
        &["apply", "--all", "--yes"],
    ] {
        let out = p.run(args);
        out.code(3)
            .stderr_has("refused: stack `app` (stacks/app.yaml) deploys to account `other` (111111111111), but the credentials, from the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), act as ")
            .stderr_has(&format!("in account {CALLER}"))
            .stderr_has("or give account `other` a `role_arn` in little.yaml");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed a plan:\n{}",
            out.stdout
        );
    }
    assert_eq!(stacks_in(&emulator, "us-east-1"), Vec::<String>::new());
    // Reading is refused as well: `status` would look at the wrong account.
    p.run(&["status", "app"]).code(3).stderr_has("111111111111");
}

#[test]
fn a_stack_deploys_through_its_accounts_role_and_a_role_of_another_account_is_refused() {
    let emulator = Emulator::lock();
    // moto's AssumeRole gives credentials of the role's account.
    let p = project(
        &emulator,
        "defaults:\n  region: us-east-1\naccounts:\n  prod: {id: \"111111111111\", role_arn: \"arn:aws:iam::111111111111:role/deploy\"}\n  wrong: {id: \"111111111111\", role_arn: \"arn:aws:iam::222222222222:role/deploy\"}\n",
        "account: prod\n",
    );
    let plan = p.run(&["plan", "app", "--format", "json"]);
    plan.success();
    assert_eq!(plan.json()["stacks"][0]["account_id"], "111111111111");
    p.run(&["whoami", "app"])
        .success()
        .stdout_has("credentials  role arn:aws:iam::111111111111:role/deploy, assumed with credentials from the environment");

    p.stack("app", "topic.json.njk", "account: wrong\n");
    p.run(&["plan", "app"])
        .code(3)
        .stderr_has("the `role_arn` of account `wrong` (arn:aws:iam::222222222222:role/deploy) leads to account 222222222222");
}

#[test]
fn allowed_account_ids_refuse_any_other_caller() {
    let emulator = Emulator::lock();
    let p = project(
        &emulator,
        "defaults:\n  region: us-east-1\nallowed_account_ids: [\"999999999999\"]\n",
        "",
    );
    for args in [&["plan", "app"][..], &["apply", "app", "--yes"]] {
        p.run(args)
            .code(3)
            .stderr_has("refused: stack `app` (stacks/app.yaml): the credentials, from the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), act as ")
            .stderr_has(&format!("in account {CALLER}, which `allowed_account_ids` in little.yaml does not allow (999999999999); use credentials of an allowed account, or add {CALLER} to `allowed_account_ids`"));
    }
    assert_eq!(stacks_in(&emulator, "us-east-1"), Vec::<String>::new());

    p.file(
        "little.yaml",
        &format!("defaults:\n  region: us-east-1\nallowed_account_ids: [\"{CALLER}\"]\n"),
    );
    p.run(&["apply", "app", "--yes"]).success();
    assert_eq!(
        stacks_in(&emulator, "us-east-1"),
        vec!["app CREATE_COMPLETE"]
    );

    p.file(
        "little.yaml",
        &format!("defaults:\n  region: us-east-1\nforbidden_account_ids: [\"{CALLER}\"]\n"),
    );
    p.run(&["status", "app"])
        .code(3)
        .stderr_has("which `forbidden_account_ids` in little.yaml forbids");
}

/// A config file with a `credential_process` profile whose script leaves a marker, and one
/// whose script fails.
fn profiles(p: &TestProject) -> (String, std::path::PathBuf) {
    let marker = p.path().join("process-ran");
    let script = p.path().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESS\", \"SecretAccessKey\": \"process-secret\"}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    let failing = p.path().join("fail.sh");
    std::fs::write(
        &failing,
        "#!/bin/sh\necho 'no credentials for you' >&2\nexit 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    for s in [&script, &failing] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(s, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = p.path().join("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile deploy]\ncredential_process = {}\n\n[profile broken]\ncredential_process = {}\n",
            script.display(),
            failing.display()
        ),
    )
    .unwrap();
    (config.display().to_string(), marker)
}

#[test]
fn the_profile_flag_wins_over_keys_in_the_environment() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "defaults:\n  region: us-east-1\n", "");
    let (config, marker) = profiles(&p);
    let env = [("AWS_CONFIG_FILE", config.as_str())];

    run_with(&p, &env, &["--profile", "deploy", "apply", "app", "--yes"]).success();
    assert!(marker.exists(), "the credential_process did not run");
    assert_eq!(
        stacks_in(&emulator, "us-east-1"),
        vec!["app CREATE_COMPLETE"]
    );
    run_with(&p, &env, &["--profile", "deploy", "whoami"])
        .success()
        .stdout_has("credentials  the credential_process of profile `deploy`");

    // The profile's credentials alone: a failing process is not replaced by the keys.
    run_with(&p, &env, &["--profile", "broken", "status", "app"])
        .code(1)
        .stderr_has("error: sts:GetCallerIdentity failed: ")
        .stderr_has("no credentials for you; the credentials come from the credential_process of profile `broken`");

    // AWS_PROFILE keeps the SDK's order: the keys of the environment come first.
    std::fs::remove_file(&marker).unwrap();
    run_with(
        &p,
        &[
            ("AWS_CONFIG_FILE", config.as_str()),
            ("AWS_PROFILE", "deploy"),
        ],
        &["whoami"],
    )
    .success()
    .stdout_has("credentials  the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
    assert!(
        !marker.exists(),
        "AWS_PROFILE won over the environment's keys"
    );
}

#[test]
fn an_unknown_profile_is_named_with_the_files_searched() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "defaults:\n  region: us-east-1\n", "");
    let (config, _) = profiles(&p);
    let credentials = p.path().join(".aws-credentials-none");
    let files = format!(
        "is not in {config} (AWS_CONFIG_FILE) or {} (AWS_SHARED_CREDENTIALS_FILE)",
        credentials.display()
    );
    let env = [("AWS_CONFIG_FILE", config.as_str())];
    run_with(&p, &env, &["--profile", "deplyo", "plan", "app"])
        .code(1)
        .stderr_has(&format!(
            "error: AWS profile `deplyo` (--profile) {files} (did you mean `deploy`?)"
        ));
    run_with(
        &p,
        &[("AWS_CONFIG_FILE", config.as_str()), ("AWS_PROFILE", "nobody-here")],
        &["whoami"],
    )
    .code(1)
    .stderr_has(&format!(
        "error: AWS profile `nobody-here` (AWS_PROFILE) {files}; the files hold the profiles broken, deploy"
    ));
    assert_eq!(stacks_in(&emulator, "us-east-1"), Vec::<String>::new());
}

#[test]
fn the_region_flag_beats_defaults_region_and_never_a_stacks_own() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "defaults:\n  region: us-east-1\n", "");
    p.stack("pinned", "topic.json.njk", "region: us-west-2\n");

    let apply = p.run(&["--region", "eu-west-1", "apply", "app", "--yes"]);
    apply.success();
    assert_eq!(
        stacks_in(&emulator, "eu-west-1"),
        vec!["app CREATE_COMPLETE"]
    );
    assert_eq!(stacks_in(&emulator, "us-east-1"), Vec::<String>::new());
    p.run(&["--region", "eu-west-1", "status", "app"])
        .success()
        .stdout_has("eu-west-1");

    // A selected stack that names another region: an error naming it, its file and both.
    for args in [
        &["--region", "eu-west-1", "plan", "pinned"][..],
        &["--region", "eu-west-1", "apply", "--all", "--yes"],
    ] {
        p.run(args).code(1).stderr_has(
            "error: `--region eu-west-1` is for stacks that name no region, but stack `pinned` names region `us-west-2` (stacks/pinned.yaml:3:1); a stack's own region is never replaced",
        );
    }
    assert_eq!(stacks_in(&emulator, "us-west-2"), Vec::<String>::new());
    // The same region as the stack's own is no conflict.
    p.run(&["--region", "us-west-2", "plan", "pinned"])
        .success();

    // AWS_REGION does not beat defaults.region, and says so.
    run_with(&p, &[("AWS_REGION", "eu-central-1")], &["plan", "app"])
        .success()
        .stdout_has("app (us-east-1, 123456789012): new")
        .stderr_has("warning: AWS_REGION is eu-central-1, but little.yaml's `defaults.region` us-east-1 is used for stacks that name no region; pass `--region eu-central-1` to use eu-central-1, or unset AWS_REGION");
}

#[test]
fn a_misspelt_region_is_refused_with_the_one_meant() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "defaults:\n  region: us-east-1\n", "");
    p.run(&["--region", "us-esat-1", "plan", "app"])
        .code(1)
        .stderr_has(
            "error: `--region`: `us-esat-1` is not an AWS region (did you mean `us-east-1`?)",
        );

    p.file("little.yaml", "defaults:\n  region: us-esat-1\n");
    p.run(&["validate", "--all"])
        .code(1)
        .stderr_has("`us-esat-1` is not an AWS region (did you mean `us-east-1`?)")
        .stderr_has("little.yaml:2:");

    // From the environment, when nothing else names a region.
    p.file("little.yaml", "name: x\n");
    run_with(&p, &[("AWS_REGION", "us-esat-1")], &["plan", "app"])
        .code(1)
        .stderr_has("AWS_REGION: `us-esat-1` is not an AWS region (did you mean `us-east-1`?)");
    assert_eq!(stacks_in(&emulator, "us-east-1"), Vec::<String>::new());

    p.stack("app", "topic.json.njk", "region: eu-wset-1\n");
    p.run(&["validate", "--all"])
        .code(1)
        .stderr_has("`eu-wset-1` is not an AWS region (did you mean `eu-west-1`?)")
        .stderr_has("stacks/app.yaml:3:");
}

#[test]
fn whoami_shows_each_target_as_text_and_json() {
    let emulator = Emulator::lock();
    let p = project(
        &emulator,
        "defaults:\n  region: us-east-1\n  account: tooling\naccounts:\n  tooling: {id: \"123456789012\"}\n  other: {id: \"111111111111\"}\n",
        "",
    );
    p.stack(
        "elsewhere",
        "topic.json.njk",
        "account: other\nregion: eu-west-1\n",
    );

    let out = p.run(&["whoami"]);
    out.success();
    let text = out.stdout.replace(&emulator_arn(&out.stdout), "ARN");
    assert_eq!(
        text,
        "us-east-1, account `tooling` (123456789012): the project's default target
  caller       ARN
  account      123456789012
  region       us-east-1
  credentials  the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)
  guard        passes
"
    );

    let out = p.run(&["whoami", "--all", "--format", "json"]);
    out.code(3);
    let doc: WhoamiJson = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc.targets.len(), 2);
    let (ok, refused) = (&doc.targets[0], &doc.targets[1]);
    assert_eq!(ok.stacks, vec!["app"]);
    assert_eq!(ok.region.as_deref(), Some("us-east-1"));
    assert!(ok.guard.passes);
    assert_eq!(ok.caller.as_ref().unwrap().account, CALLER);
    assert_eq!(
        ok.credentials.as_deref(),
        Some("the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
    );
    assert_eq!(
        ok.credential_source,
        Some(serde_json::json!({"kind": "environment"}))
    );
    assert_eq!(refused.stacks, vec!["elsewhere"]);
    assert_eq!(refused.region.as_deref(), Some("eu-west-1"));
    assert_eq!(refused.account.as_ref().unwrap().id, "111111111111");
    assert!(!refused.guard.passes);
    assert!(refused.guard.reason.as_deref().unwrap().starts_with(
        "stack `elsewhere` (stacks/elsewhere.yaml) deploys to account `other` (111111111111)"
    ));
}

/// The caller ARN on the `caller` line (moto's, such as `arn:aws:sts::123456789012:user/moto`).
fn emulator_arn(text: &str) -> String {
    let arn = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("caller"))
        .map(|rest| rest.trim().to_owned())
        .unwrap_or_default();
    assert!(
        arn.starts_with("arn:aws:") && arn.contains(CALLER),
        "no caller ARN in:\n{text}"
    );
    arn
}
