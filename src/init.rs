//! `little init`: the bootstrap library embedded in the binary (every file under `stacks/`,
//! `templates/` and `policies/` of this repository), a scaffolded little.yaml, the JSON
//! Schemas and a CI workflow, written into a project directory that must not have them yet.
//! What `init` prints is in `report::init`.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::project::placeholders;
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

/// What `little init` fills in: the values that belong to someone else. Each one not given is
/// written as a placeholder (`REPLACE_ME_…`, see `project::placeholders`), which `little
/// validate` refuses until it is replaced.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// The GitHub repository (`OWNER/NAME`) whose workflows may assume the CI role.
    pub github_repo: Option<String>,
    /// The address that gets the scan notifications.
    pub notify_email: Option<String>,
    /// Scaffold the organisation's StackSets (the audit role in every member account, the
    /// guardrails), administered from a tooling account: their ids are placeholders.
    pub org: bool,
}

impl InitOptions {
    /// Refuses a repository that is not `OWNER/NAME` and an address that is no address,
    /// before anything is written.
    pub fn check(&self) -> Result<()> {
        if let Some(repo) = &self.github_repo {
            let ok = |part: &str| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            };
            let valid = matches!(repo.split_once('/'), Some((o, n)) if ok(o) && ok(n));
            if !valid {
                return Err(Error::Usage(format!(
                    "`--github-repo {repo}`: expected OWNER/NAME, such as `acme/platform` \
                     (letters, digits, `-`, `_` and `.`)"
                )));
            }
        }
        if let Some(email) = &self.notify_email {
            let valid = matches!(email.split_once('@'), Some((local, domain))
                if !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@'))
                && email
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !"\"\\,[]{}".contains(c));
            if !valid {
                return Err(Error::Usage(format!(
                    "`--notify-email {email}`: expected an email address, such as \
                     `platform-security@example.com`"
                )));
            }
        }
        Ok(())
    }
}

/// The stack configs, templates and policies only the organisation's StackSets use: scaffolded
/// with `--org` only, so that a project without an organisation plans anywhere (the emulator
/// too) with no extra step.
const ORG_ONLY: &[&str] = &[
    "stacks/iam/audit.yaml",
    "stacks/org/guardrails.yaml",
    "stacks/org/guardrails-us-west-2.yaml",
    "templates/iam/audit.json.njk",
    "templates/org/guardrails.json.njk",
    "policies/iam/audit-read.json",
    "policies/iam/audit-remediate.json.njk",
    "policies/iam/workload-boundary.json.njk",
    "policies/trust/account.json.njk",
];

/// The CI role's trusted subjects in the library, replaced by the user's repository.
const LIBRARY_SUBJECTS: &str = "    - \"repo:acme/platform:ref:refs/heads/main\"\n    \
                                - \"repo:acme/platform:environment:production\"\n    \
                                - \"repo:acme/team-a-*:ref:refs/heads/main\"\n";

/// The scan notifications' address in the library.
const LIBRARY_EMAILS: &str = "notify_emails: [platform-security@example.com]";

/// The library's account references that a project without `accounts` leaves out: the
/// replication destination and the people's roles trust their own account, and the
/// repositories are pulled by the accounts (and organisation) the user adds.
const ACCOUNT_EDITS: &[(&str, &str, &str)] = &[
    (
        "stacks/ecr/registry.yaml",
        "        - {region: us-west-2, account: tooling}   # account name from little.yaml, or an id",
        "        - {region: us-west-2}                     # this account (or account: a name from little.yaml, or an id)",
    ),
    (
        "stacks/iam/humans.yaml",
        "  trusted_account: tooling               # whose principals may assume the roles (with MFA)\n",
        "  # trusted_account: an account of little.yaml (or an id) whose principals may assume the\n  \
         # roles (with MFA) [default: this account]\n",
    ),
];

/// The repositories' pull accounts: the library's `prod` is not the user's.
const PULL_ACCOUNTS: (&str, &str, &str) = (
    "stacks/ecr/repositories.yaml",
    "  pull_accounts: [prod]                          # account names from little.yaml (or ids)",
    "  pull_accounts: []                              # account names from little.yaml (or ids) that may pull",
);

/// The library's example organisation, replaced everywhere in `--org` files: its OU ids by
/// placeholders (the project name `acme-platform` by the project's own).
const ORG_WORDS: &[(&str, &str)] = &[
    ("ou-a1b2-c3d4e5f6", placeholders::WORKLOADS_OU),
    ("ou-a1b2-k1l2m3n4", placeholders::INFRASTRUCTURE_OU),
];

