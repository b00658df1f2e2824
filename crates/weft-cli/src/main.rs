//! `weft`: run Weft agents from the command line.
//!
//! `weft run "prompt"` runs an agent with a few offline demo tools and streams its answer to
//! stdout; tool calls and their results are shown on stderr. Without `OPENAI_API_KEY` (or
//! `--base-url`) it uses Weft's built-in scripted model, so it works with no network at all.
//!
//! `weft mcp tools|call|prompts|prompt|resources|read SERVER …` looks at an MCP server (a URL or
//! a command line) and calls its tools; `weft run --mcp SERVER` gives the agent its tools.
//!
//! Exit codes: 0 success, 1 other errors, 2 usage errors, 3 model or provider errors,
//! 4 MCP server unreachable, 5 MCP timeout, 6 MCP authentication, 7 MCP protocol or server error,
//! 8 MCP tool error, 130 interrupted.

mod approve;
mod demo_tools;
mod error;
mod mcp;
mod mcp_server;
mod output;
mod provider;
mod run;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

/// Run Weft agents from the command line.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an agent on a prompt and stream its answer to stdout.
    ///
    /// The agent has demo tools (get_weather, add). It uses the OpenAI-compatible provider when
    /// OPENAI_API_KEY, OPENAI_BASE_URL or --base-url is set, else Weft's offline scripted model.
    Run(RunArgs),
    /// Look at an MCP server and call its tools.
    #[command(after_help = mcp::EXIT_CODES)]
    Mcp(mcp::McpArgs),
}

/// Arguments of `weft run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The prompt (`-` reads it from stdin).
    pub(crate) prompt: String,

    /// System instructions for the agent.
    #[arg(long, value_name = "TEXT")]
    pub(crate) instructions: Option<String>,

    /// The model (default: OPENAI_MODEL, else gpt-4o-mini; ignored by the scripted model).
    #[arg(long, value_name = "NAME")]
    pub(crate) model: Option<String>,

    /// The base URL of an OpenAI-compatible server (default: OPENAI_BASE_URL, else OpenAI's).
    #[arg(long, value_name = "URL", value_parser = provider::BaseUrlParser)]
    pub(crate) base_url: Option<String>,

    /// Which OpenAI API to call.
    #[arg(long, value_enum, default_value_t = Api::Chat)]
    pub(crate) api: Api,

    /// Keep the conversation in FILE: load it if the file exists, save it after the run.
    #[arg(long, value_name = "FILE")]
    pub(crate) session: Option<PathBuf>,

    /// Print one JSON object per line for each event, instead of the answer text.
    #[arg(long)]
    pub(crate) json: bool,

    /// The most model calls the run may make.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) max_iterations: Option<u32>,

    /// Give the agent the tools of this MCP server (repeatable): an http(s):// URL, or a command
    /// line such as "node server.js stdio". The demo tools are left out when a server is given.
    #[arg(long = "mcp", value_name = "SERVER")]
    pub(crate) mcp: Vec<String>,

    /// The longest silence, in seconds, between two events of the model's streamed answer
    /// (default 120; keep-alive comments do not count).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) idle_timeout: Option<u64>,

    #[command(flatten)]
    pub(crate) connect: mcp_server::ConnectOptions,

    /// Ask on the terminal before each tool call: y(es), n(o), or a(lways) for that tool.
    #[arg(long)]
    pub(crate) approve: bool,
}

/// The OpenAI API the provider calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Api {
    /// Chat Completions (`/chat/completions`).
    Chat,
    /// Responses (`/responses`).
    Responses,
}

impl Api {
    /// The name shown to the user.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Api::Chat => "chat",
            Api::Responses => "responses",
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with code 0; usage errors to stderr with code 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(error::EXIT_USAGE));
        }
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(source) => {
            return error::report(&error::CliError::Io {
                context: "could not start the async runtime".into(),
                source,
            });
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::Mcp(args) => mcp::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error::report(&error),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (warnings only by default; rmcp's and weft-mcp's own
/// reports of a failed connection are left out, as the error line already says it).
fn init_logging() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,rmcp=off,weft_mcp=error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
