//! An in-memory StackSet service for the fake AWS account ([`FakeAws`]), shaped like
//! CloudFormation's answers: StackSets with their instances, operations that stay RUNNING
//! for a scripted number of polls, per-account results that fail with AWS's reasons, and
//! drift detection. Test-only.

use std::collections::{BTreeMap, VecDeque};

use async_trait::async_trait;

use super::FakeAws;
use crate::aws::organizations::{accounts_under, Organization};
use crate::aws::stacksets::{
    InstanceSummary, OperationInfo, OperationPreferences, OperationResult, StackSetInfo,
    StackSetRequest, StackSets, Targets,
};
use crate::error::{Error, Result};

/// A StackSet in the fake.
#[derive(Debug, Clone, Default)]
pub struct FakeStackSet {
    pub info: StackSetInfo,
    pub instances: Vec<InstanceSummary>,
}

/// How the next operation started goes: RUNNING for `running_polls` reads of it
/// (DescribeStackSetOperation or ListStackSetOperations), then `status`; the listed account and region pairs fail with their reason.
#[derive(Debug, Clone)]
pub struct OperationScript {
    pub running_polls: usize,
    pub status: String,
    pub status_reason: Option<String>,
    /// (account, region, reason)
    pub failures: Vec<(String, String, String)>,
}

impl Default for OperationScript {
    fn default() -> Self {
        OperationScript {
            running_polls: 0,
            status: "SUCCEEDED".into(),
            status_reason: None,
            failures: Vec::new(),
        }
    }
}

/// The StackSet side of the fake account.
#[derive(Default)]
pub struct FakeSets {
    pub sets: BTreeMap<String, FakeStackSet>,
    /// Consumed one per operation started; without one, an operation succeeds at once.
    pub scripts: VecDeque<OperationScript>,
    /// Drift status per (account, region) that detection finds; others are IN_SYNC.
    pub drift: BTreeMap<(String, String), String>,
    operations: BTreeMap<String, (usize, OperationInfo, Vec<OperationResult>, String)>,
    next_id: usize,
}

impl FakeSets {
    /// The operations by id: (reads left while RUNNING, the final state, the results, the
    /// StackSet).
    pub fn operations_mut(
        &mut self,
    ) -> &mut BTreeMap<String, (usize, OperationInfo, Vec<OperationResult>, String)> {
        &mut self.operations
    }

    fn start(
        &mut self,
        set: &str,
        action: &str,
        pairs: Vec<(String, String)>,
    ) -> (String, Vec<(String, String, Option<String>)>) {
        self.next_id += 1;
        let id = format!("op-{}", self.next_id);
        let script = self.scripts.pop_front().unwrap_or_default();
        let outcome: Vec<(String, String, Option<String>)> = pairs
            .into_iter()
            .map(|(a, r)| {
                let reason = script
                    .failures
                    .iter()
                    .find(|(fa, fr, _)| fa == &a && fr == &r)
                    .map(|(_, _, why)| why.clone());
                (a, r, reason)
            })
            .collect();
        let results = outcome
            .iter()
            .map(|(a, r, why)| OperationResult {
                account: a.clone(),
                region: r.clone(),
                organizational_unit: None,
                status: if why.is_some() { "FAILED" } else { "SUCCEEDED" }.into(),
                reason: why.clone(),
            })
            .collect();
        let failed = outcome.iter().filter(|o| o.2.is_some()).count() as i32;
        self.operations.insert(
            id.clone(),
            (
                script.running_polls,
                OperationInfo {
                    id: id.clone(),
                    action: action.into(),
                    status: script.status,
                    status_reason: script.status_reason,
                    failed_instances: Some(failed),
                    created: Some(format!("2026-11-23T08:{:02}:00Z", self.next_id)),
                    ended: None,
                },
                results,
                set.to_owned(),
            ),
        );
        (id, outcome)
    }
}

fn missing(name: &str) -> Error {
    Error::Aws {
        operation: "cloudformation:StackSet".into(),
        message: format!("StackSetNotFoundException: StackSet {name} not found"),
    }
}

impl FakeAws {
    async fn resolve_targets(&self, targets: &Targets) -> Result<Vec<(String, Option<String>)>> {
        Ok(match targets {
            Targets::Accounts(a) => a.iter().map(|a| (a.clone(), None)).collect(),
            Targets::OrganizationalUnits(units) => {
                let mut out = Vec::new();
                for ou in units {
                    for acc in accounts_under(self as &dyn Organization, ou).await? {
                        out.push((acc.id, Some(ou.clone())));
                    }
                }
                out
            }
        })
    }
}

