//! Where credentials come from, as the AWS CLI decides it: `--profile` wins over keys in the
//! environment (with it, credentials come from that profile only); without it the SDK's chain
//! applies (environment keys, then `AWS_PROFILE` or the default profile, web identity,
//! container, instance). A profile that the config files do not have is an error naming it,
//! the files searched and the closest name, never a fall-through to the instance metadata.
//!
//! The AWS variables are read once into [`AwsEnv`]; the rest is pure, to be tested without
//! touching the process's environment. Not here: building the SDK configuration (`super`).

use std::collections::BTreeMap;

use aws_config::profile::{Profile, ProfileSet};
use aws_types::os_shim_internal::{Env, Fs};

use crate::error::{Error, Result};
use crate::text::closest;

/// The variables that decide where credentials and the region come from.
const VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "HOME",
    "USERPROFILE",
    "HOMEDRIVE",
    "HOMEPATH",
];

/// Variables whose values are secrets: only whether they are set is kept.
const SECRETS: &[&str] = &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

/// The environment variables that decide credentials and region, read once. Keys are kept as
/// "set" only, so that the settings can be printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsEnv {
    vars: BTreeMap<String, String>,
}

impl AwsEnv {
    /// The process's variables of credentials, region and config files, and the home
    /// directory the config files are under.
    pub fn from_process() -> AwsEnv {
        AwsEnv::from_vars(std::env::vars())
    }

