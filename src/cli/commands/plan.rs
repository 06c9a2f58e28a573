//! `little plan`: plans the selected stacks, saves the plan with `--out`, prints it; failures
//! on stderr.

use std::sync::Arc;

use crate::cli::context::{listen_for_interrupts, runtime, selection, Context};
use crate::cli::{PlanArgs, PlanFormat};
use crate::error::{Result, Verdict};
use crate::interrupt::Interrupt;
use crate::plan::model::PlanOptions;
use crate::poll::Poll;
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: PlanArgs) -> Result<Verdict> {
    let mut options = PlanOptions {
        selection: selection(&args.selection),
        concurrency: usize::from(args.concurrency),
        keep_change_sets: args.out.is_some(),
        poll: Poll::CHANGE_SET,
        render: ctx.render_options(&project),
        now: crate::time::now(),
        run_id: crate::aws::changeset::new_run_id(),
        replace_failed: false,
        refresh_templates: args.refresh_templates,
        interrupt: Interrupt::never(),
    };
    // Fail on a bad selection before any AWS call.
    project.select(&options.selection.names, options.selection.all)?;
    let connect = ctx.connect(&project);
    let plan = runtime()?.block_on(async {
        options.interrupt = listen_for_interrupts(&options.run_id);
        crate::plan::run::plan(Arc::new(project), connect, options).await
    })?;
    if let Some(path) = &args.out {
        plan.write(path)?;
        ctx.note(format_args!("saved the plan to {}", path.display()));
    }
    let mut out = &ctx.out;
    match args.format {
        PlanFormat::Text => report::plan::write_text(&mut out, &plan, ctx.stdout)?,
        PlanFormat::Json => report::plan::write_json_plan(&mut out, &plan)?,
        PlanFormat::Markdown => report::plan::write_markdown(&mut out, &plan)?,
    }
    let _ = report::plan::write_failures(&mut std::io::stderr().lock(), &plan, ctx.stderr);
    Ok(plan.verdict(args.detailed_exitcode))
}
