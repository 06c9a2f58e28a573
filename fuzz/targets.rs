//! The fuzz targets: each feeds one input to a parser of untrusted input through its public
//! entry point, checks what must hold whatever the input (no panic; every error a diagnostic
//! at a file; positions inside the text), and reports behaviour signatures for the pool.
//!
//! | target | what the input is | entry point |
//! |---|---|---|
//! | `template` | a template (JSON and YAML), rendered with a stack of the repository | `Renderer::check` |
//! | `locate` | a JSON pointer line, then a text | `locate::*_position`, `source::*`, `yaml_key_position` |
//! | `stack-config` | a stack config (YAML, or `stackParams.json`), and `little.yaml` | `Project::load` |
//! | `template-parse` | a rendered template (JSON and YAML) | `parse::parse`, `lint::lint` |
//! | `layers` | an image layer (tar, or gzip), and the same bytes as a JAR | `FileView::apply_layer`, `detect_os`, `jar::read_archive` |
//! | `sqs-event` | an SQS message body | `worker::parse_message`, `report_key` |
//! | `serve-http` | the bytes of one HTTP/1.1 connection | hyper's parser and `serve::http::handle` |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use little_stack::diag::{Diagnostic, Severity};
use little_stack::locate;
use little_stack::project::Project;
use little_stack::render::{lint, source, RenderOptions, Renderer};
use little_stack::template::parse;

use crate::engine::{hash, Signatures, Target};

/// The repository, whose templates, policies and stack configs seed the targets' projects.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sig(parts: &[&str]) -> u64 {
    hash(parts.join("\u{0}").as_bytes())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every diagnostic names a file; `with_line` codes also a line. Returns their signatures.
fn check_diagnostics(diags: &[Diagnostic], with_line: &[&str]) -> Result<Signatures, String> {
    let mut out = Vec::new();
    for d in diags {
        let text = d.to_string();
        let Some(location) = &d.location else {
            return Err(format!("a diagnostic without a location:\n{text}"));
        };
        if d.severity == Severity::Error && location.line.is_none() && with_line.contains(&d.code) {
            return Err(format!("a `{}` error without a line:\n{text}", d.code));
        }
        out.push(sig(&[
            d.code,
            if location.line.is_some() { "l" } else { "-" },
            if location.column.is_some() { "c" } else { "-" },
        ]));
    }
    Ok(out)
}

/// A 1-based (line, column) must lie in `text` (the column may be one past the line's end).
fn check_position(text: &str, at: Option<(usize, usize)>, what: &str) -> Result<(), String> {
    let Some((line, col)) = at else {
        return Ok(());
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let ok = line >= 1
        && col >= 1
        && lines
            .get(line - 1)
            .is_some_and(|l| col <= l.chars().count() + 1);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} gave line {line}, column {col}, outside the text ({} lines)",
            lines.len()
        ))
    }
}

// ---- template ------------------------------------------------------------------------------

/// The codes of errors that come from minijinja or the locator, which must have a line.
const TEMPLATE_ERRORS: &[&str] = &[
    "template-syntax",
    "undefined-variable",
    "unknown-name",
    "bad-include",
    "template-error",
    "outside-project",
    "template-limit",
    "invalid-output",
];

/// Renders the input as a template of a copy of the repository's project: the input replaces
/// the template of the stack whose template it resembles most (so that its variables are
/// there), once as JSON and once as YAML.
pub struct TemplateTarget {
    _dir: tempfile::TempDir,
    root: PathBuf,
    project: Project,
    /// (stack name, its template's text in the repository), and the stack for anything else.
    stacks: Vec<(String, String)>,
}

const FUZZ_JSON: &str = "fuzz/input.json.njk";
const FUZZ_YAML: &str = "fuzz/input.yaml.njk";

