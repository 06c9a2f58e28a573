//! `little stack VERB`: little-automation's stack verbs. A verb's STACK is a stackParams.json
//! anywhere (loaded on its own, `Project::from_stack_params`) or a stack of the project; each
//! verb calls the operation little already has for its job (render, validate, plan, apply,
//! destroy, events) or one of `deploy::automation`, and prints as the original did (rendered
//! JSON, AWS-shaped JSON, or little's plan and summary where the original submitted and
//! returned).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::cli::context::{listen, listen_for_interrupts, runtime, Context};
use crate::cli::ui::CliUi;
use crate::cli::{Command, Global, StackArgs, StackChangeArgs, StackVerb, TemplateTarget};
use crate::deploy::automation::{self as auto, change_name, host_name};
use crate::deploy::destroy::DestroyOptions;
use crate::deploy::options::ApplyOptions;
use crate::error::{Error, Result, Verdict};
use crate::interrupt::Interrupt;
use crate::plan::model::PlanOptions;
use crate::poll::Poll;
use crate::project::{Project, Selection};
use crate::render::{ops, RenderOptions};
use crate::report;
use crate::template::parse::Syntax;

/// What a verb works on: the project (of one stackParams.json, or the project's) and the
/// stack's name in it.
struct Target {
    project: Project,
    stack: String,
}

pub fn run(g: &Global, ctx: &Context, command: &Command, args: &StackArgs) -> Result<Verdict> {
    if let Some(region) = &g.region {
        crate::region::check(region).map_err(|why| Error::Usage(format!("`--region`: {why}")))?;
    }
    let target = |stack: &str| resolve(g, ctx, command, args, stack);
    match &args.verb {
        StackVerb::ChangeName => {
            let user = std::env::var("USER").unwrap_or_default();
            line(ctx, &change_name(&user, &host_name()))
        }
        StackVerb::Bucket => {
            let bucket = match &args.bucket {
                Some(b) => b.clone(),
                None => {
                    let connect = ctx.connect_without_project();
                    runtime()?.block_on(auto::stack_bucket(
                        connect.as_ref(),
                        g.region.as_deref(),
                        None,
                    ))?
                }
            };
            line(ctx, &bucket)
        }
        StackVerb::Variables { stack } => {
            let (target, files) = match stack {
                Some(s) => {
                    let t = target(s)?;
                    let files = auto::template_files(&t.project)?;
                    (Some(t), files)
                }
                None => (None, serde_json::json!({ "openapi": "{}" })),
            };
            let bucket = match (&args.bucket, &target) {
                (Some(b), _) => b.clone(),
                (None, Some(t)) => bucket_of(ctx, t, true)?.unwrap_or_default(),
                (None, None) => runtime()?.block_on(auto::stack_bucket(
                    ctx.connect_without_project().as_ref(),
                    g.region.as_deref(),
                    None,
                ))?,
            };
            let stack = target.as_ref().and_then(|t| t.project.stack(&t.stack));
            json(ctx, &auto::variables(stack, &bucket, files))
        }
        StackVerb::Filter(t) => {
            let t = target(&t.stack)?;
            let options = render_options(ctx, args, &t)?;
            filter(ctx, &t, options)
        }
        StackVerb::FilterTemplate(tt) => {
            let (t, options) = template_target(ctx, g, args, tt)?;
            filter(ctx, &t, options)
        }
        StackVerb::Validate(t) => {
            let t = target(&t.stack)?;
            let options = render_options(ctx, args, &t)?;
            validate(ctx, &t, options)
        }
        StackVerb::ValidateTemplate(tt) => {
            let (t, options) = template_target(ctx, g, args, tt)?;
            validate(ctx, &t, options)
        }
        StackVerb::Create(a) => change(ctx, args, target(&a.target.stack)?, a, Some(false)),
        StackVerb::Update(a) => change(ctx, args, target(&a.target.stack)?, a, Some(true)),
        StackVerb::MakeChange(a) => change(ctx, args, target(&a.target.stack)?, a, None),
        StackVerb::ShowChange(t) => {
            let t = target(&t.stack)?;
            let connect = ctx.connect(&t.project);
            let cs = runtime()?.block_on(auto::show_change(
                &t.project,
                connect.as_ref(),
                &t.stack,
                &current_change_name(),
            ))?;
            json(ctx, &report::aws_json::change_set(&cs))
        }
        StackVerb::RmChange(t) => {
            let t = target(&t.stack)?;
            let connect = ctx.connect(&t.project);
            runtime()?.block_on(auto::rm_change(
                &t.project,
                connect.as_ref(),
                &t.stack,
                &current_change_name(),
            ))?;
            Ok(Verdict::Ok)
        }
        StackVerb::ExecChange(t) => {
            let t = target(&t.stack)?;
            let connect = ctx.connect(&t.project);
            let info = runtime()?.block_on(auto::exec_change(
                &t.project,
                connect.as_ref(),
                &t.stack,
                &current_change_name(),
                Poll::STACK,
            ))?;
            ctx.note(format_args!("{}: {}", info.name, info.status));
            Ok(if info.is_failed() {
                Verdict::Failed
            } else {
                Verdict::Ok
            })
        }
        StackVerb::Describe(t) => {
            let t = target(&t.stack)?;
            let connect = ctx.connect(&t.project);
            let info =
                runtime()?.block_on(auto::describe(&t.project, connect.as_ref(), &t.stack))?;
            json(ctx, &report::aws_json::describe_stacks(&[info]))
        }
        StackVerb::Resources(t) => {
            let t = target(&t.stack)?;
            let connect = ctx.connect(&t.project);
            let (info, list) = runtime()?.block_on(async {
                let info = auto::describe(&t.project, connect.as_ref(), &t.stack).await?;
                let list = auto::resources(&t.project, connect.as_ref(), &t.stack).await?;
                Ok::<_, Error>((info, list))
            })?;
            json(ctx, &report::aws_json::stack_resources(&info, &list))
        }
        StackVerb::Events(t) => {
            let t = target(&t.stack)?;
            let connect = ctx.connect(&t.project);
            let project = Arc::new(t.project);
            let (info, events) = runtime()?.block_on(async {
                let info = auto::describe(&project, connect.as_ref(), &t.stack).await?;
                let events =
                    crate::deploy::status::events(project.clone(), connect.clone(), &t.stack, 100)
                        .await?;
                Ok::<_, Error>((info, events))
            })?;
            json(ctx, &report::aws_json::stack_events(&info, &events))
        }
        StackVerb::List => {
            let connect = ctx.connect_without_project();
            let stacks =
                runtime()?.block_on(auto::list(connect.as_ref(), g.region.as_deref(), None))?;
            json(ctx, &report::aws_json::list_stacks(&stacks))
        }
        StackVerb::Delete(a) => delete(ctx, target(&a.target.stack)?, a.timeout),
    }
}

