//! `little check`: one image's checks (the report written under `--out`, a summary on
//! stdout), or the worker of the image check pipeline on its queue.

use crate::check::settings::{peak_memory, write_reports, WorkerFlags};
use crate::check::worker::WorkerOptions;
use crate::check::{CheckSettings, ImageRef};
use crate::cli::context::{runtime, Context};
use crate::cli::output::stderr_line;
use crate::cli::{CheckArgs, ReportFormat};
use crate::error::{Result, Verdict};
use crate::project::Project;
use crate::report;

pub fn run(project: Project, ctx: &Context, args: CheckArgs) -> Result<Verdict> {
    let file = &project.file.check;
    let settings =
        CheckSettings::resolve(args.platform.as_deref(), args.registry_url.as_deref(), file)?;
    let image = args.image.as_deref().map(ImageRef::parse).transpose()?;
    let connect = ctx.connect(&project);
    let account = project.default_account().cloned();
    let region = project.file.defaults.region.clone();
    let rt = runtime()?;
    let clients = rt.block_on(connect.clients(region.as_deref(), account.as_ref()))?;

    if let Some(image) = image {
        let now = crate::time::now();
        let mut report =
            rt.block_on(crate::check::check_image(&clients, &image, &settings, now))?;
        rt.block_on(crate::check::enforce(&clients, &mut report, args.enforce))?;
        let html = report::check::html(&report, &settings.branding);
        let (json_path, html_path) = write_reports(&args.out, &image, &report, html)?;
        let mut out = &ctx.out;
        match args.format {
            ReportFormat::Text => report::check::write_text(&mut out, &report, ctx.stdout)?,
            ReportFormat::Json => report::write_json(&mut out, &report)?,
        }
        ctx.note(format_args!(
            "report: {} and {}",
            json_path.display(),
            html_path.display()
        ));
        if ctx.verbose {
            if let Some(peak) = peak_memory() {
                stderr_line(format_args!("peak memory: {peak}"));
            }
        }
        return Ok(report.verdict());
    }

    let flags = WorkerFlags {
        queue: args.queue.clone(),
        bucket: args.bucket.clone(),
        enforce: args.enforce,
        once: args.once,
        skip_untagged: args.skip_untagged,
    };
    let options = WorkerOptions::resolve(flags, file, settings, crate::report::check::html)?;
    let quiet = ctx.quiet;
    let log = move |line: &str| {
        if !quiet {
            crate::serve::log(line);
        }
    };
    log(&format!("checking images from {}", options.queue_url));
    let stats = rt.block_on(crate::check::worker::run(
        &clients,
        &options,
        crate::interrupt::signalled(),
        &log,
    ))?;
    log(&format!(
        "stopped: {} checked, {} skipped, {} ignored, {} left in the queue{}",
        stats.checked,
        stats.skipped,
        stats.ignored,
        stats.left,
        if stats.undelivered > 0 {
            format!(", {} deliveries failed", stats.undelivered)
        } else {
            String::new()
        }
    ));
    Ok(stats.verdict(args.once))
}