    /// An environment of these variables only (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> AwsEnv {
        AwsEnv::from_vars(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> AwsEnv {
        AwsEnv {
            vars: vars
                .into_iter()
                .filter(|(k, _)| VARIABLES.contains(&k.as_str()))
                .map(|(k, v)| {
                    let secret = SECRETS.contains(&k.as_str()) && !v.trim().is_empty();
                    (k, if secret { "(set)".to_owned() } else { v })
                })
                .collect(),
        }
    }

    /// A variable's value, when it is set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// `AWS_PROFILE`.
    pub fn profile(&self) -> Option<&str> {
        self.get("AWS_PROFILE")
    }

    /// The region of the environment and the variable it is in: `AWS_REGION`, else
    /// `AWS_DEFAULT_REGION` (the SDK reads them in this order).
    pub fn region(&self) -> Option<(&'static str, &str)> {
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .into_iter()
            .find_map(|k| self.get(k).map(|v| (k, v)))
    }

    fn sdk_env(&self) -> Env {
        Env::from(
            self.vars
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<std::collections::HashMap<_, _>>(),
        )
    }

    /// The config and credentials files, as the SDK finds them: `AWS_CONFIG_FILE` and
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`.
    pub fn profile_files(&self) -> Vec<String> {
        let home = self
            .get("HOME")
            .or_else(|| self.get("USERPROFILE"))
            .map(str::to_owned);
        let expand = |p: &str| match (p.strip_prefix("~/"), &home) {
            (Some(rest), Some(h)) => format!("{}/{rest}", h.trim_end_matches('/')),
            _ => p.to_owned(),
        };
        [
            ("AWS_CONFIG_FILE", "~/.aws/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        ]
        .into_iter()
        .map(|(var, default)| match self.get(var) {
            Some(path) => format!("{} ({var})", expand(path)),
            None => expand(default),
        })
        .collect()
    }
}

/// Where the credentials of a configuration come from, to be shown with the caller's ARN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CredentialSource {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    Environment,
    /// A profile's static keys.
    Profile { profile: String },
    /// A profile's `credential_process`.
    Process { profile: String },
    /// A profile's IAM Identity Center (SSO) session.
    Sso { profile: String },
    /// A profile's `login_session` (`aws login`).
    Login { profile: String },
    /// A profile's `role_arn`, assumed with its `source_profile` or `credential_source`.
    ProfileRole { profile: String, role_arn: String },
    /// A web identity token (`AWS_WEB_IDENTITY_TOKEN_FILE`, or a profile's
    /// `web_identity_token_file`).
    WebIdentity { profile: Option<String> },
    /// The container's credentials endpoint (ECS, EKS Pod Identity).
    Container,
    /// The instance profile, through the instance metadata service.
    Instance,
    /// An account's `role_arn` from little.yaml, assumed with the credentials of `base`.
    AssumedRole {
        role_arn: String,
        base: Box<CredentialSource>,
    },
}

/// Where the credentials come from, as words that follow "credentials from".
impl std::fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialSource::Environment => {
                f.write_str("the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
            }
            CredentialSource::Profile { profile } => write!(f, "profile `{profile}`"),
            CredentialSource::Process { profile } => {
                write!(f, "the credential_process of profile `{profile}`")
            }
            CredentialSource::Sso { profile } => {
                write!(f, "the SSO session of profile `{profile}`")
            }
            CredentialSource::Login { profile } => {
                write!(f, "the login session of profile `{profile}`")
            }
            CredentialSource::ProfileRole { profile, role_arn } => {
                write!(f, "role {role_arn} of profile `{profile}`")
            }
            CredentialSource::WebIdentity { profile: Some(p) } => {
                write!(f, "the web identity token of profile `{p}`")
            }
            CredentialSource::WebIdentity { profile: None } => {
                f.write_str("a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)")
            }
            CredentialSource::Container => f.write_str("the container's credentials endpoint"),
            CredentialSource::Instance => {
                f.write_str("the instance profile (the instance metadata service)")
            }
            CredentialSource::AssumedRole { role_arn, base } => {
                write!(f, "role {role_arn}, assumed with credentials from {base}")
            }
        }
    }
}

/// Reads and parses the config and credentials files the SDK would read.
pub async fn load_profiles(env: &AwsEnv, fs: &Fs) -> Result<ProfileSet> {
    aws_config::profile::load(fs, &env.sdk_env(), &Default::default(), None)
        .await
        .map_err(|e| {
            Error::AwsConfig(format!(
                "cannot read the AWS config files ({}): {e}",
                env.profile_files().join(", ")
            ))
        })
}

/// Where a profile name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileOrigin {
    /// `--profile`: credentials come from this profile only.
    Flag,
    /// `AWS_PROFILE`: keys in the environment still come first, as in the AWS CLI.
    Environment,
}

impl ProfileOrigin {
    fn name(self) -> &'static str {
        match self {
            ProfileOrigin::Flag => "--profile",
            ProfileOrigin::Environment => "AWS_PROFILE",
        }
    }
}

/// The profile that decides credentials and region, and where its name came from: `--profile`
/// (which wins), else `AWS_PROFILE`.
pub fn chosen_profile<'a>(
    flag: Option<&'a str>,
    env: &'a AwsEnv,
) -> Option<(&'a str, ProfileOrigin)> {
    flag.map(|p| (p, ProfileOrigin::Flag))
        .or_else(|| env.profile().map(|p| (p, ProfileOrigin::Environment)))
}

/// Refuses a profile the config files do not have, naming the files and the closest name.
pub fn check_profile(
    name: &str,
    origin: ProfileOrigin,
    env: &AwsEnv,
    profiles: &ProfileSet,
) -> Result<()> {
    if profiles.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = profiles.profiles().collect();
    known.sort_unstable();
    Err(Error::UnknownProfile {
        name: name.to_owned(),
        origin: origin.name().to_owned(),
        files: env.profile_files(),
        suggestion: closest(name, known.iter().copied()),
        known: known.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// Where the credentials come from, for the settings' profile flag and the environment, as
/// the SDK resolves them (see the module's doc).
pub fn credential_source(
    profile_flag: Option<&str>,
    env: &AwsEnv,
    profiles: &ProfileSet,
) -> CredentialSource {
    if let Some(p) = profile_flag {
        return profile_source(p, profiles);
    }
    if env.get("AWS_ACCESS_KEY_ID").is_some() && env.get("AWS_SECRET_ACCESS_KEY").is_some() {
        return CredentialSource::Environment;
    }
    let name = env.profile().unwrap_or("default");
    if let Some(profile) = profiles.get_profile(name) {
        if has_credentials(profile) {
            return profile_source(name, profiles);
        }
    }
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        return CredentialSource::WebIdentity { profile: None };
    }
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        return CredentialSource::Container;
    }
    CredentialSource::Instance
}

/// What a profile's credentials are, in the order the SDK's profile provider looks.
fn profile_source(name: &str, profiles: &ProfileSet) -> CredentialSource {
    let profile = name.to_owned();
    let Some(p) = profiles.get_profile(name) else {
        return CredentialSource::Profile { profile };
    };
    if p.get("web_identity_token_file").is_some() {
        return CredentialSource::WebIdentity {
            profile: Some(profile),
        };
    }
    if let Some(role_arn) = p.get("role_arn") {
        return CredentialSource::ProfileRole {
            profile,
            role_arn: role_arn.to_owned(),
        };
    }
    if p.get("sso_session").is_some()
        || p.get("sso_start_url").is_some()
        || p.get("sso_account_id").is_some()
    {
        return CredentialSource::Sso { profile };
    }
    if p.get("login_session").is_some() {
        return CredentialSource::Login { profile };
    }
    if p.get("credential_process").is_some() {
        return CredentialSource::Process { profile };
    }
    CredentialSource::Profile { profile }
}

/// Whether a profile holds any way to get credentials.
fn has_credentials(p: &Profile) -> bool {
    [
        "aws_access_key_id",
        "role_arn",
        "credential_process",
        "sso_session",
        "sso_start_url",
        "sso_account_id",
        "login_session",
        "web_identity_token_file",
        "credential_source",
    ]
    .iter()
    .any(|k| p.get(k).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[default]\nregion = us-east-1\n\n[profile deploy]\ncredential_process = /bin/creds\n\n[profile prod]\nrole_arn = arn:aws:iam::210987654321:role/deploy\nsource_profile = deploy\n\n[profile sso]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";
    const CREDENTIALS: &str =
        "[keys]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n";

    fn env(extra: &[(&str, &str)]) -> AwsEnv {
        let mut pairs = vec![
            ("HOME", "/home/dev"),
            ("AWS_CONFIG_FILE", "/etc/aws/config"),
        ];
        pairs.extend_from_slice(extra);
        AwsEnv::from_pairs(&pairs)
    }

    async fn profiles(env: &AwsEnv) -> ProfileSet {
        let fs = Fs::from_slice(&[
            ("/etc/aws/config", CONFIG),
            ("/home/dev/.aws/credentials", CREDENTIALS),
        ]);
        load_profiles(env, &fs).await.unwrap()
    }

    #[tokio::test]
    async fn the_flag_wins_over_keys_in_the_environment() {
        let e = env(&[
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_PROFILE", "keys"),
        ]);
        let set = profiles(&e).await;
        assert_eq!(
            credential_source(Some("deploy"), &e, &set),
            CredentialSource::Process {
                profile: "deploy".into()
            }
        );
        assert_eq!(
            chosen_profile(Some("deploy"), &e),
            Some(("deploy", ProfileOrigin::Flag))
        );
    }

    #[tokio::test]
    async fn aws_profile_keeps_the_sdk_order_keys_in_the_environment_first() {
        let with_keys = env(&[
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_PROFILE", "keys"),
        ]);
        let set = profiles(&with_keys).await;
        assert_eq!(
            credential_source(None, &with_keys, &set),
            CredentialSource::Environment
        );
        assert_eq!(
            chosen_profile(None, &with_keys),
            Some(("keys", ProfileOrigin::Environment))
        );
        let without_keys = env(&[("AWS_PROFILE", "keys")]);
        assert_eq!(
            credential_source(None, &without_keys, &set),
            CredentialSource::Profile {
                profile: "keys".into()
            }
        );
    }

    #[tokio::test]
    async fn each_kind_of_profile_is_named() {
        let e = env(&[]);
        let set = profiles(&e).await;
        assert_eq!(
            credential_source(Some("prod"), &e, &set).to_string(),
            "role arn:aws:iam::210987654321:role/deploy of profile `prod`"
        );
        assert_eq!(
            credential_source(Some("sso"), &e, &set).to_string(),
            "the SSO session of profile `sso`"
        );
        assert_eq!(
            credential_source(Some("deploy"), &e, &set).to_string(),
            "the credential_process of profile `deploy`"
        );
        assert_eq!(
            credential_source(Some("keys"), &e, &set).to_string(),
            "profile `keys`"
        );
        // The default profile holds only a region: the chain goes on to the instance.
        assert_eq!(
            credential_source(None, &e, &set),
            CredentialSource::Instance
        );
        let container = env(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds")]);
        assert_eq!(
            credential_source(None, &container, &set),
            CredentialSource::Container
        );
    }

    #[tokio::test]
    async fn an_unknown_profile_names_the_files_and_the_closest_name() {
        let e = env(&[]);
        let set = profiles(&e).await;
        assert!(check_profile("deploy", ProfileOrigin::Flag, &e, &set).is_ok());
        assert!(check_profile("keys", ProfileOrigin::Flag, &e, &set).is_ok());
        let err = check_profile("deplyo", ProfileOrigin::Flag, &e, &set).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS profile `deplyo` (--profile) is not in /etc/aws/config (AWS_CONFIG_FILE) or /home/dev/.aws/credentials (did you mean `deploy`?)"
        );
        let err = check_profile("zzzzzzzz", ProfileOrigin::Environment, &e, &set).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS profile `zzzzzzzz` (AWS_PROFILE) is not in /etc/aws/config (AWS_CONFIG_FILE) or /home/dev/.aws/credentials; the files hold the profiles default, deploy, keys, prod, sso"
        );
    }

    #[test]
    fn keys_are_kept_as_set_only() {
        let e = env(&[
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ]);
        let shown = format!("{e:?}");
        assert!(
            !shown.contains("very-secret") && !shown.contains("AKIAENV"),
            "{shown}"
        );
        assert!(!shown.contains("token"), "{shown}");
        assert_eq!(e.get("AWS_SECRET_ACCESS_KEY"), Some("(set)"));
    }

    #[test]
    fn the_region_variable_is_aws_region_then_aws_default_region() {
        assert_eq!(
            env(&[("AWS_DEFAULT_REGION", "eu-west-1")]).region(),
            Some(("AWS_DEFAULT_REGION", "eu-west-1"))
        );
        assert_eq!(
            env(&[
                ("AWS_DEFAULT_REGION", "eu-west-1"),
                ("AWS_REGION", "us-west-2")
            ])
            .region(),
            Some(("AWS_REGION", "us-west-2"))
        );
        assert_eq!(env(&[("AWS_REGION", " ")]).region(), None);
    }
}
