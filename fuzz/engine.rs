//! The fuzzing engine: a seeded PRNG, byte-level mutations (bit flips, byte inserts and
//! deletes, chunk copies, dictionary tokens, splices of two inputs, multi-byte and private-use
//! characters, number swaps), a pool of inputs that grows with every input that shows a new
//! behaviour, and the bounds every input runs under: a panic, an input that runs longer than
//! the time bound or allocates more than the memory bound is a failure, written to
//! `fuzz/crashes/<target>/` before the process exits 1.
//!
//! Not coverage-guided (that needs nightly's sanitizer coverage): a target reports what it
//! saw as behaviour signatures (diagnostic codes, status codes, variants), and an input that
//! shows a new one joins the pool. Deterministic: the same seed and corpus give the same
//! inputs in the same order.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What a target saw running one input: behaviour signatures, for the pool.
pub type Signatures = Vec<u64>;

/// A fuzz target: a name, tokens its inputs are made of, and a function that runs one input.
pub trait Target {
    fn name(&self) -> &'static str;
    /// Tokens of the input's language, for insertion and overwriting.
    fn dictionary(&self) -> &'static [&'static str];
    /// Inputs longer than this are cut.
    fn max_len(&self) -> usize {
        16 * 1024
    }
    /// Runs one input. A panic is a failure; so is an `Err` (a broken invariant, such as an
    /// error without a location).
    fn run(&mut self, input: &[u8]) -> Result<Signatures, String>;
}

/// SplitMix64: small, fast, and good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// FNV-1a: stable hashes for signatures and crash file names.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Bytes that often matter to parsers.
const INTERESTING: &[u8] = b"\0\x01\x7f\x80\xff{}[]()%#\"'\\\n\r\t :,-|!&*<>=/.~$@`";

/// Characters that once broke byte-offset slicing, and the renderer's own marker characters.
const CHARS: &[&str] = &[
    "\u{e9}",
    "\u{20ac}",
    "\u{1F600}",
    "\u{E000}",
    "\u{E001}",
    "\u{FEFF}",
    "\u{0}",
    "\u{2028}",
    "\u{85}",
    "\u{301}",
];

/// Numbers at the edges.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "255",
    "256",
    "65535",
    "2147483647",
    "4294967296",
    "9223372036854775807",
    "18446744073709551616",
    "99999999999999999999999",
    "1e308",
    "-0",
    "0.5",
    "NaN",
];

