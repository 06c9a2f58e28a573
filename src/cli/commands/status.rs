//! `little status [STACK...]`: the deployed state of the stacks (every stack without names).

use std::sync::Arc;

use crate::cli::context::{runtime, Context};
use crate::cli::{ReportFormat, StatusArgs};
use crate::error::{Result, Verdict};
use crate::project::Project;
use crate::project::Selection;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: StatusArgs) -> Result<Verdict> {
    let selection = Selection {
        all: args.stacks.is_empty(),
        names: args.stacks.clone(),
    };
    let connect = ctx.connect(&project);
    let stacks = runtime()?.block_on(crate::deploy::status::status(
        Arc::new(project),
        connect,
        &selection,
    ))?;
    let mut out = &ctx.out;
    match args.format {
        ReportFormat::Text => report::apply::write_status(&mut out, &stacks, ctx.stdout)?,
        ReportFormat::Json => report::write_json(&mut out, &stacks)?,
    }
    Ok(Verdict::Ok)
}
