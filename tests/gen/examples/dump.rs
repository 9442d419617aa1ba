//! Writes the program generated from a seed into a folder, with its cases:
//! `cargo run -p pol-gen --example dump -- SEED [DIR]` (default `target/pol-gen/SEED`).
//! Check it with `polc check DIR`; evaluate a case with
//! `polc eval DIR --entry ENTRY --input DIR/case_N.json --now ... [--params DIR/params.json]`.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        eprintln!("usage: dump SEED [DIR]");
        std::process::exit(2)
    });
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("target/pol-gen/{seed}")));
    let generated = pol_gen::generate_from_seed(seed);
    std::fs::create_dir_all(&dir).expect("create the folder");
    for (path, text) in &generated.files {
        std::fs::write(dir.join(path), text).expect("write a file");
    }
    let mut index = String::new();
    for (i, (entry, json)) in generated.cases.iter().enumerate() {
        std::fs::write(dir.join(format!("case_{i}.json")), json).expect("write a case");
        index.push_str(&format!("case_{i}.json {entry}\n"));
    }
    index.push_str(&format!("now {}\n", generated.now));
    if let Some(params) = &generated.params {
        std::fs::write(dir.join("params.json"), params).expect("write the params");
        index.push_str("params params.json\n");
    }
    std::fs::write(dir.join("cases.txt"), index).expect("write the index");
    println!("{}", dir.display());
}
