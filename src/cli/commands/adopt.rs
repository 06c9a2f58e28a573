//! `little adopt`: imports the resources that already exist into the stacks that declare them,
//! then applies those stacks; what is adopted and the plan on stderr, the apply's summary on
//! stdout, failures on stderr.

use std::sync::Arc;

use crate::cli::context::{listen_for_interrupts, runtime, Context};
use crate::cli::ui::CliUi;
use crate::cli::AdoptArgs;
use crate::deploy::adopt::AdoptOptions;
use crate::deploy::options::ApplyOptions;
use crate::error::{Result, Verdict};
use crate::interrupt::Interrupt;
use crate::plan::model::PlanOptions;
use crate::poll::Poll;
use crate::project::{Project, Selection};
use crate::report;

pub fn run(project: Project, ctx: &Context, args: AdoptArgs) -> Result<Verdict> {
    project.select(&args.stacks, false)?;
    let mut options = AdoptOptions {
        apply: ApplyOptions {
            plan: PlanOptions {
                selection: Selection {
                    names: args.stacks.clone(),
                    all: false,
                },
                concurrency: 1,
                keep_change_sets: true,
                change_sets: crate::plan::model::ChangeSetMode::Always,
                poll: Poll::CHANGE_SET,
                render: ctx.render_options(&project),
                now: crate::time::now(),
                run_id: crate::aws::changeset::new_run_id(),
                change_set_name: None,
                replace_failed: false,
                refresh_templates: false,
                interrupt: Interrupt::never(),
            },
            saved: None,
            yes: args.yes,
            allow_destructive: args.allow_destructive,
            allow_broadening: args.allow_broadening,
            allow_unprotect: false,
            replace_failed: false,
            wait: Poll {
                timeout: std::time::Duration::from_secs(args.timeout.saturating_mul(60)),
                ..Poll::STACK
            },
        },
        resources: args.resources.clone(),
    };
    ctx.out.note_on_stop(
        "the adoption goes on; its outcome is in the exit code, and failures are on stderr",
    );
    let ui = Arc::new(CliUi::new(ctx));
    let connect = ctx.connect(&project);
    let report = runtime()?.block_on(async {
        options.apply.plan.interrupt = listen_for_interrupts(&options.apply.plan.run_id);
        crate::deploy::adopt::adopt(Arc::new(project), connect, options, ui).await
    })?;
    let mut out = &ctx.out;
    report::apply::write_summary(&mut out, &report.apply.stacks, false, ctx.stdout)?;
    let mut err = std::io::stderr().lock();
    let _ = report::apply::write_failures(&mut err, &report.apply.stacks, false, ctx.stderr);
    if report.apply.interrupted {
        let _ =
            report::apply::write_interrupted(&mut err, report.apply.cleanup.as_deref(), ctx.stderr);
    }
    Ok(report.verdict())
}
