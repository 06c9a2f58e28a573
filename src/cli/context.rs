//! What every command of the run shares: stdout, the styles and widths of both streams, `-q`/`-v`,
//! the AWS settings and the run's one connection and runtime; the `--color` decision; the
//! project, found, loaded and guarded for the selected stacks; the stack selection of the
//! flags; and the translation of Ctrl-C and SIGTERM into an [`Interrupt`].

use std::io::IsTerminal;
use std::sync::{Arc, OnceLock};

use super::output::{stderr_line, Stdout};
use super::{ColorChoice, Command, Global, StackSelection};
use crate::aws::connect::{Connect, SdkConnect};
use crate::aws::{account_resolver, AwsSettings};
use crate::error::{code, Error, Result, Verdict};
use crate::interrupt::Interrupt;
use crate::project::Project;
use crate::project::Selection;
use crate::render::RenderOptions;
use crate::report::{Layout, Style};

/// What a command needs besides its own arguments.
pub struct Context {
    /// Where results go; it never fails (see `output`).
    pub out: Stdout,
    pub stdout: Style,
    pub stderr: Style,
    /// How wide text for people may be on stdout and on stderr ([`width`]), and `-v`'s whole
    /// values.
    pub stdout_layout: Layout,
    pub stderr_layout: Layout,
    pub quiet: bool,
    pub verbose: bool,
    pub aws: AwsSettings,
    /// The one [`SdkConnect`] of the run, so that the account guard and the command share its
    /// clients and its caller identities (one STS call per target).
    connect: OnceLock<Arc<dyn Connect>>,
}

/// Whether to colour a stream: `--color always` or `never`, else (auto) when the stream is a
/// terminal and `NO_COLOR` is unset or empty.
pub fn use_color(choice: ColorChoice, tty: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// The width of text for people on a stream: the terminal's when the stream is one, else
/// `COLUMNS` when it is a number, else [`Layout::DEFAULT_WIDTH`]; never under
/// [`Layout::MIN_WIDTH`].
pub fn width(terminal: Option<usize>, columns: Option<&str>) -> usize {
    terminal
        .filter(|w| *w > 0)
        .or_else(|| {
            columns
                .and_then(|c| c.trim().parse().ok())
                .filter(|w| *w > 0)
        })
        .unwrap_or(Layout::DEFAULT_WIDTH)
        .max(Layout::MIN_WIDTH)
}

impl Context {
    pub fn new(g: &Global, out: &Stdout) -> Context {
        Context {
            out: out.clone(),
            stdout: Style {
                color: use_color(g.color, std::io::stdout().is_terminal()),
            },
            stderr: Style {
                color: use_color(g.color, std::io::stderr().is_terminal()),
            },
            stdout_layout: Layout {
                width: width(
                    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0.into()),
                    std::env::var("COLUMNS").ok().as_deref(),
                ),
                full: g.verbose,
            },
            stderr_layout: Layout {
                width: width(
                    terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| w.0.into()),
                    std::env::var("COLUMNS").ok().as_deref(),
                ),
                full: g.verbose,
            },
            quiet: g.quiet,
            verbose: g.verbose,
            aws: AwsSettings {
                profile: g.profile.clone(),
                region: g.region.clone(),
                endpoint_url: g.endpoint_url.clone().filter(|s| !s.is_empty()),
                env: crate::aws::credentials::AwsEnv::from_process(),
            },
            connect: OnceLock::new(),
        }
    }

    /// AWS clients through the SDK, with the flags' and little.yaml's settings: one for the run.
    pub fn connect(&self, project: &Project) -> Arc<dyn Connect> {
        self.connect
            .get_or_init(|| {
                Arc::new(SdkConnect::new(
                    self.aws.clone(),
                    project.file.defaults.template_bucket.clone(),
                ))
            })
            .clone()
    }

    /// AWS clients for a command that runs without a project (`little stack list`, `little
    /// ecr registry`): the flags' settings only. One for the run, like [`Context::connect`].
    pub fn connect_without_project(&self) -> Arc<dyn Connect> {
        self.connect
            .get_or_init(|| Arc::new(SdkConnect::new(self.aws.clone(), None)))
            .clone()
    }

    /// `--region`, else little.yaml's default region (else the AWS profile's, when `None`).
    pub fn default_region(&self, project: &Project) -> Option<String> {
        self.aws
            .region
            .clone()
            .or_else(|| project.file.defaults.region.clone())
    }

    /// How templates are rendered: accounts resolved through the run's AWS settings, in
    /// `--region` or little.yaml's default region.
    pub fn render_options(&self, project: &Project) -> RenderOptions {
        let region = self.default_region(project);
        RenderOptions {
            outputs: Default::default(),
            resolve_account: Some(account_resolver(self.aws.clone(), region)),
            skip_schema_checks: false,
            globals: Default::default(),
        }
    }

    /// A warning on stderr, unless `-q`.
    pub fn warn(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            stderr_line(format_args!("{}: {text}", self.stderr.yellow("warning")));
        }
    }

    /// An error line on stderr (always).
    pub fn error(&self, text: impl std::fmt::Display) {
        stderr_line(format_args!("{}: {text}", self.stderr.red("error")));
    }

    /// A line on stderr, unless `-q`.
    pub fn note(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            stderr_line(text);
        }
    }
}

