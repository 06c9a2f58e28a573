//! CloudFormation's resource provider schemas, embedded: for each resource type of `us-east-1`,
//! its properties (JSON types, nested objects, `required`, `enum`, `pattern`, min/max length and
//! value, min/max and unique items, closed objects, rules between properties: one of, at least
//! one of, needs, excludes), its read-only and create-only properties, its `Fn::GetAtt`
//! attributes, and which types other regions lack.
//!
//! The data is `data/cfn-resource-schemas.json.gz`, reduced by `scripts/schemas` from the
//! schemas the pinned cfn-lint redistributes (its version, the schema date and a checksum of the
//! inputs are in [`Source`]; docs/validate.md says how to refresh it). It is decompressed once,
//! on first use, and each type's schema is parsed only when first asked for.
//!
//! This module knows the schemas; it does not walk templates or report anything (the linter's
//! `render::lint::schema` does), and it does not check values itself beyond answering what a
//! shape allows.

use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::OnceLock;

static DATA: &[u8] = include_bytes!("../../data/cfn-resource-schemas.json.gz");

/// Where the embedded schemas come from.
#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    /// What redistributes the schemas (cfn-lint's data directory).
    pub source: String,
    /// The cfn-lint version they were taken from.
    pub cfn_lint: String,
    /// When cfn-lint last refreshed its copy of CloudFormation's schemas.
    pub schema_date: String,
    /// SHA-256 over the input files (their paths and bytes).
    pub sha256: String,
    /// The number of resource types.
    pub types: usize,
    /// Per region other than `us-east-1`: the types `us-east-1` has and that region lacks.
    #[serde(default)]
    region_missing: HashMap<String, Vec<String>>,
}

/// The JSON types a shape allows, as a bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonTypes(u8);

impl JsonTypes {
    pub const STRING: u8 = 1;
    pub const INTEGER: u8 = 2;
    pub const NUMBER: u8 = 4;
    pub const BOOLEAN: u8 = 8;
    pub const ARRAY: u8 = 16;
    pub const OBJECT: u8 = 32;
    pub const NULL: u8 = 64;

    /// Whether the shape names no type (anything goes).
    pub fn is_any(self) -> bool {
        self.0 == 0
    }

    /// The set of one type.
    pub fn only(bit: u8) -> Self {
        JsonTypes(bit)
    }

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// The names of the allowed types, for messages: `string or integer`.
    pub fn describe(self) -> String {
        let names = [
            (Self::STRING, "string"),
            (Self::INTEGER, "integer"),
            (Self::NUMBER, "number"),
            (Self::BOOLEAN, "boolean"),
            (Self::ARRAY, "array"),
            (Self::OBJECT, "object"),
            (Self::NULL, "null"),
        ];
        let parts: Vec<&str> = names
            .iter()
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, n)| *n)
            .collect();
        parts.join(" or ")
    }
}

impl<'de> Deserialize<'de> for JsonTypes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        let names = match OneOrMany::deserialize(d)? {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        };
        let mut bits = 0;
        for n in names {
            bits |= match n.as_str() {
                "string" => Self::STRING,
                "integer" => Self::INTEGER,
                "number" => Self::NUMBER,
                "boolean" => Self::BOOLEAN,
                "array" => Self::ARRAY,
                "object" => Self::OBJECT,
                "null" => Self::NULL,
                _ => 0,
            };
        }
        Ok(JsonTypes(bits))
    }
}

/// What one value may be: the reduced JSON schema of a property, a definition or an item.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Shape {
    /// The JSON types allowed; none for anything.
    #[serde(default, rename = "t")]
    pub types: JsonTypes,
    /// A definition of the type that this shape is (`#/definitions/<name>`).
    #[serde(default, rename = "r")]
    pub reference: Option<String>,
    /// The properties of an object.
    #[serde(default, rename = "p")]
    pub properties: BTreeMap<String, Shape>,
    /// The properties an object must have.
    #[serde(default, rename = "q")]
    pub required: Vec<String>,
    #[serde(default, rename = "e")]
    pub allowed: Option<Vec<Value>>,
    #[serde(default, rename = "pt")]
    pub pattern: Option<String>,
    #[serde(default, rename = "n")]
    pub min_length: Option<u64>,
    #[serde(default, rename = "x")]
    pub max_length: Option<u64>,
    #[serde(default, rename = "lo")]
    pub minimum: Option<f64>,
    #[serde(default, rename = "hi")]
    pub maximum: Option<f64>,
    /// `Some(0)` when the object takes no properties beyond `properties`.
    #[serde(default, rename = "a")]
    additional: Option<u8>,
    /// The shape of an array's items.
    #[serde(default, rename = "i")]
    pub items: Option<Box<Shape>>,
    #[serde(default, rename = "mi")]
    pub min_items: Option<u64>,
    #[serde(default, rename = "mx")]
    pub max_items: Option<u64>,
    /// `Some(1)` when an array's items must differ from each other.
    #[serde(default, rename = "u")]
    unique: Option<u8>,
    /// Rules between an object's properties.
    #[serde(default, rename = "c")]
    pub rules: Vec<PropertyRule>,
}

