//! Checks across the rendered templates of a project, which no linter of one template can do:
//! the capabilities a template needs against those its stack config lists, one physical name
//! (a repository, a role, a bucket, a queue, ...) created twice in one account and region,
//! `stack_output()` of a key the producing stack's rendered template does not output, and
//! `Fn::ImportValue` of an export no project stack makes (or two stacks exporting one name).
//!
//! Each finding is a diagnostic at the place that causes it (a template line through the source
//! map of a marked render, or a stack config line), with the other place as a note. Marked
//! renders are made only for stacks that have a finding, so a clean project pays nothing for
//! locating.
//!
//! Not here: the lint of one template (`render::lint`), region names (checked at load,
//! `project::load`), and anything that asks AWS: every check reads the rendered templates only.

mod config;
mod values;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::env::{Session, OUTPUT_PLACEHOLDER_PREFIX};
use super::{offset_of, source, Rendered, Renderer};
use crate::diag::{Diagnostic, Location};
use crate::project::Stack;
use crate::template::parse::Syntax;
use crate::text::{child, closest};
use values::{Scope, Where};

/// One rendered stack that the checks read: its stack and the facts taken from its render.
#[derive(Clone, Copy)]
pub struct Subject<'a> {
    pub stack: &'a Stack,
    pub facts: &'a Facts,
}

/// A stack whose places are looked for, and the syntax of its template.
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    pub stack: &'a Stack,
    pub syntax: Syntax,
}

impl<'a> Subject<'a> {
    fn at(&self) -> At<'a> {
        At {
            stack: self.stack,
            syntax: self.facts.syntax,
        }
    }
}

/// What the checks need of one rendered template, taken while the render is at hand, so that
/// the renders of a large project are not all kept until every stack has rendered.
pub struct Facts {
    syntax: Syntax,
    /// The findings about the stack alone: capabilities, partitions.
    config: Vec<Diagnostic>,
    names: Vec<Named>,
    /// The keys of `Outputs`.
    outputs: Vec<String>,
    exports: Vec<Exported>,
    /// Where the stack's imports read exports, and each import: its name and pointer.
    here: Where,
    imports: Vec<(String, String)>,
    /// The `stack_output()` calls the render made.
    calls: Vec<(String, String)>,
}

/// A physical name a template makes.
struct Named {
    ty: &'static str,
    at: Where,
    /// The name as compared (IAM names ignore case).
    key: String,
    name: String,
    pointer: String,
    resource: String,
}

/// An export a template makes.
struct Exported {
    at: Where,
    name: String,
    pointer: String,
    output: String,
}

