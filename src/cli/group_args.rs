//! The arguments of the command groups `little ecr` and `little stack` (the clap definitions
//! only; they are read in `cli/commands/ecr.rs` and `cli/commands/stack.rs`). `little stack`
//! and the `little ecr` verbs beside `scan-report` and `promote` are little-automation's, with
//! its verbs, arguments and output.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{ReportFormat, MAX_TIMEOUT_MINUTES};

#[derive(Debug, Subcommand)]
pub enum EcrCommand {
    /// The scan findings of one image; exit 2 at or above --fail-on
    #[command(
        after_help = "Examples:\n  little ecr scan-report team/api:v1.2.0\n  little ecr scan-report team/api:sha-3f2a1c --start --wait --fail-on CRITICAL"
    )]
    ScanReport(ScanReportArgs),
    /// Put a release tag on an image whose scan passes; exit 2 when it does not
    #[command(
        after_help = "Examples:\n  little ecr promote team/api:sha-3f2a1c v1.2.0\n  little ecr promote team/api@sha256:... v1.2.0 --fail-on CRITICAL"
    )]
    Promote(PromoteArgs),
    /// Print the registry of the account and region: ACCOUNT.dkr.ecr.REGION.amazonaws.com
    #[command(after_help = "Examples:\n  reg=\"$(little ecr registry)\"")]
    Registry,
    /// List the repositories of the registry, one REGISTRY/NAME a line
    #[command(after_help = "Examples:\n  little ecr list")]
    List,
    /// Log Docker in to the registry, or print the password `docker login` takes
    ///
    /// With `docker` on PATH, runs `docker login --username AWS --password-stdin REGISTRY`
    /// (its output on stderr); without, or with --stdout, prints the password on stdout, as
    /// `aws ecr get-login-password` does.
    #[command(
        after_help = "Examples:\n  little ecr login\n  little ecr login --stdout | docker login --username AWS --password-stdin \"$(little ecr registry)\""
    )]
    Login(LoginArgs),
    /// The scan findings of REPOSITORY:TAG, as `aws ecr describe-image-scan-findings` prints them
    ///
    /// Exit 0 with the findings as JSON; 1 when the image or its scan does not exist. (`little
    /// ecr scan-report` judges the findings against a threshold instead.)
    #[command(
        name = "scanreport",
        after_help = "Examples:\n  little ecr scanreport little/session_mgr latest\n  little ecr scanreport little/session_mgr latest | jq -r '.imageScanFindings.findingSeverityCounts'"
    )]
    Scanreport(RepoTagArgs),
    /// Exit 0 while the image's scan is in progress, 1 otherwise (nothing printed)
    #[command(
        after_help = "Examples:\n  while little ecr scan-in-progress little/session_mgr latest; do sleep 10; done"
    )]
    ScanInProgress(RepoTagArgs),
    /// What a lifecycle policy would expire in a repository now, evaluated as ECR does
    ///
    /// The repository's own policy, or with --policy one from a file (a proposed change),
    /// evaluated offline on the images the repository holds: one line per image it expires
    /// (oldest first) with the rule that takes it. With --ecr, ECR's own preview
    /// (StartLifecyclePolicyPreview) runs too and the differences are named (exit 2 when
    /// they differ).
    #[command(
        after_help = "Examples:\n  little ecr lifecycle-preview team/api\n  little ecr lifecycle-preview team/api --policy policies/lifecycle/keep-50.json\n  little ecr lifecycle-preview team/api --ecr --format json"
    )]
    LifecyclePreview(LifecyclePreviewArgs),
}

#[derive(Debug, Args)]
pub struct LifecyclePreviewArgs {
    /// The repository's name, such as team/api
    #[arg(value_name = "REPOSITORY")]
    pub repository: String,
    /// A lifecycle policy document to preview instead of the repository's own
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    /// Run ECR's own preview too and compare (it takes up to a minute)
    #[arg(long)]
    pub ecr: bool,
    /// How long to wait for ECR's preview, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    #[arg(long, value_enum, default_value_t = super::ReportFormat::Text)]
    pub format: super::ReportFormat,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Print the password on stdout even when Docker is installed
    #[arg(long)]
    pub stdout: bool,
}

