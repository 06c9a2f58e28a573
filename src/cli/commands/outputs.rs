//! `little outputs STACK`: a deployed stack's outputs (JSON: an object of key to value).

use std::sync::Arc;

use crate::cli::context::{runtime, Context};
use crate::cli::{OutputsArgs, ReportFormat};
use crate::error::{Result, Verdict};
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: OutputsArgs) -> Result<Verdict> {
    let connect = ctx.connect(&project);
    let outputs = runtime()?.block_on(crate::deploy::status::outputs(
        Arc::new(project),
        connect,
        &args.stack,
    ))?;
    let mut out = &ctx.out;
    match args.format {
        ReportFormat::Text => report::apply::write_outputs(&mut out, &outputs)?,
        ReportFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = outputs
                .iter()
                .map(|o| (o.key.clone(), serde_json::Value::String(o.value.clone())))
                .collect();
            report::write_json(&mut out, &map)?
        }
    }
    Ok(Verdict::Ok)
}
