//! The arguments of `little iam-policy` (the clap definitions only; the command reads them in
//! `cli/commands/iam_policy.rs`).

use clap::{Args, ValueEnum};

/// The commands whose policy `little iam-policy` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyCommand {
    Plan,
    Apply,
    Adopt,
    Destroy,
    Drift,
    Status,
    Outputs,
    Events,
    Discover,
    Whoami,
    Audit,
    Serve,
    Check,
    /// `little ecr scan-report`
    EcrScanReport,
    /// `little ecr promote`
    EcrPromote,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  little iam-policy audit > audit-policy.json\n  little iam-policy audit --check ecr.tag-immutability --remediate --no-stacks\n  little iam-policy serve --drift\n  little iam-policy apply --stack ecr-repositories\n  little iam-policy check --queue --enforce\n  little iam-policy ecr-promote\n  aws iam put-role-policy --role-name ci-plan --policy-name little-plan \\\n    --policy-document \"$(little iam-policy plan --stack app)\"\n  little iam-policy --tables   # every command's and check's actions (docs/iam-permissions.md)"
)]
pub struct IamPolicyArgs {
    /// The command to run with the policy
    #[arg(value_enum, required_unless_present = "tables")]
    pub command: Option<PolicyCommand>,
    /// The stacks the command works on [default: every stack of the project]
    #[arg(long = "stack", value_name = "NAME")]
    pub stacks: Vec<String>,
    /// audit, serve: only these checks (ids or prefixes, as `little audit --check`)
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// audit, serve: without the project's stacks (as `little audit --no-stacks`)
    #[arg(long)]
    pub no_stacks: bool,
    /// audit, serve: with `--remediate` (ecr:PutImageTagMutability)
    #[arg(long)]
    pub remediate: bool,
    /// audit, serve: with drift detection (`--drift`)
    #[arg(long)]
    pub drift: bool,
    /// audit, serve: across the organisation (`--org`)
    #[arg(long)]
    pub org: bool,
    /// apply: with `--replace-failed`
    #[arg(long)]
    pub replace_failed: bool,
    /// plan, apply, adopt: templates over 51,200 bytes, staged in the template bucket
    #[arg(long)]
    pub large_templates: bool,
    /// check: the worker (`--queue`): its queue, report bucket and results topic
    #[arg(long)]
    pub queue: bool,
    /// check: with `--enforce` (ecr:BatchDeleteImage)
    #[arg(long)]
    pub enforce: bool,
    /// ecr-scan-report: with `--start` (ecr:StartImageScan)
    #[arg(long)]
    pub start: bool,
    /// Print the table of every command's and every check's actions (Markdown), instead of a
    /// policy; needs no project
    #[arg(long, conflicts_with_all = ["command", "stacks", "checks"])]
    pub tables: bool,
}
