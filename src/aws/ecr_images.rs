//! ECR image operations for the scan gate, promotion and the image check worker: read an
//! image's manifest, look an image up by digest (the worker confirms a push event with it), tag
//! the same manifest again, start a scan. The registry's read-only calls for audits are in
//! `ecr`.
//!
//! No SDK type leaves this file; AWS's error codes are matched only here.

use async_trait::async_trait;
use aws_sdk_ecr::operation::describe_images::DescribeImagesError;
use aws_sdk_ecr::operation::put_image::PutImageError;
use aws_sdk_ecr::operation::start_image_scan::StartImageScanError;
use aws_sdk_ecr::types::ImageIdentifier;

use super::sdk_error;
use crate::error::{Error, Result};

/// An image's manifest, as BatchGetImage returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub digest: String,
    pub media_type: Option<String>,
    pub body: String,
}

/// An image as the registry has it (DescribeImages by digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    /// The registry's account id.
    pub registry_id: String,
    pub digest: String,
    /// Every tag on the image now.
    pub tags: Vec<String>,
}

/// What DescribeImages said of a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageLookup {
    Found(ImageRecord),
    /// The registry has no repository of that name.
    NoRepository,
    /// The repository has no image of that digest.
    NoImage,
}

/// What StartImageScan said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartScan {
    Started,
    /// Basic scanning allows one scan per image per 24 hours.
    AlreadyScannedToday,
    /// The image's OS or format cannot be scanned.
    Unsupported(String),
}

/// What PutImage said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutTag {
    Tagged,
    /// The tag is on this manifest already.
    AlreadyThere,
    /// The tag exists on another image of an IMMUTABLE repository.
    TagTaken,
}

#[async_trait]
pub trait EcrImages: Send + Sync {
    /// The manifest of `reference`: a tag, or a digest `sha256:...`. None when there is no
    /// such image.
    async fn manifest(&self, repo: &str, reference: &str) -> Result<Option<Manifest>>;
    /// DescribeImages of one digest (`sha256:...`) in the caller's registry: which registry
    /// holds it and its tags now; whether the repository or the image is missing.
    async fn describe_image(&self, repo: &str, digest: &str) -> Result<ImageLookup>;
    /// Puts `tag` on the manifest (the same image, a new tag).
    async fn put_tag(&self, repo: &str, manifest: &Manifest, tag: &str) -> Result<PutTag>;
    async fn start_scan(&self, repo: &str, digest: &str) -> Result<StartScan>;
    /// GetAuthorizationToken: the registry's endpoint and the `Authorization` header value
    /// for its OCI distribution API.
    async fn registry_auth(&self) -> Result<RegistryAuth>;
    /// BatchDeleteImage by digest (every tag of the image goes with it). `Ok(false)`: there
    /// was no such image.
    async fn delete_image(&self, repo: &str, digest: &str) -> Result<bool>;
}

/// How to reach the registry's OCI distribution API.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    /// Such as `https://123456789012.dkr.ecr.eu-west-1.amazonaws.com`.
    pub endpoint: String,
    /// `Basic ...` (the token is a secret: never printed).
    pub header: String,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("endpoint", &self.endpoint)
            .field("header", &"(redacted)")
            .finish()
    }
}

/// [`EcrImages`] through the SDK's ECR client.
pub struct EcrImagesClient {
    client: aws_sdk_ecr::Client,
}

impl EcrImagesClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        EcrImagesClient {
            client: super::sdk_client!(aws_sdk_ecr, config),
        }
    }

    pub fn from_client(client: aws_sdk_ecr::Client) -> Self {
        EcrImagesClient { client }
    }
}

/// `sha256:...` names an image by digest; anything else is a tag.
pub fn image_id(reference: &str) -> ImageIdentifier {
    if reference.starts_with("sha256:") {
        ImageIdentifier::builder().image_digest(reference).build()
    } else {
        ImageIdentifier::builder().image_tag(reference).build()
    }
}

#[async_trait]
impl EcrImages for EcrImagesClient {
    async fn manifest(&self, repo: &str, reference: &str) -> Result<Option<Manifest>> {
        let out = self
            .client
            .batch_get_image()
            .repository_name(repo)
            .image_ids(image_id(reference))
            .accepted_media_types("application/vnd.docker.distribution.manifest.v2+json")
            .accepted_media_types("application/vnd.docker.distribution.manifest.list.v2+json")
            .accepted_media_types("application/vnd.oci.image.manifest.v1+json")
            .accepted_media_types("application/vnd.oci.image.index.v1+json")
            .send()
            .await
            .map_err(|e| sdk_error("ecr:BatchGetImage", e))?;
        Ok(out.images().first().and_then(|i| {
            Some(Manifest {
                digest: i.image_id()?.image_digest()?.to_owned(),
                media_type: i.image_manifest_media_type().map(str::to_owned),
                body: i.image_manifest()?.to_owned(),
            })
        }))
    }

