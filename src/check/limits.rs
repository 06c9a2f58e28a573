//! The bounds of reading an image (`check.limits` in little.yaml) and what happens when an
//! image breaks one: images are pushed by anyone with push rights, so every size, count and
//! duration the reader depends on has a limit, and an image over a limit (or whose blobs do
//! not match their digests, or that is not well-formed, or that is not read in time) becomes
//! a failed check of its report ([`Problem`]), never a crash or an unbounded allocation.
//! The reading itself is in [`super::layers`], [`super::tarstream`] and [`super::registry`].

use std::io::{self, Read};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer};

use super::rules::{CheckResult, Level, Outcome};
use crate::error::Error;
use crate::text::thousands;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// `check.limits`: what one image may make `little check` read, keep and wait for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The longest entry name or link target in a layer, in bytes (a GNU long name or long
    /// link, a PAX `path` or `linkpath`) [default: 4096].
    pub max_name_bytes: u64,
    /// The largest PAX extended header (and GNU sparse map) of one entry, in bytes
    /// [default: 1 MiB].
    pub max_header_bytes: u64,
    /// Tar headers in one layer [default: 1,000,000].
    pub max_entries_per_layer: u64,
    /// Files kept for the checks (os-release, passwd, JDK release files, ...) at once
    /// [default: 256].
    pub max_kept_files: u64,
    /// Their total size, in bytes [default: 16 MiB].
    pub max_kept_bytes: u64,
    /// The largest image config, in bytes [default: 4 MiB].
    pub max_config_bytes: u64,
    /// Environment variables, labels, entrypoint and command words and build-history steps
    /// of the image config, together [default: 10,000].
    pub max_config_entries: u64,
    /// Decompressed bytes of one layer [default: 16 GiB].
    pub max_layer_bytes: u64,
    /// Decompressed bytes of all the layers of an image [default: 32 GiB].
    pub max_image_bytes: u64,
    /// Paths whose sizes the efficiency figure follows across layers; past it the wasted
    /// bytes are a lower bound (a note says so, the image does not fail) [default: 200,000].
    pub max_tracked_paths: u64,
    /// The bytes of those paths together [default: 8 MiB].
    pub max_tracked_path_bytes: u64,
    /// The largest JAR (or WAR, EAR) read to find the libraries in it; a larger one is
    /// judged by its file name only [default: 16 MiB].
    pub max_archive_bytes: u64,
    /// Libraries (JARs) kept for the `libraries` check; past it the rest are not judged (a
    /// note says so) [default: 2,000].
    pub max_libraries: u64,
    /// How long reading one image may take, from its manifest to its last layer: `90s`, `10m`
    /// [default: 10m].
    #[serde(deserialize_with = "duration")]
    #[schemars(with = "String", extend("default" = "10m"))]
    pub max_duration: Duration,
    /// How long the registry may keep the next bytes of an answer waiting (its headers, or
    /// the next part of a body) before the image fails as not read in time [default: 60s].
    #[serde(deserialize_with = "duration")]
    #[schemars(with = "String", extend("default" = "60s"))]
    pub read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_name_bytes: 4096,
            max_header_bytes: MIB,
            max_entries_per_layer: 1_000_000,
            max_kept_files: 256,
            max_kept_bytes: 16 * MIB,
            max_config_bytes: 4 * MIB,
            max_config_entries: 10_000,
            max_layer_bytes: 16 * GIB,
            max_image_bytes: 32 * GIB,
            max_tracked_paths: 200_000,
            max_tracked_path_bytes: 8 * MIB,
            max_archive_bytes: 16 * MIB,
            max_libraries: 2_000,
            max_duration: Duration::from_secs(600),
            read_timeout: Duration::from_secs(60),
        }
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    crate::duration::parse(&text).map_err(serde::de::Error::custom)
}

/// A limit and what broke it, for [`Problem::Limit`].
pub fn over(key: &'static str, limit: u64, what: String) -> Problem {
    Problem::Limit {
        key,
        limit: thousands(limit),
        what,
    }
}

/// Why an image was not read to the end. Each is a failed check of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A limit of `check.limits` (`key`, whose value is `limit`) was exceeded: `what`.
    Limit {
        key: &'static str,
        limit: String,
        what: String,
    },
    /// A blob or manifest that does not match its digest, or a digest that names an
    /// algorithm that is not verified.
    Digest(String),
    /// A blob that is not what it should be: a corrupt tar or gzip stream, a config or
    /// manifest that is not valid.
    Malformed(String),
    /// Not read in time: a registry that stopped sending, or `check.limits.max_duration`.
    Timeout(String),
}

/// The id of the check of [`Problem::Timeout`]; `--enforce` never deletes an image for it
/// alone (a slow registry says nothing about the image).
pub const TIMEOUT_CHECK: &str = "image.timeout";

impl Problem {
    /// The problem, said to be in `place` (such as `layer 2 of 3 (sha256:...)`).
    pub fn at(self, place: &str) -> Problem {
        match self {
            Problem::Limit { key, limit, what } => Problem::Limit {
                key,
                limit,
                what: format!("{place}: {what}"),
            },
            Problem::Malformed(m) => Problem::Malformed(format!("{place}: {m}")),
            // Digest and timeout messages name the blob already.
            other => other,
        }
    }

