//! Rendering: turns a stack's template (minijinja with nunjucks behaviour) into a CloudFormation
//! template, and checks it structurally before any AWS call.
//!
//! Every problem becomes a [`Diagnostic`] at the template file, line and column that caused it,
//! with the include chain: minijinja's own errors carry their position; a rendered output that
//! is not valid JSON or YAML, and lint findings, are mapped back to the source line that
//! produced them by rendering once more with line markers (see `source`).
//!
//! Not here: talking to AWS (stack outputs and the account id arrive through [`RenderOptions`]);
//! parsing the rendered text (`template::parse`), validating policy documents (`policy`) and
//! finding a pointer's line in the text (`locate`), which this module calls.

pub mod across;
mod env;
pub mod lint;
pub mod ops;
pub mod source;

use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use minijinja::value::Value;
use serde::Serialize;

use crate::diag::{line_col, Diagnostic, Location, Severity};
use crate::project::{Project, Stack};
use crate::template::parse::Syntax;
pub use env::{output_placeholder, AccountResolver, MissingOutputs, Outputs};
use env::{to_value, Session, CONFIG_PREFIX, POLICY_PREFIX};

/// What rendering may know beyond the project's files.
#[derive(Clone, Default)]
pub struct RenderOptions {
    /// Outputs of deployed stacks, for `stack_output()`.
    pub outputs: Outputs,
    /// Asks AWS for the caller's account id when a stack names no account.
    pub resolve_account: Option<AccountResolver>,
    /// Leaves out the lint's checks against CloudFormation's resource schemas
    /// (`validate --no-schema-checks`).
    pub skip_schema_checks: bool,
    /// Names added to the template context beside the project's and the stack's own (which
    /// win over them): little-automation's `stackBucket` and `templateFiles`, or the variables
    /// of `little stack filter-template`.
    pub globals: serde_json::Map<String, serde_json::Value>,
}

/// A rendered stack: its template as text and as a value, and its rendered parameters and tags.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    pub stack: String,
    /// The template's name under `templates/`.
    pub template_name: String,
    pub syntax: Syntax,
    /// The rendered text, exactly as the template produced it.
    pub text: String,
    /// The parsed template (YAML short forms in long form).
    pub template: serde_json::Value,
    pub parameters: IndexMap<String, String>,
    pub tags: IndexMap<String, String>,
}

fn pairs(map: &IndexMap<String, String>) -> Vec<(String, String)> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl Rendered {
    /// The parameters as CloudFormation takes them: (key, value) pairs, in order.
    pub fn parameter_pairs(&self) -> Vec<(String, String)> {
        pairs(&self.parameters)
    }

    /// The tags as (key, value) pairs, in order.
    pub fn tag_pairs(&self) -> Vec<(String, String)> {
        pairs(&self.tags)
    }

    /// The template as it is sent to CloudFormation: compact JSON.
    pub fn body(&self) -> String {
        serde_json::to_string(&self.template).unwrap_or_default()
    }

    /// The template pretty-printed, keys in template order.
    pub fn pretty(&self, syntax: Syntax) -> String {
        match syntax {
            Syntax::Json => {
                let mut s = serde_json::to_string_pretty(&self.template).unwrap_or_default();
                s.push('\n');
                s
            }
            Syntax::Yaml => serde_norway::to_string(&self.template).unwrap_or_default(),
        }
    }
}

/// The template context, as the templates see it.
#[derive(Serialize)]
struct StackContext<'a> {
    name: &'a str,
    region: Option<&'a str>,
    account: Option<&'a str>,
    account_id: Option<&'a str>,
    tags: &'a IndexMap<String, String>,
    parameters: &'a IndexMap<String, String>,
    termination_protection: bool,
    description: Option<&'a str>,
}

#[derive(Serialize)]
struct ProjectContext<'a> {
    name: &'a str,
    region: Option<&'a str>,
    tags: IndexMap<&'a str, String>,
    variables: &'a serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct TagEntry<'a> {
    #[serde(rename = "Key")]
    key: &'a str,
    #[serde(rename = "Value")]
    value: &'a str,
}

/// Renders the stacks of one project.
pub struct Renderer<'p> {
    project: &'p Project,
    options: RenderOptions,
    policy_cache: env::PolicyCache,
    source_cache: env::SourceCache,
    /// Environments (with their sessions) of finished renders, for the next ones: their
    /// templates stay compiled. One per thread that renders at a time.
    pool: Mutex<Vec<(Arc<Session>, minijinja::Environment<'static>)>>,
}

