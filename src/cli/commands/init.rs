//! `little init [DIR]`: scaffolds a project (`crate::init`) and says what it wrote.

use std::path::PathBuf;

use crate::cli::context::Context;
use crate::cli::InitArgs;
use crate::error::{Result, Verdict};

pub fn run(ctx: &Context, args: InitArgs) -> Result<Verdict> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let files = crate::init::init(&dir)?;
    crate::report::init::write_text(&mut &ctx.out, &dir, &files)?;
    Ok(Verdict::Ok)
}
