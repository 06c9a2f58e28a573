//! The command line: the clap definitions are here; [`commands`] runs one command each (its
//! options built from the arguments, one operation called, its result handed to one printer,
//! its verdict returned), on the [`context`] of the run; `ui` is the terminal side of apply
//! and destroy; [`output`] is stdout. Nothing else happens in `cli`: operations live in their
//! modules and never see clap.

pub mod commands;
pub mod context;
mod deploy_args;
mod group_args;
mod iam_args;
pub mod output;
mod ui;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use deploy_args::{AdoptArgs, ApplyArgs, DestroyArgs, DiscoverArgs};
pub use group_args::*;
pub use iam_args::{IamPolicyArgs, PolicyCommand};

/// Render, validate, plan, apply and audit CloudFormation stacks for container platforms on AWS.
///
/// A project is a directory with `little.yaml`, stack configs in `stacks/`, templates in
/// `templates/` and policy documents in `policies/`.
#[derive(Debug, Parser)]
#[command(
    name = "little",
    version = VERSION,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 success, 1 error, 2 changes or findings, 3 refused for safety."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The project directory [default: the nearest directory upward with a little.yaml]
    #[arg(long, global = true, value_name = "DIR", env = "LITTLE_PROJECT")]
    pub project: Option<PathBuf>,

    /// The AWS profile: credentials come from it alone, even with keys in the environment
    /// (AWS_PROFILE, in the environment, comes after AWS_ACCESS_KEY_ID, as in the AWS CLI)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// The AWS region of stacks that name none, over little.yaml's defaults.region and
    /// AWS_REGION; an error for a selected stack that names another
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// Send every AWS call to this endpoint (such as the local emulator)
    #[arg(long, global = true, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,

    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// More detail on stderr, ending with the number of AWS API calls per operation; a plan's
    /// text shows long values whole instead of shortened to the width
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render stack templates into CloudFormation
    ///
    /// With one stack, prints its template. With several and no --out, prints a JSON object
    /// (or a YAML stream) keyed by stack name. With --out, writes DIR/<stack>.json (or .yaml).
    #[command(
        after_help = "Examples:\n  little render ecr-repositories\n  little render --all --out build/templates\n  little render iam-ci --format yaml"
    )]
    Render(RenderArgs),

    /// Render and lint stacks, reporting every problem
    ///
    /// Checks configs, templates and policies, and the rendered CloudFormation's structure:
    /// sections, references (Ref, GetAtt, Sub, DependsOn, conditions), resource types,
    /// parameters, outputs and size limits.
    ///
    /// Then checks the stacks against each other: capabilities a stack's list leaves out, one
    /// physical name made twice in an account and region, `stack_output()` keys the producing
    /// template does not output, imports no project stack exports and exports made twice, role
    /// ARNs of another partition than the region. Makes no AWS call.
    #[command(
        after_help = "Examples:\n  little validate --all\n  little validate ecr-repositories --format json"
    )]
    Validate(ValidateArgs),

    /// Show what an apply would change: template diff, change set and risks
    ///
    /// For each stack: the deployed state (DescribeStacks, GetTemplate), a semantic diff of the
    /// rendered template, parameters, tags and settings against it, a CloudFormation change set
    /// when something may change (none for a stack that means what is deployed, nor, with
    /// --change-set auto, for one whose every change is known to update in place: its changes
    /// are predicted; deleted afterwards unless --out saves the plan), and the risks:
    /// destructive (removal or replacement of a data-bearing resource) and broadening (wider
    /// IAM or resource-policy access).
    ///
    /// Text fits the width of the terminal (without one: COLUMNS, else 120 columns): prose and
    /// lists wrap, long values are shortened with `…` (-v shows them whole). Markdown is a
    /// summary table (stack, change, risks) and one collapsible section per stack, kept under
    /// 60,000 characters for a pull-request comment: beyond that the least important parts
    /// are cut, and a line says what was cut and where the whole plan is.
    #[command(
        after_help = "Examples:\n  little plan --all\n  little plan --all --format markdown --step-summary > plan.md\n  little plan --all --summary\n  little plan --all --detailed-exitcode --out plan.json"
    )]
    Plan(PlanArgs),

    /// Deploy stacks through change sets, after showing the plan and asking
    ///
    /// Plans, shows the plan, refuses destructive or broadening changes unless allowed (exit 3),
    /// asks for approval on a terminal (or takes --yes; without a terminal and without --yes it
    /// refuses, exit 3), then executes the change sets in dependency order and waits, printing
    /// each stack event once. A failure's root cause is repeated at the end with the way out.
    #[command(
        after_help = "Examples:\n  little apply --all\n  little apply ecr-repositories --yes\n  little apply --plan plan.json --yes\n  little apply iam-ci --allow-broadening"
    )]
    Apply(ApplyArgs),

    /// Import resources that already exist into the stacks whose templates declare them
    ///
    /// For each stack, finds the resources its template would create that already exist,
    /// matched by physical name (ECR RepositoryName, IAM RoleName, S3 BucketName, SQS
    /// QueueName, SNS TopicName, KMS AliasName), and shows them: what each holds (a
    /// repository's images, whether a bucket holds objects), how it differs from the template
    /// (repositories and roles; the other types are not compared), and what is created
    /// instead. Once approved (or with --yes; without a terminal and without --yes it refuses,
    /// exit 3), an IMPORT change set takes them into the stack as they are, with
    /// DeletionPolicy Retain when the template sets none; nothing is recreated, no image is
    /// lost. Then the stack is applied with its full template (the plan shows the differences
    /// changed), as `little apply --yes` would. A resource named with --resource that does not
    /// exist, or whose type cannot be imported, is an error naming it.
    #[command(
        after_help = "Examples:\n  little adopt ecr-repositories\n  little adopt ecr-repositories --resource TeamAApiRepo --yes"
    )]
    Adopt(AdoptArgs),

    /// Write stack configs for the ECR repositories and IAM roles no stack manages
    ///
    /// Lists the ECR repositories (with their lifecycle and repository policies) and the IAM
    /// roles of the account and region (--region, else little.yaml's default) that no
    /// CloudFormation stack holds (ListStacks, ListStackResources; roles AWS owns are left
    /// out), and writes stack configs that reproduce them: `<NAME>-repositories` for
    /// templates/ecr/repositories.json.njk, `<NAME>-roles` for templates/iam/roles.json.njk.
    /// Put them under stacks/ and run `little adopt` to take the resources over. Where the
    /// repositories template's safety defaults (immutable tags, scan on push, a lifecycle
    /// policy) differ from a repository, the config's header says so and the adopt plan
    /// shows the change.
    #[command(
        after_help = "Examples:\n  little discover\n  little discover --region eu-west-1 --output stacks/legacy --name legacy"
    )]
    Discover(DiscoverArgs),

    /// Delete stacks, dependents first, after showing what is deleted and what retained
    ///
    /// Shows every resource each stack deletes or retains, asks once (or takes --yes; without a
    /// terminal and without --yes it refuses, exit 3), then deletes dependents first,
    /// independent stacks concurrently. Refuses (exit 3, nothing deleted) while a deployed
    /// stack outside the run uses one of them (stack_output(), depends_on, or an import of its
    /// exports), and while termination protection is on without --disable-termination-protection.
    /// A stack that fails to delete keeps the stacks it depends on.
    #[command(
        after_help = "Examples:\n  little destroy image-check\n  little destroy scan-notify image-check --yes --disable-termination-protection\n  little destroy --all --yes"
    )]
    Destroy(DestroyArgs),

    /// Show deployed stacks: status, last update, drift status, outputs
    #[command(
        after_help = "Examples:\n  little status\n  little status ecr-repositories --format json"
    )]
    Status(StatusArgs),

    /// Report drift: deployed resources changed outside CloudFormation
    ///
    /// Runs CloudFormation's drift detection on each deployed stack and waits for it. Where
    /// it is unavailable, and for the resources it does not check, compares live ECR
    /// repositories and IAM roles with the rendered template. Exits 2 when a stack drifted.
    #[command(
        after_help = "Examples:\n  little drift --all\n  little drift ecr-repositories --format json"
    )]
    Drift(DriftArgs),

    /// Show a stack's events, oldest first
    #[command(
        after_help = "Examples:\n  little events ecr-repositories --limit 50\n  little events ecr-repositories --follow"
    )]
    Events(EventsArgs),

    /// Show a deployed stack's outputs
    #[command(
        after_help = "Examples:\n  little outputs iam-ci\n  little outputs iam-ci --format json | jq -r .CiRoleArn"
    )]
    Outputs(OutputsArgs),

    /// Audit the ECR registry and the project's stacks against policy
    ///
    /// Checks every repository of the registry (not only the project's): tag immutability
    /// (ECR.2), scanning (ECR.1), lifecycle policy (ECR.3), encryption (ECR.5), repository
    /// policy (public or unknown cross-account access), image scan findings; and every stack of
    /// the project (deployed, healthy, termination protection, drift status). Exit 2 when a
    /// finding is at or above --fail-on (one that --remediate fixed does not count). A check
    /// whose call IAM denies is reported as not checked (naming the permission); the others
    /// still run.
    #[command(
        after_help = "Examples:\n  little audit\n  little audit --check ecr.tag-immutability --remediate\n  little audit --format sarif > audit.sarif\n  little audit --accounts --fail-on CRITICAL --format junit > audit.xml\n  little audit --org --no-stacks --format json > org-audit.json\n  little audit --drift --notify"
    )]
    Audit(AuditArgs),

    /// Run the audit on a schedule and serve metrics, the report and continuous scanning
    ///
    /// Runs the audit at start and then every --interval, never overlapping; a failed (or
    /// panicking) run keeps the last good results and counts an error. Serves /metrics
    /// (OpenMetrics: aws_ecr_* and little_*), /healthz, /readyz (503 once the last good audit
    /// is older than --stale-after intervals), /report (HTML), /report.json, /configs (scan
    /// configurations; POST and DELETE need the bearer token in LITTLE_SERVE_TOKEN), /summary
    /// and /findings/{id} (Atom), each with or without a trailing slash. With a read token
    /// (LITTLE_SERVE_READ_TOKEN or --read-token-file) every endpoint but /healthz and /readyz
    /// needs it; listening beyond loopback without one is refused (exit 3) unless
    /// --allow-public-unauthenticated. Stops cleanly on SIGTERM or Ctrl-C.
    ///
    /// A drop-in for ecr_exporter: the same aws_ecr_* series and
    /// aws_ecr_repository_exporter_up (1 when the last run succeeded), and its variables
    /// APP_HOST, APP_PORT, CACHE_REFRESH_INTERVAL (seconds), ECR_REGISTRY_ID and LOG_LEVEL.
    /// Each setting comes from its flag, else little's variable (LITTLE_SERVE_LISTEN,
    /// LITTLE_SERVE_INTERVAL, LITTLE_SERVE_REGISTRY, LITTLE_LOG_LEVEL, LITTLE_LOG_FORMAT),
    /// else ecr_exporter's, else little.yaml, else the default.
    #[command(
        after_help = "Examples:\n  little serve\n  LITTLE_SERVE_READ_TOKEN=r34d little serve --listen 0.0.0.0:9000 --interval 1h --accounts\n  APP_PORT=9100 CACHE_REFRESH_INTERVAL=600 ECR_REGISTRY_ID=123456789012 LOG_FORMAT=json little serve\n  little serve --cors-origin https://dash.example.com\n  little serve --org --no-stacks\n  LITTLE_SERVE_TOKEN=s3cret little serve --state /var/lib/little/state.json\n  little serve --listen 0.0.0.0:9000 --read-token-file /run/secrets/read-token"
    )]
    Serve(ServeArgs),

    /// Check what is inside an image: labels, user, secrets, OS, runtimes, size, history
    ///
    /// With IMAGE (REPOSITORY:TAG or REPOSITORY@sha256:...), checks one image and writes its
    /// report (JSON and HTML) to --out. With --queue, runs the worker of the image check
    /// pipeline: reads ECR push events from the SQS queue, confirms each with ECR (an event
    /// that is not true of the worker's registry is deleted unchecked), checks each pushed
    /// image, stores the report in the report bucket, notifies each target once, and deletes
    /// the message only then. The
    /// image is read through ECR and the registry API without Docker; nothing is executed.
    /// Exit 2 when a `fail` check fails.
    #[command(
        after_help = "Examples:\n  little check team/api:v1.4.0\n  little check team/api@sha256:3f2a... --format json\n  little check --queue https://sqs.eu-west-1.amazonaws.com/123456789012/image-check --enforce"
    )]
    Check(CheckArgs),

    /// ECR image commands: the scan gate, promotion and little-automation's verbs
    ///
    /// `scan-report` and `promote` judge an image's findings; `registry`, `list`, `login`,
    /// `scanreport` and `scan-in-progress` are little-automation's, and need no project.
    #[command(subcommand)]
    Ecr(EcrCommand),

    /// little-automation's stack verbs on a stackParams.json anywhere (or a project stack)
    ///
    /// Each verb runs on little's own render, plan, apply, destroy and status; the ones that
    /// printed AWS JSON print it. See docs/migrating.md.
    #[command(after_help = "Examples:
  little stack filter db/cloudformation/ecr/stackParams.json
  little stack create db/cloudformation/ecr/stackParams.json
  little stack events db/cloudformation/ecr/stackParams.json | jq -r '.StackEvents[0].ResourceStatus'")]
    Stack(StackArgs),

    /// Show who little acts as: caller, account, region, credentials, account guard
    ///
    /// For each target (each distinct account and region of the selected stacks; with no
    /// stack, the project's default target): the caller's ARN and account (STS
    /// GetCallerIdentity, after the account's role_arn), the region, where the credentials
    /// come from, and whether the account guard lets the target's stacks be deployed. Exit 3
    /// when the guard refuses a target, 1 when a target's caller cannot be found.
    #[command(
        after_help = "Examples:\n  little whoami\n  little whoami --all\n  little whoami ecr-repositories --profile tooling --format json"
    )]
    Whoami(WhoamiArgs),

    /// Print the minimal IAM policy (JSON) a command needs for this project
    ///
    /// From the calls each command and check declares: actions sorted, one statement per
    /// service; stacks' ARNs where little.yaml gives their account and region, else "*".
    /// Makes no AWS call. docs/iam-permissions.md explains each action.
    IamPolicy(IamPolicyArgs),

    /// List the project's stacks in dependency order
    #[command(after_help = "Examples:\n  little stacks\n  little stacks --format json")]
    Stacks(StacksArgs),

    /// Scaffold a project: little.yaml, the bootstrap library, JSON schemas, a CI workflow
    ///
    /// Writes into DIR (created if missing): little.yaml (named after DIR, deploying into the
    /// account of the credentials it runs with), this version's bootstrap stacks, templates and
    /// policies, the JSON schemas of little.yaml and stack configs, and
    /// .github/workflows/little-plan.yml (a plan on every pull request, with a released
    /// `little` of this version). Every value that belongs to someone else comes from a flag
    /// or is written as a placeholder (`REPLACE_ME_GITHUB_ORG`, `REPLACE_ME_NOTIFY_EMAIL`, …),
    /// which `little validate` and every command that loads the project refuse, at its line,
    /// until it is replaced. The organisation's StackSets are scaffolded only with --org.
    /// Refuses (exit 3), listing them, when any of these files exists, and then writes
    /// nothing. Needs no project.
    #[command(
        after_help = "Examples:\n  little init platform --github-repo acme/platform --notify-email security@acme.example\n  little init platform && cd platform && little validate --all   # names each placeholder left\n  little init platform --org --github-repo acme/platform --notify-email security@acme.example"
    )]
    Init(InitArgs),

    /// Print the JSON Schema of little.yaml, stack configs, the plan or the audit report
    ///
    /// For editors (the yaml-language-server `$schema` comment) and for tools that read
    /// `little plan --format json` or `little audit --format json`.
    #[command(
        after_help = "Examples:\n  little schema little-yaml > schemas/little.schema.json\n  little schema plan | jq '.properties | keys'"
    )]
    Schema(SchemaArgs),

    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  little completions bash > ~/.local/share/bash-completion/completions/little\n  little completions zsh > ~/.zfunc/_little\n  little completions fish > ~/.config/fish/completions/little.fish"
    )]
    Completions(CompletionsArgs),

    /// Print the man page (roff), or write one page per command with --out
    #[command(
        after_help = "Examples:\n  little man | man -l -\n  little man --out /usr/local/share/man/man1"
    )]
    Man(ManArgs),

    /// Exit 0 when a URL answers 2xx (default: little serve's /healthz), else 1
    ///
    /// For a container's HEALTHCHECK in an image without curl. Gives up after --timeout.
    #[command(
        after_help = "Examples:\n  little healthcheck\n  little healthcheck --url http://127.0.0.1:9000/readyz"
    )]
    Healthcheck(HealthcheckArgs),
}

