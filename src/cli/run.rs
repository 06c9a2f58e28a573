//! Runs a parsed command line: finds and loads the project, builds each command's options,
//! calls its operation and hands the result to a reporter. Returns the exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::{Cli, ColorChoice, Command, ReportFormat, TemplateFormat};
use std::sync::Arc;

use crate::aws::changeset::ChangeSetPoll;
use crate::aws::connect::SdkConnect;
use crate::aws::{account_resolver, AwsSettings};
use crate::error::{exit, Error, Result};
use crate::plan::run::PlanOptions;
use crate::project::Project;
use crate::render::ops::{self, Selection};
use crate::render::{RenderOptions, Rendered, Syntax};
use crate::report::{self, Style};

/// What a command needs besides its own arguments.
struct Context {
    stdout: Style,
    stderr: Style,
    quiet: bool,
    aws: AwsSettings,
}

/// Runs the command; errors are returned for `main` to report.
pub fn run(cli: Cli) -> Result<u8> {
    let g = &cli.global;
    let color = |tty: bool| match g.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let ctx = Context {
        stdout: Style {
            color: color(std::io::stdout().is_terminal()),
        },
        stderr: Style {
            color: color(std::io::stderr().is_terminal()),
        },
        quiet: g.quiet,
        aws: AwsSettings {
            profile: g.profile.clone(),
            region: g.region.clone(),
            endpoint_url: g.endpoint_url.clone().filter(|s| !s.is_empty()),
        },
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
    let project = Project::load(&root)?;
    match cli.command {
        Command::Render(args) => {
            let selection = selection(&args.selection);
            let options = render_options(&project, &ctx);
            let rendered = ops::render_stacks(&project, &selection, options)?;
            let syntax = match args.format {
                TemplateFormat::Json => Syntax::Json,
                TemplateFormat::Yaml => Syntax::Yaml,
            };
            match &args.out {
                Some(dir) => write_files(dir, &rendered, syntax, &ctx)?,
                None => print_rendered(&rendered, syntax)?,
            }
            Ok(exit::OK)
        }
        Command::Validate(args) => {
            let selection = selection(&args.selection);
            let validation = ops::validate(&project, &selection, render_options(&project, &ctx))?;
            let mut err = std::io::stderr().lock();
            let mut out = std::io::stdout().lock();
            match args.format {
                ReportFormat::Text => {
                    let shown: Vec<_> = validation
                        .diagnostics
                        .iter()
                        .filter(|d| d.is_error() || !ctx.quiet)
                        .cloned()
                        .collect();
                    report::diagnostics::write_text(&mut err, &shown, ctx.stderr)?;
                    report::validate::write_text(&mut out, &validation, ctx.stdout)?;
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
        Command::Stacks(args) => {
            let rows = report::stacks::rows(&project);
            let mut out = std::io::stdout().lock();
            match args.format {
                ReportFormat::Text => report::stacks::write_text(&mut out, &rows, ctx.stdout)?,
                ReportFormat::Json => report::stacks::write_json_rows(&mut out, &rows)?,
            }
            Ok(exit::OK)
        }
    }
}

fn plan(project: Project, ctx: &Context, args: super::PlanArgs) -> Result<u8> {
    let options = PlanOptions {
        selection: selection(&args.selection),
        concurrency: usize::from(args.concurrency),
        keep_change_sets: args.out.is_some(),
        poll: ChangeSetPoll::default(),
        render: render_options(&project, ctx),
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
    };
    // Fail on a bad selection before any AWS call.
    project.select(&options.selection.names, options.selection.all)?;
    let connect = Arc::new(SdkConnect::new(ctx.aws.clone()));
    let runtime = runtime()?;
    let plan = runtime.block_on(crate::plan::run::plan(Arc::new(project), connect, options))?;
    if let Some(path) = &args.out {
        let text = serde_json::to_string_pretty(&plan).map_err(|e| Error::Io(e.into()))?;
        std::fs::write(path, text + "\n").map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        if !ctx.quiet {
            eprintln!("saved the plan to {}", path.display());
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        super::PlanFormat::Text => report::plan::write_text(&mut out, &plan, ctx.stdout)?,
        super::PlanFormat::Json => report::plan::write_json_plan(&mut out, &plan)?,
        super::PlanFormat::Markdown => report::plan::write_markdown(&mut out, &plan)?,
    }
    Ok(if plan.has_failures() {
        exit::ERROR
    } else if args.detailed_exitcode && plan.has_changes() {
        exit::CHANGES
    } else {
        exit::OK
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Io)
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

fn print_rendered(rendered: &[Rendered], syntax: Syntax) -> Result<()> {
    let mut out = std::io::stdout().lock();
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
    let mut err = std::io::stderr().lock();
    for r in rendered {
        let path = dir.join(format!("{}.{ext}", r.stack));
        std::fs::write(&path, r.pretty(syntax)).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        if !ctx.quiet {
            writeln!(err, "wrote {}", path.display()).map_err(Error::output)?;
        }
    }
    Ok(())
}
