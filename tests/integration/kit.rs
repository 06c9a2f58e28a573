//! The commands about the tool itself, through the binary: `init` (a scaffolded project that
//! validates; refusal to overwrite), `schema` (the files in schemas/ are current, and every
//! example document validates against its schema with the Python `jsonschema` package),
//! `completions`, `man`, `--version` with the git revision, and `healthcheck`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_ecr::types::ImageTagMutability;
use little_stack::aws::cloudformation::{wait_for_stack, CfnClient, CloudFormation, StackRequest};
use tokio::runtime::Runtime;

use crate::cfn::{emulator_config, FAST};
use crate::harness::{repo, Emulator, TestProject};

/// Each schema kind and its file under schemas/.
const KINDS: [(&str, &str); 4] = [
    ("little-yaml", "little.schema.json"),
    ("stack", "stack.schema.json"),
    ("plan", "plan.schema.json"),
    ("audit", "audit.schema.json"),
];

/// An empty directory with no little.yaml in it or above it, and a project to run from.
fn no_project() -> (TestProject, tempfile::TempDir) {
    (TestProject::new(), tempfile::tempdir().unwrap())
}

/// Makes sure the project's Python (the emulator's virtualenv, which has `jsonschema` and
/// `yaml`) is installed: the emulator's first lock installs it. Tests that hold the emulator's
/// lock need not (and must not: the lock is not reentrant) call this.
fn install_python() {
    drop(Emulator::lock());
}

const VALIDATE: &str = r#"
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
failed = 0
for path in sys.argv[2:]:
    with open(path) as f:
        doc = yaml.safe_load(f) if path.endswith((".yaml", ".yml")) else json.load(f)
    errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        print(f"{path}: /{'/'.join(map(str, e.path))}: {e.message}")
    failed += bool(errors)
print(f"{len(sys.argv) - 2} documents, {failed} invalid")
sys.exit(1 if failed else 0)
"#;

/// Validates the documents (YAML or JSON files) against a schema file: whether all pass,
/// and what the validator said.
fn validate(schema: &Path, documents: &[PathBuf]) -> (bool, String) {
    assert!(!documents.is_empty());
    let out = std::process::Command::new(repo().join(".venv/bin/python"))
        .arg("-c")
        .arg(VALIDATE)
        .arg(schema)
        .args(documents)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[track_caller]
fn assert_valid(schema: &Path, documents: &[PathBuf]) {
    let (ok, text) = validate(schema, documents);
    assert!(ok, "invalid against {}:\n{text}", schema.display());
}

#[track_caller]
fn assert_invalid(schema: &Path, document: &Path) {
    let (ok, text) = validate(schema, &[document.to_path_buf()]);
    assert!(
        !ok,
        "{} passed {} but should not:\n{text}",
        document.display(),
        schema.display()
    );
}

fn schema_file(name: &str) -> PathBuf {
    repo().join("schemas").join(name)
}

/// The files under `dir` (with extension `ext`, when not empty), sorted.
fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file() && (ext.is_empty() || p.extension().is_some_and(|e| e == ext)))
        .collect();
    files.sort();
    files
}

