//! The scan gate of `little ecr scan-report` and `little ecr promote` as text: the image, its
//! scan and counts, each finding, the verdict; and what a promotion did.

use std::io::Write;

use super::Style;
use crate::audit::gate::{GateResult, Promotion, PromotionOutcome};
use crate::error::{Error, Result};

/// One image's scan and whether it passes the gate.
pub fn write_text(w: &mut dyn Write, r: &GateResult, style: Style) -> Result<()> {
    let counts = r
        .counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(
        w,
        "{}:{} ({}) scan {}{}{}",
        r.repository,
        r.reference,
        r.digest,
        r.status,
        r.completed_at
            .as_deref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default(),
        if counts.is_empty() {
            String::new()
        } else {
            format!(": {counts}")
        }
    )
    .map_err(Error::output)?;
    for f in &r.findings {
        writeln!(
            w,
            "  {:<13} {}{}",
            f.severity,
            f.name,
            f.package
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        )
        .map_err(Error::output)?;
    }
    let verdict = match &r.reason {
        None => style.green("passed"),
        Some(why) => style.red(&format!("failed: {why}")),
    };
    writeln!(w, "{verdict}").map_err(Error::output)
}

/// A promotion: the gate, then the line that says what became of the release tag.
pub fn write_promotion_text(w: &mut dyn Write, p: &Promotion, style: Style) -> Result<()> {
    write_text(w, &p.gate, style)?;
    let (repository, tag) = (&p.gate.repository, &p.release_tag);
    let line = match p.outcome {
        PromotionOutcome::Tagged => format!(
            "promoted {repository}@{} as {repository}:{tag}",
            p.gate.digest
        ),
        PromotionOutcome::AlreadyTagged => {
            format!("{repository}:{tag} already names {}", p.gate.digest)
        }
        PromotionOutcome::Refused => {
            format!("refused to tag {repository}:{tag}: the scan does not pass")
        }
    };
    writeln!(w, "{line}").map_err(Error::output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(passed: bool) -> GateResult {
        GateResult {
            repository: "team/api".into(),
            reference: "v1".into(),
            digest: "sha256:abc".into(),
            status: "COMPLETE".into(),
            completed_at: Some("2026-03-02T10:15:30Z".into()),
            counts: [("HIGH".to_owned(), 1), ("LOW".to_owned(), 0)].into(),
            findings: Vec::new(),
            started: false,
            passed,
            reason: (!passed).then(|| "1 finding at or above HIGH".into()),
        }
    }

    fn text(p: &Promotion) -> String {
        let mut out = Vec::new();
        write_promotion_text(&mut out, p, Style { color: false }).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_promotion_outcome_has_its_line() {
        let promotion = |outcome, passed| Promotion {
            gate: gate(passed),
            release_tag: "v2".into(),
            outcome,
        };
        assert_eq!(
            text(&promotion(PromotionOutcome::Tagged, true)),
            "team/api:v1 (sha256:abc) scan COMPLETE at 2026-03-02T10:15:30Z: 1 HIGH\npassed\npromoted team/api@sha256:abc as team/api:v2\n"
        );
        assert!(text(&promotion(PromotionOutcome::AlreadyTagged, true))
            .ends_with("passed\nteam/api:v2 already names sha256:abc\n"));
        assert!(text(&promotion(PromotionOutcome::Refused, false)).ends_with(
            "failed: 1 finding at or above HIGH\nrefused to tag team/api:v2: the scan does not pass\n"
        ));
    }

    #[test]
    fn promotion_outcomes_serialize_as_before() {
        for (outcome, text) in [
            (PromotionOutcome::Tagged, "\"tagged\""),
            (PromotionOutcome::AlreadyTagged, "\"already-tagged\""),
            (PromotionOutcome::Refused, "\"refused\""),
        ] {
            assert_eq!(serde_json::to_string(&outcome).unwrap(), text);
        }
    }
}
