//! The IAM permissions `little serve` needs besides the audit's
//! ([`crate::audit::permissions::needs`]): the scan configurations' images, scans and
//! findings (those of little.yaml and those added through its API).

use crate::aws::permissions::{need, Need, Scope, When};

pub const SCANS: &[Need] = &[
    need("ecr:DescribeImages", Scope::Any, When::ScanConfigs),
    need("ecr:StartImageScan", Scope::Any, When::ScanConfigs),
    need(
        "ecr:DescribeImageScanFindings",
        Scope::Any,
        When::ScanConfigs,
    ),
];