#[test]
fn schemas_are_up_to_date() {
    let (p, dir) = no_project();
    for (kind, file) in KINDS {
        let out = p.run_in(dir.path(), &["schema", kind]);
        out.success();
        let on_disk = std::fs::read_to_string(schema_file(file)).unwrap_or_default();
        assert!(
            on_disk == out.stdout,
            "schemas/{file} is stale (or missing): run `scripts/schemas` and commit the result"
        );
        let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
    let bad = p.run_in(dir.path(), &["schema", "stacks"]);
    assert_ne!(bad.code, 0);
    bad.stderr_has("invalid value 'stacks'");
}

/// The embedded CloudFormation resource schemas are what `scripts/schemas` makes from the
/// pinned cfn-lint (the reduction is deterministic: same inputs, same bytes).
#[test]
fn resource_schemas_are_up_to_date() {
    install_python();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("schemas.json.gz");
    let run = std::process::Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("scripts/cfn-schemas.py"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let committed = std::fs::read(repo().join("data/cfn-resource-schemas.json.gz")).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == committed,
        "data/cfn-resource-schemas.json.gz is stale: run `scripts/schemas` and commit the result"
    );
}

#[test]
fn the_repository_project_files_validate_against_their_schemas() {
    install_python();
    let little = schema_file("little.schema.json");
    let stack = schema_file("stack.schema.json");
    assert_valid(&little, &[repo().join("little.yaml")]);
    let stacks = files_under(&repo().join("stacks"), "yaml");
    assert!(stacks.len() >= 8, "{stacks:?}");
    assert_valid(&stack, &stacks);

    // Every file points its editor at its schema.
    let first = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        first(&repo().join("little.yaml")),
        "# yaml-language-server: $schema=schemas/little.schema.json"
    );
    for s in &stacks {
        let depth = s.strip_prefix(repo()).unwrap().components().count() - 1;
        assert_eq!(
            first(s),
            format!(
                "# yaml-language-server: $schema={}schemas/stack.schema.json",
                "../".repeat(depth)
            ),
            "{}: its first line must name the stack schema, for editors",
            s.display()
        );
    }

    // A schema that cannot fail proves nothing: what little rejects, the schema rejects.
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let typo = write("typo.yaml", "name: x\ndefault:\n  region: us-east-1\n");
    assert_invalid(&little, &typo);
    let nested = write("nested.yaml", "defaults:\n  regoin: us-east-1\n");
    assert_invalid(&little, &nested);
    let account = write("account.yaml", "accounts:\n  prod: {role_arn: x}\n");
    assert_invalid(&little, &account);
    let webhook = write(
        "webhook.yaml",
        "audit:\n  notify:\n    webhooks: [{url_env: X, format: discord}]\n",
    );
    assert_invalid(&little, &webhook);
    let no_template = write("s1.yaml", "name: s\n");
    assert_invalid(&stack, &no_template);
    let unknown = write("s2.yaml", "name: s\ntemplate: t\nbogus: 1\n");
    assert_invalid(&stack, &unknown);
    let wrong = write(
        "s3.yaml",
        "name: s\ntemplate: t\ncapabilities: CAPABILITY_IAM\n",
    );
    assert_invalid(&stack, &wrong);
    // And little agrees with the schema on each of them.
    for (file, text) in [
        ("little.yaml", std::fs::read_to_string(&typo).unwrap()),
        ("little.yaml", std::fs::read_to_string(&nested).unwrap()),
    ] {
        let p = TestProject::new();
        p.file(file, &text);
        p.run(&["stacks"]).code(1);
    }
    for text in ["name: s\ntemplate: t\nbogus: 1\n", "name: s\n"] {
        let p = TestProject::new();
        p.template("t", "{}\n").file("stacks/s.yaml", text);
        p.run(&["stacks"]).code(1);
    }
}

/// A template of SQS queues (from `vars.queues`) and, with `vars.policy`, a queue policy that
/// lets another account send to the first queue.
const QUEUES: &str = r#"{
  "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
  "Resources": {
    {% for q in vars.queues %}
    "Queue{{ q.id }}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "{{ stack.name }}-{{ q.id }}", "DelaySeconds": {{ q.delay | default(0) }}}}{{ "," if not loop.last or vars.policy }}
    {% endfor %}
    {% if vars.policy %}
    "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
      "Queues": [{"Ref": "Queue{{ vars.queues[0].id }}"}],
      "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": ["Queue{{ vars.queues[0].id }}", "Arn"]}}]}}}
    {% endif %}
  },
  "Outputs": {"First": {"Value": {"Ref": "Queue{{ vars.queues[0].id }}"}}}
}
"#;