#[async_trait]
impl StackSets for FakeAws {
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetInfo>> {
        self.log(format!("DescribeStackSet {name}"));
        Ok(self
            .sets
            .lock()
            .unwrap()
            .sets
            .get(name)
            .map(|s| s.info.clone()))
    }

    async fn create_stack_set(&self, req: &StackSetRequest) -> Result<String> {
        self.log(format!(
            "CreateStackSet {}{}",
            req.name,
            req.template_url
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default()
        ));
        let mut sets = self.sets.lock().unwrap();
        let id = format!("{}:fake-id", req.name);
        sets.sets.insert(
            req.name.clone(),
            FakeStackSet {
                info: StackSetInfo {
                    name: req.name.clone(),
                    id: id.clone(),
                    status: "ACTIVE".into(),
                    template_body: req.template_body.clone(),
                    description: req.description.clone(),
                    parameters: req.parameters.iter().cloned().collect(),
                    tags: req.tags.iter().cloned().collect(),
                    capabilities: req.capabilities.clone(),
                    permission_model: req.permission_model.clone(),
                    administration_role_arn: req.administration_role_arn.clone(),
                    execution_role_name: req.execution_role_name.clone(),
                    auto_deployment: req.auto_deployment,
                    ..Default::default()
                },
                instances: Vec::new(),
            },
        );
        Ok(id)
    }

    async fn update_stack_set(
        &self,
        req: &StackSetRequest,
        _prefs: &OperationPreferences,
    ) -> Result<String> {
        self.log(format!("UpdateStackSet {}", req.name));
        let mut sets = self.sets.lock().unwrap();
        let set = sets
            .sets
            .get_mut(&req.name)
            .ok_or_else(|| missing(&req.name))?;
        set.info.template_body = req.template_body.clone();
        set.info.parameters = req.parameters.iter().cloned().collect();
        set.info.tags = req.tags.iter().cloned().collect();
        set.info.auto_deployment = req.auto_deployment;
        let pairs: Vec<(String, String)> = set
            .instances
            .iter()
            .map(|i| (i.account.clone(), i.region.clone()))
            .collect();
        let (id, outcome) = sets.start(&req.name, "UPDATE", pairs);
        let set = sets.sets.get_mut(&req.name).expect("present");
        for (a, r, why) in outcome {
            if let Some(i) = set
                .instances
                .iter_mut()
                .find(|i| i.account == a && i.region == r)
            {
                i.status = if why.is_some() { "OUTDATED" } else { "CURRENT" }.into();
                i.detailed_status = Some(if why.is_some() { "FAILED" } else { "SUCCEEDED" }.into());
                i.status_reason = why;
            }
        }
        Ok(id)
    }

    async fn list_instances(&self, name: &str) -> Result<Vec<InstanceSummary>> {
        self.log(format!("ListStackInstances {name}"));
        let sets = self.sets.lock().unwrap();
        let set = sets.sets.get(name).ok_or_else(|| missing(name))?;
        let mut out = set.instances.clone();
        out.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        Ok(out)
    }

    async fn create_instances(
        &self,
        name: &str,
        targets: &Targets,
        regions: &[String],
        _prefs: &OperationPreferences,
    ) -> Result<String> {
        self.log(format!(
            "CreateStackInstances {name} {targets} {}",
            regions.join(",")
        ));
        let resolved = self.resolve_targets(targets).await?;
        let mut sets = self.sets.lock().unwrap();
        if !sets.sets.contains_key(name) {
            return Err(missing(name));
        }
        let mut pairs = Vec::new();
        for region in regions {
            for (account, _) in &resolved {
                pairs.push((account.clone(), region.clone()));
            }
        }
        let (id, outcome) = sets.start(name, "CREATE", pairs);
        let set = sets.sets.get_mut(name).expect("present");
        for (a, r, why) in outcome {
            if set
                .instances
                .iter()
                .any(|i| i.account == a && i.region == r)
            {
                continue;
            }
            let ou = resolved
                .iter()
                .find(|(x, _)| x == &a)
                .and_then(|x| x.1.clone());
            set.instances.push(InstanceSummary {
                account: a.clone(),
                region: r.clone(),
                organizational_unit: ou,
                status: if why.is_some() {
                    "INOPERABLE"
                } else {
                    "CURRENT"
                }
                .into(),
                detailed_status: Some(if why.is_some() { "FAILED" } else { "SUCCEEDED" }.into()),
                status_reason: why,
                drift_status: Some("NOT_CHECKED".into()),
                stack_id: Some(format!(
                    "arn:aws:cloudformation:{r}:{a}:stack/StackSet-{name}/fake"
                )),
            });
        }
        Ok(id)
    }

