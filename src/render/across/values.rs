//! The values the project checks compare: a name property resolved to a string where that is
//! certain offline (a literal, `Fn::Sub` of pseudo parameters and parameters with a value,
//! `Ref` of those, `Fn::Join` of such parts), the account and region a name must be unique in,
//! and the `Fn::ImportValue` calls of a template.
//!
//! Not here: what a name is unique in for each resource type (`super::NAMED`), and anything
//! that would need AWS (a resource attribute, an import's value): those resolve to nothing and
//! are not compared.

use indexmap::IndexMap;
use serde_json::Value;

use super::Reach;
use crate::project::{Project, Stack};
use crate::render::Rendered;
use crate::text::child;

/// What a stack's names are resolved with.
pub struct Scope<'a> {
    stack: &'a str,
    /// None for a StackSet (one per instance) or a stack whose region is the environment's.
    region: Option<&'a str>,
    account: Option<String>,
    set: bool,
    parameters: &'a IndexMap<String, String>,
    template: &'a Value,
}

/// Where a name must be unique: an account (None: the caller's) and a region (None: the
/// environment's), or every instance of a StackSet.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Where {
    reach: Reach,
    account: Option<String>,
    region: Option<String>,
    /// A StackSet's instances are apart from every other stack's: only its own template is
    /// compared with itself.
    set: Option<String>,
}

impl Where {
    /// "in account 1234 and region us-east-1", for a message.
    pub fn describe(&self) -> String {
        if let Some(set) = &self.set {
            return format!("in each instance of StackSet `{set}`");
        }
        let account = match &self.account {
            Some(a) => format!("account {a}"),
            None => "the default account".to_owned(),
        };
        match self.reach {
            Reach::Global => "anywhere (bucket names are global to all of AWS)".to_owned(),
            Reach::Account => format!("in {account} (IAM names hold in every region)"),
            Reach::Regional => match &self.region {
                Some(r) => format!("in {account} and region {r}"),
                None => format!("in {account} and the default region"),
            },
        }
    }
}

impl<'a> Scope<'a> {
    pub fn of(project: &'a Project, stack: &'a Stack, rendered: &'a Rendered) -> Scope<'a> {
        let set = stack.kind.is_set();
        Scope {
            stack: &stack.name,
            region: if set { None } else { stack.region.as_deref() },
            account: if set {
                None
            } else {
                project.account_of(stack).map(|a| a.id.clone())
            },
            set,
            parameters: &rendered.parameters,
            template: &rendered.template,
        }
    }

    /// Where a name of this reach, made by `stack`, must be unique.
    pub fn place(&self, reach: Reach, stack: &Stack) -> Where {
        Where {
            reach,
            account: if reach == Reach::Global {
                None
            } else {
                self.account.clone()
            },
            region: if reach == Reach::Regional {
                self.region.map(str::to_owned)
            } else {
                None
            },
            set: self.set.then(|| stack.name.clone()),
        }
    }

    /// A parameter's value: the one passed, else its default; None when unknown offline.
    fn parameter(&self, name: &str) -> Option<String> {
        let value = match self.parameters.get(name) {
            Some(v) => v.clone(),
            None => match self.template.get("Parameters")?.get(name)?.get("Default")? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            },
        };
        // An output that becomes known at apply is not a name yet.
        (!value.contains(super::OUTPUT_PLACEHOLDER_PREFIX)).then_some(value)
    }

    fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::Region" => self.region.map(str::to_owned),
            "AWS::AccountId" => self.account.clone(),
            "AWS::StackName" if !self.set => Some(self.stack.to_owned()),
            "AWS::Partition" => self
                .region
                .and_then(crate::region::partition_of)
                .map(str::to_owned),
            n if n.starts_with("AWS::") => None,
            n => self.parameter(n),
        }
    }
}

/// A value as the string CloudFormation will make of it, when that is certain offline.
pub fn resolve(value: &Value, scope: &Scope) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) if o.len() == 1 => {
            let (f, arg) = o.iter().next()?;
            match (f.as_str(), arg) {
                ("Ref", Value::String(name)) => scope.reference(name),
                ("Fn::Sub", Value::String(text)) => substitute(text, scope, &Default::default()),
                ("Fn::Sub", Value::Array(a)) if a.len() == 2 => {
                    let text = a[0].as_str()?;
                    let vars = a[1].as_object()?;
                    let mut known = std::collections::HashMap::new();
                    for (k, v) in vars {
                        known.insert(k.as_str(), resolve(v, scope)?);
                    }
                    substitute(text, scope, &known)
                }
                ("Fn::Join", Value::Array(a)) if a.len() == 2 => {
                    let sep = a[0].as_str()?;
                    let parts = a[1].as_array()?;
                    let parts: Option<Vec<String>> =
                        parts.iter().map(|p| resolve(p, scope)).collect();
                    Some(parts?.join(sep))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `Fn::Sub`'s text with its `${Name}`s replaced; `${!Literal}` stays `${Literal}`.
fn substitute(
    text: &str,
    scope: &Scope,
    vars: &std::collections::HashMap<&str, String>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else if let Some(v) = vars.get(name) {
            out.push_str(v);
        } else if name.contains('.') {
            // `${Resource.Attribute}`: known only once the resource exists.
            return None;
        } else {
            out.push_str(&scope.reference(name)?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Every `Fn::ImportValue` of a template: its pointer and its argument.
pub fn imports<'v>(value: &'v Value, pointer: &str, out: &mut Vec<(String, &'v Value)>) {
    match value {
        Value::Object(o) => {
            for (k, v) in o {
                let p = child(pointer, k);
                if k == "Fn::ImportValue" {
                    out.push((p.clone(), v));
                }
                imports(v, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                imports(v, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}
