//! `little apply`: plans (or reads the saved plan of `--plan`), asks, deploys; the summary on
//! stdout, failures and an interrupt's clean-up on stderr.

use std::sync::Arc;

use crate::cli::context::{listen_for_interrupts, runtime, selection, Context};
use crate::cli::ui::CliUi;
use crate::cli::{ApplyArgs, ReportFormat};
use crate::deploy::options::ApplyOptions;
use crate::error::{Result, Verdict};
use crate::interrupt::Interrupt;
use crate::plan::model::{Plan, PlanOptions};
use crate::poll::Poll;
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: ApplyArgs) -> Result<Verdict> {
    let saved = match &args.plan {
        Some(path) => Some(Plan::read(path)?),
        None => {
            // Fail on a bad selection before any AWS call.
            project.select(&args.selection.stacks, args.selection.all)?;
            None
        }
    };
    let selection = match &saved {
        Some(plan) => plan.selection(),
        None => selection(&args.selection),
    };
    let mut options = ApplyOptions {
        plan: PlanOptions {
            selection,
            concurrency: usize::from(args.concurrency),
            keep_change_sets: true,
            change_sets: crate::plan::model::ChangeSetMode::Always,
            poll: Poll::CHANGE_SET,
            render: ctx.render_options(&project),
            now: crate::time::now(),
            run_id: crate::aws::changeset::new_run_id(),
            change_set_name: None,
            replace_failed: args.replace_failed,
            refresh_templates: args.refresh_templates,
            interrupt: Interrupt::never(),
        },
        saved,
        yes: args.yes,
        allow_destructive: args.allow_destructive,
        allow_broadening: args.allow_broadening,
        allow_unprotect: args.allow_unprotect,
        replace_failed: args.replace_failed,
        wait: Poll {
            timeout: std::time::Duration::from_secs(args.timeout.saturating_mul(60)),
            ..Poll::STACK
        },
    };
    // A reader that closes stdout (`| head`) neither stops nor shortens an apply: it goes on
    // exactly as it would have, change sets included.
    ctx.out.note_on_stop(
        "the apply goes on; its outcome is in the exit code, and failures are on stderr",
    );
    let mut ui = CliUi::new(ctx);
    ui.plan_to_stderr = args.format == ReportFormat::Json;
    let ui = Arc::new(ui);
    let connect = ctx.connect(&project);
    let report = runtime()?.block_on(async {
        options.plan.interrupt = listen_for_interrupts(&options.plan.run_id);
        crate::deploy::apply::apply(Arc::new(project), connect, options, ui).await
    })?;
    let mut out = &ctx.out;
    match args.format {
        ReportFormat::Text => {
            report::apply::write_summary(&mut out, &report.stacks, false, ctx.stdout)?;
        }
        ReportFormat::Json => report::write_json(&mut out, &report)?,
    }
    let mut err = std::io::stderr().lock();
    let _ = report::apply::write_failures(&mut err, &report.stacks, false, ctx.stderr);
    if report.interrupted {
        let _ = report::apply::write_interrupted(&mut err, report.cleanup.as_deref(), ctx.stderr);
    }
    Ok(report.verdict())
}
