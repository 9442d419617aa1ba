//! The gateway example as a library: the synthetic traffic, the
//! throughput runner and the report, shared by the `gateway` binary, its
//! tests and its benchmarks.

pub mod report;
pub mod throughput;
pub mod traffic;

use pol_ir::bundle::BuildInfo;
use pol_runtime::{Engine, Entrypoint};

use crate::traffic::Kind;

/// The example's policies, embedded so the binary runs from any directory.
/// The `*_test.pol` files are left out: tests are not part of a bundle.
pub const POLICIES: &[(&str, &str)] = &[(
    "examples/gateway/policies/gateway.pol",
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/gateway.pol")),
)];

/// Evaluations each thread makes of each policy alone, however slow.
pub const MIN_SAMPLES_PER_THREAD: usize = 20;

/// Compiles the embedded policies into bundle bytes with this revision.
/// This is the one step that needs the compiler (`polc` as a library): a
/// production host ships a bundle built by `polc build` and links only
/// `pol-runtime`, which is what `--bundle` does.
pub fn compile_embedded(revision: &str) -> Result<Vec<u8>, String> {
    compile_bundle(POLICIES, revision)
}

/// Compiles policy files (path, text) into bundle bytes with this revision.
pub fn compile_bundle(files: &[(&str, &str)], revision: &str) -> Result<Vec<u8>, String> {
    let files = files
        .iter()
        .map(|(path, text)| (path.to_string(), text.to_string()))
        .collect();
    let info = BuildInfo {
        revision: revision.into(),
        compiler: format!("pol-gateway {}", env!("CARGO_PKG_VERSION")),
        built_at: None,
    };
    polc::bundle::compile_bundle(files, &info, None, false)
}

/// The entrypoint of every kind, in [`Kind::ALL`] order.
pub fn entrypoints(engine: &Engine) -> Result<Vec<Entrypoint>, String> {
    Kind::ALL
        .iter()
        .map(|kind| {
            engine
                .entrypoint(kind.entrypoint())
                .ok_or_else(|| format!("the bundle has no entrypoint `{}`", kind.entrypoint()))
        })
        .collect()
}
