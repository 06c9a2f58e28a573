//! Runs a parsed command line: hands the commands that need no project to `kit`; for the
//! others, finds and loads the project, builds each command's options, calls its operation and
//! hands the result to a reporter. Returns the exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::output::{stderr_line, Stdout};
use super::{kit, Cli, ColorChoice, Command, ReportFormat, TemplateFormat};
use std::sync::Arc;

use crate::aws::connect::Connect;
use crate::aws::connect::SdkConnect;
use crate::aws::{account_resolver, AwsSettings};
use crate::deploy::destroy::DestroyOptions;
use crate::deploy::options::ApplyOptions;
use crate::error::{exit, Error, Result};
use crate::interrupt::Interrupt;
use crate::plan::model::PlanOptions;
use crate::poll::Poll;
use crate::project::Project;
use crate::render::ops::{self, Selection};
use crate::render::{RenderOptions, Rendered, Syntax};
use crate::report::{self, Style};

/// What a command needs besides its own arguments.
struct Context {
    /// Where results go; it never fails (see `output`).
    out: Stdout,
    stdout: Style,
    stderr: Style,
    quiet: bool,
    verbose: bool,
    aws: AwsSettings,
    /// The one [`SdkConnect`] of the run, so that the account guard and the command share its
    /// clients and its caller identities (one STS call per target).
    connect: std::sync::OnceLock<Arc<dyn Connect>>,
}

/// Runs the command, writing its results to `out`; errors are returned for `main` to report.
/// What became of `out` is for `main` to combine with the code returned (`output::exit_code`).
pub fn run(cli: Cli, out: &Stdout) -> Result<u8> {
    let g = &cli.global;
    let color = |tty: bool| match g.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let ctx = Context {
        out: out.clone(),
        stdout: Style {
            color: color(std::io::stdout().is_terminal()),
        },
        stderr: Style {
            color: color(std::io::stderr().is_terminal()),
        },
        quiet: g.quiet,
        verbose: g.verbose,
        aws: AwsSettings {
            profile: g.profile.clone(),
            region: g.region.clone(),
            endpoint_url: g.endpoint_url.clone().filter(|s| !s.is_empty()),
            env: crate::aws::credentials::AwsEnv::from_process(),
        },
        connect: std::sync::OnceLock::new(),
    };
    // Commands about the tool itself run without a project.
    let mut out = &ctx.out;
    let command = match cli.command {
        Command::Init(args) => return kit::init(args, &mut out),
        Command::Schema(args) => return kit::schema(args, &mut out),
        Command::Completions(args) => return kit::completions(args, &mut out),
        Command::Man(args) => return kit::man(args, ctx.quiet, &mut out),
        Command::Healthcheck(args) => return kit::healthcheck(args, ctx.quiet, &mut out),
        command => command,
    };
    let root = match &g.project {
        Some(dir) => {
            if !dir.join(crate::project::PROJECT_FILE).is_file() {
                return Err(Error::ProjectNotFound { start: dir.clone() });
            }
            dir.clone()
        }
        None => Project::discover(&std::env::current_dir()?)?,
    };
    if let Some(region) = &g.region {
        crate::region::check(region).map_err(|why| Error::Usage(format!("`--region`: {why}")))?;
    }
    let mut project = Project::load(&root)?;
    match &g.region {
        Some(region) => project.override_region(region),
        None => {
            if let Some(warning) = project.region_warning(None, ctx.aws.env.region()) {
                if !ctx.quiet {
                    eprintln!("{}: {warning}", ctx.stderr.yellow("warning"));
                }
            }
        }
    }
    if let Some((names, all)) = selected(&command) {
        let stacks = project.select(&names, all)?;
        if let Some(region) = &g.region {
            project.check_region_flag(region, &stacks)?;
        }
        // The account guard, for every selected stack before the command touches any.
        if guarded(&command) {
            let connect = sdk_connect(&ctx, &project);
            runtime()?.block_on(crate::identity::guard_stacks(
                &project,
                connect.as_ref(),
                &stacks,
            ))?;
        }
    }
    match command {
        Command::Render(args) => {
            let selection = selection(&args.selection);
            let options = render_options(&project, &ctx);
            let rendered = ops::render_stacks(&project, &selection, options)?;
            if ctx.verbose {
                for r in &rendered {
                    stderr_line(describe_rendered(r));
                }
            }
            let syntax = match args.format {
                TemplateFormat::Json => Syntax::Json,
                TemplateFormat::Yaml => Syntax::Yaml,
            };
            match &args.out {
                Some(dir) => write_files(dir, &rendered, syntax, &ctx)?,
                None => print_rendered(&mut out, &rendered, syntax)?,
            }
            Ok(exit::OK)
        }
        Command::Validate(args) => {
            let selection = selection(&args.selection);
            let validation = ops::validate(&project, &selection, render_options(&project, &ctx))?;
            let mut err = std::io::stderr().lock();
            // The problems go to stderr in every format (the errors at least), so that a
            // failed validation always says why where people and CI logs look.
            let shown: Vec<_> = validation
                .diagnostics
                .iter()
                .filter(|d| d.is_error() || (!ctx.quiet && args.format == ReportFormat::Text))
                .cloned()
                .collect();
            // Best effort: the exit code tells the result when stderr is gone.
            let _ = report::diagnostics::write_text(&mut err, &shown, ctx.stderr);
            match args.format {
                ReportFormat::Text => {
                    report::validate::write_text(&mut out, &validation, ctx.stdout)?
                }
                ReportFormat::Json => report::validate::write_json_report(&mut out, &validation)?,
            }
            Ok(if validation.valid {
                exit::OK
            } else {
                exit::ERROR
            })
        }
        Command::Plan(args) => plan(project, &ctx, args),
        Command::Apply(args) => apply(project, &ctx, args),
        Command::Destroy(args) => destroy(project, &ctx, args),
        Command::Status(args) => {
            let selection = Selection {
                all: args.stacks.is_empty(),
                names: args.stacks.clone(),
            };
            let connect: Arc<dyn Connect> = sdk_connect(&ctx, &project);
            let stacks = runtime()?.block_on(crate::deploy::status::status(
                Arc::new(project),
                connect,
                &selection,
            ))?;
            let mut out = &ctx.out;
            match args.format {
                ReportFormat::Text => report::apply::write_status(&mut out, &stacks, ctx.stdout)?,
                ReportFormat::Json => report::write_json(&mut out, &stacks)?,
            }
            Ok(exit::OK)
        }
        Command::Drift(args) => drift(project, &ctx, args),
        Command::Audit(args) => audit(project, &ctx, args),
        Command::Ecr(command) => ecr(project, &ctx, command),
        Command::Serve(args) => serve(project, &ctx, args),
        Command::Check(args) => check(project, &ctx, args),
        Command::Events(args) => events(project, &ctx, args),
        Command::Outputs(args) => {
            let connect: Arc<dyn Connect> = sdk_connect(&ctx, &project);
            let outputs = runtime()?.block_on(crate::deploy::status::outputs(
                Arc::new(project),
                connect,
                &args.stack,
            ))?;
            let mut out = &ctx.out;
            match args.format {
                ReportFormat::Text => report::apply::write_outputs(&mut out, &outputs)?,
                ReportFormat::Json => {
                    let map: serde_json::Map<String, serde_json::Value> = outputs
                        .iter()
                        .map(|o| (o.key.clone(), serde_json::Value::String(o.value.clone())))
                        .collect();
                    report::write_json(&mut out, &map)?
                }
            }
            Ok(exit::OK)
        }
        Command::Whoami(args) => {
            let stacks = if args.selection.stacks.is_empty() && !args.selection.all {
                Vec::new()
            } else {
                project.select(&args.selection.stacks, args.selection.all)?
            };
            let connect = sdk_connect(&ctx, &project);
            let targets = runtime()?.block_on(crate::identity::whoami(
                &project,
                connect.as_ref(),
                &stacks,
            ))?;
            let mut out = std::io::stdout().lock();
            match args.format {
                ReportFormat::Text => report::whoami::write_text(&mut out, &targets, ctx.stdout)?,
                ReportFormat::Json => report::whoami::write_json_report(&mut out, &targets)?,
            }
            Ok(if targets.iter().any(|t| t.error.is_some()) {
                exit::ERROR
            } else if targets.iter().any(|t| !t.guard.passes) {
                exit::REFUSED
            } else {
                exit::OK
            })
        }
        Command::Stacks(args) => {
            let rows = report::stacks::rows(&project);
            let mut out = &ctx.out;
            match args.format {
                ReportFormat::Text => report::stacks::write_text(&mut out, &rows, ctx.stdout)?,
                ReportFormat::Json => report::stacks::write_json_rows(&mut out, &rows)?,
            }
            Ok(exit::OK)
        }
        Command::Init(_)
        | Command::Schema(_)
        | Command::Completions(_)
        | Command::Man(_)
        | Command::Healthcheck(_) => Err(Error::Internal("a command without a project".into())),
    }
}

