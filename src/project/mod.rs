//! The project: `little.yaml`, the stack configs under `stacks/`, their validation and the
//! dependency graph between stacks. Loading reports every problem it finds, each at its file
//! and line, before anything is rendered or sent to AWS.
//!
//! Not here: rendering templates (`render`), anything that talks to AWS (`aws`).

pub mod audit;
pub mod config;
pub mod files;
pub mod graph;
pub mod legacy;
mod load;
pub mod placeholders;
pub mod stackset;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::aws::connect::Account;
use crate::diag::{Diagnostic, Location};
use crate::error::{Error, Result};
use crate::locate::config::yaml_key_position;
use crate::text::closest;
use config::ProjectFile;
use files::ProjectFiles;
pub use graph::Graph;

/// The file that marks a project's root.
pub const PROJECT_FILE: &str = "little.yaml";
/// CloudFormation's capabilities.
pub const CAPABILITIES: &[&str] = &[
    "CAPABILITY_IAM",
    "CAPABILITY_NAMED_IAM",
    "CAPABILITY_AUTO_EXPAND",
];

/// Which stacks an operation works on: the named ones, or all of them.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub names: Vec<String>,
    pub all: bool,
}

/// A loaded, validated project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `little.yaml`.
    pub root: PathBuf,
    pub name: String,
    pub file: ProjectFile,
    pub accounts: IndexMap<String, Account>,
    /// How far `little audit` reaches (little.yaml's `audit:`, resolved).
    pub reach: audit::Reach,
    /// Every stack, sorted by name.
    pub stacks: Vec<Stack>,
    pub graph: Graph,
    /// The folder of templates, relative to the root: `templates`, or (a stackParams.json
    /// loaded on its own, [`Project::from_stack_params`]) the template's own folder.
    templates: PathBuf,
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
    /// One stack, or a StackSet deployed to its targets.
    pub kind: StackKind,
}

/// What a stack config deploys: one stack in its account and region, or a StackSet whose
/// instances go to many. Operations match on it once, at their entry, so that a StackSet
/// branch cannot be forgotten.
#[derive(Debug, Clone, Default)]
pub enum StackKind {
    #[default]
    Single,
    /// A StackSet (`stack_set:` in the config) to these targets.
    Set(stackset::StackSetConfig),
}

impl StackKind {
    /// The StackSet settings, for a StackSet.
    pub fn stack_set(&self) -> Option<&stackset::StackSetConfig> {
        match self {
            StackKind::Single => None,
            StackKind::Set(set) => Some(set),
        }
    }

    pub fn is_set(&self) -> bool {
        matches!(self, StackKind::Set(_))
    }
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
        self.root.join(&self.templates)
    }

    /// The templates folder, relative to the root.
    pub fn templates_folder(&self) -> &Path {
        &self.templates
    }

    /// A template's file, relative to the root, from its name under the templates folder.
    pub fn template_file(&self, name: &str) -> PathBuf {
        self.templates.join(name)
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
}

/// A file that leads outside the project (see [`files`]), as a diagnostic.
pub fn outside_diagnostic(o: &files::Outside) -> Diagnostic {
    Diagnostic::error("outside-project", o.to_string()).with_note(OUTSIDE_HELP)
}

/// What to do about a file that leads outside the project.
pub const OUTSIDE_HELP: &str = "the file was not read: the files a project reads must resolve inside it; copy it into the project, or link to a file inside the project";

/// A region name that is not one of AWS's, with the region it was probably meant to be.
pub(crate) fn bad_region(region: &str) -> Diagnostic {
    let message = crate::region::check(region)
        .err()
        .unwrap_or_else(|| format!("`{region}` is not an AWS region"));
    Diagnostic::error("bad-region", message)
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

    #[test]
    fn audit_kubernetes_problems_are_reported_at_their_item_and_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("little.yaml"),
            "audit:\n  kubernetes:\n    - name: prod\n      kubeconfig: kube/prod.yaml\n    - name: here\n      in_cluster: true\n      context: eks\n",
        )
        .unwrap();
        let e = Project::load(dir.path()).unwrap_err();
        let d = e.diagnostics();
        assert_eq!(d.len(), 1, "{d:#?}");
        assert!(d[0]
            .message
            .contains("`kubeconfig` and `context` cannot go with it"));
        let loc = d[0].location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (Some(7), Some(7)), "{loc:?}");
        std::fs::write(
            dir.path().join("little.yaml"),
            "audit:\n  kubernetes:\n    - name: prod\n      kubeconfig: kube/prod.yaml\n",
        )
        .unwrap();
        let p = Project::load(dir.path()).unwrap();
        assert_eq!(p.reach.kubernetes.len(), 1);
        assert_eq!(
            p.reach.kubernetes[0].access,
            audit::KubernetesAccess::Kubeconfig {
                path: Some(p.root.join("kube/prod.yaml")),
                context: None
            }
        );
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
}