#[derive(Debug, Args)]
pub struct RepoTagArgs {
    /// The repository's name, such as little/session_mgr
    #[arg(value_name = "REPOSITORY")]
    pub repository: String,
    /// The image's tag
    #[arg(value_name = "TAG")]
    pub tag: String,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// Exit 2 when the image has findings at or above this severity
    #[arg(long, value_name = "SEVERITY", default_value = "HIGH")]
    pub fail_on: String,
    /// Wait for a scan in progress to complete
    #[arg(long)]
    pub wait: bool,
    /// Start a scan when the image has none
    #[arg(long)]
    pub start: bool,
    /// Stop waiting after this many seconds, at most 604800 (a week)
    #[arg(long, default_value_t = 600, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(..=MAX_TIMEOUT_MINUTES * 60))]
    pub timeout: u64,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ScanReportArgs {
    /// REPOSITORY:TAG or REPOSITORY@sha256:DIGEST
    #[arg(value_name = "IMAGE")]
    pub image: String,
    #[command(flatten)]
    pub gate: GateArgs,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// REPOSITORY:TAG or REPOSITORY@sha256:DIGEST
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The tag to add to the same manifest
    #[arg(value_name = "RELEASE_TAG")]
    pub release_tag: String,
    #[command(flatten)]
    pub gate: GateArgs,
}

/// `little stack VERB`, with the options every verb shares.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// The folder `Littleware.TemplatePath` is relative to [default: the nearest folder upward
    /// from the stackParams.json where that path names a file]
    #[arg(long, global = true, value_name = "DIR", env = "LITTLE_HOME")]
    pub home: Option<PathBuf>,
    /// The stack bucket, instead of `cloudformation-<account alias>-<region>` (which needs
    /// iam:ListAccountAliases): what `stackBucket` renders and `little stack bucket` prints
    #[arg(long, global = true, value_name = "NAME", env = "LITTLE_STACK_BUCKET")]
    pub bucket: Option<String>,
    #[command(subcommand)]
    pub verb: StackVerb,
}

/// A stackParams.json (anywhere) or a stack of the project.
#[derive(Debug, Args)]
pub struct StackTarget {
    /// path/to/stackParams.json, or the name of a stack of the project
    #[arg(value_name = "STACK")]
    pub stack: String,
}

/// A template and the variables to render it with.
#[derive(Debug, Args)]
pub struct TemplateTarget {
    /// path/to/template (JSON or YAML with nunjucks expressions)
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,
    /// The variables, inline JSON as `little stack variables` prints it [default: the empty set]
    #[arg(value_name = "VARIABLES")]
    pub variables: Option<String>,
}

