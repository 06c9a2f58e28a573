//! The commands that need no project: `init` (scaffold a project from the bootstrap library
//! embedded in the binary), `schema` (JSON Schemas of little.yaml, stack configs, the plan
//! and the audit report), `completions`, `man`, and `healthcheck` (for a container's
//! HEALTHCHECK where there is no curl); and the version string with the git revision.
//!
//! These commands are about the tool itself, not about stacks: they never load a project,
//! never call AWS, and are run by `run` before it looks for `little.yaml`.

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, CommandFactory, ValueEnum};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;

use super::output::stderr_line;
use super::Cli;
use crate::error::{exit, Error, Result};

/// `little --version`: the package version and the git revision it was built from (see
/// `build.rs`), such as `0.1.0 (3f2a1c9d0e1b)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("LITTLE_GIT_REVISION"),
    ")"
);

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project directory, created if missing [default: the current directory]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which document
    #[arg(value_enum, value_name = "KIND")]
    pub kind: SchemaKind,
}

/// The documents that have a JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// little.yaml
    LittleYaml,
    /// A stack config (stacks/<group>/<name>.yaml)
    Stack,
    /// The plan of `little plan --format json` and `--out`
    Plan,
    /// The report of `little audit --format json`
    Audit,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (little.1, little-plan.1, ...) into DIR instead of printing
    /// the page of `little`
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The URL to GET
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:9000/healthz"
    )]
    pub url: String,
    /// Give up after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
}

impl SchemaKind {
    /// The file name under `schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaKind::LittleYaml => "little.schema.json",
            SchemaKind::Stack => "stack.schema.json",
            SchemaKind::Plan => "plan.schema.json",
            SchemaKind::Audit => "audit.schema.json",
        }
    }

    fn describe(self) -> (&'static str, &'static str) {
        match self {
            SchemaKind::LittleYaml => (
                "little.yaml",
                "A little-stack project: its name, defaults, accounts, variables and audit settings.",
            ),
            SchemaKind::Stack => (
                "little-stack stack config",
                "One CloudFormation stack of a little-stack project (stacks/<group>/<name>.yaml).",
            ),
            SchemaKind::Plan => (
                "little plan",
                "The plan that `little plan --format json` prints and `--out` saves (version 1).",
            ),
            SchemaKind::Audit => (
                "little audit report",
                "The report that `little audit --format json` prints (version 1).",
            ),
        }
    }
}

/// The JSON Schema (draft 2020-12) of one document, pretty-printed with a final newline.
///
/// little.yaml and stack configs are described as `little` reads them (what serde accepts:
/// unknown keys are errors, optional keys may be absent); the plan and the audit report as
/// `little` writes them.
pub fn schema_text(kind: SchemaKind) -> String {
    use crate::audit::model::AuditReport;
    use crate::plan::model::Plan;
    use crate::project::config::{ProjectFile, StackFile};
    use schemars::generate::SchemaSettings;
    let settings = SchemaSettings::draft2020_12();
    let mut schema = match kind {
        SchemaKind::LittleYaml => settings
            .for_deserialize()
            .into_generator()
            .into_root_schema_for::<ProjectFile>(),
        SchemaKind::Stack => settings
            .for_deserialize()
            .into_generator()
            .into_root_schema_for::<StackFile>(),
        SchemaKind::Plan => settings
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<Plan>(),
        SchemaKind::Audit => settings
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<AuditReport>(),
    };
    let (title, description) = kind.describe();
    schema.insert("title".into(), title.into());
    schema.insert("description".into(), description.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

pub fn schema(args: SchemaArgs, out: &mut dyn Write) -> Result<u8> {
    write_out(out, schema_text(args.kind).as_bytes())?;
    Ok(exit::OK)
}

pub fn completions(args: CompletionsArgs, out: &mut dyn Write) -> Result<u8> {
    // clap_complete panics when its writer fails (`| head`): generate into memory first.
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "little", &mut buf);
    write_out(out, &buf)?;
    Ok(exit::OK)
}

pub fn man(args: ManArgs, quiet: bool, out: &mut dyn Write) -> Result<u8> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    match args.out {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .map_err(Error::Io)?;
            write_out(out, &buf)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
                path: dir.clone(),
                source,
            })?;
            let mut written = Vec::new();
            write_pages(cmd, &dir, &mut written)?;
            if !quiet {
                for path in &written {
                    stderr_line(format_args!("wrote {}", path.display()));
                }
            }
        }
    }
    Ok(exit::OK)
}

