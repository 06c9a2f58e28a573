//! The on-disk formats of `little.yaml` and of stack configs (`stacks/**/*.yaml`), and the
//! parsing that turns a YAML error into a [`Diagnostic`] at the file, line and column.
//!
//! Only deserialisation and syntax live here; cross-file checks (unknown accounts, missing
//! templates, dependencies) are in the parent module.

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;

use crate::diag::{Diagnostic, Location};
use crate::error::{Error, Result};
use crate::notify::{Targets, WebhookFormat};

/// `little.yaml`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// The project's name; defaults to the name of its directory.
    pub name: Option<String>,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub accounts: IndexMap<String, AccountFile>,
    /// The only account ids `little` may act in: any other caller account (STS
    /// GetCallerIdentity of the credentials used for a stack) is refused, also for stacks that
    /// name no account.
    #[serde(default)]
    pub allowed_account_ids: Vec<Scalar>,
    /// Account ids `little` must never act in (the other accounts are allowed).
    #[serde(default)]
    pub forbidden_account_ids: Vec<Scalar>,
    /// Project-wide variables, visible to templates as `project.variables`.
    #[serde(default)]
    pub variables: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub audit: AuditFile,
    #[serde(default)]
    pub check: CheckFile,
}

/// Settings of `little check` (one image, or the worker of the image check pipeline).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    /// The platform an image index is resolved to [default: `linux/amd64`].
    pub platform: Option<String>,
    /// The registry URL to read blobs from instead of the one ECR names (a pull-through
    /// proxy).
    pub registry_url: Option<String>,
    /// The worker's queue (the pipeline stack's `QueueUrl` output) [default: `--queue`].
    pub queue_url: Option<String>,
    /// The report bucket (the pipeline stack's `ReportBucketName` output); none: reports
    /// are not stored.
    pub report_bucket: Option<String>,
    /// The key prefix of reports [default: `reports/`].
    pub report_prefix: Option<String>,
    /// A KMS key for the reports (SSE-KMS); none: SSE-S3.
    pub report_kms_key: Option<String>,
    /// How long report links are valid: `1h`, `24h`, `7d` (S3's limit) [default: 24h].
    pub link_expiry: Option<String>,
    /// The repositories the worker accepts push events for (names; `*` matches any
    /// characters, as in `team/*`) [default: every repository of the worker's registry]. An
    /// event for another is deleted unchecked.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// The worker skips a push without a tag (logged with the reason, the message deleted),
    /// as the earlier image check's `SKIP_UNTAGGED` did (also `--skip-untagged`) [default:
    /// false].
    pub skip_untagged: Option<bool>,
    /// A label that waives an image in an emergency, `NAME=VALUE`: an image carrying it is
    /// checked and reported as any other, but its `fail` checks do not fail it (no exit 2, no
    /// deletion with `--enforce`), and the report says it was waived and by which label; `""`
    /// turns waivers off [default: `ops_permit_dangerous=exigency`].
    pub waiver_label: Option<String>,
    /// The HTML report's logo and style sheet.
    #[serde(default)]
    pub report: crate::check::rules::ReportBranding,
    #[serde(default)]
    pub notify: CheckNotifyFile,
    /// The checks, each on or off, `warn` or `fail`, with its parameters.
    #[serde(default)]
    pub checks: crate::check::rules::Checks,
    /// What one image may make the check read, keep and wait for; an image over a limit
    /// fails its `image.limit-exceeded` (or `image.timeout`) check.
    #[serde(default)]
    pub limits: crate::check::limits::Limits,
}

/// `check.notify`: where the worker reports each image, by outcome.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckNotifyFile {
    /// An SNS topic (the pipeline stack's `ResultsTopicArn` output).
    pub sns_topic_arn: Option<String>,
    /// The outcomes SNS gets (`pass`, `warn`, `fail`) [default: all].
    #[serde(default)]
    pub sns_on: Vec<crate::check::rules::Outcome>,
    #[serde(default)]
    pub webhooks: Vec<CheckWebhookFile>,
    /// The deliveries of a message in which a failing target is tried (each with its own
    /// retries) before it is given up and named in the report as a failed delivery; keep it
    /// below the queue's `maxReceiveCount` (1 to 10) [default: 3].
    pub delivery_attempts: Option<u32>,
}

