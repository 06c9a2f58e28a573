//! `little drift`: CloudFormation drift detection on the selected stacks; a stack that could
//! not be checked is named on stderr.

use std::sync::Arc;

use crate::audit::drift::DriftOptions;
use crate::cli::context::{runtime, selection, Context};
use crate::cli::{DriftArgs, ReportFormat};
use crate::error::{Result, Verdict};
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: DriftArgs) -> Result<Verdict> {
    let options = DriftOptions {
        render: ctx.render_options(&project),
        poll: crate::poll::Poll::DRIFT,
        concurrency: usize::from(args.concurrency),
    };
    let connect = ctx.connect(&project);
    let report = runtime()?.block_on(crate::audit::drift::drift(
        Arc::new(project),
        connect,
        &selection(&args.selection),
        &options,
    ))?;
    let mut out = &ctx.out;
    match args.format {
        ReportFormat::Text => report::drift::write_text(&mut out, &report, ctx.stdout)?,
        ReportFormat::Json => report::drift::write_json_report(&mut out, &report)?,
    }
    for s in &report.stacks {
        if let Some(e) = &s.error {
            ctx.error(format_args!(
                "cannot check the drift of stack `{}`: {e}",
                s.stack
            ));
        }
    }
    Ok(report.verdict())
}
