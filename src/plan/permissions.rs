//! The IAM permissions `little plan` needs, declared beside the plan (see
//! `aws::permissions` for the vocabulary); `apply` and `adopt` start from these. The
//! integration tests run the plan with IAM enforced on the emulator with exactly the policy
//! these make, and compare the calls a plan makes with them.

use crate::aws::permissions::{need, Need, Scope, When};

pub const PERMISSIONS: &[Need] = &[
    // The deployed state, and the outputs of the stacks a stack reads.
    need("cloudformation:DescribeStacks", Scope::Stack, When::Always),
    need(
        "cloudformation:DescribeStacks",
        Scope::Dependency,
        When::Always,
    ),
    // Many stacks of one account and region: DescribeStacks without a stack name, which IAM
    // authorises on every stack, with ListStacks (AWS's reference asks for both; without
    // them, each stack is read on its own).
    need(
        "cloudformation:DescribeStacks",
        Scope::Any,
        When::ManyStacks,
    ),
    need("cloudformation:ListStacks", Scope::Any, When::ManyStacks),
    need(
        "cloudformation:GetTemplate",
        Scope::Stack,
        When::SingleStack,
    ),
    // The change set: made, read, removed (kept with --out); the empty REVIEW_IN_PROGRESS
    // stack of a new stack's plan removed; leftovers found after Ctrl-C.
    need(
        "cloudformation:CreateChangeSet",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:DescribeChangeSet",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:DeleteChangeSet",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:ListChangeSets",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:DeleteStack",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:GetStackPolicy",
        Scope::Stack,
        When::StackPolicy,
    ),
    // What a destructive change loses (the physical ids the change set does not give), and
    // the resources a new stack would create that exist already.
    need(
        "cloudformation:ListStackResources",
        Scope::Stack,
        When::SingleStack,
    ),
    need("ecr:DescribeRepositories", Scope::Any, When::SingleStack),
    need("ecr:DescribeImages", Scope::Any, When::SingleStack),
    need("ecr:GetLifecyclePolicy", Scope::Any, When::SingleStack),
    need("ecr:GetRepositoryPolicy", Scope::Any, When::SingleStack),
    need("ecr:ListTagsForResource", Scope::Any, When::SingleStack),
    need("iam:GetRole", Scope::Any, When::SingleStack),
    need("iam:ListRolePolicies", Scope::Any, When::SingleStack),
    need("iam:GetRolePolicy", Scope::Any, When::SingleStack),
    need(
        "iam:ListAttachedRolePolicies",
        Scope::Any,
        When::SingleStack,
    ),
    need("s3:ListBucket", Scope::Any, When::SingleStack),
    need("sqs:GetQueueUrl", Scope::Any, When::SingleStack),
    need("sns:GetTopicAttributes", Scope::Any, When::SingleStack),
    need("kms:ListAliases", Scope::Any, When::SingleStack),
    // What runs, for a changed lifecycle policy that would expire images (best effort).
    need("ecs:ListClusters", Scope::Any, When::SingleStack),
    need("ecs:ListServices", Scope::Any, When::SingleStack),
    need("ecs:DescribeServices", Scope::Any, When::SingleStack),
    need("ecs:DescribeTaskDefinition", Scope::Any, When::SingleStack),
    need("ecs:ListTasks", Scope::Any, When::SingleStack),
    need("ecs:DescribeTasks", Scope::Any, When::SingleStack),
    need("lambda:ListFunctions", Scope::Any, When::SingleStack),
    need("lambda:GetFunction", Scope::Any, When::SingleStack),
    need("lambda:ListAliases", Scope::Any, When::SingleStack),
    // The accounts' roles and the stacks' service roles.
    need("sts:AssumeRole", Scope::AccountRole, When::Always),
    need("iam:PassRole", Scope::ServiceRole, When::ServiceRole),
    // StackSets.
    need(
        "cloudformation:DescribeStackSet",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:ListStackInstances",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "organizations:DescribeOrganization",
        Scope::Any,
        When::ServiceManaged,
    ),
    need(
        "organizations:ListAccountsForParent",
        Scope::Any,
        When::ServiceManaged,
    ),
    need(
        "organizations:ListOrganizationalUnitsForParent",
        Scope::Any,
        When::ServiceManaged,
    ),
    // Templates over 51,200 bytes go through the template bucket.
    need("s3:ListBucket", Scope::Any, When::LargeTemplate),
    need("s3:GetObject", Scope::Any, When::LargeTemplate),
    need("s3:PutObject", Scope::Any, When::LargeTemplate),
    need("s3:CreateBucket", Scope::Any, When::LargeTemplate),
    need(
        "s3:PutEncryptionConfiguration",
        Scope::Any,
        When::LargeTemplate,
    ),
    need(
        "s3:PutBucketPublicAccessBlock",
        Scope::Any,
        When::LargeTemplate,
    ),
    need(
        "s3:PutBucketOwnershipControls",
        Scope::Any,
        When::LargeTemplate,
    ),
    need("s3:PutBucketPolicy", Scope::Any, When::LargeTemplate),
    need(
        "s3:PutLifecycleConfiguration",
        Scope::Any,
        When::LargeTemplate,
    ),
];
