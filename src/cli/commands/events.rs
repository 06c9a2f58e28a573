//! `little events STACK [--follow]`: a stack's newest events, then (following) each new one
//! until its operation ends or the reader of stdout goes away.

use std::io::Write;
use std::sync::Arc;

use crate::cli::context::{runtime, Context};
use crate::cli::output::State;
use crate::cli::EventsArgs;
use crate::error::{Error, Result, Verdict};
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: EventsArgs) -> Result<Verdict> {
    let connect = ctx.connect(&project);
    let project = Arc::new(project);
    let rt = runtime()?;
    let list = rt.block_on(crate::deploy::status::events(
        project.clone(),
        connect.clone(),
        &args.stack,
        args.limit,
    ))?;
    let style = ctx.stdout;
    {
        let mut out = &ctx.out;
        for e in &list {
            writeln!(out, "{}", report::apply::event_line(&args.stack, e, style))
                .map_err(Error::output)?;
        }
        out.flush().map_err(Error::output)?;
    }
    // Following is for a reader: when stdout closes (`| head`) or fails, stop.
    if args.follow && ctx.out.state() == State::Open {
        let stack = args.stack.clone();
        let show = move |e: &crate::aws::stack_ops::StackEvent| {
            let mut out = &ctx.out;
            let _ = writeln!(out, "{}", report::apply::event_line(&stack, e, style));
            let _ = out.flush();
        };
        rt.block_on(async {
            tokio::select! {
                followed = crate::deploy::status::follow(
                    project,
                    connect,
                    &args.stack,
                    std::time::Duration::from_secs(2),
                    &show,
                ) => followed.map(|_| ()),
                () = ctx.out.stopped() => Ok(()),
            }
        })?;
    }
    Ok(Verdict::Ok)
}