/// `little --version`: the package version and the git revision it was built from (see
/// `build.rs`), such as `0.1.0 (3f2a1c9d0e1b)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("LITTLE_GIT_REVISION"),
    ")"
);

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project directory, created if missing [default: the current directory]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The GitHub repository whose workflows may assume the CI role (on main and in its
    /// `production` environment) [default: the placeholders REPLACE_ME_GITHUB_ORG and
    /// REPLACE_ME_GITHUB_REPO]
    #[arg(long, value_name = "OWNER/NAME")]
    pub github_repo: Option<String>,
    /// The address that gets the scan notifications (it confirms the subscription by email)
    /// [default: the placeholder REPLACE_ME_NOTIFY_EMAIL]
    #[arg(long, value_name = "ADDRESS")]
    pub notify_email: Option<String>,
    /// Also scaffold the organisation's StackSets, administered from a tooling account: the
    /// audit role `little audit --org` assumes in each member account, and the guardrails
    /// (scanning, a permissions boundary). Their organisation, account and OU ids are
    /// placeholders to replace
    #[arg(long)]
    pub org: bool,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which document
    #[arg(value_enum, value_name = "KIND")]
    pub kind: SchemaKindArg,
}

/// The documents that have a JSON Schema (`schema::SchemaKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKindArg {
    /// little.yaml
    LittleYaml,
    /// A stack config (stacks/<group>/<name>.yaml)
    Stack,
    /// The plan of `little plan --format json` and `--out`
    Plan,
    /// The report of `little audit --format json`
    Audit,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (little.1, little-plan.1, ...) into DIR instead of printing
    /// the page of `little`
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The URL to GET [default: little serve's /healthz on this machine, at the port of
    /// LITTLE_SERVE_LISTEN, else APP_PORT, else 9000: http://127.0.0.1:9000/healthz]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Give up after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
}