impl TemplateTarget {
    pub fn new() -> Result<TemplateTarget, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let root = dir.path().to_path_buf();
        let repo = repo();
        for d in ["templates", "policies"] {
            copy_dir(&repo.join(d), &root.join(d)).map_err(|e| format!("{d}: {e}"))?;
        }
        std::fs::copy(repo.join("little.yaml"), root.join("little.yaml"))
            .map_err(|e| e.to_string())?;
        let mut stacks = Vec::new();
        for entry in walkdir::WalkDir::new(repo.join("stacks")).sort_by_file_name() {
            let entry = entry.map_err(|e| e.to_string())?;
            if entry.path().extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).map_err(|e| e.to_string())?;
            let mut config: serde_norway::Value =
                serde_norway::from_str(&text).map_err(|e| e.to_string())?;
            let (Some(name), Some(template)) = (
                config
                    .get("name")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                config
                    .get("template")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            ) else {
                continue;
            };
            let original = std::fs::read_to_string(repo.join("templates").join(&template))
                .map_err(|e| format!("{template}: {e}"))?;
            let rel = entry
                .path()
                .strip_prefix(&repo)
                .map_err(|e| e.to_string())?;
            config["template"] = FUZZ_JSON.into();
            write(
                &root.join(rel),
                &serde_norway::to_string(&config).map_err(|e| e.to_string())?,
            )?;
            config["name"] = format!("{name}-yaml").into();
            config["template"] = FUZZ_YAML.into();
            write(
                &root.join(rel).with_extension("yaml.yaml"),
                &serde_norway::to_string(&config).map_err(|e| e.to_string())?,
            )?;
            stacks.push((name, original));
        }
        // For inputs like none of the repository's templates.
        write(
            &root.join("stacks/fuzz.yaml"),
            "name: fuzz\ntemplate: fuzz/input.json.njk\nparameters:\n  Name: \"{{ stack.name }}-x\"\nvariables:\n  name: fuzz\n  items: [a, b, c]\n  map: {k: v, n: 1}\n  flag: true\n",
        )?;
        write(
            &root.join("stacks/fuzz-yaml.yaml"),
            "name: fuzz-yaml\ntemplate: fuzz/input.yaml.njk\nvariables:\n  name: fuzz\n  items: [a, b, c]\n",
        )?;
        stacks.push(("fuzz".into(), String::new()));
        write(&root.join("templates").join(FUZZ_JSON), "{}")?;
        write(&root.join("templates").join(FUZZ_YAML), "{}")?;
        let project = Project::load(&root).map_err(|e| format!("the fuzz project: {e}"))?;
        Ok(TemplateTarget {
            _dir: dir,
            root,
            project,
            stacks,
        })
    }

    /// The stack whose template shares the longest beginning with `text`.
    fn stack_for(&self, text: &str) -> &str {
        let common = |a: &str| {
            a.bytes()
                .zip(text.bytes())
                .take_while(|(x, y)| x == y)
                .count()
        };
        self.stacks
            .iter()
            .map(|(name, original)| (common(original), name))
            .filter(|(n, _)| *n >= 32)
            .max_by_key(|(n, _)| *n)
            .map(|(_, name)| name.as_str())
            .unwrap_or("fuzz")
    }
}

