//! `little ecr scan-report` and `little ecr promote`: the scan gate on one image (and the
//! release tag put on it when it passes), as text or JSON.

use crate::audit::gate::{parse_image, promote, scan_report, GateOptions};
use crate::cli::context::{runtime, Context};
use crate::cli::{EcrCommand, ReportFormat};
use crate::error::{Error, Result, Verdict};
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, command: EcrCommand) -> Result<Verdict> {
    let (image, gate, release_tag) = match &command {
        EcrCommand::ScanReport(a) => (&a.image, &a.gate, None),
        EcrCommand::Promote(a) => (&a.image, &a.gate, Some(a.release_tag.clone())),
    };
    let (repository, reference) = parse_image(image)?;
    let options = GateOptions {
        wait: gate.wait,
        start: gate.start,
        fail_on: gate.fail_on.parse().map_err(Error::Usage)?,
        timeout: std::time::Duration::from_secs(gate.timeout),
        poll: std::time::Duration::from_secs(5),
    };
    let connect = ctx.connect(&project);
    let account = project.default_account().cloned();
    let region = project.file.defaults.region.clone();
    let rt = runtime()?;
    let clients = rt.block_on(connect.clients(region.as_deref(), account.as_ref()))?;
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
