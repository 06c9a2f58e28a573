//! `little check` against images built to hurt it, and registries that misbehave: a layer
//! with a huge GNU long name, one with thousands of files the checks keep, a gzip bomb, a
//! registry that stalls mid-body or drips, an endless error body, blobs under sha512 and
//! unknown digests, JARs of 16 MiB naming thousands of nested JARs beside 60,000 long paths,
//! and secrets in the environment, labels and build history. Each ends with
//! a finding (or a clear error), no panic, and a peak memory (`-v`'s VmHWM) under 128 MB.
//!
//! The misbehaving registry is a small HTTP server on loopback in this process; the images'
//! manifests are in ECR on the emulator as for the other `check` tests.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::runtime::Runtime;

use super::{
    digest, digest512, layer, outcomes, pipeline, project, push_blob, push_blob_as, push_event,
    push_image, push_manifest, receive_all, registry, send,
};
use crate::cfn::emulator_config;
use crate::harness::{Emulator, Output, TestProject};

/// The bound every hostile image must stay under.
const PEAK_LIMIT_KIB: u64 = 128 * 1000 * 1000 / 1024;

/// `-v`'s "peak memory: N kB".
fn peak_kib(out: &Output) -> u64 {
    out.stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak memory: "))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in:\n{}", out.stderr))
}

#[track_caller]
fn bounded(out: &Output) {
    let peak = peak_kib(out);
    assert!(
        peak < PEAK_LIMIT_KIB,
        "peak memory {peak} kB is not under 128 MB\n{}",
        out.stderr
    );
}

/// The failed check that stopped the reading: (id, summary).
fn stopped_by(report: &Value) -> (String, String) {
    let first = &report["checks"][0];
    assert_eq!(report["outcome"], "fail", "{report:#}");
    assert_eq!(first["outcome"], "fail", "{report:#}");
    for other in report["checks"].as_array().unwrap().iter().skip(1) {
        assert_eq!(other["outcome"], "skipped", "{report:#}");
    }
    (
        first["id"].as_str().unwrap().to_owned(),
        first["summary"].as_str().unwrap().to_owned(),
    )
}

const CONFIG: &str = r#"{"architecture":"amd64","os":"linux","config":{"User":"app"}}"#;

fn config() -> Value {
    serde_json::from_str(CONFIG).unwrap()
}

/// A layer holding one entry whose GNU long name is `name_len` bytes, then os-release;
/// written straight into the compressor, as a crafted layer would be.
fn long_name_layer(name_len: u64) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut h = tar::Header::new_gnu();
    h.set_path("././@LongLink").unwrap();
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(name_len + 1);
    h.set_mode(0o644);
    h.set_cksum();
    gz.write_all(h.as_bytes()).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let mut left = name_len;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        gz.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    gz.write_all(&[0]).unwrap();
    let pad = (512 - (name_len + 1) % 512) % 512;
    gz.write_all(&vec![0; pad as usize]).unwrap();
    let content = b"ID=debian\n";
    let mut h = tar::Header::new_gnu();
    h.set_path("etc/os-release").unwrap();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    gz.write_all(h.as_bytes()).unwrap();
    gz.write_all(content).unwrap();
    gz.write_all(&[0; 512 - 10 + 1024]).unwrap();
    gz.finish().unwrap()
}

