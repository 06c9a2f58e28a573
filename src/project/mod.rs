//! The project: `little.yaml`, the stack configs under `stacks/`, their validation and the
//! dependency graph between stacks. Loading reports every problem it finds, each at its file
//! and line, before anything is rendered or sent to AWS.
//!
//! Not here: rendering templates (`render`), anything that talks to AWS (`aws`).

pub mod config;
pub mod files;
pub mod graph;
pub mod legacy;
pub mod stackset;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::diag::{Diagnostic, Location};
use crate::error::{Error, Result};
use crate::locate::config::{yaml_key_position, yaml_value_position};
use crate::text::closest;
use config::{parse_yaml, ProjectFile, StackFile};
use files::{ProjectFiles, ReadError};
pub use graph::Graph;

/// The file that marks a project's root.
pub const PROJECT_FILE: &str = "little.yaml";
/// CloudFormation's capabilities.
pub const CAPABILITIES: &[&str] = &[
    "CAPABILITY_IAM",
    "CAPABILITY_NAMED_IAM",
    "CAPABILITY_AUTO_EXPAND",
];

/// A loaded, validated project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `little.yaml`.
    pub root: PathBuf,
    pub name: String,
    pub file: ProjectFile,
    pub accounts: IndexMap<String, Account>,
    /// Every stack, sorted by name.
    pub stacks: Vec<Stack>,
    pub graph: Graph,
    /// Paths in messages are shown relative to this directory (the working directory).
    display_base: PathBuf,
    /// Reads the project's files without leaving the project.
    files: ProjectFiles,
}

/// Shows a project path relative to the working directory where it is under it.
#[derive(Debug, Clone)]
pub struct PathDisplay {
    root: PathBuf,
    base: PathBuf,
}

impl PathDisplay {
    pub fn shown(&self, rel: &Path) -> PathBuf {
        let abs = self.root.join(rel);
        match abs.strip_prefix(&self.base) {
            Ok(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => abs,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub name: String,
    pub id: String,
    pub role_arn: Option<String>,
}

/// Which format a stack config was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigFormat {
    /// `stacks/**/*.yaml`
    Native,
    /// little-automation's `stackParams.json`
    StackParams,
}

/// One stack, with project defaults applied.
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    /// The config file, relative to the project root.
    pub file: PathBuf,
    /// The config file's text, to point at lines in later errors.
    pub source: String,
    pub format: ConfigFormat,
    /// The template's name under `templates/`.
    pub template: String,
    /// The region the stack is in: its own, else the project's default (`--region`, then
    /// `defaults.region`); none: the AWS environment's or profile's (`AWS_REGION`, ...).
    pub region: Option<String>,
    /// The `region` the config itself names, which `--region` never replaces.
    pub own_region: Option<String>,
    /// The account's name in `little.yaml`.
    pub account: Option<String>,
    pub termination_protection: bool,
    pub capabilities: Vec<String>,
    /// Declared dependencies.
    pub depends_on: Vec<String>,
    /// `stack_output(stack, key)` references found in the config and the template.
    pub output_refs: Vec<(String, String)>,
    /// Parameter values before rendering (they may hold template expressions).
    pub parameters: IndexMap<String, String>,
    /// Tags: project defaults, then the stack's own.
    pub tags: IndexMap<String, String>,
    pub variables: serde_json::Map<String, serde_json::Value>,
    pub timeout_in_minutes: Option<u32>,
    pub description: Option<String>,
    /// The stack policy document, as JSON text.
    pub stack_policy: Option<String>,
    pub notification_arns: Vec<String>,
    /// The CloudFormation service role.
    pub role_arn: Option<String>,
    /// Deployed as a StackSet to these targets instead of as one stack.
    pub stack_set: Option<stackset::StackSetConfig>,
}

impl Stack {
    /// The location of a key in this stack's config (`["parameters", "Foo"]`).
    pub fn key_location(&self, project: &Project, path: &[&str]) -> Location {
        let file = project.shown(&self.file);
        match self.format {
            ConfigFormat::Native => match yaml_key_position(&self.source, path) {
                Some((line, col)) => Location::at(file, line, Some(col)),
                None => Location::file(file),
            },
            ConfigFormat::StackParams => {
                let needle = path.last().copied().unwrap_or_default();
                match find_quoted(&self.source, needle) {
                    Some((line, col)) => Location::at(file, line, Some(col)),
                    None => Location::file(file),
                }
            }
        }
    }

    /// A diagnostic at a key of this stack's config, with the source line.
    pub fn diagnostic_at(&self, project: &Project, path: &[&str], d: Diagnostic) -> Diagnostic {
        d.at(self.key_location(project, path), Some(&self.source))
            .with_stack(&self.name)
    }
}

fn find_quoted(text: &str, needle: &str) -> Option<(usize, usize)> {
    let quoted = format!("\"{needle}\"");
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(&quoted).map(|c| (i + 1, l[..c].chars().count() + 1)))
}