impl SchemaKindArg {
    /// The document the argument names.
    pub fn kind(self) -> crate::schema::SchemaKind {
        use crate::schema::SchemaKind;
        match self {
            SchemaKindArg::LittleYaml => SchemaKind::LittleYaml,
            SchemaKindArg::Stack => SchemaKind::Stack,
            SchemaKindArg::Plan => SchemaKind::Plan,
            SchemaKindArg::Audit => SchemaKind::Audit,
        }
    }
}

/// Which stacks to work on.
#[derive(Debug, Args)]
pub struct StackSelection {
    /// Stack names (as in each config's `name`)
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Every stack in the project
    #[arg(long, conflicts_with = "stacks")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub selection: StackSelection,
    /// Write each template to DIR/<stack>.<format> instead of stdout
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output syntax
    #[arg(long, value_enum, default_value_t = TemplateFormat::Json)]
    pub format: TemplateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub selection: StackSelection,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Fail (exit 1) on warnings too, not only on errors
    #[arg(long)]
    pub strict: bool,
    /// Skip the checks against CloudFormation's resource schemas (for a resource type or
    /// property newer than the schemas in this build of little)
    #[arg(long)]
    pub no_schema_checks: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub selection: StackSelection,
    /// Output format
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Exit 0 when nothing would change, 2 when something would, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan (with its change sets, kept for `little apply --plan FILE`)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The most stacks to plan at once (fewer while CloudFormation throttles)
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=128))]
    pub concurrency: u16,
    /// When to ask CloudFormation for a change set of a changed or new stack. `auto`: only
    /// where the comparison and CloudFormation's resource schemas cannot tell what it would
    /// say (a change that replaces a resource, a changed condition, a type without a schema,
    /// ...); the others are planned from the comparison, their resource changes marked
    /// predicted. `always`: for every one, so that CloudFormation also checks each template.
    /// With --out, always; `apply` always makes them
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ChangeSetWhen::Auto)]
    pub change_set: ChangeSetWhen,
    /// Plan a deployed stack whose template means what is rendered but is written differently
    /// (a policy text with other spacing) through a change set, so that the resources it would
    /// send again for their text alone are changes to apply; otherwise the stack is unchanged.
    /// A plan saved with --out keeps the decision
    #[arg(long)]
    pub refresh_templates: bool,
    /// Print only the summary table: each stack's change and risks, then the totals (text
    /// and markdown)
    #[arg(long)]
    pub summary: bool,
    /// Also append the Markdown plan to the file GITHUB_STEP_SUMMARY names (the job summary
    /// of GitHub Actions), whatever --format prints
    #[arg(long)]
    pub step_summary: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Stack names [default: every stack]
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub selection: StackSelection,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// The most stacks to check at once (fewer while CloudFormation throttles)
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The stack
    #[arg(value_name = "STACK")]
    pub stack: String,
    /// Keep printing new events until the stack's operation ends
    #[arg(short, long)]
    pub follow: bool,
    /// How many of the newest events to show
    #[arg(long, default_value_t = 30)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct OutputsArgs {
    /// The stack
    #[arg(value_name = "STACK")]
    pub stack: String,
    /// Output format (json: an object of key to value)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only these checks (ids such as `ecr.tag-immutability`, or prefixes such as `ecr`, `stack`)
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// Exit 2 when a finding is at or above this severity and not remediated [default: little.yaml's audit.fail_on, else HIGH]
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// Set IMMUTABLE tags where they are missing (keeping exclusion filters); without it the
    /// report says what it would do
    #[arg(long)]
    pub remediate: bool,
    /// Audit every account of little.yaml, through its role
    #[arg(long)]
    pub accounts: bool,
    /// Audit every active account of the organisation (Organizations ListAccounts, as the
    /// caller) through the audit role (audit.role_name); an account that cannot be audited is
    /// an `org.account-unreachable` finding
    #[arg(long, conflicts_with = "accounts")]
    pub org: bool,
    /// Check every tagged image's scan, not only each repository's newest
    #[arg(long)]
    pub all_images: bool,
    /// Require KMS encryption (AES256 is a finding) [default: little.yaml's audit.require_kms]
    #[arg(long)]
    pub require_kms: bool,
    /// Skip the project's stacks
    #[arg(long, conflicts_with = "drift")]
    pub no_stacks: bool,
    /// Run drift detection on each deployed stack (as `little drift`) instead of reading the
    /// status of the last one
    #[arg(long)]
    pub drift: bool,
    /// When there are findings, send the non-compliant repositories to the SNS topic and
    /// webhooks of little.yaml's audit.notify
    #[arg(long)]
    pub notify: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The image: REPOSITORY:TAG or REPOSITORY@sha256:...
    #[arg(value_name = "IMAGE", conflicts_with = "queue")]
    pub image: Option<String>,
    /// Run the worker on this SQS queue [default: little.yaml's check.queue_url]
    #[arg(long, value_name = "URL")]
    pub queue: Option<String>,
    /// Worker: stop when the queue is empty; exit 1 if a message was left in it or a
    /// notification could not be delivered
    #[arg(long, conflicts_with = "image")]
    pub once: bool,
    /// Worker: skip pushes without a tag (logged with the reason) [default:
    /// check.skip_untagged, else false]
    #[arg(long, conflicts_with = "image")]
    pub skip_untagged: bool,
    /// Delete an image that fails a `fail` check (by digest, with all its tags); without it
    /// the report says what would happen
    #[arg(long)]
    pub enforce: bool,
    /// Where one image's report goes (`<DIR>/<repository>/<tag>.json` and `.html`)
    #[arg(long, value_name = "DIR", default_value = "little-check")]
    pub out: std::path::PathBuf,
    /// Output format of one image's summary on stdout
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// The platform an image index is resolved to [default: check.platform, else linux/amd64]
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Read blobs from this registry URL instead of the one ECR names [default:
    /// check.registry_url]
    #[arg(long, value_name = "URL")]
    pub registry_url: Option<String>,
    /// Worker: the report bucket [default: check.report_bucket]
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,
}