/// A webhook of `little check`, with the outcomes it gets.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckWebhookFile {
    pub url: Option<String>,
    /// The environment variable that holds the URL.
    pub url_env: Option<String>,
    /// `slack`, `teams` or `json` [default: slack].
    #[serde(default)]
    pub format: WebhookFormat,
    /// The outcomes this webhook gets (`pass`, `warn`, `fail`) [default: all].
    #[serde(default)]
    pub on: Vec<crate::check::rules::Outcome>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub region: Option<String>,
    pub account: Option<String>,
    #[serde(default)]
    pub tags: IndexMap<String, Scalar>,
    pub termination_protection: Option<bool>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The S3 bucket for templates over CloudFormation's 51,200-byte inline limit
    /// [default: `little-templates-<account>-<region>`, created on first use].
    pub template_bucket: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountFile {
    pub id: Scalar,
    pub role_arn: Option<String>,
}

/// Settings of `little audit` and `little serve`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditFile {
    /// Findings at or above this severity fail the audit (exit 2).
    pub fail_on: Option<String>,
    /// Repository name globs that the audit skips.
    #[serde(default)]
    pub exclude_repositories: Vec<String>,
    /// Whether `IMMUTABLE_WITH_EXCLUSION` passes the tag immutability check.
    pub allow_immutable_with_exclusion: Option<bool>,
    /// Whether `AES256` fails the encryption check (`--require-kms` turns it on too).
    pub require_kms: Option<bool>,
    /// The KMS keys (ARNs, key ids or alias ARNs) repositories may be encrypted with; empty:
    /// any KMS key.
    #[serde(default)]
    pub allowed_kms_keys: Vec<String>,
    /// A scan older than this many days is stale [default: 30].
    pub stale_scan_days: Option<u32>,
    /// `ecr.image-unused`: an image not pulled (or, never pulled, not pushed) for this many
    /// days that the repository's lifecycle policy keeps [default: 90].
    pub unused_after_days: Option<u32>,
    /// `ecr.in-use-image-findings`: the least severity of a scan finding of an image in use
    /// that is reported (`LOW`, `MEDIUM`, `HIGH`, `CRITICAL`) [default: HIGH].
    pub in_use_findings_at: Option<String>,
    /// The AWS Organizations id (`o-...`) whose condition makes a public repository policy
    /// acceptable [default: `variables.organization_id`].
    pub organization_id: Option<String>,
    /// Where `--notify` sends the non-compliant repositories.
    #[serde(default)]
    pub notify: NotifyFile,
    /// `little serve`: how often to run the audit (`30m`, `1h`).
    pub interval: Option<String>,
    /// `little serve`: the address to listen on.
    pub listen: Option<String>,
    /// `little serve`: remediate on every run what `little audit --remediate` can fix (tag
    /// immutability), as `little serve --remediate` does [default: false].
    pub remediate: Option<bool>,
    /// `little serve`: images scanned on every run (continuous scanning); more can be added
    /// through its API.
    #[serde(default)]
    pub scan_configs: Vec<ScanConfigFile>,
    /// `little serve`: where the scan configurations added through the API are kept
    /// [default: `.little/serve-state.json` in the project].
    pub state_file: Option<String>,
    /// `little serve`: the environment variable holding the bearer token that POST and
    /// DELETE require [default: `LITTLE_SERVE_TOKEN`].
    pub api_token_env: Option<String>,
    /// `little serve`: the browser origins (`https://dash.example.com`) allowed to call its
    /// endpoints (CORS), besides those of `--cors-origin`; none: no CORS headers. `*` is
    /// not accepted.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// `little serve`: one `little_image_in_use{repository,digest,user}` series per image in
    /// use and user, besides the per-repository counts; off by default, since a large
    /// registry makes many [default: false].
    pub image_in_use_series: Option<bool>,
    /// `--org`: the role assumed in each member account (`arn:aws:iam::<id>:role/<name>`),
    /// unless `accounts` names the account with its own `role_arn` [default:
    /// `<project name>-audit`, the bootstrap library's audit role].
    pub role_name: Option<String>,
    /// The regions audited in each account [default: `[defaults.region]`].
    #[serde(default)]
    pub regions: Vec<String>,
    /// How many account and region pairs are audited at once [default: 8].
    pub concurrency: Option<usize>,
    /// The time one account gets in one region, from when its audit starts (`60s`, `5m`);
    /// an account that takes longer is a finding (`org.account-unreachable`) [default: 5m].
    pub account_timeout: Option<String>,
    /// Account ids that `--org` never audits.
    #[serde(default)]
    pub exclude_accounts: Vec<Scalar>,
    /// Kubernetes clusters (EKS or any other) whose pods' images are in use too, for
    /// `ecr.lifecycle-expires-in-use` and the report's images in use: read once per audit
    /// run, with `list` on `pods` (RBAC).
    #[serde(default)]
    pub kubernetes: Vec<KubernetesClusterFile>,
}