impl Project {
    /// Finds `little.yaml` in `start` or the nearest parent directory.
    pub fn discover(start: &Path) -> Result<PathBuf> {
        let start = absolute(start);
        let mut dir = Some(start.as_path());
        while let Some(d) = dir {
            if d.join(PROJECT_FILE).is_file() {
                return Ok(d.to_path_buf());
            }
            dir = d.parent();
        }
        Err(Error::ProjectNotFound { start })
    }

    /// Loads the project at `root`, reporting every problem found.
    pub fn load(root: &Path) -> Result<Project> {
        let root = absolute(root);
        let display_base = std::env::current_dir().unwrap_or_else(|_| root.clone());
        let mut project = Project {
            name: String::new(),
            files: ProjectFiles::new(&root),
            root,
            file: ProjectFile::default(),
            accounts: IndexMap::new(),
            stacks: Vec::new(),
            graph: Graph::new(),
            display_base,
        };
        let mut diags = Vec::new();

        let shown = project.shown(Path::new(PROJECT_FILE));
        let text = match project.files.read_to_string(Path::new(PROJECT_FILE)) {
            Ok(Some(text)) => text,
            Ok(None) => read(&project.root.join(PROJECT_FILE))?,
            Err(ReadError::Outside(o)) => {
                return Err(Error::Invalid(vec![project.outside(&o).in_file(&shown)]))
            }
            Err(ReadError::Io(source)) => {
                return Err(Error::Read {
                    path: project.root.join(PROJECT_FILE),
                    source,
                })
            }
        };
        project.file = parse_yaml(&shown, &text).map_err(Error::from)?;
        project.name = project.file.name.clone().unwrap_or_else(|| {
            project
                .root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "little".into())
        });
        project.check_project_file(&text, &mut diags);

        let mut stacks = Vec::new();
        let files = project.stack_files(&mut diags)?;
        for loaded in crate::parallel::map(&files, |rel| project.load_stack(rel)) {
            match loaded {
                Ok(stack) => stacks.push(stack),
                Err(d) => diags.extend(d),
            }
        }
        stacks.sort_by(|a, b| a.name.cmp(&b.name));
        for pair in stacks.windows(2) {
            if pair[0].name == pair[1].name {
                diags.push(pair[1].diagnostic_at(
                    &project,
                    &["name"],
                    Diagnostic::error(
                        "duplicate-stack",
                        format!(
                            "stack `{}` is also defined in `{}`",
                            pair[1].name,
                            project.shown(&pair[0].file).display()
                        ),
                    ),
                ));
            }
        }
        project.stacks = stacks;
        project.build_graph(&mut diags);

