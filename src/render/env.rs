//! The minijinja environment with the nunjucks behaviour CloudFormation templates rely on:
//! templates loaded from `templates/` (and `policies/` for `policy()`), no auto-escaping,
//! undefined values as errors, `true`/`false` printed as JSON does, the `dump` filter, and the
//! functions `policy()`, `stack_output()` and `account_id()`.
//!
//! A [`Session`] is the per-render state the functions share (policy problems found, known stack
//! outputs, the account id); one environment is built per render.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error as TplError, ErrorKind, State, UndefinedBehavior};

use super::source;
use crate::diag::{Diagnostic, Location};
use crate::policy;
use crate::project::files::{Outside, ProjectFiles, ReadError};

/// The most work one render may do, in minijinja's fuel: one unit per instruction, and one per
/// 64 bytes of text built. The repository's largest stack takes about 13,000 and a stack of 500
/// repositories (CloudFormation's resource limit) about 2,000,000; a loop that does not end, or
/// text that doubles in a loop, stops here (after a second or so) with an error at its line,
/// instead of hanging `validate` or `little serve`, or exhausting memory.
pub const FUEL: u64 = 10_000_000;

/// The most text one render may write: CloudFormation takes templates of at most 1 MiB, and
/// the text is parsed, linted and mapped to its source lines after the render.
pub const MAX_OUTPUT: usize = 8 << 20;

/// The error of a render that wrote more than [`MAX_OUTPUT`].
#[derive(Debug)]
pub struct OutputTooLarge;

impl std::fmt::Display for OutputTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the output is over {} MiB", MAX_OUTPUT >> 20)
    }
}

impl std::error::Error for OutputTooLarge {}