impl<'p> Renderer<'p> {
    pub fn new(project: &'p Project, options: RenderOptions) -> Self {
        Renderer {
            project,
            options,
            policy_cache: env::PolicyCache::default(),
            source_cache: env::SourceCache::default(),
            pool: Mutex::new(Vec::new()),
        }
    }

    fn session(&self, stack: &Stack, instrument: bool) -> Arc<Session> {
        // Only what `shown` needs: a copy of the whole project per render would cost as much
        // as the project is big.
        let shown = self.project.path_display();
        Arc::new(Session {
            project_files: self.project.files().clone(),
            templates: self.project.templates_folder().to_path_buf(),
            outputs: self.options.outputs.clone(),
            account_id: Mutex::new(self.project.account_of(stack).map(|a| a.id.clone())),
            resolve_account: self.options.resolve_account.clone(),
            policy_problems: Mutex::new(Vec::new()),
            outside: Mutex::new(None),
            instrument,
            files: Mutex::new(Vec::new()),
            shown: Box::new(move |p| shown.shown(p)),
            policy_cache: self.policy_cache.clone(),
            source_cache: self.source_cache.clone(),
            policy_renders: Mutex::new(Default::default()),
        })
    }

    /// Renders a stack: parameters and tags, then the template, then parses the result.
    pub fn render(&self, stack: &Stack) -> Result<Rendered, Vec<Diagnostic>> {
        // A pooled environment, its session reset for this stack; or a new one.
        let pooled = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (session, environment) = match pooled {
            Some((session, environment)) => {
                *session.account_id.lock().unwrap_or_else(|e| e.into_inner()) =
                    self.project.account_of(stack).map(|a| a.id.clone());
                session
                    .policy_problems
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear();
                session.take_outside();
                (session, environment)
            }
            None => {
                let session = self.session(stack, false);
                let environment = env::environment(session.clone());
                (session, environment)
            }
        };
        let result = guarded(|| self.render_with(stack, &session, &environment));
        match result {
            Ok(result) => {
                self.pool
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((session, environment));
                result
            }
            // The environment that panicked is dropped, not reused.
            Err(panic) => Err(vec![self.engine_failure(stack, &panic)]),
        }
    }

    /// A panic of the template engine on a stack's template, as a diagnostic.
    fn engine_failure(&self, stack: &Stack, panic: &str) -> Diagnostic {
        Diagnostic::error(
            "template-engine",
            format!("the template engine failed on this template: {panic}"),
        )
        .in_file(
            &self
                .project
                .shown(&self.project.template_file(&stack.template)),
        )
        .with_stack(&stack.name)
        .with_note("this is a bug of little or of minijinja: please report it with the template")
    }

