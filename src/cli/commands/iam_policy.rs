//! `little iam-policy COMMAND`: prints the minimal policy of a command for the project
//! (`crate::permissions`); `--tables` prints every command's and check's actions.

use std::io::Write;

use crate::cli::context::Context;
use crate::cli::{IamPolicyArgs, PolicyCommand};
use crate::error::{Error, Result, Verdict};
use crate::permissions::{markdown, policy, Command, PolicyOptions};
use crate::project::Project;

/// `--tables`: needs no project.
pub fn tables(ctx: &Context) -> Result<Verdict> {
    let mut out = &ctx.out;
    out.write_all(markdown().as_bytes())
        .map_err(Error::output)?;
    out.flush().map_err(Error::output)?;
    Ok(Verdict::Ok)
}

pub fn run(project: Project, ctx: &Context, args: IamPolicyArgs) -> Result<Verdict> {
    let Some(command) = args.command else {
        return tables(ctx);
    };
    let options = PolicyOptions {
        command: command_of(command),
        checks: args.checks,
        stacks: args.stacks,
        no_stacks: args.no_stacks,
        remediate: args.remediate,
        drift: args.drift,
        org: args.org,
        replace_failed: args.replace_failed,
        large_templates: args.large_templates,
        queue: args.queue,
        enforce: args.enforce,
        start: args.start,
    };
    if options.command == Command::Audit || options.command == Command::Serve {
        crate::audit::run::validate_checks(&options.checks)?;
    }
    let document = policy(&project, &options)?;
    if document["Statement"]
        .as_array()
        .is_some_and(|s| s.is_empty())
    {
        ctx.warn(format!(
            "`little {}` needs no IAM permission here (no statement; IAM refuses an empty policy)",
            options.command.name()
        ));
    }
    let mut out = &ctx.out;
    serde_json::to_writer_pretty(&mut out, &document).map_err(|e| Error::output(e.into()))?;
    out.write_all(b"\n").map_err(Error::output)?;
    out.flush().map_err(Error::output)?;
    Ok(Verdict::Ok)
}

fn command_of(c: PolicyCommand) -> Command {
    match c {
        PolicyCommand::Plan => Command::Plan,
        PolicyCommand::Apply => Command::Apply,
        PolicyCommand::Adopt => Command::Adopt,
        PolicyCommand::Destroy => Command::Destroy,
        PolicyCommand::Drift => Command::Drift,
        PolicyCommand::Status => Command::Status,
        PolicyCommand::Outputs => Command::Outputs,
        PolicyCommand::Events => Command::Events,
        PolicyCommand::Discover => Command::Discover,
        PolicyCommand::Whoami => Command::Whoami,
        PolicyCommand::Audit => Command::Audit,
        PolicyCommand::Serve => Command::Serve,
        PolicyCommand::Check => Command::Check,
        PolicyCommand::EcrScanReport => Command::EcrScanReport,
        PolicyCommand::EcrPromote => Command::EcrPromote,
    }
}