/// STACK as a stackParams.json when it names a file, else as a stack of the project.
fn resolve(
    g: &Global,
    ctx: &Context,
    command: &Command,
    args: &StackArgs,
    stack: &str,
) -> Result<Target> {
    let path = Path::new(stack);
    let mut project = if path.is_file() {
        Project::from_stack_params(path, args.home.as_deref())?
    } else {
        let project = crate::cli::context::project(g, ctx, command)?;
        project.select(&[stack.to_owned()], false)?;
        project
    };
    if let Some(region) = &g.region {
        project.override_region(region);
    }
    let name = if path.is_file() {
        project
            .stacks
            .first()
            .map(|s| s.name.clone())
            .ok_or(Error::NoStacksSelected)?
    } else {
        stack.to_owned()
    };
    Ok(Target {
        project,
        stack: name,
    })
}

/// The stack bucket for rendering: `--bucket`, else looked up; when the lookup fails and the
/// bucket is not `required`, a warning, and `stackBucket` is left undefined.
fn bucket_of(ctx: &Context, t: &Target, required: bool) -> Result<Option<String>> {
    let stack = t.project.stack(&t.stack).ok_or(Error::NoStacksSelected)?;
    let connect = ctx.connect(&t.project);
    let found = runtime()?.block_on(auto::stack_bucket(
        connect.as_ref(),
        stack.region.as_deref(),
        t.project.account_of(stack),
    ));
    match found {
        Ok(b) => Ok(Some(b)),
        Err(e) if !required => {
            ctx.warn(format_args!(
                "`stackBucket` is undefined: the stack bucket could not be looked up ({e}); `--bucket` names it"
            ));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// How a stack renders: the run's options with `stackBucket` and `templateFiles`.
fn render_options(ctx: &Context, args: &StackArgs, t: &Target) -> Result<RenderOptions> {
    let bucket = match &args.bucket {
        Some(b) => Some(b.clone()),
        None => bucket_of(ctx, t, false)?,
    };
    Ok(RenderOptions {
        globals: auto::globals(bucket.as_deref(), auto::template_files(&t.project)?),
        ..ctx.render_options(&t.project)
    })
}

/// A template with variables, as a project of one stack and the options to render it with.
fn template_target(
    ctx: &Context,
    g: &Global,
    args: &StackArgs,
    tt: &TemplateTarget,
) -> Result<(Target, RenderOptions)> {
    if !tt.template.is_file() {
        return Err(Error::Usage(format!(
            "`{}` is not a template file",
            tt.template.display()
        )));
    }
    let template = std::path::absolute(&tt.template).map_err(Error::Io)?;
    let given = match &tt.variables {
        Some(text) => Some(parse_variables(text)?),
        None => None,
    };
    let (text, rest) = auto::template_stack_params(&template, &given.clone().unwrap_or_default());
    let config = template.with_extension("variables.json");
    let mut project = Project::from_stack_params_text(&config, text, None)?;
    if let Some(region) = &g.region {
        project.override_region(region);
    }
    let t = Target {
        project,
        stack: "filter-template".into(),
    };
    let globals = match given {
        Some(_) => rest,
        None => {
            let bucket = match &args.bucket {
                Some(b) => Some(b.clone()),
                None => bucket_of(ctx, &t, false)?,
            };
            auto::globals(bucket.as_deref(), serde_json::json!({ "openapi": "{}" }))
        }
    };
    let options = RenderOptions {
        globals,
        ..ctx.render_options(&t.project)
    };
    Ok((t, options))
}

/// The variables argument of filter-template: a JSON object.
pub fn parse_variables(text: &str) -> Result<serde_json::Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::Usage(
            "the variables must be a JSON object, as `little stack variables` prints".into(),
        )),
        Err(e) => Err(Error::Usage(format!("the variables are not JSON: {e}"))),
    }
}