/// A rule between the properties of one object, on their names alone.
#[derive(Debug, Clone, Deserialize)]
pub struct PropertyRule {
    #[serde(rename = "k")]
    pub kind: RuleKind,
    /// For `One` and `Any`, the alternatives (each a set of names that must all be there);
    /// for `Needs` and `Excludes`, the name and the names it needs or excludes.
    #[serde(rename = "s")]
    pub sets: Vec<Vec<String>>,
}

/// What a [`PropertyRule`] asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RuleKind {
    /// Exactly one of the alternatives (`oneOf` of `required`s).
    #[serde(rename = "one")]
    One,
    /// At least one of the alternatives (`anyOf` of `required`s).
    #[serde(rename = "any")]
    Any,
    /// The name needs the others (`dependentRequired`).
    #[serde(rename = "dep")]
    Needs,
    /// The name excludes the others (`dependentExcluded`).
    #[serde(rename = "excl")]
    Excludes,
}

impl Shape {
    /// Whether the object takes only the properties it names.
    pub fn is_closed(&self) -> bool {
        self.additional == Some(0)
    }

    /// Whether an array's items must differ from each other.
    pub fn unique_items(&self) -> bool {
        self.unique == Some(1)
    }
}

/// The schema of one resource type.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResourceSchema {
    /// The resource's `Properties`.
    #[serde(default, rename = "p")]
    pub properties: BTreeMap<String, Shape>,
    #[serde(default, rename = "q")]
    pub required: Vec<String>,
    /// Rules between the properties.
    #[serde(default, rename = "c")]
    pub rules: Vec<PropertyRule>,
    #[serde(default, rename = "a")]
    additional: Option<u8>,
    #[serde(default, rename = "d")]
    definitions: HashMap<String, Shape>,
    /// Read-only property paths, segments joined by `/` (`Arn`, `Endpoint/Address`).
    #[serde(default, rename = "ro")]
    pub read_only: Vec<String>,
    /// Create-only property paths (changing one replaces the resource), joined by `/`.
    #[serde(default, rename = "co")]
    pub create_only: Vec<String>,
    /// `Fn::GetAtt` attribute names; a `*` segment stands for any one segment, and a final
    /// `*` for any rest (`Outputs.*`).
    #[serde(default, rename = "g")]
    pub attributes: Vec<String>,
}

impl ResourceSchema {
    /// Whether `Properties` takes only the properties the schema names.
    pub fn is_closed(&self) -> bool {
        self.additional == Some(0)
    }

    /// The shape a reference stands for, following references (at most 16 deep; a longer chain
    /// or a missing definition is taken as "anything").
    pub fn resolve<'s>(&'s self, shape: &'s Shape) -> Option<&'s Shape> {
        let mut shape = shape;
        for _ in 0..16 {
            match &shape.reference {
                Some(name) => shape = self.definitions.get(name)?,
                None => return Some(shape),
            }
        }
        None
    }

    /// Whether `Fn::GetAtt` may ask for `attribute` (`Arn`, `Outputs.Name`).
    pub fn has_attribute(&self, attribute: &str) -> bool {
        self.attributes
            .iter()
            .any(|a| attribute_matches(a, attribute))
    }

    /// The attribute names, for a did-you-mean (the patterned ones left out).
    pub fn attribute_names(&self) -> impl Iterator<Item = &str> {
        self.attributes
            .iter()
            .map(String::as_str)
            .filter(|a| !a.contains('*'))
    }
}

fn attribute_matches(pattern: &str, attribute: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == attribute;
    }
    let pattern: Vec<&str> = pattern.split('.').collect();
    let segments: Vec<&str> = attribute.split('.').collect();
    for (i, p) in pattern.iter().enumerate() {
        let last = i + 1 == pattern.len();
        match segments.get(i) {
            None => return false,
            Some(_) if *p == "*" && last => return true,
            Some(s) if *p == "*" || p == s => {}
            Some(_) => return false,
        }
    }
    segments.len() == pattern.len()
}

/// The embedded schemas: the decompressed text, an index of each type's line, and each type's
/// schema once parsed.
pub struct Catalog {
    source: Source,
    text: String,
    names: Vec<(String, std::ops::Range<usize>)>,
    by_name: HashMap<String, usize>,
    parsed: Vec<OnceLock<Option<ResourceSchema>>>,
}

static CATALOG: OnceLock<Result<Catalog, String>> = OnceLock::new();

/// The embedded schemas, decompressed on first use. An error only if the embedded data is
/// damaged (a test reads it).
pub fn catalog() -> Result<&'static Catalog, &'static str> {
    CATALOG
        .get_or_init(|| Catalog::decode(DATA))
        .as_ref()
        .map_err(String::as_str)
}

