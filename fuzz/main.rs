//! The fuzz harness, on stable Rust: `scripts/fuzz [TARGET...] [--seconds N]` runs each target
//! for a bounded time, first over its committed seed corpus (`fuzz/corpus/<target>/`) and any
//! earlier failures (`fuzz/crashes/<target>/`), then over mutations of them. A panic, a broken
//! invariant, an input that runs past the time bound or allocates past the memory bound writes
//! the input to `fuzz/crashes/<target>/` and exits 1. See `fuzz/README.md`.
//!
//! Built as an example of the package (`cargo build --example fuzz`): it is never installed
//! with `little`.

mod engine;
mod targets;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use engine::Target;

#[global_allocator]
static ALLOCATOR: engine::Bounded = engine::Bounded;

const TARGETS: &[&str] = &[
    "template",
    "locate",
    "stack-config",
    "template-parse",
    "layers",
    "sqs-event",
    "serve-http",
];

const USAGE: &str =
    "usage: fuzz [TARGET...] [--seconds N] [--timeout SECONDS] [--max-memory MIB] [--seed N]
            [--corpus DIR] [--crashes DIR] [--replay FILE_OR_DIR...] [--list]

Runs each TARGET (default: all) for --seconds (default 30) over its seed corpus and mutations
of it. A panic, a broken invariant, an input running longer than --timeout (default 10 s) or
allocating more than --max-memory (default 1024 MiB) is written to CRASHES/TARGET/ and the
run exits 1. --replay runs the given inputs of one target as they are.";

struct Options {
    targets: Vec<String>,
    seconds: f64,
    timeout: Duration,
    memory: usize,
    seed: u64,
    corpus: PathBuf,
    crashes: PathBuf,
    replay: Vec<PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        targets: Vec::new(),
        seconds: 30.0,
        timeout: Duration::from_secs(10),
        memory: 1024 << 20,
        seed: 17,
        corpus: PathBuf::from("fuzz/corpus"),
        crashes: PathBuf::from("fuzz/crashes"),
        replay: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    let mut replaying = false;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("`{name}` needs a value\n\n{USAGE}"))
        };
        let number = |name: &str, v: String| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| format!("`{name} {v}`: not a number of at least 0"))
        };
        match arg.as_str() {
            "--seconds" => o.seconds = number("--seconds", value("--seconds")?)?,
            "--timeout" => {
                o.timeout = Duration::from_secs_f64(number("--timeout", value("--timeout")?)?)
            }
            "--max-memory" => {
                o.memory = (number("--max-memory", value("--max-memory")?)? as usize) << 20
            }
            "--seed" => {
                let v = value("--seed")?;
                o.seed = v
                    .parse()
                    .map_err(|_| format!("`--seed {v}`: not a whole number"))?;
            }
            "--corpus" => o.corpus = PathBuf::from(value("--corpus")?),
            "--crashes" => o.crashes = PathBuf::from(value("--crashes")?),
            "--replay" => replaying = true,
            "--list" => {
                for t in TARGETS {
                    println!("{t}");
                }
                std::process::exit(0);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            a if a.starts_with('-') => return Err(format!("unknown option `{a}`\n\n{USAGE}")),
            a if replaying => o.replay.push(PathBuf::from(a)),
            a if TARGETS.contains(&a) => o.targets.push(a.to_owned()),
            a => {
                return Err(format!(
                    "unknown target `{a}`; the targets are: {}",
                    TARGETS.join(", ")
                ))
            }
        }
    }
    if replaying && (o.targets.len() != 1 || o.replay.is_empty()) {
        return Err(format!(
            "`--replay` takes one TARGET and the inputs to run\n\n{USAGE}"
        ));
    }
    if o.targets.is_empty() {
        o.targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    Ok(o)
}

fn target(name: &str) -> Result<Box<dyn Target>, String> {
    Ok(match name {
        "template" => Box::new(targets::TemplateTarget::new()?),
        "locate" => Box::new(targets::LocateTarget),
        "stack-config" => Box::new(targets::StackConfigTarget::new()?),
        "template-parse" => Box::new(targets::TemplateParseTarget),
        "layers" => Box::new(targets::LayersTarget),
        "sqs-event" => Box::new(targets::SqsEventTarget),
        "serve-http" => Box::new(targets::ServeHttpTarget::new()?),
        other => return Err(format!("unknown target `{other}`")),
    })
}

/// The files of `dir` (none when it does not exist), in name order; hidden files left out.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, String> {
    paths
        .iter()
        .map(|p| std::fs::read(p).map_err(|e| format!("cannot read `{}`: {e}", p.display())))
        .collect()
}

fn run(o: &Options) -> Result<(), String> {
    engine::install(o.timeout);
    // Stdout is locked for each line only: a failure is reported from the watchdog thread.
    let out = || std::io::stdout().lock();
    for name in &o.targets {
        let mut t = target(name).map_err(|e| format!("target `{name}`: {e}"))?;
        let crashes = o.crashes.join(name);
        engine::track_running(&crashes);
        if !o.replay.is_empty() {
            let mut files = Vec::new();
            for p in &o.replay {
                if p.is_dir() {
                    files.extend(files_in(p));
                } else {
                    files.push(p.clone());
                }
            }
            for (file, input) in files.iter().zip(read_all(&files)?) {
                engine::run_bounded(t.as_mut(), &input, &o.crashes, o.memory);
                let _ = writeln!(out(), "fuzz: {name}: {} passes", file.display());
            }
            engine::track_running_done();
            continue;
        }
        let corpus = files_in(&o.corpus.join(name));
        if corpus.is_empty() {
            return Err(format!(
                "target `{name}` has no seed corpus in `{}`",
                o.corpus.join(name).display()
            ));
        }
        let mut seeds = read_all(&files_in(&crashes))?;
        seeds.extend(read_all(&corpus)?);
        let started = Instant::now();
        let stats = engine::fuzz(
            t.as_mut(),
            seeds,
            o.seed,
            Duration::from_secs_f64(o.seconds),
            &o.crashes,
            o.memory,
        );
        engine::track_running_done();
        let took = started.elapsed().as_secs_f64();
        let _ = writeln!(
            out(),
            "fuzz: {name}: {} inputs in {took:.1} s ({:.0}/s), {} behaviours, pool of {}: no failure",
            stats.inputs,
            stats.inputs as f64 / took.max(0.001),
            stats.behaviours,
            stats.pool
        );
        let _ = out().flush();
    }
    Ok(())
}

fn main() {
    let code = match parse_args().and_then(|o| run(&o)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("fuzz: {e}");
            2
        }
    };
    let _ = std::io::stdout().flush();
    engine::settle();
    std::process::exit(code);
}