fn selection(t: &Target) -> Selection {
    Selection {
        names: vec![t.stack.clone()],
        all: false,
    }
}

fn filter(ctx: &Context, t: &Target, options: RenderOptions) -> Result<Verdict> {
    let rendered = ops::render_stacks(&t.project, &selection(t), options)?;
    let mut out = &ctx.out;
    for r in &rendered {
        write!(out, "{}", r.pretty(Syntax::Json)).map_err(Error::output)?;
    }
    Ok(Verdict::Ok)
}

fn validate(ctx: &Context, t: &Target, options: RenderOptions) -> Result<Verdict> {
    let validation = ops::validate(&t.project, &selection(t), options, false)?;
    let shown: Vec<_> = validation
        .diagnostics
        .iter()
        .filter(|d| d.is_error() || !ctx.quiet)
        .cloned()
        .collect();
    let _ = report::diagnostics::write_text(&mut std::io::stderr().lock(), &shown, ctx.stderr);
    report::validate::write_text(&mut &ctx.out, &validation, ctx.stdout)?;
    Ok(validation.verdict())
}

/// The change-set name of this user on this host.
fn current_change_name() -> String {
    change_name(&std::env::var("USER").unwrap_or_default(), &host_name())
}

/// create (`exists` Some(false)), update (Some(true)) and make-change (None).
fn change(
    ctx: &Context,
    args: &StackArgs,
    t: Target,
    a: &StackChangeArgs,
    exists: Option<bool>,
) -> Result<Verdict> {
    let render = render_options(ctx, args, &t)?;
    let connect = ctx.connect(&t.project);
    let rt = runtime()?;
    if let Some(exists) = exists {
        rt.block_on(auto::require(
            &t.project,
            connect.as_ref(),
            &t.stack,
            exists,
        ))?;
    }
    let make_change = exists.is_none() && !a.dry_run;
    let plan_options = PlanOptions {
        selection: selection(&t),
        concurrency: 1,
        keep_change_sets: make_change,
        change_sets: crate::plan::model::ChangeSetMode::Always,
        poll: Poll::CHANGE_SET,
        render,
        now: crate::time::now(),
        run_id: crate::aws::changeset::new_run_id(),
        change_set_name: make_change.then(current_change_name),
        replace_failed: false,
        refresh_templates: false,
        interrupt: Interrupt::never(),
    };
    let project = Arc::new(t.project);
    if a.dry_run || make_change {
        let mut options = plan_options;
        let plan = rt.block_on(async {
            options.interrupt = listen_for_interrupts(&options.run_id);
            crate::plan::run::plan(project, connect, options).await
        })?;
        report::plan::write_text(&mut &ctx.out, &plan, ctx.stdout, ctx.stdout_layout)?;
        let _ = report::plan::write_failures(&mut std::io::stderr().lock(), &plan, ctx.stderr);
        return Ok(plan.verdict(false));
    }
    let mut options = ApplyOptions {
        plan: plan_options,
        saved: None,
        // The original submitted without asking.
        yes: true,
        allow_destructive: a.allow_destructive,
        allow_broadening: a.allow_broadening,
        allow_unprotect: a.allow_unprotect,
        replace_failed: false,
        wait: Poll {
            timeout: std::time::Duration::from_secs(a.timeout.saturating_mul(60)),
            ..Poll::STACK
        },
    };
    ctx.out.note_on_stop(
        "the apply goes on; its outcome is in the exit code, and failures are on stderr",
    );
    let ui = Arc::new(CliUi::new(ctx));
    let report = rt.block_on(async {
        options.plan.interrupt = listen_for_interrupts(&options.plan.run_id);
        crate::deploy::apply::apply(project, connect, options, ui).await
    })?;
    report::apply::write_summary(&mut &ctx.out, &report.stacks, false, ctx.stdout)?;
    let mut err = std::io::stderr().lock();
    let _ = report::apply::write_failures(&mut err, &report.stacks, false, ctx.stderr);
    if report.interrupted {
        let _ = report::apply::write_interrupted(&mut err, report.cleanup.as_deref(), ctx.stderr);
    }
    Ok(report.verdict())
}

