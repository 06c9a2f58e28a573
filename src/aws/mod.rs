//! The AWS layer: loading the SDK configuration (credential chain, profile, region, endpoint
//! override) and narrow async traits that return the project's own types, with their SDK
//! adapters. No SDK type leaves this folder; AWS's English error texts are matched only here.

pub mod calls;
pub mod changeset;
pub mod cloudformation;
pub mod connect;
pub mod credentials;
pub mod drift;
pub mod ecr;
pub mod ecr_images;
pub mod ecr_lifecycle;
pub mod iam;
pub mod import;
pub mod kubernetes;
pub mod named;
pub mod names;
pub mod organizations;
pub mod permissions;
pub mod pipeline;
pub mod sns;
pub mod stack_ops;
pub mod stacksets;
pub mod staging;
pub mod sts;
pub mod workloads;

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls;

use crate::error::{Error, Result};

/// Where and as whom to call AWS; read once from flags and the environment.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// `--profile`: credentials come from this profile only, whatever keys the environment
    /// holds (as in the AWS CLI); `AWS_PROFILE` is in `env` and keeps the SDK's order.
    pub profile: Option<String>,
    /// `--region`: for calls that name no region.
    pub region: Option<String>,
    /// An endpoint for every service (`--endpoint-url`, `AWS_ENDPOINT_URL`): the local emulator.
    pub endpoint_url: Option<String>,
    /// The environment's AWS variables.
    pub env: credentials::AwsEnv,
}

/// An SDK configuration and where its credentials come from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: SdkConfig,
    pub source: credentials::CredentialSource,
}

/// A client of an SDK crate for a configuration, with the API call counter
/// ([`calls::CallCounter`]): `sdk_client!(aws_sdk_ecr, &config)`.
macro_rules! sdk_client {
    ($krate:ident, $config:expr) => {
        $krate::Client::from_conf(
            $krate::config::Builder::from($config)
                .interceptor($crate::aws::calls::CallCounter)
                .build(),
        )
    };
}
pub(crate) use sdk_client;

/// Loads the SDK configuration: the standard credential chain (environment, profiles, SSO,
/// container and instance roles), with the settings' overrides. `region` wins over the
/// settings' region (a stack's own region).
pub async fn load_config(settings: &AwsSettings, region: Option<&str>) -> Result<SdkConfig> {
    load(settings, region).await.map(|l| l.config)
}

/// [`load_config`], with where the credentials come from. With `--profile`, they come from
/// that profile only (static keys, `role_arn`, `credential_process`, SSO), never from keys in
/// the environment; a profile the config files lack (`--profile` or `AWS_PROFILE`) is an
/// error. A region from the environment or the profile must be one of AWS's.
pub async fn load(settings: &AwsSettings, region: Option<&str>) -> Result<Loaded> {
    use aws_types::os_shim_internal::Fs;
    let profiles = credentials::load_profiles(&settings.env, &Fs::real()).await?;
    if let Some((name, origin)) =
        credentials::chosen_profile(settings.profile.as_deref(), &settings.env)
    {
        credentials::check_profile(name, origin, &settings.env, &profiles)?;
    }
    let source =
        credentials::credential_source(settings.profile.as_deref(), &settings.env, &profiles);
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    // A throttled call is retried after a jittered exponential backoff (the SDK's standard
    // mode, up to five attempts); the fan-outs themselves back off on throttling (`parallel::AdaptiveLimit`). The
    // SDK's adaptive mode was measured too: its client-side rate limiter slowed a deploy with
    // every fourth call throttled twentyfold (BENCHMARKS.md, `latency`).
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http.clone())
        .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(5));
    if let Some(p) = &settings.profile {
        loader = loader.profile_name(p);
    }
    let explicit = region.or(settings.region.as_deref());
    if let Some(r) = explicit {
        loader = loader.region(Region::new(r.to_owned()));
    }
    if let Some(e) = &settings.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    let mut config = loader.load().await;
    let Some(resolved) = config.region().map(|r| r.to_string()) else {
        return Err(Error::AwsConfig(
            "no AWS region: pass `--region`, set `defaults.region` in little.yaml or `region` on the stack, or set AWS_REGION".into(),
        ));
    };
    if explicit.is_none() {
        if let Err(why) = crate::region::check(&resolved) {
            let origin = match settings.env.region() {
                Some((var, value)) if value == resolved => var.to_owned(),
                _ => format!(
                    "the `region` of profile `{}`",
                    credentials::chosen_profile(settings.profile.as_deref(), &settings.env)
                        .map_or("default", |(p, _)| p)
                ),
            };
            return Err(Error::AwsConfig(format!("{origin}: {why}")));
        }
    }
    if let Some(p) = &settings.profile {
        // The default chain would take keys in the environment first: `--profile` wins, as
        // in the AWS CLI, so credentials come from the profile's provider alone.
        let provider_config = aws_config::provider_config::ProviderConfig::without_region()
            .with_http_client(http)
            .with_region(config.region().cloned());
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .configure(&provider_config)
            .profile_name(p)
            .build();
        config = config
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build();
    }
    Ok(Loaded { config, source })
}

/// The error of a failed SDK call, with AWS's own message.
pub fn sdk_error<E>(
    operation: &str,
    err: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Error
where
    E: std::error::Error
        + aws_smithy_types::error::metadata::ProvideErrorMetadata
        + Send
        + Sync
        + 'static,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let message = match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            match (e.code(), e.message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg}"),
                (Some(code), None) => code.to_owned(),
                (None, Some(msg)) => msg.to_owned(),
                // Not an AWS error document: an endpoint that does not implement the call (the
                // emulator answers 500 with an HTML page) or a proxy in the way.
                (None, None) => format!(
                    "HTTP {} without an AWS error in the response (the endpoint may not implement this call)",
                    se.raw().status().as_u16()
                ),
            }
        }
        _ => error_chain(&err),
    };
    Error::Aws {
        operation: operation.to_owned(),
        message,
    }
}

/// An error and its sources, each once, joined with `: `; with a hint for missing credentials.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    let mut message = parts.join(": ");
    if message.contains("loading credentials") || message.contains("no credentials") {
        message.push_str(
            "; no AWS credentials were found: set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or log in with `aws sso login`",
        );
    }
    message
}

/// A resolver of the caller's account id (what templates get as `account_id`; render's
/// `AccountResolver`) that asks STS who the caller is, on a thread of its own so that it can be
/// called from synchronous template code wherever it runs.
pub fn account_resolver(
    settings: AwsSettings,
    region: Option<String>,
) -> Arc<dyn Fn() -> std::result::Result<String, String> + Send + Sync> {
    Arc::new(move || {
        let settings = settings.clone();
        let region = region.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let config = load_config(&settings, region.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
                let id = sts::StsIdentity::new(&config);
                use sts::Identity;
                id.caller_identity()
                    .await
                    .map(|c| c.account)
                    .map_err(|e| e.to_string())
            })
        })
        .join()
        .map_err(|_| "the STS call panicked".to_owned())?
    })
}