impl Target for TemplateTarget {
    fn name(&self) -> &'static str {
        "template"
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "{{",
            "}}",
            "{%",
            "%}",
            "{#",
            "#}",
            "{%-",
            "-%}",
            "{{-",
            "-}}",
            "{% raw %}",
            "{% endraw %}",
            "{% if ",
            "{% endif %}",
            "{% else %}",
            "{% elif ",
            "{% for x in ",
            "{% endfor %}",
            "{% set ",
            "{% endset %}",
            "{% macro m(a, b=1) %}",
            "{% endmacro %}",
            "{% include 'lib/macros.njk' %}",
            "{% import 'lib/macros.njk' as m %}",
            "{% from 'lib/macros.njk' import ",
            "{% include './x.njk' %}",
            "{% extends ",
            "{% block b %}",
            "{% endblock %}",
            "{% filter upper %}",
            "{% endfilter %}",
            "{% call m() %}",
            "{% endcall %}",
            "policy('lifecycle/dev-images')",
            "policy('iam/audit-read')",
            "policy('../x')",
            "stack_output('iam-ci', 'Arn')",
            "account_id()",
            " | dump",
            " | dump(2)",
            " | dump | dump",
            ".length",
            "|length",
            "loop.last",
            "loop.index",
            "vars.",
            "stack.name",
            "stack.parameters",
            "stack.tags",
            "accounts.prod.id",
            "project.variables",
            "stackTagsStr",
            "range(3)",
            "range(99999)",
            "'x' * 3",
            " ~ ",
            " + ",
            " is defined",
            " in ",
            "namespace()",
            "caller()",
            "super()",
            "\"",
            "'",
            "\\",
            ":",
            ",",
            "\n",
            "!Ref ",
            "!GetAtt ",
            "!Sub ",
            "- ",
            "\u{E000}",
            "\u{E001}",
            "0:1",
            "0:1:b",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<Signatures, String> {
        let text = String::from_utf8_lossy(input);
        let templates = self.root.join("templates");
        write(&templates.join(FUZZ_JSON), &text)?;
        write(&templates.join(FUZZ_YAML), &text)?;
        let _ = little_stack::project::find_stack_outputs(&text);
        let name = self.stack_for(&text).to_owned();
        // A new renderer each time: its caches hold the last input's source.
        let renderer = Renderer::new(&self.project, RenderOptions::default());
        let mut out = Vec::new();
        for stack_name in [name.clone(), format!("{name}-yaml")] {
            let Some(stack) = self.project.stack(&stack_name) else {
                return Err(format!("the fuzz project has no stack `{stack_name}`"));
            };
            let (rendered, diags) = renderer.check(stack);
            // The renderer turns a panic of minijinja into this diagnostic; still a bug.
            if let Some(d) = diags.iter().find(|d| d.code == "template-engine") {
                return Err(format!("the template engine panicked:\n{d}"));
            }
            out.push(sig(&[
                if rendered.is_some() { "ok" } else { "err" },
                &diags.len().min(4).to_string(),
            ]));
            out.extend(check_diagnostics(&diags, TEMPLATE_ERRORS)?);
        }
        Ok(out)
    }
}

// ---- locate --------------------------------------------------------------------------------

/// The locator and the template lexer: the first line is a JSON pointer, the rest a text.
pub struct LocateTarget;

impl Target for LocateTarget {
    fn name(&self) -> &'static str {
        "locate"
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "/",
            "~0",
            "~1",
            "/0",
            "/Resources",
            "/Properties",
            "\"",
            "'",
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            "- ",
            "  ",
            "\n",
            "\r\n",
            "#",
            "&a ",
            "*a",
            "!Ref ",
            "!GetAtt ",
            "|",
            ">",
            "---",
            "...",
            "\\u00e9",
            "\\ud83d\\ude00",
            "\\",
            "{{",
            "}}",
            "{%",
            "%}",
            "{% raw %}",
            "{% endraw %}",
            "{% include 'x' %}",
            ".length",
            "loop.length",
            "\u{E000}",
            "\u{E001}",
            "0:1",
            ":b",
            "\u{FEFF}",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<Signatures, String> {
        let all = String::from_utf8_lossy(input);
        let (pointer, text) = all.split_once('\n').unwrap_or((&all, ""));
        let mut out = Vec::new();
        for (what, at) in [
            (
                "json_pointer_position",
                locate::json_pointer_position(text, pointer),
            ),
            (
                "yaml_pointer_position",
                locate::yaml_pointer_position(text, pointer),
            ),
            (
                "json_key_position",
                locate::json_key_position(text, pointer),
            ),
        ] {
            check_position(text, at, what)?;
            out.push(sig(&[what, if at.is_some() { "found" } else { "-" }]));
        }
        let path: Vec<&str> = pointer.split('/').filter(|s| !s.is_empty()).collect();
        let at = locate::config::yaml_key_position(text, &path);
        check_position(text, at, "yaml_key_position")?;
        if let Some((last, parent)) = path.split_last() {
            let at = locate::config::yaml_value_position(text, parent, last);
            check_position(text, at, "yaml_value_position")?;
        }

        // The template lexer.
        let rewritten = source::rewrite_length(text);
        if rewritten.len() != text.len() {
            return Err(format!(
                "rewrite_length changed the length from {} to {}: error columns would be wrong",
                text.len(),
                rewritten.len()
            ));
        }
        let instrumented = source::instrument(text, 7);
        let map = source::SourceMap::new(&instrumented);
        if !text.contains([source::MARK_START, source::MARK_END]) && map.text != text {
            return Err("the source map's text is not the template without markers".into());
        }
        let len = map.text.len();
        for offset in [0, len / 3, len / 2, len.saturating_sub(1), len, len + 1] {
            if let Some(pos) = map.source_at(offset) {
                if pos.file_id != 7 || pos.line == 0 {
                    return Err(format!("source_at({offset}) gave {pos:?}"));
                }
                out.push(sig(&[
                    "source_at",
                    &pos.offset_in_line.is_some().to_string(),
                ]));
            }
        }
        let refs = source::references(text);
        out.push(sig(&["references", &refs.len().min(3).to_string()]));
        for (_, line, col) in &refs {
            check_position(text, Some((*line, *col)), "references")?;
        }
        let load = |name: &str| (name.len() < 64).then(|| text.to_owned());
        let join = |name: &str, _parent: &str| name.to_owned();
        let chain = source::include_chain("root", "target", &load, &join);
        out.push(sig(&["chain", &chain.len().min(3).to_string()]));
        for offset in [0, text.len() / 2, text.len(), text.len() + 5] {
            let (line, col) = little_stack::diag::line_col(text, offset);
            check_position(text, Some((line, col)), "line_col")?;
        }
        Ok(out)
    }
}