/// Mutates `data` in place with one to eight stacked mutations.
pub fn mutate(
    rng: &mut Rng,
    data: &mut Vec<u8>,
    dictionary: &[&str],
    pool: &[Vec<u8>],
    max_len: usize,
) {
    let rounds = 1 << rng.below(4);
    for _ in 0..rounds {
        mutate_once(rng, data, dictionary, pool);
    }
    data.truncate(max_len);
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, dictionary: &[&str], pool: &[Vec<u8>]) {
    let len = data.len();
    match rng.below(14) {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = rng.next() as u8;
        }
        2 if len > 0 => {
            let i = rng.below(len);
            data[i] = INTERESTING[rng.below(INTERESTING.len())];
        }
        3 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n)
                .map(|_| {
                    if rng.chance(2) {
                        INTERESTING[rng.below(INTERESTING.len())]
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
            data.splice(at..at, bytes);
        }
        4 if len > 0 => {
            let at = rng.below(len);
            let max = if rng.chance(8) { len - at } else { 16 };
            let n = 1 + rng.below(max.min(len - at));
            data.drain(at..at + n);
        }
        5 if len > 0 => {
            // Copy a chunk to another place.
            let from = rng.below(len);
            let n = 1 + rng.below((len - from).min(64));
            let chunk = data[from..from + n].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, chunk);
        }
        6 | 7 if !dictionary.is_empty() => {
            let token = dictionary[rng.below(dictionary.len())].as_bytes();
            let at = rng.below(len + 1);
            if rng.chance(2) || at + token.len() > len {
                data.splice(at..at, token.iter().copied());
            } else {
                data.splice(at..at + token.len(), token.iter().copied());
            }
        }
        8 if !pool.is_empty() => {
            // A splice: the head of this input, the tail of another.
            let other = &pool[rng.below(pool.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        9 => {
            let s = CHARS[rng.below(CHARS.len())];
            let at = rng.below(len + 1);
            if rng.chance(4) && len > 0 {
                // Half a character: invalid UTF-8.
                data.insert(at, s.as_bytes()[0] | 0xC0);
            } else {
                data.splice(at..at, s.bytes());
            }
        }
        10 if len > 0 => {
            // Repeat a chunk: deep nesting, long lines.
            let from = rng.below(len);
            let n = 1 + rng.below((len - from).min(16));
            let chunk = data[from..from + n].to_vec();
            let times = 2 + rng.below(64);
            let at = from + n;
            let repeated: Vec<u8> = chunk
                .iter()
                .copied()
                .cycle()
                .take(chunk.len() * times)
                .collect();
            data.splice(at..at, repeated);
        }
        11 => {
            // Replace a run of digits with a number at the edge.
            let number = NUMBERS[rng.below(NUMBERS.len())].as_bytes();
            let digits: Vec<usize> = (0..len).filter(|i| data[*i].is_ascii_digit()).collect();
            if digits.is_empty() {
                let at = rng.below(len + 1);
                data.splice(at..at, number.iter().copied());
            } else {
                let start = digits[rng.below(digits.len())];
                let end = (start..len)
                    .find(|i| !data[*i].is_ascii_digit())
                    .unwrap_or(len);
                data.splice(start..end, number.iter().copied());
            }
        }
        12 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(32));
            for b in &mut data[at..at + n] {
                if b.is_ascii_alphabetic() {
                    *b ^= 0x20;
                }
            }
        }
        13 if len > 1 => {
            // Swap two bytes.
            let (a, b) = (rng.below(len), rng.below(len));
            data.swap(a, b);
        }
        _ => {
            let at = rng.below(len + 1);
            data.insert(at, rng.next() as u8);
        }
    }
}

// ---- bounds ----------------------------------------------------------------------------------

/// Bytes currently allocated through the global allocator.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The most that may be allocated at once (`usize::MAX` while no input runs).
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Nanoseconds since [`epoch`] when the running input started; 0 while none runs.
static RUNNING_SINCE: AtomicU64 = AtomicU64::new(0);
/// The per-input time bound, in milliseconds.
static TIMEOUT_MS: AtomicU64 = AtomicU64::new(10_000);
/// Set once a failure is being written, so that nothing else writes one.
static FAILING: AtomicBool = AtomicBool::new(false);
/// The running input, for the allocator and the watchdog to write out.
static CURRENT: Mutex<Option<Current>> = Mutex::new(None);
/// The last panic's message and place, as the panic hook saw it.
static PANIC: Mutex<Option<String>> = Mutex::new(None);
/// `<crashes>/<target>/.running`: each input is written there before it runs, so that an
/// input that kills the process outright (a stack overflow) is not lost; `scripts/fuzz`
/// keeps it as `signal-<hash>` when the process dies by a signal.
static RUNNING_FILE: Mutex<Option<(PathBuf, std::fs::File)>> = Mutex::new(None);

/// Starts writing each input to `<dir>/.running` before it runs.
pub fn track_running(dir: &Path) {
    let path = dir.join(".running");
    let file = std::fs::create_dir_all(dir).and_then(|_| std::fs::File::create(&path));
    match file {
        Ok(f) => {
            if let Ok(mut r) = RUNNING_FILE.lock() {
                *r = Some((path, f));
            }
        }
        Err(e) => println!("fuzz: cannot write `{}`: {e}", path.display()),
    }
}

