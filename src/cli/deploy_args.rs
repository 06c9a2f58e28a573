//! The arguments of the commands that change stacks: `apply`, `adopt` (and `discover`, which
//! writes configs for it) and `destroy` (the
//! clap definitions only; each command reads them in its `cli/commands/<name>.rs`).

use std::path::PathBuf;

use clap::Args;

use super::{ReportFormat, StackSelection, MAX_TIMEOUT_MINUTES};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub selection: StackSelection,
    /// Execute exactly the change sets of a plan saved with `little plan --out`
    #[arg(long, value_name = "FILE", conflicts_with_all = ["stacks", "all"])]
    pub plan: Option<PathBuf>,
    /// Apply without asking
    #[arg(short, long)]
    pub yes: bool,
    /// Allow removing or replacing data-bearing resources
    #[arg(long)]
    pub allow_destructive: bool,
    /// Allow changes that widen IAM or resource-policy access
    #[arg(long)]
    pub allow_broadening: bool,
    /// Allow turning termination protection off and loosening a stack policy
    #[arg(long)]
    pub allow_unprotect: bool,
    /// Replace stacks whose creation failed and was rolled back (ROLLBACK_COMPLETE): shown in
    /// the plan, deleted and created again once approved; never a stack that may still hold
    /// resources (ROLLBACK_FAILED, DELETE_FAILED)
    #[arg(long)]
    pub replace_failed: bool,
    /// Also update deployed stacks whose template means what is rendered but is written
    /// differently (a policy text with other spacing), which are otherwise unchanged (a saved
    /// plan carries its own: `little plan --refresh-templates --out FILE`)
    #[arg(long, conflicts_with = "plan")]
    pub refresh_templates: bool,
    /// The most stacks to plan and deploy at once (fewer while CloudFormation throttles); a
    /// stack starts as soon as the stacks it depends on are done
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=128))]
    pub concurrency: u16,
    /// Stop waiting for a stack after this many minutes, at most 10080 (a week); the
    /// operation goes on
    #[arg(long, default_value_t = 60, value_name = "MINUTES",
          value_parser = clap::value_parser!(u64).range(..=MAX_TIMEOUT_MINUTES))]
    pub timeout: u64,
    /// Output format of the result
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The stacks whose existing resources to adopt
    #[arg(value_name = "STACK", required = true)]
    pub stacks: Vec<String>,
    /// Adopt only this resource (a logical id of the template); repeatable. It must exist
    #[arg(long = "resource", value_name = "LOGICAL_ID")]
    pub resources: Vec<String>,
    /// Adopt and apply without asking
    #[arg(short, long)]
    pub yes: bool,
    /// Allow the update after the import to remove or replace data-bearing resources
    #[arg(long)]
    pub allow_destructive: bool,
    /// Allow the update after the import to widen IAM or resource-policy access
    #[arg(long)]
    pub allow_broadening: bool,
    /// Stop waiting for a stack after this many minutes, at most 10080 (a week); the
    /// operation goes on
    #[arg(long, default_value_t = 60, value_name = "MINUTES",
          value_parser = clap::value_parser!(u64).range(..=MAX_TIMEOUT_MINUTES))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Write the stack configs into this directory (created if needed) instead of stdout;
    /// an existing file is not overwritten
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// The stack names start with this: `<NAME>-repositories`, `<NAME>-roles`
    #[arg(long, value_name = "NAME", default_value = "discovered")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The stacks to delete (with the deployed stacks that use them)
    #[arg(value_name = "STACK", required_unless_present = "all")]
    pub stacks: Vec<String>,
    /// Every stack in the project
    #[arg(long, conflicts_with = "stacks")]
    pub all: bool,
    /// Delete without asking
    #[arg(short, long)]
    pub yes: bool,
    /// Turn termination protection off first (back on if the deletion then fails)
    #[arg(long)]
    pub disable_termination_protection: bool,
    /// The most stacks to delete at once (fewer while CloudFormation throttles); a stack
    /// starts as soon as the stacks that use it are gone
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=128))]
    pub concurrency: u16,
    /// Stop waiting after this many minutes, at most 10080 (a week)
    #[arg(long, default_value_t = 60, value_name = "MINUTES",
          value_parser = clap::value_parser!(u64).range(..=MAX_TIMEOUT_MINUTES))]
    pub timeout: u64,
}