#[test]
fn a_plan_validates_against_the_plan_schema() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let p = TestProject::new().with_emulator(&emulator);
    p.template("queues.json.njk", QUEUES);
    p.stack(
        "queues",
        "queues.json.njk",
        "variables:\n  queues: [{id: A}, {id: B}]\n",
    );
    // Deploy what the project renders now, then change it: a modified, a removed and an added
    // resource, a broadening policy, a parameter and a tag; and a stack that is new.
    let body = p.run(&["render", "queues"]).success().stdout.clone();
    let cfn = CfnClient::new(&emulator_config(&rt, &emulator));
    rt.block_on(async {
        cfn.create_stack(&StackRequest {
            stack_name: "queues".into(),
            template_body: body,
            ..Default::default()
        })
        .await
        .expect("create");
        wait_for_stack(&cfn, "queues", FAST).await.expect("wait");
    });
    p.stack(
        "queues",
        "queues.json.njk",
        "parameters: {Env: prod}\ntags: {team: a}\nvariables:\n  policy: true\n  queues: [{id: A, delay: 5}, {id: C}]\n",
    );
    p.stack(
        "fresh",
        "queues.json.njk",
        "variables:\n  queues: [{id: X}]\n",
    );
    let out = p.run(&["plan", "--all", "--format", "json"]);
    out.success();
    let plan = out.json();
    let queues = &plan["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == "queues")
        .unwrap()
        .clone();
    assert_eq!(queues["status"], "changed", "{queues:#}");
    assert!(
        !queues["risks"].as_array().unwrap().is_empty(),
        "{queues:#}"
    );
    assert!(!queues["template_changes"]["resources"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(!queues["parameter_changes"].as_array().unwrap().is_empty());
    let path = p.path().join("plan.json");
    std::fs::write(&path, &out.stdout).unwrap();
    let schema = schema_file("plan.schema.json");
    assert_valid(&schema, std::slice::from_ref(&path));

    let mut broken = plan.clone();
    broken["stacks"][0]["status"] = "pending".into();
    let broken_path = p.path().join("broken-plan.json");
    std::fs::write(&broken_path, broken.to_string()).unwrap();
    assert_invalid(&schema, &broken_path);
}

#[test]
fn an_audit_report_validates_against_the_audit_schema() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    rt.block_on(
        ecr.create_repository()
            .repository_name("team/mutable")
            .image_tag_mutability(ImageTagMutability::Mutable)
            .send(),
    )
    .expect("create a repository");
    let p = TestProject::new().with_emulator(&emulator);
    p.template(
        "t.json.njk",
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    p.stack("missing", "t.json.njk", "");
    let out = p.run(&["audit", "--format", "json"]);
    out.code(2);
    let report = out.json();
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["resource"] == "team/mutable" && f["remediation"].is_object()),
        "{report:#}"
    );
    assert!(
        findings.iter().any(|f| f["resource"] == "missing"),
        "{report:#}"
    );
    let path = p.path().join("audit.json");
    std::fs::write(&path, &out.stdout).unwrap();
    let schema = schema_file("audit.schema.json");
    assert_valid(&schema, std::slice::from_ref(&path));

    let mut broken = report.clone();
    broken["findings"][0]["severity"] = "SEVERE".into();
    let broken_path = p.path().join("broken-audit.json");
    std::fs::write(&broken_path, broken.to_string()).unwrap();
    assert_invalid(&schema, &broken_path);
}

/// The files of the library `little init` writes with changes: the values that belong to
/// someone else (GitHub repository, mailbox, accounts) are the user's.
const EDITED: [&str; 5] = [
    "stacks/iam/ci.yaml",
    "stacks/pipelines/scan-notify.yaml",
    "stacks/ecr/repositories.yaml",
    "stacks/ecr/registry.yaml",
    "stacks/iam/humans.yaml",
];

/// The files of the library only `little init --org` writes: the organisation's StackSets.
const ORG_ONLY: [&str; 3] = [
    "stacks/iam/audit.yaml",
    "stacks/org/guardrails.yaml",
    "stacks/org/guardrails-us-west-2.yaml",
];

