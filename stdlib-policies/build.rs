//! Embeds every `.pol` file under this directory (except tests,
//! `*_test.pol`), so `polc` and the
//! language server carry the standard policy library without reading disk.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// Every embedded standard-library file: (path relative to `stdlib-policies/`, text).\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for rel in &files {
        let abs = root.join(rel);
        writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .expect("write to string");
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("files.rs");
    std::fs::write(dest, out).expect("write files.rs");
    println!("cargo:rerun-if-changed={}", root.display());
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "src" && name != "target" {
                println!("cargo:rerun-if-changed={}", path.display());
                collect(root, &path, files);
            }
        } else if path.extension().is_some_and(|e| e == "pol")
            && !name.to_string_lossy().ends_with("_test.pol")
        {
            // Tests (`*_test.pol`) are run from the source tree by
            // `polc test stdlib-policies`; they are not embedded.
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            files.push(rel);
        }
    }
}