/// Takes the facts of a rendered stack, and checks its config against it.
pub fn facts(renderer: &Renderer, stack: &Stack, rendered: &Rendered) -> Facts {
    let project = renderer.project;
    let scope = Scope::of(project, stack, rendered);
    let places = Places::new(renderer);
    let at = At {
        stack,
        syntax: rendered.syntax,
    };
    let mut config = config::capabilities(&places, at, rendered);
    config.extend(config::partition(&places, at));
    let template = &rendered.template;
    let mut names = Vec::new();
    for (logical, r) in template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        // A resource with a condition may not be made at all.
        if r.get("Condition").is_some() {
            continue;
        }
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        let Some((ty, prop, reach, fold)) = NAMED.iter().find(|(t, ..)| *t == ty) else {
            continue;
        };
        let Some(value) = r.get("Properties").and_then(|p| p.get(*prop)) else {
            continue;
        };
        let Some(name) = values::resolve(value, &scope) else {
            continue;
        };
        names.push(Named {
            ty,
            at: scope.place(*reach, stack),
            key: if *fold {
                name.to_lowercase()
            } else {
                name.clone()
            },
            name,
            pointer: child(&child(&child("/Resources", logical), "Properties"), prop),
            resource: logical.clone(),
        });
    }
    let outputs = template.get("Outputs").and_then(Value::as_object);
    let mut exports = Vec::new();
    // StackSets export once per instance: left out.
    for (key, o) in outputs
        .into_iter()
        .flatten()
        .filter(|_| !stack.kind.is_set())
    {
        if o.get("Condition").is_some() {
            continue;
        }
        let Some(name) = o
            .get("Export")
            .and_then(|e| e.get("Name"))
            .and_then(|n| values::resolve(n, &scope))
        else {
            continue;
        };
        exports.push(Exported {
            at: scope.place(Reach::Regional, stack),
            name,
            pointer: child(&child(&child("/Outputs", key), "Export"), "Name"),
            output: key.clone(),
        });
    }
    let mut imports = Vec::new();
    // Most templates import nothing: skip the walk.
    if !stack.kind.is_set() && rendered.text.contains("ImportValue") {
        let mut found = Vec::new();
        values::imports(template, "", &mut found);
        for (pointer, value) in found {
            if let Some(name) = values::resolve(value, &scope) {
                imports.push((name, pointer));
            }
        }
    }
    Facts {
        syntax: rendered.syntax,
        config,
        names,
        outputs: outputs
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
        exports,
        here: scope.place(Reach::Regional, stack),
        imports,
        calls: output_calls(rendered),
    }
}

/// What the checks look at.
pub struct Input<'a> {
    /// The stacks being validated: every finding belongs to one of them.
    pub selected: Vec<Subject<'a>>,
    /// Stacks rendered only because a selected stack reads their outputs.
    pub producers: Vec<Subject<'a>>,
    /// Whether every stack of the project is selected: only then can an import be said to
    /// have no exporter in the project.
    pub whole_project: bool,
}

/// Runs every check; the diagnostics carry their stack.
pub fn check(renderer: &Renderer, input: &Input) -> Vec<Diagnostic> {
    let places = Places::new(renderer);
    let mut out = Vec::new();
    for s in &input.selected {
        out.extend(s.facts.config.iter().cloned());
    }
    out.extend(physical_names(&places, &input.selected));
    out.extend(stack_outputs(&places, input));
    out.extend(exports_and_imports(&places, input));
    out
}

// --- locating ------------------------------------------------------------------------------

type Marked = Option<(source::SourceMap, Arc<Session>)>;

/// Finds the source place of a pointer in a rendered template, rendering each stack once more
/// with line markers the first time one of its places is asked for.
struct Places<'r, 'p> {
    renderer: &'r Renderer<'p>,
    marked: std::sync::Mutex<HashMap<String, Arc<Marked>>>,
}

impl<'r, 'p> Places<'r, 'p> {
    fn new(renderer: &'r Renderer<'p>) -> Self {
        Places {
            renderer,
            marked: Default::default(),
        }
    }

    fn marked(&self, stack: &Stack) -> Arc<Marked> {
        let mut cache = self.marked.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(stack.name.clone())
            .or_insert_with(|| {
                Arc::new(
                    super::guarded(|| self.renderer.marked_render(stack))
                        .ok()
                        .flatten(),
                )
            })
            .clone()
    }

    /// (template name, line, column) and the session that names its files; the pointer's
    /// nearest ancestor that the text shows when the pointer itself is not there (a YAML short
    /// form is rendered in its long form).
    fn find(&self, s: At, pointer: &str) -> Option<(String, usize, Option<usize>, Arc<Session>)> {
        let marked = self.marked(s.stack);
        let (map, session) = marked.as_ref().as_ref()?;
        let mut p = pointer;
        loop {
            let pos = match s.syntax {
                Syntax::Json => crate::locate::json_pointer_position(&map.text, p),
                Syntax::Yaml => crate::locate::yaml_pointer_position(&map.text, p),
            };
            if let Some((line, col)) = pos {
                let offset = offset_of(&map.text, line, col);
                let (name, line, col) = self
                    .renderer
                    .source_location(s.stack, map, session, offset)?;
                return Some((name, line, col, session.clone()));
            }
            let cut = p.rfind('/')?;
            if cut == 0 {
                return None;
            }
            p = &p[..cut];
        }
    }