/// The target finished: its last input is no longer of interest.
pub fn track_running_done() {
    if let Ok(mut r) = RUNNING_FILE.lock() {
        if let Some((path, _)) = r.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn note_running(input: &[u8]) {
    use std::io::{Seek, SeekFrom};
    if let Ok(r) = RUNNING_FILE.lock() {
        if let Some((_, file)) = r.as_ref() {
            let mut f = file;
            let _ = f
                .set_len(0)
                .and_then(|_| f.seek(SeekFrom::Start(0)))
                .and_then(|_| f.write_all(input));
        }
    }
}

struct Current {
    target: &'static str,
    input: Vec<u8>,
    crashes: PathBuf,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_nanos() -> u64 {
    // Never 0, which means "idle".
    epoch().elapsed().as_nanos() as u64 + 1
}

/// The global allocator of the fuzz binary: the system's, counting live bytes and refusing to
/// go past the memory bound (the input is written out as a failure first).
pub struct Bounded;

impl Bounded {
    fn admit(size: usize) {
        let live = LIVE.load(Ordering::Relaxed);
        if live.saturating_add(size) > LIMIT.load(Ordering::Relaxed) {
            // Everything from here on allocates freely: the failure is being written.
            LIMIT.store(usize::MAX, Ordering::Relaxed);
            fail_now(
                "memory",
                &format!(
                    "an allocation of {} MiB with {} MiB live goes past the memory bound",
                    size >> 20,
                    live >> 20
                ),
            );
        }
    }
}

// SAFETY: every call goes to the system allocator with the caller's layout; the counters do
// not touch the memory.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Bounded::admit(layout.size());
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Bounded::admit(layout.size());
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            Bounded::admit(new_size - layout.size());
        }
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

/// Waits for the end if another thread (the watchdog) is writing a failure: the input that
/// just finished ran past the time bound, and the run must not go on, nor end with 0.
pub fn settle() {
    while FAILING.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Writes the running input as a failure of `kind`, says how to replay it, and exits 1.
fn fail_now(kind: &str, message: &str) -> ! {
    if FAILING.swap(true, Ordering::SeqCst) {
        // Another thread is writing its failure.
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    let current = match CURRENT.try_lock() {
        Ok(mut c) => c.take(),
        Err(_) => None,
    };
    match current {
        Some(c) => {
            let file = write_failure(&c.crashes, c.target, kind, &c.input);
            report_failure(c.target, kind, message, &c.input, file.as_deref());
        }
        None => println!("fuzz: {kind}: {message} (the input could not be recovered)"),
    }
    track_running_done();
    let _ = std::io::stdout().flush();
    std::process::exit(1)
}

/// Writes a failing input to `<crashes>/<target>/<kind>-<hash>`.
fn write_failure(crashes: &Path, target: &str, kind: &str, input: &[u8]) -> Option<PathBuf> {
    let dir = crashes.join(target);
    let file = dir.join(format!("{kind}-{:016x}", hash(input)));
    match std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&file, input)) {
        Ok(()) => Some(file),
        Err(e) => {
            println!("fuzz: cannot write `{}`: {e}", file.display());
            None
        }
    }
}

fn report_failure(target: &str, kind: &str, message: &str, input: &[u8], file: Option<&Path>) {
    // One write: stdout is the harness's own channel (the code under test may log to stderr).
    let mut err = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(err, "fuzz: target `{target}` failed ({kind}): {message}");
    let shown: String = String::from_utf8_lossy(&input[..input.len().min(400)])
        .chars()
        .flat_map(char::escape_debug)
        .collect();
    let _ = writeln!(err, "  input ({} bytes): \"{shown}\"", input.len());
    if let Some(file) = file {
        let _ = writeln!(err, "  written to {}", file.display());
        let _ = writeln!(
            err,
            "  replay: scripts/fuzz {target} --replay {}",
            file.display()
        );
    }
    let _ = writeln!(
        err,
        "  then add a unit test with this input beside the code that failed (see fuzz/README.md)"
    );
    let _ = std::io::stdout().lock().write_all(err.as_bytes());
}

/// Installs the panic hook (panics are recorded, not printed) and the watchdog thread that
/// fails an input running past the time bound.
pub fn install(timeout: Duration) {
    TIMEOUT_MS.store(timeout.as_millis() as u64, Ordering::Relaxed);
    let _ = epoch();
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned());
        if let Ok(mut p) = PANIC.lock() {
            *p = Some(format!("{message}{place}"));
        }
    }));
    std::thread::spawn(|| loop {
        std::thread::sleep(Duration::from_millis(100));
        let since = RUNNING_SINCE.load(Ordering::Relaxed);
        let limit = TIMEOUT_MS.load(Ordering::Relaxed);
        if since != 0 && now_nanos().saturating_sub(since) / 1_000_000 > limit {
            fail_now(
                "timeout",
                &format!("one input ran longer than the time bound of {limit} ms"),
            );
        }
    });
}

