//! `little completions SHELL`: prints the shell's completion script.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::context::Context;
use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Error, Result, Verdict};

pub fn run(ctx: &Context, args: CompletionsArgs) -> Result<Verdict> {
    // clap_complete panics when its writer fails (`| head`): generate into memory first.
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "little", &mut buf);
    let mut out = &ctx.out;
    out.write_all(&buf).map_err(Error::output)?;
    out.flush().map_err(Error::output)?;
    Ok(Verdict::Ok)
}
