//! `little audit`: the audit's report on stdout, what could not be checked on stderr, and
//! with `--notify` the notification sent (`audit::notify::send`) and said on stderr.

use std::io::Write;
use std::sync::Arc;

use crate::audit::notify::{Notified, NotifySettings, SnsTarget};
use crate::audit::options::{fail_on, AuditFlags};
use crate::audit::run::AuditOptions;
use crate::cli::context::{runtime, Context};
use crate::cli::{AuditArgs, AuditFormat};
use crate::error::{Error, Result, Verdict};
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: AuditArgs) -> Result<Verdict> {
    crate::audit::run::validate_checks(&args.checks)?;
    let fail_on = fail_on(
        args.fail_on.as_deref(),
        project.file.audit.fail_on.as_deref(),
    )?;
    // Checked before the audit runs, so that a bad target does not cost a whole audit.
    let notify = match args.notify {
        true => Some(NotifySettings::resolve(&project.file.audit.notify)?),
        false => None,
    };
    let flags = AuditFlags {
        checks: args.checks.clone(),
        remediate: args.remediate,
        all_accounts: args.accounts,
        org: args.org,
        stacks: !args.no_stacks,
        drift: args.drift,
        require_kms: args.require_kms,
        all_images: args.all_images,
        registry: None,
    };
    let options = AuditOptions::resolve(
        &project,
        &flags,
        || ctx.render_options(&project),
        crate::time::now(),
    )?;
    let connect = ctx.connect(&project);
    let project = Arc::new(project);
    let rt = runtime()?;
    let report = rt.block_on(crate::audit::run::audit(
        project.clone(),
        connect.clone(),
        options,
    ))?;
    {
        let mut out = &ctx.out;
        match args.format {
            AuditFormat::Text => report::audit::write_text(&mut out, &report, ctx.stdout)?,
            AuditFormat::Json => report::audit::write_json_report(&mut out, &report)?,
            AuditFormat::Sarif => report::audit::write_sarif(&mut out, &report)?,
            AuditFormat::Junit => report::audit::write_junit(&mut out, &report)?,
            AuditFormat::Markdown => report::audit::write_markdown(&mut out, &report)?,
        }
        out.flush().map_err(Error::output)?;
    }
    for e in &report.errors {
        ctx.error(format_args!("not checked: {e}"));
    }
    for n in &report.not_checked {
        ctx.note(format_args!("not checked: {}", n.reason));
    }
    let verdict = report.verdict(fail_on);
    let Some(settings) = notify else {
        return Ok(verdict);
    };
    let sns_at = SnsTarget {
        region: project.file.defaults.region.as_deref(),
        account: project.default_account(),
    };
    let notified = rt.block_on(crate::audit::notify::send(
        &report,
        &settings,
        fail_on,
        connect.as_ref(),
        sns_at,
    ));
    match &notified {
        Notified::Nothing { min } => ctx.note(format_args!(
            "notification: nothing to send (no finding at or above {min})"
        )),
        Notified::Sent(lines) => {
            for line in lines {
                ctx.note(format_args!("notification sent: {line}"));
            }
        }
        Notified::Failed(e) => ctx.error(e),
    }
    Ok(notified.verdict(verdict))
}