/// The project of a command: `--project`, or the nearest little.yaml upward; `--region`
/// checked and applied. For the stacks the command selects, `--region` must agree, and a
/// command that calls AWS for them passes the account guard before it touches any.
pub fn project(g: &Global, ctx: &Context, command: &Command) -> Result<Project> {
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
                ctx.warn(warning);
            }
        }
    }
    if let Some((names, all)) = selected(command) {
        let stacks = project.select(&names, all)?;
        if let Some(region) = &g.region {
            project.check_region_flag(region, &stacks)?;
        }
        if guarded(command) {
            let connect = ctx.connect(&project);
            runtime()?.block_on(crate::context::identity::guard_stacks(
                &project,
                connect.as_ref(),
                &stacks,
            ))?;
        }
    }
    Ok(project)
}

/// The stacks a command works on, as `(names, all)`: the ones `--region` must agree with.
fn selected(command: &Command) -> Option<(Vec<String>, bool)> {
    let of = |s: &StackSelection| Some((s.stacks.clone(), s.all));
    match command {
        Command::Render(a) => of(&a.selection),
        Command::Validate(a) => of(&a.selection),
        Command::Plan(a) => of(&a.selection),
        Command::Apply(a) if a.plan.is_none() => of(&a.selection),
        Command::Drift(a) => of(&a.selection),
        // With no stack, whoami shows the project's default target.
        Command::Whoami(a) if !a.selection.stacks.is_empty() || a.selection.all => of(&a.selection),
        Command::Destroy(a) => Some((a.stacks.clone(), a.all)),
        Command::Adopt(a) => Some((a.stacks.clone(), false)),
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
            | Command::Adopt(_)
            | Command::Destroy(_)
            | Command::Status(_)
            | Command::Drift(_)
            | Command::Events(_)
            | Command::Outputs(_)
    )
}

/// The selection of `STACK...` and `--all`.
pub fn selection(s: &StackSelection) -> Selection {
    Selection {
        names: s.stacks.clone(),
        all: s.all,
    }
}

/// The run's one runtime: the SDK's clients, shared by the account guard and the command
/// through [`Context::connect`], keep connections that belong to the runtime that opened them.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Io)?;
    Ok(RUNTIME.get_or_init(|| rt))
}

/// Turns Ctrl-C and SIGTERM into an [`Interrupt`], on the current runtime: the first asks the
/// operation to stop at its next safe point and clean up what it made; a second stops at once,
/// saying which change sets may be left.
pub fn listen_for_interrupts(run_id: &str) -> Interrupt {
    listen(
        "stopping at the next safe point and deleting what this run made and did not execute",
        format!(
            "change sets of this run (named `little-…-{run_id}`) may be left, and new stacks in REVIEW_IN_PROGRESS; `little plan` shows them, `aws cloudformation delete-change-set` removes them"
        ),
    )
}

/// [`listen_for_interrupts`] with the words of an operation: what the first signal does, and
/// what may be left after the second.
pub fn listen(first: &'static str, left: String) -> Interrupt {
    let (interrupt, trigger) = Interrupt::new();
    tokio::spawn(async move {
        crate::interrupt::signalled().await;
        stderr_line(format_args!(
            "\ninterrupted: {first} (interrupt again to stop at once)"
        ));
        trigger.raise();
        crate::interrupt::signalled().await;
        stderr_line(format_args!("stopped at once: {left}"));
        std::process::exit(i32::from(code(Verdict::Interrupted)));
    });
    interrupt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_width_is_the_terminal_then_columns_then_120() {
        assert_eq!(width(Some(90), Some("200")), 90);
        assert_eq!(width(None, Some("200")), 200);
        assert_eq!(width(None, Some(" 80 ")), 80);
        assert_eq!(width(None, Some("wide")), 120);
        assert_eq!(width(None, Some("0")), 120);
        assert_eq!(width(None, None), 120);
        assert_eq!(width(Some(20), None), 60);
        assert_eq!(width(None, Some("30")), 60);
    }

    #[test]
    fn color_always_and_never_ignore_the_terminal() {
        assert!(use_color(ColorChoice::Always, false));
        assert!(!use_color(ColorChoice::Never, true));
        assert!(!use_color(ColorChoice::Auto, false));
    }
}
