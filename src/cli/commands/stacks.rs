//! `little stacks`: the project's stacks, from its files alone.

use crate::cli::context::Context;
use crate::cli::{ReportFormat, StacksArgs};
use crate::error::{Result, Verdict};
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: StacksArgs) -> Result<Verdict> {
    let rows = report::stacks::rows(&project);
    let mut out = &ctx.out;
    match args.format {
        ReportFormat::Text => report::stacks::write_text(&mut out, &rows, ctx.stdout)?,
        ReportFormat::Json => report::stacks::write_json_rows(&mut out, &rows)?,
    }
    Ok(Verdict::Ok)
}