/// One Kubernetes cluster of `audit.kubernetes`: reached with a kubeconfig's context, or with
/// the service account of the pod `little` runs in (`in_cluster: true`), not both.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubernetesClusterFile {
    /// The cluster's label in the users of its images: `k8s:NAME/NAMESPACE/KIND/NAME`
    /// (letters, digits, `.`, `_`, `-`; unique).
    pub name: String,
    /// The kubeconfig file, relative to the project or absolute [default: each file of
    /// `$KUBECONFIG`, else `~/.kube/config`].
    pub kubeconfig: Option<String>,
    /// The kubeconfig's context [default: its `current-context`].
    pub context: Option<String>,
    /// Use the pod's service account: its token and CA under
    /// `/var/run/secrets/kubernetes.io/serviceaccount`, the server from
    /// `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` [default: false].
    pub in_cluster: Option<bool>,
    /// The namespaces whose pods are read, one listing each [default: all, one cluster-wide
    /// listing].
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// One continuous-scanning configuration of little.yaml.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanConfigFile {
    /// A stable id for the API and the feeds [default: `yaml-<n>`].
    pub id: Option<String>,
    /// [default: `defaults.region`]
    pub region: Option<String>,
    /// The registry's account id [default: the default account's].
    pub registry: Option<Scalar>,
    pub repository: String,
    /// The tags to scan; none: every tagged image.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `audit.notify`: an SNS topic and/or webhooks.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyFile {
    /// An SNS topic ARN to publish to.
    pub sns_topic_arn: Option<String>,
    #[serde(default)]
    pub webhooks: Vec<WebhookFile>,
    /// Send only when a finding is at or above this severity [default: LOW].
    pub min_severity: Option<String>,
}

impl NotifyFile {
    /// The targets of `audit.notify`; an error names what is missing (no target, a webhook
    /// without a URL, an unset environment variable).
    pub fn targets(&self) -> Result<Targets> {
        let file = self;
        let mut webhooks = Vec::new();
        for (i, w) in file.webhooks.iter().enumerate() {
            let url = crate::notify::webhook_url(
                w.url.as_deref(),
                w.url_env.as_deref(),
                &format!("audit.notify.webhooks[{i}]"),
            )?;
            webhooks.push((url, w.format));
        }
        if file.sns_topic_arn.is_none() && webhooks.is_empty() {
            return Err(Error::Usage(
                "`--notify` needs a target: set `audit.notify.sns_topic_arn` or `audit.notify.webhooks` in little.yaml".into(),
            ));
        }
        Ok(Targets {
            sns_topic_arn: file.sns_topic_arn.clone(),
            webhooks,
        })
    }
}

/// One webhook: its URL (or the environment variable holding it, since webhook URLs are
/// secrets) and the message format.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookFile {
    pub url: Option<String>,
    /// The environment variable that holds the URL.
    pub url_env: Option<String>,
    /// `slack`, `teams` or `json` [default: slack].
    #[serde(default)]
    pub format: WebhookFormat,
}

/// `stacks/<group>/<name>.yaml`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackFile {
    pub name: String,
    pub template: String,
    pub region: Option<String>,
    pub account: Option<String>,
    pub termination_protection: Option<bool>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub parameters: IndexMap<String, ParamValue>,
    #[serde(default)]
    pub tags: IndexMap<String, Scalar>,
    #[serde(default)]
    pub variables: serde_json::Map<String, serde_json::Value>,
    pub timeout_in_minutes: Option<u32>,
    pub description: Option<String>,
    /// A CloudFormation stack policy (the document itself), set after each deployment.
    pub stack_policy: Option<serde_json::Value>,
    /// SNS topics that receive the stack's events.
    #[serde(default)]
    pub notification_arns: Vec<String>,
    /// A service role CloudFormation assumes to deploy the stack.
    pub role_arn: Option<String>,
    /// Deploy the template as a CloudFormation StackSet, to many accounts and regions, from
    /// the stack's `account` and `region` (the management or delegated administrator
    /// account).
    pub stack_set: Option<StackSetFile>,
}