/// A layer with one file of `size` zero bytes: a gzip bomb (about 1,000:1).
fn zeros_layer(size: u64) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut h = tar::Header::new_gnu();
    h.set_path("opt/zeros").unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    gz.write_all(h.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        gz.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    gz.write_all(&[0; 1024]).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_huge_gnu_long_name_fails_the_image_in_bounded_memory() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    let crafted = long_name_layer(256 << 20);
    assert!(crafted.len() < 1 << 20, "{} bytes", crafted.len());
    push_image(&rt, &ecr, "evil/longname", "v1", &[crafted], config());
    let p = project(&emulator, "");
    let started = Instant::now();
    let out = p.run(&["-v", "check", "evil/longname:v1", "--format", "json"]);
    out.code(2);
    bounded(&out);
    let (id, summary) = stopped_by(&out.json());
    assert_eq!(id, "image.limit-exceeded");
    assert!(summary.starts_with("layer 1 of 1 (sha256:"), "{summary}");
    assert!(
        summary.ends_with(
            "a GNU long name of 268,435,457 bytes: over `check.limits.max_name_bytes` (4,096)"
        ),
        "{summary}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn thousands_of_kept_files_fail_the_image_in_bounded_memory() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    // 2,000 JDK release files of 10 KB each (a crafted layer of a few hundred KB).
    let big = format!("JAVA_VERSION=\"11\"\n{}", "#".repeat(10_000));
    let paths: Vec<String> = (0..2000)
        .map(|i| format!("usr/lib/jvm/java-{i}/release"))
        .collect();
    let files: Vec<(&str, &str)> = paths.iter().map(|p| (p.as_str(), big.as_str())).collect();
    let crafted = layer(&files);
    assert!(crafted.len() < 1 << 20, "{} bytes", crafted.len());
    push_image(&rt, &ecr, "evil/kept", "v1", &[crafted], config());
    let p = project(&emulator, "");
    let out = p.run(&["-v", "check", "evil/kept:v1", "--format", "json"]);
    out.code(2);
    bounded(&out);
    let (id, summary) = stopped_by(&out.json());
    assert_eq!(id, "image.limit-exceeded");
    assert!(
        summary.ends_with("more than 256 files the checks read (such as JDK release files): over `check.limits.max_kept_files` (256)"),
        "{summary}"
    );
    // Their size is a limit of its own.
    let p = project(&emulator, "  limits:\n    max_kept_files: 5000\n");
    let out = p.run(&["-v", "check", "evil/kept:v1", "--format", "json"]);
    out.code(2);
    bounded(&out);
    let (_, summary) = stopped_by(&out.json());
    assert!(
        summary.ends_with(
            "bytes of files the checks read: over `check.limits.max_kept_bytes` (16,777,216)"
        ),
        "{summary}"
    );
}

#[test]
fn a_gzip_bomb_stops_at_the_decompression_limits() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    let bomb = zeros_layer(256 << 20);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    push_image(&rt, &ecr, "evil/bomb", "v1", &[bomb], config());
    let p = project(&emulator, "  limits:\n    max_layer_bytes: 33554432\n");
    let out = p.run(&["-v", "check", "evil/bomb:v1", "--format", "json"]);
    out.code(2);
    bounded(&out);
    let (id, summary) = stopped_by(&out.json());
    assert_eq!(id, "image.limit-exceeded");
    assert!(
        summary.ends_with("more than 33,554,432 bytes decompressed: over `check.limits.max_layer_bytes` (33,554,432)"),
        "{summary}"
    );

    // Two layers within the layer limit, over the image limit together.
    push_image(
        &rt,
        &ecr,
        "evil/bombs",
        "v1",
        &[zeros_layer(20 << 20), zeros_layer(20 << 20)],
        config(),
    );
    let p = project(
        &emulator,
        "  limits:\n    max_layer_bytes: 33554432\n    max_image_bytes: 33554432\n",
    );
    let out = p.run(&["check", "evil/bombs:v1", "--format", "json"]);
    out.code(2);
    let (_, summary) = stopped_by(&out.json());
    assert!(summary.starts_with("layer 2 of 2 (sha256:"), "{summary}");
    assert!(
        summary.ends_with("over `check.limits.max_image_bytes` (33,554,432)"),
        "{summary}"
    );
    // Within the defaults the same image is read.
    plain_project(&emulator)
        .run(&["check", "evil/bombs:v1", "--format", "json"])
        .success();
}

