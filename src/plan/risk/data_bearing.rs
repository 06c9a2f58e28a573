//! The resource types that hold data (ECR repositories, S3 buckets, databases, queues, keys,
//! …), how to speak of each, and which property changes replace it.
//!
//! A table and its lookups; the risks built from it are in the sibling modules.

/// A resource type that holds data, and how to speak of it.
pub(super) struct DataBearing {
    pub(super) resource_type: &'static str,
    /// "ECR repository": the type, for people.
    pub(super) noun: &'static str,
    /// "repository": the thing itself.
    pub(super) short: &'static str,
    /// "its images": what it holds; "" when the thing is all there is.
    pub(super) contents: &'static str,
    /// What happens to it when CloudFormation deletes it ("deleted").
    pub(super) gone: &'static str,
    /// What the stack points at after a replacement.
    pub(super) fresh: &'static str,
    /// Whether `Snapshot` is a valid deletion policy for the type.
    pub(super) snapshots: bool,
    /// Properties whose change replaces the resource.
    pub(super) replacing: &'static [&'static str],
}

const fn bearing(
    resource_type: &'static str,
    noun: &'static str,
    short: &'static str,
    contents: &'static str,
    fresh: &'static str,
    snapshots: bool,
    replacing: &'static [&'static str],
) -> DataBearing {
    DataBearing {
        resource_type,
        noun,
        short,
        contents,
        gone: "deleted",
        fresh,
        snapshots,
        replacing,
    }
}

const DATA_BEARING: &[DataBearing] = &[
    bearing(
        "AWS::Backup::BackupVault",
        "backup vault",
        "vault",
        "its recovery points",
        "a new, empty vault",
        false,
        &["BackupVaultName", "EncryptionKeyArn"],
    ),
    bearing(
        "AWS::DocDB::DBCluster",
        "DocumentDB cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        true,
        &["DBClusterIdentifier", "KmsKeyId", "StorageEncrypted"],
    ),
    bearing(
        "AWS::DynamoDB::GlobalTable",
        "DynamoDB global table",
        "table",
        "its items",
        "a new, empty table",
        false,
        &["TableName", "KeySchema"],
    ),
    bearing(
        "AWS::DynamoDB::Table",
        "DynamoDB table",
        "table",
        "its items",
        "a new, empty table",
        false,
        &["TableName", "KeySchema"],
    ),
    bearing(
        "AWS::EC2::Volume",
        "EBS volume",
        "volume",
        "its data",
        "a new, empty volume",
        true,
        &["AvailabilityZone", "Encrypted", "KmsKeyId", "SnapshotId"],
    ),
    bearing(
        "AWS::ECR::Repository",
        "ECR repository",
        "repository",
        "its images",
        "a new, empty repository",
        false,
        &["RepositoryName", "EncryptionConfiguration"],
    ),
    bearing(
        "AWS::EFS::FileSystem",
        "EFS file system",
        "file system",
        "its files",
        "a new, empty file system",
        false,
        &["Encrypted", "KmsKeyId", "PerformanceMode"],
    ),
    bearing(
        "AWS::ElastiCache::CacheCluster",
        "ElastiCache cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        true,
        &["ClusterName", "Engine"],
    ),
    bearing(
        "AWS::ElastiCache::ReplicationGroup",
        "ElastiCache replication group",
        "replication group",
        "its data",
        "a new, empty replication group",
        true,
        &["ReplicationGroupId"],
    ),
    bearing(
        "AWS::ElastiCache::ServerlessCache",
        "ElastiCache serverless cache",
        "cache",
        "its data",
        "a new, empty cache",
        false,
        &["ServerlessCacheName", "Engine"],
    ),
    bearing(
        "AWS::Elasticsearch::Domain",
        "Elasticsearch domain",
        "domain",
        "its indices",
        "a new, empty domain",
        false,
        &["DomainName"],
    ),
    bearing(
        "AWS::FSx::FileSystem",
        "FSx file system",
        "file system",
        "its files",
        "a new, empty file system",
        false,
        &["FileSystemType", "KmsKeyId"],
    ),
    bearing(
        "AWS::Kinesis::Stream",
        "Kinesis stream",
        "stream",
        "its records",
        "a new, empty stream",
        false,
        &["Name"],
    ),
    DataBearing {
        gone: "scheduled for deletion (data encrypted with it becomes unreadable)",
        ..bearing(
            "AWS::KMS::Key",
            "KMS key",
            "key",
            "",
            "a new key",
            false,
            &["KeySpec", "KeyUsage", "MultiRegion"],
        )
    },
    bearing(
        "AWS::Logs::LogGroup",
        "log group",
        "log group",
        "its log events",
        "a new, empty log group",
        false,
        &["LogGroupName"],
    ),
    bearing(
        "AWS::MemoryDB::Cluster",
        "MemoryDB cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        false,
        &["ClusterName"],
    ),
    bearing(
        "AWS::Neptune::DBCluster",
        "Neptune cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        true,
        &["DBClusterIdentifier", "KmsKeyId", "StorageEncrypted"],
    ),
    bearing(
        "AWS::OpenSearchService::Domain",
        "OpenSearch domain",
        "domain",
        "its indices",
        "a new, empty domain",
        false,
        &["DomainName"],
    ),
    bearing(
        "AWS::RDS::DBCluster",
        "RDS DB cluster",
        "DB cluster",
        "its data",
        "a new, empty DB cluster",
        true,
        &[
            "DBClusterIdentifier",
            "DatabaseName",
            "Engine",
            "KmsKeyId",
            "StorageEncrypted",
        ],
    ),
    bearing(
        "AWS::RDS::DBInstance",
        "RDS DB instance",
        "DB instance",
        "its data",
        "a new, empty DB instance",
        true,
        &[
            "DBInstanceIdentifier",
            "DBName",
            "Engine",
            "CharacterSetName",
            "KmsKeyId",
            "StorageEncrypted",
        ],
    ),
    bearing(
        "AWS::Redshift::Cluster",
        "Redshift cluster",
        "cluster",
        "its data",
        "a new, empty cluster",
        true,
        &["ClusterIdentifier", "DBName"],
    ),
    bearing(
        "AWS::S3::Bucket",
        "S3 bucket",
        "bucket",
        "its objects",
        "a new, empty bucket",
        false,
        &["BucketName", "ObjectLockEnabled"],
    ),
    bearing(
        "AWS::SQS::Queue",
        "SQS queue",
        "queue",
        "its messages",
        "a new, empty queue",
        false,
        &["QueueName", "FifoQueue"],
    ),
    bearing(
        "AWS::SecretsManager::Secret",
        "secret",
        "secret",
        "its value",
        "a new secret",
        false,
        &["Name"],
    ),
];

pub(super) fn data_bearing(resource_type: &str) -> Option<&'static DataBearing> {
    DATA_BEARING
        .iter()
        .find(|b| b.resource_type == resource_type)
}

/// Whether removing or replacing a resource of this type loses data. Configuration-only types
/// (SNS topics, IAM, ECR pull-through cache rules, ElastiCache subnet and parameter groups)
/// are not data-bearing.
pub fn is_data_bearing(resource_type: &str) -> bool {
    data_bearing(resource_type).is_some()
}

/// The properties whose change replaces a resource of a data-bearing type (from the
/// CloudFormation resource reference; only the common ones). Empty for other types.
pub fn replacing_properties(resource_type: &str) -> &'static [&'static str] {
    data_bearing(resource_type).map_or(&[], |b| b.replacing)
}