// ---- stack-config --------------------------------------------------------------------------

/// A stack config (YAML, or a `stackParams.json` when it starts with `{`) loaded into a project
/// beside a valid stack; and the same text as a project's `little.yaml`.
pub struct StackConfigTarget {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    stack_project: PathBuf,
    file_project: PathBuf,
}

const BASE_STACK: &str = "name: base\ntemplate: base.json.njk\n";
const BASE_TEMPLATE: &str = "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}, \"Outputs\": {\"Arn\": {\"Value\": {\"Fn::GetAtt\": [\"Q\", \"Arn\"]}}}}\n";

impl StackConfigTarget {
    pub fn new() -> Result<StackConfigTarget, String> {
        let a = tempfile::tempdir().map_err(|e| e.to_string())?;
        let b = tempfile::tempdir().map_err(|e| e.to_string())?;
        let repo = repo();
        copy_dir(&repo.join("templates"), &a.path().join("templates"))
            .map_err(|e| e.to_string())?;
        std::fs::copy(repo.join("little.yaml"), a.path().join("little.yaml"))
            .map_err(|e| e.to_string())?;
        write(&a.path().join("stacks/base.yaml"), BASE_STACK)?;
        write(&a.path().join("templates/base.json.njk"), BASE_TEMPLATE)?;
        write(&b.path().join("stacks/base.yaml"), BASE_STACK)?;
        write(&b.path().join("templates/base.json.njk"), BASE_TEMPLATE)?;
        Ok(StackConfigTarget {
            stack_project: a.path().to_path_buf(),
            file_project: b.path().to_path_buf(),
            _dirs: (a, b),
        })
    }
}

fn load_signatures(loaded: little_stack::error::Result<Project>) -> Result<Signatures, String> {
    match loaded {
        Ok(project) => {
            let _ = project.select(&[], true);
            Ok(vec![sig(&["loaded", &project.stacks.len().to_string()])])
        }
        Err(little_stack::error::Error::Invalid(diags)) => check_diagnostics(&diags, &[]),
        Err(e) => {
            // The variant's name: `Read`, `Usage`, ...
            let debug = format!("{e:?}");
            let variant = debug.split(['(', ' ', '{']).next().unwrap_or_default();
            Ok(vec![sig(&["error", variant])])
        }
    }
}

