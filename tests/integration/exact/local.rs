//! Exact output of the commands that need no AWS: help, render, stacks, validate and the
//! errors of a mistyped stack name or flag. (The emulator's commands are in `aws.rs`.)

use super::{run, Exact};
use crate::harness::TestProject;

/// One queue, its name the stack's and its delay a variable.
const QUEUE: &str = r#"{
  "Resources": {
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "{{ stack.name }}", "DelaySeconds": {{ vars.delay | default(0) }}}}
  },
  "Outputs": {"Url": {"Value": {"Ref": "Queue"}}}
}
"#;

/// `jobs` (us-east-1, delay 5) and `mail` (us-west-2, after jobs), both from [`QUEUE`].
fn project() -> TestProject {
    let p = TestProject::new();
    p.template("queue.json.njk", QUEUE);
    p.stack("jobs", "queue.json.njk", "variables:\n  delay: 5\n");
    p.stack(
        "mail",
        "queue.json.njk",
        "region: us-west-2\ndepends_on: [jobs]\n",
    );
    p
}

/// A help change is a reviewed change. (The endpoint shown is the harness's: a port where
/// nothing listens, so that a test that did not ask for AWS cannot reach it.)
#[test]
fn exact_top_level_help() {
    let p = TestProject::new();
    let out = run(&p, &["--help"]);
    Exact::new(&out).trim_line_ends().is(
        0,
        r#"
            Render, validate, plan, apply and audit CloudFormation stacks for container platforms on AWS.

            A project is a directory with `little.yaml`, stack configs in `stacks/`, templates in `templates/`
            and policy documents in `policies/`.

            Usage: little [OPTIONS] <COMMAND>

            Commands:
              render       Render stack templates into CloudFormation
              validate     Render and lint stacks, reporting every problem
              plan         Show what an apply would change: template diff, change set and risks
              apply        Deploy stacks through change sets, after showing the plan and asking
              adopt        Import resources that already exist into the stacks whose templates declare them
              discover     Write stack configs for the ECR repositories and IAM roles no stack manages
              destroy      Delete stacks, dependents first, after showing what is deleted and what retained
              status       Show deployed stacks: status, last update, drift status, outputs
              drift        Report drift: deployed resources changed outside CloudFormation
              events       Show a stack's events, oldest first
              outputs      Show a deployed stack's outputs
              audit        Audit the ECR registry and the project's stacks against policy
              serve        Run the audit on a schedule and serve metrics, the report and continuous scanning
              check        Check what is inside an image: labels, user, secrets, OS, runtimes, size, history
              ecr          ECR image commands: the scan gate, promotion and little-automation's verbs
              stack        little-automation's stack verbs on a stackParams.json anywhere (or a project stack)
              whoami       Show who little acts as: caller, account, region, credentials, account guard
              iam-policy   Print the minimal IAM policy (JSON) a command needs for this project
              stacks       List the project's stacks in dependency order
              init         Scaffold a project: little.yaml, the bootstrap library, JSON schemas, a CI workflow
              schema       Print the JSON Schema of little.yaml, stack configs, the plan or the audit report
              completions  Print a shell completion script
              man          Print the man page (roff), or write one page per command with --out
              healthcheck  Exit 0 when a URL answers 2xx (default: little serve's /healthz), else 1
              help         Print this message or the help of the given subcommand(s)

            Options:
                  --project <DIR>
                      The project directory [default: the nearest directory upward with a little.yaml]

                      [env: LITTLE_PROJECT=]

                  --profile <NAME>
                      The AWS profile: credentials come from it alone, even with keys in the environment
                      (AWS_PROFILE, in the environment, comes after AWS_ACCESS_KEY_ID, as in the AWS CLI)

                  --region <REGION>
                      The AWS region of stacks that name none, over little.yaml's defaults.region and
                      AWS_REGION; an error for a selected stack that names another

                  --endpoint-url <URL>
                      Send every AWS call to this endpoint (such as the local emulator)

                      [env: AWS_ENDPOINT_URL=http://127.0.0.1:9]

                  --color <COLOR>
                      When to colour output

                      [default: auto]
                      [possible values: auto, always, never]

              -v, --verbose
                      More detail on stderr, ending with the number of AWS API calls per operation; a plan's
                      text shows long values whole instead of shortened to the width

              -q, --quiet
                      Only errors on stderr

              -h, --help
                      Print help (see a summary with '-h')

              -V, --version
                      Print version

            Exit codes: 0 success, 1 error, 2 changes or findings, 3 refused for safety.
            "#,
        "",
    );
}

#[test]
fn exact_plan_help() {
    let p = TestProject::new();
    let out = run(&p, &["plan", "--help"]);
    Exact::new(&out).trim_line_ends().is(
        0,
        r#"
            Show what an apply would change: template diff, change set and risks

            For each stack: the deployed state (DescribeStacks, GetTemplate), a semantic diff of the rendered
            template, parameters, tags and settings against it, a CloudFormation change set when something may
            change (none for a stack that means what is deployed, nor, with --change-set auto, for one whose
            every change is known to update in place: its changes are predicted; deleted afterwards unless --out
            saves the plan), and the risks: destructive (removal or replacement of a data-bearing resource) and
            broadening (wider IAM or resource-policy access).

            Text fits the width of the terminal (without one: COLUMNS, else 120 columns): prose and lists wrap,
            long values are shortened with `…` (-v shows them whole). Markdown is a summary table (stack,
            change, risks) and one collapsible section per stack, kept under 60,000 characters for a
            pull-request comment: beyond that the least important parts are cut, and a line says what was cut
            and where the whole plan is.

            Usage: little plan [OPTIONS] [STACK]...

            Arguments:
              [STACK]...
                      Stack names (as in each config's `name`)

            Options:
                  --all
                      Every stack in the project

                  --project <DIR>
                      The project directory [default: the nearest directory upward with a little.yaml]

                      [env: LITTLE_PROJECT=]

                  --format <FORMAT>
                      Output format

                      [default: text]
                      [possible values: text, json, markdown]

                  --profile <NAME>
                      The AWS profile: credentials come from it alone, even with keys in the environment
                      (AWS_PROFILE, in the environment, comes after AWS_ACCESS_KEY_ID, as in the AWS CLI)

                  --detailed-exitcode
                      Exit 0 when nothing would change, 2 when something would, 1 on error

                  --region <REGION>
                      The AWS region of stacks that name none, over little.yaml's defaults.region and
                      AWS_REGION; an error for a selected stack that names another

                  --endpoint-url <URL>
                      Send every AWS call to this endpoint (such as the local emulator)

                      [env: AWS_ENDPOINT_URL=http://127.0.0.1:9]

                  --out <FILE>
                      Save the plan (with its change sets, kept for `little apply --plan FILE`)

                  --color <COLOR>
                      When to colour output

                      [default: auto]
                      [possible values: auto, always, never]

                  --concurrency <CONCURRENCY>
                      The most stacks to plan at once (fewer while CloudFormation throttles)

                      [default: 64]

                  --change-set <WHEN>
                      When to ask CloudFormation for a change set of a changed or new stack. `auto`: only where
                      the comparison and CloudFormation's resource schemas cannot tell what it would say (a
                      change that replaces a resource, a changed condition, a type without a schema, ...); the
                      others are planned from the comparison, their resource changes marked predicted. `always`:
                      for every one, so that CloudFormation also checks each template. With --out, always;
                      `apply` always makes them

                      Possible values:
                      - auto:   Only where the comparison cannot tell what it would say
                      - always: For every changed or new stack

                      [default: auto]

              -v, --verbose
                      More detail on stderr, ending with the number of AWS API calls per operation; a plan's
                      text shows long values whole instead of shortened to the width

              -q, --quiet
                      Only errors on stderr

                  --refresh-templates
                      Plan a deployed stack whose template means what is rendered but is written differently (a
                      policy text with other spacing) through a change set, so that the resources it would send
                      again for their text alone are changes to apply; otherwise the stack is unchanged. A plan
                      saved with --out keeps the decision

                  --summary
                      Print only the summary table: each stack's change and risks, then the totals (text and
                      markdown)

                  --step-summary
                      Also append the Markdown plan to the file GITHUB_STEP_SUMMARY names (the job summary of
                      GitHub Actions), whatever --format prints

              -h, --help
                      Print help (see a summary with '-h')

              -V, --version
                      Print version

            Examples:
              little plan --all
              little plan --all --format markdown --step-summary > plan.md
              little plan --all --summary
              little plan --all --detailed-exitcode --out plan.json
            "#,
        "",
    );
}

/// One stack: its template, as CloudFormation JSON.
#[test]
fn exact_render_one_stack() {
    let p = project();
    let out = run(&p, &["render", "jobs"]);
    Exact::new(&out).is(
        0,
        r#"
            {
              "Resources": {
                "Queue": {
                  "Type": "AWS::SQS::Queue",
                  "Properties": {
                    "QueueName": "jobs",
                    "DelaySeconds": 5
                  }
                }
              },
              "Outputs": {
                "Url": {
                  "Value": {
                    "Ref": "Queue"
                  }
                }
              }
            }
            "#,
        "",
    );
}

/// Several stacks: one JSON object keyed by stack name, in the project's order.
#[test]
fn exact_render_all_stacks() {
    let p = project();
    let out = run(&p, &["render", "--all"]);
    Exact::new(&out).is(
        0,
        r#"
            {
              "jobs": {
                "Resources": {
                  "Queue": {
                    "Type": "AWS::SQS::Queue",
                    "Properties": {
                      "QueueName": "jobs",
                      "DelaySeconds": 5
                    }
                  }
                },
                "Outputs": {
                  "Url": {
                    "Value": {
                      "Ref": "Queue"
                    }
                  }
                }
              },
              "mail": {
                "Resources": {
                  "Queue": {
                    "Type": "AWS::SQS::Queue",
                    "Properties": {
                      "QueueName": "mail",
                      "DelaySeconds": 0
                    }
                  }
                },
                "Outputs": {
                  "Url": {
                    "Value": {
                      "Ref": "Queue"
                    }
                  }
                }
              }
            }
            "#,
        "",
    );
}

/// As YAML, a stream with one document per stack; with --out, one file per stack, listed on
/// stderr.
#[test]
fn exact_render_yaml_stream_and_files() {
    let p = project();
    let out = run(&p, &["render", "--all", "--format", "yaml"]);
    Exact::new(&out).is(
        0,
        r#"
            ---
            # stack: jobs
            Resources:
              Queue:
                Type: AWS::SQS::Queue
                Properties:
                  QueueName: jobs
                  DelaySeconds: 5
            Outputs:
              Url:
                Value:
                  Ref: Queue
            ---
            # stack: mail
            Resources:
              Queue:
                Type: AWS::SQS::Queue
                Properties:
                  QueueName: mail
                  DelaySeconds: 0
            Outputs:
              Url:
                Value:
                  Ref: Queue
            "#,
        "",
    );
    let out = run(&p, &["render", "--all", "--out", "out"]);
    Exact::new(&out).is(
        0,
        "",
        r#"
            wrote out/jobs.json
            wrote out/mail.json
            "#,
    );
}

#[test]
fn exact_stacks_listing() {
    let p = project();
    let out = run(&p, &["stacks"]);
    Exact::new(&out).is(
        0,
        r#"
            STACK  TEMPLATE        REGION     ACCOUNT  DEPENDS ON
            jobs   queue.json.njk  us-east-1  -        -
            mail   queue.json.njk  us-west-2  -        jobs
            "#,
        "",
    );
}

#[test]
fn exact_validate_ok() {
    let p = project();
    let out = run(&p, &["validate", "--all"]);
    Exact::new(&out).is(
        0,
        r#"
            jobs                             ok
            mail                             ok
            validated 2 stacks: 0 errors, 0 warnings
            "#,
        "",
    );
}

/// A template error and a lint error, each at its file:line:column with the line shown; the
/// other stacks still validated.
#[test]
fn exact_validate_template_errors() {
    let p = project();
    p.template(
        "broken.json.njk",
        "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": {{ vars.nope }}}}}}\n",
    );
    p.stack("broken", "broken.json.njk", "");
    p.template(
        "lint.json.njk",
        "{\n  \"Resources\": {\n    \"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": {\"Ref\": \"Nope\"}}}\n  }\n}\n",
    );
    p.stack("lint", "lint.json.njk", "");
    let out = run(&p, &["validate", "--all"]);
    Exact::new(&out).is(
        1,
        r#"
            broken                           1 error
            jobs                             ok
            lint                             1 error
            mail                             ok
            validated 4 stacks: 2 errors, 0 warnings
            "#,
        r#"
            error[undefined-variable]: undefined value: `vars.nope` is undefined
             --> templates/broken.json.njk:1:80
              |
            1 | {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {{ vars.nope }}}}}}
              |                                                                                ^
              = stack: broken

            error[dangling-ref]: `Ref` to `Nope`, which is not a parameter, resource or pseudo parameter
             --> templates/lint.json.njk:3:74
              |
            3 |     "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Nope"}}}
              |                                                                          ^
              = stack: lint
              = help: at `/Resources/Q/Properties/QueueName/Ref` in the rendered template

            "#,
    );
}

