//! What CloudFormation can import into a stack (`ChangeSetType=IMPORT`): for each resource type
//! `little adopt` takes over, the property that names the resource in a template and the
//! identifier CloudFormation's `ResourcesToImport` wants for it. CloudFormation vocabulary only:
//! looking the resources up is `context::existing`, the import itself `deploy::adopt`.

/// How one resource type is imported: the template property that holds its physical name,
/// the identifier key of `ResourcesToImport`, and the noun people know it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportKey {
    pub resource_type: &'static str,
    /// The template property with the resource's physical name (`RepositoryName`).
    pub name_property: &'static str,
    /// The identifier property of `ResourcesToImport` (`RepositoryName`, `QueueUrl`, …).
    pub identifier: &'static str,
    /// What to call one in a sentence (`repository`).
    pub noun: &'static str,
    /// For a type whose live properties are not compared with the template: the properties
    /// the IMPORT change set's template keeps (the name, the required ones, the ones whose
    /// change would replace the resource); the others are left out, so that the update after
    /// the import sets them as the template says.
    pub kept_on_import: &'static [&'static str],
}

/// The types `little adopt` imports, matched by physical name.
pub const IMPORTABLE: [ImportKey; 6] = [
    ImportKey {
        resource_type: "AWS::ECR::Repository",
        name_property: "RepositoryName",
        identifier: "RepositoryName",
        noun: "repository",
        kept_on_import: &[],
    },
    ImportKey {
        resource_type: "AWS::IAM::Role",
        name_property: "RoleName",
        identifier: "RoleName",
        noun: "role",
        kept_on_import: &[],
    },
    ImportKey {
        resource_type: "AWS::S3::Bucket",
        name_property: "BucketName",
        identifier: "BucketName",
        noun: "bucket",
        kept_on_import: &["BucketName"],
    },
    ImportKey {
        resource_type: "AWS::SQS::Queue",
        name_property: "QueueName",
        identifier: "QueueUrl",
        noun: "queue",
        kept_on_import: &["QueueName", "FifoQueue"],
    },
    ImportKey {
        resource_type: "AWS::SNS::Topic",
        name_property: "TopicName",
        identifier: "TopicArn",
        noun: "topic",
        kept_on_import: &["TopicName", "FifoTopic"],
    },
    ImportKey {
        resource_type: "AWS::KMS::Alias",
        name_property: "AliasName",
        identifier: "AliasName",
        noun: "KMS alias",
        kept_on_import: &["AliasName", "TargetKeyId"],
    },
];

/// How a resource type is imported, or why `little adopt` cannot import it.
pub fn import_key(resource_type: &str) -> Result<&'static ImportKey, String> {
    IMPORTABLE
        .iter()
        .find(|k| k.resource_type == resource_type)
        .ok_or_else(|| {
            if resource_type.starts_with("Custom::")
                || resource_type == "AWS::CloudFormation::CustomResource"
            {
                "CloudFormation cannot import custom resources".to_owned()
            } else {
                format!(
                    "`little adopt` imports only resources it can find by name ({}); \
                     {resource_type} is not one of them",
                    IMPORTABLE
                        .iter()
                        .map(|k| k.resource_type)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_has_its_identifier_and_others_a_reason() {
        let repo = import_key("AWS::ECR::Repository").unwrap();
        assert_eq!(repo.identifier, "RepositoryName");
        assert_eq!(
            import_key("AWS::SQS::Queue").unwrap().identifier,
            "QueueUrl"
        );
        assert_eq!(
            import_key("AWS::SNS::Topic").unwrap().identifier,
            "TopicArn"
        );
        let why = import_key("AWS::ECR::RegistryPolicy").unwrap_err();
        assert!(why.contains("AWS::ECR::RegistryPolicy"), "{why}");
        assert!(import_key("Custom::Thing").unwrap_err().contains("custom"));
    }
}