fn plan(project: Project, ctx: &Context, args: super::PlanArgs) -> Result<u8> {
    let mut options = PlanOptions {
        selection: selection(&args.selection),
        concurrency: usize::from(args.concurrency),
        keep_change_sets: args.out.is_some(),
        poll: Poll::CHANGE_SET,
        render: render_options(&project, ctx),
        now: now(),
        run_id: crate::aws::changeset::new_run_id(),
        replace_failed: false,
        interrupt: Interrupt::never(),
    };
    // Fail on a bad selection before any AWS call.
    project.select(&options.selection.names, options.selection.all)?;
    let connect = sdk_connect(ctx, &project);
    let runtime = runtime()?;
    let plan = runtime.block_on(async {
        options.interrupt = listen_for_interrupts(&options.run_id);
        crate::plan::run::plan(Arc::new(project), connect, options).await
    })?;
    if let Some(path) = &args.out {
        let text = serde_json::to_string_pretty(&plan).map_err(|e| Error::Io(e.into()))?;
        std::fs::write(path, text + "\n").map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        if !ctx.quiet {
            stderr_line(format_args!("saved the plan to {}", path.display()));
        }
    }
    let mut out = &ctx.out;
    match args.format {
        super::PlanFormat::Text => report::plan::write_text(&mut out, &plan, ctx.stdout)?,
        super::PlanFormat::Json => report::plan::write_json_plan(&mut out, &plan)?,
        super::PlanFormat::Markdown => report::plan::write_markdown(&mut out, &plan)?,
    }
    let _ = report::plan::write_failures(&mut std::io::stderr().lock(), &plan, ctx.stderr);
    Ok(if plan.has_failures() {
        exit::ERROR
    } else if args.detailed_exitcode && plan.has_changes() {
        exit::CHANGES
    } else {
        exit::OK
    })
}

