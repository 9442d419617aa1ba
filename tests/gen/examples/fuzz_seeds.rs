//! Writes the seeds of the fuzz corpora that only Rust can make:
//! `cargo run -p pol-gen --features fuzz --example fuzz_seeds -- DIR`
//! (`fuzz/seed.sh` runs it with `DIR` = `fuzz/corpus`).
//!
//! * `DIR/eval_json/`: valid inputs for each standard-library entrypoint,
//!   as `ENTRY` on the first line and the JSON after it;
//! * `DIR/bundle_load/`: the valid bundles the target's mutations start
//!   from;
//! * `DIR/check/` and `DIR/jit_vs_interp/`: generator streams (for
//!   `check`, behind the byte `0` that selects the generator).

use std::path::{Path, PathBuf};

use pol_gen::fuzz::{BundleLoadTarget, EvalJsonTarget};

/// Bytes per generator stream: what libFuzzer's `-max_len` lets through.
const STREAM: usize = 4096;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("create the folder");
    std::fs::write(dir.join(name), bytes).expect("write a seed");
}

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("fuzz/corpus"));
    let eval = EvalJsonTarget::new();
    for (index, entry) in eval.entrypoints().iter().enumerate() {
        for seed in 0..3u64 {
            let bytes = pol_gen::seed_bytes(seed * 1000 + index as u64, 1024);
            let mut u = arbitrary::Unstructured::new(&bytes);
            let json = eval.input(index, &mut u);
            write(
                &root.join("eval_json"),
                &format!("{entry}_{seed}"),
                format!("{entry}\n{json}").as_bytes(),
            );
        }
    }
    for (i, base) in BundleLoadTarget::new().bases().iter().enumerate() {
        write(&root.join("bundle_load"), &format!("base_{i}.bundle"), base);
    }
    for seed in 0..8u64 {
        let stream = pol_gen::seed_bytes(seed, STREAM);
        let mut check = vec![0];
        check.extend_from_slice(&stream);
        write(&root.join("check"), &format!("gen_{seed}"), &check);
        write(&root.join("jit_vs_interp"), &format!("gen_{seed}"), &stream);
    }
    println!("{}", root.display());
}
