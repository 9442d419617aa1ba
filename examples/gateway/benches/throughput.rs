//! Throughput of one shared engine on the gateway's traffic mix at 1 and 2
//! threads (this machine has 2 cores), directly on the `Engine` and through
//! a `LiveEngine` (`with_current`: one atomic load per evaluation, no
//! shared counter). Evaluation takes no lock, so 2 threads should come
//! close to twice the decisions per second of one.
//!
//! The workers are started once per benchmark and live across its
//! iterations, as a server's threads would: thread start-up and each
//! thread's first evaluations (its scratch space, the regex engines' caches)
//! are not measured. Requests are dealt to the workers in turn, so each gets
//! the same share of every kind.
//!
//! `cargo bench -p pol-gateway --bench throughput`

use std::hint::black_box;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pol_gateway::traffic::{self, NOW_NANOS, Request};
use pol_gateway::{compile_embedded, entrypoints};
use pol_runtime::{Engine, Entrypoint, LiveEngine, Trust};

/// Requests per iteration, dealt to the threads in turn.
const MIX: usize = 512;

/// Evaluates `share` of the mix with `denies` (one request: is it
/// denied?); returns how many were denied.
fn evaluate(
    denies: &impl Fn(Entrypoint, &[u8]) -> bool,
    entries: &[Entrypoint],
    share: &[&Request],
) -> usize {
    share
        .iter()
        .filter(|request| denies(entries[traffic::kind_index(request.kind)], &request.json))
        .count()
}

/// Runs one benchmark on `threads` long-lived workers: each iteration
/// hands every worker its share of the mix and waits for all of them.
fn bench_on_workers(
    c: &mut Criterion,
    name: &str,
    threads: usize,
    denies: impl Fn(Entrypoint, &[u8]) -> bool + Sync,
    entries: &[Entrypoint],
    mix: &[Request],
) {
    let shares: Vec<Vec<&Request>> = (0..threads)
        .map(|t| mix.iter().skip(t).step_by(threads).collect())
        .collect();
    std::thread::scope(|scope| {
        let (done_tx, done) = mpsc::channel::<usize>();
        let jobs: Vec<mpsc::Sender<u64>> = shares
            .iter()
            .map(|share| {
                let (tx, rx) = mpsc::channel::<u64>();
                let done_tx = done_tx.clone();
                let denies = &denies;
                scope.spawn(move || {
                    // Each worker's first evaluations warm its thread.
                    evaluate(denies, entries, share);
                    while let Ok(iters) = rx.recv() {
                        let mut denied = 0;
                        for _ in 0..iters {
                            denied += evaluate(denies, entries, share);
                        }
                        if done_tx.send(denied).is_err() {
                            break;
                        }
                    }
                });
                tx
            })
            .collect();
        let mut group = c.benchmark_group("gateway_mix");
        group.throughput(Throughput::Elements(MIX as u64));
        group.sample_size(20);
        group.bench_function(format!("{name}/{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for job in &jobs {
                    job.send(iters).expect("worker alive");
                }
                let denied: usize = jobs.iter().map(|_| done.recv().unwrap_or(0)).sum();
                black_box(denied);
                start.elapsed().max(Duration::from_nanos(1))
            });
        });
        group.finish();
        // Dropping the senders ends the workers.
        drop(jobs);
    });
}

fn bench_throughput(c: &mut Criterion) {
    let bundle = compile_embedded("bench").expect("compiles");
    let engine = Engine::from_bundle(&bundle, &Trust::any()).expect("loads");
    let live = LiveEngine::new(Engine::from_bundle(&bundle, &Trust::any()).expect("loads"));
    let entries = entrypoints(&engine).expect("entrypoints");
    let mix = traffic::mix(11, MIX);
    let direct =
        |entry: Entrypoint, json: &[u8]| engine.evaluate_json(entry, json, NOW_NANOS).is_denied();
    let swappable = |entry: Entrypoint, json: &[u8]| {
        live.with_current(|engine| engine.evaluate_json(entry, json, NOW_NANOS).is_denied())
    };
    for threads in [1, 2] {
        bench_on_workers(c, "engine", threads, direct, &entries, &mix);
        bench_on_workers(c, "live_engine", threads, swappable, &entries, &mix);
    }
}

criterion_group!(benches, bench_throughput);
criterion_main!(benches);
