//! The inputs of the plan's pure steps (`plan::comparable`, `plan::predict`): a stack `s` of
//! a one-file project, a deployed stack `s`, and a rendered template with parameters.

use indexmap::IndexMap;
use serde_json::Value;

use crate::aws::cloudformation::StackInfo;
use crate::project::Stack;
use crate::render::Rendered;
use crate::template::parse::Syntax;

/// The stack `s` (template `t.json.njk`), with no settings of its own.
pub fn stack() -> Stack {
    let (_d, project) = crate::testing::fake_aws::project(&[
        ("stacks/s.yaml", "name: s\ntemplate: t.json.njk\n"),
        ("templates/t.json.njk", "{\"Resources\": {}}"),
    ]);
    project.stack("s").cloned().unwrap()
}

/// The stack `s` as DescribeStacks reports it, in `status`.
pub fn deployed(status: &str) -> StackInfo {
    StackInfo {
        name: "s".into(),
        id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1".into(),
        status: status.into(),
        ..Default::default()
    }
}

/// `template` rendered for `s`, with these parameter values.
pub fn rendered(template: &Value, parameters: &[(&str, &str)]) -> Rendered {
    Rendered {
        stack: "s".into(),
        template_name: "t".into(),
        syntax: Syntax::Json,
        text: String::new(),
        template: template.clone(),
        parameters: parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        tags: IndexMap::new(),
    }
}
