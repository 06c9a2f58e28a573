//! `little plan`: plans the selected stacks, saves the plan with `--out`, prints it (and with
//! `--step-summary` appends its Markdown to the job summary); failures on stderr.

use std::sync::Arc;

use crate::cli::context::{listen_for_interrupts, runtime, selection, Context};
use crate::cli::{ChangeSetWhen, PlanArgs, PlanFormat};
use crate::error::{Error, Result, Verdict};
use crate::interrupt::Interrupt;
use crate::plan::model::{ChangeSetMode, PlanOptions};
use crate::poll::Poll;
use crate::project::Project;
use crate::report;
use crate::report::plan_markdown::MarkdownOptions;

/// The flags that clap cannot check together: `--summary` has no JSON form.
pub fn check_flags(args: &PlanArgs) -> Result<()> {
    if args.summary && args.format == PlanFormat::Json {
        return Err(Error::Usage(
            "`--summary` is for `--format text` and `markdown`: the JSON plan has `summary` and each stack's `status`".into(),
        ));
    }
    Ok(())
}

pub fn run(project: Project, ctx: &Context, args: PlanArgs) -> Result<Verdict> {
    let mut options = PlanOptions {
        selection: selection(&args.selection),
        concurrency: usize::from(args.concurrency),
        keep_change_sets: args.out.is_some(),
        change_sets: match args.change_set {
            ChangeSetWhen::Auto => ChangeSetMode::Auto,
            ChangeSetWhen::Always => ChangeSetMode::Always,
        },
        poll: Poll::CHANGE_SET,
        render: ctx.render_options(&project),
        now: crate::time::now(),
        run_id: crate::aws::changeset::new_run_id(),
        change_set_name: None,
        replace_failed: false,
        refresh_templates: args.refresh_templates,
        interrupt: Interrupt::never(),
    };
    // Fail on a bad selection before any AWS call.
    project.select(&options.selection.names, options.selection.all)?;
    let connect = ctx.connect(&project);
    let plan = runtime()?.block_on(async {
        options.interrupt = listen_for_interrupts(&options.run_id);
        crate::plan::run::plan(Arc::new(project), connect, options).await
    })?;
    if let Some(path) = &args.out {
        plan.write(path)?;
        ctx.note(format_args!("saved the plan to {}", path.display()));
    }
    let markdown = MarkdownOptions {
        summary_only: args.summary,
        saved_to: args.out.as_ref().map(|p| p.display().to_string()),
        ..MarkdownOptions::default()
    };
    let mut out = &ctx.out;
    match args.format {
        PlanFormat::Text if args.summary => {
            report::plan::write_text_summary(&mut out, &plan, ctx.stdout, ctx.stdout_layout)?
        }
        PlanFormat::Text => {
            report::plan::write_text(&mut out, &plan, ctx.stdout, ctx.stdout_layout)?
        }
        PlanFormat::Json => report::plan::write_json_plan(&mut out, &plan)?,
        PlanFormat::Markdown => report::plan_markdown::write_markdown(&mut out, &plan, &markdown)?,
    }
    if args.step_summary {
        let whole = MarkdownOptions {
            summary_only: false,
            ..markdown
        };
        step_summary(ctx, &plan, &whole)?;
    }
    let _ = report::plan::write_failures(&mut std::io::stderr().lock(), &plan, ctx.stderr);
    Ok(plan.verdict(args.detailed_exitcode))
}

/// `--step-summary`: the Markdown plan appended to the file `GITHUB_STEP_SUMMARY` names, as
/// GitHub Actions expects; a warning when it names none.
fn step_summary(
    ctx: &Context,
    plan: &crate::plan::model::Plan,
    options: &MarkdownOptions,
) -> Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        ctx.warn("`--step-summary`: GITHUB_STEP_SUMMARY is not set (it is in a GitHub Actions job), so no job summary was written");
        return Ok(());
    };
    let path = std::path::PathBuf::from(path);
    let mut text = Vec::new();
    report::plan_markdown::write_markdown(&mut text, plan, options)?;
    let write = |path: &std::path::Path| -> std::io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.write_all(&text)
    };
    write(&path).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    ctx.note(format_args!(
        "appended the Markdown plan to the job summary ({})",
        path.display()
    ));
    Ok(())
}
