//! `little whoami [STACK...]`: who the credentials of each target act as, and whether the
//! account guard lets them through.

use crate::cli::context::{runtime, Context};
use crate::cli::{ReportFormat, WhoamiArgs};
use crate::error::{Result, Verdict};
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: WhoamiArgs) -> Result<Verdict> {
    let stacks = if args.selection.stacks.is_empty() && !args.selection.all {
        Vec::new()
    } else {
        project.select(&args.selection.stacks, args.selection.all)?
    };
    let connect = ctx.connect(&project);
    let targets = runtime()?.block_on(crate::context::identity::whoami(
        &project,
        connect.as_ref(),
        &stacks,
    ))?;
    let mut out = &ctx.out;
    match args.format {
        ReportFormat::Text => report::whoami::write_text(&mut out, &targets, ctx.stdout)?,
        ReportFormat::Json => report::whoami::write_json_report(&mut out, &targets)?,
    }
    Ok(crate::context::identity::verdict(&targets))
}
