//! Untrusted project files: templates, includes, policies and stack configs that are links
//! out of the project are refused at the line that names them, and their content never
//! reaches any output; template text that once panicked the lexer is an error at its line.

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::harness::{Output, TestProject};

/// A value that must never appear in any output: the process's secret key, and the content
/// of a file outside the project.
const SENTINEL: &str = "wJalrXUtnFEMI-sentinel-K7MDENG";

const GOOD: &str = "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}\n";

/// Runs `little ARGS` with the sentinel as the secret key in its environment.
fn run_with_secret(p: &TestProject, args: &[&str]) -> Output {
    let out = p
        .command(p.path(), args)
        .env("AWS_SECRET_ACCESS_KEY", SENTINEL)
        .output()
        .expect("run little");
    let out = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !out.stderr.contains("panicked at"),
        "little panicked:\n{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains(SENTINEL) && !out.stderr.contains(SENTINEL),
        "the secret reached the output:\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    out
}

/// A project with a secret file outside it, and the path of that file.
fn project_beside_a_secret() -> (TestProject, tempfile::TempDir) {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.json"),
        format!("{{\"rules\": [], \"key\": \"{SENTINEL}\"}}\n"),
    )
    .unwrap();
    (TestProject::new(), outside)
}

fn link(p: &TestProject, rel: &str, target: &Path) {
    let path = p.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    symlink(target, path).unwrap();
}

#[test]
fn a_template_linked_to_proc_self_environ_is_refused_at_the_stack_config() {
    let p = TestProject::new();
    p.stack("s", "env.json.njk", "");
    link(
        &p,
        "templates/env.json.njk",
        Path::new("/proc/self/environ"),
    );
    for command in ["render", "validate"] {
        run_with_secret(&p, &[command, "s"])
            .code(1)
            .stderr_has("error[outside-project]: `templates/env.json.njk` resolves to `/proc/")
            .stderr_has("environ`, outside the project")
            .stderr_has("--> stacks/s.yaml:2:1")
            .stderr_has("copy it into the project");
    }
}

#[test]
fn an_include_linked_out_of_the_project_is_refused_at_the_include() {
    let (p, outside) = project_beside_a_secret();
    p.stack("s", "t.json.njk", "");
    p.template(
        "t.json.njk",
        "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}},\n \"Outputs\": {% include 'lib/out.njk' %}}\n",
    );
    link(
        &p,
        "templates/lib/out.njk",
        &outside.path().join("secret.json"),
    );
    run_with_secret(&p, &["render", "s"])
        .code(1)
        .stderr_has("error[outside-project]: `templates/lib/out.njk` resolves to `")
        .stderr_has("secret.json`, outside the project")
        .stderr_has("--> templates/t.json.njk:2:16");

    // A folder of includes that is a link out of the project: the same.
    std::fs::remove_file(p.path().join("templates/lib/out.njk")).unwrap();
    std::fs::remove_dir(p.path().join("templates/lib")).unwrap();
    std::fs::rename(
        outside.path().join("secret.json"),
        outside.path().join("out.njk"),
    )
    .unwrap();
    link(&p, "templates/lib", outside.path());
    run_with_secret(&p, &["validate", "s"])
        .code(1)
        .stderr_has("`templates/lib/out.njk` resolves to `")
        .stderr_has("--> templates/t.json.njk:2:16");
}