#[test]
fn a_config_over_its_limits_fails_the_image() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    let small = layer(&[("etc/os-release", "ID=debian\n")]);
    // Many tiny entries: each costs far more than its bytes once in a report.
    let env: Vec<String> = (0..20_000).map(|i| format!("A{i}=1")).collect();
    push_image(
        &rt,
        &ecr,
        "evil/entries",
        "v1",
        std::slice::from_ref(&small),
        json!({"architecture": "amd64", "os": "linux", "config": {"Env": env}, "history": [{}, {}]}),
    );
    let p = project(&emulator, "");
    let out = p.run(&["-v", "check", "evil/entries:v1", "--format", "json"]);
    out.code(2);
    bounded(&out);
    let (id, summary) = stopped_by(&out.json());
    assert_eq!(id, "image.limit-exceeded");
    assert_eq!(
        summary,
        "the image config has 20,002 environment variables, labels, command words and build steps: over `check.limits.max_config_entries` (10,000)"
    );
    // A config over its size, refused from its descriptor before it is fetched.
    let label = "x".repeat(5 << 20);
    push_image(
        &rt,
        &ecr,
        "evil/config",
        "v1",
        &[small],
        json!({"architecture": "amd64", "os": "linux", "config": {"Labels": {"big": label}}}),
    );
    let out = p.run(&["check", "evil/config:v1", "--format", "json"]);
    out.code(2);
    let (id, summary) = stopped_by(&out.json());
    assert_eq!(id, "image.limit-exceeded");
    assert!(
        summary.ends_with("bytes or more: over `check.limits.max_config_bytes` (4,194,304)"),
        "{summary}"
    );
}

/// How the fake registry answers a path.
#[derive(Clone)]
enum Answer {
    Blob(Vec<u8>),
    /// The headers and the first `n` bytes of the body, then nothing more.
    StallAfter(Vec<u8>, usize),
    /// One byte at a time, every `Duration`.
    Drip(Vec<u8>, Duration),
    /// HTTP 500 with a body that never ends.
    EndlessError,
}

/// A registry on loopback that answers GETs of `routes` as they say, and keeps the bodies of
/// POSTs (webhooks) by path.
struct FakeServer {
    port: u16,
    posts: Arc<Mutex<Vec<(String, String)>>>,
}

impl FakeServer {
    fn start(routes: HashMap<String, Answer>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let posts = Arc::new(Mutex::new(Vec::new()));
        let kept = posts.clone();
        let routes = Arc::new(routes);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let routes = routes.clone();
                let posts = kept.clone();
                std::thread::spawn(move || {
                    let _ = answer(stream, &routes, &posts);
                });
            }
        });
        FakeServer { port, posts }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn answer(
    mut stream: TcpStream,
    routes: &HashMap<String, Answer>,
    posts: &Mutex<Vec<(String, String)>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut parts = request.split_whitespace();
    let method = parts.next().unwrap_or("");
    let path = parts
        .next()
        .unwrap_or("")
        .split('?')
        .next()
        .unwrap_or("")
        .to_owned();
    if method == "POST" {
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        posts
            .lock()
            .unwrap()
            .push((path, String::from_utf8_lossy(&body).into_owned()));
        return stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    }
    let head = |n: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n")
    };
    match routes.get(&path) {
        None => stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        ),
        Some(Answer::Blob(b)) => {
            stream.write_all(head(b.len()).as_bytes())?;
            stream.write_all(b)
        }
        Some(Answer::StallAfter(b, n)) => {
            stream.write_all(head(b.len()).as_bytes())?;
            stream.write_all(&b[..*n])?;
            stream.flush()?;
            std::thread::sleep(Duration::from_secs(120));
            Ok(())
        }
        Some(Answer::Drip(b, every)) => {
            stream.write_all(head(b.len()).as_bytes())?;
            for byte in b {
                stream.write_all(&[*byte])?;
                stream.flush()?;
                std::thread::sleep(*every);
            }
            Ok(())
        }
        Some(Answer::EndlessError) => {
            stream.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")?;
            let chunk = format!("10000\r\n{}\r\n", "E".repeat(0x10000));
            loop {
                stream.write_all(chunk.as_bytes())?;
            }
        }
    }
}

/// An image whose config and layers only `server` has (the manifest goes to ECR); the
/// blobs' (path, bytes, digest) for its routes.
struct Served {
    config_digest: String,
    layer_digest: String,
}

