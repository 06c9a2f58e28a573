//! `little render`: renders the selected stacks and prints them, or writes them into `--out`.

use crate::cli::context::{selection, Context};
use crate::cli::output::stderr_line;
use crate::cli::{RenderArgs, TemplateFormat};
use crate::error::{Result, Verdict};
use crate::project::Project;
use crate::render::ops;
use crate::report;
use crate::template::parse::Syntax;

pub fn run(project: Project, ctx: &Context, args: RenderArgs) -> Result<Verdict> {
    let rendered = ops::render_stacks(
        &project,
        &selection(&args.selection),
        ctx.render_options(&project),
    )?;
    if ctx.verbose {
        for r in &rendered {
            stderr_line(report::render::describe(r));
        }
    }
    let syntax = match args.format {
        TemplateFormat::Json => Syntax::Json,
        TemplateFormat::Yaml => Syntax::Yaml,
    };
    match &args.out {
        Some(dir) => report::render::write_files(dir, &rendered, syntax, ctx.quiet)?,
        None => report::render::print(&mut &ctx.out, &rendered, syntax)?,
    }
    Ok(Verdict::Ok)
}
