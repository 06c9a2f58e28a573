//! `little healthcheck`: GETs a URL (`net::get`; by default `little serve`'s `/healthz` at
//! the address its variables give) within `--timeout`; ok on a 2xx answer.

use std::io::Write;
use std::time::Duration;

use crate::cli::context::Context;
use crate::cli::output::stderr_line;
use crate::cli::HealthcheckArgs;
use crate::error::{Error, Result, Verdict};

pub fn run(ctx: &Context, args: HealthcheckArgs) -> Result<Verdict> {
    let url = match args.url {
        Some(u) => u,
        None => {
            crate::serve::settings::local_url(&crate::serve::settings::process_env, "/healthz")?
        }
    };
    let uri: http::Uri = url
        .parse()
        .ok()
        .filter(|u: &http::Uri| u.host().is_some())
        .ok_or_else(|| Error::Usage(format!("`{url}` is not a valid URL")))?;
    let timeout = Duration::from_secs(args.timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Io)?;
    let outcome = runtime.block_on(async {
        tokio::time::timeout(timeout, crate::net::get(&uri))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", timeout.as_secs())))
    });
    match outcome {
        Ok(status) if status.is_success() => {
            if !ctx.quiet {
                let mut out = &ctx.out;
                out.write_all(format!("healthy: {uri} answered {status}\n").as_bytes())
                    .map_err(Error::output)?;
                out.flush().map_err(Error::output)?;
            }
            Ok(Verdict::Ok)
        }
        Ok(status) => {
            stderr_line(format_args!("unhealthy: {uri} answered {status}"));
            Ok(Verdict::Failed)
        }
        Err(why) => {
            stderr_line(format_args!("unhealthy: {uri}: {why}"));
            Ok(Verdict::Failed)
        }
    }
}