impl Target for StackConfigTarget {
    fn name(&self) -> &'static str {
        "stack-config"
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "name: ",
            "template: ",
            "region: ",
            "account: ",
            "depends_on: [base]",
            "parameters:\n  ",
            "tags: {",
            "variables:\n  ",
            "capabilities: [CAPABILITY_IAM]",
            "termination_protection: true",
            "stack_policy: ",
            "stack_set:\n  ",
            "role_arn: ",
            "timeout_in_minutes: ",
            "description: ",
            "accounts:\n  ",
            "defaults:\n  ",
            "allowed_account_ids: [",
            "\"123456789012\"",
            "us-east-1",
            "stack_output('base', 'Arn')",
            "{{ ",
            " }}",
            "\"StackName\": ",
            "\"Parameters\": [",
            "\"ParameterKey\": ",
            "\"ParameterValue\": ",
            "\"Littleware\": {",
            "\"TemplatePath\": ",
            "\"DependsOn\": [",
            "\"Tags\": [",
            ": ",
            "- ",
            "\n  ",
            "{",
            "}",
            "[",
            "]",
            "&a ",
            "*a",
            "<<: ",
            "!!str ",
            "~",
            "null",
            "true",
            "0x10",
            "1e9",
            "'",
            "\"",
            "#",
            "|\n  ",
            ">-\n  ",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<Signatures, String> {
        let text = String::from_utf8_lossy(input);
        let mut out = Vec::new();
        let file = Path::new("stacks/fuzz.yaml");
        for d in [
            little_stack::project::config::parse_yaml::<little_stack::project::config::StackFile>(
                file, &text,
            )
            .err(),
            little_stack::project::config::parse_yaml::<
                little_stack::project::config::ProjectFile,
            >(file, &text)
            .err(),
            little_stack::project::legacy::parse(file, &text).err(),
        ]
        .into_iter()
        .flatten()
        {
            out.extend(check_diagnostics(std::slice::from_ref(&d), &[])?);
        }

        let json = text.trim_start().starts_with('{');
        let (keep, drop) = if json {
            ("stacks/fuzz/stackParams.json", "stacks/fuzz/input.yaml")
        } else {
            ("stacks/fuzz/input.yaml", "stacks/fuzz/stackParams.json")
        };
        let _ = std::fs::remove_file(self.stack_project.join(drop));
        write(&self.stack_project.join(keep), &text)?;
        out.extend(load_signatures(Project::load(&self.stack_project))?);

        write(&self.file_project.join("little.yaml"), &text)?;
        out.extend(load_signatures(Project::load(&self.file_project))?);
        Ok(out)
    }
}

// ---- template-parse ------------------------------------------------------------------------

/// A rendered template, parsed as JSON and as YAML (short forms expanded) and linted; each
/// finding located in the text as the renderer does.
pub struct TemplateParseTarget;