/// A mistyped key in a stack config stops before any stack is validated.
#[test]
fn exact_validate_config_error() {
    let p = project();
    p.file(
        "stacks/cfg.yaml",
        "name: cfg\ntemplat: queue.json.njk\nregion: us-east-1\n",
    );
    let out = run(&p, &["validate", "--all"]);
    Exact::new(&out).is(
        1,
        "",
        r#"
            error[unknown-key]: unknown field `templat`, expected one of `name`, `template`, `region`, `account`, `termination_protection`, `capabilities`, `depends_on`, `parameters`, `tags`, `variables`, `timeout_in_minutes`, `description`, `stack_policy`, `notification_arns`, `role_arn`, `stack_set`
             --> stacks/cfg.yaml:2:1
              |
            2 | templat: queue.json.njk
              | ^

            error: 1 error found
            "#,
    );
}

/// An unknown stack is an error (exit 1) with the nearest name; a wrong flag is a usage error
/// (exit 1, not clap's 2, which means changes).
#[test]
fn exact_unknown_stack_and_unknown_flag() {
    let p = project();
    let out = run(&p, &["plan", "job"]);
    Exact::new(&out).is(1, "", "error: unknown stack `job` (did you mean `jobs`?)\n");
    let out = run(&p, &["plan", "jobs", "--yes"]);
    Exact::new(&out).is(
        1,
        "",
        r#"
            error: unexpected argument '--yes' found

              tip: to pass '--yes' as a value, use '-- --yes'

            Usage: little plan <STACK>...

            For more information, try '--help'.
            "#,
    );
}

/// Outside a project: where little looked, with the temporary directory normalised.
#[test]
fn exact_outside_a_project() {
    let p = TestProject::new();
    std::fs::remove_file(p.path().join("little.yaml")).unwrap();
    let out = run(&p, &["stacks"]);
    Exact::new(&out).project(p.path()).is(
        1,
        "",
        "error: no `little.yaml` found in `[project]` or any parent directory\n",
    );
}
