//! `little serve`: the scheduled audit and its HTTP server, with options from
//! `serve::ServeOptions::resolve`; runs until SIGTERM or Ctrl-C.

use std::sync::Arc;

use crate::audit::options::AuditFlags;
use crate::audit::run::AuditOptions;
use crate::cli::context::{runtime, Context};
use crate::cli::ServeArgs;
use crate::error::{Result, Verdict};
use crate::project::Project;
use crate::serve::{ServeFlags, ServeOptions};

pub fn run(project: Project, ctx: &Context, args: ServeArgs) -> Result<Verdict> {
    crate::audit::run::validate_checks(&args.checks)?;
    let flags = ServeFlags {
        listen: args.listen.clone(),
        interval: args.interval.clone(),
        state: args.state.clone(),
        token_file: args.token_file.clone(),
        read_token_file: args.read_token_file.clone(),
        allow_public_unauthenticated: args.allow_public_unauthenticated,
        max_connections: args.max_connections as usize,
        stale_after: args.stale_after,
    };
    let audit = AuditFlags {
        checks: args.checks.clone(),
        // Opt-in: the flag, or little.yaml's `audit.remediate`.
        remediate: args.remediate || project.file.audit.remediate.unwrap_or(false),
        all_accounts: args.accounts,
        org: args.org,
        stacks: !args.no_stacks,
        drift: args.drift,
        require_kms: args.require_kms,
        // Every tagged image is read: the metrics are per tag.
        all_images: true,
    };
    let setup = ServeOptions::resolve(flags, &project.file.audit, &project.root, || {
        AuditOptions::resolve(
            &project,
            &audit,
            || ctx.render_options(&project),
            crate::time::now(),
        )
    })?;
    if !ctx.quiet {
        for note in &setup.notes {
            crate::serve::log(note);
        }
    }
    let connect = ctx.connect(&project);
    let quiet = ctx.quiet;
    let interval_text = setup.interval_text;
    runtime()?.block_on(crate::serve::serve(
        Arc::new(project),
        connect,
        setup.options,
        move |address| {
            if !quiet {
                crate::serve::log(&format!(
                    "listening on http://{address} (audit every {interval_text})"
                ));
            }
        },
    ))?;
    Ok(Verdict::Ok)
}
