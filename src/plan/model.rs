//! The plan's data: what `little plan` found for each stack, in the versioned shape that
//! `--format json` prints and `--out` saves for `little apply --plan`.
//!
//! Only data and its small derived facts live here, with the options a plan is computed
//! with; computing a plan is `run` (StackSets: `stackset`), printing it is `report::plan`.

use serde::{Deserialize, Serialize};

use super::diff::{ChangeKind, FormattingOnly, TemplateDiff};
use super::risk::{Risk, RiskKind};
use crate::aws::changeset::{ChangeSetId, ResourceChange};
use crate::aws::stacksets::{InstanceSummary, OperationPreferences, Targets};
use crate::interrupt::Interrupt;
use crate::poll::Poll;
use crate::project::Selection;
use crate::render::RenderOptions;

/// The version of the plan document's shape. Bumped on any incompatible change.
pub const PLAN_VERSION: u32 = 1;

/// A whole plan: every selected stack, in dependency order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    pub version: u32,
    pub project: String,
    /// When the plan was made, in seconds since the Unix epoch.
    pub created_at: u64,
    pub stacks: Vec<StackPlan>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlanStatus {
    /// The stack does not exist yet.
    New,
    /// The stack exists and would change.
    Changed,
    /// The stack exists and would not change: its template, parameters (defaults applied),
    /// tags and settings mean what is deployed. Resources written differently only
    /// (`formatting_only`) are unchanged too.
    Unchanged,
    /// The stack could not be planned; see `error`.
    Failed,
}

/// The plan of one stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StackPlan {
    pub stack: String,
    pub region: String,
    pub account_id: Option<String>,
    pub status: PlanStatus,
    /// Why the stack could not be planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The deployed stack, when there is one.
    pub deployed: Option<Deployed>,
    /// Destructive and broadening changes; shown first in every format.
    pub risks: Vec<Risk>,
    pub template_changes: TemplateDiff,
    pub parameter_changes: Vec<ValueChange>,
    pub tag_changes: Vec<ValueChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_protection: Option<BoolChange>,
    /// The stack policy, when the config sets one that differs from the deployed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_policy: Option<PolicyChange>,
    /// Resources that mean what is deployed but are written differently (a policy text with
    /// other spacing or key order): a change set would send them again for their text alone.
    /// They do not make the stack changed; `--refresh-templates` sends them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formatting_only: Vec<FormattingOnly>,
    /// What CloudFormation's change set says it would do, per resource, or, when `predicted`,
    /// what it would say. Empty for a deployed stack whose comparison found nothing to change.
    pub resource_changes: Vec<ResourceChange>,
    /// `plan --change-set auto`: no change set was made, and `resource_changes` are predicted
    /// from the comparison and CloudFormation's resource schemas: every change adds or removes
    /// a resource or updates one in place.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub predicted: bool,
    /// The change set, kept when the plan is saved for `apply --plan`.
    pub change_set: Option<ChangeSetId>,
    /// Why a change set was made where the comparison alone might have told: for a deployed
    /// stack whose comparison found no change, what the comparison cannot see (a NoEcho
    /// parameter, a transform, ...) or `--refresh-templates`, and the change set's answer then
    /// decides whether it changes; with `--change-set auto`, what the prediction cannot tell
    /// (a change that replaces a resource, a changed condition, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_set_reason: Option<String>,
    /// `stack.key` outputs of dependencies whose values become known only at apply: a
    /// dependency that is not deployed yet (the rendered template holds a placeholder), or one
    /// that changes in this plan in a way that may change the output (rendered with today's
    /// value). `apply` plans the stack again once its dependencies are applied.
    pub known_after_apply: Vec<String>,
    pub hashes: Hashes,
    /// For a StackSet: its targets, the instances added and removed, and the operations
    /// `apply` would run. None for a stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_set: Option<StackSetPlan>,
    /// `apply --replace-failed`: the status of the failed stack (`ROLLBACK_COMPLETE`) that apply
    /// deletes, once approved, before creating the stack again. Its change set is made then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces_failed: Option<String>,
    /// Resources the stack would create that already exist outside it (matched by name):
    /// creating them would fail with "already exists"; `little adopt` imports them instead,
    /// and `apply` refuses the stack until then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adoptable: Vec<Adoptable>,
    /// Repositories whose lifecycle policy this plan changes, with what the new policy does
    /// to the images they hold now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle_changes: Vec<LifecycleChange>,
}

