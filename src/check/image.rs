//! Image manifests and configs as registries serve them: Docker schema 2 and OCI image
//! manifests, manifest lists and OCI indexes (resolved to one platform), and the image
//! config (user, environment, labels, build history). Parsing only; no I/O.

use serde::Deserialize;

use crate::error::{Error, Result};

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// A content descriptor: what a manifest says of a blob or another manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/amd64`, `linux/arm64/v8`.
    pub fn name(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
    /// A manifest list or OCI index: one manifest per platform.
    Index { manifests: Vec<Descriptor> },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    manifests: Option<Vec<Descriptor>>,
}

/// Parses a manifest; `media_type` is what the registry said (the body may omit it).
pub fn parse_manifest(body: &str, media_type: Option<&str>) -> Result<Manifest> {
    let raw: RawManifest = serde_json::from_str(body)
        .map_err(|e| Error::Usage(format!("the image manifest is not valid JSON: {e}")))?;
    if raw.schema_version == Some(1) {
        return Err(Error::Usage(
            "the image has a Docker schema 1 manifest, which is deprecated and not read; push it again with a current client".into(),
        ));
    }
    let kind = raw
        .media_type
        .as_deref()
        .or(media_type)
        .unwrap_or_default()
        .to_owned();
    if let Some(manifests) = raw.manifests {
        return Ok(Manifest::Index { manifests });
    }
    if kind == DOCKER_LIST || kind == OCI_INDEX {
        return Err(Error::Usage(format!("the {kind} lists no manifests")));
    }
    let config = raw
        .config
        .ok_or_else(|| Error::Usage("the image manifest has no config descriptor".into()))?;
    Ok(Manifest::Image {
        config,
        layers: raw.layers,
    })
}

/// The manifest of an index for `platform` (`os/arch` or `os/arch/variant`).
pub fn pick_platform<'a>(manifests: &'a [Descriptor], platform: &str) -> Result<&'a Descriptor> {
    let wanted: Vec<&str> = platform.split('/').collect();
    manifests
        .iter()
        .find(|m| {
            m.platform.as_ref().is_some_and(|p| {
                p.os == wanted.first().copied().unwrap_or("")
                    && p.architecture == wanted.get(1).copied().unwrap_or("")
                    && wanted
                        .get(2)
                        .is_none_or(|v| p.variant.as_deref() == Some(*v))
            })
        })
        .ok_or_else(|| {
            let have: Vec<String> = manifests
                .iter()
                .filter_map(|m| m.platform.as_ref().map(Platform::name))
                .collect();
            Error::Usage(format!(
                "the image has no {platform} manifest (it has: {}); set check.platform",
                if have.is_empty() {
                    "none named".to_owned()
                } else {
                    have.join(", ")
                }
            ))
        })
}

/// The parts of the image config the checks read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub config: RunConfig,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RunConfig {
    #[serde(rename = "User", default)]
    pub user: Option<String>,
    #[serde(rename = "Env", default)]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Labels", default)]
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    #[serde(rename = "Entrypoint", default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    pub cmd: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HistoryEntry {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
    #[serde(default)]
    pub comment: Option<String>,
}

impl ImageConfig {
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::Usage(format!("the image config is not valid JSON: {e}")))
    }

    /// The environment as (name, value) pairs.
    pub fn env(&self) -> Vec<(String, String)> {
        self.config
            .env
            .iter()
            .flatten()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (kv.clone(), String::new()),
            })
            .collect()
    }
}

