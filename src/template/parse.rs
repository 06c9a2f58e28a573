//! Parsing a rendered template (JSON, or YAML with CloudFormation's short-form tags) into a
//! `serde_json::Value`, with short forms turned into their long form (`!Ref X` into
//! `{"Ref": "X"}`), so that everything after rendering sees one shape.

use serde_json::{Map, Value};

/// The syntax of a template, from its file name (`*.yaml.njk`, `*.yml`, anything else is JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Syntax {
    Json,
    Yaml,
}

impl Syntax {
    pub fn of(name: &str) -> Syntax {
        let base = name.strip_suffix(".njk").unwrap_or(name);
        let base = base.strip_suffix(".j2").unwrap_or(base);
        if base.ends_with(".yaml") || base.ends_with(".yml") {
            Syntax::Yaml
        } else {
            Syntax::Json
        }
    }
}

/// A parse error with its 1-based position in the parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

pub fn parse(text: &str, syntax: Syntax) -> Result<Value, ParseError> {
    match syntax {
        Syntax::Json => serde_json::from_str(text).map_err(|e| ParseError {
            line: e.line().max(1),
            column: e.column().max(1),
            message: crate::diag::strip_position(&e.to_string()),
        }),
        Syntax::Yaml => parse_yaml(text),
    }
}

fn parse_yaml(text: &str) -> Result<Value, ParseError> {
    let yaml: serde_norway::Value = serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        ParseError {
            line,
            column,
            message: crate::diag::strip_position(&e.to_string()),
        }
    })?;
    from_yaml(yaml).map_err(|message| ParseError {
        line: find_line(text, &message).unwrap_or(1),
        column: 1,
        message,
    })
}

fn find_line(text: &str, message: &str) -> Option<usize> {
    // Messages name the tag in backticks: point at its first use.
    let tag = message.split('`').nth(1)?;
    text.lines().position(|l| l.contains(tag)).map(|i| i + 1)
}

/// Converts YAML into JSON, expanding CloudFormation short-form tags.
pub fn from_yaml(v: serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| format!("`{f}` is not a number JSON can hold"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(from_yaml)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("mapping key `{other:?}` is not a string")),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let value = from_yaml(t.value)?;
            expand_tag(name, value)?
        }
    })
}

const FUNCTIONS: &[&str] = &[
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "ToJsonString",
    "Length",
    "ForEach",
    // The rule functions of the `Rules` section.
    "Contains",
    "EachMemberEquals",
    "EachMemberIn",
    "RefAll",
    "ValueOf",
    "ValueOfAll",
];

fn expand_tag(name: &str, value: Value) -> Result<Value, String> {
    let (key, value) = match name {
        "Ref" => ("Ref".to_owned(), value),
        "Condition" => ("Condition".to_owned(), value),
        "GetAtt" => {
            let v = match value {
                Value::String(s) => match s.split_once('.') {
                    Some((res, attr)) => Value::Array(vec![res.into(), attr.into()]),
                    None => {
                        return Err(format!("`!GetAtt {s}` needs the form `Resource.Attribute`"))
                    }
                },
                other => other,
            };
            ("Fn::GetAtt".to_owned(), v)
        }
        n if FUNCTIONS.contains(&n) => (format!("Fn::{n}"), value),
        n => return Err(format!("unknown YAML tag `!{n}`")),
    };
    let mut m = Map::new();
    m.insert(key, value);
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_long_forms() {
        let y = "A: !Ref X\nB: !GetAtt R.Arn\nC: !Sub 'x-${AWS::Region}'\nD: !GetAtt [R, Arn]\nE: !If [C, !Ref X, !Ref AWS::NoValue]\n";
        let v = parse(y, Syntax::Yaml).unwrap();
        assert_eq!(
            v,
            json!({
                "A": {"Ref": "X"},
                "B": {"Fn::GetAtt": ["R", "Arn"]},
                "C": {"Fn::Sub": "x-${AWS::Region}"},
                "D": {"Fn::GetAtt": ["R", "Arn"]},
                "E": {"Fn::If": ["C", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]}
            })
        );
    }

    #[test]
    fn rule_functions_have_short_forms() {
        let v = parse(
            "Rules:\n  R:\n    Assertions:\n      - Assert: !Contains [[a, b], !Ref Env]\n      - Assert: !EachMemberIn [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId], !RefAll AWS::EC2::VPC::Id]\n",
            Syntax::Yaml,
        )
        .unwrap();
        let assertions = &v["Rules"]["R"]["Assertions"];
        assert_eq!(
            assertions[0]["Assert"]["Fn::Contains"][1],
            json!({"Ref": "Env"})
        );
        assert_eq!(
            assertions[1]["Assert"]["Fn::EachMemberIn"][1],
            json!({"Fn::RefAll": "AWS::EC2::VPC::Id"})
        );
    }

    #[test]
    fn unknown_tags_are_errors_at_their_line() {
        let e = parse("A: 1\nB: !Reff X\n", Syntax::Yaml).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("`!Reff`"), "{}", e.message);
    }

    #[test]
    fn json_errors_have_positions() {
        let e = parse("{\n  \"a\": 1,\n}", Syntax::Json).unwrap_err();
        assert_eq!((e.line, e.column), (3, 1));
        assert!(!e.message.contains("at line"));
    }

    #[test]
    fn syntax_from_name() {
        assert_eq!(Syntax::of("a/b.yaml.njk"), Syntax::Yaml);
        assert_eq!(Syntax::of("a/b.json.njk"), Syntax::Json);
        assert_eq!(Syntax::of("a/b.njk"), Syntax::Json);
    }
}