/// `stack_set:` of a stack config.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackSetFile {
    /// `SERVICE_MANAGED` (AWS Organizations deploys to the accounts of OUs) or
    /// `SELF_MANAGED` (named accounts, through an administration and an execution role).
    pub permission_model: PermissionModel,
    /// SERVICE_MANAGED: the OUs (`ou-...`) or the root (`r-...`) whose accounts get an
    /// instance, nested OUs included.
    #[serde(default)]
    pub organizational_units: Vec<String>,
    /// SELF_MANAGED: the accounts, by their name in little.yaml or their 12-digit id.
    #[serde(default)]
    pub accounts: Vec<Scalar>,
    /// SELF_MANAGED: the administration role, a name or an ARN
    /// [default: `AWSCloudFormationStackSetAdministrationRole`].
    pub administration_role: Option<String>,
    /// SELF_MANAGED: the role each target account lets the administration role assume
    /// [default: `AWSCloudFormationStackSetExecutionRole`].
    pub execution_role: Option<String>,
    /// The regions each account gets an instance in.
    pub regions: Vec<String>,
    /// SERVICE_MANAGED: deploy to accounts that join a target OU, and remove their
    /// instances when they leave.
    pub auto_deployment: Option<AutoDeploymentFile>,
    /// How each operation rolls out.
    #[serde(default)]
    pub operation_preferences: OperationPreferencesFile,
    /// `SELF` when the stack's account is the organisation's management account (or the
    /// StackSet is SELF_MANAGED); `DELEGATED_ADMIN` when it is a delegated administrator of
    /// StackSets [default: SELF].
    pub call_as: Option<CallAs>,
    /// Keep the stacks (and their resources) of instances removed from the targets, only
    /// taking them out of the StackSet [default: false: they are deleted, which `apply`
    /// refuses without `--allow-destructive`].
    pub retain_stacks_on_removal: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum PermissionModel {
    #[serde(rename = "SERVICE_MANAGED")]
    ServiceManaged,
    #[serde(rename = "SELF_MANAGED")]
    SelfManaged,
}

impl PermissionModel {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionModel::ServiceManaged => "SERVICE_MANAGED",
            PermissionModel::SelfManaged => "SELF_MANAGED",
        }
    }
}

/// Whom a StackSet call acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum CallAs {
    #[serde(rename = "SELF")]
    Myself,
    #[serde(rename = "DELEGATED_ADMIN")]
    DelegatedAdmin,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoDeploymentFile {
    pub enabled: bool,
    /// Keep the stacks of an account that leaves a target OU [default: false].
    pub retain_stacks_on_account_removal: Option<bool>,
}

/// `stack_set.operation_preferences`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationPreferencesFile {
    /// Per region, the percentage of accounts deployed at once (1-100) [default: AWS's, one
    /// account at a time].
    pub max_concurrent_percentage: Option<u8>,
    /// Per region, the percentage of accounts that may fail before the operation stops in
    /// that region (0-100) [default: 0].
    pub failure_tolerance_percentage: Option<u8>,
    /// `parallel` or `sequential` (one region after another, in the order of `regions`)
    /// [default: sequential, as AWS].
    pub region_concurrency: Option<crate::aws::stacksets::RegionConcurrency>,
}

/// A YAML scalar that CloudFormation wants as a string (tag values, account ids).
#[derive(Debug, Clone, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::String(s) => f.write_str(s),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A parameter value: a scalar, or a list that CloudFormation receives comma-separated.
#[derive(Debug, Clone, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ParamValue {
    Scalar(Scalar),
    List(Vec<Scalar>),
}