/// Runs one input under the bounds: Ok with its signatures, or the process ends with the
/// failure written out.
pub fn run_bounded(
    target: &mut dyn Target,
    input: &[u8],
    crashes: &Path,
    memory: usize,
) -> Signatures {
    if let Ok(mut c) = CURRENT.lock() {
        *c = Some(Current {
            target: target.name(),
            input: input.to_vec(),
            crashes: crashes.to_path_buf(),
        });
    }
    note_running(input);
    LIMIT.store(
        LIVE.load(Ordering::Relaxed).saturating_add(memory),
        Ordering::Relaxed,
    );
    RUNNING_SINCE.store(now_nanos(), Ordering::Relaxed);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target.run(input)));
    RUNNING_SINCE.store(0, Ordering::Relaxed);
    LIMIT.store(usize::MAX, Ordering::Relaxed);
    settle();
    match result {
        Ok(Ok(signatures)) => signatures,
        Ok(Err(broken)) => fail_now("invariant", &broken),
        Err(_) => {
            let message = PANIC
                .lock()
                .ok()
                .and_then(|mut p| p.take())
                .unwrap_or_else(|| "a panic".to_owned());
            fail_now("panic", &message)
        }
    }
}

/// How one target's run went.
pub struct Stats {
    pub inputs: u64,
    pub behaviours: usize,
    pub pool: usize,
}

/// Fuzzes `target` for `duration`: first every seed as it is, then mutations of the pool.
pub fn fuzz(
    target: &mut dyn Target,
    seeds: Vec<Vec<u8>>,
    seed: u64,
    duration: Duration,
    crashes: &Path,
    memory: usize,
) -> Stats {
    const POOL_MAX: usize = 4096;
    let mut rng = Rng::new(seed ^ hash(target.name().as_bytes()));
    let mut seen: HashSet<u64> = HashSet::new();
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut inputs = 0u64;
    let max_len = target.max_len();
    let dictionary = target.dictionary();
    for s in seeds {
        let signatures = run_bounded(target, &s, crashes, memory);
        inputs += 1;
        for sig in signatures {
            seen.insert(sig);
        }
        pool.push(s);
    }
    if pool.is_empty() {
        pool.push(Vec::new());
    }
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        let mut child = pool[rng.below(pool.len())].clone();
        mutate(&mut rng, &mut child, dictionary, &pool, max_len);
        let signatures = run_bounded(target, &child, crashes, memory);
        inputs += 1;
        let mut new = false;
        for sig in signatures {
            new |= seen.insert(sig);
        }
        if new {
            if pool.len() < POOL_MAX {
                pool.push(child);
            } else {
                let i = rng.below(pool.len());
                pool[i] = child;
            }
        }
    }
    Stats {
        inputs,
        behaviours: seen.len(),
        pool: pool.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..4).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
    }

    #[test]
    fn mutations_stay_within_the_length_and_change_the_input() {
        let mut rng = Rng::new(1);
        let pool = vec![b"{{ x }}".to_vec()];
        let mut changed = 0;
        for _ in 0..2000 {
            let mut data = b"{% raw %}{%}{% endraw %}".to_vec();
            mutate(&mut rng, &mut data, &["{{", "%}"], &pool, 64);
            assert!(data.len() <= 64);
            changed += usize::from(data != b"{% raw %}{%}{% endraw %}");
        }
        assert!(changed > 1900, "{changed}");
    }
}