/// The project name the library's stack configs use.
const LIBRARY_NAME: &str = "acme-platform";

/// The scaffolded `little.yaml`.
fn project_yaml(name: &str, options: &InitOptions) -> String {
    let mut text = format!(
        "# yaml-language-server: $schema=schemas/little.schema.json\n\
         # A little-stack project, scaffolded by `little init`: ECR repositories and registry\n\
         # settings, IAM roles for people and CI, and the image check and scan notification\n\
         # pipelines{}. `little validate --all` names each placeholder left to replace.\n\
         name: {name}{}# IAM role names start with it\n\
         defaults:\n  \
           region: us-east-1                  # for stacks that name none\n",
        if options.org {
            ", with the organisation's StackSets (the audit role and guardrails in member\n\
             # accounts)"
        } else {
            ""
        },
        " ".repeat(31usize.saturating_sub(name.len()).max(1)),
    );
    if options.org {
        text.push_str(&format!(
            "  account: tooling                   # for stacks that name none: a name from `accounts`\n  \
               tags: {{managed-by: little, owner: platform}}\n  \
               termination_protection: true\n  \
               capabilities: []\n\
             accounts:                            # names for account ids; stacks refer to the names\n  \
               # CI, registry, pipelines, people's roles; administers the StackSets (a delegated\n  \
               # administrator of StackSets of your organisation)\n  \
               tooling: {{id: \"{}\"}}\n\
             variables:\n  \
               # The AWS Organization whose accounts may pull the images (an aws:PrincipalOrgID\n  \
               # condition); remove it to allow only the accounts each stack lists.\n  \
               organization_id: {}\n",
            placeholders::TOOLING_ACCOUNT_ID,
            placeholders::ORGANIZATION_ID,
        ));
    } else {
        text.push_str(
            "  tags: {managed-by: little, owner: platform}\n  \
               termination_protection: true\n  \
               capabilities: []\n\
             # The stacks deploy into the account of the credentials they run with. To have\n\
             # `little` refuse any other account, list it:\n\
             #   allowed_account_ids: [\"123456789012\"]\n\
             # Accounts other stacks refer to by name (pull_accounts, trusted_account):\n\
             #   accounts:\n\
             #     prod: {id: \"210987654321\"}\n",
        );
    }
    text.push_str(
        "audit:\n  \
           fail_on: HIGH                      # `little audit` exits 2 at or above this severity\n",
    );
    text
}

/// The scaffolded CI workflow: this repository's example of a plan on every pull request,
/// which installs a released `little` of this version.
const WORKFLOW: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/github-actions/plan.yml"
));

/// A project name from the directory's: lower-case letters, digits and `-` (it starts IAM
/// role names); `platform` when none is left.
pub fn project_name(dir: &Path) -> String {
    let base = std::path::absolute(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut name = String::new();
    for c in base.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_end_matches('-').chars().take(32).collect();
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "platform".into()
    } else {
        name.into()
    }
}

/// Where the scaffolded files go, relative to the project directory, and their text, for a
/// project called `name`.
pub fn scaffold(name: &str, options: &InitOptions) -> Vec<(String, Cow<'static, str>)> {
    let mut files: Vec<(String, Cow<'static, str>)> = vec![(
        "little.yaml".into(),
        Cow::Owned(project_yaml(name, options)),
    )];
    let (owner, repo) = options
        .github_repo
        .as_deref()
        .and_then(|r| r.split_once('/'))
        .unwrap_or((placeholders::GITHUB_ORG, placeholders::GITHUB_REPO));
    let subjects = format!(
        "    - \"repo:{owner}/{repo}:ref:refs/heads/main\"\n    \
         - \"repo:{owner}/{repo}:environment:production\"\n"
    );
    let emails = match &options.notify_email {
        // JSON's quoting is YAML's double-quoted scalar.
        Some(email) => format!(
            "notify_emails: [{}]",
            serde_json::Value::from(email.as_str())
        ),
        None => format!("notify_emails: [{}]", placeholders::NOTIFY_EMAIL),
    };
    let mut edits: Vec<(&str, &str, String)> = vec![
        ("stacks/iam/ci.yaml", LIBRARY_SUBJECTS, subjects),
        ("stacks/pipelines/scan-notify.yaml", LIBRARY_EMAILS, emails),
        (PULL_ACCOUNTS.0, PULL_ACCOUNTS.1, PULL_ACCOUNTS.2.into()),
    ];
    if !options.org {
        edits.extend(
            ACCOUNT_EDITS
                .iter()
                .map(|(p, a, b)| (*p, *a, (*b).to_owned())),
        );
    }
    for (path, text) in LIBRARY {
        if !options.org && ORG_ONLY.contains(path) {
            continue;
        }
        let mut text = Cow::Borrowed(*text);
        for (_, from, to) in edits.iter().filter(|(p, _, _)| p == path) {
            text = Cow::Owned(text.replacen(from, to, 1));
        }
        if ORG_ONLY.contains(path) {
            let mut owned = text.replace(LIBRARY_NAME, name);
            for (from, to) in ORG_WORDS {
                owned = owned.replace(from, to);
            }
            text = Cow::Owned(owned);
        }
        files.push(((*path).to_owned(), text));
    }
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

