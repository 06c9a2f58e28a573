//! `little validate`: renders and lints the selected stacks; the problems on stderr (the
//! errors at least, in every format), the result on stdout.

use crate::cli::context::{selection, Context};
use crate::cli::{ReportFormat, ValidateArgs};
use crate::error::{Result, Verdict};
use crate::project::Project;
use crate::render::{ops, RenderOptions};
use crate::report;

pub fn run(project: Project, ctx: &Context, args: ValidateArgs) -> Result<Verdict> {
    let options = RenderOptions {
        skip_schema_checks: args.no_schema_checks,
        ..ctx.render_options(&project)
    };
    let validation = ops::validate(&project, &selection(&args.selection), options, args.strict)?;
    // The problems go to stderr in every format (the errors at least), so that a failed
    // validation always says why where people and CI logs look.
    let shown: Vec<_> = validation
        .diagnostics
        .iter()
        .filter(|d| d.is_error() || (!ctx.quiet && args.format == ReportFormat::Text))
        .cloned()
        .collect();
    // Best effort: the exit code tells the result when stderr is gone.
    let _ = report::diagnostics::write_text(&mut std::io::stderr().lock(), &shown, ctx.stderr);
    let mut out = &ctx.out;
    match args.format {
        ReportFormat::Text => report::validate::write_text(&mut out, &validation, ctx.stdout)?,
        ReportFormat::Json => report::validate::write_json_report(&mut out, &validation)?,
    }
    Ok(validation.verdict())
}
