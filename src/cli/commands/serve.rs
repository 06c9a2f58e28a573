//! `little serve`: the scheduled audit and its HTTP server, with options from
//! `serve::ServeOptions::resolve`; runs until SIGTERM or Ctrl-C.

use std::sync::Arc;

use crate::audit::options::AuditFlags;
use crate::audit::run::AuditOptions;
use crate::cli::context::{runtime, Context};
use crate::cli::ServeArgs;
use crate::error::{Error, Result, Verdict};
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
        registry: args.registry.clone(),
        cors_origins: args.cors_origins.clone(),
        // -q and -v, where no --log-level is given, as the flag.
        log_level: args.log_level.clone().or_else(|| {
            ctx.quiet
                .then(|| "error".to_owned())
                .or_else(|| ctx.verbose.then(|| "debug".to_owned()))
        }),
        log_format: args.log_format.clone(),
    };
    let mut audit = AuditFlags {
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
        registry: None,
    };
    let setup = ServeOptions::resolve(flags, &project.file.audit, &project.root, |registry| {
        if let Some(r) = registry.filter(|_| args.accounts || args.org) {
            return Err(Error::Usage(format!(
                "{} names one registry to audit; --accounts and --org audit many: leave one out",
                crate::serve::settings::named(r)
            )));
        }
        audit.registry = registry.map(|r| r.value.clone());
        AuditOptions::resolve(
            &project,
            &audit,
            || ctx.render_options(&project),
            crate::time::now(),
        )
    })?;
    crate::serve::logging::configure(setup.log_level, setup.log_format);
    for note in &setup.notes {
        crate::serve::log(note);
    }
    let connect = ctx.connect(&project);
    let interval_text = setup.interval_text;
    runtime()?.block_on(crate::serve::serve(
        Arc::new(project),
        connect,
        setup.options,
        move |address| {
            crate::serve::log_at(
                crate::serve::logging::Level::Info,
                &format!("listening on http://{address} (audit every {interval_text})"),
                &[("address", address.to_string().into())],
            );
        },
    ))?;
    Ok(Verdict::Ok)
}
