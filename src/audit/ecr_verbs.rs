//! little-automation's `little ecr` verbs: the registry's address, its repositories, the
//! `docker login` password (or the login itself, when Docker is installed), one image's scan
//! findings by repository and tag, and whether its scan is in progress. Data only: the
//! AWS-shaped JSON of `scanreport` is `report::aws_json`.
//!
//! Not here: the scan gate and promotion (`gate`), which judge findings against a threshold.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::aws::connect::{Account, Connect};
use crate::aws::ecr::{ScanResult, ScanStatus};
use crate::error::{Error, Result};

/// The registry of the caller's account and region: `<account>.dkr.ecr.<region>.amazonaws.com`.
pub async fn registry(
    connect: &dyn Connect,
    region: Option<&str>,
    account: Option<&Account>,
) -> Result<String> {
    let caller = connect.caller(region, account).await?;
    Ok(registry_host(&caller.identity.account, &caller.region))
}

/// `<account>.dkr.ecr.<region>.amazonaws.com` (`.com.cn` in China's regions).
pub fn registry_host(account: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("{account}.dkr.ecr.{region}.{suffix}")
}

/// Every repository as `<registry>/<name>`, in the order ECR lists them.
pub async fn repositories(
    connect: &dyn Connect,
    region: Option<&str>,
    account: Option<&Account>,
) -> Result<Vec<String>> {
    let registry = registry(connect, region, account).await?;
    let clients = connect.clients(region, account).await?;
    Ok(clients
        .ecr
        .repositories()
        .await?
        .into_iter()
        .map(|r| format!("{registry}/{}", r.name))
        .collect())
}

/// The password `docker login --username AWS` takes (what `aws ecr get-login-password`
/// prints): the authorization token, base64 of `AWS:<password>`, decoded.
pub async fn login_password(
    connect: &dyn Connect,
    region: Option<&str>,
    account: Option<&Account>,
) -> Result<String> {
    let clients = connect.clients(region, account).await?;
    let auth = clients.images.registry_auth().await?;
    password_of(&auth.header)
}

/// The password in a `Basic <base64 of user:password>` header.
pub fn password_of(header: &str) -> Result<String> {
    let bad = || Error::Aws {
        operation: "ecr:GetAuthorizationToken".into(),
        message: "the authorization token is not base64 of `AWS:<password>`".into(),
    };
    let token = header.strip_prefix("Basic ").unwrap_or(header);
    let decoded = crate::text::base64_decode(token).ok_or_else(bad)?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    text.split_once(':')
        .map(|(_, p)| p.to_owned())
        .ok_or_else(bad)
}

/// The `docker` program on `PATH`, if there is one.
pub fn docker_on_path(path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .map(|d| d.join("docker"))
        .find(|p| p.is_file())
}

