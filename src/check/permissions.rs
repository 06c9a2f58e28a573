//! The IAM permissions of `little check`, declared beside the image check (see
//! `aws::permissions` for the vocabulary): reading an image through ECR and the registry API,
//! and for the worker (`--queue`) its queue, the report bucket and the results topic.
//! `policies/iam/image-check-worker.json.njk` grants them to the deployed worker.

use crate::aws::permissions::{need, Need, Scope, When};

pub const PERMISSIONS: &[Need] = &[
    need("ecr:GetAuthorizationToken", Scope::Any, When::Always),
    need("ecr:BatchGetImage", Scope::Any, When::Always),
    need("ecr:GetDownloadUrlForLayer", Scope::Any, When::Always),
    need("ecr:DescribeImages", Scope::Any, When::Always),
    need("ecr:DescribeImageScanFindings", Scope::Any, When::Always),
    need("sqs:ReceiveMessage", Scope::Any, When::Queue),
    need("sqs:DeleteMessage", Scope::Any, When::Queue),
    need("sqs:ChangeMessageVisibility", Scope::Any, When::Queue),
    need("sqs:GetQueueAttributes", Scope::Any, When::Queue),
    need("sqs:GetQueueUrl", Scope::Any, When::Queue),
    need("s3:GetObject", Scope::Any, When::Queue),
    need("s3:PutObject", Scope::Any, When::Queue),
    need("s3:ListBucket", Scope::Any, When::Queue),
    need("sns:Publish", Scope::Any, When::Queue),
    need("ecr:BatchDeleteImage", Scope::Any, When::Enforce),
];