        if diags.iter().any(Diagnostic::is_error) {
            return Err(Error::Invalid(diags));
        }
        Ok(project)
    }

    /// `path` (relative to the root) as it should appear in messages.
    pub fn shown(&self, rel: &Path) -> PathBuf {
        self.path_display().shown(rel)
    }

    /// `allowed_account_ids` of little.yaml, as ids.
    pub fn allowed_account_ids(&self) -> Vec<String> {
        self.file
            .allowed_account_ids
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// `forbidden_account_ids` of little.yaml, as ids.
    pub fn forbidden_account_ids(&self) -> Vec<String> {
        self.file
            .forbidden_account_ids
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The account of `defaults.account`, if little.yaml names one.
    pub fn default_account(&self) -> Option<&Account> {
        self.file
            .defaults
            .account
            .as_ref()
            .and_then(|a| self.accounts.get(a))
    }

    /// How paths of this project are shown, detached from the project.
    pub fn path_display(&self) -> PathDisplay {
        PathDisplay {
            root: self.root.clone(),
            base: self.display_base.clone(),
        }
    }

    /// A file of this project that leads outside it, as a diagnostic (its path as shown).
    fn outside(&self, o: &files::Outside) -> Diagnostic {
        outside_diagnostic(&files::Outside {
            path: self.shown(&o.path),
            ..o.clone()
        })
    }

    /// The project's files, read without leaving the project.
    pub fn files(&self) -> &ProjectFiles {
        &self.files
    }

    pub fn templates_dir(&self) -> PathBuf {
        self.root.join("templates")
    }

    pub fn policies_dir(&self) -> PathBuf {
        self.root.join("policies")
    }

    pub fn stack(&self, name: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// The account a stack deploys into, if one is named (on the stack or as the default).
    pub fn account_of(&self, stack: &Stack) -> Option<&Account> {
        stack.account.as_ref().and_then(|a| self.accounts.get(a))
    }

    /// Puts `--region` in the place of `defaults.region`: for every stack that names no region
    /// of its own, and as the project's default region (what the audit, `little check` and
    /// templates' `project.region` read). Stacks that name a region keep it; see
    /// [`Project::check_region_flag`] for the selected ones.
    pub fn override_region(&mut self, region: &str) {
        self.file.defaults.region = Some(region.to_owned());
        for stack in &mut self.stacks {
            if stack.own_region.is_none() {
                stack.region = Some(region.to_owned());
            }
        }
    }

    /// Refuses `--region` for selected stacks that name another region of their own: the
    /// flag is for stacks that name none, and is never silently ignored.
    pub fn check_region_flag(&self, region: &str, selected: &[&Stack]) -> Result<()> {
        let conflicting: Vec<&&Stack> = selected
            .iter()
            .filter(|s| s.own_region.as_deref().is_some_and(|own| own != region))
            .collect();
        if conflicting.is_empty() {
            return Ok(());
        }
        let named: Vec<String> = conflicting
            .iter()
            .map(|s| {
                let key = if s.format == ConfigFormat::StackParams {
                    "Region"
                } else {
                    "region"
                };
                format!(
                    "stack `{}` names region `{}` ({})",
                    s.name,
                    s.own_region.as_deref().unwrap_or_default(),
                    s.key_location(self, &[key])
                )
            })
            .collect();
        let names: Vec<String> = conflicting
            .iter()
            .map(|s| format!("`{}`", s.name))
            .collect();
        Err(Error::Usage(format!(
            "`--region {region}` is for stacks that name no region, but {}; a stack's own region is never replaced: drop `--region`, or leave {} out of the selection",
            named.join(", "),
            names.join(", ")
        )))
    }

    /// A one-line warning when the environment's region (`AWS_REGION`, else
    /// `AWS_DEFAULT_REGION`) differs from `defaults.region`, which wins over it for the stacks
    /// that name no region; none when `--region` was given or nothing differs.
    pub fn region_warning(
        &self,
        flag: Option<&str>,
        environment: Option<(&str, &str)>,
    ) -> Option<String> {
        if flag.is_some() {
            return None;
        }
        let defaults = self.file.defaults.region.as_deref()?;
        let (variable, value) = environment?;
        if value == defaults {
            return None;
        }
        Some(format!(
            "{variable} is {value}, but little.yaml's `defaults.region` {defaults} is used for stacks that name no region; pass `--region {value}` to use {value}, or unset {variable}"
        ))
    }

    /// The stacks named, or all of them, in dependency order (dependencies first).
    pub fn select(&self, names: &[String], all: bool) -> Result<Vec<&Stack>> {
        if all {
            return Ok(self.in_order(self.stacks.iter().map(|s| s.name.clone())));
        }
        if names.is_empty() {
            return Err(Error::NoStacksSelected);
        }
        for name in names {
            if self.stack(name).is_none() {
                return Err(Error::UnknownStack {
                    name: name.clone(),
                    suggestion: closest(name, self.stacks.iter().map(|s| s.name.as_str())),
                });
            }
        }
        Ok(self.in_order(names.iter().cloned()))
    }

    fn in_order(&self, names: impl IntoIterator<Item = String>) -> Vec<&Stack> {
        let wanted: std::collections::BTreeSet<String> = names.into_iter().collect();
        self.graph
            .order()
            .iter()
            .filter(|n| wanted.contains(*n))
            .filter_map(|n| self.stack(n))
            .collect()
    }

    /// Every dependency of a stack: declared and implied by `stack_output()`.
    pub fn dependencies_of(&self, stack: &str) -> Vec<String> {
        self.graph.dependencies(stack).map(str::to_owned).collect()
    }

    fn check_project_file(&mut self, text: &str, diags: &mut Vec<Diagnostic>) {
        let file = self.shown(Path::new(PROJECT_FILE));
        let at = |path: &[&str], d: Diagnostic| {
            let loc = match yaml_key_position(text, path) {
                Some((l, c)) => Location::at(&file, l, Some(c)),
                None => Location::file(&file),
            };
            d.at(loc, Some(text))
        };
        for (name, acc) in &self.file.accounts {
            let id = acc.id.to_string();
            if !is_account_id(&id) {
                diags.push(at(
                    &["accounts", name, "id"],
                    Diagnostic::error(
                        "bad-account",
                        format!("account `{name}`: id `{id}` is not a 12-digit AWS account id"),
                    )
                    .with_note("quote the id (\"012345678901\") so YAML keeps leading zeros"),
                ));
            }
            if let Some(arn) = &acc.role_arn {
                if !is_role_arn(arn) {
                    diags.push(at(
                        &["accounts", name, "role_arn"],
                        Diagnostic::error(
                            "bad-account",
                            format!("account `{name}`: `{arn}` is not an IAM role ARN"),
                        ),
                    ));
                }
            }
            self.accounts.insert(
                name.clone(),
                Account {
                    name: name.clone(),
                    id,
                    role_arn: acc.role_arn.clone(),
                },
            );
        }
        for key in ["allowed_account_ids", "forbidden_account_ids"] {
            let ids = if key == "allowed_account_ids" {
                &self.file.allowed_account_ids
            } else {
                &self.file.forbidden_account_ids
            };
            for id in ids.iter().map(ToString::to_string) {
                if !is_account_id(&id) {
                    diags.push(at(
                        &[key],
                        Diagnostic::error(
                            "bad-account",
                            format!("`{key}`: `{id}` is not a 12-digit AWS account id"),
                        )
                        .with_note("quote the id (\"012345678901\") so YAML keeps leading zeros"),
                    ));
                }
            }
        }
        if !self.file.allowed_account_ids.is_empty() && !self.file.forbidden_account_ids.is_empty()
        {
            diags.push(at(
                &["forbidden_account_ids"],
                Diagnostic::error(
                    "wrong-type",
                    "set `allowed_account_ids` or `forbidden_account_ids`, not both",
                ),
            ));
        }
        if let Some(acc) = &self.file.defaults.account {
            if !self.accounts.contains_key(acc) {
                diags.push(at(
                    &["defaults", "account"],
                    unknown_account(acc, self.accounts.keys()),
                ));
            }
        }
        if let Some(region) = &self.file.defaults.region {
            if !is_region(region) {
                diags.push(at(&["defaults", "region"], bad_region(region)));
            }
        }
        for cap in &self.file.defaults.capabilities {
            if !CAPABILITIES.contains(&cap.as_str()) {
                diags.push(at(&["defaults", "capabilities"], bad_capability(cap)));
            }
        }
        diags.extend(crate::audit::org::check_audit_file(&self.file.audit, &at));
    }

    /// Stack config files under `stacks/`, relative to the root, in a stable order. A config
    /// or a folder that leads outside the project is left out, with a diagnostic.
    fn stack_files(&self, diags: &mut Vec<Diagnostic>) -> Result<Vec<PathBuf>> {
        let dir = self.root.join("stacks");
        if let Err(o) = self.files.resolve(Path::new("stacks")) {
            diags.push(self.outside(&o).in_file(&self.shown(Path::new("stacks"))));
            return Ok(Vec::new());
        }
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut files = Vec::new();
        let mut outside = Vec::new();
        // Links are followed: a stacks folder mounted from a Kubernetes ConfigMap is links.
        // Links that lead outside the project are not.
        let walk = walkdir::WalkDir::new(&dir)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                if e.file_name().to_string_lossy().starts_with('.') {
                    return false;
                }
                if !e.path_is_symlink() {
                    return true;
                }
                match self.files.resolve(e.path()) {
                    Ok(_) => true,
                    Err(o) => {
                        outside.push(o);
                        false
                    }
                }
            });
        for entry in walk {
            let entry = entry.map_err(|e| Error::Read {
                path: dir.clone(),
                source: e.into(),
            })?;
            let path = entry.path();
            let is_config = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            );
            if entry.file_type().is_file() && is_config {
                let rel = path.strip_prefix(&self.root).unwrap_or(path).to_path_buf();
                files.push(rel);
            }
        }
        for o in outside {
            diags.push(self.outside(&o).in_file(&self.shown(&o.path)));
        }
        Ok(files)
    }

    fn load_stack(&self, rel: &Path) -> Result<Stack, Vec<Diagnostic>> {
        let shown = self.shown(rel);
        let text = match self.files.read_to_string(rel) {
            Ok(Some(text)) => text,
            Err(ReadError::Outside(o)) => return Err(vec![self.outside(&o).in_file(&shown)]),
            Ok(None) | Err(ReadError::Io(_)) => read(&self.root.join(rel))
                .map_err(|e| vec![Diagnostic::error("read", e.to_string()).in_file(&shown)])?,
        };
        let is_json = rel.extension().is_some_and(|e| e == "json");
        let (raw, format) = if is_json {
            (legacy::parse(&shown, &text), ConfigFormat::StackParams)
        } else {
            (parse_yaml::<StackFile>(&shown, &text), ConfigFormat::Native)
        };
        let raw = raw.map_err(|d| vec![d])?;
        let defaults = &self.file.defaults;
        let mut tags: IndexMap<String, String> = defaults
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        for (k, v) in &raw.tags {
            tags.insert(k.clone(), v.to_string());
        }
        let mut stack = Stack {
            name: raw.name.clone(),
            file: rel.to_path_buf(),
            source: text,
            format,
            template: String::new(),
            region: raw.region.clone().or_else(|| defaults.region.clone()),
            own_region: raw.region.clone(),
            account: raw.account.clone().or_else(|| defaults.account.clone()),
            termination_protection: raw
                .termination_protection
                .or(defaults.termination_protection)
                .unwrap_or(false),
            capabilities: if raw.capabilities.is_empty() {
                defaults.capabilities.clone()
            } else {
                raw.capabilities.clone()
            },
            depends_on: raw.depends_on.clone(),
            output_refs: Vec::new(),
            parameters: raw
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.to_cfn_string()))
                .collect(),
            tags,
            variables: raw.variables.clone(),
            timeout_in_minutes: raw.timeout_in_minutes,
            description: raw.description.clone(),
            stack_policy: raw.stack_policy.as_ref().map(|p| p.to_string()),
            notification_arns: raw.notification_arns.clone(),
            role_arn: raw.role_arn.clone(),
            stack_set: None,
        };

        let mut diags = Vec::new();
        if !is_stack_name(&stack.name) {
            diags.push(stack.diagnostic_at(
                self,
                &[if is_json { "StackName" } else { "name" }],
                Diagnostic::error(
                    "bad-stack-name",
                    format!(
                        "`{}` is not a valid stack name: it must start with a letter and hold only letters, digits and hyphens (at most 128)",
                        stack.name
                    ),
                ),
            ));
        }
        let template_key: &[&str] = if is_json {
            &["TemplatePath"]
        } else {
            &["template"]
        };
        match self.resolve_template(&raw.template, rel) {
            Ok(name) => stack.template = name,
            Err(d) => diags.push(stack.diagnostic_at(self, template_key, d)),
        }
        if let Some(acc) = &raw.account {
            if !self.accounts.contains_key(acc) {
                diags.push(stack.diagnostic_at(
                    self,
                    &["account"],
                    unknown_account(acc, self.accounts.keys()),
                ));
            }
        }
        if let Some(region) = &raw.region {
            if !is_region(region) {
                let key = if is_json { "Region" } else { "region" };
                diags.push(stack.diagnostic_at(self, &[key], bad_region(region)));
            }
        }
        for cap in &raw.capabilities {
            if !CAPABILITIES.contains(&cap.as_str()) {
                let key = if is_json {
                    "Capabilities"
                } else {
                    "capabilities"
                };
                diags.push(stack.diagnostic_at(self, &[key], bad_capability(cap)));
            }
        }
        if let Some(arn) = &raw.role_arn {
            if !is_role_arn(arn) {
                diags.push(stack.diagnostic_at(
                    self,
                    &["role_arn"],
                    Diagnostic::error("wrong-type", format!("`{arn}` is not an IAM role ARN")),
                ));
            }
        }
        if let Some(policy) = &raw.stack_policy {
            if policy.get("Statement").is_none() {
                diags.push(stack.diagnostic_at(
                    self,
                    &["stack_policy"],
                    Diagnostic::error(
                        "wrong-type",
                        "`stack_policy` must be a stack policy document with a `Statement`",
                    ),
                ));
            }
        }
        if let Some(t) = raw.timeout_in_minutes {
            if t == 0 {
                diags.push(stack.diagnostic_at(
                    self,
                    &["timeout_in_minutes"],
                    Diagnostic::error("wrong-type", "`timeout_in_minutes` must be at least 1"),
                ));
            }
        }
        let located = stack.clone();
        match stackset::resolve(&raw, &self.accounts, &|path, d| {
            located.diagnostic_at(self, path, d)
        }) {
            Ok(set) => {
                if set.is_some() {
                    // Termination protection is a stack's; a StackSet's instances have none.
                    stack.termination_protection = false;
                }
                stack.stack_set = set;
            }
            Err(d) => diags.extend(d),
        }
        // stack_output() references in the config's own text and in the template's.
        let mut refs = find_stack_outputs(&stack.source);
        if !stack.template.is_empty() {
            if let Some(t) = self
                .files
                .text(&Path::new("templates").join(&stack.template))
            {
                // A template shared by several stacks may read one of them; a stack never
                // depends on itself through its template (the call is conditional).
                refs.extend(
                    find_stack_outputs(&t)
                        .into_iter()
                        .filter(|(dep, _)| dep != &stack.name),
                );
            }
        }
        refs.sort();
        refs.dedup();
        stack.output_refs = refs;

        if diags.is_empty() {
            Ok(stack)
        } else {
            Err(diags)
        }
    }

    /// Resolves a stack's template path to a name under `templates/`.
    fn resolve_template(&self, template: &str, config: &Path) -> Result<String, Diagnostic> {
        let templates = self.templates_dir();
        let mut candidates = vec![templates.join(template), self.root.join(template)];
        if let Some(dir) = config.parent() {
            candidates.push(self.root.join(dir).join(template));
        }
        for c in &candidates {
            if c.is_file() {
                let c = normalize(c);
                return match c.strip_prefix(normalize(&templates)) {
                    Ok(rel) => match self.files.resolve(&c) {
                        Ok(_) => Ok(rel.to_string_lossy().replace('\\', "/")),
                        Err(o) => Err(self.outside(&o)),
                    },
                    Err(_) => Err(Diagnostic::error("missing-template", format!(
                        "template `{template}` is outside `templates/`; move it there so that includes resolve"
                    ))),
                };
            }
        }
        Err(Diagnostic::error(
            "missing-template",
            format!(
                "template `{template}` not found in `{}`",
                self.shown(Path::new("templates")).display()
            ),
        ))
    }

    fn build_graph(&mut self, diags: &mut Vec<Diagnostic>) {
        let mut graph = Graph::new();
        for stack in &self.stacks {
            graph.add_node(&stack.name);
            let known = |n: &str| self.stacks.iter().any(|s| s.name == n);
            let names = || self.stacks.iter().map(|s| s.name.as_str());
            let key = if stack.format == ConfigFormat::StackParams {
                "DependsOn"
            } else {
                "depends_on"
            };
            for dep in &stack.depends_on {
                if dep == &stack.name {
                    diags.push(self.at_value(
                        stack,
                        key,
                        dep,
                        Diagnostic::error(
                            "dependency-cycle",
                            format!("stack `{dep}` depends on itself"),
                        ),
                    ));
                } else if known(dep) {
                    graph.add_edge(&stack.name, dep);
                } else {
                    let mut d = Diagnostic::error(
                        "unknown-stack",
                        format!("`depends_on` names unknown stack `{dep}`"),
                    );
                    if let Some(s) = closest(dep, names()) {
                        d = d.with_note(format!("did you mean `{s}`?"));
                    }
                    diags.push(self.at_value(stack, key, dep, d));
                }
            }
            for (dep, output) in &stack.output_refs {
                if dep == &stack.name {
                    diags.push(stack.diagnostic_at(self, &[], Diagnostic::error(
                        "dependency-cycle",
                        format!("stack `{dep}` reads its own output `{output}` with `stack_output()`"),
                    )).in_file(&self.shown(&stack.file)));
                } else if self.stack(dep).is_some_and(|d| d.stack_set.is_some()) {
                    let d = Diagnostic::error(
                        "stack-set",
                        format!("`stack_output('{dep}', '{output}')` reads a StackSet, which has one stack per account and region and no outputs of its own"),
                    )
                    .with_note("read the output of one instance with a stack config of its own, or pass the value as a variable");
                    diags.push(self.locate_output_ref(stack, dep, d));
                } else if known(dep) {
                    graph.add_edge(&stack.name, dep);
                } else {
                    let mut d = Diagnostic::error(
                        "unknown-stack",
                        format!("`stack_output('{dep}', '{output}')` names unknown stack `{dep}`"),
                    );
                    if let Some(s) = closest(dep, names()) {
                        d = d.with_note(format!("did you mean `{s}`?"));
                    }
                    diags.push(self.locate_output_ref(stack, dep, d));
                }
            }
        }
        if let Some(cycle) = graph.find_cycle() {
            let first = self.stack(&cycle[0]);
            let files: Vec<String> = cycle[..cycle.len() - 1]
                .iter()
                .filter_map(|n| self.stack(n))
                .map(|s| format!("`{}` in {}", s.name, self.shown(&s.file).display()))
                .collect();
            let mut d = Diagnostic::error(
                "dependency-cycle",
                format!("dependency cycle: {}", cycle.join(" -> ")),
            )
            .with_note(format!("the stacks on the cycle: {}", files.join(", ")));
            if let Some(s) = first {
                let next = &cycle[1];
                d = if s.depends_on.contains(next) {
                    self.at_value(s, "depends_on", next, d)
                } else {
                    self.locate_output_ref(s, next, d)
                };
            }
            diags.push(d);
        }
        self.graph = graph;
    }

    fn at_value(&self, stack: &Stack, key: &str, value: &str, d: Diagnostic) -> Diagnostic {
        let file = self.shown(&stack.file);
        let loc = match yaml_value_position(&stack.source, &[key], value) {
            Some((l, c)) => Location::at(file, l, Some(c)),
            None => stack.key_location(self, &[key]),
        };
        d.at(loc, Some(&stack.source)).with_stack(&stack.name)
    }

    /// Points at a `stack_output('dep', ...)` call: in the config if it is there, else in the
    /// template.
    fn locate_output_ref(&self, stack: &Stack, dep: &str, d: Diagnostic) -> Diagnostic {
        if let Some((l, c)) = find_output_call(&stack.source, dep) {
            return d
                .at(
                    Location::at(self.shown(&stack.file), l, Some(c)),
                    Some(&stack.source),
                )
                .with_stack(&stack.name);
        }
        let rel = Path::new("templates").join(&stack.template);
        if let Some(text) = self.files.text(&rel) {
            if let Some((l, c)) = find_output_call(&text, dep) {
                return d
                    .at(Location::at(self.shown(&rel), l, Some(c)), Some(&text))
                    .with_stack(&stack.name);
            }
        }
        d.in_file(&self.shown(&stack.file)).with_stack(&stack.name)
    }
}