/// A lifecycle policy the plan changes, evaluated on the repository's images as ECR would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LifecycleChange {
    pub logical_id: String,
    /// The repository's name; empty when it could not be found.
    pub repository: String,
    /// The images the repository holds.
    pub images: usize,
    /// How many the new policy expires at once.
    pub expires: usize,
    /// How many the deployed policy expires now (`None`: no policy is deployed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_deployed: Option<usize>,
    /// The images the new policy expires that the deployed one keeps, oldest first (at most
    /// [`LIFECYCLE_EXAMPLES`]; `newly_expired` counts them all).
    pub examples: Vec<String>,
    pub newly_expired: usize,
    /// The newly expired images that run (ECS services and tasks, Lambda functions), each
    /// with its users: the next scale-out or restart cannot pull them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_use: Vec<ExpiredInUse>,
    /// Why whether they run is not known (ECS or Lambda could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_use_note: Option<String>,
    /// Why the effect is not known (a computed policy text, a denied read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An image a changed lifecycle policy would expire that runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExpiredInUse {
    /// Its first tag, or `untagged` and a short digest.
    pub image: String,
    pub digest: String,
    /// `ecs:CLUSTER/SERVICE`, `ecs:CLUSTER/task/FAMILY`, `lambda:FUNCTION`.
    pub users: Vec<String>,
}

/// The most images a [`LifecycleChange`] names.
pub const LIFECYCLE_EXAMPLES: usize = 10;

/// A resource the plan would create that exists already: `little adopt STACK` imports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Adoptable {
    pub logical_id: String,
    pub resource_type: String,
    /// Its physical name (`team-a/api`).
    pub name: String,
    /// For people: "repository `team-a/api` exists with 312 images".
    pub summary: String,
}

/// The deployed stack's state when the plan was made; `apply --plan` refuses if it moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Deployed {
    pub stack_id: String,
    pub status: String,
    pub last_updated: Option<String>,
    /// SHA-256 of the deployed template body.
    pub template_sha256: String,
}

/// A parameter or tag that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ValueChange {
    pub key: String,
    pub kind: ChangeKind,
    pub before: Option<String>,
    pub after: Option<String>,
    /// The parameter is NoEcho: values are masked and compared as unknown.
    #[serde(default)]
    pub masked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BoolChange {
    pub before: bool,
    pub after: bool,
}

/// Hashes of what the plan would deploy, so that `apply --plan` executes exactly that.
/// Compare them with `plan::compare::hashes_match`: the NoEcho hash is salted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Hashes {
    /// SHA-256 of the template body sent to CloudFormation.
    pub template_sha256: String,
    /// SHA-256 of the parameters (key=value lines, sorted); a NoEcho parameter's line is
    /// its key alone, its value is only in `no_echo`.
    pub parameters_sha256: String,
    /// The NoEcho parameters' values, salted and stretched; absent when the template has
    /// none with a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_echo: Option<SecretHash>,
}

/// A hash that does not give away a secret: PBKDF2-HMAC-SHA256 with a random salt of its
/// own and many iterations, so that no table of precomputed hashes applies and every guess
/// costs as many rounds of SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SecretHash {
    /// `pbkdf2-hmac-sha256`.
    pub algorithm: String,
    pub iterations: u32,
    /// Random, made for this plan and stack (hex).
    pub salt: String,
    /// The derived key (hex) of the NoEcho key=value lines, sorted.
    pub hash: String,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Summary {
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub destructive: usize,
    pub broadening: usize,
    /// Termination protection turned off, or a looser stack policy.
    #[serde(default)]
    pub unprotecting: usize,
}