    fn render_with(
        &self,
        stack: &Stack,
        session: &Arc<Session>,
        environment: &minijinja::Environment<'static>,
    ) -> Result<Rendered, Vec<Diagnostic>> {
        let account = self.project.account_of(stack);
        let account_id = account.map(|a| a.id.clone());
        let empty = IndexMap::new();
        let project_ctx = ProjectContext {
            name: &self.project.name,
            region: self.project.file.defaults.region.as_deref(),
            tags: self
                .project
                .file
                .defaults
                .tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_string()))
                .collect(),
            variables: &self.project.file.variables,
        };
        let accounts = to_value(&self.project.accounts);
        let project_value = to_value(&project_ctx);
        let vars = to_value(&stack.variables);
        let globals = to_value(&self.options.globals);
        let context = |parameters: &IndexMap<String, String>, tags: &IndexMap<String, String>| {
            let stack_ctx = StackContext {
                name: &stack.name,
                region: stack.region.as_deref(),
                account: stack.account.as_deref(),
                account_id: account_id.as_deref(),
                tags,
                parameters,
                termination_protection: stack.termination_protection,
                description: stack.description.as_deref(),
            };
            let tag_list: Vec<TagEntry> = tags
                .iter()
                .map(|(k, v)| TagEntry { key: k, value: v })
                .collect();
            let tags_str = tag_list
                .iter()
                .map(|t| serde_json::to_string(t).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",");
            minijinja::context! {
                stack => to_value(&stack_ctx),
                vars => vars.clone(),
                accounts => accounts.clone(),
                project => project_value.clone(),
                stackParameters => to_value(parameters),
                stackTags => to_value(&tag_list),
                stackTagsStr => tags_str,
                stackVariables => vars.clone(),
                ..globals.clone()
            }
        };

        // Parameter and tag values may hold expressions; they see the context without
        // `stack.parameters`.
        let mut diags = Vec::new();
        session.new_pass();
        let base_ctx = context(&empty, &stack.tags);
        let mut render_values = |kind: &str, values: &IndexMap<String, String>| {
            let mut out = IndexMap::new();
            for (key, raw) in values {
                if !raw.contains("{{") && !raw.contains("{%") {
                    out.insert(key.clone(), raw.clone());
                    continue;
                }
                let name = format!("{CONFIG_PREFIX}{kind}/{key}");
                let rendered = environment
                    .template_from_named_str(&name, raw)
                    .and_then(|t| env::render_capped(&t, base_ctx.clone()));
                match rendered {
                    Ok(v) => {
                        out.insert(key.clone(), v);
                    }
                    Err(e) => diags.extend(self.config_value_error(stack, kind, key, &e, session)),
                }
            }
            out
        };
        let parameters = render_values("parameters", &stack.parameters);
        let tags = render_values("tags", &stack.tags);
        if !diags.is_empty() {
            return Err(diags);
        }

        session.new_pass();
        let ctx = context(&parameters, &tags);
        let text = environment
            .get_template(&stack.template)
            .and_then(|t| env::render_capped(&t, ctx.clone()))
            .map_err(|e| self.template_error(stack, &e, session))?;
        let syntax = Syntax::of(&stack.template);
        let template = match crate::template::parse::parse(&text, syntax) {
            Ok(v) => v,
            Err(e) => return Err(vec![self.output_error(stack, &text, syntax, &e, ctx)]),
        };
        Ok(Rendered {
            stack: stack.name.clone(),
            template_name: stack.template.clone(),
            syntax,
            text,
            template,
            parameters,
            tags,
        })
    }

    /// Renders and lints a stack: every problem, errors and warnings.
    pub fn check(&self, stack: &Stack) -> (Option<Rendered>, Vec<Diagnostic>) {
        let rendered = match self.render(stack) {
            Ok(r) => r,
            Err(d) => return (None, d),
        };
        let diags = self.lint(stack, &rendered);
        (Some(rendered), diags)
    }

    /// Structural lint of a rendered template, each finding at its source line.
    pub fn lint(&self, stack: &Stack, rendered: &Rendered) -> Vec<Diagnostic> {
        let provided: Vec<String> = rendered.parameters.keys().cloned().collect();
        let regions: Vec<String> = match stack.kind.stack_set() {
            Some(set) => set.regions.clone(),
            None => stack.region.iter().cloned().collect(),
        };
        let findings = lint::lint(&lint::LintInput {
            template: &rendered.template,
            size_bytes: rendered.body().len(),
            provided_parameters: &provided,
            resource_schemas: !self.options.skip_schema_checks,
            regions: &regions,
        });
        if findings.is_empty() {
            return Vec::new();
        }
        // Map findings to source lines through a marked render (only when there is something
        // to report).
        let marked = guarded(|| self.marked_render(stack)).ok().flatten();
        findings
            .into_iter()
            .map(|f| {
                let names_a_key = f.names_a_key();
                let mut d = Diagnostic {
                    severity: f.severity,
                    code: f.code,
                    message: f.message,
                    location: None,
                    source_line: None,
                    include_chain: Vec::new(),
                    stack: Some(stack.name.clone()),
                    notes: Vec::new(),
                };
                if matches!(f.code, "unknown-parameter" | "missing-parameter") {
                    if let Some(name) = f.pointer.rsplit('/').next() {
                        if f.code == "unknown-parameter" {
                            return stack.diagnostic_at(self.project, &["parameters", name], d);
                        }
                    }
                }
                if f.code == "template-size" || f.pointer.is_empty() {
                    return d.at(
                        Location::file(
                            self.project
                                .shown(&self.project.template_file(&stack.template)),
                        ),
                        None,
                    );
                }
                if let Some((map, session)) = &marked {
                    let key = match (names_a_key, rendered.syntax) {
                        (false, _) => None,
                        (true, Syntax::Json) => {
                            crate::locate::json_key_position(&map.text, &f.pointer)
                        }
                        (true, Syntax::Yaml) => {
                            crate::locate::yaml_key_position(&map.text, &f.pointer)
                        }
                    };
                    let pos = key.or_else(|| match rendered.syntax {
                        Syntax::Json => crate::locate::json_pointer_position(&map.text, &f.pointer),
                        Syntax::Yaml => crate::locate::yaml_pointer_position(&map.text, &f.pointer),
                    });
                    if let Some((line, col)) = pos {
                        let offset = offset_of(&map.text, line, col);
                        if let Some(loc) = self.source_location(stack, map, session, offset) {
                            d = self.with_source(d, loc.0, loc.1, loc.2, &stack.template, session);
                            return d
                                .with_note(format!("at `{}` in the rendered template", f.pointer));
                        }
                    }
                }
                d.in_file(
                    &self
                        .project
                        .shown(&self.project.template_file(&stack.template)),
                )
                .with_note(format!("at `{}` in the rendered template", f.pointer))
            })
            .collect()
    }

    /// Renders again with line markers; None when that render fails.
    fn marked_render(&self, stack: &Stack) -> Option<(source::SourceMap, Arc<Session>)> {
        let session = self.session(stack, true);
        let environment = env::environment(session.clone());
        // The context of the marked render must match the real one; re-render it the same way.
        let rendered = self.render(stack).ok()?;
        let ctx = self.context_for(stack, &rendered);
        let text = environment
            .get_template(&stack.template)
            .and_then(|t| env::render_capped(&t, ctx))
            .ok()?;
        Some((source::SourceMap::new(&text), session))
    }

    fn context_for(&self, stack: &Stack, rendered: &Rendered) -> Value {
        // Rebuild the same context as `render` from the rendered parameters and tags.
        let account_id = self.project.account_of(stack).map(|a| a.id.clone());
        let stack_ctx = StackContext {
            name: &stack.name,
            region: stack.region.as_deref(),
            account: stack.account.as_deref(),
            account_id: account_id.as_deref(),
            tags: &rendered.tags,
            parameters: &rendered.parameters,
            termination_protection: stack.termination_protection,
            description: stack.description.as_deref(),
        };
        let project_ctx = ProjectContext {
            name: &self.project.name,
            region: self.project.file.defaults.region.as_deref(),
            tags: self
                .project
                .file
                .defaults
                .tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_string()))
                .collect(),
            variables: &self.project.file.variables,
        };
        let tag_list: Vec<TagEntry> = rendered
            .tags
            .iter()
            .map(|(k, v)| TagEntry { key: k, value: v })
            .collect();
        let tags_str = tag_list
            .iter()
            .map(|t| serde_json::to_string(t).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(",");
        let vars = to_value(&stack.variables);
        minijinja::context! {
            stack => to_value(&stack_ctx),
            vars => vars.clone(),
            accounts => to_value(&self.project.accounts),
            project => to_value(&project_ctx),
            stackParameters => to_value(&rendered.parameters),
            stackTags => to_value(&tag_list),
            stackTagsStr => tags_str,
            stackVariables => vars,
            ..to_value(&self.options.globals)
        }
    }

    /// The (template name, line, column) that produced byte `offset` of a marked render.
    fn source_location(
        &self,
        _stack: &Stack,
        map: &source::SourceMap,
        session: &Session,
        offset: usize,
    ) -> Option<(String, usize, Option<usize>)> {
        let pos = map.source_at(offset)?;
        let name = session.file_name(pos.file_id)?;
        let src = self.project.files().text(&session.file_of(&name))?;
        let line_text = src
            .lines()
            .nth(pos.line.saturating_sub(1))
            .unwrap_or_default();
        let col = pos
            .offset_in_line
            .map(|o| o + 1)
            .filter(|col| *col <= line_text.chars().count() + 1);
        Some((name, pos.line, col))
    }

    /// A diagnostic at `name:line:col` with the source line and the include chain from `root`.
    fn with_source(
        &self,
        d: Diagnostic,
        name: String,
        line: usize,
        col: Option<usize>,
        root: &str,
        session: &Session,
    ) -> Diagnostic {
        let file = session.file_of(&name);
        let text = self.project.files().text(&file);
        let mut d = d.at(
            Location::at(self.project.shown(&file), line, col),
            text.as_deref(),
        );
        d.include_chain
            .extend(self.include_chain(root, &name, session));
        d
    }

    fn include_chain(&self, root: &str, target: &str, session: &Session) -> Vec<Location> {
        let load = |n: &str| self.project.files().text(&session.file_of(n));
        source::include_chain(root, target, &load, &env::join)
            .into_iter()
            .map(|(name, line, col)| {
                Location::at(self.project.shown(&session.file_of(&name)), line, Some(col))
            })
            .collect()
    }

    /// Turns a minijinja error from rendering `stack`'s template into diagnostics.
    fn template_error(
        &self,
        stack: &Stack,
        err: &minijinja::Error,
        session: &Session,
    ) -> Vec<Diagnostic> {
        // Errors raised inside a function (a policy that failed to render or validate) wrap
        // the inner error; the outermost error holds the call site.
        let call_site = self.error_location(err);
        let policy_problems = session.take_policy_problems();
        if !policy_problems.is_empty() {
            return policy_problems
                .into_iter()
                .map(|mut d| {
                    if let Some((name, line, col)) = &call_site {
                        d.include_chain.push(Location::at(
                            self.project.shown(&session.file_of(name)),
                            *line,
                            *col,
                        ));
                        d.include_chain
                            .extend(self.include_chain(&stack.template, name, session));
                    }
                    d.with_stack(&stack.name)
                })
                .collect();
        }
        let mut chain: Vec<&minijinja::Error> = vec![err];
        let mut cur: &dyn std::error::Error = err;
        while let Some(next) = cur.source() {
            if let Some(e) = next.downcast_ref::<minijinja::Error>() {
                chain.push(e);
            }
            cur = next;
        }
        let inner = chain
            .iter()
            .rev()
            .find(|e| e.name().is_some())
            .copied()
            .unwrap_or(err);
        let mut d = match session.take_outside() {
            Some(o) => Diagnostic::error("outside-project", o.to_string())
                .with_note(crate::project::OUTSIDE_HELP),
            None => Diagnostic::error(code_of(inner), message_of(inner)),
        }
        .with_stack(&stack.name);
        match self.error_location(inner) {
            Some((name, line, col)) => {
                d = self.with_source(d, name.clone(), line, col, &stack.template, session);
                // Call sites of the functions the error passed through (innermost first).
                for outer in chain
                    .iter()
                    .rev()
                    .skip_while(|e| !std::ptr::eq(**e, inner))
                    .skip(1)
                {
                    if let Some((n, l, c)) = self.error_location(outer) {
                        if n != name {
                            d.include_chain.insert(
                                0,
                                Location::at(self.project.shown(&session.file_of(&n)), l, c),
                            );
                        }
                    }
                }
            }
            None => {
                d = d.in_file(
                    &self
                        .project
                        .shown(&self.project.template_file(&stack.template)),
                );
            }
        }
        vec![d]
    }

    /// (template name, line, column) of a minijinja error.
    fn error_location(&self, err: &minijinja::Error) -> Option<(String, usize, Option<usize>)> {
        let name = err.name()?.to_owned();
        let line = err.line()?;
        let col = match (err.range(), err.template_source()) {
            (Some(r), Some(src)) => Some(line_col(src, r.start).1),
            _ => None,
        };
        Some((name, line, col))
    }

    /// An error in a parameter or tag value of a stack config.
    fn config_value_error(
        &self,
        stack: &Stack,
        kind: &str,
        key: &str,
        err: &minijinja::Error,
        session: &Session,
    ) -> Vec<Diagnostic> {
        let policy_problems = session.take_policy_problems();
        if !policy_problems.is_empty() {
            let loc = stack.key_location(self.project, &[kind, key]);
            return policy_problems
                .into_iter()
                .map(|mut d| {
                    d.include_chain.push(loc.clone());
                    d.with_stack(&stack.name)
                })
                .collect();
        }
        let d = match session.take_outside() {
            Some(o) => Diagnostic::error("outside-project", format!("`{kind}.{key}`: {o}"))
                .with_note(crate::project::OUTSIDE_HELP),
            None => Diagnostic::error(code_of(err), format!("`{kind}.{key}`: {}", message_of(err))),
        };
        vec![stack.diagnostic_at(self.project, &[kind, key], d)]
    }

    /// The rendered text is not valid JSON or YAML: point at the source line that produced the
    /// bad text, through a render with line markers.
    fn output_error(
        &self,
        stack: &Stack,
        text: &str,
        syntax: Syntax,
        e: &crate::template::parse::ParseError,
        ctx: Value,
    ) -> Diagnostic {
        let what = match syntax {
            Syntax::Json => "JSON",
            Syntax::Yaml => "YAML",
        };
        let rendered_line = text
            .lines()
            .nth(e.line.saturating_sub(1))
            .unwrap_or_default();
        let d = Diagnostic::error(
            "invalid-output",
            format!("the rendered template is not valid {what}: {}", e.message),
        )
        .with_stack(&stack.name)
        .with_note(format!(
            "rendered line {}: {}",
            e.line,
            rendered_line.trim()
        ));
        let session = self.session(stack, true);
        let environment = env::environment(session.clone());
        if let Ok(marked) = environment
            .get_template(&stack.template)
            .and_then(|t| env::render_capped(&t, ctx))
        {
            let map = source::SourceMap::new(&marked);
            if let Err(me) = crate::template::parse::parse(&map.text, syntax) {
                let offset = offset_of(&map.text, me.line, me.column);
                if let Some((name, line, col)) = self.source_location(stack, &map, &session, offset)
                {
                    return self.with_source(d, name, line, col, &stack.template, &session);
                }
            }
        }
        d.in_file(
            &self
                .project
                .shown(&self.project.template_file(&stack.template)),
        )
    }
}

