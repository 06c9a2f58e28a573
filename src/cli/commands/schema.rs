//! `little schema KIND`: prints a JSON Schema (`crate::schema`).

use std::io::Write;

use crate::cli::context::Context;
use crate::cli::SchemaArgs;
use crate::error::{Error, Result, Verdict};

pub fn run(ctx: &Context, args: SchemaArgs) -> Result<Verdict> {
    let mut out = &ctx.out;
    out.write_all(crate::schema::schema_text(args.kind.kind()).as_bytes())
        .map_err(Error::output)?;
    out.flush().map_err(Error::output)?;
    Ok(Verdict::Ok)
}