    async fn delete_instances(
        &self,
        name: &str,
        targets: &Targets,
        regions: &[String],
        _prefs: &OperationPreferences,
        retain: bool,
    ) -> Result<String> {
        self.log(format!(
            "DeleteStackInstances {name} {targets} {} retain={retain}",
            regions.join(",")
        ));
        let resolved = self.resolve_targets(targets).await?;
        let mut sets = self.sets.lock().unwrap();
        let set = sets.sets.get(name).ok_or_else(|| missing(name))?;
        let pairs: Vec<(String, String)> = set
            .instances
            .iter()
            .filter(|i| {
                regions.contains(&i.region) && resolved.iter().any(|(a, _)| a == &i.account)
            })
            .map(|i| (i.account.clone(), i.region.clone()))
            .collect();
        let (id, outcome) = sets.start(name, "DELETE", pairs);
        let set = sets.sets.get_mut(name).expect("present");
        for (a, r, why) in outcome {
            if why.is_none() {
                set.instances.retain(|i| !(i.account == a && i.region == r));
            }
        }
        Ok(id)
    }

    async fn describe_operation(&self, name: &str, operation_id: &str) -> Result<OperationInfo> {
        self.log(format!("DescribeStackSetOperation {name} {operation_id}"));
        let mut sets = self.sets.lock().unwrap();
        let (polls, info, _, _) = sets
            .operations
            .get_mut(operation_id)
            .ok_or_else(|| missing(name))?;
        if *polls > 0 {
            *polls -= 1;
            let mut running = info.clone();
            running.status = "RUNNING".into();
            running.status_reason = None;
            return Ok(running);
        }
        Ok(info.clone())
    }

    async fn operation_results(
        &self,
        name: &str,
        operation_id: &str,
    ) -> Result<Vec<OperationResult>> {
        self.log(format!(
            "ListStackSetOperationResults {name} {operation_id}"
        ));
        let sets = self.sets.lock().unwrap();
        Ok(sets
            .operations
            .get(operation_id)
            .map(|o| o.2.clone())
            .unwrap_or_default())
    }

    async fn detect_drift(
        &self,
        name: &str,
        _prefs: &OperationPreferences,
    ) -> Result<Option<String>> {
        self.log(format!("DetectStackSetDrift {name}"));
        let mut sets = self.sets.lock().unwrap();
        let drift = sets.drift.clone();
        let set = sets.sets.get_mut(name).ok_or_else(|| missing(name))?;
        let mut drifted = 0;
        for i in &mut set.instances {
            let status = drift
                .get(&(i.account.clone(), i.region.clone()))
                .cloned()
                .unwrap_or_else(|| "IN_SYNC".into());
            if status == "DRIFTED" {
                drifted += 1;
            }
            i.drift_status = Some(status);
        }
        set.info.drift_status = Some(if drifted > 0 { "DRIFTED" } else { "IN_SYNC" }.into());
        set.info.drifted_instances = Some(drifted);
        let pairs = set
            .instances
            .iter()
            .map(|i| (i.account.clone(), i.region.clone()))
            .collect();
        Ok(Some(sets.start(name, "DETECT_DRIFT", pairs).0))
    }

    async fn list_operations(&self, name: &str) -> Result<Vec<OperationInfo>> {
        self.log(format!("ListStackSetOperations {name}"));
        let mut sets = self.sets.lock().unwrap();
        // Each read of a running operation counts as one of its polls.
        let mut out: Vec<OperationInfo> = sets
            .operations
            .iter_mut()
            .filter(|(_, (_, _, _, set))| set == name)
            .map(|(_, (polls, info, _, _))| {
                let mut i = info.clone();
                if *polls > 0 {
                    *polls -= 1;
                    i.status = "RUNNING".into();
                    i.status_reason = None;
                }
                i
            })
            .collect();
        out.sort_by(|a, b| b.created.cmp(&a.created));
        Ok(out)
    }

    async fn delete_stack_set(&self, name: &str) -> Result<()> {
        self.log(format!("DeleteStackSet {name}"));
        self.sets.lock().unwrap().sets.remove(name);
        Ok(())
    }
}