/// Runs `docker login --username AWS --password-stdin <registry>`, the password on its stdin and
/// its output on stderr, as the original did. Ok(false) when docker refused.
pub fn docker_login(docker: &Path, registry: &str, password: &str) -> Result<bool> {
    let mut child = std::process::Command::new(docker)
        .args(["login", "--username", "AWS", "--password-stdin", registry])
        .stdin(std::process::Stdio::piped())
        .stdout(std::io::stderr())
        .spawn()
        .map_err(|e| Error::Usage(format!("could not run `{}`: {e}", docker.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(password.as_bytes()).map_err(Error::Io)?;
    }
    let status = child.wait().map_err(Error::Io)?;
    Ok(status.success())
}

/// One image's scan, by repository and tag: the registry's account id, the image's digest and
/// its scan result. An image or a scan that does not exist is an error naming it, as ECR's
/// `ImageNotFoundException` and `ScanNotFoundException` were for the original.
pub struct ImageScan {
    pub registry_id: String,
    pub digest: String,
    pub scan: ScanResult,
}

/// DescribeImageScanFindings of `repo:tag`.
pub async fn scan_report(
    connect: &dyn Connect,
    region: Option<&str>,
    account: Option<&Account>,
    repo: &str,
    tag: &str,
) -> Result<ImageScan> {
    let caller = connect.caller(region, account).await?;
    let clients = connect.clients(region, account).await?;
    let manifest = clients
        .images
        .manifest(repo, tag)
        .await?
        .ok_or_else(|| Error::Aws {
            operation: "ecr:DescribeImageScanFindings".into(),
            message: format!(
                "ImageNotFoundException: the image with imageTag '{tag}' does not exist within the repository with name '{repo}'"
            ),
        })?;
    let scan = clients
        .ecr
        .scan_findings(repo, &manifest.digest)
        .await?
        .ok_or_else(|| Error::Aws {
            operation: "ecr:DescribeImageScanFindings".into(),
            message: format!(
                "ScanNotFoundException: image scan does not exist for the image with imageTag '{tag}' in the repository with name '{repo}'"
            ),
        })?;
    Ok(ImageScan {
        registry_id: caller.identity.account,
        digest: manifest.digest,
        scan,
    })
}

/// Whether the image's scan is in progress: what `scan-in-progress` exits 0 for. An image
/// without a scan, or that does not exist, is not (exit 1, as the original's `test` was).
pub async fn scan_in_progress(
    connect: &dyn Connect,
    region: Option<&str>,
    account: Option<&Account>,
    repo: &str,
    tag: &str,
) -> Result<bool> {
    match scan_report(connect, region, account, repo, tag).await {
        Ok(s) => Ok(is_in_progress(&s.scan)),
        Err(Error::Aws { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether a scan result says the scan is in progress.
pub fn is_in_progress(scan: &ScanResult) -> bool {
    ScanStatus::of(&scan.status) == ScanStatus::InProgress
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_host_is_account_and_region() {
        assert_eq!(
            registry_host("123456789012", "us-east-2"),
            "123456789012.dkr.ecr.us-east-2.amazonaws.com"
        );
        assert_eq!(
            registry_host("123456789012", "cn-north-1"),
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn the_password_is_after_the_user() {
        // base64 of "AWS:pass:word"
        assert_eq!(
            password_of("Basic QVdTOnBhc3M6d29yZA==").unwrap(),
            "pass:word"
        );
        assert!(password_of("Basic !!").is_err());
        // base64 of "nocolon"
        assert!(password_of("bm9jb2xvbg==").is_err());
    }

    #[test]
    fn in_progress_is_read_through_the_scan_status() {
        let scan = |status: &str| ScanResult {
            status: status.into(),
            description: None,
            completed_at: None,
            counts: Default::default(),
            findings: Vec::new(),
        };
        assert!(is_in_progress(&scan("IN_PROGRESS")));
        assert!(!is_in_progress(&scan("COMPLETE")));
    }

    #[test]
    fn docker_is_looked_up_on_the_path() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(docker_on_path(Some(dir.path().as_os_str())), None);
        std::fs::write(dir.path().join("docker"), "").unwrap();
        assert_eq!(
            docker_on_path(Some(dir.path().as_os_str())),
            Some(dir.path().join("docker"))
        );
        assert_eq!(docker_on_path(None), None);
    }

    fn fake(scan: Option<&str>, image: bool) -> crate::testing::fake_aws::FakeConnect {
        use crate::testing::fake_aws::{FakeAws, FakeConnect};
        let aws = FakeAws::new();
        if image {
            *aws.image.lock().unwrap() = Some(crate::aws::ecr_images::Manifest {
                digest: "sha256:abc".into(),
                media_type: None,
                body: "{}".into(),
            });
        }
        *aws.scans.lock().unwrap() = vec![scan.map(|s| ScanResult {
            status: s.into(),
            description: None,
            completed_at: None,
            counts: [("HIGH".to_owned(), 1)].into(),
            findings: Vec::new(),
        })];
        FakeConnect(aws)
    }

    #[tokio::test]
    async fn scan_in_progress_is_true_only_for_a_scan_in_progress() {
        let busy = |scan, image| async move {
            scan_in_progress(&fake(scan, image), None, None, "r", "t")
                .await
                .unwrap()
        };
        assert!(busy(Some("IN_PROGRESS"), true).await);
        assert!(!busy(Some("COMPLETE"), true).await);
        // No scan, no image: not in progress (exit 1), not an error.
        assert!(!busy(None, true).await);
        assert!(!busy(Some("IN_PROGRESS"), false).await);
    }

    #[tokio::test]
    async fn a_scan_report_names_what_is_missing() {
        let found = scan_report(&fake(Some("COMPLETE"), true), None, None, "r", "t")
            .await
            .unwrap();
        assert_eq!(found.digest, "sha256:abc");
        assert_eq!(found.scan.counts["HIGH"], 1);
        let none = scan_report(&fake(None, true), None, None, "r", "t").await;
        assert!(none
            .err()
            .unwrap()
            .to_string()
            .contains("ScanNotFoundException"));
        let gone = scan_report(&fake(None, false), None, None, "r", "t").await;
        assert!(gone
            .err()
            .unwrap()
            .to_string()
            .contains("ImageNotFoundException"));
    }

    #[tokio::test]
    async fn the_login_password_is_the_decoded_token() {
        let c = fake(None, false);
        assert_eq!(login_password(&c, None, None).await.unwrap(), "token");
    }
}
