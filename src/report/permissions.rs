//! The permission tuples of a broadening risk, put back together into statements for people:
//! one row per (effect, principals, actions, resources, condition, policy) instead of one per
//! action and resource, the statements that widen access most first.
//!
//! Presentation only: the plan keeps every tuple (`Risk::added`, `Risk::removed`), and this
//! module never drops one; which tuples a risk has is `plan::risk`'s.

use crate::plan::risk::Risk;
use crate::policy::expand::Permission;

/// Tuples that differ in one of principal, action or resource only, as one statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Statement<'a> {
    /// Gained (`+`) or lost (`-`).
    pub added: bool,
    pub effect: &'a str,
    /// Sorted; `-` for an identity policy (no principal).
    pub principals: Vec<&'a str>,
    /// Sorted.
    pub actions: Vec<&'a str>,
    /// Sorted; `-` when there is none.
    pub resources: Vec<&'a str>,
    pub condition: Option<&'a str>,
    /// Where the statement is (`Policies[ci-deploy]`, `AssumeRolePolicyDocument`, ...).
    pub policy: &'a str,
    /// How many tuples it stands for.
    pub tuples: usize,
}

impl Statement<'_> {
    /// `+` or `-`.
    pub fn sign(&self) -> &'static str {
        if self.added {
            "+"
        } else {
            "-"
        }
    }

    /// How much the statement widens access, smallest first: a removed Deny (a protection
    /// lost), then an added Allow with a wildcard or `Not…` in its principal, action or
    /// resource, then any other added Allow, then what narrows access (an added Deny, a
    /// removed Allow).
    fn rank(&self) -> u8 {
        let wide = |v: &[&str]| v.iter().any(|s| s.contains('*') || s.starts_with("NOT "));
        match (self.added, self.effect) {
            (false, "Deny") => 0,
            (true, "Allow")
                if wide(&self.actions) || wide(&self.resources) || wide(&self.principals) =>
            {
                1
            }
            (true, "Allow") => 2,
            _ => 3,
        }
    }
}

/// The risk's tuples as statements: first the actions of tuples that agree on everything else
/// are gathered, then the resources of those that agree on their actions, then their
/// principals. Ordered by [`Statement::rank`], otherwise as the tuples come (sorted).
pub fn statements(risk: &Risk) -> Vec<Statement<'_>> {
    let rows: Vec<Statement<'_>> = risk
        .added
        .iter()
        .map(|p| one(true, p))
        .chain(risk.removed.iter().map(|p| one(false, p)))
        .collect();
    let mut rows = merge(
        merge(merge(rows, Field::Actions), Field::Resources),
        Field::Principals,
    );
    rows.sort_by_key(Statement::rank);
    rows
}

fn one(added: bool, p: &Permission) -> Statement<'_> {
    Statement {
        added,
        effect: &p.effect,
        principals: vec![&p.principal],
        actions: vec![&p.action],
        resources: vec![&p.resource],
        condition: p.condition.as_deref(),
        policy: &p.policy,
        tuples: 1,
    }
}

#[derive(Clone, Copy)]
enum Field {
    Principals,
    Actions,
    Resources,
}

impl Field {
    fn of<'s, 'a>(self, s: &'s mut Statement<'a>) -> &'s mut Vec<&'a str> {
        match self {
            Field::Principals => &mut s.principals,
            Field::Actions => &mut s.actions,
            Field::Resources => &mut s.resources,
        }
    }
}

/// Statements that are equal but for `field`, as one with the union of their `field`s; in the
/// order of each group's first statement.
fn merge(rows: Vec<Statement<'_>>, field: Field) -> Vec<Statement<'_>> {
    let mut out: Vec<Statement<'_>> = Vec::new();
    let mut groups: std::collections::HashMap<Statement<'_>, usize> = Default::default();
    for mut row in rows {
        let mut key = row.clone();
        field.of(&mut key).clear();
        key.tuples = 0;
        match groups.get(&key) {
            Some(&i) => {
                let group = &mut out[i];
                group.tuples += row.tuples;
                let values = field.of(group);
                values.extend(field.of(&mut row).iter().copied());
                values.sort_unstable();
                values.dedup();
            }
            None => {
                groups.insert(key, out.len());
                out.push(row);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::risk::RiskKind;

    fn p(policy: &str, effect: &str, principal: &str, action: &str, resource: &str) -> Permission {
        Permission {
            policy: policy.into(),
            effect: effect.into(),
            principal: principal.into(),
            action: action.into(),
            resource: resource.into(),
            condition: None,
        }
    }

    fn risk(added: Vec<Permission>, removed: Vec<Permission>) -> Risk {
        Risk {
            kind: RiskKind::Broadening,
            logical_id: "Role".into(),
            resource_type: "AWS::IAM::Role".into(),
            reason: "grants".into(),
            added,
            removed,
            holds: None,
        }
    }

    #[test]
    fn tuples_become_the_statements_they_came_from() {
        let mut added = Vec::new();
        for resource in ["arn:a", "arn:b"] {
            for action in ["ecr:GetA", "ecr:PutB"] {
                added.push(p("Policies[ci]", "Allow", "-", action, resource));
            }
        }
        added.push(p("Policies[ci]", "Allow", "-", "ecr:GetA", "arn:c"));
        added.push(p("Trust", "Allow", "AWS:x", "sts:AssumeRole", "-"));
        added.push(p("Trust", "Allow", "AWS:y", "sts:AssumeRole", "-"));
        let r = risk(added, vec![p("Policies[ci]", "Deny", "-", "s3:*", "*")]);
        let s = statements(&r);
        type Shape<'a> = (
            &'a str,
            &'a str,
            Vec<&'a str>,
            Vec<&'a str>,
            Vec<&'a str>,
            usize,
        );
        let shape: Vec<Shape<'_>> = s
            .iter()
            .map(|s| {
                (
                    s.sign(),
                    s.effect,
                    s.principals.clone(),
                    s.actions.clone(),
                    s.resources.clone(),
                    s.tuples,
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                // A Deny removed comes first.
                ("-", "Deny", vec!["-"], vec!["s3:*"], vec!["*"], 1),
                (
                    "+",
                    "Allow",
                    vec!["-"],
                    vec!["ecr:GetA", "ecr:PutB"],
                    vec!["arn:a", "arn:b"],
                    4
                ),
                ("+", "Allow", vec!["-"], vec!["ecr:GetA"], vec!["arn:c"], 1),
                (
                    "+",
                    "Allow",
                    vec!["AWS:x", "AWS:y"],
                    vec!["sts:AssumeRole"],
                    vec!["-"],
                    2
                ),
            ]
        );
        // No tuple is lost.
        assert_eq!(s.iter().map(|s| s.tuples).sum::<usize>(), 8);
    }

    #[test]
    fn wildcards_come_before_narrow_grants_and_narrowing_last() {
        let r = risk(
            vec![
                p("P", "Allow", "-", "ecr:GetA", "arn:a"),
                p("P", "Deny", "-", "ecr:GetA", "arn:z"),
                p("P", "Allow", "-", "ecr:*", "arn:b"),
            ],
            vec![p("P", "Allow", "-", "ecr:Old", "arn:o")],
        );
        let order: Vec<(&str, &str, &str)> = statements(&r)
            .iter()
            .map(|s| (s.sign(), s.effect, s.resources[0]))
            .collect();
        assert_eq!(
            order,
            [
                ("+", "Allow", "arn:b"),
                ("+", "Allow", "arn:a"),
                ("+", "Deny", "arn:z"),
                ("-", "Allow", "arn:o"),
            ]
        );
    }
}