/// What `init` wrote, relative to the project directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scaffolded {
    pub files: Vec<String>,
    /// The placeholders left to replace, each with the file it is in, in the order of the
    /// files (once per file).
    pub placeholders: Vec<(String, String)>,
}

/// Writes the scaffolded project into `dir` (created if missing) and returns what it wrote;
/// refuses (writing nothing) when one of the files exists already.
pub fn init(dir: &Path, options: &InitOptions) -> Result<Scaffolded> {
    options.check()?;
    let files = scaffold(&project_name(dir), options);
    let taken: Vec<&str> = files
        .iter()
        .filter(|(rel, _)| is_taken(dir, rel))
        .map(|(rel, _)| rel.as_str())
        .collect();
    if !taken.is_empty() {
        return Err(Error::Refused(format!(
            "`little init` would overwrite {} in `{}`, so it wrote nothing:\n  {}",
            crate::text::plural(taken.len(), "file", "files"),
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
    let mut left: Vec<(String, String)> = Vec::new();
    for (rel, text) in &files {
        for (_, word) in placeholders::find(text) {
            let pair = (rel.clone(), word.to_owned());
            if !left.contains(&pair) {
                left.push(pair);
            }
        }
    }
    Ok(Scaffolded {
        files: files.into_iter().map(|(rel, _)| rel).collect(),
        placeholders: left,
    })
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

    fn with_flags(org: bool) -> InitOptions {
        InitOptions {
            github_repo: Some("octo/infra".into()),
            notify_email: Some("sec+scans@corp.example".into()),
            org,
        }
    }

    fn file<'a>(files: &'a [(String, Cow<'static, str>)], path: &str) -> &'a str {
        &files.iter().find(|(p, _)| p == path).unwrap().1
    }

    #[test]
    fn every_edit_matches_the_library_once() {
        let library = |path: &str| LIBRARY.iter().find(|(p, _)| *p == path).unwrap().1;
        let mut edits: Vec<(&str, &str)> = vec![
            ("stacks/iam/ci.yaml", LIBRARY_SUBJECTS),
            ("stacks/pipelines/scan-notify.yaml", LIBRARY_EMAILS),
            (PULL_ACCOUNTS.0, PULL_ACCOUNTS.1),
        ];
        edits.extend(ACCOUNT_EDITS.iter().map(|(p, a, _)| (*p, *a)));
        for (path, from) in edits {
            assert_eq!(library(path).matches(from).count(), 1, "{path}: {from}");
        }
        for path in ORG_ONLY {
            assert!(LIBRARY.iter().any(|(p, _)| p == path), "{path}");
        }
        for (word, _) in ORG_WORDS {
            assert!(ORG_ONLY.iter().any(|p| library(p).contains(word)), "{word}");
        }
    }

    /// Nothing of the library's example owners is left: their GitHub, mailbox, accounts,
    /// organisation and name are the user's placeholders or values.
    #[test]
    fn nothing_of_someone_else_is_scaffolded() {
        for org in [false, true] {
            for options in [
                InitOptions {
                    org,
                    ..InitOptions::default()
                },
                with_flags(org),
            ] {
                for (path, text) in scaffold("platform", &options) {
                    if path.starts_with("schemas/") || path.starts_with(".github/") {
                        continue;
                    }
                    for theirs in [
                        "acme",
                        "example.com",
                        "team-a-*",
                        "210987654321\"}",
                        "o-a1b2",
                        "ou-a1b2",
                        "account: tooling",
                    ] {
                        let allowed = org && theirs == "account: tooling";
                        let found = text
                            .lines()
                            .filter(|l| !l.trim_start().starts_with('#'))
                            .any(|l| l.contains(theirs));
                        assert!(allowed || !found, "{path} (org {org}): {theirs}\n{text}");
                    }
                }
            }
        }
    }

    #[test]
    fn flags_fill_what_placeholders_hold_otherwise() {
        let bare = scaffold("platform", &InitOptions::default());
        let ci = file(&bare, "stacks/iam/ci.yaml");
        assert!(ci
            .contains("\"repo:REPLACE_ME_GITHUB_ORG/REPLACE_ME_GITHUB_REPO:ref:refs/heads/main\""));
        let notify = file(&bare, "stacks/pipelines/scan-notify.yaml");
        assert!(notify.contains("notify_emails: [REPLACE_ME_NOTIFY_EMAIL]"));

        let filled = scaffold("platform", &with_flags(false));
        let ci = file(&filled, "stacks/iam/ci.yaml");
        assert!(ci.contains("    - \"repo:octo/infra:ref:refs/heads/main\"\n    - \"repo:octo/infra:environment:production\"\n"));
        let notify = file(&filled, "stacks/pipelines/scan-notify.yaml");
        assert!(notify.contains("notify_emails: [\"sec+scans@corp.example\"]"));
        for (path, text) in &filled {
            assert!(placeholders::find(text).is_empty(), "{path}");
        }
    }

    #[test]
    fn stacksets_only_with_org() {
        let plain = scaffold("platform", &with_flags(false));
        assert!(ORG_ONLY.iter().all(|p| plain.iter().all(|(q, _)| q != p)));
        let yaml = file(&plain, "little.yaml");
        let parsed: crate::project::config::ProjectFile =
            crate::project::config::parse_yaml(Path::new("little.yaml"), yaml).unwrap();
        assert!(parsed.accounts.is_empty() && parsed.defaults.account.is_none());
        assert_eq!(parsed.name.as_deref(), Some("platform"));

        let org = scaffold("infra", &with_flags(true));
        for p in ORG_ONLY {
            assert!(org.iter().any(|(q, _)| q == p), "{p}");
        }
        let audit = file(&org, "stacks/iam/audit.yaml");
        assert!(audit.contains("    - infra-admin\n"), "{audit}");
        assert!(audit.contains("    - REPLACE_ME_WORKLOADS_OU "), "{audit}");
        let yaml = file(&org, "little.yaml");
        let parsed: crate::project::config::ProjectFile =
            crate::project::config::parse_yaml(Path::new("little.yaml"), yaml).unwrap();
        assert_eq!(parsed.defaults.account.as_deref(), Some("tooling"));
        assert!(yaml.contains("tooling: {id: \"REPLACE_ME_TOOLING_ACCOUNT_ID\"}"));
        assert!(yaml.contains("organization_id: REPLACE_ME_ORGANIZATION_ID"));
    }

    #[test]
    fn bad_flags_are_refused_before_writing() {
        for repo in ["acme", "acme/", "/x", "a/b/c", "a b/c", "a/\"c"] {
            let o = InitOptions {
                github_repo: Some(repo.into()),
                ..InitOptions::default()
            };
            assert!(matches!(o.check(), Err(Error::Usage(_))), "{repo}");
        }
        for email in ["me", "me@host", "@b.c", "a@b.c]", "a b@c.d", "a@b.c\n"] {
            let o = InitOptions {
                notify_email: Some(email.into()),
                ..InitOptions::default()
            };
            assert!(matches!(o.check(), Err(Error::Usage(_))), "{email}");
        }
        assert!(with_flags(true).check().is_ok());
    }

    #[test]
    fn the_project_is_named_after_its_directory() {
        assert_eq!(project_name(Path::new("/x/My Platform_2")), "my-platform-2");
        assert_eq!(project_name(Path::new("/x/---")), "platform");
        assert_eq!(project_name(Path::new("/x/infra")), "infra");
    }

    #[test]
    fn the_workflow_is_yaml_that_plans_with_a_release_of_this_version() {
        let v: serde_norway::Value = serde_norway::from_str(WORKFLOW).unwrap();
        assert!(v.get("jobs").is_some());
        assert!(WORKFLOW.contains("little plan"));
        assert!(!WORKFLOW.contains("cargo install"));
        assert!(
            WORKFLOW.contains(&format!("LITTLE_VERSION: {}\n", env!("CARGO_PKG_VERSION"))),
            "examples/github-actions/plan.yml installs another version than this one"
        );
        let releases = format!(
            "LITTLE_RELEASES: {}/releases/download\n",
            env!("CARGO_PKG_REPOSITORY")
        );
        assert!(WORKFLOW.contains(&releases), "{releases}");
        assert!(WORKFLOW.contains("sha256sum --check --strict"));
    }

    #[test]
    fn scaffold_paths_are_unique_and_relative() {
        let files = scaffold("platform", &InitOptions::default());
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