#[test]
fn init_scaffolds_a_project_that_validates() {
    install_python();
    let (p, dir) = no_project();
    let out = p.run_in(
        dir.path(),
        &[
            "init",
            "platform",
            "--github-repo",
            "o/r",
            "--notify-email",
            "a@b.c",
        ],
    );
    out.success()
        .stdout_has("created ")
        .stdout_has("  little.yaml\n")
        .stdout_has("  stacks/ecr/repositories.yaml\n")
        .stdout_has("  .github/workflows/little-plan.yml\n")
        .stdout_has("cd platform")
        .stdout_has("little validate --all")
        .stdout_has("little plan --all");
    assert!(!out.stdout.contains("REPLACE_ME_"), "{}", out.stdout);
    let root = dir.path().join("platform");

    // The bootstrap library, byte for byte but for the values that are the user's, and
    // without the organisation's StackSets.
    for sub in ["stacks", "templates", "policies"] {
        let theirs = files_under(&repo().join(sub), "");
        for f in &theirs {
            let rel = f.strip_prefix(repo()).unwrap();
            let shown = rel.to_string_lossy().replace('\\', "/");
            let copy = root.join(rel);
            if ORG_ONLY.contains(&shown.as_str()) {
                assert!(!copy.exists(), "{shown} is scaffolded without --org");
            } else if EDITED.contains(&shown.as_str()) {
                assert_ne!(
                    std::fs::read(&copy).unwrap(),
                    std::fs::read(f).unwrap(),
                    "{shown}"
                );
            } else if copy.exists() {
                assert_eq!(
                    std::fs::read(&copy).unwrap(),
                    std::fs::read(f).unwrap(),
                    "{}",
                    copy.display()
                );
            } else {
                // Only the StackSets' templates and policies are left out.
                assert!(
                    shown.starts_with("templates/org/")
                        || shown == "templates/iam/audit.json.njk"
                        || shown.starts_with("policies/"),
                    "{shown} is not scaffolded"
                );
            }
        }
        for f in files_under(&root.join(sub), "") {
            assert!(
                repo().join(f.strip_prefix(&root).unwrap()).exists(),
                "{}",
                f.display()
            );
        }
    }
    let ci = std::fs::read_to_string(root.join("stacks/iam/ci.yaml")).unwrap();
    assert!(ci.contains("\"repo:o/r:ref:refs/heads/main\""), "{ci}");
    assert!(!ci.contains("acme"), "{ci}");
    let notify = std::fs::read_to_string(root.join("stacks/pipelines/scan-notify.yaml")).unwrap();
    assert!(notify.contains("notify_emails: [\"a@b.c\"]"), "{notify}");
    let little_yaml = std::fs::read_to_string(root.join("little.yaml")).unwrap();
    assert!(little_yaml.starts_with("# yaml-language-server: $schema=schemas/little.schema.json\n"));
    assert!(little_yaml.contains("name: platform "), "{little_yaml}");
    let workflow = std::fs::read_to_string(root.join(".github/workflows/little-plan.yml")).unwrap();
    assert!(workflow.contains("little plan --all"), "{workflow}");
    let example = repo().join("examples/github-actions/plan.yml");
    assert_eq!(workflow, std::fs::read_to_string(example).unwrap());

    // It is a project: it validates, and its files validate against the scaffolded schemas.
    p.run_in(&root, &["validate", "--all"])
        .success()
        .stdout_has("validated 7 stacks: 0 errors, 0 warnings");
    for (kind, file) in &KINDS[..2] {
        let scaffolded = std::fs::read_to_string(root.join("schemas").join(file)).unwrap();
        let current = p.run_in(dir.path(), &["schema", kind]).stdout.clone();
        assert_eq!(scaffolded, current, "{file}");
    }
    assert_valid(
        &root.join("schemas/little.schema.json"),
        &[root.join("little.yaml")],
    );
    assert_valid(
        &root.join("schemas/stack.schema.json"),
        &files_under(&root.join("stacks"), "yaml"),
    );
}