/// One page for `cmd` and for each of its visible subcommands, depth first.
fn write_pages(cmd: clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    let page = clap_mangen::Man::new(cmd);
    let path = dir.join(page.get_filename());
    let mut buf = Vec::new();
    page.render(&mut buf).map_err(Error::Io)?;
    std::fs::write(&path, buf).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    written.push(path);
    Ok(())
}

fn write_out(out: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes).map_err(Error::output)?;
    out.flush().map_err(Error::output)
}

// ---------------------------------------------------------------------------------------
// init

/// Embeds files of this repository, by path relative to its root.
macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)))),*]
    };
}

/// The bootstrap library that `little init` copies: every file under `stacks/`,
/// `templates/` and `policies/` of this repository. A unit test compares this list with the
/// files on disk, so that a file added to the library cannot be left out.
pub const LIBRARY: &[(&str, &str)] = embed![
    "policies/bucket/tls-only.json.njk",
    "policies/iam/admin.json",
    "policies/iam/audit-read.json",
    "policies/iam/audit-remediate.json.njk",
    "policies/iam/ci-deploy.json.njk",
    "policies/iam/deny-outside-regions.json.njk",
    "policies/iam/developer-push.json.njk",
    "policies/iam/image-check-worker.json.njk",
    "policies/iam/operator.json.njk",
    "policies/iam/platform-read.json",
    "policies/iam/tls-only.json",
    "policies/iam/workload-boundary.json.njk",
    "policies/lifecycle/dev-images.json.njk",
    "policies/lifecycle/releases.json.njk",
    "policies/lifecycle/sandbox.json.njk",
    "policies/lifecycle/untagged.json.njk",
    "policies/queue/eventbridge-send.json.njk",
    "policies/repository/access.json.njk",
    "policies/resource/kms-sns-eventbridge.json.njk",
    "policies/topic/eventbridge-publish.json.njk",
    "policies/trust/account.json.njk",
    "policies/trust/github-oidc.json.njk",
    "policies/trust/human-mfa.json.njk",
    "policies/trust/service.json.njk",
    "stacks/ecr/registry-us-west-2.yaml",
    "stacks/ecr/registry.yaml",
    "stacks/ecr/repositories.yaml",
    "stacks/iam/audit.yaml",
    "stacks/iam/ci.yaml",
    "stacks/iam/humans.yaml",
    "stacks/org/guardrails-us-west-2.yaml",
    "stacks/org/guardrails.yaml",
    "stacks/pipelines/image-check.yaml",
    "stacks/pipelines/scan-notify.yaml",
    "templates/ecr/registry.json.njk",
    "templates/ecr/repositories.json.njk",
    "templates/iam/audit.json.njk",
    "templates/iam/ci.json.njk",
    "templates/iam/humans.json.njk",
    "templates/lib/macros.njk",
    "templates/org/guardrails.json.njk",
    "templates/pipelines/image-check.json.njk",
    "templates/pipelines/scan-notify.json.njk",
];

/// The folders whose every file is in [`LIBRARY`].
pub const LIBRARY_DIRS: [&str; 3] = ["stacks", "templates", "policies"];

/// The scaffolded `little.yaml`: the accounts and variables the bootstrap stacks refer to,
/// with placeholder values.
const PROJECT_YAML: &str = r#"# yaml-language-server: $schema=schemas/little.schema.json
# A little-stack project, scaffolded by `little init`: an account bootstrap with ECR
# repositories and registry settings, IAM roles for people, CI and audits, and the image check
# and scan notification pipelines. Replace every value marked REPLACE before you deploy.
name: acme-platform                  # REPLACE: IAM role names start with it (and so do the
                                     # trusted_roles of stacks/iam/audit.yaml)
defaults:
  region: us-east-1                  # for stacks that name none
  account: tooling                   # for stacks that name none: a name from `accounts`
  tags: {managed-by: little, owner: platform}
  termination_protection: true
  capabilities: []
accounts:                            # names for account ids; stacks refer to the names
  tooling: {id: "111111111111"}      # REPLACE with your tooling account's id: CI, registry,
                                     # pipelines, people's roles
  prod: {id: "222222222222"}         # REPLACE with your production account's id: it only
                                     # pulls images (add role_arn: to deploy there)
