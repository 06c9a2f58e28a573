//! What `apply` is allowed and asked to do: [`ApplyOptions`], and [`check_risks`], the refusal
//! of the risks the flags do not allow. The apply itself is `apply`.

use crate::error::{Error, Result};
use crate::plan::model::{Plan, PlanOptions};
use crate::plan::risk::{Risk, RiskKind};
use crate::poll::Poll;

/// How to apply: the plan (made now or saved), the approval, the risks allowed, the waits.
#[derive(Clone)]
pub struct ApplyOptions {
    /// How to plan (selection, concurrency, rendering, change-set polling).
    pub plan: PlanOptions,
    /// Execute exactly this saved plan instead of planning.
    pub saved: Option<Plan>,
    /// Approve without asking.
    pub yes: bool,
    pub allow_destructive: bool,
    pub allow_broadening: bool,
    /// Allow turning termination protection off and loosening a stack policy.
    pub allow_unprotect: bool,
    /// Delete and recreate stacks whose creation failed and was rolled back
    /// (`ROLLBACK_COMPLETE`), after approval; planned as such.
    pub replace_failed: bool,
    /// Waiting for stack operations.
    pub wait: Poll,
}

/// Refuses destructive and broadening changes that the flags do not allow.
pub fn check_risks(risks: &[&Risk], options: &ApplyOptions) -> Result<()> {
    let problems: Vec<String> = [
        (
            RiskKind::Destructive,
            options.allow_destructive,
            ("destructive change", "destructive changes"),
            "--allow-destructive",
        ),
        (
            RiskKind::Broadening,
            options.allow_broadening,
            ("change that broadens access", "changes that broaden access"),
            "--allow-broadening",
        ),
        (
            RiskKind::Unprotecting,
            options.allow_unprotect,
            (
                "change that lowers a stack's protection",
                "changes that lower a stack's protection",
            ),
            "--allow-unprotect",
        ),
    ]
    .into_iter()
    .filter(|(_, allowed, _, _)| !allowed)
    .filter_map(|(kind, _, (one, many), flag)| {
        let ids: Vec<String> = risks
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| format!("`{}`", r.logical_id))
            .collect();
        (!ids.is_empty()).then(|| {
            format!(
                "{} ({}); pass `{flag}` to allow",
                crate::text::plural(ids.len(), one, many),
                ids.join(", ")
            )
        })
    })
    .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused(problems.join("; ")))
    }
}
