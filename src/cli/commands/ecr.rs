//! `little ecr`: the scan gate on one image (`scan-report`, and `promote`, the release tag put
//! on it when it passes), as text or JSON; and little-automation's verbs (`registry`, `list`,
//! `login`, `scanreport`, `scan-in-progress`), which need no project; and `lifecycle-preview`,
//! what a lifecycle policy would expire.

use std::io::Write;

use crate::audit::ecr_verbs;
use crate::audit::gate::{parse_image, promote, scan_report, GateOptions};
use crate::cli::context::{runtime, Context};
use crate::cli::{EcrCommand, GateArgs, ReportFormat};
use crate::error::{Error, Result, Verdict};
use crate::project::Project;
use crate::report;

pub fn run(project: Option<Project>, ctx: &Context, command: EcrCommand) -> Result<Verdict> {
    let connect = match &project {
        Some(p) => ctx.connect(p),
        None => ctx.connect_without_project(),
    };
    let account = project.as_ref().and_then(|p| p.default_account().cloned());
    let region = match &project {
        Some(p) => ctx.default_region(p),
        None => ctx.aws.region.clone(),
    };
    let (region, account) = (region.as_deref(), account.as_ref());
    let rt = runtime()?;
    let mut out = &ctx.out;
    let (image, gate, release_tag) = match &command {
        EcrCommand::ScanReport(a) => (&a.image, &a.gate, None),
        EcrCommand::Promote(a) => (&a.image, &a.gate, Some(a.release_tag.clone())),
        EcrCommand::Registry => {
            let registry = rt.block_on(ecr_verbs::registry(connect.as_ref(), region, account))?;
            writeln!(out, "{registry}").map_err(Error::output)?;
            return Ok(Verdict::Ok);
        }
        EcrCommand::List => {
            let repos = rt.block_on(ecr_verbs::repositories(connect.as_ref(), region, account))?;
            for r in repos {
                writeln!(out, "{r}").map_err(Error::output)?;
            }
            return Ok(Verdict::Ok);
        }
        EcrCommand::Login(a) => {
            let (registry, password) = rt.block_on(async {
                let registry = ecr_verbs::registry(connect.as_ref(), region, account).await?;
                let password = ecr_verbs::login_password(connect.as_ref(), region, account).await?;
                Ok::<_, Error>((registry, password))
            })?;
            let docker = ecr_verbs::docker_on_path(std::env::var_os("PATH").as_deref());
            return match docker.filter(|_| !a.stdout) {
                Some(docker) => Ok(if ecr_verbs::docker_login(&docker, &registry, &password)? {
                    Verdict::Ok
                } else {
                    Verdict::Failed
                }),
                None => {
                    writeln!(out, "{password}").map_err(Error::output)?;
                    Ok(Verdict::Ok)
                }
            };
        }
        EcrCommand::Scanreport(a) => {
            let s = rt.block_on(ecr_verbs::scan_report(
                connect.as_ref(),
                region,
                account,
                &a.repository,
                &a.tag,
            ))?;
            let json = report::aws_json::scan_findings(
                &s.registry_id,
                &a.repository,
                &s.digest,
                &a.tag,
                &s.scan,
            );
            report::write_json(&mut out, &json)?;
            return Ok(Verdict::Ok);
        }
        EcrCommand::ScanInProgress(a) => {
            let busy = rt.block_on(ecr_verbs::scan_in_progress(
                connect.as_ref(),
                region,
                account,
                &a.repository,
                &a.tag,
            ))?;
            return Ok(if busy { Verdict::Ok } else { Verdict::Failed });
        }
        EcrCommand::LifecyclePreview(a) => {
            let policy =
                match &a.policy {
                    Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                        Error::Usage(format!("cannot read `{}`: {e}", path.display()))
                    })?),
                    None => None,
                };
            let clients = rt.block_on(connect.clients(region, account))?;
            let now = i64::try_from(crate::time::now()).unwrap_or(i64::MAX);
            let timeout = std::time::Duration::from_secs(a.timeout);
            let preview = rt.block_on(crate::audit::preview::lifecycle_preview(
                clients.ecr.as_ref(),
                &a.repository,
                policy,
                now,
                a.ecr.then_some((clients.lifecycle.as_ref(), timeout)),
            ))?;
            match a.format {
                ReportFormat::Json => report::write_json(&mut out, &preview)?,
                ReportFormat::Text => {
                    report::lifecycle::write_text(&mut out, &preview, ctx.stdout)?
                }
            }
            return Ok(preview.verdict());
        }
    };
    gate_run(ctx, connect, region, account, image, gate, release_tag)
}

/// `scan-report` and `promote`.
fn gate_run(
    ctx: &Context,
    connect: std::sync::Arc<dyn crate::aws::connect::Connect>,
    region: Option<&str>,
    account: Option<&crate::aws::connect::Account>,
    image: &str,
    gate: &GateArgs,
    release_tag: Option<String>,
) -> Result<Verdict> {
    let (repository, reference) = parse_image(image)?;
    let options = GateOptions {
        wait: gate.wait,
        start: gate.start,
        fail_on: gate.fail_on.parse().map_err(Error::Usage)?,
        timeout: std::time::Duration::from_secs(gate.timeout),
        poll: std::time::Duration::from_secs(5),
    };
    let rt = runtime()?;
    let clients = rt.block_on(connect.clients(region, account))?;
    let (ecr, images) = (clients.ecr.as_ref(), clients.images.as_ref());
    let mut out = &ctx.out;
    let text = gate.format == ReportFormat::Text;
    let (verdict, json) = match release_tag {
        None => {
            let r = rt.block_on(scan_report(ecr, images, &repository, &reference, &options))?;
            if text {
                report::gate::write_text(&mut out, &r, ctx.stdout)?;
            }
            (r.verdict(), serde_json::to_value(&r).unwrap_or_default())
        }
        Some(tag) => {
            let p = rt.block_on(promote(
                ecr,
                images,
                &repository,
                &reference,
                &tag,
                &options,
            ))?;
            if text {
                report::gate::write_promotion_text(&mut out, &p, ctx.stdout)?;
            }
            (p.verdict(), serde_json::to_value(&p).unwrap_or_default())
        }
    };
    if gate.format == ReportFormat::Json {
        report::write_json(&mut out, &json)?;
    }
    Ok(verdict)
}
