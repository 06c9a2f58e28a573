//! Continuous-scanning configurations of `little serve`: the ones declared in little.yaml
//! (read-only) and the ones added through the API, kept in a state file that is replaced
//! atomically (written to a new file of a random name beside it, flushed to disk, renamed
//! over it), so that a restart or a crash loses none and nothing planted beside it is
//! written through.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::project::config::ScanConfigFile;

/// The state file's format version.
pub const STATE_VERSION: u32 = 1;

/// Where a configuration came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Declared in little.yaml; changed only there.
    Config,
    /// Added through `POST /configs`.
    Api,
}

/// One scan configuration: which images of which repository to scan on every run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanConfig {
    pub id: String,
    pub region: String,
    /// The registry's account id; None: the default account's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    pub repository: String,
    /// None given: every tagged image.
    #[serde(default)]
    pub tags: Vec<String>,
    pub source: Source,
    /// When it was added through the API (RFC 3339, UTC); null for those declared in
    /// little.yaml and those a state file from before this field keeps.
    #[serde(default)]
    pub created: Option<String>,
}

/// The body of `POST /configs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewScanConfig {
    pub region: Option<String>,
    pub registry: Option<String>,
    pub repository: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    configs: Vec<ScanConfig>,
}

/// The configurations, with the file that keeps the API's ones.
#[derive(Debug)]
pub struct ConfigStore {
    path: PathBuf,
    declared: Vec<ScanConfig>,
    added: Vec<ScanConfig>,
}

/// A repository name as ECR allows it (lower case, digits, `._-/`, 2 to 256 characters).
fn valid_repository(name: &str) -> bool {
    (2..=256).contains(&name.len())
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/')
        })
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// A tag as ECR allows it (1 to 128 characters of `[A-Za-z0-9_.-]`, not starting with `.`
/// or `-`).
fn valid_tag(tag: &str) -> bool {
    (1..=128).contains(&tag.len())
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !tag.starts_with(['.', '-'])
}

fn valid_registry(registry: &str) -> bool {
    crate::aws::names::is_account_id(registry)
}

/// Checks a configuration's fields; the message names the field.
fn check(region: &str, registry: Option<&str>, repository: &str, tags: &[String]) -> Result<()> {
    crate::region::check(region).map_err(|why| Error::Usage(format!("`region`: {why}")))?;
    if let Some(r) = registry {
        if !valid_registry(r) {
            return Err(Error::Usage(format!(
                "`registry`: `{r}` is not a 12-digit account id"
            )));
        }
    }
    if !valid_repository(repository) {
        return Err(Error::Usage(format!(
            "`repository`: `{repository}` is not a repository name (lower case letters, digits and ._-/)"
        )));
    }
    if let Some(t) = tags.iter().find(|t| !valid_tag(t)) {
        return Err(Error::Usage(format!("`tags`: `{t}` is not an image tag")));
    }
    Ok(())
}