impl Target for TemplateParseTarget {
    fn name(&self) -> &'static str {
        "template-parse"
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "\"Resources\": {",
            "\"Type\": \"AWS::ECR::Repository\"",
            "\"Properties\": {",
            "\"Ref\": ",
            "\"Fn::GetAtt\": [",
            "\"Fn::Sub\": ",
            "\"Parameters\": {",
            "\"Outputs\": {",
            "\"Conditions\": {",
            "\"DependsOn\": ",
            "\"Condition\": ",
            "\"DeletionPolicy\": \"Retain\"",
            "Resources:\n  ",
            "Type: AWS::SQS::Queue",
            "!Ref ",
            "!GetAtt ",
            "!Sub ",
            "!Join [",
            "!If [",
            "!Select [",
            "!Base64 ",
            "!Equals [",
            "!Condition ",
            "!!binary ",
            "&a ",
            "*a",
            "<<: *a",
            "- ",
            ": ",
            "\n  ",
            "{",
            "}",
            "[",
            "]",
            ",",
            "\"",
            "'",
            "null",
            "true",
            "1e999",
            "-0",
            "\\u0000",
            "\\ud800",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<Signatures, String> {
        let text = String::from_utf8_lossy(input);
        let mut out = Vec::new();
        for syntax in [parse::Syntax::Json, parse::Syntax::Yaml] {
            match parse::parse(&text, syntax) {
                Ok(template) => {
                    let findings = lint::lint(&lint::LintInput {
                        template: &template,
                        size_bytes: text.len(),
                        provided_parameters: &[],
                        resource_schemas: true,
                        regions: &[],
                    });
                    for f in &findings {
                        let at = match syntax {
                            parse::Syntax::Json => locate::json_pointer_position(&text, &f.pointer),
                            parse::Syntax::Yaml => locate::yaml_pointer_position(&text, &f.pointer),
                        };
                        check_position(&text, at, "locating a lint finding")?;
                        out.push(sig(&["lint", f.code, &at.is_some().to_string()]));
                    }
                    let _ = serde_json::to_string_pretty(&template);
                }
                Err(e) => {
                    if e.line == 0 || e.column == 0 {
                        return Err(format!(
                            "a parse error at line {}, column {}: {}",
                            e.line, e.column, e.message
                        ));
                    }
                    out.push(sig(&[&format!("{syntax:?}"), "error"]));
                }
            }
        }
        Ok(out)
    }
}

// ---- layers --------------------------------------------------------------------------------

/// An image layer: a tar stream, gzip-compressed when it starts with gzip's magic bytes,
/// applied twice (the second time over the first, for whiteouts), then read by the OS and
/// runtime detection.
pub struct LayersTarget;

impl Target for LayersTarget {
    fn name(&self) -> &'static str {
        "layers"
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "etc/os-release",
            "usr/lib/os-release",
            "../usr/lib/os-release",
            "etc/passwd",
            "etc/alpine-release",
            "etc/debian_version",
            "usr/local/lib/python3.12/",
            "usr/lib/jvm/java-17/release",
            ".wh.",
            ".wh..wh..opq",
            "./",
            "/",
            "ustar\u{0}00",
            "ustar  \u{0}",
            "0000644\u{0}",
            "00000000017\u{0}",
            "ID=alpine\n",
            "VERSION_ID=",
            "JAVA_VERSION=\"17\"\n",
            "#define NODE_MAJOR_VERSION 20\n",
            "././@LongLink",
            "path=",
            "linkpath=",
        ]
    }

    fn max_len(&self) -> usize {
        64 * 1024
    }

    fn run(&mut self, input: &[u8]) -> Result<Signatures, String> {
        use little_stack::check::layers::FileView;
        let mut view = FileView::default();
        let gzip = input.starts_with(&[0x1f, 0x8b]);
        // The default limits, as `little check` reads a layer: exceeding one is a finding
        // (an error here), never a panic.
        let limits = little_stack::check::limits::Limits::default();
        let apply = |view: &mut FileView| -> Result<(), String> {
            if gzip {
                let mut gz = flate2::read::GzDecoder::new(input);
                view.apply_layer(&mut gz, &limits)
                    .map_err(|e| format!("{e:?}"))?;
                std::io::copy(&mut gz, &mut std::io::sink())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            } else {
                view.apply_layer(input, &limits)
                    .map_err(|e| format!("{e:?}"))
            }
        };
        let first = apply(&mut view);
        let second = apply(&mut view);
        let mut out = vec![sig(&[
            "layers",
            &first.is_ok().to_string(),
            &second.is_ok().to_string(),
            &view.files.len().min(8).to_string(),
            &view.python_dirs.len().min(3).to_string(),
        ])];
        for path in view.files.keys() {
            let _ = view.read(path);
        }
        let os = little_stack::check::facts::detect_os(&view);
        out.push(sig(&[
            "os",
            &os.as_ref().map_or(0, |o| o.id.len().min(8)).to_string(),
        ]));
        if let Ok(config) = little_stack::check::image::ImageConfig::parse(b"{}") {
            let runtimes = little_stack::check::facts::detect_runtimes(&config, &view);
            for name in runtimes.keys() {
                out.push(sig(&["runtime", name]));
            }
        }
        // The efficiency figure and the libraries kept, as the layers streamed.
        if view.waste.wasted_bytes > view.waste.file_bytes {
            return Err(format!(
                "{} bytes wasted of {} bytes of files",
                view.waste.wasted_bytes, view.waste.file_bytes
            ));
        }
        let kept: usize = view.libraries.values().map(|(_, l)| l.len()).sum();
        if kept as u64 != view.library_count || view.library_count > limits.max_libraries {
            return Err(format!(
                "{kept} libraries kept, {} counted",
                view.library_count
            ));
        }
        out.push(sig(&[
            "waste",
            &(view.waste.wasted_bytes > 0).to_string(),
            &view.library_count.min(4).to_string(),
        ]));
        // The input as a JAR too: the ZIP central-directory reader.
        let found = little_stack::check::jar::read_archive("x.jar", input, 100);
        out.push(sig(&[
            "jar",
            &found.map_or(-1, |f| f.len().min(4) as i64).to_string(),
        ]));
        Ok(out)
    }
}