/// delete: termination protection turned off, as the original did, then little's destroy.
fn delete(ctx: &Context, t: Target, timeout: u64) -> Result<Verdict> {
    let mut options = DestroyOptions {
        stacks: vec![t.stack.clone()],
        all: false,
        yes: true,
        disable_termination_protection: true,
        concurrency: 1,
        wait: Poll {
            timeout: std::time::Duration::from_secs(timeout.saturating_mul(60)),
            ..Poll::STACK
        },
        interrupt: Interrupt::never(),
    };
    let ui = Arc::new(CliUi::new(ctx));
    let connect = ctx.connect(&t.project);
    let report = runtime()?.block_on(async {
        options.interrupt = listen(
            "the deletion goes on in CloudFormation",
            "the deletion goes on in CloudFormation (`little stack describe`)".into(),
        );
        crate::deploy::destroy::destroy(Arc::new(t.project), connect, options, ui).await
    })?;
    let mut out = &ctx.out;
    if report.stacks.is_empty() {
        writeln!(out, "nothing to delete: `{}` is not deployed", t.stack).map_err(Error::output)?;
    } else {
        report::apply::write_summary(&mut out, &report.stacks, true, ctx.stdout)?;
        let _ = report::apply::write_failures(
            &mut std::io::stderr().lock(),
            &report.stacks,
            true,
            ctx.stderr,
        );
    }
    Ok(report.verdict())
}

fn line(ctx: &Context, text: &str) -> Result<Verdict> {
    writeln!(&ctx.out, "{text}").map_err(Error::output)?;
    Ok(Verdict::Ok)
}

fn json(ctx: &Context, value: &Value) -> Result<Verdict> {
    report::write_json(&mut &ctx.out, value)?;
    Ok(Verdict::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn verb(args: &[&str]) -> StackVerb {
        let mut all = vec!["little", "stack"];
        all.extend_from_slice(args);
        match crate::cli::Cli::try_parse_from(all).unwrap().command {
            Command::Stack(a) => a.verb,
            other => panic!("not stack: {other:?}"),
        }
    }

    #[test]
    fn the_originals_arguments_parse() {
        match verb(&["create", "--dryRun", "db/ecr/stackParams.json"]) {
            StackVerb::Create(a) => {
                assert!(a.dry_run);
                assert_eq!(a.target.stack, "db/ecr/stackParams.json");
            }
            other => panic!("{other:?}"),
        }
        match verb(&["make-change", "--dry-run", "p.json"]) {
            StackVerb::MakeChange(a) => assert!(a.dry_run),
            other => panic!("{other:?}"),
        }
        match verb(&["filter-template", "t.json", "{\"a\":1}"]) {
            StackVerb::FilterTemplate(t) => {
                assert_eq!(t.template, Path::new("t.json"));
                assert_eq!(t.variables.as_deref(), Some("{\"a\":1}"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            verb(&["variables"]),
            StackVerb::Variables { stack: None }
        ));
        assert!(matches!(verb(&["change-name"]), StackVerb::ChangeName));
        assert!(matches!(verb(&["bucket"]), StackVerb::Bucket));
        assert!(matches!(verb(&["list"]), StackVerb::List));
        for v in [
            "show-change",
            "rm-change",
            "exec-change",
            "describe",
            "resources",
            "events",
            "delete",
            "filter",
            "validate",
            "update",
        ] {
            let mut all = vec!["little", "stack", v, "p.json"];
            assert!(crate::cli::Cli::try_parse_from(all.clone()).is_ok(), "{v}");
            all.truncate(3);
            assert!(
                crate::cli::Cli::try_parse_from(all).is_err(),
                "{v} without STACK"
            );
        }
    }

    #[test]
    fn the_home_and_bucket_come_before_or_after_the_verb() {
        let cli = crate::cli::Cli::try_parse_from([
            "little", "stack", "filter", "p.json", "--home", "/h", "--bucket", "b",
        ])
        .unwrap();
        match cli.command {
            Command::Stack(a) => {
                assert_eq!(a.home.as_deref(), Some(Path::new("/h")));
                assert_eq!(a.bucket.as_deref(), Some("b"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn variables_must_be_a_json_object() {
        assert!(parse_variables("{\"stackVariables\": {}}").is_ok());
        assert!(matches!(parse_variables("[1]"), Err(Error::Usage(_))));
        assert!(matches!(parse_variables("{"), Err(Error::Usage(_))));
    }
}
