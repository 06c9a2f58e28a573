//! One file per command. Each builds its operation's options from its arguments, calls the
//! operation, hands the result to one printer and returns the result's [`Verdict`]; `main`
//! turns that into the exit code. [`run`] dispatches: the commands about the tool itself run
//! without a project; the others get the project from [`context::project`].

mod adopt;
mod apply;
mod audit;
mod check;
mod completions;
mod destroy;
mod discover;
mod drift;
mod ecr;
mod events;
mod healthcheck;
mod iam_policy;
mod init;
mod man;
mod outputs;
mod plan;
mod render;
mod schema;
mod serve;
mod stack;
mod stacks;
mod status;
mod validate;
mod whoami;

use super::context::{self, Context};
use super::output::Stdout;
use super::{Cli, Command};
use crate::error::{Result, Verdict};
use crate::project::Project;

/// Runs the command, writing its results to `out`; errors are returned for `main` to report.
/// What became of `out` is for `main` to combine with the verdict (`output::verdict`).
pub fn run(cli: Cli, out: &Stdout) -> Result<Verdict> {
    let ctx = Context::new(&cli.global, out);
    // Commands about the tool itself run without a project.
    let command = match cli.command {
        Command::Init(args) => return init::run(&ctx, args),
        Command::Schema(args) => return schema::run(&ctx, args),
        Command::Completions(args) => return completions::run(&ctx, args),
        Command::Man(args) => return man::run(&ctx, args),
        Command::Healthcheck(args) => return healthcheck::run(&ctx, args),
        Command::IamPolicy(args) if args.tables => return iam_policy::tables(&ctx),
        command => command,
    };
    // little-automation's verbs: a stackParams.json anywhere, or no project at all.
    if let Command::Stack(args) = &command {
        return stack::run(&cli.global, &ctx, &command, args);
    }
    if matches!(command, Command::Ecr(_)) {
        let project = match (
            &cli.global.project,
            Project::discover(&std::env::current_dir()?),
        ) {
            (None, Err(crate::error::Error::ProjectNotFound { .. })) => None,
            _ => Some(context::project(&cli.global, &ctx, &command)?),
        };
        if let Command::Ecr(ecr_command) = command {
            return ecr::run(project, &ctx, ecr_command);
        }
    }
    // Flags that do not go together fail before the project is loaded or AWS is called.
    if let Command::Plan(args) = &command {
        plan::check_flags(args)?;
    }
    let project = context::project(&cli.global, &ctx, &command)?;
    match command {
        Command::Render(args) => render::run(project, &ctx, args),
        Command::Validate(args) => validate::run(project, &ctx, args),
        Command::Plan(args) => plan::run(project, &ctx, args),
        Command::Apply(args) => apply::run(project, &ctx, args),
        Command::Adopt(args) => adopt::run(project, &ctx, args),
        Command::Discover(args) => discover::run(project, &ctx, args),
        Command::Destroy(args) => destroy::run(project, &ctx, args),
        Command::Status(args) => status::run(project, &ctx, args),
        Command::Drift(args) => drift::run(project, &ctx, args),
        Command::Audit(args) => audit::run(project, &ctx, args),
        Command::Serve(args) => serve::run(project, &ctx, args),
        Command::Check(args) => check::run(project, &ctx, args),
        Command::Events(args) => events::run(project, &ctx, args),
        Command::Outputs(args) => outputs::run(project, &ctx, args),
        Command::Whoami(args) => whoami::run(project, &ctx, args),
        Command::Stacks(args) => stacks::run(project, &ctx, args),
        Command::IamPolicy(args) => iam_policy::run(project, &ctx, args),
        Command::Init(_)
        | Command::Stack(_)
        | Command::Ecr(_)
        | Command::Schema(_)
        | Command::Completions(_)
        | Command::Man(_)
        | Command::Healthcheck(_) => Err(crate::error::Error::Internal(
            "a command without a project".into(),
        )),
    }
}