/// Without flags, every value that is someone else's is a placeholder, which the next steps
/// list and `validate` (and every command that loads the project) refuses at its line.
#[test]
fn init_leaves_placeholders_that_validate_refuses() {
    let (p, dir) = no_project();
    let out = p.run_in(dir.path(), &["init", "platform"]);
    out.success()
        .stdout_has("  # replace the placeholders left (`little validate` refuses each, at its line):\n")
        .stdout_has("  #   stacks/iam/ci.yaml: REPLACE_ME_GITHUB_ORG (or scaffold with `--github-repo OWNER/NAME`)\n")
        .stdout_has("  #   stacks/pipelines/scan-notify.yaml: REPLACE_ME_NOTIFY_EMAIL (or scaffold with `--notify-email ADDRESS`)\n");
    let root = dir.path().join("platform");
    let out = p.run_in(&root, &["validate", "--all"]);
    out.code(1)
        .stderr_has("error[placeholder]: `REPLACE_ME_GITHUB_ORG` is a placeholder left by `little init`\n  --> stacks/iam/ci.yaml:10:13\n")
        .stderr_has("  --> stacks/iam/ci.yaml:10:35\n")
        .stderr_has("  --> stacks/iam/ci.yaml:11:13\n")
        .stderr_has("error[placeholder]: `REPLACE_ME_NOTIFY_EMAIL` is a placeholder left by `little init`\n --> stacks/pipelines/scan-notify.yaml:8:19\n")
        .stderr_has("help: replace it with the address that gets the scan notifications, or scaffold with `little init --notify-email ADDRESS`\n")
        .stderr_has("error: 5 errors found");
    p.run_in(&root, &["plan", "--all"])
        .code(1)
        .stderr_has("error[placeholder]");

    // A placeholder a template or policy holds is refused at its line too.
    std::fs::write(
        root.join("stacks/iam/ci.yaml"),
        std::fs::read_to_string(root.join("stacks/iam/ci.yaml"))
            .unwrap()
            .replace("REPLACE_ME_GITHUB_ORG", "o")
            .replace("REPLACE_ME_GITHUB_REPO", "r"),
    )
    .unwrap();
    std::fs::write(
        root.join("stacks/pipelines/scan-notify.yaml"),
        std::fs::read_to_string(root.join("stacks/pipelines/scan-notify.yaml"))
            .unwrap()
            .replace("REPLACE_ME_NOTIFY_EMAIL", "a@b.c"),
    )
    .unwrap();
    let policy = root.join("policies/trust/github-oidc.json.njk");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, format!("{{# REPLACE_ME_AUDIENCE #}}\n{text}")).unwrap();
    p.run_in(&root, &["validate", "iam-ci"])
        .code(1)
        .stderr_has("error[placeholder]: `REPLACE_ME_AUDIENCE` is a placeholder left by `little init`\n --> policies/trust/github-oidc.json.njk:1:4\n");
    std::fs::write(&policy, text).unwrap();
    p.run_in(&root, &["validate", "--all"]).success();
}

/// With --org, the organisation's StackSets are scaffolded, their ids placeholders; each
/// `REPLACE_ME_` is reported alone, not with the errors its value causes (an account id that
/// is no id, an OU id that is none).
#[test]
fn init_org_scaffolds_the_stacksets_with_placeholders() {
    let (p, dir) = no_project();
    p.run_in(
        dir.path(),
        &[
            "init",
            "infra",
            "--org",
            "--github-repo",
            "o/r",
            "--notify-email",
            "a@b.c",
        ],
    )
    .success()
    .stdout_has("  #   little.yaml: REPLACE_ME_TOOLING_ACCOUNT_ID\n")
    .stdout_has("  #   stacks/iam/audit.yaml: REPLACE_ME_WORKLOADS_OU\n");
    let root = dir.path().join("infra");
    for f in ORG_ONLY {
        assert!(root.join(f).is_file(), "{f}");
    }
    let audit = std::fs::read_to_string(root.join("stacks/iam/audit.yaml")).unwrap();
    assert!(audit.contains("    - infra-admin\n"), "{audit}");
    let out = p.run_in(&root, &["validate", "--all"]);
    out.code(1)
        .stderr_has("error[placeholder]: `REPLACE_ME_TOOLING_ACCOUNT_ID` is a placeholder left by `little init`\n  --> little.yaml:")
        .stderr_has("error: 6 errors found");
    assert!(!out.stderr.contains("bad-account"), "{}", out.stderr);
    p.run_in(dir.path(), &["init", "x", "--github-repo", "acme"])
        .code(1)
        .stderr_has("`--github-repo acme`: expected OWNER/NAME");
    assert!(!dir.path().join("x").exists());
}

