//! A kubeconfig file, read as `kubectl` reads it, down to what one context needs to reach its
//! cluster: the server, the certificate authority, and how its user authenticates (a token, a
//! token file, a client certificate and key, or an exec plugin such as `aws eks get-token`).
//! Several files (a `KUBECONFIG` list) merge as kubectl merges them: the first file that names
//! an entry wins. What cannot be honoured safely is refused with a sentence naming the file:
//! `insecure-skip-tls-verify`, auth providers, basic auth, proxies. No error quotes a value of
//! the file (a token or a key could be one). Connecting is the parent module's job.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The largest kubeconfig (or file it names: a certificate, a key, a token file) read.
pub(super) const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct File {
    clusters: Option<Vec<NamedCluster>>,
    users: Option<Vec<NamedUser>>,
    contexts: Option<Vec<NamedContext>>,
    current_context: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NamedCluster {
    name: String,
    cluster: Option<ClusterEntry>,
}

#[derive(Debug, Deserialize)]
struct NamedUser {
    name: String,
    user: Option<UserEntry>,
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    name: String,
    context: Option<ContextEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterEntry {
    server: Option<String>,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
    insecure_skip_tls_verify: Option<bool>,
    tls_server_name: Option<String>,
    proxy_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UserEntry {
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    client_certificate: Option<String>,
    client_certificate_data: Option<String>,
    client_key: Option<String>,
    client_key_data: Option<String>,
    exec: Option<ExecEntry>,
    auth_provider: Option<serde_norway::Value>,
    username: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecEntry {
    api_version: Option<String>,
    command: Option<String>,
    args: Option<Vec<String>>,
    env: Option<Vec<ExecEnv>>,
    install_hint: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ExecEnv {
    name: String,
    value: String,
}

#[derive(Debug, Default, Deserialize)]
struct ContextEntry {
    cluster: Option<String>,
    user: Option<String>,
}

/// The `client.authentication.k8s.io` versions of an exec plugin's ExecCredential read.
pub(super) const EXEC_API_VERSIONS: &[&str] = &[
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
];

/// An exec plugin: the command that prints an ExecCredential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    pub api_version: String,
    /// A bare name is looked up in `PATH`; a path with a `/` is relative to the kubeconfig's
    /// folder.
    pub command: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub install_hint: Option<String>,
    /// The user's name in the kubeconfig, for errors.
    pub user: String,
}

/// How requests authenticate, besides a client certificate.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Token(String),
    /// Read at each connection (a projected token rotates).
    TokenFile(PathBuf),
    Exec(Exec),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Token(_) => f.write_str("Token(<redacted>)"),
            Auth::TokenFile(p) => write!(f, "TokenFile({})", p.display()),
            Auth::Exec(e) => write!(f, "Exec({:?})", e.command),
        }
    }
}

/// What a context needs to reach its cluster.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub server: String,
    /// PEM certificates to trust instead of the system's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// A client certificate chain and its key, both PEM.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
    pub auth: Auth,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("server", &self.server)
            .field("ca_pem", &self.ca_pem.is_some())
            .field("client", &self.client.is_some())
            .field("auth", &self.auth)
            .finish()
    }
}

/// One kubeconfig file, parsed, with its folder (relative paths in it are relative to it).
struct Loaded {
    path: PathBuf,
    dir: PathBuf,
    file: File,
}

/// The kubeconfig files to read when little.yaml names none: each of `KUBECONFIG` (a list, as
/// kubectl reads it), else `~/.kube/config`.
pub fn default_paths(env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<PathBuf>, String> {
    if let Some(list) = env("KUBECONFIG").filter(|v| !v.trim().is_empty()) {
        return Ok(std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect());
    }
    match env("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(vec![Path::new(&home).join(".kube").join("config")]),
        None => Err(
            "no kubeconfig: `KUBECONFIG` and `HOME` are unset; name one with `kubeconfig:`".into(),
        ),
    }
}

/// Reads a file of at most [`MAX_FILE_BYTES`]; the error names it.
pub(super) fn read_bounded(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read {what} `{}`: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what} `{}`: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "{what} `{}` is larger than {} MiB",
            path.display(),
            MAX_FILE_BYTES / 1024 / 1024
        ));
    }
    Ok(bytes)
}