impl ConfigStore {
    /// The declared configurations (with `default_region` where they name none) and the ones
    /// of the state file at `path` (none when it does not exist yet).
    pub fn open(
        path: &Path,
        declared: &[ScanConfigFile],
        default_region: Option<&str>,
    ) -> Result<ConfigStore> {
        let mut ids = std::collections::BTreeSet::new();
        let mut list = Vec::new();
        for (i, d) in declared.iter().enumerate() {
            let id = d.id.clone().unwrap_or_else(|| format!("yaml-{}", i + 1));
            let region = d
                .region
                .clone()
                .or_else(|| default_region.map(str::to_owned))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "`audit.scan_configs[{i}]` names no region and little.yaml has no `defaults.region`"
                    ))
                })?;
            let registry = d.registry.as_ref().map(|r| r.to_string());
            check(&region, registry.as_deref(), &d.repository, &d.tags)
                .map_err(|e| Error::Usage(format!("`audit.scan_configs[{i}]`: {e}")))?;
            if !ids.insert(id.clone()) {
                return Err(Error::Usage(format!(
                    "`audit.scan_configs[{i}]`: the id `{id}` is used twice"
                )));
            }
            list.push(ScanConfig {
                id,
                region,
                registry,
                repository: d.repository.clone(),
                tags: d.tags.clone(),
                source: Source::Config,
                created: None,
            });
        }
        let added = match std::fs::read(path) {
            Ok(bytes) => {
                let state: StateFile = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Usage(format!(
                        "the serve state file `{}` is not valid: {e} (line {}, column {})",
                        path.display(),
                        e.line(),
                        e.column()
                    ))
                })?;
                if state.version != STATE_VERSION {
                    return Err(Error::Usage(format!(
                        "the serve state file `{}` has version {}; this little reads version {STATE_VERSION}",
                        path.display(),
                        state.version
                    )));
                }
                state.configs
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(Error::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        Ok(ConfigStore {
            path: path.to_owned(),
            declared: list,
            added,
        })
    }

    /// Every configuration: the declared ones, then the added ones in the order of adding.
    pub fn list(&self) -> Vec<ScanConfig> {
        self.declared
            .iter()
            .chain(self.added.iter())
            .cloned()
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<&ScanConfig> {
        self.declared
            .iter()
            .chain(self.added.iter())
            .find(|c| c.id == id)
    }

    /// Adds a configuration and saves the file; returns it with its new id.
    pub fn add(&mut self, new: NewScanConfig, default_region: Option<&str>) -> Result<ScanConfig> {
        let region = new
            .region
            .or_else(|| default_region.map(str::to_owned))
            .ok_or_else(|| {
                Error::Usage("`region` is required (little.yaml has no default)".into())
            })?;
        check(&region, new.registry.as_deref(), &new.repository, &new.tags)?;
        let mut config = ScanConfig {
            id: String::new(),
            region,
            registry: new.registry,
            repository: new.repository,
            tags: new.tags,
            source: Source::Api,
            created: Some(crate::time::rfc3339_utc(crate::time::now())),
        };
        config.id = self.new_id(&config);
        self.added.push(config.clone());
        if let Err(e) = self.save() {
            self.added.pop();
            return Err(e);
        }
        Ok(config)
    }

    /// Deletes an added configuration and saves the file. `Ok(false)`: no such id.
    /// A declared configuration cannot be deleted here.
    pub fn delete(&mut self, id: &str) -> Result<bool> {
        if self.declared.iter().any(|c| c.id == id) {
            return Err(Error::Refused(format!(
                "scan configuration `{id}` is declared in little.yaml; remove it there"
            )));
        }
        let Some(index) = self.added.iter().position(|c| c.id == id) else {
            return Ok(false);
        };
        let removed = self.added.remove(index);
        if let Err(e) = self.save() {
            self.added.insert(index, removed);
            return Err(e);
        }
        Ok(true)
    }

    /// An id no configuration has: 12 hex digits of a hash of the configuration and the time.
    fn new_id(&self, config: &ScanConfig) -> String {
        let nanos = crate::time::now_nanos();
        let mut salt = 0u32;
        loop {
            let mut h = Sha256::new();
            h.update(config.region.as_bytes());
            h.update(config.repository.as_bytes());
            h.update(config.tags.join(",").as_bytes());
            h.update(nanos.to_le_bytes());
            h.update(salt.to_le_bytes());
            h.update(std::process::id().to_le_bytes());
            let id = hex::encode(&h.finalize()[..6]);
            if self.get(&id).is_none() {
                return id;
            }
            salt += 1;
        }
    }

    /// Replaces the state file atomically: a new temporary file beside it (created, never
    /// opened if something is already there, under a random name), flushed, renamed over it,
    /// and the directory flushed. A symlink planted at the state file's path is replaced, not
    /// followed.
    fn save(&self) -> Result<()> {
        let state = StateFile {
            version: STATE_VERSION,
            configs: self.added.clone(),
        };
        let mut text =
            serde_json::to_vec_pretty(&state).map_err(|e| Error::Internal(e.to_string()))?;
        text.push(b'\n');
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let write_err = |source| Error::Write {
            path: self.path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(write_err)?;
        let file_name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "serve-state.json".into());
        let names = std::iter::repeat_with(|| random_hex(16)).take(TEMP_ATTEMPTS);
        replace_file(dir, &file_name, &self.path, &text, names).map_err(write_err)
    }
}