fn served_image(
    rt: &Runtime,
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    config_bytes: &[u8],
    layer_bytes: &[u8],
    layer_digest: String,
) -> Served {
    let config_digest = digest(config_bytes);
    push_manifest(
        rt,
        ecr,
        repository,
        "v1",
        json!({"mediaType": "application/vnd.docker.container.image.v1+json", "size": config_bytes.len(), "digest": config_digest}),
        vec![
            json!({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": layer_bytes.len(), "digest": layer_digest}),
        ],
    );
    Served {
        config_digest,
        layer_digest,
    }
}

fn project_at(emulator: &Emulator, registry_url: &str, extra: &str) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.file(
        "little.yaml",
        &format!("defaults:\n  region: us-east-1\ncheck:\n  registry_url: {registry_url}\n{extra}"),
    );
    p
}

/// A project reading from the test registry, with no check configured beyond the defaults.
fn plain_project(emulator: &Emulator) -> TestProject {
    project_at(
        emulator,
        &format!("http://127.0.0.1:{}", registry().port),
        "",
    )
}

fn routes(repository: &str, blobs: Vec<(&str, Answer)>) -> HashMap<String, Answer> {
    blobs
        .into_iter()
        .map(|(d, a)| (format!("/v2/{repository}/blobs/{d}"), a))
        .collect()
}

#[test]
fn a_stalled_blob_fails_the_image_within_the_read_timeout_and_is_not_deleted() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    let layer_bytes = layer(&[("etc/os-release", &"ID=debian\n".repeat(5000))]);
    assert!(layer_bytes.len() > 100);
    let image = served_image(
        &rt,
        &ecr,
        "slow/stall",
        CONFIG.as_bytes(),
        &layer_bytes,
        digest(&layer_bytes),
    );
    let server = FakeServer::start(routes(
        "slow/stall",
        vec![
            (
                &image.config_digest,
                Answer::Blob(CONFIG.as_bytes().to_vec()),
            ),
            (
                &image.layer_digest,
                Answer::StallAfter(layer_bytes.clone(), 100),
            ),
        ],
    ));
    let p = project_at(
        &emulator,
        &server.url(),
        "  limits:\n    read_timeout: 2s\n",
    );
    let started = Instant::now();
    let out = p.run(&[
        "-v",
        "check",
        "slow/stall:v1",
        "--enforce",
        "--format",
        "json",
    ]);
    out.code(2);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    bounded(&out);
    let report = out.json();
    let (id, summary) = stopped_by(&report);
    assert_eq!(id, "image.timeout");
    assert_eq!(
        summary,
        format!(
            "the registry sent no more of layer {} within `check.limits.read_timeout` (2s)",
            image.layer_digest
        )
    );
    // Not read in time is not judged: --enforce leaves the image.
    assert_eq!(report["enforcement"]["applied"], false, "{report:#}");
    assert!(report["enforcement"]["detail"]
        .as_str()
        .unwrap()
        .contains("was not read in time and is not deleted for that"));
    let left = rt
        .block_on(ecr.describe_images().repository_name("slow/stall").send())
        .unwrap();
    assert_eq!(left.image_details().len(), 1, "the image is still there");
}

#[test]
fn a_registry_that_drips_is_stopped_by_max_duration() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    let layer_bytes = layer(&[("etc/os-release", "ID=debian\n")]);
    let image = served_image(
        &rt,
        &ecr,
        "slow/drip",
        CONFIG.as_bytes(),
        &layer_bytes,
        digest(&layer_bytes),
    );
    let server = FakeServer::start(routes(
        "slow/drip",
        vec![
            (
                &image.config_digest,
                Answer::Blob(CONFIG.as_bytes().to_vec()),
            ),
            (
                &image.layer_digest,
                Answer::Drip(layer_bytes.clone(), Duration::from_millis(300)),
            ),
        ],
    ));
    let p = project_at(
        &emulator,
        &server.url(),
        "  limits:\n    read_timeout: 2s\n    max_duration: 3s\n",
    );
    let started = Instant::now();
    let out = p.run(&["check", "slow/drip:v1", "--format", "json"]);
    out.code(2);
    assert!(started.elapsed() < Duration::from_secs(15));
    let (id, summary) = stopped_by(&out.json());
    assert_eq!(id, "image.timeout");
    assert_eq!(
        summary,
        "the image was not read within `check.limits.max_duration` (3s)"
    );
}