/// A file that leads outside the project (see [`files`]), as a diagnostic.
pub fn outside_diagnostic(o: &files::Outside) -> Diagnostic {
    Diagnostic::error("outside-project", o.to_string()).with_note(OUTSIDE_HELP)
}

/// What to do about a file that leads outside the project.
pub const OUTSIDE_HELP: &str = "the file was not read: the files a project reads must resolve inside it; copy it into the project, or link to a file inside the project";

fn unknown_account<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> Diagnostic {
    let known: Vec<&str> = known.map(String::as_str).collect();
    let mut d = Diagnostic::error(
        "unknown-account",
        format!("unknown account `{name}`: it is not in `accounts` of little.yaml"),
    );
    if let Some(s) = closest(name, known.iter().copied()) {
        d = d.with_note(format!("did you mean `{s}`?"));
    } else if !known.is_empty() {
        d = d.with_note(format!("known accounts: {}", known.join(", ")));
    }
    d
}

/// A region name that is not one of AWS's, with the region it was probably meant to be.
pub(crate) fn bad_region(region: &str) -> Diagnostic {
    let message = crate::region::check(region)
        .err()
        .unwrap_or_else(|| format!("`{region}` is not an AWS region"));
    Diagnostic::error("bad-region", message)
}

fn bad_capability(cap: &str) -> Diagnostic {
    Diagnostic::error(
        "bad-capability",
        format!(
            "unknown capability `{cap}`; CloudFormation knows {}",
            CAPABILITIES.join(", ")
        ),
    )
}