impl ParamValue {
    /// The value as CloudFormation takes it: lists are joined with commas.
    pub fn to_cfn_string(&self) -> String {
        match self {
            ParamValue::Scalar(s) => s.to_string(),
            ParamValue::List(items) => items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// Parses YAML text into `T`, turning a syntax or schema error into a diagnostic at the
/// error's line and column in `file`.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, Diagnostic> {
    if text.trim().is_empty() {
        return Err(Diagnostic::error("config", "the file is empty").in_file(file));
    }
    check_nesting(file, text)?;
    serde_norway::from_str(text).map_err(|e| yaml_diagnostic(file, text, &e))
}

/// The deepest nesting of collections a project file may have. The YAML parser takes time
/// that grows with the square of the depth of flow collections (`[[[[...`), and
/// deserialisation stops at 128 levels anyway; no real configuration comes near.
pub const MAX_NESTING: usize = 64;

/// Refuses YAML whose flow collections (`[...]`, `{...}`) nest deeper than [`MAX_NESTING`],
/// before the parser sees it, with the file, line and column of the first bracket too
/// deep. A linear scan that skips quoted strings, comments and block scalars (`|`, `>`), and
/// counts a bracket in block context only where a node starts (`a[1]` is a plain scalar).
pub fn check_nesting(file: &Path, text: &str) -> Result<(), Diagnostic> {
    let mut depth = 0usize;
    // Inside a quoted scalar ('\'' or '"'), which may span lines.
    let mut quote: Option<char> = None;
    // Skipping the lines of a block scalar: those indented more than this.
    let mut block_scalar: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block_scalar {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let chars: Vec<char> = line.chars().collect();
        // Whether a node may start here (a bracket then opens a collection, a quote a
        // string).
        let mut node_start = true;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            i += 1;
            match quote {
                Some('\'') => {
                    if c == '\'' {
                        if next == Some('\'') {
                            i += 1;
                        } else {
                            quote = None;
                            node_start = false;
                        }
                    }
                    continue;
                }
                Some(_) => {
                    if c == '\\' {
                        i += 1;
                    } else if c == '"' {
                        quote = None;
                        node_start = false;
                    }
                    continue;
                }
                None => {}
            }
            let separated = |n: Option<char>| {
                n.is_none_or(|n| n == ' ' || n == '\t' || (depth > 0 && ",[]{}".contains(n)))
            };
            match c {
                ' ' | '\t' => {}
                '#' if i == 1 || matches!(chars[i - 2], ' ' | '\t') => break,
                '\'' | '"' if node_start => quote = Some(c),
                '[' | '{' if node_start || depth > 0 => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        let location = Location::at(file, index + 1, Some(i));
                        let shown = (line.len() <= 400).then_some(text);
                        return Err(Diagnostic::error(
                            "yaml-nesting",
                            format!(
                                "collections nest deeper than {MAX_NESTING} levels here; a project file may nest at most {MAX_NESTING}"
                            ),
                        )
                        .at(location, shown));
                    }
                    node_start = true;
                }
                ']' | '}' if depth > 0 => {
                    depth -= 1;
                    node_start = false;
                }
                ',' if depth > 0 => node_start = true,
                '-' | '?' | ':' if separated(next) => node_start = true,
                '|' | '>' if node_start && depth == 0 => {
                    block_scalar = Some(indent);
                    break;
                }
                // An anchor or a tag before the node.
                '&' | '!' if node_start => {
                    while i < chars.len() && !matches!(chars[i], ' ' | '\t') {
                        i += 1;
                    }
                }
                _ => node_start = false,
            }
        }
    }
    Ok(())
}

fn yaml_diagnostic(file: &Path, text: &str, e: &serde_norway::Error) -> Diagnostic {
    let mut message = crate::diag::strip_position(&e.to_string());
    if message == "recursion limit exceeded" {
        message = "collections nest too deeply here (the limit is 128 levels)".into();
    }
    let code = if message.contains("unknown field") {
        "unknown-key"
    } else if message.contains("invalid type") || message.contains("invalid value") {
        "wrong-type"
    } else if message.contains("missing field") {
        "missing-key"
    } else {
        "yaml-syntax"
    };
    let mut d = Diagnostic::error(code, message);
    match e.location() {
        Some(loc) => {
            d = d.at(
                Location::at(file, loc.line(), Some(loc.column())),
                Some(text),
            )
        }
        None => d = d.in_file(file),
    }
    d
}