    /// The failed check of the report.
    pub fn check_result(&self) -> CheckResult {
        let (id, title, summary) = match self {
            Problem::Limit { key, limit, what } => (
                "image.limit-exceeded",
                "Image within the reading limits",
                format!("{what}: over `check.limits.{key}` ({limit})"),
            ),
            Problem::Digest(m) => (
                "image.digest",
                "Manifests and blobs match their digests",
                m.clone(),
            ),
            Problem::Malformed(m) => ("image.malformed", "Image is well-formed", m.clone()),
            Problem::Timeout(m) => (TIMEOUT_CHECK, "Image read in time", m.clone()),
        };
        CheckResult {
            id: id.into(),
            title: title.into(),
            outcome: Outcome::Fail,
            severity: Level::Fail,
            summary,
            details: vec![
                "the image was not read to the end, so the other checks were not run".into(),
            ],
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.check_result().summary)
    }
}

/// Why reading an image stopped: a [`Problem`] of the image (reported as a failed check), or
/// an error of the tool, AWS or the registry (such as an HTTP 500 or a refused connection),
/// which fails the command (the worker leaves the message to be received again).
#[derive(Debug)]
pub enum Stop {
    Problem(Problem),
    Error(Error),
}

impl From<Problem> for Stop {
    fn from(p: Problem) -> Self {
        Stop::Problem(p)
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Error(e)
    }
}

/// The message of a [`Problem::Timeout`] for `check.limits.max_duration`.
pub fn out_of_time(limits: &Limits) -> Problem {
    Problem::Timeout(format!(
        "the image was not read within `check.limits.max_duration` ({})",
        crate::duration::human(limits.max_duration)
    ))
}

/// A reader of a layer's decompressed bytes that counts them against `max_layer_bytes` and
/// (with what earlier layers had) `max_image_bytes`, and stops at the image's deadline: a
/// gzip bomb or a slow stream ends as a [`Problem`] in `tripped`, the read as an I/O error.
pub struct Budget<'a, R: Read> {
    inner: R,
    limits: &'a Limits,
    /// Decompressed bytes of this layer so far.
    pub layer: u64,
    image_before: u64,
    deadline: Instant,
    pub tripped: Option<Problem>,
}

impl<'a, R: Read> Budget<'a, R> {
    pub fn new(inner: R, limits: &'a Limits, image_before: u64, deadline: Instant) -> Self {
        Budget {
            inner,
            limits,
            layer: 0,
            image_before,
            deadline,
            tripped: None,
        }
    }

    fn trip(&mut self, p: Problem) -> io::Error {
        let e = io::Error::other(p.to_string());
        self.tripped = Some(p);
        e
    }
}

impl<R: Read> Read for Budget<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(p) = &self.tripped {
            return Err(io::Error::other(p.to_string()));
        }
        if Instant::now() >= self.deadline {
            let p = out_of_time(self.limits);
            return Err(self.trip(p));
        }
        let n = self.inner.read(buf)?;
        self.layer += n as u64;
        if self.layer > self.limits.max_layer_bytes {
            let p = over(
                "max_layer_bytes",
                self.limits.max_layer_bytes,
                format!(
                    "more than {} bytes decompressed",
                    thousands(self.limits.max_layer_bytes)
                ),
            );
            return Err(self.trip(p));
        }
        if self.image_before + self.layer > self.limits.max_image_bytes {
            let p = over(
                "max_image_bytes",
                self.limits.max_image_bytes,
                format!(
                    "more than {} bytes decompressed in all layers",
                    thousands(self.limits.max_image_bytes)
                ),
            );
            return Err(self.trip(p));
        }
        Ok(n)
    }
}

/// The digest algorithms verified: those the OCI image spec registers for interoperable use.
pub const ALGORITHMS: [&str; 2] = ["sha256", "sha512"];

/// Checks a digest's form (`sha256:` and 64 lowercase hex digits, `sha512:` and 128) before
/// it is used in a URL or a comparison; an algorithm other than those of [`ALGORITHMS`] is
/// refused.
pub fn parse_digest(digest: &str) -> Result<(&str, &str), Problem> {
    let shown: String = digest.chars().take(80).collect();
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(Problem::Digest(format!(
            "`{shown}` is not a digest (ALGORITHM:HEX)"
        )));
    };
    let length = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => {
            let algo: String = algorithm.chars().take(40).collect();
            return Err(Problem::Digest(format!(
                "the digest `{shown}` names the algorithm `{algo}`, which is not verified (only {} are)",
                ALGORITHMS.join(" and ")
            )));
        }
    };
    if hex.len() != length
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(Problem::Digest(format!(
            "the digest `{shown}` is not {algorithm}: and {length} lowercase hex digits"
        )));
    }
    Ok((algorithm, hex))
}