/// A region AWS has (`us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`): see
/// [`crate::region`] for the list.
pub fn is_region(s: &str) -> bool {
    crate::region::is_known(s)
}

/// A 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_stack_name(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[5].starts_with("role/")
}

/// Every `stack_output('stack', 'key')` call in a text (a template or a config).
pub fn find_stack_outputs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("stack_output(") {
        rest = &rest[i + "stack_output(".len()..];
        let mut args = rest;
        let mut strings = Vec::new();
        for _ in 0..2 {
            args = args.trim_start();
            let Some(q) = args.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                break;
            };
            let Some(end) = args[1..].find(q) else { break };
            strings.push(args[1..1 + end].to_owned());
            args = args[end + 2..].trim_start();
            args = args.strip_prefix(',').unwrap_or(args);
        }
        if strings.len() == 2 {
            out.push((strings[0].clone(), strings[1].clone()));
        }
    }
    out
}

fn find_output_call(text: &str, dep: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let at = line.find("stack_output(")?;
        let rest = &line[at..];
        (rest.contains(&format!("'{dep}'")) || rest.contains(&format!("\"{dep}\"")))
            .then(|| (i + 1, line[..at].chars().count() + 1))
    })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn absolute(p: &Path) -> PathBuf {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    normalize(&p)
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_stack_output_calls() {
        let t = r#"{{ stack_output('iam-roles', 'CiRoleArn') }} {{ stack_output("a","B") }} stack_output(x)"#;
        assert_eq!(
            find_stack_outputs(t),
            vec![
                ("iam-roles".to_owned(), "CiRoleArn".to_owned()),
                ("a".to_owned(), "B".to_owned())
            ]
        );
    }

    fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let project = Project::load(dir.path()).unwrap();
        (dir, project)
    }

    const REGIONS: &[(&str, &str)] = &[
        ("little.yaml", "defaults:\n  region: us-east-1\n"),
        ("templates/t.json", "{}"),
        ("stacks/plain.yaml", "name: plain\ntemplate: t.json\n"),
        (
            "stacks/pinned.yaml",
            "name: pinned\ntemplate: t.json\nregion: eu-west-1\n",
        ),
    ];

    #[test]
    fn the_region_flag_replaces_defaults_region_for_stacks_that_name_none() {
        let (_d, mut p) = load(REGIONS);
        assert_eq!(
            p.stack("plain").unwrap().region.as_deref(),
            Some("us-east-1")
        );
        assert_eq!(p.stack("plain").unwrap().own_region, None);
        p.override_region("us-west-2");
        assert_eq!(
            p.stack("plain").unwrap().region.as_deref(),
            Some("us-west-2")
        );
        assert_eq!(
            p.stack("pinned").unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(p.file.defaults.region.as_deref(), Some("us-west-2"));
    }

    #[test]
    fn the_region_flag_against_a_selected_stacks_own_region_is_an_error() {
        let (_d, mut p) = load(REGIONS);
        p.override_region("us-west-2");
        let plain = p.select(&["plain".into()], false).unwrap();
        assert!(p.check_region_flag("us-west-2", &plain).is_ok());
        // The same region as the stack's own is no conflict.
        let pinned = p.select(&["pinned".into()], false).unwrap();
        assert!(p.check_region_flag("eu-west-1", &pinned).is_ok());
        let all = p.select(&[], true).unwrap();
        let err = p
            .check_region_flag("us-west-2", &all)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "`--region us-west-2` is for stacks that name no region, but stack `pinned` names region `eu-west-1` ("
            ),
            "{err}"
        );
        assert!(
            err.contains("pinned.yaml:3:1); a stack's own region is never replaced: drop `--region`, or leave `pinned` out of the selection"),
            "{err}"
        );
        assert!(!err.contains("plain"), "{err}");
    }

    #[test]
    fn the_environments_region_is_warned_about_when_defaults_region_wins() {
        let (_d, p) = load(REGIONS);
        let warning = p
            .region_warning(None, Some(("AWS_REGION", "eu-central-1")))
            .unwrap();
        assert_eq!(
            warning,
            "AWS_REGION is eu-central-1, but little.yaml's `defaults.region` us-east-1 is used for stacks that name no region; pass `--region eu-central-1` to use eu-central-1, or unset AWS_REGION"
        );
        assert_eq!(
            p.region_warning(None, Some(("AWS_REGION", "us-east-1"))),
            None
        );
        assert_eq!(
            p.region_warning(Some("eu-central-1"), Some(("AWS_REGION", "eu-central-1"))),
            None
        );
        assert_eq!(p.region_warning(None, None), None);
        let (_d, no_default) = load(&[("little.yaml", "name: x\n")]);
        assert_eq!(
            no_default.region_warning(None, Some(("AWS_DEFAULT_REGION", "eu-central-1"))),
            None
        );
    }

    #[test]
    fn misspelt_regions_are_refused_with_the_one_meant() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("little.yaml"),
            "defaults:\n  region: us-esat-1\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/t.json"), "{}").unwrap();
        std::fs::write(
            dir.path().join("stacks/a.yaml"),
            "name: a\ntemplate: t.json\nregion: eu-wset-1\n",
        )
        .unwrap();
        let err = Project::load(dir.path()).unwrap_err();
        let messages: Vec<String> = err
            .diagnostics()
            .iter()
            .map(|d| d.message.clone())
            .collect();
        assert_eq!(
            messages,
            vec![
                "`us-esat-1` is not an AWS region (did you mean `us-east-1`?)".to_owned(),
                "`eu-wset-1` is not an AWS region (did you mean `eu-west-1`?)".to_owned(),
            ]
        );
    }

    #[test]
    fn allowed_and_forbidden_account_ids_are_ids_and_exclusive() {
        let (_d, p) = load(&[(
            "little.yaml",
            "allowed_account_ids: [\"123456789012\", \"210987654321\"]\n",
        )]);
        assert_eq!(
            p.allowed_account_ids(),
            vec!["123456789012", "210987654321"]
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("little.yaml"),
            "allowed_account_ids: [\"1234\"]\nforbidden_account_ids: [\"123456789012\"]\n",
        )
        .unwrap();
        let err = Project::load(dir.path()).unwrap_err();
        let messages: Vec<String> = err
            .diagnostics()
            .iter()
            .map(|d| d.message.clone())
            .collect();
        assert_eq!(
            messages,
            vec![
                "`allowed_account_ids`: `1234` is not a 12-digit AWS account id".to_owned(),
                "set `allowed_account_ids` or `forbidden_account_ids`, not both".to_owned(),
            ]
        );
    }

    #[test]
    fn names_and_regions() {
        assert!(is_stack_name("ecr-repositories"));
        assert!(!is_stack_name("1abc"));
        assert!(!is_stack_name("a_b"));
        assert!(is_region("us-east-1"));
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("us-esat-1"));
        assert!(!is_region("useast1"));
        assert!(!is_region("US-EAST-1"));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/x"));
        assert!(!is_role_arn("arn:aws:iam::123:role/x"));
    }
}
