//! The ECR lifecycle policy evaluator: which images a policy expires (or transitions) now,
//! offline, by ECR's documented rules; and whether a policy will ever act at the repository's
//! current push rate.
//!
//! The rules, as the ECR user guide states them ("Lifecycle policy evaluation rules"):
//! - rules are applied in `rulePriority` order, lowest first;
//! - an image is acted on by exactly one or zero rules;
//! - an image that matches the *tagging requirements* of a rule cannot be expired by a rule of
//!   lower priority (a higher number), whether the higher rule expired it or kept it;
//! - a rule still *counts* images that a higher-priority rule claimed, "as if they haven't been
//!   expired", so `imageCountMoreThan` keeps the newest N of every image it matches;
//! - expiry is ordered by push time: older images go first;
//! - with `tagPrefixList` (or `tagPatternList`), an image matches when *every* prefix (pattern)
//!   matches at least one of its tags; a pattern's `*` matches any run of characters.
//!
//! Input is this module's own image type (no AWS types: this is the ground layer). Grammar is
//! checked by [`super::validate`]; this module reads what it needs and says why it cannot
//! evaluate a rule rather than guessing.

use serde::Serialize;
use serde_json::Value;

/// Seconds in a day, ECR's only `countUnit`.
const DAY: i64 = 86_400;

/// One image as the evaluator needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalImage {
    pub digest: String,
    pub tags: Vec<String>,
    /// Push time, Unix seconds.
    pub pushed_at: i64,
    /// ECR's `lastRecordedPullTime`, Unix seconds; `None` if never pulled (or not recorded).
    pub last_pulled: Option<i64>,
    /// True when the image is in the archive storage class.
    pub archived: bool,
    /// When the image was last moved to archive, Unix seconds.
    pub transitioned_at: Option<i64>,
}

/// A rule's tag selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagSelection {
    Untagged,
    Any,
    /// `tagged`, with every prefix (or pattern) matching some tag; both lists empty selects every
    /// tagged image.
    Tagged {
        prefixes: Vec<String>,
        patterns: Vec<String>,
    },
}

/// What a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Count {
    /// Keep the newest N; the rest are selected.
    MoreThan(u64),
    /// Pushed more than N days ago.
    SincePushed(u64),
    /// Last pulled (or, never pulled, pushed) more than N days ago.
    SincePulled(u64),
    /// Moved to archive more than N days ago.
    SinceTransitioned(u64),
}

/// What a rule does to what it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Expire,
    /// Move to the archive storage class.
    Transition,
}

/// One rule of a lifecycle policy, read for evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub priority: i64,
    pub description: Option<String>,
    pub tags: TagSelection,
    /// The storage class the rule looks at: `archive` rules see only archived images.
    pub archive: bool,
    pub count: Count,
    pub action: Action,
}

/// What the evaluator decided for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub digest: String,
    pub tags: Vec<String>,
    /// The rule that acts on the image.
    pub rule: i64,
    pub action: Action,
}

/// The outcome of evaluating a policy on a repository's images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Evaluation {
    /// Images acted on, oldest first.
    pub selected: Vec<Decision>,
    /// Per rule (in priority order): how many images match its tag selection, how many it
    /// claims (matched by no rule of higher priority), and how many it acts on now.
    pub rules: Vec<RuleEffect>,
}

/// What one rule does on this repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleEffect {
    pub priority: i64,
    pub matched: usize,
    pub claimed: usize,
    pub acted: usize,
}

impl Evaluation {
    /// The digests the policy expires now.
    pub fn expired(&self) -> impl Iterator<Item = &Decision> {
        self.selected.iter().filter(|d| d.action == Action::Expire)
    }
}

