//! `little man [--out DIR]`: the manual page of `little`, or one page per command written
//! into the directory the user named.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::context::Context;
use crate::cli::{Cli, ManArgs};
use crate::error::{Error, Result, Verdict};

pub fn run(ctx: &Context, args: ManArgs) -> Result<Verdict> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    match args.out {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .map_err(Error::Io)?;
            let mut out = &ctx.out;
            out.write_all(&buf).map_err(Error::output)?;
            out.flush().map_err(Error::output)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
                path: dir.clone(),
                source,
            })?;
            let mut written = Vec::new();
            write_pages(cmd, &dir, &mut written)?;
            for path in &written {
                ctx.note(format_args!("wrote {}", path.display()));
            }
        }
    }
    Ok(Verdict::Ok)
}

/// One page for `cmd` and for each of its visible subcommands, depth first.
fn write_pages(cmd: clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    let page = clap_mangen::Man::new(cmd);
    let path = dir.join(page.get_filename());
    let mut buf = Vec::new();
    page.render(&mut buf).map_err(Error::Io)?;
    std::fs::write(&path, buf).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    written.push(path);
    Ok(())
}
