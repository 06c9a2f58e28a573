//! `little init [DIR]`: scaffolds a project (`crate::init`) and says what it wrote.

use std::path::PathBuf;

use crate::cli::context::Context;
use crate::cli::InitArgs;
use crate::error::{Result, Verdict};

pub fn run(ctx: &Context, args: InitArgs) -> Result<Verdict> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let options = crate::init::InitOptions {
        github_repo: args.github_repo,
        notify_email: args.notify_email,
        org: args.org,
    };
    let scaffolded = crate::init::init(&dir, &options)?;
    crate::report::init::write_text(
        &mut &ctx.out,
        &dir,
        &scaffolded.files,
        &scaffolded.placeholders,
    )?;
    Ok(Verdict::Ok)
}