/// Parses JSON text into `T`, with the error at its line and column in `file`.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, Diagnostic> {
    serde_json::from_str(text).map_err(|e| {
        let message = crate::diag::strip_position(&e.to_string());
        let code = if message.contains("unknown field") {
            "unknown-key"
        } else if e.is_data() {
            "wrong-type"
        } else {
            "json-syntax"
        };
        Diagnostic::error(code, message).at(
            Location::at(file, e.line().max(1), Some(e.column().max(1))),
            Some(text),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_need_a_url_and_a_set_variable() {
        let none = NotifyFile::default();
        assert!(none
            .targets()
            .unwrap_err()
            .to_string()
            .contains("needs a target"));
        let both = NotifyFile {
            webhooks: vec![WebhookFile {
                url: Some("https://a".into()),
                url_env: Some("B".into()),
                format: WebhookFormat::Slack,
            }],
            ..NotifyFile::default()
        };
        assert!(both
            .targets()
            .unwrap_err()
            .to_string()
            .contains("webhooks[0]` needs one of"));
        let unset = NotifyFile {
            webhooks: vec![WebhookFile {
                url: None,
                url_env: Some("LITTLE_TEST_SURELY_UNSET_VARIABLE".into()),
                format: WebhookFormat::Teams,
            }],
            ..NotifyFile::default()
        };
        assert!(unset
            .targets()
            .unwrap_err()
            .to_string()
            .contains("`LITTLE_TEST_SURELY_UNSET_VARIABLE`, which is not set"));
    }

    fn nesting_error(text: &str) -> Option<String> {
        check_nesting(Path::new("little.yaml"), text)
            .err()
            .map(|d| d.to_string())
    }

    #[test]
    fn deep_flow_nesting_is_refused_quickly_at_its_line() {
        let deep = 100_000;
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            let text = format!(
                "name: x\nvariables:\n  a: {}1{}\n",
                open.repeat(deep),
                close.repeat(deep)
            );
            let started = std::time::Instant::now();
            let e = parse_yaml::<ProjectFile>(Path::new("little.yaml"), &text).unwrap_err();
            assert!(started.elapsed() < std::time::Duration::from_secs(2));
            let shown = e.to_string();
            assert!(shown.contains("yaml-nesting"), "{shown}");
            assert!(shown.contains("deeper than 64 levels"), "{shown}");
            let location = e.location.as_ref().unwrap();
            assert_eq!(location.line, Some(3));
            // The 65th bracket.
            let column = 6 + 64 * open.len();
            assert_eq!(location.column, Some(column), "{shown}");
        }
        // Deep block nesting is linear to parse; the deserialiser's limit says so.
        let text = format!("name: x\nvariables:\n  a:\n    {}x\n", "- ".repeat(deep));
        let started = std::time::Instant::now();
        let e = parse_yaml::<ProjectFile>(Path::new("little.yaml"), &text).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(e.to_string().contains("nest too deeply"), "{e}");
    }

    #[test]
    fn brackets_that_open_nothing_are_not_counted() {
        let many = "[".repeat(200);
        let braces = "{".repeat(200);
        // Quoted, in comments, in block scalars, inside plain scalars.
        let text = format!(
            "name: x\nvariables:\n  a: '{many}'\n  b: \"{braces}\\\"{many}\"\n  # {many}\n  c: |\n    {many}\n\n    {braces}\n  d: x{many}\n  e: [\"{many}\", '{braces}', 1] # {many}\n  f: 'it''s [' \n  g: >-\n      {many}\n  h: !!str [1]\n"
        );
        assert_eq!(nesting_error(&text), None);
        let p: ProjectFile = parse_yaml(Path::new("little.yaml"), &text).unwrap();
        assert_eq!(p.variables["a"], many.as_str());
        assert_eq!(p.variables["c"], format!("{many}\n\n{braces}\n").as_str());
        // At the limit: accepted; one more: refused.
        let at = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        assert_eq!(nesting_error(&at(MAX_NESTING)), None);
        assert!(nesting_error(&at(MAX_NESTING + 1)).is_some());
        // After a block scalar ends, brackets count again.
        let text = format!("a: |\n  {many}\nb: {}\n", "[".repeat(65));
        assert!(nesting_error(&text).unwrap().contains("little.yaml:3:"));
    }

    #[test]
    fn yaml_errors_carry_line_and_column() {
        let err = parse_yaml::<StackFile>(Path::new("s.yaml"), "name: a\ntemplate: t\nbogus: 1\n")
            .unwrap_err();
        assert_eq!(err.code, "unknown-key");
        let loc = err.location.unwrap();
        assert_eq!(loc.line, Some(3));
        assert!(
            err.message.contains("unknown field `bogus`"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("at line"), "{}", err.message);
    }

    #[test]
    fn list_parameters_join_with_commas() {
        let v: ParamValue = serde_norway::from_str("[a, 1, true]").unwrap();
        assert_eq!(v.to_cfn_string(), "a,1,true");
    }
}