fn apply(project: Project, ctx: &Context, args: super::ApplyArgs) -> Result<u8> {
    let saved = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let plan: crate::plan::model::Plan =
                crate::project::config::parse_json(path, &text).map_err(Error::from)?;
            Some(plan)
        }
        None => {
            // Fail on a bad selection before any AWS call.
            project.select(&args.selection.stacks, args.selection.all)?;
            None
        }
    };
    let selection = match &saved {
        Some(plan) => Selection {
            names: plan.stacks.iter().map(|s| s.stack.clone()).collect(),
            all: false,
        },
        None => selection(&args.selection),
    };
    let options = ApplyOptions {
        plan: PlanOptions {
            selection,
            concurrency: 8,
            keep_change_sets: true,
            poll: Poll::CHANGE_SET,
            render: render_options(&project, ctx),
            now: now(),
            run_id: crate::aws::changeset::new_run_id(),
            replace_failed: args.replace_failed,
            interrupt: Interrupt::never(),
        },
        saved,
        yes: args.yes,
        allow_destructive: args.allow_destructive,
        allow_broadening: args.allow_broadening,
        allow_unprotect: args.allow_unprotect,
        replace_failed: args.replace_failed,
        wait: Poll {
            timeout: std::time::Duration::from_secs(args.timeout.saturating_mul(60)),
            ..Poll::STACK
        },
    };
    let mut options = options;
    options.plan.concurrency = usize::from(args.concurrency);
    // A reader that closes stdout (`| head`) neither stops nor shortens an apply: it goes on
    // exactly as it would have, change sets included.
    ctx.out.note_on_stop(
        "the apply goes on; its outcome is in the exit code, and failures are on stderr",
    );
    let mut ui = CliUi::new(ctx);
    ui.plan_to_stderr = args.format == ReportFormat::Json;
    let ui = Arc::new(ui);
    let connect: Arc<dyn Connect> = sdk_connect(ctx, &project);
    let report = runtime()?.block_on(async {
        options.plan.interrupt = listen_for_interrupts(&options.plan.run_id);
        crate::deploy::apply::apply(Arc::new(project), connect, options, ui).await
    })?;
    let mut out = &ctx.out;
    match args.format {
        ReportFormat::Text => {
            report::apply::write_summary(&mut out, &report.stacks, false, ctx.stdout)?;
        }
        ReportFormat::Json => report::write_json(&mut out, &report)?,
    }
    let mut err = std::io::stderr().lock();
    let _ = report::apply::write_failures(&mut err, &report.stacks, false, ctx.stderr);
    if report.interrupted {
        let _ = writeln!(
            err,
            "{}: interrupted: {}",
            ctx.stderr.red("error"),
            report
                .cleanup
                .as_deref()
                .unwrap_or("every stack had finished")
        );
    }
    Ok(if report.interrupted {
        exit::INTERRUPTED
    } else if report.failed() {
        exit::ERROR
    } else {
        exit::OK
    })
}

fn destroy(project: Project, ctx: &Context, args: super::DestroyArgs) -> Result<u8> {
    project.select(&args.stacks, args.all)?;
    let mut options = DestroyOptions {
        stacks: args.stacks.clone(),
        all: args.all,
        yes: args.yes,
        disable_termination_protection: args.disable_termination_protection,
        concurrency: usize::from(args.concurrency),
        wait: Poll {
            timeout: std::time::Duration::from_secs(args.timeout.saturating_mul(60)),
            ..Poll::STACK
        },
        interrupt: Interrupt::never(),
    };
    ctx.out.note_on_stop(
        "the destroy goes on; its outcome is in the exit code, and failures are on stderr",
    );
    let ui = Arc::new(CliUi::new(ctx));
    let connect: Arc<dyn Connect> = sdk_connect(ctx, &project);
    let report = runtime()?.block_on(async {
        options.interrupt = listen(
            "no further stack is deleted; the deletions under way go on in CloudFormation",
            "the deletions under way go on in CloudFormation (`little status`)".into(),
        );
        crate::deploy::destroy::destroy(Arc::new(project), connect, options, ui).await
    })?;
    let mut out = &ctx.out;
    if report.stacks.is_empty() {
        writeln!(out, "nothing to delete").map_err(Error::output)?;
        return Ok(exit::OK);
    }
    report::apply::write_summary(&mut out, &report.stacks, true, ctx.stdout)?;
    let _ = report::apply::write_failures(
        &mut std::io::stderr().lock(),
        &report.stacks,
        true,
        ctx.stderr,
    );
    Ok(if report.interrupted {
        exit::INTERRUPTED
    } else if report.failed() {
        exit::ERROR
    } else {
        exit::OK
    })
}

fn drift(project: Project, ctx: &Context, args: super::DriftArgs) -> Result<u8> {
    let options = crate::audit::drift::DriftOptions {
        render: render_options(&project, ctx),
        poll: Poll::DRIFT,
    };
    let connect: Arc<dyn Connect> = sdk_connect(ctx, &project);
    let report = runtime()?.block_on(crate::audit::drift::drift(
        Arc::new(project),
        connect,
        &selection(&args.selection),
        &options,
    ))?;
    let mut out = &ctx.out;
    match args.format {
        ReportFormat::Text => report::drift::write_text(&mut out, &report, ctx.stdout)?,
        ReportFormat::Json => report::drift::write_json_report(&mut out, &report)?,
    }
    for s in &report.stacks {
        if let Some(e) = &s.error {
            stderr_line(format_args!(
                "{}: cannot check the drift of stack `{}`: {e}",
                ctx.stderr.red("error"),
                s.stack
            ));
        }
    }
    Ok(if report.drifted() {
        exit::CHANGES
    } else if report.has_errors() {
        exit::ERROR
    } else {
        exit::OK
    })
}

