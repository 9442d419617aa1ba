//! `pol-lsp`: the Pol language server, the only crate that speaks LSP.
//!
//! The editor features are in `pol-ide`, over the same salsa database as
//! `polc`; this crate converts positions (UTF-16 by default, UTF-8 when the
//! client offers it), owns the mutable workspace on one thread
//! ([`owner`]), runs each request on a database snapshot on a blocking
//! thread, and publishes diagnostics after every batch of edits.

mod config;
mod convert;
mod evaluate;
mod owner;
mod server;

use tower_lsp_server::{LspService, Server};

/// Serves LSP over stdin and stdout until the client exits.
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pol-lsp")
        .build()?;
    let handle = runtime.handle().clone();
    runtime.block_on(async move {
        let std_dir = std_dir();
        let (service, socket) = LspService::build(move |client| {
            let owner = owner::start(handle.clone(), client.clone(), std_dir.clone());
            server::Backend::new(client, owner, std_dir.clone())
        })
        .finish();
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    Ok(())
}

/// Where the embedded standard library is written so that go to
/// definition can open its files: a folder per server version in the
/// system's temporary folder. `None` when it cannot be written.
fn std_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("pol-lsp-std-{}", env!("CARGO_PKG_VERSION")));
    match owner::materialize_std(&dir) {
        Ok(()) => Some(dir),
        Err(e) => {
            eprintln!(
                "pol-lsp: cannot write the standard library to {}: {e}",
                dir.display()
            );
            None
        }
    }
}