/// Runs `f`, catching a panic: minijinja is a parser of untrusted text, and a panic of its
/// own (an `unreachable!()` reached) must not end the process, nor `little serve`'s later
/// runs. The panic message is the error.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned())
    })
}

fn code_of(err: &minijinja::Error) -> &'static str {
    use minijinja::ErrorKind as K;
    if env::is_output_too_large(err) {
        return "template-size";
    }
    match err.kind() {
        K::OutOfFuel => "template-limit",
        K::UndefinedError => "undefined-variable",
        K::SyntaxError => "template-syntax",
        K::TemplateNotFound => "bad-include",
        K::UnknownFilter | K::UnknownFunction | K::UnknownTest | K::UnknownMethod => "unknown-name",
        _ => "template-error",
    }
}

fn message_of(err: &minijinja::Error) -> String {
    use minijinja::ErrorKind as K;
    let detail = err.detail().unwrap_or_default();
    if env::is_output_too_large(err) {
        return format!(
            "the rendered text is over {} MiB, more than CloudFormation takes: a loop runs too often, or a value is too large",
            env::MAX_OUTPUT >> 20
        );
    }
    match err.kind() {
        K::OutOfFuel => format!(
            "the template does more work than little allows ({} steps, or about {} MB of text built): a loop that runs too often, or text that keeps growing, stops here",
            env::FUEL,
            env::FUEL * 64 / 1_000_000
        ),
        K::UndefinedError if !detail.is_empty() => format!("undefined value: {detail}"),
        K::TemplateNotFound => {
            let name = detail
                .strip_prefix("template ")
                .and_then(|d| d.strip_suffix(" does not exist"))
                .or_else(|| detail.strip_prefix("tried to include non-existing template "))
                .map(|n| n.trim_matches(['"', '\'']));
            match name {
                Some(n) if n.starts_with(POLICY_PREFIX) => {
                    format!("policy `{}` not found", &n[POLICY_PREFIX.len()..])
                }
                Some(n) => format!("template `{n}` not found under templates/"),
                None => detail.to_owned(),
            }
        }
        _ if detail.is_empty() => err.kind().to_string(),
        _ => format!("{}: {detail}", err.kind()),
    }
}

