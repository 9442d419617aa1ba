//! `polc`: parses the command line and hands it to the library.

fn main() -> std::process::ExitCode {
    polc::run(std::env::args_os())
}