fn events(project: Project, ctx: &Context, args: super::EventsArgs) -> Result<u8> {
    let connect: Arc<dyn Connect> = sdk_connect(ctx, &project);
    let project = Arc::new(project);
    let rt = runtime()?;
    let list = rt.block_on(crate::deploy::status::events(
        project.clone(),
        connect.clone(),
        &args.stack,
        args.limit,
    ))?;
    let style = ctx.stdout;
    {
        let mut out = &ctx.out;
        for e in &list {
            writeln!(out, "{}", report::apply::event_line(&args.stack, e, style))
                .map_err(Error::output)?;
        }
        out.flush().map_err(Error::output)?;
    }
    // Following is for a reader: when stdout closes (`| head`) or fails, stop.
    if args.follow && ctx.out.state() == super::output::State::Open {
        let stack = args.stack.clone();
        let show = move |e: &crate::aws::stack_ops::StackEvent| {
            let mut out = &ctx.out;
            let _ = writeln!(out, "{}", report::apply::event_line(&stack, e, style));
            let _ = out.flush();
        };
        rt.block_on(async {
            tokio::select! {
                followed = crate::deploy::status::follow(
                    project,
                    connect,
                    &args.stack,
                    std::time::Duration::from_secs(2),
                    &show,
                ) => followed.map(|_| ()),
                () = ctx.out.stopped() => Ok(()),
            }
        })?;
    }
    Ok(exit::OK)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Turns Ctrl-C and SIGTERM into an [`Interrupt`], on the current runtime: the first asks the
/// operation to stop at its next safe point and clean up what it made; a second stops at once,
/// saying which change sets may be left.
fn listen_for_interrupts(run_id: &str) -> Interrupt {
    listen(
        "stopping at the next safe point and deleting what this run made and did not execute",
        format!(
            "change sets of this run (named `little-…-{run_id}`) may be left, and new stacks in REVIEW_IN_PROGRESS; `little plan` shows them, `aws cloudformation delete-change-set` removes them"
        ),
    )
}

/// [`listen_for_interrupts`] with the words of an operation: what the first signal does, and
/// what may be left after the second.
fn listen(first: &'static str, left: String) -> Interrupt {
    let (interrupt, trigger) = Interrupt::new();
    tokio::spawn(async move {
        crate::interrupt::signalled().await;
        stderr_line(format_args!(
            "\ninterrupted: {first} (interrupt again to stop at once)"
        ));
        trigger.raise();
        crate::interrupt::signalled().await;
        stderr_line(format_args!("stopped at once: {left}"));
        std::process::exit(i32::from(exit::INTERRUPTED));
    });
    interrupt
}

/// The terminal side of apply and destroy: the plan on stdout, progress and events on stderr,
/// questions on the terminal. Nothing it shows can fail the operation: stdout absorbs its
/// errors (see `output`) and stderr is best effort.
struct CliUi {
    out: Stdout,
    stdout: Style,
    stderr: Style,
    quiet: bool,
    /// The plan goes to stderr when stdout carries a JSON result.
    plan_to_stderr: bool,
    /// On a terminal: a spinner per stack, with events printed above them.
    bars: Option<std::sync::Mutex<Bars>>,
}

struct Bars {
    multi: indicatif::MultiProgress,
    by_stack: std::collections::HashMap<String, indicatif::ProgressBar>,
}

impl Bars {
    fn bar(&mut self, stack: &str) -> indicatif::ProgressBar {
        if let Some(b) = self.by_stack.get(stack) {
            return b.clone();
        }
        let bar = self.multi.add(indicatif::ProgressBar::new_spinner());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
        {
            bar.set_style(style);
        }
        bar.set_prefix(stack.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        self.by_stack.insert(stack.to_owned(), bar.clone());
        bar
    }
}

impl Drop for CliUi {
    fn drop(&mut self) {
        if let Some(bars) = &self.bars {
            let bars = bars.lock().unwrap_or_else(|e| e.into_inner());
            for b in bars.by_stack.values() {
                b.finish_and_clear();
            }
        }
    }
}

impl CliUi {
    fn new(ctx: &Context) -> Self {
        CliUi {
            out: ctx.out.clone(),
            stdout: ctx.stdout,
            stderr: ctx.stderr,
            quiet: ctx.quiet,
            plan_to_stderr: false,
            bars: (std::io::stderr().is_terminal() && !ctx.quiet).then(|| {
                std::sync::Mutex::new(Bars {
                    multi: indicatif::MultiProgress::new(),
                    by_stack: Default::default(),
                })
            }),
        }
    }
}

impl crate::deploy::Ui for CliUi {
    fn show_plan(&self, plan: &crate::plan::model::Plan) {
        let mut err = std::io::stderr().lock();
        if self.plan_to_stderr {
            let _ = report::plan::write_text(&mut err, plan, self.stderr);
        } else {
            let mut out = &self.out;
            let _ = report::plan::write_text(&mut out, plan, self.stdout);
            let _ = out.flush();
        }
        let _ = report::plan::write_failures(&mut err, plan, self.stderr);
    }

    fn can_ask(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn confirm(&self, question: &str) -> Result<bool> {
        // Not held while waiting for the answer: an interrupt is reported on stderr.
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{} [y/N] ", self.stderr.bold(question));
        let _ = err.flush();
        drop(err);
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        Ok(matches!(
            answer.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }

    fn event(&self, stack: &str, event: &crate::aws::stack_ops::StackEvent) {
        if self.quiet {
            return;
        }
        let line = report::apply::event_line(stack, event, self.stderr);
        match &self.bars {
            Some(bars) => {
                let mut bars = bars.lock().unwrap_or_else(|e| e.into_inner());
                let bar = bars.bar(stack);
                if event.logical_id == stack {
                    bar.set_message(event.status.clone());
                }
                let _ = bars.multi.println(line);
            }
            None => stderr_line(line),
        }
    }

    fn progress(&self, stack: &str, message: &str) {
        if self.quiet {
            return;
        }
        match &self.bars {
            Some(bars) => {
                let mut bars = bars.lock().unwrap_or_else(|e| e.into_inner());
                bars.bar(stack).set_message(message.to_owned());
            }
            None => stderr_line(format_args!(
                "{} {message}",
                self.stderr.bold(&format!("{stack}:"))
            )),
        }
    }

    fn message(&self, text: &str) {
        let _ = write!(std::io::stderr().lock(), "{text}");
    }
}

/// AWS clients through the SDK, with the flags' and little.yaml's settings: one for the run.
fn sdk_connect(ctx: &Context, project: &Project) -> Arc<dyn Connect> {
    ctx.connect
        .get_or_init(|| {
            Arc::new(SdkConnect::new(
                ctx.aws.clone(),
                project.file.defaults.template_bucket.clone(),
            ))
        })
        .clone()
}

/// The stacks a command works on, as `(names, all)`: the ones `--region` must agree with.
fn selected(command: &Command) -> Option<(Vec<String>, bool)> {
    let of = |s: &super::StackSelection| Some((s.stacks.clone(), s.all));
    match command {
        Command::Render(a) => of(&a.selection),
        Command::Validate(a) => of(&a.selection),
        Command::Plan(a) => of(&a.selection),
        Command::Apply(a) if a.plan.is_none() => of(&a.selection),
        Command::Drift(a) => of(&a.selection),
        // With no stack, whoami shows the project's default target.
        Command::Whoami(a) if !a.selection.stacks.is_empty() || a.selection.all => of(&a.selection),
        Command::Destroy(a) => Some((a.stacks.clone(), a.all)),
        Command::Status(a) => Some((a.stacks.clone(), a.stacks.is_empty())),
        Command::Events(a) => Some((vec![a.stack.clone()], false)),
        Command::Outputs(a) => Some((vec![a.stack.clone()], false)),
        _ => None,
    }
}

/// Whether a command calls AWS for its selected stacks, and so passes the account guard
/// first (it also guards each stack where it gets the stack's clients).
fn guarded(command: &Command) -> bool {
    matches!(
        command,
        Command::Plan(_)
            | Command::Apply(_)
            | Command::Destroy(_)
            | Command::Status(_)
            | Command::Drift(_)
            | Command::Events(_)
            | Command::Outputs(_)
    )
}

/// The audit's options from the flags `little audit` and `little serve` share.
#[allow(clippy::too_many_arguments)]
fn audit_options(
    project: &Project,
    ctx: &Context,
    checks: &[String],
    remediate: bool,
    (all_accounts, org): (bool, bool),
    stacks: bool,
    drift: bool,
    settings: crate::audit::ecr::EcrSettings,
) -> Result<crate::audit::run::AuditOptions> {
    Ok(crate::audit::run::AuditOptions {
        checks: checks.to_vec(),
        remediate,
        all_accounts,
        org,
        reach: crate::audit::org::Reach::of(project)?,
        stacks,
        drift: drift.then(|| crate::audit::drift::DriftOptions {
            render: render_options(project, ctx),
            poll: Poll::DRIFT,
        }),
        settings,
        now: now(),
    })
}

/// The ECR audit's settings from little.yaml and the flags.
fn ecr_settings(
    project: &Project,
    require_kms: bool,
    all_images: bool,
) -> crate::audit::ecr::EcrSettings {
    use crate::audit::ecr::EcrSettings;
    let file = &project.file.audit;
    let defaults = EcrSettings::default();
    EcrSettings {
        exclude_repositories: file.exclude_repositories.clone(),
        allow_immutable_with_exclusion: file
            .allow_immutable_with_exclusion
            .unwrap_or(defaults.allow_immutable_with_exclusion),
        allowed_kms_keys: file.allowed_kms_keys.clone(),
        require_kms: require_kms || file.require_kms.unwrap_or(false),
        known_accounts: project.accounts.values().map(|a| a.id.clone()).collect(),
        organization_id: file.organization_id.clone().or_else(|| {
            project
                .file
                .variables
                .get("organization_id")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        }),
        stale_scan_days: file.stale_scan_days.unwrap_or(defaults.stale_scan_days),
        all_tagged_images: all_images,
    }
}

fn check(project: Project, ctx: &Context, args: super::CheckArgs) -> Result<u8> {
    use crate::check::worker::{CheckTargets, WorkerOptions};
    use crate::check::{CheckSettings, ImageRef};
    let file = &project.file.check;
    let settings = CheckSettings {
        checks: file.checks.clone(),
        platform: args
            .platform
            .clone()
            .or_else(|| file.platform.clone())
            .unwrap_or_else(|| "linux/amd64".into()),
        registry_url: args
            .registry_url
            .clone()
            .or_else(|| file.registry_url.clone()),
        limits: file.limits.clone(),
    };
    let image = args.image.as_deref().map(ImageRef::parse).transpose()?;
    let connect = sdk_connect(ctx, &project);
    let account = project.default_account().cloned();
    let region = project.file.defaults.region.clone();
    let rt = runtime()?;
    let clients = rt.block_on(connect.clients(region.as_deref(), account.as_ref()))?;

    if let Some(image) = image {
        let mut report = rt.block_on(crate::check::check_image(
            &clients,
            &image,
            &settings,
            now(),
        ))?;
        rt.block_on(crate::check::enforce(&clients, &mut report, args.enforce))?;
        let name = if image.is_digest() {
            image.reference.replace(':', "-")
        } else {
            image.reference.clone()
        };
        let dir = args.out.join(&image.repository);
        std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
        let json_path = dir.join(format!("{name}.json"));
        let html_path = dir.join(format!("{name}.html"));
        let json =
            serde_json::to_string_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?;
        for (path, body) in [
            (&json_path, json),
            (&html_path, report::check::html(&report)),
        ] {
            std::fs::write(path, body).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
        }
        let mut out = &ctx.out;
        match args.format {
            ReportFormat::Text => report::check::write_text(&mut out, &report, ctx.stdout)?,
            ReportFormat::Json => report::write_json(&mut out, &report)?,
        }
        if !ctx.quiet {
            stderr_line(format_args!(
                "report: {} and {}",
                json_path.display(),
                html_path.display()
            ));
        }
        if ctx.verbose {
            if let Some(peak) = peak_memory() {
                stderr_line(format_args!("peak memory: {peak}"));
            }
        }
        return Ok(if report.failed() {
            exit::CHANGES
        } else {
            exit::OK
        });
    }

    let queue_url = args
        .queue
        .clone()
        .or_else(|| file.queue_url.clone())
        .ok_or_else(|| {
            Error::Usage(
                "name an image (REPOSITORY:TAG), or a queue with `--queue` or `check.queue_url`"
                    .into(),
            )
        })?;
    let link_text = file.link_expiry.clone().unwrap_or_else(|| "24h".into());
    let link_expiry = crate::serve::parse_duration(&link_text)
        .map_err(|e| Error::Usage(format!("`check.link_expiry`: {e}")))?;
    if link_expiry > std::time::Duration::from_secs(7 * 86_400) {
        return Err(Error::Usage(format!(
            "`check.link_expiry` is {link_text}; presigned links last at most 7d"
        )));
    }
    let delivery_attempts = file.notify.delivery_attempts.unwrap_or(3);
    if !(1..=10).contains(&delivery_attempts) {
        return Err(Error::Usage(format!(
            "`check.notify.delivery_attempts` is {delivery_attempts}; it must be 1 to 10 (and below the queue's maxReceiveCount)"
        )));
    }
    for (i, pattern) in file.repositories.iter().enumerate() {
        let name = pattern.replace('*', "x");
        if !crate::check::event::is_repository_name(&name) && pattern != "*" {
            return Err(Error::Usage(format!(
                "`check.repositories[{i}]` is `{pattern}`, which matches no repository name (lower-case letters, digits, `.`, `_`, `-` and `/`; `*` for any characters)"
            )));
        }
    }
    let mut webhooks = Vec::new();
    for (i, w) in file.notify.webhooks.iter().enumerate() {
        let url = crate::notify::webhook_url(
            w.url.as_deref(),
            w.url_env.as_deref(),
            &format!("check.notify.webhooks[{i}]"),
        )?;
        webhooks.push((url, w.format, w.on.clone()));
    }
    let options = WorkerOptions {
        queue_url,
        bucket: args.bucket.clone().or_else(|| file.report_bucket.clone()),
        prefix: file
            .report_prefix
            .clone()
            .unwrap_or_else(|| "reports/".into()),
        encryption: match &file.report_kms_key {
            Some(k) => crate::aws::pipeline::Encryption::Kms(Some(k.clone())),
            None => crate::aws::pipeline::Encryption::S3,
        },
        link_expiry,
        enforce: args.enforce,
        targets: CheckTargets {
            sns_topic_arn: file.notify.sns_topic_arn.clone(),
            sns_on: file.notify.sns_on.clone(),
            webhooks,
        },
        settings,
        repositories: file.repositories.clone(),
        delivery_attempts,
        once: args.once,
        // Long polls (which ask every SQS server); with --once a short one ends the run
        // soon after the queue is empty.
        wait: std::time::Duration::from_secs(if args.once { 2 } else { 20 }),
        retry: crate::notify::webhook::Retry::default(),
    };
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
    Ok(if args.once && (stats.left > 0 || stats.undelivered > 0) {
        exit::ERROR
    } else {
        exit::OK
    })
}

/// The process's peak resident memory (Linux), for `-v`.
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_owned())
}

/// The variable that holds `little serve`'s read token.
const READ_TOKEN_ENV: &str = "LITTLE_SERVE_READ_TOKEN";

/// A token from the environment, without surrounding whitespace (a value taken from a file
/// ends in a newline); None when unset or blank.
fn token_from_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// A token from a file, without surrounding whitespace; an empty one is an error.
fn token_from_file(path: &std::path::Path, flag: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::Usage(format!(
            "`{flag} {}`: the file holds no token",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

fn serve(project: Project, ctx: &Context, args: super::ServeArgs) -> Result<u8> {
    crate::audit::run::validate_checks(&args.checks)?;
    let file = &project.file.audit;
    let listen = args
        .listen
        .clone()
        .or_else(|| file.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:9000".into());
    let interval_text = args
        .interval
        .clone()
        .or_else(|| file.interval.clone())
        .unwrap_or_else(|| "30m".into());
    let interval = crate::serve::parse_duration(&interval_text)
        .map_err(|e| Error::Usage(format!("the interval: {e}")))?;
    let state_file = match (&args.state, &file.state_file) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => project.root.join(p),
        (None, None) => project.root.join(".little/serve-state.json"),
    };
    let token_env = file
        .api_token_env
        .clone()
        .unwrap_or_else(|| "LITTLE_SERVE_TOKEN".into());
    let token = match &args.token_file {
        Some(path) => Some(token_from_file(path, "--token-file")?),
        None => token_from_env(&token_env),
    };
    let read_token = match &args.read_token_file {
        Some(path) => Some(token_from_file(path, "--read-token-file")?),
        None => token_from_env(READ_TOKEN_ENV),
    };
    // Every tagged image is read: the metrics are per tag.
    let settings = ecr_settings(&project, args.require_kms, true);
    let options = crate::serve::ServeOptions {
        listen,
        interval,
        audit: audit_options(
            &project,
            ctx,
            &args.checks,
            false,
            (args.accounts, args.org),
            !args.no_stacks,
            args.drift,
            settings,
        )?,
        state_file,
        token,
        read_token,
        allow_public_unauthenticated: args.allow_public_unauthenticated,
        limits: crate::serve::Limits {
            max_connections: args.max_connections as usize,
            ..crate::serve::Limits::default()
        },
        stale_after: args.stale_after,
    };
    if options.token.is_none() && !ctx.quiet {
        crate::serve::log(&format!(
            "{token_env} is not set: POST and DELETE /configs are disabled"
        ));
    }
    if options.read_token.is_none() && !ctx.quiet {
        crate::serve::log(&format!(
            "{READ_TOKEN_ENV} is not set: the report, metrics, configurations and feeds need no token"
        ));
    }
    let connect = sdk_connect(ctx, &project);
    let quiet = ctx.quiet;
    let interval_text = interval_text.clone();
    runtime()?.block_on(crate::serve::serve(
        Arc::new(project),
        connect,
        options,
        move |address| {
            if !quiet {
                crate::serve::log(&format!(
                    "listening on http://{address} (audit every {interval_text})"
                ));
            }
        },
    ))?;
    Ok(exit::OK)
}

fn audit(project: Project, ctx: &Context, args: super::AuditArgs) -> Result<u8> {
    use crate::audit::model::Severity;
    let settings_file = &project.file.audit;
    crate::audit::run::validate_checks(&args.checks)?;
    let fail_on: Severity = args
        .fail_on
        .clone()
        .or_else(|| settings_file.fail_on.clone())
        .unwrap_or_else(|| "HIGH".into())
        .parse()
        .map_err(Error::Usage)?;
    // Checked before the audit runs, so that a bad target does not cost a whole audit.
    let notify = if args.notify {
        let min: Severity = settings_file
            .notify
            .min_severity
            .as_deref()
            .unwrap_or("LOW")
            .parse()
            .map_err(|e| Error::Usage(format!("`audit.notify.min_severity`: {e}")))?;
        Some((
            crate::notify::Targets::from_config(&settings_file.notify)?,
            min,
        ))
    } else {
        None
    };
    let settings = ecr_settings(&project, args.require_kms, args.all_images);
    let options = audit_options(
        &project,
        ctx,
        &args.checks,
        args.remediate,
        (args.accounts, args.org),
        !args.no_stacks,
        args.drift,
        settings,
    )?;
    let connect = sdk_connect(ctx, &project);
    let default_region = project.file.defaults.region.clone();
    let default_account = project.default_account().cloned();
    let rt = runtime()?;
    let report = rt.block_on(crate::audit::run::audit(
        Arc::new(project),
        connect.clone(),
        options,
    ))?;
    {
        let mut out = &ctx.out;
        match args.format {
            super::AuditFormat::Text => report::audit::write_text(&mut out, &report, ctx.stdout)?,
            super::AuditFormat::Json => report::audit::write_json_report(&mut out, &report)?,
            super::AuditFormat::Sarif => report::audit::write_sarif(&mut out, &report)?,
            super::AuditFormat::Junit => report::audit::write_junit(&mut out, &report)?,
            super::AuditFormat::Markdown => report::audit::write_markdown(&mut out, &report)?,
        }
        out.flush().map_err(Error::output)?;
    }
    for e in &report.errors {
        stderr_line(format_args!(
            "{}: not checked: {e}",
            ctx.stderr.red("error")
        ));
    }
    let mut notify_failed = false;
    if let Some((targets, min)) = notify {
        match crate::audit::notify::audit_notification(
            &report,
            min,
            fail_on,
            default_region.as_deref(),
        ) {
            None => {
                if !ctx.quiet {
                    stderr_line(format_args!(
                        "notification: nothing to send (no finding at or above {min})"
                    ));
                }
            }
            Some(message) => {
                let sent = rt.block_on(async {
                    let sns = match &targets.sns_topic_arn {
                        Some(_) => Some(
                            connect
                                .clients(default_region.as_deref(), default_account.as_ref())
                                .await?
                                .sns,
                        ),
                        None => None,
                    };
                    crate::notify::send(
                        &message,
                        &targets,
                        sns.as_deref(),
                        crate::notify::webhook::Retry::default(),
                    )
                    .await
                });
                match sent {
                    Ok(lines) => {
                        if !ctx.quiet {
                            for line in lines {
                                stderr_line(format_args!("notification sent: {line}"));
                            }
                        }
                    }
                    Err(e) => {
                        stderr_line(format_args!("{}: {e}", ctx.stderr.red("error")));
                        notify_failed = true;
                    }
                }
            }
        }
    }
    Ok(if report.fails(fail_on) {
        exit::CHANGES
    } else if !report.errors.is_empty() || notify_failed {
        exit::ERROR
    } else {
        exit::OK
    })
}

fn ecr(project: Project, ctx: &Context, command: super::EcrCommand) -> Result<u8> {
    use crate::audit::gate::{parse_image, promote, scan_report, GateOptions};
    let (image, gate, release_tag) = match &command {
        super::EcrCommand::ScanReport(a) => (&a.image, &a.gate, None),
        super::EcrCommand::Promote(a) => (&a.image, &a.gate, Some(a.release_tag.clone())),
    };
    let (repository, reference) = parse_image(image)?;
    let options = GateOptions {
        wait: gate.wait,
        start: gate.start,
        fail_on: gate.fail_on.parse().map_err(Error::Usage)?,
        timeout: std::time::Duration::from_secs(gate.timeout),
        poll: std::time::Duration::from_secs(5),
    };
    let connect = sdk_connect(ctx, &project);
    let account = project.default_account().cloned();
    let region = project.file.defaults.region.clone();
    let rt = runtime()?;
    let clients = rt.block_on(connect.clients(region.as_deref(), account.as_ref()))?;
    let mut out = &ctx.out;
    let (passed, json) = match release_tag {
        None => {
            let r = rt.block_on(scan_report(
                clients.ecr.as_ref(),
                clients.images.as_ref(),
                &repository,
                &reference,
                &options,
            ))?;
            if gate.format == ReportFormat::Text {
                write_gate_text(&mut out, &r, ctx.stdout)?;
            }
            (r.passed, serde_json::to_value(&r).unwrap_or_default())
        }
        Some(tag) => {
            let p = rt.block_on(promote(
                clients.ecr.as_ref(),
                clients.images.as_ref(),
                &repository,
                &reference,
                &tag,
                &options,
            ))?;
            if gate.format == ReportFormat::Text {
                write_gate_text(&mut out, &p.gate, ctx.stdout)?;
                let line = match p.outcome.as_str() {
                    "tagged" => format!(
                        "promoted {repository}@{} as {repository}:{tag}",
                        p.gate.digest
                    ),
                    "already-tagged" => {
                        format!("{repository}:{tag} already names {}", p.gate.digest)
                    }
                    _ => format!("refused to tag {repository}:{tag}: the scan does not pass"),
                };
                writeln!(out, "{line}").map_err(Error::output)?;
            }
            (
                p.outcome != "refused",
                serde_json::to_value(&p).unwrap_or_default(),
            )
        }
    };
    if gate.format == ReportFormat::Json {
        report::write_json(&mut out, &json)?;
    }
    Ok(if passed { exit::OK } else { exit::CHANGES })
}

fn write_gate_text(
    w: &mut dyn Write,
    r: &crate::audit::gate::GateResult,
    style: Style,
) -> Result<()> {
    let counts = r
        .counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(
        w,
        "{}:{} ({}) scan {}{}{}",
        r.repository,
        r.reference,
        r.digest,
        r.status,
        r.completed_at
            .as_deref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default(),
        if counts.is_empty() {
            String::new()
        } else {
            format!(": {counts}")
        }
    )
    .map_err(Error::output)?;
    for f in &r.findings {
        writeln!(
            w,
            "  {:<13} {}{}",
            f.severity,
            f.name,
            f.package
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        )
        .map_err(Error::output)?;
    }
    let verdict = match &r.reason {
        None => style.green("passed"),
        Some(why) => style.red(&format!("failed: {why}")),
    };
    writeln!(w, "{verdict}").map_err(Error::output)
}

/// The run's one runtime: the SDK's clients, shared by the account guard and the command
/// through [`sdk_connect`], keep connections that belong to the runtime that opened them.
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Io)?;
    Ok(RUNTIME.get_or_init(|| rt))
}

/// `-v`: what a rendered template holds.
fn describe_rendered(r: &Rendered) -> String {
    let resources = r
        .template
        .get("Resources")
        .and_then(serde_json::Value::as_object)
        .map(|m| m.len())
        .unwrap_or(0);
    format!(
        "{}: templates/{} -> {} bytes, {resources} resource{}, {} parameter{}",
        r.stack,
        r.template_name,
        r.body().len(),
        if resources == 1 { "" } else { "s" },
        r.parameters.len(),
        if r.parameters.len() == 1 { "" } else { "s" }
    )
}

fn selection(s: &super::StackSelection) -> Selection {
    Selection {
        names: s.stacks.clone(),
        all: s.all,
    }
}

fn render_options(project: &Project, ctx: &Context) -> RenderOptions {
    let region = ctx
        .aws
        .region
        .clone()
        .or_else(|| project.file.defaults.region.clone());
    RenderOptions {
        outputs: Default::default(),
        resolve_account: Some(account_resolver(ctx.aws.clone(), region)),
    }
}

fn print_rendered(out: &mut dyn Write, rendered: &[Rendered], syntax: Syntax) -> Result<()> {
    let text = match (rendered, syntax) {
        ([one], _) => one.pretty(syntax),
        (many, Syntax::Json) => {
            let map: serde_json::Map<String, serde_json::Value> = many
                .iter()
                .map(|r| (r.stack.clone(), r.template.clone()))
                .collect();
            let mut s = serde_json::to_string_pretty(&map).map_err(|e| Error::Io(e.into()))?;
            s.push('\n');
            s
        }
        (many, Syntax::Yaml) => many
            .iter()
            .map(|r| format!("---\n# stack: {}\n{}", r.stack, r.pretty(Syntax::Yaml)))
            .collect(),
    };
    out.write_all(text.as_bytes()).map_err(Error::output)?;
    out.flush().map_err(Error::output)
}

fn write_files(dir: &Path, rendered: &[Rendered], syntax: Syntax, ctx: &Context) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let ext = match syntax {
        Syntax::Json => "json",
        Syntax::Yaml => "yaml",
    };
    for r in rendered {
        let path = dir.join(format!("{}.{ext}", r.stack));
        std::fs::write(&path, r.pretty(syntax)).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        if !ctx.quiet {
            stderr_line(format_args!("wrote {}", path.display()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_lose_their_surrounding_whitespace() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "  s3cret\r\n").unwrap();
        assert_eq!(
            token_from_file(&file, "--read-token-file").unwrap(),
            "s3cret"
        );
        std::fs::write(&file, "\n \n").unwrap();
        let e = token_from_file(&file, "--read-token-file").unwrap_err();
        assert!(e.to_string().contains("holds no token"), "{e}");
        assert!(e.to_string().contains("--read-token-file"), "{e}");
        let e = token_from_file(&dir.path().join("missing"), "--token-file").unwrap_err();
        assert!(matches!(e, Error::Read { .. }), "{e}");

        // A variable of this test's own: no other test reads it.
        let name = "LITTLE_TEST_TOKEN_FROM_ENV_7f3a";
        std::env::set_var(name, "s3cret\n");
        assert_eq!(token_from_env(name).as_deref(), Some("s3cret"));
        std::env::set_var(name, " \n");
        assert_eq!(token_from_env(name), None);
        std::env::remove_var(name);
        assert_eq!(token_from_env(name), None);
    }
}