    async fn describe_image(&self, repo: &str, digest: &str) -> Result<ImageLookup> {
        let sent = self
            .client
            .describe_images()
            .repository_name(repo)
            .image_ids(ImageIdentifier::builder().image_digest(digest).build())
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) => {
                return match e.as_service_error() {
                    Some(DescribeImagesError::RepositoryNotFoundException(_)) => {
                        Ok(ImageLookup::NoRepository)
                    }
                    Some(DescribeImagesError::ImageNotFoundException(_)) => {
                        Ok(ImageLookup::NoImage)
                    }
                    _ => Err(sdk_error("ecr:DescribeImages", e)),
                }
            }
        };
        // Only an answer about this very digest counts.
        let Some(detail) = out
            .image_details()
            .iter()
            .find(|d| d.image_digest() == Some(digest))
        else {
            return Ok(ImageLookup::NoImage);
        };
        Ok(ImageLookup::Found(ImageRecord {
            registry_id: detail.registry_id().unwrap_or_default().to_owned(),
            digest: digest.to_owned(),
            tags: detail.image_tags().to_vec(),
        }))
    }

    async fn put_tag(&self, repo: &str, manifest: &Manifest, tag: &str) -> Result<PutTag> {
        let sent = self
            .client
            .put_image()
            .repository_name(repo)
            .image_manifest(&manifest.body)
            .set_image_manifest_media_type(manifest.media_type.clone())
            .image_tag(tag)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(PutTag::Tagged),
            Err(e) => match e.as_service_error() {
                // The same manifest under the same tag: nothing to do.
                Some(PutImageError::ImageAlreadyExistsException(_)) => Ok(PutTag::AlreadyThere),
                Some(PutImageError::ImageTagAlreadyExistsException(_)) => Ok(PutTag::TagTaken),
                _ => Err(sdk_error("ecr:PutImage", e)),
            },
        }
    }

    async fn start_scan(&self, repo: &str, digest: &str) -> Result<StartScan> {
        let sent = self
            .client
            .start_image_scan()
            .repository_name(repo)
            .image_id(image_id(digest))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(StartScan::Started),
            Err(e) => match e.as_service_error() {
                Some(StartImageScanError::LimitExceededException(_)) => {
                    Ok(StartScan::AlreadyScannedToday)
                }
                Some(StartImageScanError::UnsupportedImageTypeException(u)) => Ok(
                    StartScan::Unsupported(u.message().unwrap_or("unsupported image").to_owned()),
                ),
                _ => Err(sdk_error("ecr:StartImageScan", e)),
            },
        }
    }

    async fn registry_auth(&self) -> Result<RegistryAuth> {
        let out = self
            .client
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| sdk_error("ecr:GetAuthorizationToken", e))?;
        let data = out.authorization_data().first().ok_or_else(|| Error::Aws {
            operation: "ecr:GetAuthorizationToken".into(),
            message: "no authorization data in the answer".into(),
        })?;
        Ok(RegistryAuth {
            endpoint: data.proxy_endpoint().unwrap_or_default().to_owned(),
            header: format!("Basic {}", data.authorization_token().unwrap_or_default()),
        })
    }

    async fn delete_image(&self, repo: &str, digest: &str) -> Result<bool> {
        let out = self
            .client
            .batch_delete_image()
            .repository_name(repo)
            .image_ids(image_id(digest))
            .send()
            .await
            .map_err(|e| sdk_error("ecr:BatchDeleteImage", e))?;
        if let Some(failure) = out.failures().first() {
            let code = failure.failure_code().map(|c| c.as_str()).unwrap_or("");
            if code == "ImageNotFound" {
                return Ok(false);
            }
            return Err(Error::Aws {
                operation: "ecr:BatchDeleteImage".into(),
                message: format!(
                    "{code}: {}",
                    failure.failure_reason().unwrap_or("no reason given")
                ),
            });
        }
        Ok(!out.image_ids().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecr::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    fn manifest() -> Manifest {
        Manifest {
            digest: "sha256:0d5e2a7b8d0c4c1f3e6b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b"
                .into(),
            media_type: Some("application/vnd.docker.distribution.manifest.v2+json".into()),
            body: "{}".into(),
        }
    }

    #[test]
    fn references_by_tag_or_digest() {
        assert_eq!(image_id("v1.2.0").image_tag(), Some("v1.2.0"));
        assert_eq!(image_id("sha256:abc").image_digest(), Some("sha256:abc"));
    }

    #[tokio::test]
    async fn an_existing_tag_on_an_immutable_repository_is_reported_not_raised() {
        let taken = mock!(Client::put_image).then_error(|| {
            PutImageError::ImageTagAlreadyExistsException(
                aws_sdk_ecr::types::error::ImageTagAlreadyExistsException::builder()
                    .message("The image tag 'v1' already exists in the 'team/api' repository and cannot be overwritten because the repository is immutable.")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_ecr, RuleMode::Sequential, [&taken]);
        let ecr = EcrImagesClient::from_client(client);
        assert_eq!(
            ecr.put_tag("team/api", &manifest(), "v1").await.unwrap(),
            PutTag::TagTaken
        );
    }

    #[tokio::test]
    async fn an_image_is_looked_up_by_its_digest_only() {
        use aws_sdk_ecr::operation::describe_images::DescribeImagesOutput;
        use aws_sdk_ecr::types::error::{ImageNotFoundException, RepositoryNotFoundException};
        use aws_sdk_ecr::types::ImageDetail;
        let digest = manifest().digest;
        let wanted = digest.clone();
        let found = mock!(Client::describe_images)
            .match_requests(move |r| {
                r.repository_name() == Some("team/api")
                    && r.image_ids().len() == 1
                    && r.image_ids()[0].image_digest() == Some(wanted.as_str())
                    && r.image_ids()[0].image_tag().is_none()
            })
            .then_output({
                let digest = digest.clone();
                move || {
                    DescribeImagesOutput::builder()
                        .image_details(
                            ImageDetail::builder()
                                .registry_id("123456789012")
                                .repository_name("team/api")
                                .image_digest(&digest)
                                .image_tags("v1")
                                .image_tags("latest")
                                .build(),
                        )
                        .build()
                }
            });
        // An answer about another digest is no confirmation.
        let other = mock!(Client::describe_images).then_output(|| {
            DescribeImagesOutput::builder()
                .image_details(
                    ImageDetail::builder()
                        .registry_id("123456789012")
                        .image_digest("sha256:other")
                        .build(),
                )
                .build()
        });
        let no_image = mock!(Client::describe_images).then_error(|| {
            DescribeImagesError::ImageNotFoundException(
                ImageNotFoundException::builder()
                    .message("The image with imageId {imageDigest:'sha256:0d5e'} does not exist")
                    .build(),
            )
        });
        let no_repo = mock!(Client::describe_images).then_error(|| {
            DescribeImagesError::RepositoryNotFoundException(
                RepositoryNotFoundException::builder()
                    .message("The repository with name 'team/none' does not exist")
                    .build(),
            )
        });
        let denied = mock!(Client::describe_images).then_error(|| {
            DescribeImagesError::generic(
                ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("denied")
                    .build(),
            )
        });
        let client = mock_client!(
            aws_sdk_ecr,
            RuleMode::Sequential,
            [&found, &other, &no_image, &no_repo, &denied]
        );
        let ecr = EcrImagesClient::from_client(client);
        assert_eq!(
            ecr.describe_image("team/api", &digest).await.unwrap(),
            ImageLookup::Found(ImageRecord {
                registry_id: "123456789012".into(),
                digest: digest.clone(),
                tags: vec!["v1".into(), "latest".into()],
            })
        );
        assert_eq!(
            ecr.describe_image("team/api", &digest).await.unwrap(),
            ImageLookup::NoImage
        );
        assert_eq!(
            ecr.describe_image("team/api", &digest).await.unwrap(),
            ImageLookup::NoImage
        );
        assert_eq!(
            ecr.describe_image("team/none", &digest).await.unwrap(),
            ImageLookup::NoRepository
        );
        let err = ecr.describe_image("team/api", &digest).await.unwrap_err();
        assert!(err.to_string().contains("AccessDeniedException"), "{err}");
    }

    #[tokio::test]
    async fn the_daily_scan_limit_is_a_state() {
        let limited = mock!(Client::start_image_scan).then_error(|| {
            StartImageScanError::LimitExceededException(
                aws_sdk_ecr::types::error::LimitExceededException::builder()
                    .message("The scan quota per image has been exceeded. Wait and try again.")
                    .build(),
            )
        });
        let other = mock!(Client::start_image_scan).then_error(|| {
            StartImageScanError::generic(
                ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("denied")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_ecr, RuleMode::Sequential, [&limited, &other]);
        let ecr = EcrImagesClient::from_client(client);
        assert_eq!(
            ecr.start_scan("team/api", "sha256:x").await.unwrap(),
            StartScan::AlreadyScannedToday
        );
        assert!(ecr.start_scan("team/api", "sha256:x").await.is_err());
    }
}