/// A running hash of one of [`ALGORITHMS`].
pub enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A hasher for `digest`, whose form is checked first.
    pub fn for_digest(digest: &str) -> Result<Hasher, Problem> {
        use sha2::Digest;
        Ok(match parse_digest(digest)?.0 {
            "sha512" => Hasher::Sha512(sha2::Sha512::new()),
            _ => Hasher::Sha256(sha2::Sha256::new()),
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        use sha2::Digest;
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// `Ok` when what was hashed is `digest`.
    pub fn verify(self, digest: &str, what: &str) -> Result<(), Problem> {
        use sha2::Digest;
        let actual = match self {
            Hasher::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            Hasher::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize())),
        };
        if actual == digest {
            Ok(())
        } else {
            Err(Problem::Digest(format!(
                "{what} does not match its digest {digest} (its content is {actual})"
            )))
        }
    }
}

/// Verifies a whole document (a manifest) against `digest`.
pub fn verify_bytes(bytes: &[u8], digest: &str, what: &str) -> Result<(), Problem> {
    let mut h = Hasher::for_digest(digest)?;
    h.update(bytes);
    h.verify(digest, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_with_defaults_and_refuse_unknown_keys() {
        let l: Limits = serde_norway::from_str("max_name_bytes: 100\nmax_duration: 90s\n").unwrap();
        assert_eq!(l.max_name_bytes, 100);
        assert_eq!(l.max_duration, Duration::from_secs(90));
        assert_eq!(l.read_timeout, Duration::from_secs(60));
        assert_eq!(l.max_kept_files, 256);
        let e = serde_norway::from_str::<Limits>("max_names: 1\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `max_names`"), "{e}");
        let e = serde_norway::from_str::<Limits>("read_timeout: soon\n").unwrap_err();
        assert!(e.to_string().contains("`soon` is not a duration"), "{e}");
    }

    #[test]
    fn digests_of_each_algorithm_are_verified() {
        use sha2::Digest;
        let body = b"{\"schemaVersion\":2}";
        let d256 = format!("sha256:{}", hex::encode(sha2::Sha256::digest(body)));
        let d512 = format!("sha512:{}", hex::encode(sha2::Sha512::digest(body)));
        verify_bytes(body, &d256, "the manifest").unwrap();
        verify_bytes(body, &d512, "the manifest").unwrap();
        let wrong = format!("sha512:{}", "0".repeat(128));
        let e = verify_bytes(body, &wrong, "the manifest").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("the manifest does not match its digest {wrong} (its content is {d512})")
        );
        let e = verify_bytes(body, "md5:d41d8cd98f00b204e9800998ecf8427e", "x").unwrap_err();
        assert_eq!(
            e.check_result().id,
            "image.digest",
            "an unknown algorithm is a digest finding"
        );
        assert!(
            e.to_string().contains(
                "names the algorithm `md5`, which is not verified (only sha256 and sha512 are)"
            ),
            "{e}"
        );
        for bad in [
            "sha256:ABC",
            "sha256:../../etc",
            "nocolon",
            &format!("sha256:{}", "a".repeat(128)),
        ] {
            assert!(parse_digest(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_budget_stops_a_bomb_and_a_slow_layer() {
        let limits = Limits {
            max_layer_bytes: 1000,
            max_image_bytes: 1500,
            ..Limits::default()
        };
        let far = Instant::now() + Duration::from_secs(600);
        let zeros = vec![0u8; 5000];
        let mut b = Budget::new(&zeros[..], &limits, 0, far);
        assert!(io::copy(&mut b, &mut io::sink()).is_err());
        assert_eq!(
            b.tripped.unwrap().to_string(),
            "more than 1,000 bytes decompressed: over `check.limits.max_layer_bytes` (1,000)"
        );
        let mut b = Budget::new(&zeros[..800], &limits, 800, far);
        assert!(io::copy(&mut b, &mut io::sink()).is_err());
        assert!(b
            .tripped
            .unwrap()
            .to_string()
            .ends_with("over `check.limits.max_image_bytes` (1,500)"));
        let mut b = Budget::new(&zeros[..800], &limits, 0, far);
        assert_eq!(io::copy(&mut b, &mut io::sink()).unwrap(), 800);
        assert!(b.tripped.is_none());
        let mut b = Budget::new(&zeros[..], &limits, 0, Instant::now());
        assert!(io::copy(&mut b, &mut io::sink()).is_err());
        assert_eq!(b.tripped.unwrap().check_result().id, TIMEOUT_CHECK);
    }

    #[test]
    fn problems_are_failed_checks_that_name_the_limit() {
        let p = over(
            "max_name_bytes",
            4096,
            "layer 1: an entry name of 1,048,576 bytes".into(),
        );
        let r = p.check_result();
        assert_eq!(r.id, "image.limit-exceeded");
        assert_eq!(r.outcome, Outcome::Fail);
        assert_eq!(
            r.summary,
            "layer 1: an entry name of 1,048,576 bytes: over `check.limits.max_name_bytes` (4,096)"
        );
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(17_179_869_184), "17,179,869,184");
    }
}
