//! `pol-lsp`: the Pol language server. With no arguments or `--stdio` it
//! speaks LSP over standard input and output.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["--stdio"] => match pol_lsp::run_stdio() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pol-lsp: {e}");
                ExitCode::FAILURE
            }
        },
        ["--version" | "-V"] => {
            println!("pol-lsp {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        ["--help" | "-h"] => {
            println!(
                "pol-lsp: the Pol language server\n\nusage: pol-lsp [--stdio]\n\nspeaks the language server protocol over standard input and output"
            );
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("pol-lsp: unknown arguments {args:?}; usage: pol-lsp [--stdio]");
            ExitCode::from(2)
        }
    }
}