variables:
  # REPLACE with your AWS Organization's id (o-...): its accounts may pull images. Remove it
  # to allow only the accounts each stack lists.
  organization_id: o-exampleorg1
audit:
  fail_on: HIGH                      # `little audit` exits 2 at or above this severity
"#;

/// The scaffolded CI workflow: this repository's example of a plan on every pull request.
const WORKFLOW: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/github-actions/plan.yml"
));

/// Where the scaffolded files go, relative to the project directory, and their text.
pub fn scaffold() -> Vec<(String, Cow<'static, str>)> {
    let mut files: Vec<(String, Cow<'static, str>)> =
        vec![("little.yaml".into(), Cow::Borrowed(PROJECT_YAML))];
    files.extend(
        LIBRARY
            .iter()
            .map(|(path, text)| ((*path).to_owned(), Cow::Borrowed(*text))),
    );
    for kind in [SchemaKind::LittleYaml, SchemaKind::Stack] {
        files.push((
            format!("schemas/{}", kind.file_name()),
            Cow::Owned(schema_text(kind)),
        ));
    }
    files.push((
        ".github/workflows/little-plan.yml".into(),
        Cow::Borrowed(WORKFLOW),
    ));
    files
}

pub fn init(args: InitArgs, out: &mut dyn Write) -> Result<u8> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let files = scaffold();
    let taken: Vec<&str> = files
        .iter()
        .filter(|(rel, _)| is_taken(&dir, rel))
        .map(|(rel, _)| rel.as_str())
        .collect();
    if !taken.is_empty() {
        return Err(Error::Refused(format!(
            "`little init` would overwrite {} file{} in `{}`, so it wrote nothing:\n  {}",
            taken.len(),
            if taken.len() == 1 { "" } else { "s" },
            dir.display(),
            taken.join("\n  ")
        )));
    }
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        // create_new: never overwrite, even a file that appeared since the check.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
    }
    let shown = dir.display().to_string();
    writeln!(out, "created {} files in `{shown}`:", files.len()).map_err(Error::output)?;
    for (rel, _) in &files {
        writeln!(out, "  {rel}").map_err(Error::output)?;
    }
    let cd = if dir == Path::new(".") {
        String::new()
    } else {
        format!("  cd {}\n", shell_word(&shown))
    };
    write!(
        out,
        "\nnext steps:\n{cd}  \
         # little.yaml: replace the placeholders marked REPLACE (account ids, organization id)\n  \
         # .github/workflows/little-plan.yml: replace its install step as its comment says, and\n  \
         # set the repository variable LITTLE_PLAN_ROLE_ARN\n  \
         little validate --all\n  \
         little plan --all\n"
    )
    .map_err(Error::output)?;
    Ok(exit::OK)
}

/// Whether writing `rel` under `dir` would overwrite something: the file itself, or a folder
/// on its way that exists as a file.
fn is_taken(dir: &Path, rel: &str) -> bool {
    let path = dir.join(rel);
    if path.symlink_metadata().is_ok() {
        return true;
    }
    path.ancestors()
        .skip(1)
        .take_while(|a| a.starts_with(dir) && *a != dir)
        .any(|a| a.symlink_metadata().is_ok_and(|m| !m.is_dir()))
}

/// `s` quoted for a POSIX shell when it needs to be.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

// ---------------------------------------------------------------------------------------
// healthcheck

pub fn healthcheck(args: HealthcheckArgs, quiet: bool, out: &mut dyn Write) -> Result<u8> {
    let uri: http::Uri = args
        .url
        .parse()
        .ok()
        .filter(|u: &http::Uri| u.host().is_some())
        .ok_or_else(|| Error::Usage(format!("`{}` is not a valid URL", args.url)))?;
    let timeout = Duration::from_secs(args.timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Io)?;
    let outcome = runtime.block_on(async {
        tokio::time::timeout(timeout, get(&uri))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", timeout.as_secs())))
    });
    match outcome {
        Ok(status) if status.is_success() => {
            if !quiet {
                write_out(
                    out,
                    format!("healthy: {uri} answered {status}\n").as_bytes(),
                )?;
            }
            Ok(exit::OK)
        }
        Ok(status) => {
            stderr_line(format_args!("unhealthy: {uri} answered {status}"));
            Ok(exit::ERROR)
        }
        Err(why) => {
            stderr_line(format_args!("unhealthy: {uri}: {why}"));
            Ok(exit::ERROR)
        }
    }
}

