//! `little destroy`: deletes the selected stacks (dependents first) after showing what goes;
//! the summary on stdout, failures on stderr.

use std::io::Write;
use std::sync::Arc;

use crate::cli::context::{listen, runtime, Context};
use crate::cli::ui::CliUi;
use crate::cli::DestroyArgs;
use crate::deploy::destroy::DestroyOptions;
use crate::error::{Error, Result, Verdict};
use crate::interrupt::Interrupt;
use crate::poll::Poll;
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: DestroyArgs) -> Result<Verdict> {
    project.select(&args.stacks, args.all)?;
    let mut options = DestroyOptions {
        stacks: args.stacks.clone(),
        all: args.all,
        yes: args.yes,
        disable_termination_protection: args.disable_termination_protection,
        concurrency: usize::from(args.concurrency),
        wait: Poll {
            timeout: std::time::Duration::from_secs(args.timeout.saturating_mul(60)),
            ..Poll::STACK
        },
        interrupt: Interrupt::never(),
    };
    ctx.out.note_on_stop(
        "the destroy goes on; its outcome is in the exit code, and failures are on stderr",
    );
    let ui = Arc::new(CliUi::new(ctx));
    let connect = ctx.connect(&project);
    let report = runtime()?.block_on(async {
        options.interrupt = listen(
            "no further stack is deleted; the deletions under way go on in CloudFormation",
            "the deletions under way go on in CloudFormation (`little status`)".into(),
        );
        crate::deploy::destroy::destroy(Arc::new(project), connect, options, ui).await
    })?;
    let mut out = &ctx.out;
    if report.stacks.is_empty() {
        writeln!(out, "nothing to delete").map_err(Error::output)?;
    } else {
        report::apply::write_summary(&mut out, &report.stacks, true, ctx.stdout)?;
        let _ = report::apply::write_failures(
            &mut std::io::stderr().lock(),
            &report.stacks,
            true,
            ctx.stderr,
        );
    }
    Ok(report.verdict())
}
