//! The reference workloads on Pol and its peers. See `docs/performance.md`.
//!
//! Benchmark ids: `wN/eval/<engine>[/<input>]` (the input already decoded,
//! entities built, context bound: evaluation only), `wN/json/<engine>[/<input>]`
//! (from the JSON bytes to the decision), `wN/json/serde_json-value` (parsing
//! the same bytes into a `serde_json::Value`, the floor for the JSON path),
//! and `compile/{pol-sema,pol-jit,bundle-load}/10k-lines`.
//!
//! ```sh
//! cargo bench --manifest-path runtime/bench/Cargo.toml                 # everything
//! cargo bench --manifest-path runtime/bench/Cargo.toml -- w2/          # one workload
//! cargo bench --manifest-path runtime/bench/Cargo.toml -- /eval/       # eval-only, all workloads
//! cargo bench --manifest-path runtime/bench/Cargo.toml -- pol-         # Pol's engines only
//! ```

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main,
};
use pol_bench::cedar::CedarPeer;
use pol_bench::cel::CelPeer;
use pol_bench::inputs::bench_inputs;
use pol_bench::pol::{self, PolEngine};
use pol_bench::rego::{self, RegoInterpreter, RegoRvm};
use pol_bench::{Input, NOW_NANOS, Workload, with_pol_engines};

/// `engine` or `engine/input` when a workload has several inputs (W3).
fn id(engine: &str, variant: Option<&str>) -> String {
    match variant {
        Some(v) => format!("{engine}/{v}"),
        None => engine.to_string(),
    }
}

fn pol_eval<E: PolEngine>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    workload: Workload,
    input: &Input,
    variant: Option<&str>,
) {
    let engine = E::load(pol::compile(workload));
    let entry = engine.entry(workload.pol_entry());
    let decoded = engine.decode(entry, &input.json);
    let mut scratch = engine.scratch();
    group.bench_function(id(E::NAME, variant), |b| {
        b.iter(|| {
            black_box(engine.eval(&mut scratch, entry, black_box(&decoded), NOW_NANOS));
        })
    });
}

fn pol_json<E: PolEngine>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    workload: Workload,
    input: &Input,
    variant: Option<&str>,
) {
    let engine = E::load(pol::compile(workload));
    let entry = engine.entry(workload.pol_entry());
    let mut scratch = engine.scratch();
    group.bench_function(id(E::NAME, variant), |b| {
        b.iter(|| {
            black_box(engine.eval_json(&mut scratch, entry, black_box(&input.json), NOW_NANOS));
        })
    });
}

fn bench_workload(c: &mut Criterion, workload: Workload) {
    let inputs = bench_inputs(workload);
    let several = inputs.len() > 1;
    for input in &inputs {
        let variant = several.then_some(input.name.as_str());

        // ---- eval-only: inputs decoded, entities built, context bound.
        let mut group = c.benchmark_group(format!("{}/eval", workload.key()));
        if workload == Workload::W3 {
            let prompt: serde_json::Value = serde_json::from_slice(&input.json).expect("JSON");
            let bytes = prompt["text"].as_str().expect("text").len();
            group.throughput(Throughput::Bytes(bytes as u64));
        }

        with_pol_engines!(pol_eval(&mut group, workload, input, variant));

        let cedar = CedarPeer::new(workload);
        let prepared = cedar.prepare(&input.json);
        group.bench_function(id("cedar", variant), |b| {
            b.iter(|| black_box(cedar.eval(black_box(&prepared))))
        });

        // regorus: set the (reference-counted) input and evaluate, as
        // regorus's own "hot" benchmarks do.
        let parsed = rego::parse(&input.json);
        let mut interp = RegoInterpreter::new(workload);
        group.bench_function(id("rego-interp", variant), |b| {
            b.iter(|| {
                interp.set_input(black_box(parsed.clone()));
                black_box(interp.eval())
            })
        });
        let mut rvm = RegoRvm::new(workload);
        group.bench_function(id("rego-rvm", variant), |b| {
            b.iter(|| {
                rvm.set_input(black_box(parsed.clone()));
                black_box(rvm.eval())
            })
        });

        let cel = CelPeer::new(workload);
        let scope = cel.bind(CelPeer::parse(&input.json));
        group.bench_function(id("cel", variant), |b| {
            b.iter(|| black_box(cel.eval(black_box(&scope))))
        });
        if workload == Workload::W3 {
            // cel-interpreter's own `matches` compiles the regex per call.
            let stock = CelPeer::new_stock(workload);
            let scope = stock.bind(CelPeer::parse(&input.json));
            group.bench_function(id("cel-stock-matches", variant), |b| {
                b.iter(|| black_box(stock.eval(black_box(&scope))))
            });
        }
        group.finish();

        // ---- JSON text to decision.
        let mut group = c.benchmark_group(format!("{}/json", workload.key()));
        if workload == Workload::W3 {
            group.throughput(Throughput::Bytes(input.json.len() as u64));
        }

        group.bench_function(id("serde_json-value", variant), |b| {
            b.iter(|| {
                black_box(
                    serde_json::from_slice::<serde_json::Value>(black_box(&input.json))
                        .expect("JSON"),
                )
            })
        });

        with_pol_engines!(pol_json(&mut group, workload, input, variant));

        group.bench_function(id("cedar", variant), |b| {
            b.iter(|| black_box(cedar.eval_json(black_box(&input.json))))
        });
        group.bench_function(id("rego-interp", variant), |b| {
            b.iter(|| black_box(interp.eval_json(black_box(&input.json))))
        });
        group.bench_function(id("rego-rvm", variant), |b| {
            b.iter(|| black_box(rvm.eval_json(black_box(&input.json))))
        });
        group.bench_function(id("cel", variant), |b| {
            b.iter(|| black_box(cel.eval_json(black_box(&input.json))))
        });
        group.finish();
    }
}

fn w1(c: &mut Criterion) {
    bench_workload(c, Workload::W1);
}

fn w2(c: &mut Criterion) {
    bench_workload(c, Workload::W2);
}

fn w3(c: &mut Criterion) {
    bench_workload(c, Workload::W3);
}

fn w4(c: &mut Criterion) {
    bench_workload(c, Workload::W4);
}

/// Compiling a generated 10,000-line policy set: source to verified IR
/// (`pol-sema`), the IR to native code (`pol-jit`: params, verification
/// and Cranelift, as `Engine::new` does at load), and a bundle of it loaded
/// from bytes (integrity checks, decoding, verification, JIT).
fn compile(c: &mut Criterion) {
    let files = pol::generated_project(10_000);
    let program = pol_sema::compile(files.clone()).expect("compiles");
    let bundle = pol_ir::bundle::write(&program, &pol_ir::bundle::BuildInfo::default(), None)
        .expect("writes");
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.bench_function("pol-sema/10k-lines", |b| {
        b.iter_batched(
            || files.clone(),
            |files| black_box(pol_sema::compile(files).expect("compiles")),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("pol-jit/10k-lines", |b| {
        b.iter_batched(
            || program.clone(),
            |program| {
                black_box(
                    pol_runtime::Engine::new(program)
                        .and_then(|e| e.with_kind(pol_runtime::EngineKind::Jit))
                        .expect("loads on the JIT"),
                )
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("bundle-load/10k-lines", |b| {
        b.iter(|| {
            black_box(
                pol_runtime::Engine::from_bundle(&bundle, &pol_runtime::Trust::any())
                    .expect("the bundle loads"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, w1, w2, w3, w4, compile);
criterion_main!(benches);