    fn template_file(&self, s: At) -> std::path::PathBuf {
        self.renderer
            .project
            .shown(&self.renderer.project.template_file(&s.stack.template))
    }

    /// A diagnostic at the template line that produced `pointer`.
    fn at_pointer(&self, s: At, pointer: &str, d: Diagnostic) -> Diagnostic {
        let d = d.with_stack(&s.stack.name);
        let note = format!(
            "at `{pointer}` in the rendered template of `{}`",
            s.stack.name
        );
        match self.find(s, pointer) {
            Some((name, line, col, session)) => self
                .renderer
                .with_source(d, name, line, col, &s.stack.template, &session)
                .with_note(note),
            None => d.in_file(&self.template_file(s)).with_note(note),
        }
    }

    /// Where `pointer` of a stack's rendered template comes from, as `file:line:column`.
    fn place(&self, s: At, pointer: &str) -> String {
        match self.find(s, pointer) {
            Some((name, line, col, session)) => Location::at(
                self.renderer.project.shown(&session.file_of(&name)),
                line,
                col,
            )
            .to_string(),
            None => self.template_file(s).display().to_string(),
        }
    }
}

// --- 3. physical names ---------------------------------------------------------------------

/// How far a name must be unique.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Reach {
    /// One account and region.
    Regional,
    /// One account, every region (IAM).
    Account,
    /// Every account (S3 buckets).
    Global,
}

/// Resource types whose name property makes a physical name, how far it must be unique, and
/// whether the name ignores case.
const NAMED: &[(&str, &str, Reach, bool)] = &[
    (
        "AWS::ECR::Repository",
        "RepositoryName",
        Reach::Regional,
        false,
    ),
    ("AWS::IAM::Role", "RoleName", Reach::Account, true),
    (
        "AWS::IAM::ManagedPolicy",
        "ManagedPolicyName",
        Reach::Account,
        true,
    ),
    ("AWS::IAM::User", "UserName", Reach::Account, true),
    ("AWS::IAM::Group", "GroupName", Reach::Account, true),
    (
        "AWS::IAM::InstanceProfile",
        "InstanceProfileName",
        Reach::Account,
        true,
    ),
    ("AWS::S3::Bucket", "BucketName", Reach::Global, false),
    ("AWS::SQS::Queue", "QueueName", Reach::Regional, false),
    ("AWS::SNS::Topic", "TopicName", Reach::Regional, false),
    (
        "AWS::Logs::LogGroup",
        "LogGroupName",
        Reach::Regional,
        false,
    ),
    ("AWS::KMS::Alias", "AliasName", Reach::Regional, false),
    ("AWS::DynamoDB::Table", "TableName", Reach::Regional, false),
    (
        "AWS::Lambda::Function",
        "FunctionName",
        Reach::Regional,
        false,
    ),
    ("AWS::SSM::Parameter", "Name", Reach::Regional, false),
    (
        "AWS::SecretsManager::Secret",
        "Name",
        Reach::Regional,
        false,
    ),
    (
        "AWS::StepFunctions::StateMachine",
        "StateMachineName",
        Reach::Regional,
        false,
    ),
    (
        "AWS::CloudWatch::Alarm",
        "AlarmName",
        Reach::Regional,
        false,
    ),
    ("AWS::Kinesis::Stream", "Name", Reach::Regional, false),
];

/// One physical name, where it is made.
struct Made<'a> {
    subject: Subject<'a>,
    named: &'a Named,
}