impl StackPlan {
    /// The plan of `stack` in `region` with `status` and nothing found yet: no changes, no
    /// risks, no change set, empty hashes.
    pub fn empty(stack: &str, region: &str, status: PlanStatus) -> StackPlan {
        StackPlan {
            stack: stack.to_owned(),
            region: region.to_owned(),
            account_id: None,
            status,
            error: None,
            deployed: None,
            risks: Vec::new(),
            template_changes: Default::default(),
            parameter_changes: Vec::new(),
            tag_changes: Vec::new(),
            termination_protection: None,
            stack_policy: None,
            formatting_only: Vec::new(),
            resource_changes: Vec::new(),
            change_set: None,
            predicted: false,
            change_set_reason: None,
            known_after_apply: Vec::new(),
            hashes: Hashes {
                template_sha256: String::new(),
                parameters_sha256: String::new(),
                no_echo: None,
            },
            stack_set: None,
            replaces_failed: None,
            adoptable: Vec::new(),
            lifecycle_changes: Vec::new(),
        }
    }

    /// Whether applying the plan would change anything in this stack.
    pub fn has_changes(&self) -> bool {
        matches!(self.status, PlanStatus::New | PlanStatus::Changed)
    }
}

impl Plan {
    /// The plan saved at `path` (`plan --out`), every problem of its JSON at its line.
    pub fn read(path: &std::path::Path) -> crate::error::Result<Plan> {
        let text = std::fs::read_to_string(path).map_err(|source| crate::error::Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        crate::project::config::parse_json(path, &text).map_err(crate::error::Error::from)
    }

    /// Saves the plan at `path`, as `apply --plan` reads it.
    pub fn write(&self, path: &std::path::Path) -> crate::error::Result<()> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| crate::error::Error::Io(e.into()))?;
        std::fs::write(path, text + "\n").map_err(|source| crate::error::Error::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The stacks the plan covers, as a selection.
    pub fn selection(&self) -> Selection {
        Selection {
            names: self.stacks.iter().map(|s| s.stack.clone()).collect(),
            all: false,
        }
    }

    pub fn new(project: &str, created_at: u64, stacks: Vec<StackPlan>) -> Plan {
        let mut summary = Summary::default();
        for s in &stacks {
            match s.status {
                PlanStatus::New => summary.new += 1,
                PlanStatus::Changed => summary.changed += 1,
                PlanStatus::Unchanged => summary.unchanged += 1,
                PlanStatus::Failed => summary.failed += 1,
            }
            for r in &s.risks {
                match r.kind {
                    RiskKind::Destructive => summary.destructive += 1,
                    RiskKind::Broadening => summary.broadening += 1,
                    RiskKind::Unprotecting => summary.unprotecting += 1,
                }
            }
        }
        Plan {
            version: PLAN_VERSION,
            project: project.to_owned(),
            created_at,
            stacks,
            summary,
        }
    }

    pub fn has_changes(&self) -> bool {
        self.stacks.iter().any(StackPlan::has_changes)
    }

    pub fn has_failures(&self) -> bool {
        self.summary.failed > 0
    }

    /// Failed when a stack could not be planned; with `detailed` (`--detailed-exitcode`),
    /// changes when something would change; else ok.
    pub fn verdict(&self, detailed: bool) -> crate::error::Verdict {
        use crate::error::Verdict;
        if self.has_failures() {
            Verdict::Failed
        } else if detailed && self.has_changes() {
            Verdict::Changes
        } else {
            Verdict::Ok
        }
    }
}

/// A stack policy that changes: the deployed one (None: the stack has none, which lets every
/// update through) and the configured one, as compact JSON with sorted keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PolicyChange {
    pub before: Option<String>,
    pub after: String,
    /// Statements of the deployed policy that the new one no longer has.
    pub removed: Vec<String>,
    /// Statements the new policy adds.
    pub added: Vec<String>,
    /// Whether the new policy protects less: a `Deny` statement removed or an `Allow` added.
    pub loosens: bool,
}

impl PolicyChange {
    /// `set (the stack has none)` or `changed`.
    pub fn summary(&self) -> &'static str {
        if self.before.is_none() {
            "set (the stack has none)"
        } else {
            "changed"
        }
    }
}

/// When a plan asks CloudFormation for a change set of a stack the comparison finds changed
/// (or new).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChangeSetMode {
    /// For every such stack.
    #[default]
    Always,
    /// Only where the prediction of `predict` cannot tell what it would say: a stack whose
    /// every change adds or removes a resource or updates one in place is planned without.
    Auto,
}