/// The longest `--timeout` of `apply`, `destroy` (minutes) and `ecr scan-report` (in seconds,
/// the same week): a longer wait is a mistake, and a deadline that far away would overflow
/// the clock.
pub const MAX_TIMEOUT_MINUTES: u64 = 7 * 24 * 60;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on [default: LITTLE_SERVE_LISTEN, else APP_HOST and APP_PORT
    /// (ecr_exporter's), else little.yaml's audit.listen, else 127.0.0.1:9000]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Time between audits, such as 30m, 1h or 600 (seconds) [default: LITTLE_SERVE_INTERVAL,
    /// else CACHE_REFRESH_INTERVAL, else audit.interval, else 30m]
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// The file that keeps the scan configurations added through the API [default:
    /// audit.state_file, else .little/serve-state.json in the project]
    #[arg(long, value_name = "FILE")]
    pub state: Option<std::path::PathBuf>,
    /// Only these checks (ids or prefixes, as `little audit --check`)
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// Audit every account of little.yaml, through its role
    #[arg(long)]
    pub accounts: bool,
    /// Audit every active account of the organisation on every run, through the audit role
    /// (as `little audit --org`)
    #[arg(long, conflicts_with = "accounts")]
    pub org: bool,
    /// Audit the registry of this account (an account of little.yaml, through its role, or
    /// the caller's) [default: LITTLE_SERVE_REGISTRY, else ECR_REGISTRY_ID, else the default
    /// account's]
    #[arg(long, value_name = "ACCOUNT_ID", conflicts_with_all = ["accounts", "org"])]
    pub registry: Option<String>,
    /// Run drift detection on each deployed stack on every run
    #[arg(long)]
    pub drift: bool,
    /// Require KMS encryption (AES256 is a finding)
    #[arg(long)]
    pub require_kms: bool,
    /// Skip the project's stacks
    #[arg(long, conflicts_with = "drift")]
    pub no_stacks: bool,
    /// On every run, remediate what `little audit --remediate` can fix (tag immutability),
    /// logging and counting each remediation [default: little.yaml's audit.remediate, else
    /// off]
    #[arg(long)]
    pub remediate: bool,
    /// Read the API token (POST and DELETE /configs) from FILE, without surrounding
    /// whitespace [default: the variable audit.api_token_env names, LITTLE_SERVE_TOKEN]
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// Read the read token from FILE, without surrounding whitespace: the report, metrics,
    /// configurations, summary and feeds then need `Authorization: Bearer <token>`
    /// (/healthz and /readyz stay open) [default: LITTLE_SERVE_READ_TOKEN]
    #[arg(long, value_name = "FILE")]
    pub read_token_file: Option<std::path::PathBuf>,
    /// Listen beyond loopback without a read token (refused otherwise, exit 3): anyone who
    /// reaches the address reads the report, metrics and findings
    #[arg(long)]
    pub allow_public_unauthenticated: bool,
    /// Connections served at once; more wait until one closes
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections: u32,
    /// /readyz answers 503 once the last good audit is older than this many intervals
    #[arg(long, value_name = "INTERVALS", default_value_t = crate::serve::DEFAULT_STALE_AFTER, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub stale_after: u32,
    /// Allow this browser origin (https://host[:port]) to call the endpoints (CORS); may be
    /// repeated, adds to little.yaml's audit.cors_origins
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Log level: debug (each request too), info, warning or error [default:
    /// LITTLE_LOG_LEVEL, else LOG_LEVEL, else -q: error, -v: debug, else info]
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Log format on stderr: text, or json (one object per line: timestamp, level, message,
    /// fields) [default: LITTLE_LOG_FORMAT, else LOG_FORMAT, else text]
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Markdown,
}

/// `plan --change-set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChangeSetWhen {
    /// Only where the comparison cannot tell what it would say
    Auto,
    /// For every changed or new stack
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub selection: StackSelection,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct StacksArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn version_names_the_revision() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(VERSION.ends_with(')'));
    }

    #[test]
    fn all_conflicts_with_names() {
        assert!(Cli::try_parse_from(["little", "render", "a", "--all"]).is_err());
        assert!(Cli::try_parse_from(["little", "render", "--all"]).is_ok());
    }
}
