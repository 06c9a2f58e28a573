//! The audit's options, resolved from the flags that `little audit` and `little serve` share
//! over little.yaml's `audit` section and the documented defaults: the failing severity, the
//! ECR settings and the audit's reach. The audit itself is in `run`.

use super::drift::DriftOptions;
use super::ecr::EcrSettings;
use super::model::Severity;
use super::run::AuditOptions;
use crate::error::{Error, Result};
use crate::project::Project;
use crate::render::RenderOptions;

/// The severity at or above which a finding fails the audit when neither `--fail-on` nor
/// `audit.fail_on` names one.
pub const DEFAULT_FAIL_ON: &str = "HIGH";

/// The failing severity: `--fail-on` over `audit.fail_on` over [`DEFAULT_FAIL_ON`].
pub fn fail_on(flag: Option<&str>, configured: Option<&str>) -> Result<Severity> {
    flag.or(configured)
        .unwrap_or(DEFAULT_FAIL_ON)
        .parse()
        .map_err(Error::Usage)
}

/// The flags of an audit run (`little audit`, and each run of `little serve`).
#[derive(Debug, Clone, Default)]
pub struct AuditFlags {
    /// `--check`.
    pub checks: Vec<String>,
    pub remediate: bool,
    /// `--accounts`.
    pub all_accounts: bool,
    pub org: bool,
    /// Not `--no-stacks`.
    pub stacks: bool,
    pub drift: bool,
    pub require_kms: bool,
    /// `--all-images` (always, for `serve`: its metrics are per tag).
    pub all_images: bool,
    /// `serve --registry` (or `ECR_REGISTRY_ID`): audit this account's registry instead of
    /// the default account's; an account of little.yaml is reached through its role.
    pub registry: Option<String>,
}

impl AuditOptions {
    /// The audit's options for `project`; `render` renders the stacks whose drift is checked
    /// (with `drift`); `now` is the audit's time (Unix seconds).
    pub fn resolve(
        project: &Project,
        flags: &AuditFlags,
        render: impl FnOnce() -> RenderOptions,
        now: u64,
    ) -> Result<AuditOptions> {
        Ok(AuditOptions {
            checks: flags.checks.clone(),
            remediate: flags.remediate,
            all_accounts: flags.all_accounts,
            account: flags
                .registry
                .as_deref()
                .and_then(|id| project.accounts.values().find(|a| a.id == id))
                .cloned(),
            org: flags.org,
            reach: project.reach.clone(),
            stacks: flags.stacks,
            drift: flags.drift.then(|| DriftOptions {
                render: render(),
                poll: crate::poll::Poll::DRIFT,
                concurrency: crate::audit::drift::DEFAULT_CONCURRENCY,
            }),
            settings: ecr_settings(project, flags.require_kms, flags.all_images)?,
            now,
        })
    }
}