/// How to plan: which stacks, how many at once, how to render and wait, and this run's mark.
#[derive(Clone)]
pub struct PlanOptions {
    pub selection: Selection,
    /// How many stacks to plan at once.
    pub concurrency: usize,
    /// Keep change sets (and new stacks in REVIEW_IN_PROGRESS) for `apply --plan`; a change
    /// set is then made for every changed stack, whatever `change_sets` says.
    pub keep_change_sets: bool,
    /// When to make a change set of a changed stack.
    pub change_sets: ChangeSetMode,
    pub poll: Poll,
    pub render: RenderOptions,
    /// Seconds since the Unix epoch, stamped on the plan.
    pub now: u64,
    /// This run's mark, ending the name of every change set it makes
    /// ([`crate::aws::changeset::new_run_id`]): it deletes only its own.
    pub run_id: String,
    /// The name of every change set made, instead of one named for the run: `little stack
    /// make-change`'s `little-$USER-$HOSTNAME`, as little-automation named it.
    pub change_set_name: Option<String>,
    /// `apply --replace-failed`: a stack whose creation failed and was rolled back
    /// (`ROLLBACK_COMPLETE`, nothing left in it) is planned as deleted and created again.
    pub replace_failed: bool,
    /// `--refresh-templates`: a deployed stack that means what is rendered but whose deployed
    /// template text differs is planned through a change set (a StackSet: an UpdateStackSet),
    /// so that formatting-only resources are sent again; otherwise it is unchanged.
    pub refresh_templates: bool,
    /// Ctrl-C or SIGTERM: no stack is started after it, and what was made is cleaned up.
    pub interrupt: Interrupt,
}

/// The StackSet part of a stack's plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StackSetPlan {
    /// `SERVICE_MANAGED` or `SELF_MANAGED`.
    pub permission_model: String,
    pub targets: Targets,
    pub regions: Vec<String>,
    /// The instances deployed when the plan was made.
    pub instances: Vec<InstanceSummary>,
    /// Account and region pairs that get an instance.
    pub add: Vec<InstanceRef>,
    /// Instances that are removed from the StackSet.
    pub remove: Vec<InstanceRef>,
    /// Removed instances keep their stacks (`retain_stacks_on_removal`).
    pub retain_removed: bool,
    /// Instances that are not CURRENT (OUTDATED, INOPERABLE); an update deploys them again.
    pub unhealthy: Vec<InstanceSummary>,
    /// Settings of the StackSet itself that change (auto deployment, roles, description).
    pub setting_changes: Vec<ValueChange>,
    /// What `apply` runs, in order.
    pub operations: Vec<SetOperation>,
    pub preferences: OperationPreferences,
}

/// One stack instance: an account in a region (with its OU for service-managed StackSets).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct InstanceRef {
    pub account: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizational_unit: Option<String>,
}

/// An operation `apply` runs on a StackSet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SetOperation {
    /// CreateStackSet (no instances yet).
    CreateStackSet,
    /// DeleteStackInstances.
    DeleteInstances {
        targets: Targets,
        regions: Vec<String>,
        instances: usize,
        retain: bool,
    },
    /// UpdateStackSet: every existing instance gets the new template and parameters.
    UpdateStackSet { instances: usize },
    /// CreateStackInstances.
    CreateInstances {
        targets: Targets,
        regions: Vec<String>,
        instances: usize,
    },
}

impl std::fmt::Display for SetOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        match self {
            SetOperation::CreateStackSet => write!(f, "CreateStackSet"),
            SetOperation::UpdateStackSet { instances } => write!(
                f,
                "UpdateStackSet ({instances} instance{} updated)",
                plural(*instances)
            ),
            SetOperation::CreateInstances {
                targets,
                regions,
                instances,
            } => write!(
                f,
                "CreateStackInstances for {targets} in {} ({instances} instance{})",
                regions.join(", "),
                plural(*instances)
            ),
            SetOperation::DeleteInstances {
                targets,
                regions,
                instances,
                retain,
            } => write!(
                f,
                "DeleteStackInstances for {targets} in {} ({instances} instance{}, stacks {})",
                regions.join(", "),
                plural(*instances),
                if *retain { "retained" } else { "deleted" }
            ),
        }
    }
}

impl From<&InstanceSummary> for InstanceRef {
    fn from(i: &InstanceSummary) -> Self {
        InstanceRef {
            account: i.account.clone(),
            region: i.region.clone(),
            organizational_unit: i.organizational_unit.clone(),
        }
    }
}