/// A serde message with every double-quoted value left out: a type error quotes the value it
/// met, which may be a token.
pub(super) fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '"' {
            if inside {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

fn parse(path: &Path, text: &str) -> Result<File, String> {
    if text.trim().is_empty() {
        return Ok(File::default());
    }
    serde_norway::from_str::<Option<File>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            let message = without_values(&crate::diag::strip_position(&e.to_string()));
            match e.location() {
                Some(l) => format!(
                    "kubeconfig `{}`, line {}, column {}: {message}",
                    path.display(),
                    l.line(),
                    l.column()
                ),
                None => format!("kubeconfig `{}`: {message}", path.display()),
            }
        })
}

/// The context `context` (or the current context) of the kubeconfig files `paths`, merged;
/// files of the list that do not exist are skipped, as kubectl does, unless none does.
pub fn target(paths: &[PathBuf], context: Option<&str>) -> Result<Target, String> {
    let mut loaded = Vec::new();
    for path in paths {
        if paths.len() > 1 && !path.exists() {
            continue;
        }
        let bytes = read_bounded(path, "kubeconfig")?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("kubeconfig `{}` is not UTF-8 text", path.display()))?;
        loaded.push(Loaded {
            path: path.clone(),
            dir: path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            file: parse(path, &text)?,
        });
    }
    let shown = paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ");
    if loaded.is_empty() {
        return Err(format!("none of the kubeconfig files {shown} exists"));
    }
    let name = match context {
        Some(c) => c.to_owned(),
        None => loaded
            .iter()
            .find_map(|l| l.file.current_context.clone().filter(|c| !c.is_empty()))
            .ok_or_else(|| {
                format!("kubeconfig {shown} has no `current-context`; name one with `context:`")
            })?,
    };
    let (ctx_file, ctx) = loaded
        .iter()
        .find_map(|l| {
            l.file
                .contexts
                .iter()
                .flatten()
                .find(|c| c.name == name)
                .map(|c| (l, c))
        })
        .ok_or_else(|| {
            let known: Vec<&str> = loaded
                .iter()
                .flat_map(|l| l.file.contexts.iter().flatten().map(|c| c.name.as_str()))
                .collect();
            let hint = crate::text::closest(&name, known.iter().copied())
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            format!("kubeconfig {shown} has no context `{name}`{hint}")
        })?;
    let at = |what: &str| {
        format!(
            "kubeconfig `{}`, context `{name}`: {what}",
            ctx_file.path.display()
        )
    };
    let entry = ctx.context.as_ref();
    let cluster_name = entry
        .and_then(|c| c.cluster.clone())
        .ok_or_else(|| at("the context names no cluster"))?;
    let (cluster_file, cluster) = loaded
        .iter()
        .find_map(|l| {
            l.file
                .clusters
                .iter()
                .flatten()
                .find(|c| c.name == cluster_name)
                .map(|c| (l, c))
        })
        .ok_or_else(|| {
            at(&format!(
                "its cluster `{cluster_name}` is not in the kubeconfig"
            ))
        })?;
    let user_name = entry.and_then(|c| c.user.clone());
    let user = match &user_name {
        Some(u) if !u.is_empty() => Some(
            loaded
                .iter()
                .find_map(|l| {
                    l.file
                        .users
                        .iter()
                        .flatten()
                        .find(|x| &x.name == u)
                        .map(|x| (l, x))
                })
                .ok_or_else(|| at(&format!("its user `{u}` is not in the kubeconfig")))?,
        ),
        _ => None,
    };
    let mut target = cluster_target(cluster_file, cluster)?;
    if let Some((file, user)) = user {
        let (client, auth) = user_auth(file, user)?;
        target.client = client;
        target.auth = auth;
    }
    Ok(target)
}

