//! `little init`: the bootstrap library embedded in the binary (every file under `stacks/`,
//! `templates/` and `policies/` of this repository), a scaffolded little.yaml, the JSON
//! Schemas and a CI workflow, written into a project directory that must not have them yet.
//! What `init` prints is in `report::init`.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::schema::{schema_text, SchemaKind};

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
    "templates/iam/roles.json.njk",
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

/// Writes the scaffolded project into `dir` (created if missing) and returns the files
/// written, relative to it; refuses (writing nothing) when one of them exists already.
pub fn init(dir: &Path) -> Result<Vec<String>> {
    let files = scaffold();
    let taken: Vec<&str> = files
        .iter()
        .filter(|(rel, _)| is_taken(dir, rel))
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
    Ok(files.into_iter().map(|(rel, _)| rel).collect())
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

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
            "update LIBRARY in src/init.rs: files not embedded: {missing:?}; embedded files \
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
}