#[test]
fn init_defaults_to_the_current_directory() {
    let (p, dir) = no_project();
    let flags = ["--github-repo", "o/r", "--notify-email", "a@b.c"];
    p.run_in(dir.path(), &[&["init"], &flags[..]].concat())
        .success()
        .stdout_has("little validate --all");
    assert!(dir.path().join("little.yaml").is_file());
    assert!(!p
        .run_in(dir.path(), &[&["init"], &flags[..]].concat())
        .stdout
        .contains("cd "));
    p.run_in(dir.path(), &["stacks"])
        .success()
        .stdout_has("ecr-repositories");
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing() {
    let (p, dir) = no_project();
    let root = dir.path();
    std::fs::write(root.join("little.yaml"), "name: mine\n").unwrap();
    std::fs::create_dir_all(root.join("stacks/ecr")).unwrap();
    std::fs::write(root.join("stacks/ecr/registry.yaml"), "mine\n").unwrap();
    let out = p.run_in(root, &["init", "."]);
    out.code(3)
        .stderr_has("refused: `little init` would overwrite 2 files in `.`, so it wrote nothing:")
        .stderr_has("\n  little.yaml\n")
        .stderr_has("\n  stacks/ecr/registry.yaml");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(!root.join("templates").exists());
    assert!(!root.join("stacks/ecr/repositories.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("little.yaml")).unwrap(),
        "name: mine\n"
    );

    // A file where a folder must go is in the way too.
    let other = root.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("templates"), "").unwrap();
    p.run_in(root, &["init", "other"])
        .code(3)
        .stderr_has("  templates/ecr/registry.json.njk");

    // DIR itself is a file: an error naming it.
    std::fs::write(root.join("plain"), "").unwrap();
    p.run_in(root, &["init", "plain"])
        .code(1)
        .stderr_has("error: cannot write `plain`");
}

#[test]
fn completions_for_every_shell() {
    let (p, dir) = no_project();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = p.run_in(dir.path(), &["completions", shell]);
        out.success();
        assert!(out.stdout.len() > 100, "{shell}: {}", out.stdout);
        assert!(out.stdout.contains("plan"), "{shell}: no `plan`");
        assert!(out.stdout.contains("init"), "{shell}: no `init`");
    }
    let bad = p.run_in(dir.path(), &["completions", "tcsh"]);
    assert_ne!(bad.code, 0);
    bad.stderr_has("invalid value 'tcsh'");
}

#[test]
fn man_pages() {
    let (p, dir) = no_project();
    let out = p.run_in(dir.path(), &["man"]);
    out.success().stdout_has(".TH little 1");
    for command in [
        "render", "validate", "plan", "apply", "audit", "init", "schema",
    ] {
        assert!(out.stdout.contains(command), "no `{command}` in the page");
    }
    let pages = dir.path().join("man");
    let out = p.run_in(dir.path(), &["man", "--out", "man"]);
    out.success().stderr_has("wrote man/little.1");
    for page in [
        "little.1",
        "little-plan.1",
        "little-init.1",
        "little-ecr-promote.1",
    ] {
        let text =
            std::fs::read_to_string(pages.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
}

#[test]
fn version_names_the_git_revision() {
    let (p, dir) = no_project();
    let out = p.run_in(dir.path(), &["--version"]);
    out.success();
    let line = out.stdout.trim_end();
    let rest = line
        .strip_prefix(concat!("little ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected version line {line:?}"));
    let git = std::process::Command::new("git")
        .args([
            "-C",
            repo().to_str().unwrap(),
            "rev-parse",
            "--short=12",
            "HEAD",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success() && repo().join(".git").exists());
    match git {
        Some(o) => {
            let head = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            assert!(
                rest == head || rest == format!("{head}-dirty"),
                "{rest:?} is not HEAD ({head})"
            );
        }
        None => assert_eq!(rest, "unknown"),
    }
}

/// A loopback HTTP server that answers every request with `status`, or never answers when
/// `status` is 0; its URL.
fn server(status: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            if status == 0 {
                held.push(stream);
                continue;
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
        }
    });
    url
}

#[test]
fn healthcheck_exits_0_on_2xx_and_1_otherwise() {
    let (p, dir) = no_project();
    let ok = server(200);
    p.run_in(dir.path(), &["healthcheck", "--url", &ok])
        .success()
        .stdout_has("answered 200 OK");
    // Without --url: little serve's /healthz at the port of its variables (the image sets
    // APP_PORT as ecr_exporter's did).
    let ok = server(200);
    let port = ok.rsplit(':').next().unwrap().trim_end_matches("/healthz");
    let out = p
        .command(dir.path(), &["healthcheck"])
        .env("APP_PORT", port)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("http://127.0.0.1:{port}/healthz answered 200")),
        "{stdout}"
    );
    let bad = server(503);
    p.run_in(dir.path(), &["healthcheck", "--url", &bad])
        .code(1)
        .stderr_has("unhealthy: ")
        .stderr_has("answered 503");
    let closed = format!("http://127.0.0.1:{}/healthz", crate::harness::free_port());
    p.run_in(dir.path(), &["healthcheck", "--url", &closed])
        .code(1)
        .stderr_has("unhealthy: ");
    let silent = server(0);
    let start = Instant::now();
    p.run_in(
        dir.path(),
        &["healthcheck", "--url", &silent, "--timeout", "1"],
    )
    .code(1)
    .stderr_has("no answer within 1 s");
    assert!(start.elapsed() < Duration::from_secs(4));
    p.run_in(dir.path(), &["healthcheck", "--url", "not a url"])
        .code(1)
        .stderr_has("error: `not a url` is not a valid URL");
}