/// How many random names a temporary file gets before giving up (a name is taken only by
/// chance, or by something planted there).
const TEMP_ATTEMPTS: usize = 8;

/// `bytes` random bytes from the operating system, in hex; a fallback of the time and the
/// process id if it has none to give (the file is still created exclusively).
fn random_hex(bytes: usize) -> Option<String> {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; bytes];
    ring::rand::SystemRandom::new().fill(&mut buf).ok()?;
    Some(hex::encode(buf))
}

/// Writes `text` to a new file in `dir` named `.{file_name}.{name}.tmp` for the first of
/// `names` that nothing holds yet (`create_new`: O_CREAT|O_EXCL, which never follows a
/// symlink), flushes it, and renames it over `target`.
fn replace_file(
    dir: &Path,
    file_name: &str,
    target: &Path,
    text: &[u8],
    names: impl Iterator<Item = Option<String>>,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut last = None;
    for name in names {
        let Some(name) = name else {
            return Err(std::io::Error::other(
                "the operating system gave no random numbers for a temporary file's name",
            ));
        };
        let temp = dir.join(format!(".{file_name}.{name}.tmp"));
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let result = file
            .write_all(text)
            .and_then(|_| file.sync_all())
            .and_then(|_| std::fs::rename(&temp, target));
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        return Ok(());
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no name for a temporary file")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(repository: &str, tags: &[&str]) -> NewScanConfig {
        NewScanConfig {
            region: None,
            registry: None,
            repository: repository.into(),
            tags: tags.iter().map(|t| (*t).into()).collect(),
        }
    }

    fn declared() -> Vec<ScanConfigFile> {
        vec![ScanConfigFile {
            id: None,
            region: None,
            registry: None,
            repository: "team/api".into(),
            tags: vec!["v1".into()],
        }]
    }

    #[test]
    fn added_configurations_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/serve.json");
        let mut store = ConfigStore::open(&path, &declared(), Some("eu-west-1")).unwrap();
        let a = store.add(new("team/web", &[]), Some("eu-west-1")).unwrap();
        let b = store
            .add(new("team/worker", &["latest"]), Some("eu-west-1"))
            .unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.len(), 12);
        let reopened = ConfigStore::open(&path, &declared(), Some("eu-west-1")).unwrap();
        let ids: Vec<String> = reopened.list().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["yaml-1".to_owned(), a.id.clone(), b.id.clone()]);
        assert_eq!(reopened.get(&b.id).unwrap().tags, ["latest"]);
        // `created` is kept with the configuration.
        let created = a
            .created
            .clone()
            .expect("an added configuration has its time");
        assert!(crate::time::parse_rfc3339(&created).is_some(), "{created}");
        assert_eq!(reopened.get(&a.id).unwrap().created, a.created);
        assert_eq!(reopened.get("yaml-1").unwrap().created, None);
        assert_eq!(reopened.get("yaml-1").unwrap().source, Source::Config);
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["serve.json"]);
    }

    #[test]
    fn delete_removes_only_added_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serve.json");
        let mut store = ConfigStore::open(&path, &declared(), Some("eu-west-1")).unwrap();
        let a = store.add(new("team/web", &[]), Some("eu-west-1")).unwrap();
        assert!(matches!(store.delete("yaml-1"), Err(Error::Refused(_))));
        assert!(!store.delete("nope").unwrap());
        assert!(store.delete(&a.id).unwrap());
        let reopened = ConfigStore::open(&path, &declared(), Some("eu-west-1")).unwrap();
        assert_eq!(reopened.list().len(), 1);
    }

    #[test]
    fn bad_fields_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            ConfigStore::open(&dir.path().join("s.json"), &[], Some("eu-west-1")).unwrap();
        let e = store
            .add(new("Team/API", &[]), Some("eu-west-1"))
            .unwrap_err();
        assert!(e.to_string().starts_with("`repository`: `Team/API`"), "{e}");
        let e = store
            .add(new("team/api", &["-bad"]), Some("eu-west-1"))
            .unwrap_err();
        assert!(e.to_string().starts_with("`tags`: `-bad`"), "{e}");
        let mut bad_registry = new("team/api", &[]);
        bad_registry.registry = Some("12345".into());
        let e = store.add(bad_registry, Some("eu-west-1")).unwrap_err();
        assert!(e.to_string().contains("12-digit"), "{e}");
        let e = ConfigStore::open(&dir.path().join("t.json"), &declared(), None).unwrap_err();
        assert!(e.to_string().contains("names no region"), "{e}");
        assert!(store.list().is_empty(), "nothing was added");
    }

    #[test]
    fn a_state_file_from_before_created_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(
            &path,
            r#"{"version": 1, "configs": [{"id": "0123456789ab", "region": "eu-west-1", "repository": "team/old", "tags": [], "source": "api"}]}"#,
        )
        .unwrap();
        let mut store = ConfigStore::open(&path, &[], Some("eu-west-1")).unwrap();
        let old = store.get("0123456789ab").unwrap().clone();
        assert_eq!(old.created, None);
        assert_eq!(
            serde_json::to_value(&old).unwrap()["created"],
            serde_json::Value::Null
        );
        // Saved again with the next change, still without a time of its own.
        store.add(new("team/new", &[]), Some("eu-west-1")).unwrap();
        let reopened = ConfigStore::open(&path, &[], Some("eu-west-1")).unwrap();
        assert_eq!(reopened.get("0123456789ab").unwrap().created, None);
        assert!(reopened.list()[1].created.is_some());
    }

    #[test]
    fn a_damaged_state_file_is_an_error_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, "{\"version\": 1,\n \"configs\": [oops]}").unwrap();
        let e = ConfigStore::open(&path, &[], Some("eu-west-1")).unwrap_err();
        assert!(e.to_string().contains("line 2, column"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        let target = state.join("serve.json");
        // A symlink at the name the next temporary file takes: skipped, not followed.
        std::os::unix::fs::symlink(&victim, state.join(".serve.json.a.tmp")).unwrap();
        let names = ["a", "b"].map(|n| Some(n.to_owned())).into_iter();
        replace_file(&state, "serve.json", &target, b"{}\n", names).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}\n");
        assert!(!state.join(".serve.json.b.tmp").exists());
        // Every name taken: an error, and still nothing written through the link.
        let names = ["a"].map(|n| Some(n.to_owned())).into_iter();
        let e = replace_file(&state, "serve.json", &target, b"[]\n", names).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");

        // The store: a link at the old predictable name and one at the state file itself.
        let pid_name = format!(".serve.json.{}.tmp", std::process::id());
        std::os::unix::fs::symlink(&victim, state.join(pid_name)).unwrap();
        std::fs::remove_file(&target).unwrap();
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        std::fs::write(&victim, "{\"version\": 1, \"configs\": []}\n").unwrap();
        let before = std::fs::read_to_string(&victim).unwrap();
        let mut store = ConfigStore::open(&target, &[], Some("eu-west-1")).unwrap();
        store.add(new("team/web", &[]), Some("eu-west-1")).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), before);
        assert!(!std::fs::symlink_metadata(&target)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::read_to_string(&target)
            .unwrap()
            .contains("team/web"));
        let temp_names: Vec<String> = std::fs::read_dir(&state)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp") && n != ".serve.json.a.tmp")
            .collect();
        assert_eq!(temp_names.len(), 1, "only the planted link: {temp_names:?}");
        // Random names: 32 hex digits, never the same twice.
        let (a, b) = (random_hex(16).unwrap(), random_hex(16).unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