fn physical_names<'a>(places: &Places, selected: &[Subject<'a>]) -> Vec<Diagnostic> {
    let mut groups: BTreeMap<(&str, &Where, &str), Vec<Made<'a>>> = BTreeMap::new();
    for s in selected {
        for named in &s.facts.names {
            groups
                .entry((named.ty, &named.at, &named.key))
                .or_default()
                .push(Made { subject: *s, named });
        }
    }
    let mut out = Vec::new();
    for ((ty, at, _), made) in groups {
        if made.len() < 2 {
            continue;
        }
        for (i, m) in made.iter().enumerate() {
            let others = match made.len() - 1 {
                1 => "another resource also makes".to_owned(),
                n => format!("{n} other resources also make"),
            };
            let mut d = Diagnostic::error(
                "duplicate-name",
                format!(
                    "`{}` ({ty}) is named `{}`, a name {others} {}: CloudFormation fails to create the second",
                    m.named.resource,
                    m.named.name,
                    at.describe()
                ),
            );
            for (j, other) in made.iter().enumerate() {
                if i != j {
                    d = d.with_note(format!(
                        "also `{}` of stack `{}`: {}",
                        other.named.resource,
                        other.subject.stack.name,
                        places.place(other.subject.at(), &other.named.pointer)
                    ));
                }
            }
            out.push(places.at_pointer(m.subject.at(), &m.named.pointer, d));
        }
    }
    out
}

// --- 4. stack_output() ---------------------------------------------------------------------

/// The `stack_output(stack, key)` calls a render made: their placeholders in its text and
/// parameters. A call the render did not make (a branch not taken) is not checked.
fn output_calls(rendered: &Rendered) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let texts = std::iter::once(rendered.text.as_str())
        .chain(rendered.parameters.values().map(String::as_str));
    for text in texts {
        let mut rest = text;
        while let Some(i) = rest.find(OUTPUT_PLACEHOLDER_PREFIX) {
            rest = &rest[i + OUTPUT_PLACEHOLDER_PREFIX.len()..];
            let Some(end) = rest.find(')') else { break };
            if let Some((stack, key)) = rest[..end].split_once('.') {
                let call = (stack.to_owned(), key.to_owned());
                if !out.contains(&call) {
                    out.push(call);
                }
            }
            rest = &rest[end..];
        }
    }
    out
}

fn stack_outputs(places: &Places, input: &Input) -> Vec<Diagnostic> {
    let by_name: HashMap<&str, Subject> = input
        .selected
        .iter()
        .chain(&input.producers)
        .map(|s| (s.stack.name.as_str(), *s))
        .collect();
    let mut out = Vec::new();
    for s in &input.selected {
        for (dep, key) in &s.facts.calls {
            // A stack that is not in the project is an error at load; one that did not render
            // has its own errors.
            let Some(producer) = by_name.get(dep.as_str()) else {
                continue;
            };
            let keys: Vec<&str> = producer.facts.outputs.iter().map(String::as_str).collect();
            if keys.contains(&key.as_str()) {
                continue;
            }
            let mut d = Diagnostic::error(
                "unknown-output",
                format!(
                    "`stack_output('{dep}', '{key}')`: the template of stack `{dep}` has no output `{key}`"
                ),
            );
            if let Some(m) = closest(key, keys.iter().copied()) {
                d = d.with_note(format!("did you mean `{m}`?"));
            }
            d = d.with_note(if keys.is_empty() {
                format!(
                    "stack `{dep}` outputs nothing: {}",
                    places.template_file(producer.at()).display()
                )
            } else {
                format!(
                    "the outputs of stack `{dep}`: {} ({})",
                    keys.join(", "),
                    places.place(producer.at(), "/Outputs")
                )
            });
            out.push(locate_call(places, s.at(), dep, key, d));
        }
    }
    out
}

