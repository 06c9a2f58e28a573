//! The vocabulary in which an operation declares the IAM permissions of the calls it makes: an
//! action (`ecr:DescribeRepositories`, as IAM and the call counter name it), the resources it
//! is needed on ([`Scope`]), and when it is needed ([`When`]). The operations keep their own
//! declarations beside their code (`audit::permissions`, `plan::PERMISSIONS`, ...); turning
//! them into a policy document for a project is `permissions`' job, not this module's.

/// The resources an action is needed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Every resource (`"*"`): the action takes none, or little reads every resource of its
    /// kind (the audit reads every repository of the registry).
    Any,
    /// The selected stacks: `arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/*`.
    Stack,
    /// The stacks whose outputs the selected stacks read (`stack_output()`, `depends_on`).
    Dependency,
    /// The selected StackSets: `arn:PARTITION:cloudformation:REGION:ACCOUNT:stackset/NAME:*`.
    StackSet,
    /// The `role_arn` of the accounts of the selected stacks (or of every account audited).
    AccountRole,
    /// The CloudFormation service role of the selected stack configs (their `role_arn`).
    ServiceRole,
    /// The StackSets' administration role (SELF_MANAGED).
    AdministrationRole,
    /// The audit role of every account of the organisation (`--org`).
    OrgAuditRole,
}

/// When an action is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum When {
    Always,
    /// A selected stack is a single stack (not a StackSet).
    SingleStack,
    /// A selected stack is a StackSet.
    StackSet,
    /// A selected StackSet is SERVICE_MANAGED (its targets are organisational units).
    ServiceManaged,
    /// A selected stack config sets `stack_policy`.
    StackPolicy,
    /// A selected stack config names a service role (`role_arn`).
    ServiceRole,
    /// A selected stack has a template over 51,200 bytes (staged in the template bucket).
    LargeTemplate,
    /// Enough selected stacks share an account and region for their deployed state to be
    /// read in one listing of the region (`context::listing`).
    ManyStacks,
    /// `--replace-failed` (apply).
    ReplaceFailed,
    /// `--queue` (the image check worker).
    Queue,
    /// `--enforce` (the image check worker).
    Enforce,
    /// Scan configurations (serve).
    ScanConfigs,
    /// `--start` (`ecr scan-report`: start a scan when the image has none).
    Start,
}

/// One permission an operation needs: an action on a scope, under a condition, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Need {
    pub action: &'static str,
    pub scope: Scope,
    pub when: When,
}

/// A [`Need`] (for the declarations' tables).
pub const fn need(action: &'static str, scope: Scope, when: When) -> Need {
    Need {
        action,
        scope,
        when,
    }
}

/// The service of an action (`ecr` of `ecr:DescribeImages`).
pub fn service(action: &str) -> &str {
    action.split(':').next().unwrap_or(action)
}

/// The IAM action that authorises an API operation as the call counter names it
/// (`s3:HeadBucket` is authorised by `s3:ListBucket`); most are the same name.
pub fn iam_action(operation: &str) -> &str {
    match operation {
        "s3:HeadBucket" | "s3:ListObjectsV2" => "s3:ListBucket",
        "s3:HeadObject" => "s3:GetObject",
        "s3:PutBucketEncryption" => "s3:PutEncryptionConfiguration",
        "s3:PutBucketLifecycleConfiguration" => "s3:PutLifecycleConfiguration",
        "s3:PutPublicAccessBlock" => "s3:PutBucketPublicAccessBlock",
        other => other,
    }
}

/// The ARN partition of a region: `aws-cn` in China, `aws-us-gov` in GovCloud, else `aws`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The ARN pattern of a stack's every incarnation.
pub fn stack_arn(region: &str, account: &str, name: &str) -> String {
    format!(
        "arn:{}:cloudformation:{region}:{account}:stack/{name}/*",
        partition(region)
    )
}

/// The ARN pattern of a StackSet's every incarnation.
pub fn stack_set_arn(region: &str, account: &str, name: &str) -> String {
    format!(
        "arn:{}:cloudformation:{region}:{account}:stackset/{name}:*",
        partition(region)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_carry_the_partition_of_their_region() {
        assert_eq!(
            stack_arn("eu-west-1", "123456789012", "app"),
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/*"
        );
        assert_eq!(
            stack_set_arn("cn-north-1", "123456789012", "guard"),
            "arn:aws-cn:cloudformation:cn-north-1:123456789012:stackset/guard:*"
        );
        assert_eq!(service("ecr:DescribeImages"), "ecr");
        assert_eq!(iam_action("s3:HeadBucket"), "s3:ListBucket");
        assert_eq!(iam_action("ecr:DescribeImages"), "ecr:DescribeImages");
    }
}
