//! `weft completions SHELL`: a completion script generated from the command-line definition,
//! so it never falls behind the flags.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::error::CliError;

/// Arguments of `weft completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Writes the script for the shell to stdout.
pub(crate) fn run(args: &CompletionsArgs) -> Result<(), CliError> {
    let mut command = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "weft", &mut script);
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script)
        .and_then(|()| stdout.flush())
        .map_err(|source| CliError::Io { context: "could not write to stdout".into(), source })
}