/// Points at the `stack_output('dep', 'key')` call: in the stack config, else in the template.
fn locate_call(places: &Places, s: At, dep: &str, key: &str, d: Diagnostic) -> Diagnostic {
    let project = places.renderer.project;
    let find = |text: &str| {
        text.lines().enumerate().find_map(|(i, line)| {
            let at = line.find("stack_output(")?;
            let rest = &line[at..];
            let named =
                |v: &str| rest.contains(&format!("'{v}'")) || rest.contains(&format!("\"{v}\""));
            (named(dep) && named(key)).then(|| (i + 1, line[..at].chars().count() + 1))
        })
    };
    if let Some((l, c)) = find(&s.stack.source) {
        return d
            .at(
                Location::at(project.shown(&s.stack.file), l, Some(c)),
                Some(&s.stack.source),
            )
            .with_stack(&s.stack.name);
    }
    let rel = project.template_file(&s.stack.template);
    if let Some(text) = project.files().text(&rel) {
        if let Some((l, c)) = find(&text) {
            return d
                .at(Location::at(project.shown(&rel), l, Some(c)), Some(&text))
                .with_stack(&s.stack.name);
        }
    }
    d.in_file(&places.template_file(s))
        .with_stack(&s.stack.name)
}

// --- 5. exports and imports ----------------------------------------------------------------

fn exports_and_imports(places: &Places, input: &Input) -> Vec<Diagnostic> {
    let mut exports: BTreeMap<(&Where, &str), Vec<(Subject, &Exported)>> = BTreeMap::new();
    for s in input.selected.iter().chain(&input.producers) {
        for e in &s.facts.exports {
            exports.entry((&e.at, &e.name)).or_default().push((*s, e));
        }
    }
    let mut out = Vec::new();
    let selected = |s: &Stack| input.selected.iter().any(|x| x.stack.name == s.name);
    for ((at, name), list) in &exports {
        if list.len() < 2 {
            continue;
        }
        for (i, (s, e)) in list.iter().enumerate() {
            if !selected(s.stack) {
                continue;
            }
            let mut d = Diagnostic::error(
                "duplicate-export",
                format!(
                    "output `{}` exports `{name}`, which another stack also exports {}: export names are unique per account and region, so CloudFormation fails to create the second",
                    e.output,
                    at.describe()
                ),
            );
            for (j, (other, oe)) in list.iter().enumerate() {
                if i != j {
                    d = d.with_note(format!(
                        "also exported by stack `{}`: {}",
                        other.stack.name,
                        places.place(other.at(), &oe.pointer)
                    ));
                }
            }
            out.push(places.at_pointer(s.at(), &e.pointer, d));
        }
    }
    if !input.whole_project {
        return out;
    }
    for s in &input.selected {
        let here = &s.facts.here;
        for (name, pointer) in &s.facts.imports {
            if exports.contains_key(&(here, name.as_str())) {
                continue;
            }
            let mut d = Diagnostic::warning(
                "unknown-import",
                format!(
                    "`Fn::ImportValue` of `{name}`, which no stack of the project exports {}: unless a stack outside the project exports it, CloudFormation fails to create this stack",
                    here.describe()
                ),
            );
            let elsewhere: Vec<String> = exports
                .iter()
                .filter(|((_, n), _)| n == name)
                .flat_map(|((w, _), list)| {
                    list.iter().map(move |(e, _)| {
                        format!("stack `{}` exports it {}", e.stack.name, w.describe())
                    })
                })
                .collect();
            if !elsewhere.is_empty() {
                d = d.with_note(format!(
                    "{}; an import reads only the exports of its own account and region",
                    elsewhere.join("; ")
                ));
            } else {
                let names: Vec<&str> = exports
                    .keys()
                    .filter(|(w, _)| *w == here)
                    .map(|(_, n)| *n)
                    .collect();
                if let Some(m) = closest(name, names) {
                    d = d.with_note(format!("did you mean `{m}`?"));
                }
            }
            out.push(places.at_pointer(s.at(), pointer, d));
        }
    }
    out
}

#[cfg(test)]
mod tests;