/// The ECR audit's settings from little.yaml and the flags; an error names a setting that is
/// not valid.
pub fn ecr_settings(project: &Project, require_kms: bool, all_images: bool) -> Result<EcrSettings> {
    let file = &project.file.audit;
    let defaults = EcrSettings::default();
    let in_use_findings_at = match file.in_use_findings_at.as_deref() {
        Some(text) => text
            .parse()
            .map_err(|e| Error::Usage(format!("little.yaml: audit.in_use_findings_at: {e}")))?,
        None => defaults.in_use_findings_at,
    };
    Ok(EcrSettings {
        exclude_repositories: file.exclude_repositories.clone(),
        allow_immutable_with_exclusion: file
            .allow_immutable_with_exclusion
            .unwrap_or(defaults.allow_immutable_with_exclusion),
        allowed_kms_keys: file.allowed_kms_keys.clone(),
        require_kms: require_kms || file.require_kms.unwrap_or(defaults.require_kms),
        known_accounts: project.accounts.values().map(|a| a.id.clone()).collect(),
        organization_id: file.organization_id.clone().or_else(|| {
            project
                .file
                .variables
                .get("organization_id")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        }),
        stale_scan_days: file.stale_scan_days.unwrap_or(defaults.stale_scan_days),
        unused_after_days: file.unused_after_days.unwrap_or(defaults.unused_after_days),
        in_use_findings_at,
        all_tagged_images: all_images,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_takes_the_flag_over_the_file_over_high() {
        assert_eq!(fail_on(None, None).unwrap(), Severity::High);
        assert_eq!(fail_on(None, Some("low")).unwrap(), Severity::Low);
        assert_eq!(
            fail_on(Some("CRITICAL"), Some("low")).unwrap(),
            Severity::Critical
        );
        let e = fail_on(Some("loud"), None).unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        assert!(e.to_string().contains("`LOUD` is not a severity"), "{e}");
    }

    fn project(yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("little.yaml"), yaml).unwrap();
        Project::load(dir.path()).unwrap()
    }

    #[test]
    fn ecr_settings_default_to_what_little_yaml_documents() {
        let p = project("name: acme\nvariables:\n  organization_id: o-vars\n");
        let s = ecr_settings(&p, false, false).unwrap();
        assert_eq!(
            s,
            EcrSettings {
                organization_id: Some("o-vars".into()),
                ..EcrSettings::default()
            }
        );
        assert!(s.allow_immutable_with_exclusion);
        assert_eq!(s.stale_scan_days, 30);
        assert!(ecr_settings(&p, true, true).unwrap().require_kms);
        assert!(ecr_settings(&p, false, true).unwrap().all_tagged_images);
    }

    #[test]
    fn ecr_settings_from_the_audit_section() {
        let p = project(
            "name: acme\naccounts:\n  prod: {id: \"222222222222\"}\nvariables:\n  organization_id: o-vars\naudit:\n  organization_id: o-audit\n  require_kms: true\n  stale_scan_days: 7\n  allow_immutable_with_exclusion: false\n  exclude_repositories: [tmp/*]\n",
        );
        let s = ecr_settings(&p, false, false).unwrap();
        assert_eq!(s.organization_id.as_deref(), Some("o-audit"));
        assert!(s.require_kms);
        assert_eq!(s.stale_scan_days, 7);
        assert!(!s.allow_immutable_with_exclusion);
        assert_eq!(s.exclude_repositories, ["tmp/*"]);
        assert_eq!(s.known_accounts, ["222222222222"]);
        assert_eq!(s.in_use_findings_at, Severity::High);
    }

    #[test]
    fn the_in_use_findings_severity_is_read_and_a_wrong_one_is_refused() {
        let p = project("name: acme\naudit:\n  in_use_findings_at: medium\n");
        let s = ecr_settings(&p, false, false).unwrap();
        assert_eq!(s.in_use_findings_at, Severity::Medium);
        let p = project("name: acme\naudit:\n  in_use_findings_at: severe\n");
        let e = ecr_settings(&p, false, false).unwrap_err().to_string();
        assert!(
            e.contains("audit.in_use_findings_at") && e.contains("`SEVERE` is not a severity"),
            "{e}"
        );
    }

    #[test]
    fn options_render_only_for_drift() {
        let p = project("name: acme\n");
        let flags = AuditFlags {
            checks: vec!["ecr".into()],
            stacks: true,
            ..AuditFlags::default()
        };
        let o = AuditOptions::resolve(&p, &flags, || unreachable!(), 42).unwrap();
        assert!(o.drift.is_none());
        assert_eq!(o.checks, ["ecr"]);
        assert_eq!(o.now, 42);
        let drift = AuditFlags {
            drift: true,
            ..flags
        };
        let o = AuditOptions::resolve(&p, &drift, RenderOptions::default, 42).unwrap();
        assert!(o.drift.is_some());
        assert!(o.account.is_none());
    }

    #[test]
    fn a_registry_of_little_yaml_is_audited_through_its_account() {
        let p = project("name: acme\naccounts:\n  prod: {id: \"222222222222\"}\n");
        let flags = |registry: &str| AuditFlags {
            registry: Some(registry.into()),
            ..AuditFlags::default()
        };
        let o = AuditOptions::resolve(&p, &flags("222222222222"), || unreachable!(), 0).unwrap();
        assert_eq!(o.account.map(|a| a.id), Some("222222222222".to_owned()));
        // Another (the caller's, checked by `serve`): the default target.
        let o = AuditOptions::resolve(&p, &flags("123456789012"), || unreachable!(), 0).unwrap();
        assert!(o.account.is_none());
    }
}