// ---- sqs-event -----------------------------------------------------------------------------

/// An SQS message body as the image check worker receives it.
pub struct SqsEventTarget;

impl Target for SqsEventTarget {
    fn name(&self) -> &'static str {
        "sqs-event"
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "\"Type\": \"Notification\"",
            "\"Message\": ",
            "\"detail-type\": ",
            "\"ECR Image Action\"",
            "\"AWS API Call via CloudTrail\"",
            "\"detail\": {",
            "\"action-type\": \"PUSH\"",
            "\"result\": \"SUCCESS\"",
            "\"repository-name\": ",
            "\"image-digest\": \"sha256:",
            "\"image-tag\": ",
            "\"time\": ",
            "\"eventSource\": \"ecr.amazonaws.com\"",
            "\"eventName\": \"PutImage\"",
            "\"errorCode\": ",
            "\"responseElements\": {",
            "\"image\": {",
            "\"imageId\": {",
            "\"imageDigest\": ",
            "\"imageTag\": ",
            "\"requestParameters\": {",
            "\"repositoryName\": ",
            "\\\"",
            "\\\\",
            "\\u00e9",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "null",
            "\"\"",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<Signatures, String> {
        use little_stack::check::worker::{parse_message, report_key, Parsed};
        let body = String::from_utf8_lossy(input);
        Ok(match parse_message(&body) {
            Parsed::Push(claim) => {
                // A claim, validated as the worker validates it; a valid one must make a
                // report key inside its prefix.
                let scope = little_stack::check::event::Scope {
                    region: "us-east-1".into(),
                    repositories: Vec::new(),
                };
                match little_stack::check::event::validate(&claim, &scope) {
                    Ok(event) => {
                        let key = report_key("reports/", &event)
                            .map_err(|e| format!("a valid event made no report key: {e}"))?;
                        if !key.starts_with("reports/") || key.contains("..") {
                            return Err(format!("the report key `{key}` left its prefix"));
                        }
                        vec![sig(&["push", &event.tag.is_some().to_string()])]
                    }
                    Err(_) => vec![sig(&["push-refused", &claim.tag.is_some().to_string()])],
                }
            }
            // The kind of reason, not its details (which echo the input).
            Parsed::Skip(why) | Parsed::Invalid(why) => {
                let kind: Vec<&str> = why
                    .split_whitespace()
                    .take(2)
                    .map(|w| if w.contains('`') { "`" } else { w })
                    .collect();
                vec![sig(&["skip-or-invalid", &kind.join(" ")])]
            }
        })
    }
}

// ---- serve-http ----------------------------------------------------------------------------

/// The bytes a client sends on one connection to `little serve`, served in-process by the
/// same hyper HTTP/1.1 server and router as the real one (over an in-memory stream).
pub struct ServeHttpTarget {
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl ServeHttpTarget {
    pub fn new() -> Result<ServeHttpTarget, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(ServeHttpTarget {
            runtime,
            dir: tempfile::tempdir().map_err(|e| e.to_string())?,
        })
    }