/// Byte offset of a 1-based line and character column.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let within: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + within;
        }
        offset += l.len();
    }
    text.len().saturating_sub(1)
}

/// Counts of errors and warnings.
pub fn count(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diags.len() - errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project of `files` (little.yaml given), loaded.
    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("little.yaml"),
            "defaults: {region: us-east-1}\n",
        )
        .unwrap();
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let project = Project::load(dir.path()).unwrap();
        (dir, project)
    }

    fn errors_of(files: &[(&str, &str)]) -> Vec<Diagnostic> {
        let (_dir, project) = project(files);
        let stack = project.stack("s").unwrap();
        let (rendered, diags) = Renderer::new(&project, RenderOptions::default()).check(stack);
        assert!(rendered.is_none(), "{diags:?}");
        diags
    }

    #[test]
    fn invalid_output_is_located_when_the_template_calls_a_templated_policy() {
        // Found by `scripts/fuzz template`: templated policies were rendered with line
        // markers too, which made them invalid JSON, so the marked render failed and the
        // error had no line.
        let diags = errors_of(&[
            ("stacks/s.yaml", "name: s\ntemplate: t.json.njk\n"),
            (
                "templates/t.json.njk",
                "{\n  \"P\": {{ policy('p', days=3) | dump }},\n  \"Description\"} \"x\"\n}\n",
            ),
            (
                "policies/p.json.njk",
                "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": \"sinceImagePushed\", \"countUnit\": \"days\", \"countNumber\": {{ days }}}, \"action\": {\"type\": \"expire\"}}]}\n",
            ),
        ]);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "invalid-output");
        let at = diags[0].location.as_ref().unwrap();
        assert_eq!((at.line, at.column), (Some(3), Some(16)), "{}", diags[0]);
        assert!(at.file.ends_with("templates/t.json.njk"), "{}", diags[0]);
    }

    #[test]
    fn an_import_as_no_name_is_a_syntax_error_not_a_panic() {
        // Found by `scripts/fuzz template`: minijinja 3.1 panics (`unreachable!()`) compiling
        // `import ... as` followed by anything but a name.
        let diags = errors_of(&[
            ("stacks/s.yaml", "name: s\ntemplate: t.json.njk\n"),
            ("templates/lib/m.njk", "{% macro x() %}1{% endmacro %}"),
            ("templates/t.json.njk", "{\n{% include 'inc.njk' %}\n}\n"),
            (
                "templates/inc.njk",
                "\n{% import 'lib/m.njk' as m | dump(2) %}{% from 'lib/m.njk' import x %}",
            ),
        ]);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "template-syntax");
        assert!(
            diags[0].message.contains("`m | dump(2)` is not one"),
            "{}",
            diags[0]
        );
        let at = diags[0].location.as_ref().unwrap();
        assert!(at.file.ends_with("templates/inc.njk"), "{}", diags[0]);
        assert_eq!((at.line, at.column), (Some(2), Some(26)), "{}", diags[0]);
        assert_eq!(diags[0].include_chain.len(), 1, "{}", diags[0]);
        assert_eq!(diags[0].include_chain[0].line, Some(2), "{}", diags[0]);
    }

    #[test]
    fn a_panic_of_the_engine_is_a_diagnostic() {
        assert_eq!(guarded(|| 1), Ok(1));
        let caught = guarded(|| -> u8 { panic!("entered unreachable code") });
        assert_eq!(caught, Err("entered unreachable code".to_owned()));
    }

    #[test]
    fn output_over_the_cap_is_an_error_not_a_slow_render() {
        // Found by `scripts/fuzz template` (a timeout): a 43 MB value was rendered, parsed,
        // linted and mapped to its lines, for many seconds.
        let started = std::time::Instant::now();
        let diags = errors_of(&[
            ("stacks/s.yaml", "name: s\ntemplate: t.json.njk\n"),
            (
                "templates/t.json.njk",
                "{\"Description\": \"caf\u{e9} {{ '\u{e9}' * 21474256 }}\", \"M\": 1}\n",
            ),
        ]);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "template-size", "{}", diags[0]);
        assert!(diags[0].message.contains("over 8 MiB"), "{}", diags[0]);
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }

    #[test]
    fn a_template_that_does_not_end_stops_at_its_line() {
        for body in [
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        ] {
            let diags = errors_of(&[
                ("stacks/s.yaml", "name: s\ntemplate: t.json.njk\n"),
                ("templates/t.json.njk", &format!("{{}}\n{body}")),
            ]);
            assert_eq!(diags.len(), 1, "{diags:?}");
            assert_eq!(diags[0].code, "template-limit", "{}", diags[0]);
            let at = diags[0].location.as_ref().unwrap();
            assert_eq!(at.line, Some(2), "{}", diags[0]);
        }
    }

    #[test]
    fn a_raw_block_holding_percent_brace_is_an_error_at_line_1() {
        let diags = errors_of(&[
            ("stacks/s.yaml", "name: s\ntemplate: t.json.njk\n"),
            ("templates/t.json.njk", "{% raw %}{%}{% endraw %}"),
        ]);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "invalid-output");
        let at = diags[0].location.as_ref().unwrap();
        assert_eq!((at.line, at.column), (Some(1), None), "{}", diags[0]);
    }
}
