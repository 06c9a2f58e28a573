//! The JSON Schemas (draft 2020-12) of the documents `little` reads and writes: little.yaml,
//! stack configs, the plan and the audit report. `little schema` prints them and `little
//! init` writes the first two; neither is here.

/// The documents that have a JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// little.yaml
    LittleYaml,
    /// A stack config (stacks/<group>/<name>.yaml)
    Stack,
    /// The plan of `little plan --format json` and `--out`
    Plan,
    /// The report of `little audit --format json`
    Audit,
}

impl SchemaKind {
    /// The file name under `schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaKind::LittleYaml => "little.schema.json",
            SchemaKind::Stack => "stack.schema.json",
            SchemaKind::Plan => "plan.schema.json",
            SchemaKind::Audit => "audit.schema.json",
        }
    }

    fn describe(self) -> (&'static str, &'static str) {
        match self {
            SchemaKind::LittleYaml => (
                "little.yaml",
                "A little-stack project: its name, defaults, accounts, variables and audit settings.",
            ),
            SchemaKind::Stack => (
                "little-stack stack config",
                "One CloudFormation stack of a little-stack project (stacks/<group>/<name>.yaml).",
            ),
            SchemaKind::Plan => (
                "little plan",
                "The plan that `little plan --format json` prints and `--out` saves (version 1).",
            ),
            SchemaKind::Audit => (
                "little audit report",
                "The report that `little audit --format json` prints (version 1).",
            ),
        }
    }
}

/// The JSON Schema (draft 2020-12) of one document, pretty-printed with a final newline.
///
/// little.yaml and stack configs are described as `little` reads them (what serde accepts:
/// unknown keys are errors, optional keys may be absent); the plan and the audit report as
/// `little` writes them.
pub fn schema_text(kind: SchemaKind) -> String {
    use crate::audit::model::AuditReport;
    use crate::plan::model::Plan;
    use crate::project::config::{ProjectFile, StackFile};
    use schemars::generate::SchemaSettings;
    let settings = SchemaSettings::draft2020_12();
    let mut schema = match kind {
        SchemaKind::LittleYaml => settings
            .for_deserialize()
            .into_generator()
            .into_root_schema_for::<ProjectFile>(),
        SchemaKind::Stack => settings
            .for_deserialize()
            .into_generator()
            .into_root_schema_for::<StackFile>(),
        SchemaKind::Plan => settings
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<Plan>(),
        SchemaKind::Audit => settings
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<AuditReport>(),
    };
    let (title, description) = kind.describe();
    schema.insert("title".into(), title.into());
    schema.insert("description".into(), description.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_reject_unknown_keys_and_are_draft_2020_12() {
        let v: serde_json::Value =
            serde_json::from_str(&schema_text(SchemaKind::LittleYaml)).unwrap();
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(v["additionalProperties"], false);
        let v: serde_json::Value = serde_json::from_str(&schema_text(SchemaKind::Stack)).unwrap();
        assert_eq!(v["additionalProperties"], false);
        assert!(v["required"]
            .as_array()
            .unwrap()
            .contains(&"template".into()));
    }
}