    fn shared(&self) -> Result<Arc<little_stack::serve::Shared>, String> {
        use little_stack::serve::configs::ConfigStore;
        let state = self.dir.path().join("serve-state.json");
        let _ = std::fs::remove_file(&state);
        let store = ConfigStore::open(&state, &[], Some("us-east-1")).map_err(|e| e.to_string())?;
        let mut shared = little_stack::serve::Shared::new(
            store,
            Some("fuzz-token".into()),
            Some("us-east-1".into()),
        );
        // CORS on, so that preflights and origins reach their code.
        shared.cors_origins = vec!["https://dash.example.com".into()];
        shared.accounts = vec![("prod".into(), "111111111111".into())];
        if let Ok(mut m) = shared.metrics.write() {
            *m = little_stack::serve::Exposition::new(
                "# TYPE little_up gauge\nlittle_up 1\n# EOF\n".into(),
            );
        }
        Ok(Arc::new(shared))
    }
}

impl Target for ServeHttpTarget {
    fn name(&self) -> &'static str {
        "serve-http"
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "GET ",
            "POST ",
            "DELETE ",
            "PUT ",
            "HEAD ",
            "OPTIONS ",
            " HTTP/1.1\r\n",
            " HTTP/1.0\r\n",
            "\r\n",
            "\r\n\r\n",
            "Host: localhost\r\n",
            "Authorization: Bearer fuzz-token\r\n",
            "Authorization: Bearer \r\n",
            "Content-Length: ",
            "Content-Type: application/json\r\n",
            "Transfer-Encoding: chunked\r\n",
            "Accept-Encoding: gzip\r\n",
            "Connection: close\r\n",
            "Origin: https://dash.example.com\r\n",
            "Origin: https://evil.example.com\r\n",
            "Access-Control-Request-Method: POST\r\n",
            "\"registry\": \"111111111111\"",
            "/summary/",
            "Expect: 100-continue\r\n",
            "/healthz",
            "/readyz",
            "/metrics",
            "/report",
            "/report.json",
            "/configs",
            "/configs/",
            "/summary",
            "/findings/",
            "/findings/yaml-1",
            "%2F",
            "%00",
            "?x=1",
            "#f",
            "{\"repository\": ",
            "\"region\": \"us-east-1\"",
            "\"tags\": [",
            "\"registry\": ",
            "0\r\n\r\n",
            "ffffffff\r\n",
        ]
    }

    fn max_len(&self) -> usize {
        32 * 1024
    }

    fn run(&mut self, input: &[u8]) -> Result<Signatures, String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let shared = self.shared()?;
        let response = self.runtime.block_on(async move {
            let (client, server) = tokio::io::duplex(16 * 1024);
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(
                        little_stack::serve::http::handle(req, &shared).await,
                    )
                }
            });
            // As `serve::http::accept` builds its connections.
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(hyper_util::rt::TokioIo::new(server), service);
            let (mut read, mut write) = tokio::io::split(client);
            let send = async move {
                let _ = write.write_all(input).await;
                let _ = write.shutdown().await;
            };
            let receive = async move {
                let mut out = Vec::new();
                let _ = read.read_to_end(&mut out).await;
                out
            };
            tokio::time::timeout(Duration::from_secs(5), async {
                let (_, _, response) = tokio::join!(connection, send, receive);
                response
            })
            .await
        });
        let response = response.map_err(|_| {
            "the connection was still open 5 s after the client sent everything".to_owned()
        })?;
        let mut out = Vec::new();
        let mut statuses = BTreeMap::new();
        for line in response.split(|b| *b == b'\n') {
            if let Some(status) = line.strip_prefix(b"HTTP/1.1 ") {
                let code = String::from_utf8_lossy(&status[..status.len().min(3)]).into_owned();
                *statuses.entry(code).or_insert(0usize) += 1;
            }
        }
        for code in statuses.keys() {
            out.push(sig(&["status", code]));
        }
        Ok(out)
    }
}
