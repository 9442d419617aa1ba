//! Throughput of one shared engine on the gateway's traffic mix at 1 and 2
//! threads (this machine has 2 cores), directly on the `Engine` and through
//! a `LiveEngine` (one atomic load per evaluation). Evaluation takes no
//! lock, so 2 threads should come close to twice the decisions per second
//! of one.
//!
//! `cargo bench -p pol-gateway --bench throughput`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pol_gateway::traffic::{self, NOW_NANOS, Request};
use pol_gateway::{compile_embedded, entrypoints};
use pol_runtime::{Engine, Entrypoint, LiveEngine, Trust};

/// Requests per iteration, split between the threads.
const MIX: usize = 512;

/// Evaluates `part` of the mix, the engine fetched per request by `engine`.
fn evaluate<E: std::ops::Deref<Target = Engine>>(
    engine: impl Fn() -> E,
    entries: &[Entrypoint],
    part: &[Request],
) -> usize {
    let mut denied = 0;
    for request in part {
        let entry = entries[traffic::kind_index(request.kind)];
        let engine = engine();
        let decision = engine.evaluate_json(entry, &request.json, NOW_NANOS);
        denied += usize::from(decision.is_denied());
    }
    denied
}

fn bench_throughput(c: &mut Criterion) {
    let bundle = compile_embedded("bench").expect("compiles");
    let engine = Engine::from_bundle(&bundle, &Trust::any()).expect("loads");
    let live = LiveEngine::new(Engine::from_bundle(&bundle, &Trust::any()).expect("loads"));
    let entries = entrypoints(&engine).expect("entrypoints");
    let mix = traffic::mix(11, MIX);

    let mut group = c.benchmark_group("gateway_mix");
    group.throughput(Throughput::Elements(MIX as u64));
    group.sample_size(20);
    for threads in [1, 2] {
        let chunk = MIX.div_ceil(threads);
        group.bench_function(format!("engine/{threads}_threads"), |b| {
            b.iter(|| {
                std::thread::scope(|scope| {
                    let workers: Vec<_> = mix
                        .chunks(chunk)
                        .map(|part| scope.spawn(|| evaluate(|| &engine, &entries, part)))
                        .collect();
                    workers
                        .into_iter()
                        .map(|w| w.join().unwrap_or(0))
                        .sum::<usize>()
                })
            });
        });
        group.bench_function(format!("live_engine/{threads}_threads"), |b| {
            b.iter(|| {
                std::thread::scope(|scope| {
                    let workers: Vec<_> = mix
                        .chunks(chunk)
                        .map(|part| scope.spawn(|| evaluate(|| live.current(), &entries, part)))
                        .collect();
                    workers
                        .into_iter()
                        .map(|w| w.join().unwrap_or(0))
                        .sum::<usize>()
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_throughput);
criterion_main!(benches);