#[test]
fn an_endless_error_body_is_read_only_in_part() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    let layer_bytes = layer(&[("etc/os-release", "ID=debian\n")]);
    let image = served_image(
        &rt,
        &ecr,
        "slow/error",
        CONFIG.as_bytes(),
        &layer_bytes,
        digest(&layer_bytes),
    );
    let server = FakeServer::start(routes(
        "slow/error",
        vec![(&image.config_digest, Answer::EndlessError)],
    ));
    let p = project_at(&emulator, &server.url(), "");
    let started = Instant::now();
    let out = p.run(&["-v", "check", "slow/error:v1"]);
    // A registry error is an error of the run (the worker retries it), not a finding.
    out.code(1)
        .stderr_has("HTTP 500 Internal Server Error: EEEE");
    assert!(started.elapsed() < Duration::from_secs(30));
    let line = out.stderr.lines().find(|l| l.contains("HTTP 500")).unwrap();
    assert!(
        line.len() < 1000,
        "the excerpt is short: {} bytes",
        line.len()
    );
}

#[test]
fn sha512_digests_are_verified_and_others_refused() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    // An image whose config and layer are named by sha512, in the real registry: read and
    // verified.
    let config_bytes =
        serde_json::to_vec(&json!({"architecture":"amd64","os":"linux","config":{"User":"app"}}))
            .unwrap();
    let layer_bytes = layer(&[
        ("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
        ("etc/passwd", "app:x:1000:1000::/app:/bin/false\n"),
    ]);
    let config_digest = push_blob_as("digest/sha512", &config_bytes, digest512(&config_bytes));
    let layer_digest = push_blob_as("digest/sha512", &layer_bytes, digest512(&layer_bytes));
    assert!(layer_digest.starts_with("sha512:"));
    push_manifest(
        &rt,
        &ecr,
        "digest/sha512",
        "v1",
        json!({"mediaType": "application/vnd.docker.container.image.v1+json", "size": config_bytes.len(), "digest": config_digest}),
        vec![
            json!({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": layer_bytes.len(), "digest": layer_digest}),
        ],
    );
    let p = plain_project(&emulator);
    let out = p.run(&["check", "digest/sha512:v1", "--format", "json"]);
    out.success();
    let report = out.json();
    assert_eq!(report["facts"]["os"]["id"], "debian", "{report:#}");
    assert!(outcomes(&report).iter().all(|(_, o)| o != "fail"));

    // The same names, other bytes (a registry that lies): refused.
    let other = layer(&[("etc/os-release", "ID=alpine\n")]);
    let mut padded = other.clone();
    padded.resize(layer_bytes.len(), 0);
    let server = FakeServer::start(routes(
        "digest/sha512",
        vec![
            (&config_digest, Answer::Blob(config_bytes.clone())),
            (&layer_digest, Answer::Blob(padded)),
        ],
    ));
    let out = project_at(&emulator, &server.url(), "").run(&[
        "check",
        "digest/sha512:v1",
        "--format",
        "json",
    ]);
    out.code(2);
    let (id, summary) = stopped_by(&out.json());
    assert_eq!(id, "image.digest");
    assert!(
        summary.starts_with(&format!(
            "layer {layer_digest} does not match its digest {layer_digest} (its content is sha512:"
        )),
        "{summary}"
    );

    // An algorithm that is not verified: refused before anything is fetched.
    let md5 = "md5:d41d8cd98f00b204e9800998ecf8427e";
    push_manifest(
        &rt,
        &ecr,
        "digest/md5",
        "v1",
        json!({"mediaType": "application/vnd.docker.container.image.v1+json", "size": config_bytes.len(), "digest": push_blob("digest/md5", &config_bytes)}),
        vec![
            json!({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 10, "digest": md5}),
        ],
    );
    let out = p.run(&["check", "digest/md5:v1", "--format", "json"]);
    out.code(2);
    let (id, summary) = stopped_by(&out.json());
    assert_eq!(id, "image.digest");
    assert_eq!(
        summary,
        format!("the digest `{md5}` names the algorithm `md5`, which is not verified (only sha256 and sha512 are)")
    );
}

#[test]
fn the_token_is_never_sent_over_plain_http_to_another_host() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    push_image(
        &rt,
        &ecr,
        "team/plain",
        "v1",
        &[layer(&[("etc/os-release", "ID=debian\n")])],
        config(),
    );
    // 192.0.2.1 is TEST-NET-1: nothing is sent there, the run is refused first.
    let out = project_at(&emulator, "http://192.0.2.1:5000", "").run(&["check", "team/plain:v1"]);
    out.code(3)
        .stderr_has("refused: the registry URL `http://192.0.2.1:5000` is plain http to a host that is not a loopback address")
        .stderr_has("use an https:// URL in `check.registry_url` or `--registry-url`");
    // Loopback (the test registry) is allowed.
    plain_project(&emulator)
        .run(&["check", "team/plain:v1"])
        .success();
}

/// Secrets of every kind, where images carry them; no output may show any of these.
const LEAKS: [&str; 9] = [
    "ghp_",
    "Zx9Qw8Er7Ty6",
    "QWERTYUIOPASDFGH",
    "hunter2",
    "tok-live",
    "glpat-",
    "npm_s3cr3t",
    "b3BlbnNzaC1rZXkt",
    "pg-pass-4242",
];

const GITHUB: &str = "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVb";

#[track_caller]
fn no_leak(what: &str, text: &str) {
    for leak in LEAKS {
        assert!(!text.contains(leak), "`{leak}` in {what}:\n{text}");
    }
}

#[test]
fn no_secret_of_the_image_reaches_any_output_or_notification() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let ecr = aws_sdk_ecr::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let digest = push_image(
        &rt,
        &ecr,
        "team/leaky",
        "v1",
        &[layer(&[
            (
                "etc/os-release",
                &format!("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian {GITHUB}\"\n"),
            ),
            ("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
        ])],
        json!({
            "architecture": "amd64", "os": "linux",
            "config": {
                "User": "root",
                "Env": [
                    "PATH=/usr/bin",
                    format!("GREETING=hello {GITHUB}"),
                    "AWS_ACCESS_KEY_ID=AKIAQWERTYUIOPASDFGH",
                    "DB_PASSWORD=hunter2-s3cret-value",
                    "DATABASE_URL=postgres://app:pg-pass-4242@db/app",
                ],
                "Labels": {
                    "com.acme.deploy-token": "tok-live-9f8e7d6c",
                    "notes": "glpat-ABCDEFGHIJKLMNOPQRST12",
                },
            },
            "history": [
                {"created_by": format!("/bin/sh -c echo {GITHUB} > /root/.token")},
                {"created_by": "|1 NPM_TOKEN=npm_s3cr3tvalue /bin/sh -c npm ci"},
                {"created_by": "/bin/sh -c printf '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA && x\n-----END OPENSSH PRIVATE KEY-----' > /root/.ssh/id"},
            ],
        }),
    );
    let hooks = FakeServer::start(HashMap::new());
    let pipe = pipeline(&rt, &emulator);
    let p = project(
        &emulator,
        &format!(
            "  queue_url: {}\n  report_bucket: reports\n  notify:\n    sns_topic_arn: {}\n    webhooks:\n      - {{url: '{}/slack', format: slack}}\n      - {{url: '{}/teams', format: teams}}\n      - {{url: '{}/json', format: json}}\n",
            pipe.queue, pipe.topic, hooks.url(), hooks.url(), hooks.url()
        ),
    );

    // One image: the text summary, the JSON on stdout, and the JSON and HTML files.
    let out = p.run(&["check", "team/leaky:v1", "--format", "json"]);
    out.code(2);
    no_leak("the JSON report", &out.stdout);
    let report = out.json();
    let history = report["history"].to_string();
    assert!(
        history.contains("[redacted GitHub token, 40 characters]"),
        "{history}"
    );
    assert!(
        history.contains("NPM_TOKEN=[redacted secret, 15 characters]"),
        "{history}"
    );
    assert!(history.contains("[redacted private key, "), "{history}");
    no_leak("stderr", &out.stderr);
    let text = p.run(&["check", "team/leaky:v1"]);
    text.code(2);
    no_leak("the text report", &text.stdout);
    for file in ["v1.json", "v1.html"] {
        let body =
            std::fs::read_to_string(p.path().join("little-check/team/leaky").join(file)).unwrap();
        no_leak(file, &body);
    }
    let html = std::fs::read_to_string(p.path().join("little-check/team/leaky/v1.html")).unwrap();
    assert!(
        html.contains("GREETING=hello [redacted GitHub token, 40 characters]"),
        "{html}"
    );

    // The worker: the reports it stores, the notifications it sends, its log.
    send(
        &rt,
        &sqs,
        &pipe.queue,
        &push_event("team/leaky", "v1", &digest, "PUSH"),
    );
    let worker = p.run(&["check", "--once"]);
    worker.success().stderr_has("1 checked");
    no_leak("the worker's log", &worker.stderr);
    let keys: Vec<String> = rt
        .block_on(s3.list_objects_v2().bucket("reports").send())
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    // The report (HTML and JSON), its done marker and its delivery state.
    assert_eq!(keys.len(), 4, "{keys:?}");
    for key in keys {
        let object = rt
            .block_on(s3.get_object().bucket("reports").key(&key).send())
            .unwrap();
        let body = rt.block_on(object.body.collect()).unwrap().into_bytes();
        no_leak(&key, &String::from_utf8_lossy(&body));
    }
    let notes = receive_all(&rt, &sqs, &pipe.inbox);
    assert_eq!(notes.len(), 1);
    no_leak("the SNS notification", notes[0].body().unwrap());
    assert!(
        notes[0].body().unwrap().contains("[redacted"),
        "{}",
        notes[0].body().unwrap()
    );
    let posts = hooks.posts.lock().unwrap().clone();
    let paths: Vec<&str> = posts.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    for (path, body) in &posts {
        no_leak(&format!("the {path} webhook"), body);
        assert!(body.contains("[redacted"), "{path}: {body}");
    }
}

#[test]
fn big_jars_and_many_paths_stay_in_bounded_memory() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    // A JAR just under `max_archive_bytes` (16 MiB) naming 12,000 nested JARs of 250-byte
    // names (the longest kept), four times over; then 60,000 files of 300-byte names, deleted
    // by the next layer (more path bytes than `max_tracked_path_bytes`).
    let names: Vec<String> = (0..12_000)
        .map(|i| format!("BOOT-INF/lib/{}-{i:05}.0.jar", "n".repeat(228)))
        .collect();
    let padding = vec![0u8; 9 << 20];
    let mut entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    entries.push(("padding.bin", &padding));
    let fat = super::options::jar(&entries);
    assert!(
        fat.len() < 16 << 20 && fat.len() > 15 << 20,
        "{}",
        fat.len()
    );
    let jars: Vec<(String, &[u8])> = (0..4)
        .map(|i| (format!("app/app-{i}.jar"), &fat[..]))
        .collect();
    let jar_files: Vec<(&str, &[u8])> = jars.iter().map(|(p, d)| (p.as_str(), *d)).collect();
    let paths: Vec<String> = (0..60_000)
        .map(|i| format!("srv/cache/{i}-{}", "p".repeat(290)))
        .collect();
    let many: Vec<(&str, &[u8])> = paths.iter().map(|p| (p.as_str(), &b"x"[..])).collect();
    let layers = [
        super::options::layer_of(&jar_files),
        super::options::layer_of(&many),
        super::options::layer_of(&[("srv/.wh.cache", &b""[..])]),
    ];
    push_image(&rt, &ecr, "evil/jars", "v1", &layers, config());
    let p = project(&emulator, "");
    let out = p.run(&["-v", "check", "evil/jars:v1", "--format", "json"]);
    bounded(&out);
    let report = out.json();
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("`check.limits.max_tracked_paths` 200,000"),
        "{notes}"
    );
    assert!(
        notes.contains("more JARs than `check.limits.max_libraries` (2,000)"),
        "{notes}"
    );
    let efficiency = &report["facts"]["efficiency"];
    assert_eq!(efficiency["capped"], true, "{efficiency}");
    assert!(
        efficiency["wasted_bytes"].as_u64().unwrap() > 0,
        "{efficiency}"
    );
    assert_eq!(report["facts"]["libraries"].as_array().unwrap().len(), 2000);
}