/// GETs `uri` (http, or https with the system's root certificates) and returns the answer's
/// status, having read the body. The error is a sentence naming the cause.
pub async fn get(uri: &http::Uri) -> std::result::Result<http::StatusCode, String> {
    if !matches!(uri.scheme_str(), Some("http") | Some("https")) {
        return Err("the URL must start with http:// or https://".into());
    }
    let client: crate::net::HttpClient<Empty<Bytes>> = crate::net::client()?;
    let request = http::Request::get(uri.clone())
        .header(
            http::header::USER_AGENT,
            concat!("little-stack/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = client
        .request(request)
        .await
        .map_err(|e| crate::net::error_text(&e))?;
    let status = response.status();
    let _ = response.into_body().collect().await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn the_embedded_library_is_every_file_on_disk() {
        let mut on_disk = BTreeSet::new();
        for dir in LIBRARY_DIRS {
            for entry in walkdir::WalkDir::new(root().join(dir)) {
                let entry = entry.unwrap();
                if entry.file_type().is_file() {
                    let rel = entry.path().strip_prefix(root()).unwrap();
                    on_disk.insert(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let embedded: BTreeSet<String> = LIBRARY.iter().map(|(p, _)| p.to_string()).collect();
        let missing: Vec<_> = on_disk.difference(&embedded).collect();
        let gone: Vec<_> = embedded.difference(&on_disk).collect();
        assert!(
            missing.is_empty() && gone.is_empty(),
            "update LIBRARY in src/cli/kit.rs: files not embedded: {missing:?}; embedded files \
             no longer on disk: {gone:?}"
        );
        assert_eq!(embedded.len(), LIBRARY.len(), "LIBRARY lists a file twice");
    }

    #[test]
    fn the_scaffolded_project_file_parses_and_names_what_the_stacks_use() {
        let file: crate::project::config::ProjectFile =
            crate::project::config::parse_yaml(Path::new("little.yaml"), PROJECT_YAML).unwrap();
        let repo: crate::project::config::ProjectFile = crate::project::config::parse_yaml(
            Path::new("little.yaml"),
            &std::fs::read_to_string(root().join("little.yaml")).unwrap(),
        )
        .unwrap();
        // The stacks refer to the repository's accounts and variables: keep the same names.
        let names = |f: &crate::project::config::ProjectFile| -> Vec<String> {
            f.accounts.keys().cloned().collect()
        };
        assert_eq!(names(&file), names(&repo));
        for key in repo.variables.keys() {
            assert!(file.variables.contains_key(key), "variables.{key} missing");
        }
        assert_eq!(file.defaults.account, repo.defaults.account);
        assert!(PROJECT_YAML.contains("111111111111"));
    }

    #[test]
    fn the_workflow_is_yaml_that_plans() {
        let v: serde_norway::Value = serde_norway::from_str(WORKFLOW).unwrap();
        assert!(v.get("jobs").is_some());
        assert!(WORKFLOW.contains("little plan"));
    }

    #[test]
    fn scaffold_paths_are_unique_and_relative() {
        let files = scaffold();
        let set: BTreeSet<_> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(set.len(), files.len());
        assert!(files
            .iter()
            .all(|(p, _)| !p.starts_with('/') && !p.contains("..")));
    }

    #[test]
    fn taken_sees_files_and_files_in_the_way() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_taken(dir.path(), "stacks/ecr/a.yaml"));
        std::fs::write(dir.path().join("stacks"), "").unwrap();
        assert!(is_taken(dir.path(), "stacks/ecr/a.yaml"));
        assert!(is_taken(dir.path(), "stacks"));
    }

    #[test]
    fn schemas_reject_unknown_keys_and_are_draft_2020_12() {
        let v: serde_json::Value =
            serde_json::from_str(&schema_text(SchemaKind::LittleYaml)).unwrap();
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(v["additionalProperties"], false);
        let v: serde_json::Value = serde_json::from_str(&schema_text(SchemaKind::Stack)).unwrap();
        assert_eq!(v["additionalProperties"], false);
        assert!(v["required"]
            .as_array()
            .unwrap()
            .contains(&"template".into()));
    }

    #[test]
    fn version_names_the_revision() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(VERSION.ends_with(')'));
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("a/b-c"), "a/b-c");
        assert_eq!(shell_word("my dir"), "'my dir'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
