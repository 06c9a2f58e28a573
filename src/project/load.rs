//! Loading a project: `little.yaml` and every stack config under `stacks/`, each problem
//! reported at its file, line and column before anything runs (the project file's sections,
//! the stack configs, their templates and accounts, and the dependency graph with the
//! `stack_output()` calls that imply edges). What a loaded project is lives in `mod.rs`.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::config::{parse_yaml, ProjectFile, StackFile};
use super::files::{ProjectFiles, ReadError};
use super::{
    absolute, audit, bad_region, find_stack_outputs, legacy, normalize, placeholders, stackset,
    ConfigFormat, Graph, Project, Stack, StackKind, CAPABILITIES, PROJECT_FILE,
};
use crate::aws::connect::Account;
use crate::aws::names::{is_account_id, is_region, is_role_arn, is_stack_name};
use crate::diag::{Diagnostic, Location};
use crate::error::{Error, Result};
use crate::locate::config::{yaml_key_position, yaml_value_position};
use crate::text::closest;

impl Project {
    /// Loads the project at `root`, reporting every problem found.
    pub fn load(root: &Path) -> Result<Project> {
        let root = absolute(root);
        let display_base = std::env::current_dir().unwrap_or_else(|_| root.clone());
        let mut project = Project {
            name: String::new(),
            files: ProjectFiles::new(&root),
            root,
            templates: PathBuf::from("templates"),
            file: ProjectFile::default(),
            accounts: IndexMap::new(),
            reach: audit::Reach::default(),
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
        diags.extend(placeholders::diagnostics(&shown, &text));
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
            // A placeholder left by `little init` explains the errors its value causes (an
            // account id that is no id, an OU id that is none): the placeholders alone are
            // reported, to be replaced first.
            let (left, others): (Vec<_>, Vec<_>) = diags
                .into_iter()
                .partition(|d| d.code == placeholders::CODE);
            return Err(Error::Invalid(if left.is_empty() { others } else { left }));
        }
        Ok(project)
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
        let (reach, problems) = audit::resolve(
            &self.file.audit,
            &self.name,
            self.file.defaults.region.as_deref(),
            &at,
        );
        self.reach = reach;
        diags.extend(problems);
        let item_at = |i: usize, key: &str, d: Diagnostic| {
            let pointer = format!("/audit/kubernetes/{i}/{key}");
            let found = crate::locate::yaml_key_position(text, &pointer)
                .or_else(|| yaml_key_position(text, &["audit", "kubernetes"]));
            let loc = match found {
                Some((l, c)) => Location::at(&file, l, Some(c)),
                None => Location::file(&file),
            };
            d.at(loc, Some(text))
        };
        let (clusters, problems) =
            audit::kubernetes(&self.file.audit.kubernetes, &self.root, &item_at);
        self.reach.kubernetes = clusters;
        diags.extend(problems);
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
        self.stack_from_text(rel, text)
    }

    /// Loads one little-automation `stackParams.json` on its own, wherever it lives, as a
    /// project of that one stack: what `little stack` works on. Its template is
    /// `Littleware.TemplatePath` under `home` (little-automation's `$LITTLE_HOME`), or, without
    /// one, under the nearest folder upward from the file where that path names a file. The
    /// project's root is that folder and its templates folder is the template's own folder, so
    /// that `{% include "x.njk" %}` finds `x.njk` beside the template, as nunjucks did.
    /// `DependsOn` is left out: the other stacks are not loaded.
    pub fn from_stack_params(file: &Path, home: Option<&Path>) -> Result<Project> {
        let file = normalize(&absolute(file));
        let text = read(&file)?;
        Project::from_stack_params_text(&file, text, home)
    }

    /// [`Project::from_stack_params`] of a stackParams.json's text, as if read from `file`.
    pub fn from_stack_params_text(
        file: &Path,
        text: String,
        home: Option<&Path>,
    ) -> Result<Project> {
        let file = normalize(&absolute(file));
        let display_base = std::env::current_dir().unwrap_or_else(|_| file.clone());
        let shown = match file.strip_prefix(&display_base) {
            Ok(p) => p.to_path_buf(),
            Err(_) => file.clone(),
        };
        let template = legacy::parse(&shown, &text)
            .map_err(|d| Error::Invalid(vec![d]))?
            .template;
        let dir = file.parent().unwrap_or(Path::new("/"));
        let home = match home {
            Some(h) => normalize(&absolute(h)),
            None => dir
                .ancestors()
                .find(|a| a.join(&template).is_file())
                .unwrap_or(dir)
                .to_path_buf(),
        };
        let path = normalize(&home.join(&template));
        let templates = match path.parent().map(|p| p.strip_prefix(&home)) {
            Some(Ok(rel)) if path.is_file() => rel.to_path_buf(),
            _ => {
                let d = Diagnostic::error(
                    "missing-template",
                    format!(
                        "template `{template}` not found under `{}`{}",
                        home.display(),
                        if std::env::var_os("LITTLE_HOME").is_some() {
                            ""
                        } else {
                            " nor under any folder above the stack file"
                        }
                    ),
                )
                .with_note("`TemplatePath` is relative to $LITTLE_HOME (or `--home`), as in little-automation");
                let loc = match super::find_quoted(&text, "TemplatePath") {
                    Some((l, c)) => Location::at(&shown, l, Some(c)),
                    None => Location::file(&shown),
                };
                return Err(Error::Invalid(vec![d.at(loc, Some(&text))]));
            }
        };
        let mut project = Project {
            name: String::new(),
            files: ProjectFiles::new(&home),
            root: home,
            templates,
            file: ProjectFile::default(),
            accounts: IndexMap::new(),
            reach: audit::Reach::default(),
            stacks: Vec::new(),
            graph: Graph::new(),
            display_base,
        };
        let mut stack = project
            .stack_from_text(&file, text)
            .map_err(Error::Invalid)?;
        stack.depends_on.clear();
        project.name = stack.name.clone();
        project.stacks = vec![stack];
        let mut diags = Vec::new();
        project.build_graph(&mut diags);
        if diags.iter().any(Diagnostic::is_error) {
            return Err(Error::Invalid(diags));
        }
        Ok(project)
    }

    /// A stack from its config's text; `rel` is relative to the root (or absolute).
    fn stack_from_text(&self, rel: &Path, text: String) -> Result<Stack, Vec<Diagnostic>> {
        let shown = self.shown(rel);
        let left = placeholders::diagnostics(&shown, &text);
        if !left.is_empty() {
            return Err(left);
        }
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
            kind: StackKind::Single,
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
            Ok(Some(set)) => {
                // Termination protection is a stack's; a StackSet's instances have none.
                stack.termination_protection = false;
                stack.kind = StackKind::Set(set);
            }
            Ok(None) => {}
            Err(d) => diags.extend(d),
        }
        // stack_output() references in the config's own text and in the template's.
        let mut refs = find_stack_outputs(&stack.source);
        if !stack.template.is_empty() {
            if let Some(t) = self.files.text(&self.template_file(&stack.template)) {
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
                self.shown(&self.templates).display()
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
                } else if self.stack(dep).is_some_and(|d| d.kind.is_set()) {
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
                    // Not the stack itself: it cannot read its own outputs.
                    if let Some(s) = closest(dep, names().filter(|n| *n != stack.name)) {
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
        let rel = self.template_file(&stack.template);
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

fn bad_capability(cap: &str) -> Diagnostic {
    Diagnostic::error(
        "bad-capability",
        format!(
            "unknown capability `{cap}`; CloudFormation knows {}",
            CAPABILITIES.join(", ")
        ),
    )
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