impl Catalog {
    fn decode(gz: &[u8]) -> Result<Catalog, String> {
        // The gzip trailer's last four bytes are the decompressed size: one allocation.
        let size = gz
            .len()
            .checked_sub(4)
            .and_then(|i| gz.get(i..))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes);
        let mut text = String::with_capacity(size as usize);
        flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut text)
            .map_err(|e| format!("the embedded resource schemas do not decompress: {e}"))?;
        let mut lines = text.split_inclusive('\n');
        let header = lines.next().unwrap_or_default();
        let source: Source = serde_json::from_str(header)
            .map_err(|e| format!("the embedded resource schemas' header: {e}"))?;
        let mut names = Vec::new();
        let mut offset = header.len();
        for line in lines {
            let start = offset;
            offset += line.len();
            // `["AWS::X::Y",{...}]`: the name has no quotes or escapes.
            let body = line.trim_end();
            let Some(rest) = body.strip_prefix("[\"") else {
                continue;
            };
            let Some(end) = rest.find("\",") else {
                continue;
            };
            let name = rest[..end].to_owned();
            let schema_start = start + 2 + end + 2;
            let schema_end = start + body.len() - 1;
            if schema_end > schema_start {
                names.push((name, schema_start..schema_end));
            }
        }
        let by_name = names
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i))
            .collect();
        let parsed = names.iter().map(|_| OnceLock::new()).collect();
        Ok(Catalog {
            source,
            text,
            names,
            by_name,
            parsed,
        })
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The schema of a resource type, or `None` for a type CloudFormation does not publish
    /// (`Custom::…`, a private registry type, a misspelling).
    pub fn get(&self, type_name: &str) -> Option<&ResourceSchema> {
        let i = *self.by_name.get(type_name)?;
        self.parsed[i]
            .get_or_init(|| {
                let range = self.names[i].1.clone();
                serde_json::from_str(self.text.get(range)?).ok()
            })
            .as_ref()
    }

    /// Whether the type is one CloudFormation publishes (in `us-east-1`).
    pub fn contains(&self, type_name: &str) -> bool {
        self.by_name.contains_key(type_name)
    }

    /// Every type name, sorted.
    pub fn type_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|(n, _)| n.as_str())
    }

    /// Whether a type of `us-east-1` is missing from `region` (`false` for a region the data
    /// does not list).
    pub fn missing_in(&self, region: &str, type_name: &str) -> bool {
        self.source.region_missing.get(region).is_some_and(|types| {
            types
                .binary_search_by(|t| t.as_str().cmp(type_name))
                .is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_data_decodes_with_its_source() {
        let c = catalog().unwrap();
        assert_eq!(c.source().cfn_lint, "1.58.0");
        assert_eq!(c.source().sha256.len(), 64);
        assert_eq!(c.type_names().count(), c.source().types);
        assert!(c.type_names().count() > 1000);
        // Every type parses.
        for name in c.type_names() {
            assert!(c.get(name).is_some(), "{name} does not parse");
        }
    }

    #[test]
    fn a_type_has_its_properties_required_read_only_and_attributes() {
        let c = catalog().unwrap();
        let ecr = c.get("AWS::ECR::Repository").unwrap();
        assert!(ecr.is_closed());
        assert!(ecr.properties.contains_key("RepositoryName"));
        assert!(ecr.read_only.contains(&"Arn".to_owned()));
        assert!(ecr.create_only.contains(&"RepositoryName".to_owned()));
        assert!(ecr.has_attribute("RepositoryUri"));
        assert!(!ecr.has_attribute("Uri"));
        let name = &ecr.properties["RepositoryName"];
        assert!(name.types.has(JsonTypes::STRING));
        assert_eq!(name.max_length, Some(256));
        let enc = ecr
            .resolve(&ecr.properties["EncryptionConfiguration"])
            .unwrap();
        assert_eq!(enc.required, ["EncryptionType"]);
        let kind = ecr.resolve(&enc.properties["EncryptionType"]).unwrap();
        assert!(kind.allowed.as_ref().unwrap().contains(&Value::from("KMS")));
        assert!(c.get("AWS::ECR::Repo").is_none());
        assert!(c.get("Custom::Thing").is_none());
    }

    #[test]
    fn patterned_attributes_match_any_segment() {
        let stack = catalog()
            .unwrap()
            .get("AWS::CloudFormation::Stack")
            .unwrap();
        assert!(stack.has_attribute("Outputs.BucketName"));
        assert!(!stack.has_attribute("Outputs"));
        assert!(attribute_matches("A.*.B", "A.x.B"));
        assert!(!attribute_matches("A.*.B", "A.x.C"));
        assert!(!attribute_matches("A.*.B", "A.x.B.C"));
    }

    #[test]
    fn regions_lacking_a_type_are_known() {
        let c = catalog().unwrap();
        assert!(c.missing_in("af-south-1", "AWS::ECR::PublicRepository"));
        assert!(!c.missing_in("eu-west-1", "AWS::ECR::Repository"));
        assert!(!c.missing_in("nowhere-1", "AWS::ECR::Repository"));
    }
}