/// A path of the kubeconfig, relative to its folder.
fn relative(dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// Inline base64 data or a file, PEM.
fn pem(
    l: &Loaded,
    data: Option<&str>,
    file: Option<&str>,
    what: &str,
    owner: &str,
) -> Result<Option<Vec<u8>>, String> {
    let at = |why: String| format!("kubeconfig `{}`, {owner}: {why}", l.path.display());
    match (
        data.filter(|d| !d.is_empty()),
        file.filter(|f| !f.is_empty()),
    ) {
        (Some(data), _) => {
            let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
            crate::text::base64_decode(&compact)
                .map(Some)
                .ok_or_else(|| at(format!("`{what}-data` is not base64")))
        }
        (None, Some(file)) => read_bounded(&relative(&l.dir, file), what)
            .map(Some)
            .map_err(at),
        (None, None) => Ok(None),
    }
}

fn cluster_target(l: &Loaded, c: &NamedCluster) -> Result<Target, String> {
    let owner = format!("cluster `{}`", c.name);
    let at = |why: &str| format!("kubeconfig `{}`, {owner}: {why}", l.path.display());
    let entry = c
        .cluster
        .as_ref()
        .ok_or_else(|| at("no `cluster:` entry"))?;
    if entry.insecure_skip_tls_verify == Some(true) {
        return Err(at("`insecure-skip-tls-verify: true` is refused: the token would go to any server that answers; give `certificate-authority-data` instead"));
    }
    if entry
        .tls_server_name
        .as_deref()
        .is_some_and(|n| !n.is_empty())
    {
        return Err(at(
            "`tls-server-name` is not supported: use a server address its certificate names",
        ));
    }
    if entry.proxy_url.as_deref().is_some_and(|n| !n.is_empty()) {
        return Err(at("`proxy-url` is not supported"));
    }
    let server = entry
        .server
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| at("no `server`"))?;
    let ca_pem = pem(
        l,
        entry.certificate_authority_data.as_deref(),
        entry.certificate_authority.as_deref(),
        "certificate-authority",
        &owner,
    )?;
    Ok(Target {
        server,
        ca_pem,
        client: None,
        auth: Auth::None,
    })
}

/// A client certificate and how requests authenticate.
type UserAuth = (Option<(Vec<u8>, Vec<u8>)>, Auth);

fn user_auth(l: &Loaded, u: &NamedUser) -> Result<UserAuth, String> {
    let owner = format!("user `{}`", u.name);
    let at = |why: &str| format!("kubeconfig `{}`, {owner}: {why}", l.path.display());
    let Some(entry) = &u.user else {
        return Ok((None, Auth::None));
    };
    if entry.auth_provider.is_some() {
        return Err(at("`auth-provider` plugins are not supported: use an `exec` plugin (for EKS, `aws eks update-kubeconfig` writes one)"));
    }
    if entry.username.is_some() || entry.password.is_some() {
        return Err(at("basic authentication (`username`, `password`) is not supported: use a token, a client certificate or an `exec` plugin"));
    }
    let cert = pem(
        l,
        entry.client_certificate_data.as_deref(),
        entry.client_certificate.as_deref(),
        "client-certificate",
        &owner,
    )?;
    let key = pem(
        l,
        entry.client_key_data.as_deref(),
        entry.client_key.as_deref(),
        "client-key",
        &owner,
    )?;
    let client = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        (Some(_), None) => return Err(at("a client certificate without `client-key`")),
        (None, Some(_)) => return Err(at("a `client-key` without a client certificate")),
    };
    let token = entry.token.clone().filter(|t| !t.is_empty());
    let token_file = entry.token_file.as_deref().filter(|t| !t.is_empty());
    let auth = match (token, token_file, &entry.exec) {
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return Err(at("both a token and an `exec` plugin: keep one"))
        }
        (Some(t), _, None) => Auth::Token(t),
        (None, Some(f), None) => Auth::TokenFile(relative(&l.dir, f)),
        (None, None, Some(e)) => Auth::Exec(exec(l, &u.name, e).map_err(|why| at(&why))?),
        (None, None, None) => Auth::None,
    };
    if client.is_none() && auth == Auth::None {
        return Err(at("no credentials: give a `token`, a `tokenFile`, a client certificate and key, or an `exec` plugin"));
    }
    Ok((client, auth))
}

fn exec(l: &Loaded, user: &str, e: &ExecEntry) -> Result<Exec, String> {
    let api_version = e.api_version.clone().unwrap_or_default();
    if !EXEC_API_VERSIONS.contains(&api_version.as_str()) {
        return Err(format!(
            "the `exec` plugin's `apiVersion` must be one of {} (`client.authentication.k8s.io/v1alpha1` is gone from Kubernetes)",
            EXEC_API_VERSIONS.join(", ")
        ));
    }
    let command = e
        .command
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or("the `exec` plugin names no `command`")?;
    let command = if command.contains('/') {
        relative(&l.dir, &command)
    } else {
        PathBuf::from(command)
    };
    Ok(Exec {
        api_version,
        command,
        args: e.args.clone().unwrap_or_default(),
        env: e
            .env
            .iter()
            .flatten()
            .map(|v| (v.name.clone(), v.value.clone()))
            .collect(),
        install_hint: e.install_hint.clone(),
        user: user.to_owned(),
    })
}