/// Reads a lifecycle policy for evaluation. An error names the rule and what is wrong; the full
/// grammar check is [`super::validate`].
pub fn parse(doc: &Value) -> Result<Vec<Rule>, String> {
    let rules = doc
        .get("rules")
        .and_then(Value::as_array)
        .ok_or("a lifecycle policy needs a `rules` list")?;
    let mut out = Vec::with_capacity(rules.len());
    for (n, rule) in rules.iter().enumerate() {
        out.push(parse_rule(rule).map_err(|e| format!("rule {}: {e}", n + 1))?);
    }
    out.sort_by_key(|r| r.priority);
    if let Some(w) = out.windows(2).find(|w| w[0].priority == w[1].priority) {
        return Err(format!("two rules have rulePriority {}", w[0].priority));
    }
    Ok(out)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn parse_rule(rule: &Value) -> Result<Rule, String> {
    let priority = rule
        .get("rulePriority")
        .and_then(Value::as_i64)
        .ok_or("`rulePriority` must be an integer")?;
    let sel = rule.get("selection").ok_or("no `selection`")?;
    let tags = match sel.get("tagStatus").and_then(Value::as_str) {
        Some("untagged") => TagSelection::Untagged,
        Some("any") => TagSelection::Any,
        Some("tagged") => TagSelection::Tagged {
            prefixes: strings(sel.get("tagPrefixList")),
            patterns: strings(sel.get("tagPatternList")),
        },
        other => {
            return Err(format!(
                "`tagStatus` {other:?} is not tagged, untagged or any"
            ))
        }
    };
    let number = sel
        .get("countNumber")
        .and_then(Value::as_u64)
        .ok_or("`countNumber` must be a positive integer")?;
    let count = match sel.get("countType").and_then(Value::as_str) {
        Some("imageCountMoreThan") => Count::MoreThan(number),
        Some("sinceImagePushed") => Count::SincePushed(number),
        Some("sinceImagePulled") => Count::SincePulled(number),
        Some("sinceImageTransitioned") => Count::SinceTransitioned(number),
        other => return Err(format!("`countType` {other:?} is not one ECR knows")),
    };
    let archive = sel.get("storageClass").and_then(Value::as_str) == Some("archive");
    let action = match rule
        .get("action")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
    {
        Some("expire") | None => Action::Expire,
        Some("transition") => Action::Transition,
        Some(other) => return Err(format!("action `{other}` is not expire or transition")),
    };
    Ok(Rule {
        priority,
        description: rule
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        tags,
        archive,
        count,
        action,
    })
}

/// Whether `tag` matches an ECR tag pattern, whose `*` matches any run of characters (also
/// none) and which must match the whole tag.
pub fn pattern_matches(pattern: &str, tag: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == tag;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !tag.starts_with(first) || tag.len() < first.len() + last.len() || !tag.ends_with(last) {
        return false;
    }
    let mut rest = &tag[first.len()..tag.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether an image meets a rule's tagging requirements (and storage class).
fn matches(rule: &Rule, image: &EvalImage) -> bool {
    if rule.archive != image.archived {
        return false;
    }
    match &rule.tags {
        TagSelection::Any => true,
        TagSelection::Untagged => image.tags.is_empty(),
        TagSelection::Tagged { prefixes, patterns } => {
            !image.tags.is_empty()
                && prefixes
                    .iter()
                    .all(|p| image.tags.iter().any(|t| t.starts_with(p.as_str())))
                && patterns
                    .iter()
                    .all(|p| image.tags.iter().any(|t| pattern_matches(p, t)))
        }
    }
}

/// Newest first, by push time, then digest (for a stable order between equal times).
fn newest_first(images: &[EvalImage], a: usize, b: usize) -> std::cmp::Ordering {
    images[b]
        .pushed_at
        .cmp(&images[a].pushed_at)
        .then_with(|| images[a].digest.cmp(&images[b].digest))
}

/// Whether a rule selects the image `i` among `matched` (sorted newest first, `rank` its place).
fn selects(rule: &Rule, image: &EvalImage, rank: usize, now: i64) -> bool {
    let older = |at: i64, days: u64| now.saturating_sub(at) > (days as i64).saturating_mul(DAY);
    match rule.count {
        Count::MoreThan(n) => rank as u64 >= n,
        Count::SincePushed(d) => older(image.pushed_at, d),
        Count::SincePulled(d) => older(image.last_pulled.unwrap_or(image.pushed_at), d),
        Count::SinceTransitioned(d) => image.transitioned_at.is_some_and(|t| older(t, d)),
    }
}

/// Evaluates `rules` (as [`parse`] returns them, in priority order) on `images` at `now` (Unix
/// seconds).
pub fn evaluate(rules: &[Rule], images: &[EvalImage], now: i64) -> Evaluation {
    // The rule that claims each image: the first whose tagging requirements it meets.
    let owner: Vec<Option<usize>> = images
        .iter()
        .map(|image| rules.iter().position(|r| matches(r, image)))
        .collect();
    let mut acted: Vec<Option<usize>> = vec![None; images.len()];
    let mut effects = Vec::with_capacity(rules.len());
    for (r, rule) in rules.iter().enumerate() {
        let mut matched: Vec<usize> = (0..images.len())
            .filter(|&i| matches(rule, &images[i]))
            .collect();
        matched.sort_by(|&a, &b| newest_first(images, a, b));
        let mut count = 0;
        for (rank, &i) in matched.iter().enumerate() {
            if owner[i] == Some(r) && acted[i].is_none() && selects(rule, &images[i], rank, now) {
                acted[i] = Some(r);
                count += 1;
            }
        }
        effects.push(RuleEffect {
            priority: rule.priority,
            matched: matched.len(),
            claimed: owner.iter().filter(|o| **o == Some(r)).count(),
            acted: count,
        });
    }
    let mut order: Vec<usize> = (0..images.len()).filter(|&i| acted[i].is_some()).collect();
    order.sort_by(|&a, &b| {
        (images[a].pushed_at, &images[a].digest).cmp(&(images[b].pushed_at, &images[b].digest))
    });
    let selected = order
        .into_iter()
        .filter_map(|i| {
            let rule = &rules[acted[i]?];
            Some(Decision {
                digest: images[i].digest.clone(),
                tags: images[i].tags.clone(),
                rule: rule.priority,
                action: rule.action,
            })
        })
        .collect();
    Evaluation {
        selected,
        rules: effects,
    }
}

/// When a policy would first expire an image at the repository's push rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outlook {
    /// It expires images now.
    ExpiresNow { images: usize },
    /// Nothing now; at the recent push rate, the first image goes in about this many days.
    ExpiresIn { days: u64, rule: i64 },
    /// Nothing now and nothing within the horizon: no rule claims an image, or the images it
    /// claims are pushed too slowly to reach its count.
    Never,
}

/// How far ahead [`outlook`] looks, in days.
pub const HORIZON_DAYS: u64 = 365;

/// The window the push rate is measured over, in days.
pub const RATE_WINDOW_DAYS: i64 = 90;

/// Whether the policy will ever expire an image: now, within [`HORIZON_DAYS`] at the push rate
/// of the last [`RATE_WINDOW_DAYS`] days of each rule's claimed images, or never.
pub fn outlook(rules: &[Rule], images: &[EvalImage], now: i64) -> Outlook {
    let eval = evaluate(rules, images, now);
    let expiring = eval.expired().count();
    if expiring > 0 {
        return Outlook::ExpiresNow { images: expiring };
    }
    let mut best: Option<(u64, i64)> = None;
    for (r, rule) in rules.iter().enumerate() {
        if rule.action != Action::Expire {
            continue;
        }
        let claimed: Vec<&EvalImage> = images
            .iter()
            .filter(|im| rules.iter().position(|x| matches(x, im)) == Some(r))
            .collect();
        let matched = images.iter().filter(|im| matches(rule, im)).count() as u64;
        let recent = claimed
            .iter()
            .filter(|im| now - im.pushed_at <= RATE_WINDOW_DAYS * DAY)
            .count() as u64;
        let days = match rule.count {
            // Every push that the rule claims adds to its count: at `recent` per window, the
            // count passes N after (N - matched + 1) more pushes.
            Count::MoreThan(n) => (recent > 0).then(|| {
                let needed = n.saturating_sub(matched) + 1;
                needed
                    .saturating_mul(RATE_WINDOW_DAYS as u64)
                    .div_ceil(recent)
            }),
            // An age rule expires its oldest claimed image once it is old enough; a rule that
            // claims no image has nothing to age.
            Count::SincePushed(d) | Count::SincePulled(d) => {
                let oldest = claimed
                    .iter()
                    .map(|im| match rule.count {
                        Count::SincePulled(_) => im.last_pulled.unwrap_or(im.pushed_at),
                        _ => im.pushed_at,
                    })
                    .min();
                oldest.map(|at| {
                    let age = (now.saturating_sub(at) / DAY).max(0) as u64;
                    d.saturating_sub(age) + 1
                })
            }
            Count::SinceTransitioned(d) => claimed
                .iter()
                .filter_map(|im| im.transitioned_at)
                .min()
                .map(|at| d.saturating_sub((now.saturating_sub(at) / DAY).max(0) as u64) + 1),
        };
        if let Some(days) = days {
            if best.is_none_or(|(b, _)| days < b) {
                best = Some((days, rule.priority));
            }
        }
    }
    match best {
        Some((days, rule)) if days <= HORIZON_DAYS => Outlook::ExpiresIn { days, rule },
        _ => Outlook::Never,
    }
}

#[cfg(test)]
#[path = "lifecycle_eval_tests.rs"]
mod tests;
