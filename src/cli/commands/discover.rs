//! `little discover`: finds the ECR repositories and IAM roles no stack manages and writes the
//! stack configs that reproduce them, to stdout or into `--output DIR`; what was found on
//! stderr.

use std::io::Write;

use crate::cli::context::{runtime, Context};
use crate::cli::DiscoverArgs;
use crate::error::{Error, Result, Verdict};
use crate::project::Project;
use crate::report::discover::stack_configs;
use crate::text::plural;

pub fn run(project: Project, ctx: &Context, args: DiscoverArgs) -> Result<Verdict> {
    let region = ctx.default_region(&project);
    let connect = ctx.connect(&project);
    let found = runtime()?.block_on(crate::audit::discover::discover(
        connect.as_ref(),
        region.as_deref(),
    ))?;
    let configs = stack_configs(&found, &args.name);
    let _ = writeln!(
        std::io::stderr(),
        "found {} and {} that no stack manages in {} ({} managed by stacks)",
        plural(found.repositories.len(), "repository", "repositories"),
        plural(found.roles.len(), "role", "roles"),
        found.region,
        found.managed
    );
    let mut out = &ctx.out;
    match &args.output {
        None => {
            for (i, c) in configs.iter().enumerate() {
                if i > 0 {
                    writeln!(out, "---").map_err(Error::output)?;
                }
                write!(out, "{}", c.text).map_err(Error::output)?;
            }
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.clone(),
                source,
            })?;
            for c in &configs {
                let path = dir.join(&c.file);
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(|source| Error::Write {
                        path: path.clone(),
                        source,
                    })?;
                file.write_all(c.text.as_bytes())
                    .map_err(|source| Error::Write {
                        path: path.clone(),
                        source,
                    })?;
                writeln!(
                    out,
                    "wrote {} (stack `{}`): `little adopt {}` takes it over",
                    path.display(),
                    c.stack,
                    c.stack
                )
                .map_err(Error::output)?;
            }
        }
    }
    Ok(Verdict::Ok)
}
