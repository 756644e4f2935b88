//! Thin entry point: parse the command line and hand over to `cli`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = mailpanel::cli::Cli::parse();
    mailpanel::cli::run(cli)
}
