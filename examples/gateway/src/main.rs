//! `gateway`: an LLM gateway in miniature. It loads a policy bundle (Acme's
//! settings over the standard policy library, or a bundle built by
//! `polc build`), runs a stream of synthetic traffic through it, prints each
//! decision with its reasons and obligations, then measures throughput and
//! latency per policy.
//!
//! Run it with `cargo run --release -p pol-gateway`; `--help` lists the
//! options.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pol_gateway::throughput::{self, Budget, Run};
use pol_gateway::traffic::{self, Kind, Request};
use pol_gateway::{MIN_SAMPLES_PER_THREAD, compile_embedded, entrypoints, report};
use pol_runtime::{Engine, PublicKey, SignatureStatus, Trust};

/// The seed of the printed stream; the throughput mix uses the next one.
const SEED: u64 = 2026;

/// Requests in the throughput mix, drawn once and replayed in a loop.
const MIX_SIZE: usize = 4096;

const USAGE: &str = "\
usage: gateway [--bundle FILE [--key NAME.pub]...] [--quiet] [--seconds N] [--threads N]

Runs synthetic LLM-gateway traffic through Pol policies and prints each
decision, then throughput and latency per policy.

options:
  --bundle FILE   load a bundle built by `polc build` (default: compile the
                  embedded examples/gateway/policies at start-up)
  --key FILE      require the bundle to be signed by this public key (from
                  `polc keygen`); repeat to trust several
  --quiet         skip the per-decision lines
  --seconds N     length of the throughput phase: half on the mix, half on
                  each policy alone (default 1.0; a slow policy still gets
                  20 decisions a thread)
  --threads N     threads in the throughput phase (default: every core)
  -h, --help      this text";

/// What the command line asked for.
#[derive(Debug)]
struct Config {
    bundle: Option<PathBuf>,
    keys: Vec<PathBuf>,
    quiet: bool,
    seconds: f64,
    threads: usize,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
    let mut config = Config {
        bundle: None,
        keys: Vec::new(),
        quiet: false,
        seconds: 1.0,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("`{name}` needs a value"));
        match arg.as_str() {
            "--bundle" => config.bundle = Some(PathBuf::from(value("--bundle")?)),
            "--key" => config.keys.push(PathBuf::from(value("--key")?)),
            "--quiet" | "-q" => config.quiet = true,
            "--seconds" => {
                let text = value("--seconds")?;
                config.seconds = text
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("`--seconds {text}`: expected a number of seconds"))?;
            }
            "--threads" => {
                let text = value("--threads")?;
                config.threads = text
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("`--threads {text}`: expected a positive number"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(config)
}

/// Where the bundle came from and what loading it cost.
#[derive(Debug)]
struct Loaded {
    engine: Engine,
    origin: String,
    bytes: usize,
    compile: Option<Duration>,
    load: Duration,
}

fn trust(keys: &[PathBuf]) -> Result<Trust, String> {
    if keys.is_empty() {
        return Ok(Trust::any());
    }
    let mut parsed = Vec::new();
    for path in keys {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        parsed.push(PublicKey::parse(&text).map_err(|e| format!("`{}`: {e}", path.display()))?);
    }
    Ok(Trust::keys(parsed))
}

fn load(config: &Config) -> Result<Loaded, String> {
    let trust = trust(&config.keys)?;
    let (bytes, origin, compile) = match &config.bundle {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            (bytes, path.display().to_string(), None)
        }
        None => {
            let start = Instant::now();
            let bytes = compile_embedded("embedded")?;
            (
                bytes,
                "examples/gateway/policies (embedded, compiled at start-up)".to_string(),
                Some(start.elapsed()),
            )
        }
    };
    // The same call a production host makes: integrity and signature are
    // checked before anything is decoded, then the program is verified and
    // compiled to native code.
    let start = Instant::now();
    let engine = Engine::from_bundle(&bytes, &trust).map_err(|e| e.to_string())?;
    Ok(Loaded {
        engine,
        origin,
        bytes: bytes.len(),
        compile,
        load: start.elapsed(),
    })
}

fn print_bundle(out: &mut impl Write, loaded: &Loaded) -> io::Result<()> {
    let engine = &loaded.engine;
    writeln!(out, "bundle     {}", loaded.origin)?;
    if let Some(manifest) = engine.manifest() {
        let revision = if manifest.revision.is_empty() {
            "(none)"
        } else {
            manifest.revision.as_str()
        };
        writeln!(
            out,
            "           revision {revision}, {} bytes, {}",
            loaded.bytes, manifest.content_hash
        )?;
        writeln!(
            out,
            "           {} packages, {} entrypoints, built by {}",
            manifest.packages.len(),
            manifest.entrypoints.len(),
            manifest.compiler
        )?;
    }
    let signature = match engine.signature() {
        Some(SignatureStatus::Verified(id)) => format!("signed, verified with key {id}"),
        Some(SignatureStatus::Unchecked) => "signed (no key given to check it)".to_string(),
        Some(SignatureStatus::Unsigned) | None => "unsigned".to_string(),
    };
    writeln!(out, "signature  {signature}")?;
    let why = engine
        .jit_unavailable()
        .map(|why| format!(" (JIT unavailable: {why})"))
        .unwrap_or_default();
    let compile = loaded
        .compile
        .map(|d| format!("compiled in {:.0} ms, ", d.as_secs_f64() * 1e3))
        .unwrap_or_default();
    writeln!(
        out,
        "engine     {:?}{why}; {compile}loaded in {:.0} ms",
        engine.kind(),
        loaded.load.as_secs_f64() * 1e3
    )
}

/// Why a run stopped early.
#[derive(Debug)]
enum Failure {
    /// The bundle could not be loaded or lacks an entrypoint.
    Load(String),
    /// Standard output failed (a closed pipe, as in `gateway | head`).
    Output(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Output(e)
    }
}

fn run(config: &Config) -> Result<(), Failure> {
    let loaded = load(config).map_err(Failure::Load)?;
    let mut out = io::stdout().lock();
    print_bundle(&mut out, &loaded)?;
    let engine = &loaded.engine;
    let entries = entrypoints(engine).map_err(Failure::Load)?;

    if !config.quiet {
        writeln!(out)?;
        report::print_stream(&mut out, engine, &entries, &traffic::stream(SEED))?;
    }
    // Flush before the throughput phase, so the stream shows while it runs.
    out.flush()?;

    // Half the time on the mix, as a gateway sees it; the other half split
    // between the policies, each alone, so that fast policies get as many
    // samples as slow ones for their percentiles.
    let half = Duration::from_secs_f64(config.seconds / 2.0);
    let mix = traffic::mix(SEED + 1, MIX_SIZE);
    let budget = Budget {
        length: half,
        min_per_thread: 1,
    };
    let mixed = throughput::run(engine, &entries, &mix, budget, config.threads);
    let per_policy: Vec<Run> = Kind::ALL
        .iter()
        .map(|kind| {
            let only: Vec<Request> = mix.iter().filter(|r| r.kind == *kind).cloned().collect();
            let budget = Budget {
                length: half / Kind::ALL.len() as u32,
                min_per_thread: MIN_SAMPLES_PER_THREAD,
            };
            throughput::run(engine, &entries, &only, budget, config.threads)
        })
        .collect();
    writeln!(out)?;
    report::print_summary(&mut out, engine, &entries, &mixed, &per_policy)?;
    Ok(())
}

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`gateway | head`): nothing left to say.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            eprintln!("error: cannot write the report: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Load(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