#[test]
fn a_policy_linked_out_of_the_project_is_refused_at_the_call() {
    let (p, outside) = project_beside_a_secret();
    p.stack(
        "s",
        "t.json.njk",
        "parameters:\n  P: \"{{ policy('lifecycle/templated') | dump }}\"\n",
    );
    p.template(
        "t.json.njk",
        "{\"Parameters\": {\"P\": {\"Type\": \"String\"}},\n \"Resources\": {\"R\": {\"Type\": \"AWS::ECR::Repository\", \"Properties\": {\n  \"LifecyclePolicy\": {\"LifecyclePolicyText\": {{ policy('lifecycle/plain') | dump | dump }}}}}}}\n",
    );
    link(
        &p,
        "policies/lifecycle/plain.json",
        &outside.path().join("secret.json"),
    );
    link(
        &p,
        "policies/lifecycle/templated.json.njk",
        &outside.path().join("secret.json"),
    );
    let out = run_with_secret(&p, &["validate", "s"]);
    out.code(1)
        // A parameter value's policy: at the parameter.
        .stderr_has("`parameters.P`: `policies/lifecycle/templated.json.njk` resolves to `")
        .stderr_has("--> stacks/s.yaml:4:3");

    // The template's own call, once the parameter's policy is inside the project.
    std::fs::remove_file(p.path().join("policies/lifecycle/templated.json.njk")).unwrap();
    p.file(
        "policies/lifecycle/templated.json.njk",
        "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": \"sinceImagePushed\", \"countUnit\": \"days\", \"countNumber\": 7}, \"action\": {\"type\": \"expire\"}}]}\n",
    );
    run_with_secret(&p, &["render", "s"])
        .code(1)
        .stderr_has("error[outside-project]: `policies/lifecycle/plain.json` resolves to `")
        .stderr_has("--> templates/t.json.njk:3:49");
}

#[test]
fn a_stack_config_linked_out_of_the_project_is_refused() {
    let (p, outside) = project_beside_a_secret();
    p.stack("s", "t.json.njk", "");
    p.template("t.json.njk", GOOD);
    std::fs::write(
        outside.path().join("other.yaml"),
        format!("name: other\ntemplate: t.json.njk\ndescription: {SENTINEL}\n"),
    )
    .unwrap();
    link(&p, "stacks/other.yaml", &outside.path().join("other.yaml"));
    run_with_secret(&p, &["stacks"])
        .code(1)
        .stderr_has("error[outside-project]: `stacks/other.yaml` resolves to `")
        .stderr_has("--> stacks/other.yaml\n");

    // A folder of stack configs that leads out: refused, and not walked.
    std::fs::remove_file(p.path().join("stacks/other.yaml")).unwrap();
    link(&p, "stacks/team", outside.path());
    run_with_secret(&p, &["validate", "--all"])
        .code(1)
        .stderr_has("`stacks/team` resolves to `");
}

#[test]
fn links_inside_the_project_are_followed() {
    // A Kubernetes ConfigMap mounted as `stacks/`: links into `..data/`.
    let p = TestProject::new();
    p.file(
        "stacks/..data/s.yaml",
        "name: s\ntemplate: shared/t.json.njk\n",
    );
    link(&p, "stacks/s.yaml", Path::new("..data/s.yaml"));
    p.file("library/t.json.njk", GOOD);
    link(&p, "templates/shared", &p.path().join("library"));
    let v = run_with_secret(&p, &["render", "s"]).success().json();
    assert_eq!(v["Resources"]["Q"]["Type"], "AWS::SQS::Queue");
}

#[test]
fn a_raw_block_holding_percent_brace_is_an_error_at_its_line_not_a_panic() {
    let p = TestProject::new();
    p.stack("s", "t.json.njk", "");
    p.template("t.json.njk", "{% raw %}{%}{% endraw %}");
    p.run(&["render", "s"])
        .code(1)
        .stderr_has("error[invalid-output]: the rendered template is not valid JSON")
        .stderr_has("--> templates/t.json.njk:1\n")
        .stderr_has("1 | {% raw %}{%}{% endraw %}");

    // Inside a string it is text, as in nunjucks.
    p.template(
        "t.json.njk",
        "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {\"DisplayName\": \"{% raw %}{%}{% endraw %}\"}}}}\n",
    );
    let v = p.run(&["render", "s"]).success().json();
    assert_eq!(v["Resources"]["T"]["Properties"]["DisplayName"], "{%}");
}