/// The acceptance of issue 22: a project scaffolded with the two flags plans on the emulator
/// with no other step (no organisation, no account id to write).
#[test]
fn an_initialised_project_plans_on_the_emulator_with_no_extra_step() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    let root = p.path().join("platform");
    p.run(&[
        "init",
        root.to_str().unwrap(),
        "--github-repo",
        "o/r",
        "--notify-email",
        "a@b.c",
    ])
    .success();
    p.run_in(&root, &["validate", "--all"]).success();
    p.run_in(&root, &["plan", "--all"])
        .success()
        .stdout_has("Plan: 7 new, 0 changed, 0 unchanged, 0 failed.");
}

/// A project scaffolded with --org, its placeholders replaced as the next steps ask (the
/// tooling account is the emulator's, the organisation the one made in it), applies on the
/// emulator from nothing, and `status` shows every stack.
#[test]
fn an_initialised_project_applies_on_the_emulator() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    let root = p.path().join("platform");
    p.run(&[
        "init",
        root.to_str().unwrap(),
        "--org",
        "--github-repo",
        "o/r",
        "--notify-email",
        "a@b.c",
    ])
    .success();
    let config = std::fs::read_to_string(root.join("little.yaml")).unwrap();
    // termination protection stays on: the emulator's launcher implements it.
    assert!(config.contains("termination_protection: true"), "{config}");
    // What a user does: their own ids where the placeholders are (here the library's example
    // ids, which `library_organisation` then replaces by the emulator's).
    for file in [
        "little.yaml",
        "stacks/iam/audit.yaml",
        "stacks/org/guardrails.yaml",
        "stacks/org/guardrails-us-west-2.yaml",
    ] {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("REPLACE_ME_TOOLING_ACCOUNT_ID", "123456789012")
            .replace("REPLACE_ME_ORGANIZATION_ID", "o-a1b2c3d4e5")
            .replace("REPLACE_ME_WORKLOADS_OU", "ou-a1b2-c3d4e5f6")
            .replace("REPLACE_ME_INFRASTRUCTURE_OU", "ou-a1b2-k1l2m3n4");
        std::fs::write(&path, text).unwrap();
    }
    crate::harness::library_organisation(&emulator, &root);
    p.run_in(&root, &["validate", "--all"]).success();
    let applied = p.run_in(&root, &["apply", "--all", "--yes", "--allow-broadening"]);
    applied.success();
    let status = p.run_in(&root, &["status", "--format", "json"]);
    status.success();
    let text = status.stdout.clone();
    for stack in [
        "ecr-repositories",
        "ecr-registry",
        "iam-ci",
        "iam-humans",
        "iam-audit",
        "pipeline-image-check",
        "pipeline-scan-notify",
    ] {
        assert!(
            text.contains(&format!("\"{stack}\"")),
            "{stack} missing: {text}"
        );
    }
    // Nothing is left to do.
    p.run_in(&root, &["plan", "--all", "--detailed-exitcode"])
        .success();
}