/// Whether a render failed for writing more than [`MAX_OUTPUT`].
pub fn is_output_too_large(err: &TplError) -> bool {
    use std::error::Error as _;
    let mut cur = err.source();
    while let Some(e) = cur {
        if e.is::<OutputTooLarge>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<OutputTooLarge>())
            {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

/// A writer that refuses to hold more than [`MAX_OUTPUT`] bytes.
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len().saturating_add(buf.len()) > MAX_OUTPUT {
            return Err(std::io::Error::other(OutputTooLarge));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders a template, stopping once the output is over [`MAX_OUTPUT`].
pub fn render_capped(
    template: &minijinja::Template<'_, '_>,
    ctx: Value,
) -> Result<String, TplError> {
    render_counted(template, ctx).map(|(text, _)| text)
}

/// [`render_capped`], and the fuel the render took.
fn render_counted(
    template: &minijinja::Template<'_, '_>,
    ctx: Value,
) -> Result<(String, u64), TplError> {
    let mut out = Capped(Vec::new());
    let captured = template.render_captured_to(ctx, &mut out)?;
    let fuel = captured
        .state()
        .fuel_levels()
        .map_or(0, |(consumed, _)| consumed);
    // minijinja writes whole `str`s: the bytes are UTF-8.
    let text = String::from_utf8(out.0)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok((text, fuel))
}

/// Template names with this prefix load from `policies/` instead of `templates/`.
pub const POLICY_PREFIX: &str = "@policies/";
/// Template names with this prefix are a stack config's parameter or tag values.
pub const CONFIG_PREFIX: &str = "@config/";

/// Resolves the caller's AWS account id when a template calls `account_id()` and the stack names
/// no account. Called at most once per render.
pub type AccountResolver = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

/// What `stack_output()` returns for stacks whose outputs are not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingOutputs {
    /// A clearly marked placeholder (render, validate, plan of a stack whose dependency is new).
    #[default]
    Placeholder,
    /// An error (apply, where every dependency must be deployed first).
    Error,
}

/// Stack outputs known at render time: stack name, then output key.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub known: BTreeMap<String, BTreeMap<String, String>>,
    pub missing: MissingOutputs,
}

/// The placeholder `stack_output()` renders for an output that becomes known at apply.
pub fn output_placeholder(stack: &str, key: &str) -> String {
    format!("{OUTPUT_PLACEHOLDER_PREFIX}{stack}.{key})")
}

/// How every [`output_placeholder`] starts.
pub const OUTPUT_PLACEHOLDER_PREFIX: &str = "(known after apply: ";

/// Per-render state shared by the environment's loader and functions.
pub struct Session {
    /// The project's files: templates and policies are read only inside the project.
    pub project_files: ProjectFiles,
    /// The templates folder, relative to the project root (`templates`).
    pub templates: PathBuf,
    pub outputs: Outputs,
    pub account_id: Mutex<Option<String>>,
    pub resolve_account: Option<AccountResolver>,
    /// Problems found in policy documents and loaded templates during this render, with their
    /// own locations.
    pub policy_problems: Mutex<Vec<Diagnostic>>,
    /// The last template or policy refused for leading outside the project (its path as
    /// shown), so that the error names it as such.
    pub outside: Mutex<Option<Outside>>,
    /// Whether the loader inserts line markers (see `source::instrument`).
    pub instrument: bool,
    /// Template names by file id, for instrumented renders.
    pub files: Mutex<Vec<String>>,
    /// How paths appear in messages.
    pub shown: Box<dyn Fn(&Path) -> PathBuf + Send + Sync>,
    /// Valid policy documents by (policy, text), shared by the renders of one project: many
    /// stacks render the same policies, and parsing and checking them is not free.
    pub policy_cache: PolicyCache,
    /// Template sources as read and rewritten (before instrumentation), shared like the
    /// policy cache: every stack of a library reads the same files.
    pub source_cache: SourceCache,
    /// Policies rendered in this render pass, by file and arguments: within one pass the
    /// context is the same, so the same call gives the same document (a stack of 20
    /// repositories asks for the same lifecycle policies 20 times). Cleared when the context
    /// changes ([`Session::new_pass`]).
    pub policy_renders: Mutex<std::collections::HashMap<String, Value>>,
}

/// See [`Session::source_cache`]: `None` for a file that does not exist.
pub type SourceCache = Arc<Mutex<std::collections::HashMap<PathBuf, Option<String>>>>;

/// See [`Session::policy_cache`].
pub type PolicyCache = Arc<Mutex<std::collections::HashMap<(String, String), Value>>>;

impl Session {
    /// The project-relative file of a template name.
    pub fn file_of(&self, name: &str) -> PathBuf {
        match name.strip_prefix(POLICY_PREFIX) {
            Some(p) => Path::new("policies").join(p),
            None => self.templates.join(name),
        }
    }

    fn load(&self, name: &str) -> Result<Option<String>, TplError> {
        if !is_safe_name(name.strip_prefix(POLICY_PREFIX).unwrap_or(name)) {
            return Ok(None);
        }
        let rel = self.file_of(name);
        let path = self.project_files.root().join(&rel);
        let cached = self
            .source_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&path)
            .cloned();
        if let Some(cached) = cached {
            return match cached {
                Some(text) => self
                    .checked(&rel, &text)
                    .map(|_| Some(self.prepare(name, &text))),
                None => Ok(None),
            };
        }
        let text = match self.project_files.read_to_string(&rel) {
            Ok(Some(t)) => t,
            Ok(None) => {
                self.source_cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(path, None);
                return Ok(None);
            }
            Err(ReadError::Outside(o)) => return Err(self.outside(&o)),
            Err(ReadError::Io(e)) => {
                return Err(TplError::new(
                    ErrorKind::InvalidOperation,
                    format!("cannot read `{}`: {e}", (self.shown)(&rel).display()),
                ))
            }
        };
        let text = source::rewrite_length(&text);
        self.source_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path, Some(text.clone()));
        self.checked(&rel, &text)?;
        Ok(Some(self.prepare(name, &text)))
    }

    /// Refuses a template that minijinja cannot compile without panicking (see
    /// [`source::bad_import_names`]): each problem is recorded at its line, and the load fails.
    /// A placeholder left by `little init` is refused the same way, each at its place.
    fn checked(&self, rel: &Path, text: &str) -> Result<(), TplError> {
        let shown = (self.shown)(rel);
        let left = crate::project::placeholders::diagnostics(&shown, text);
        if let Some(first) = left.first() {
            let message = first.message.clone();
            self.policy_problems
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(left);
            return Err(TplError::new(ErrorKind::InvalidOperation, message));
        }
        let bad = source::bad_import_names(text);
        if bad.is_empty() {
            return Ok(());
        }
        let message = |name: &str| {
            format!("`import` needs a name to import as, such as `as m`; `{name}` is not one")
        };
        let first = message(&bad[0].2);
        self.policy_problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(bad.iter().map(|(line, col, name)| {
                Diagnostic::error("template-syntax", message(name))
                    .at(Location::at(&shown, *line, Some(*col)), Some(text))
            }));
        Err(TplError::new(ErrorKind::SyntaxError, first))
    }

    /// A template or policy that leads outside the project, as a template error (minijinja
    /// puts it at the `include`, `import` or `policy()` that asked for it).
    fn outside(&self, o: &Outside) -> TplError {
        let shown = Outside {
            path: (self.shown)(&o.path),
            ..o.clone()
        };
        let message = shown.to_string();
        *self.outside.lock().unwrap_or_else(|e| e.into_inner()) = Some(shown);
        TplError::new(ErrorKind::InvalidOperation, message)
    }

    /// A rewritten source as this session loads it: instrumented with its file id when the
    /// session instruments. Templated policies never are: their output is parsed as JSON
    /// (markers would make every one invalid, and the marked render fail), and becomes a
    /// value, so no marker of theirs would reach the template's output anyway.
    fn prepare(&self, name: &str, text: &str) -> String {
        if !self.instrument || name.starts_with(POLICY_PREFIX) {
            return text.to_owned();
        }
        let id = {
            let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            files.push(name.to_owned());
            files.len() - 1
        };
        source::instrument(text, id)
    }

    /// A new render pass (a new context): forgets the policies of the last one.
    pub fn new_pass(&self) {
        self.policy_renders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn file_name(&self, id: usize) -> Option<String> {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    pub fn take_outside(&self) -> Option<Outside> {
        self.outside
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    pub fn take_policy_problems(&self) -> Vec<Diagnostic> {
        std::mem::take(
            &mut *self
                .policy_problems
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    fn stack_output(&self, stack: &str, key: &str) -> Result<String, TplError> {
        match self.outputs.known.get(stack) {
            Some(outputs) => outputs.get(key).cloned().ok_or_else(|| {
                let keys: Vec<&str> = outputs.keys().map(String::as_str).collect();
                TplError::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "stack `{stack}` has no output `{key}`; its outputs are: {}",
                        if keys.is_empty() {
                            "none".to_owned()
                        } else {
                            keys.join(", ")
                        }
                    ),
                )
            }),
            None => match self.outputs.missing {
                MissingOutputs::Placeholder => Ok(output_placeholder(stack, key)),
                MissingOutputs::Error => Err(TplError::new(
                    ErrorKind::InvalidOperation,
                    format!("stack `{stack}` is not deployed, so its output `{key}` is not known"),
                )),
            },
        }
    }

    fn account_id(&self) -> Result<String, TplError> {
        let mut cached = self.account_id.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = cached.as_ref() {
            return Ok(id.clone());
        }
        let Some(resolve) = &self.resolve_account else {
            return Err(TplError::new(
                ErrorKind::InvalidOperation,
                "`account_id()` needs an account: set `account` on the stack or `defaults.account` in little.yaml",
            ));
        };
        let id = resolve().map_err(|e| {
            TplError::new(
                ErrorKind::InvalidOperation,
                format!("`account_id()`: cannot ask AWS who the caller is: {e}"),
            )
        })?;
        *cached = Some(id.clone());
        Ok(id)
    }
}

/// Template names are relative paths that stay inside their folder.
fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && name.split('/').all(|part| part != ".." && !part.is_empty())
}

/// Joins `./x` and `../x` to the including template's folder; other names are from the root.
fn join_path(name: &str, parent: &str) -> String {
    if !(name.starts_with("./") || name.starts_with("../")) {
        return name.to_owned();
    }
    let (prefix, parent) = match parent.strip_prefix(POLICY_PREFIX) {
        Some(p) => (POLICY_PREFIX, p),
        None => ("", parent),
    };
    let mut parts: Vec<&str> = parent.split('/').collect();
    parts.pop();
    for piece in name.split('/') {
        match piece {
            "." | "" => {}
            ".." => {
                // Leaving the root: keep the `..` so that the loader refuses the name.
                if parts.pop().is_none() {
                    return format!("{prefix}../{name}");
                }
            }
            p => parts.push(p),
        }
    }
    format!("{prefix}{}", parts.join("/"))
}

pub fn join(name: &str, parent: &str) -> String {
    join_path(name, parent)
}

/// Builds the environment for one render.
pub fn environment(session: Arc<Session>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_debug(true);
    env.set_recursion_limit(200);
    env.set_fuel(Some(FUEL));
    env.set_path_join_callback(|name, parent| join_path(name, parent).into());
    let s = session.clone();
    env.set_loader(move |name| s.load(name));
    env.set_formatter(|out, _state, value| {
        match value.kind() {
            ValueKind::Bool => write!(out, "{}", value.is_true()),
            ValueKind::None => Ok(()),
            ValueKind::Number => write!(out, "{}", number_text(value)),
            _ => write!(out, "{value}"),
        }
        .map_err(TplError::from)
    });
    env.add_filter("dump", dump);
    let s = session.clone();
    env.add_function("stack_output", move |stack: String, key: String| {
        s.stack_output(&stack, &key)
    });
    let s = session.clone();
    env.add_function("account_id", move || s.account_id());
    let s = session;
    env.add_function(
        "policy",
        move |state: &State, name: String, kwargs: Kwargs| load_policy(&s, state, &name, kwargs),
    );
    env
}

/// Any serialisable value as a template value.
pub fn to_value<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

/// A number as JavaScript prints it: an integer-valued float without `.0` (`10/5` is `2`).
fn number_text(value: &Value) -> String {
    let text = value.to_string();
    match text.strip_suffix(".0") {
        Some(int)
            if int
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit()) =>
        {
            int.to_owned()
        }
        _ => text,
    }
}