/// The verbs that deploy: create, update, make-change.
#[derive(Debug, Args)]
pub struct StackChangeArgs {
    /// Show the plan only: nothing is created or changed
    #[arg(long = "dry-run", alias = "dryRun")]
    pub dry_run: bool,
    #[command(flatten)]
    pub target: StackTarget,
    /// Allow removing or replacing data-bearing resources
    #[arg(long)]
    pub allow_destructive: bool,
    /// Allow changes that widen IAM or resource-policy access
    #[arg(long)]
    pub allow_broadening: bool,
    /// Allow turning termination protection off and loosening a stack policy
    #[arg(long)]
    pub allow_unprotect: bool,
    /// Stop waiting for the stack after this many minutes (at most a week)
    #[arg(long, default_value_t = 60, value_name = "MINUTES",
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MINUTES))]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum StackVerb {
    /// Print the stack bucket: cloudformation-<account alias>-<region>
    #[command(after_help = "Examples:\n  little stack bucket")]
    Bucket,
    /// Print the change-set name of make-change, show-change, rm-change and exec-change:
    /// little-$USER-$HOSTNAME
    #[command(after_help = "Examples:\n  little stack change-name")]
    ChangeName,
    /// Print the template variables of a stackParams.json as JSON (the empty set without one)
    ///
    /// stackParameters, stackTags, stackTagsStr, stackVariables, stackBucket and
    /// templateFiles.openapi (openapi.yaml or openapi.json beside the template), for
    /// filter-template.
    #[command(after_help = "Examples:\n  little stack variables path/to/stackParams.json")]
    Variables {
        /// path/to/stackParams.json, or the name of a stack of the project
        #[arg(value_name = "STACK")]
        stack: Option<String>,
    },
    /// Render a stack's template with its variables and print it (JSON)
    #[command(
        alias = "filter-stack",
        after_help = "Examples:\n  little stack filter path/to/stackParams.json"
    )]
    Filter(StackTarget),
    /// Render a template with the given variables and print it
    #[command(
        after_help = "Examples:\n  little stack filter-template lib/cloudformation/cloud/ecr/ecr.json \"$(little stack variables db/cloudformation/frickjack/cloud/ecr/stackParams.json)\""
    )]
    FilterTemplate(TemplateTarget),
    /// Render and lint a stack's template (little validate: no AWS call); exit 1 on an error
    #[command(after_help = "Examples:\n  little stack validate path/to/stackParams.json")]
    Validate(StackTarget),
    /// Render and lint a template with the given variables; exit 1 on an error
    #[command(
        after_help = "Examples:\n  little stack validate-template path/to/template.json \"$(little stack variables path/to/stackParams.json)\""
    )]
    ValidateTemplate(TemplateTarget),
    /// Create the stack (an error if it exists), through a change set, and wait
    ///
    /// Destructive, broadening and unprotecting changes are refused (exit 3) unless allowed;
    /// --dry-run shows the plan and changes nothing.
    #[command(
        after_help = "Examples:\n  little stack create path/to/stackParams.json\n  little stack create --dryRun path/to/stackParams.json"
    )]
    Create(StackChangeArgs),
    /// Update the stack (an error if it does not exist), through a change set, and wait
    #[command(after_help = "Examples:\n  little stack update path/to/stackParams.json")]
    Update(StackChangeArgs),
    /// Make a change set named `little stack change-name`, and show the plan; nothing runs
    #[command(after_help = "Examples:\n  little stack make-change path/to/stackParams.json")]
    MakeChange(StackChangeArgs),
    /// Print the change set of make-change, as `aws cloudformation describe-change-set`
    #[command(after_help = "Examples:\n  little stack show-change path/to/stackParams.json")]
    ShowChange(StackTarget),
    /// Delete the change set of make-change, so that a new one may be made
    #[command(after_help = "Examples:\n  little stack rm-change path/to/stackParams.json")]
    RmChange(StackTarget),
    /// Execute the change set of make-change, and wait for the stack
    #[command(after_help = "Examples:\n  little stack exec-change path/to/stackParams.json")]
    ExecChange(StackTarget),
    /// Print the stack, as `aws cloudformation describe-stacks`
    #[command(
        after_help = "Examples:\n  little stack describe path/to/stackParams.json | jq -r '.Stacks[] | .Outputs'"
    )]
    Describe(StackTarget),
    /// Print the stack's resources, as `aws cloudformation describe-stack-resources`
    #[command(after_help = "Examples:\n  little stack resources ./stackParams.json")]
    Resources(StackTarget),
    /// Print the stack's newest 100 events, as `aws cloudformation describe-stack-events`
    #[command(after_help = "Examples:\n  little stack events path/to/stackParams.json")]
    Events(StackTarget),
    /// Print every stack of the account and region that is not deleted, as `aws
    /// cloudformation list-stacks`
    #[command(after_help = "Examples:\n  little stack list | jq -r '.StackSummaries[].StackName'")]
    List,
    /// Delete the stack and its resources, termination protection turned off first, and wait
    ///
    /// Refused (exit 3) while another deployed stack imports one of its exports.
    #[command(after_help = "Examples:\n  little stack delete path/to/stackParams.json")]
    Delete(StackDeleteArgs),
}

#[derive(Debug, Args)]
pub struct StackDeleteArgs {
    #[command(flatten)]
    pub target: StackTarget,
    /// Stop waiting for the stack after this many minutes (at most a week)
    #[arg(long, default_value_t = 60, value_name = "MINUTES",
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MINUTES))]
    pub timeout: u64,
}
