//! The IAM permissions of `apply`, `destroy`, `adopt` and of reading what is deployed
//! (`status`, `outputs`, `events`), declared beside the code that makes the calls (see
//! `aws::permissions` for the vocabulary). `apply` and `adopt` need the plan's too
//! ([`crate::plan::permissions::PERMISSIONS`]).

use crate::aws::permissions::{need, Need, Scope, When};

/// What `apply` needs besides the plan's.
pub const APPLY: &[Need] = &[
    need(
        "cloudformation:ExecuteChangeSet",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:DescribeStackEvents",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:UpdateTerminationProtection",
        Scope::Stack,
        When::SingleStack,
    ),
    // New stack tags alone are an UpdateStack with the previous template.
    need(
        "cloudformation:UpdateStack",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:SetStackPolicy",
        Scope::Stack,
        When::StackPolicy,
    ),
    need(
        "cloudformation:DeleteStack",
        Scope::Stack,
        When::ReplaceFailed,
    ),
    // StackSets.
    need(
        "cloudformation:CreateStackSet",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:UpdateStackSet",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:CreateStackInstances",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:DeleteStackInstances",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:DescribeStackSetOperation",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:ListStackSetOperations",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:ListStackSetOperationResults",
        Scope::StackSet,
        When::StackSet,
    ),
    need("iam:PassRole", Scope::AdministrationRole, When::StackSet),
];

/// What `destroy` needs.
pub const DESTROY: &[Need] = &[
    need("cloudformation:DescribeStacks", Scope::Stack, When::Always),
    need(
        "cloudformation:GetTemplate",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:ListStackResources",
        Scope::Stack,
        When::SingleStack,
    ),
    // Whether a stack outside the run imports the exports of one being deleted.
    need("cloudformation:ListImports", Scope::Any, When::SingleStack),
    need(
        "cloudformation:UpdateTerminationProtection",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:DeleteStack",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:DescribeStackEvents",
        Scope::Stack,
        When::SingleStack,
    ),
    need("sts:AssumeRole", Scope::AccountRole, When::Always),
    need("iam:PassRole", Scope::ServiceRole, When::ServiceRole),
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
        "cloudformation:DeleteStackInstances",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:DescribeStackSetOperation",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:DeleteStackSet",
        Scope::StackSet,
        When::StackSet,
    ),
];

/// What `status` and `outputs` need (`events` with [`EVENTS`]).
pub const READ: &[Need] = &[
    need("cloudformation:DescribeStacks", Scope::Stack, When::Always),
    need("sts:AssumeRole", Scope::AccountRole, When::Always),
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
];

/// What `events` needs besides [`READ`].
pub const EVENTS: &[Need] = &[need(
    "cloudformation:DescribeStackEvents",
    Scope::Stack,
    When::SingleStack,
)];

/// What `adopt` needs besides `apply`'s: an IMPORT change set is a change set, so only the
/// reads that find and compare the existing resources.
pub const ADOPT: &[Need] = &[need(
    "cloudformation:ListStackResources",
    Scope::Stack,
    When::SingleStack,
)];

/// What `discover` needs: every stack's resources, every repository and role of the account.
pub const DISCOVER: &[Need] = &[
    need("cloudformation:ListStacks", Scope::Any, When::Always),
    need(
        "cloudformation:ListStackResources",
        Scope::Any,
        When::Always,
    ),
    need("ecr:DescribeRepositories", Scope::Any, When::Always),
    need("ecr:GetLifecyclePolicy", Scope::Any, When::Always),
    need("ecr:GetRepositoryPolicy", Scope::Any, When::Always),
    need("ecr:ListTagsForResource", Scope::Any, When::Always),
    need("iam:ListRoles", Scope::Any, When::Always),
    need("iam:GetRole", Scope::Any, When::Always),
    need("iam:ListRolePolicies", Scope::Any, When::Always),
    need("iam:GetRolePolicy", Scope::Any, When::Always),
    need("iam:ListAttachedRolePolicies", Scope::Any, When::Always),
    need("sts:AssumeRole", Scope::AccountRole, When::Always),
];