/// nunjucks' `dump`: `JSON.stringify(value)`, or with an indent, `JSON.stringify(value, null, n)`.
fn dump(value: &Value, indent: Option<Value>) -> Result<String, TplError> {
    if value.is_undefined() {
        return Err(TplError::new(
            ErrorKind::UndefinedError,
            "`dump` of an undefined value",
        ));
    }
    let too_large = || {
        TplError::new(
            ErrorKind::InvalidOperation,
            format!("`dump` would write over {} MiB", MAX_OUTPUT >> 20),
        )
    };
    // Each `| dump` of a string escapes its quotes again: chained, the text doubles.
    if value.as_str().is_some_and(|s| s.len() > MAX_OUTPUT) {
        return Err(too_large());
    }
    let json = to_json(value)?;
    let indent = match indent {
        None => None,
        Some(v) if v.is_none() || v.is_undefined() => None,
        Some(v) => match v.as_i64() {
            Some(n) if (0..=10).contains(&n) => Some(" ".repeat(n as usize)),
            _ => match v.as_str() {
                Some(s) => Some(s.to_owned()),
                None => {
                    return Err(TplError::new(
                        ErrorKind::InvalidOperation,
                        "`dump` takes an indent from 0 to 10 or a string",
                    ))
                }
            },
        },
    };
    let mut out = Capped(Vec::new());
    let written = match indent {
        None => serde_json::to_writer(&mut out, &json),
        Some(ind) if ind.is_empty() => serde_json::to_writer(&mut out, &json),
        Some(ind) => {
            let fmt = serde_json::ser::PrettyFormatter::with_indent(ind.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            serde::Serialize::serialize(&json, &mut ser)
        }
    };
    match written {
        Ok(()) => Ok(String::from_utf8_lossy(&out.0).into_owned()),
        // The only I/O error of the capped writer.
        Err(e) if e.is_io() => Err(too_large()),
        Err(e) => Err(TplError::new(
            ErrorKind::InvalidOperation,
            format!("`dump` failed: {e}"),
        )),
    }
}

/// A template value as JSON, integer-valued floats as integers (as JavaScript has them).
pub fn to_json(value: &Value) -> Result<serde_json::Value, TplError> {
    let json = serde_json::to_value(value).map_err(|e| {
        TplError::new(
            ErrorKind::InvalidOperation,
            format!("value cannot be written as JSON: {e}"),
        )
    })?;
    Ok(normalize_numbers(json))
}

fn normalize_numbers(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => J::from(f as i64),
            _ => J::Number(n),
        },
        J::Array(a) => J::Array(a.into_iter().map(normalize_numbers).collect()),
        J::Object(o) => J::Object(
            o.into_iter()
                .map(|(k, v)| (k, normalize_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `policy(name, **kwargs)`: loads `policies/<name>.json` (or `.json.njk`, rendered with the
/// caller's context and the keyword arguments), validates it, and returns it as a value.
fn load_policy(
    session: &Session,
    state: &State,
    name: &str,
    kwargs: Kwargs,
) -> Result<Value, TplError> {
    let base = name.trim_end_matches(".njk").trim_end_matches(".json");
    if !is_safe_name(base) {
        return Err(TplError::new(
            ErrorKind::InvalidOperation,
            format!("`{name}` is not a policy name: use a path under policies/ without `..`, such as `lifecycle/dev-images`"),
        ));
    }
    let policies = Path::new("policies");
    let is_file = |file: String| {
        session
            .project_files
            .is_file(&policies.join(file))
            .map_err(|o| session.outside(&o))
    };
    let (file, templated) = if is_file(format!("{base}.json"))? {
        (format!("{base}.json"), false)
    } else if is_file(format!("{base}.json.njk"))? {
        (format!("{base}.json.njk"), true)
    } else {
        return Err(TplError::new(
            ErrorKind::InvalidOperation,
            format!(
                "policy `{base}` not found: expected `{}` or `.json.njk`",
                (session.shown)(&Path::new("policies").join(format!("{base}.json"))).display()
            ),
        ));
    };
    let rel = Path::new("policies").join(&file);
    let shown = (session.shown)(&rel);
    // The same policy with the same arguments in this pass: the same document.
    let mut call = file.clone();
    for key in kwargs.args() {
        let v: Value = kwargs.get(key)?;
        call.push('\u{0}');
        call.push_str(key);
        call.push('=');
        call.push_str(&serde_json::to_string(&v).unwrap_or_else(|_| v.to_string()));
    }
    if let Some(v) = session
        .policy_renders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&call)
    {
        return Ok(v.clone());
    }
    let text = if templated {
        let mut ctx: BTreeMap<String, Value> = BTreeMap::new();
        for key in CONTEXT_NAMES {
            if let Some(v) = state.lookup(key) {
                ctx.insert((*key).to_owned(), v);
            }
        }
        for key in kwargs.args() {
            ctx.insert(key.to_owned(), kwargs.get::<Value>(key)?);
        }
        let tpl = state
            .env()
            .get_template(&format!("{POLICY_PREFIX}{file}"))?;
        let (text, fuel) = render_counted(&tpl, Value::from(ctx)).map_err(|e| {
            TplError::new(
                ErrorKind::InvalidOperation,
                format!("policy `{base}` failed to render"),
            )
            .with_source(e)
        })?;
        // The policy's work counts against the calling template's fuel: a loop of calls
        // with different arguments cannot take [`FUEL`] for every call.
        state.consume_fuel(fuel)?;
        text
    } else {
        if kwargs.args().next().is_some() {
            return Err(TplError::new(
                ErrorKind::InvalidOperation,
                format!("policy `{base}` is plain JSON and takes no arguments; rename it to `{base}.json.njk` to use them"),
            ));
        }
        match session.project_files.read_to_string(&rel) {
            Ok(Some(text)) => text,
            Ok(None) => {
                return Err(TplError::new(
                    ErrorKind::InvalidOperation,
                    format!("cannot read `{}`: it is gone", shown.display()),
                ))
            }
            Err(ReadError::Outside(o)) => return Err(session.outside(&o)),
            Err(ReadError::Io(e)) => {
                return Err(TplError::new(
                    ErrorKind::InvalidOperation,
                    format!("cannot read `{}`: {e}", shown.display()),
                ))
            }
        }
    };
    let key = (base.to_owned(), text);
    if let Some(v) = session
        .policy_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        session
            .policy_renders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(call, v.clone());
        return Ok(v.clone());
    }
    let text = key.1.clone();
    let fail = |problems: Vec<Diagnostic>| {
        session
            .policy_problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(problems);
        TplError::new(
            ErrorKind::InvalidOperation,
            format!("policy `{base}` is invalid"),
        )
    };
    // Positions in a rendered policy are positions in its output; say so.
    let note = templated.then(|| "the line is in the rendered policy".to_owned());
    let at = |line: usize, col: usize, d: Diagnostic| {
        let d = d.at(Location::at(&shown, line, Some(col)), Some(&text));
        match &note {
            Some(n) => d.with_note(n.clone()),
            None => d,
        }
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            return Err(fail(vec![at(
                e.line().max(1),
                e.column().max(1),
                Diagnostic::error(
                    "policy-syntax",
                    format!(
                        "policy `{base}` is not valid JSON: {}",
                        crate::diag::strip_position(&e.to_string())
                    ),
                ),
            )]))
        }
    };
    let kind = policy::kind_for(base, &doc);
    let problems = policy::validate(kind, &doc);
    if !problems.is_empty() {
        let diags = problems
            .into_iter()
            .map(|p| {
                let (line, col) =
                    crate::locate::json_pointer_position(&text, &p.pointer).unwrap_or((1, 1));
                at(
                    line,
                    col,
                    Diagnostic::error("invalid-policy", format!("policy `{base}`: {}", p.message)),
                )
            })
            .collect();
        return Err(fail(diags));
    }
    let value = to_value(&doc);
    session
        .policy_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, value.clone());
    session
        .policy_renders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(call, value.clone());
    Ok(value)
}

/// The names of the render context, passed on to templated policies.
pub const CONTEXT_NAMES: &[&str] = &[
    "stack",
    "vars",
    "accounts",
    "project",
    "stackParameters",
    "stackTags",
    "stackTagsStr",
    "stackVariables",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn session(root: &Path) -> Arc<Session> {
        Arc::new(Session {
            project_files: ProjectFiles::new(root),
            templates: PathBuf::from("templates"),
            outputs: Outputs::default(),
            account_id: Mutex::new(None),
            resolve_account: None,
            policy_problems: Mutex::new(Vec::new()),
            outside: Mutex::new(None),
            instrument: false,
            files: Mutex::new(Vec::new()),
            shown: Box::new(|p| p.to_path_buf()),
            policy_cache: PolicyCache::default(),
            source_cache: SourceCache::default(),
            policy_renders: Mutex::new(Default::default()),
        })
    }

    fn render(src: &str, ctx: serde_json::Value) -> Result<String, TplError> {
        let env = environment(session(Path::new("/nonexistent")));
        env.render_str(src, to_value(&ctx))
    }

    #[test]
    fn dump_is_compact_and_chainable() {
        let ctx = serde_json::json!({"doc": {"b": 1, "a": [true, null, "x"]}});
        assert_eq!(
            render("{{ doc | dump }}", ctx.clone()).unwrap(),
            r#"{"b":1,"a":[true,null,"x"]}"#
        );
        assert_eq!(
            render("{{ doc | dump | dump }}", ctx.clone()).unwrap(),
            r#""{\"b\":1,\"a\":[true,null,\"x\"]}""#
        );
        assert_eq!(
            render("{{ doc | dump(2) }}", ctx).unwrap(),
            "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    null,\n    \"x\"\n  ]\n}"
        );
    }

    #[test]
    fn dump_stops_before_its_text_outgrows_the_output() {
        // Found by `scripts/fuzz template` (a timeout): 32 chained `| dump` double the text
        // each time, to gigabytes.
        let ctx = serde_json::json!({"r": "us-east-1"});
        let chained = format!("{{{{ r{} }}}}", " | dump".repeat(32));
        let started = std::time::Instant::now();
        let err = render(&chained, ctx.clone()).unwrap_err();
        assert!(
            err.to_string().contains("`dump` would write over 8 MiB"),
            "{err}"
        );
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
        assert!(render(&format!("{{{{ r{} }}}}", " | dump".repeat(8)), ctx).is_ok());
    }

    #[test]
    fn policies_take_from_the_callers_fuel() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("policies")).unwrap();
        // About 300,000 steps a call: 40 calls with different arguments are over the fuel.
        std::fs::write(
            dir.path().join("policies/slow.json.njk"),
            "{% for i in range(100000) %}{% endfor %}{\"rules\": [{\"rulePriority\": {{ n }}, \"selection\": {\"tagStatus\": \"any\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, \"action\": {\"type\": \"expire\"}}]}",
        )
        .unwrap();
        let env = environment(session(dir.path()));
        let once = env.render_str("{{ policy('slow', n=1) | dump | length > 0 }}", ());
        assert_eq!(once.unwrap(), "true");
        let many = "{% for n in range(1, 41) %}{{ policy('slow', n=n) | length }}{% endfor %}";
        let err = env.render_str(many, ()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutOfFuel, "{err}");
    }

    #[test]
    fn prints_like_javascript() {
        let ctx = serde_json::json!({"t": true, "n": null});
        assert_eq!(
            render("{{ t }} {{ n }} {{ 10 / 5 }} {{ 1.5 }}", ctx).unwrap(),
            "true  2 1.5"
        );
    }

    #[test]
    fn undefined_is_an_error_but_truthiness_is_not() {
        let ctx = serde_json::json!({"vars": {}});
        assert!(render("{{ vars.nope }}", ctx.clone()).is_err());
        assert!(render("{% for x in vars.nope %}{% endfor %}", ctx.clone()).is_err());
        assert_eq!(
            render("{% if vars.nope %}a{% else %}b{% endif %}", ctx.clone()).unwrap(),
            "b"
        );
        assert_eq!(render("{{ vars.nope | default('d') }}", ctx).unwrap(), "d");
    }

    #[test]
    fn length_attribute_works_as_in_nunjucks() {
        let env = environment(session(Path::new("/nonexistent")));
        let src = source::rewrite_length("{{ xs.length }}{% if xs.length > 1 %}!{% endif %}");
        let ctx = to_value(serde_json::json!({"xs": [1, 2]}));
        assert_eq!(env.render_str(&src, ctx).unwrap(), "2!");
    }

    #[test]
    fn join_paths() {
        assert_eq!(join_path("./b.njk", "ecr/a.njk"), "ecr/b.njk");
        assert_eq!(join_path("../b.njk", "ecr/x/a.njk"), "ecr/b.njk");
        assert_eq!(join_path("lib/b.njk", "ecr/a.njk"), "lib/b.njk");
        assert_eq!(
            join_path("./x.json.njk", "@policies/a/b.json.njk"),
            "@policies/a/x.json.njk"
        );
        assert!(!is_safe_name(&join_path("../../x", "a.njk")));
    }

    #[test]
    fn stack_output_placeholder_and_known_values() {
        let mut s = Session {
            ..Arc::try_unwrap(session(Path::new("/x"))).ok().unwrap()
        };
        s.outputs.known.insert(
            "iam".into(),
            BTreeMap::from([("Arn".into(), "arn:x".into())]),
        );
        assert_eq!(s.stack_output("iam", "Arn").unwrap(), "arn:x");
        assert!(s
            .stack_output("iam", "Nope")
            .unwrap_err()
            .to_string()
            .contains("its outputs are: Arn"));
        assert_eq!(
            s.stack_output("other", "K").unwrap(),
            output_placeholder("other", "K")
        );
        s.outputs.missing = MissingOutputs::Error;
        assert!(s.stack_output("other", "K").is_err());
    }
}