/// The number of elements of a JSON array or object, counted without keeping them (anything
/// else counts 0).
#[derive(Default)]
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Count, D::Error> {
        struct Counter;
        impl<'de> serde::de::Visitor<'de> for Counter {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Count, A::Error> {
                let mut n = 0;
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {
                    n += 1;
                }
                Ok(Count(n))
            }
            fn visit_unit<E>(self) -> std::result::Result<Count, E> {
                Ok(Count(0))
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Count, E> {
                Ok(Count(0))
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Count, E> {
                Ok(Count(0))
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<Count, E> {
                Ok(Count(0))
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Count, E> {
                Ok(Count(0))
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<Count, E> {
                Ok(Count(0))
            }
        }
        d.deserialize_any(Counter)
    }
}

#[derive(Default, Deserialize)]
struct RunShape {
    #[serde(rename = "Env", default)]
    env: Count,
    #[serde(rename = "Labels", default)]
    labels: Count,
    #[serde(rename = "Entrypoint", default)]
    entrypoint: Count,
    #[serde(rename = "Cmd", default)]
    cmd: Count,
}

#[derive(Deserialize)]
struct ConfigShape {
    #[serde(default)]
    config: Option<RunShape>,
    #[serde(default)]
    history: Count,
}

/// How many entries the parts of a config the checks read hold (environment variables,
/// labels, entrypoint and command words, history steps), counted before the config is parsed
/// for real, without keeping any of them: each costs memory many times its size in the report.
pub fn config_entries(bytes: &[u8]) -> Result<u64> {
    let shape: ConfigShape = serde_json::from_slice(bytes)
        .map_err(|e| Error::Usage(format!("the image config is not valid JSON: {e}")))?;
    let run = shape.config.unwrap_or_default();
    Ok(run.env.0 + run.labels.0 + run.entrypoint.0 + run.cmd.0 + shape.history.0)
}

/// Whether a layer's media type (or its first bytes) says gzip.
pub fn is_gzip(media_type: &str) -> bool {
    media_type.ends_with("gzip") || media_type.ends_with("+gzip")
}

/// Whether a layer's media type says zstd (not read).
pub fn is_zstd(media_type: &str) -> bool {
    media_type.ends_with("+zstd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_is_resolved_to_a_platform() {
        let body = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","size":1,"platform":{"os":"linux","architecture":"amd64"}}]}"#;
        let Manifest::Index { manifests } = parse_manifest(body, None).unwrap() else {
            panic!("an index")
        };
        assert_eq!(
            pick_platform(&manifests, "linux/amd64").unwrap().digest,
            "sha256:b"
        );
        assert_eq!(
            pick_platform(&manifests, "linux/arm64/v8").unwrap().digest,
            "sha256:a"
        );
        let e = pick_platform(&manifests, "windows/amd64").unwrap_err();
        assert!(
            e.to_string()
                .contains("it has: linux/arm64/v8, linux/amd64"),
            "{e}"
        );
    }

    #[test]
    fn image_manifests_and_schema_1() {
        let body = r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:c","size":10},
          "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:l","size":99}]}"#;
        let Manifest::Image { config, layers } = parse_manifest(body, Some(OCI_MANIFEST)).unwrap()
        else {
            panic!("an image")
        };
        assert_eq!(config.digest, "sha256:c");
        assert_eq!(layers[0].size, 99);
        assert!(is_gzip(&layers[0].media_type));
        assert!(parse_manifest(r#"{"schemaVersion":1}"#, None)
            .unwrap_err()
            .to_string()
            .contains("schema 1"));
    }

    #[test]
    fn config_entries_are_counted_without_parsing_them() {
        let c = br#"{"config":{"Env":["A=1","B=2"],"Labels":{"a":"1","b":"2","c":"3"},"Cmd":null,"Entrypoint":["sh"]},
          "history":[{"created_by":"x"},{}],"rootfs":{"diff_ids":["sha256:a"]}}"#;
        assert_eq!(config_entries(c).unwrap(), 8);
        assert_eq!(config_entries(br#"{"config":null}"#).unwrap(), 0);
        assert_eq!(config_entries(b"{}").unwrap(), 0);
        assert!(config_entries(b"[1,").is_err());
    }

    #[test]
    fn config_env_labels_user_history() {
        let c = ImageConfig::parse(br#"{"architecture":"amd64","os":"linux","config":{"User":"app","Env":["PATH=/bin","EMPTY"],"Labels":{"owner_team":"platform"}},
          "history":[{"created_by":"/bin/sh -c apt-get update && apt-get install -y curl","empty_layer":false}]}"#).unwrap();
        assert_eq!(c.config.user.as_deref(), Some("app"));
        assert_eq!(
            c.env(),
            [
                ("PATH".to_owned(), "/bin".to_owned()),
                ("EMPTY".to_owned(), String::new())
            ]
        );
        assert_eq!(c.config.labels.unwrap()["owner_team"], "platform");
        assert_eq!(c.history.len(), 1);
    }
}
