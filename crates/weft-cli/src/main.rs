//! `weft`: run Weft agents from the command line.
//!
//! `weft run "prompt"` runs an agent with a few offline demo tools and streams its answer to
//! stdout; tool calls and their results are shown on stderr. Without `OPENAI_API_KEY` (or
//! `--base-url`) it uses Weft's built-in scripted model, so it works with no network at all.
//! `weft chat` is the same agent, interactively, keeping the conversation.
//!
//! `weft mcp tools|call|prompts|prompt|resources|read SERVER …` looks at an MCP server (a URL or
//! a command line) and calls its tools; `weft run --mcp SERVER` gives the agent its tools.
//! `weft models` lists what an OpenAI-compatible server serves; `weft completions SHELL`
//! prints a shell completion script.
//!
//! Every command shares one table of exit codes ([`error::EXIT_CODES`], shown by `--help`).

mod approve;
mod chat;
mod completions;
mod declarative;
mod demo_tools;
mod error;
mod logging;
mod mcp;
mod mcp_serve;
mod mcp_server;
mod models;
mod output;
mod progress;
mod provider;
mod run;
mod serve;
mod telemetry;
mod worker;
mod workflow_host;
mod workflow_run;
mod workflow_status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run Weft agents from the command line.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, propagate_version = true, after_help = error::EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Show debug logs (-vv: every crate's, -vvv: traces). RUST_LOG, when set, wins.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,

    /// Show only the answer and errors: no notices (model in use, retries), no warnings.
    #[arg(short, long, global = true)]
    quiet: bool,

    /// Export the run's spans (OpenTelemetry GenAI conventions) to this OTLP/HTTP endpoint, e.g.
    /// http://localhost:6006/v1/traces (`/v1/traces` is added to a bare base URL). Without it,
    /// OTEL_EXPORTER_OTLP_ENDPOINT turns export on; OTEL_SDK_DISABLED=true turns it off;
    /// OTEL_EXPORTER_OTLP_PROTOCOL=grpc sends OTLP/gRPC to URL instead (e.g. http://localhost:4317).
    #[arg(long, global = true, value_name = "URL")]
    otlp: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an agent on a prompt and stream its answer to stdout.
    ///
    /// The agent has demo tools (get_weather, add). It uses the OpenAI-compatible provider when
    /// OPENAI_API_KEY, OPENAI_BASE_URL or --base-url is set, else Weft's offline scripted model.
    #[command(after_help = error::RUN_AFTER_HELP)]
    Run(RunArgs),
    /// Chat with the agent: one prompt per line, the conversation kept between them.
    ///
    /// On a terminal, lines can be edited and recalled (history in ~/.weft_history); from a
    /// pipe, each line is a prompt. Commands: /reset forgets the conversation, /save FILE writes
    /// it to FILE (load it with --session FILE), /help, /exit. Takes the options of `weft run`.
    #[command(
        after_help = error::RUN_AFTER_HELP,
        mut_arg("prompt", |arg| arg.required(false).required_unless_present(clap::builder::Resettable::<clap::Id>::Reset).default_value("").hide(true))
    )]
    Chat(RunArgs),
    /// Look at an MCP server and call its tools, or serve agents as one (`weft mcp serve`).
    ///
    /// Servers: an http:// or https:// URL is a streamable HTTP endpoint (e.g.
    /// http://127.0.0.1:3001/mcp); anything else is a command line started as a stdio server
    /// (e.g. "node server.js stdio").
    #[command(after_help = error::EXIT_CODES)]
    Mcp(mcp::McpArgs),
    /// List the models an OpenAI-compatible server serves.
    #[command(after_help = error::RUN_AFTER_HELP)]
    Models(models::ModelsArgs),
    /// Check declarative agent and workflow files: every problem as `file:line:col: message`
    /// on stdout.
    ///
    /// Exits 0 when every file is valid, 1 otherwise. A file is a workflow when its `kind` is
    /// `Workflow`, an agent otherwise. Function tools may bind to the CLI's functions:
    /// get_weather, add.
    Validate(declarative::ValidateArgs),
    /// Print the JSON Schema of a declarative file format (for editors: yaml-language-server).
    Schema(declarative::SchemaArgs),
    /// Serve agents over HTTP: the OpenAI Responses and Chat Completions protocols, AG-UI and A2A.
    ///
    /// Each declarative agent or workflow FILE is served as the model its `name` gives; without a file, the
    /// agent of `weft run` (same model flags) is served as the model `weft`. The server listens on
    /// http://127.0.0.1:8088/v1 (PORT sets the port; AG-UI clients use /ag-ui/NAME); the URL is
    /// printed on stdout. Any address but a loopback one needs --token-file, --token (or WEFT_TOKEN) or
    /// --no-auth. SIGTERM or Ctrl-C stops it, letting runs finish for --grace seconds. Each agent
    /// is also an A2A agent at /a2a/NAME (card at /a2a/NAME/.well-known/agent-card.json) unless
    /// --no-a2a is given.
    #[command(after_help = error::RUN_AFTER_HELP)]
    Serve(serve::ServeArgs),
    /// Serve agents with DevUI, a web page to chat with them, and open it in the browser.
    ///
    /// `weft serve --ui` (same arguments), plus the page opened with xdg-open on a desktop
    /// (DISPLAY or WAYLAND_DISPLAY set) unless --no-open. The page is at http://127.0.0.1:8088/.
    #[command(after_help = error::RUN_AFTER_HELP)]
    Devui(serve::DevuiArgs),
    /// Serve an agent to Restate as a durable agent: every model and tool call a journaled step.
    ///
    /// The agent of FILE (a declarative agent), or without one the agent of `weft run` (same
    /// model flags), is served over HTTP/2 on --listen (127.0.0.1:9080) as Restate's virtual
    /// object WeftAgent, one key per conversation: `POST INGRESS/WeftAgent/CONVERSATION/send`
    /// with `{"message": "…"}`. --register ADMIN_URL registers it with Restate. A worker killed
    /// mid-run resumes the run on its next start without making the completed calls again.
    #[command(after_help = error::RUN_AFTER_HELP)]
    Worker(worker::WorkerArgs),
    /// A durable workflow run on Restate: `status RUN` (where it stands, what it waits for),
    /// `respond RUN REQUEST ANSWER` (answer a request it waits for), through Restate's ingress.
    Workflow(workflow_status::WorkflowArgs),
    /// Print a shell completion script.
    ///
    /// e.g. `weft completions bash > ~/.local/share/bash-completion/completions/weft`, or
    /// `weft completions zsh > "${fpath[1]}/_weft"`.
    Completions(completions::CompletionsArgs),
}

/// Arguments of `weft run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The prompt (`-` reads it from stdin).
    #[arg(required_unless_present = "resume")]
    pub(crate) prompt: Option<String>,

    /// Run the agent of this YAML file (MAF's prompt-agent schema): its provider, model,
    /// instructions and tools. The other flags apply on top (--instructions and --model
    /// replace the file's). --provider replaces the model of every agent in the file (its
    /// provider, connection and id; its options stay), with --base-url, --model and --api as
    /// without a file: e.g. `--provider openai --base-url http://localhost:8080/v1 --model M`
    /// runs the file on that server. A workflow file (`kind: Workflow`) runs the workflow on
    /// the prompt, printing each output as `[executor] text` (--json: every event) and asking
    /// for human input (on the terminal, or one answer per line of stdin); of the other flags,
    /// --provider (with --base-url, --model, --api), --json, --timeout, --idle-timeout,
    /// --checkpoint and --resume apply to it.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,

    /// Workflow files: keep checkpoints in DIR (instead of the file's `checkpoint`), so that a
    /// run waiting for input can be answered later with --resume.
    #[arg(long, value_name = "DIR", requires = "file")]
    pub(crate) checkpoint: Option<PathBuf>,

    /// Workflow files: continue a run from this checkpoint (the id `weft run` printed), asking
    /// for the answers it waits for.
    #[arg(long, value_name = "CHECKPOINT", requires = "file")]
    pub(crate) resume: Option<String>,

    #[command(flatten)]
    pub(crate) agent: AgentArgs,

    /// Keep the conversation in FILE: load it if the file exists, save it after the run.
    #[arg(long, value_name = "FILE")]
    pub(crate) session: Option<PathBuf>,

    /// Print one JSON object per line for each event, instead of the answer text.
    #[arg(long)]
    pub(crate) json: bool,

    /// Ask on the terminal before each tool call: y(es), n(o), or a(lways) for that tool.
    #[arg(long)]
    pub(crate) approve: bool,

    /// Record every request to the model and its answer (streamed chunks with their timing) to
    /// this JSONL cassette, credentials redacted. The file is replaced.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["replay", "file"])]
    pub(crate) record: Option<PathBuf>,

    /// Answer every request to the model from this cassette (written by --record), offline
    /// and deterministically; a request it does not hold is an error naming it.
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    pub(crate) replay: Option<PathBuf>,
}

impl RunArgs {
    /// The flags of `weft run` for a command that serves an agent (no prompt, session or
    /// output options): its model and tool flags, and the agent file if any.
    pub(crate) fn serving(agent: AgentArgs, file: Option<PathBuf>) -> Self {
        Self {
            file,
            prompt: None,
            checkpoint: None,
            resume: None,
            agent,
            session: None,
            json: false,
            approve: false,
            record: None,
            replay: None,
        }
    }
}

/// The agent's model and tools, shared by `weft run`, `weft chat` and `weft serve`.
#[derive(Debug, Clone, Args)]
pub(crate) struct AgentArgs {
    /// System instructions for the agent.
    #[arg(long, value_name = "TEXT")]
    pub(crate) instructions: Option<String>,

    /// The model (default: gpt-4o-mini; ignored by the scripted model).
    #[arg(long, value_name = "NAME", env = "OPENAI_MODEL")]
    pub(crate) model: Option<String>,

    /// The base URL of an OpenAI-compatible server (default: OpenAI's).
    #[arg(long, value_name = "URL", env = "OPENAI_BASE_URL", hide_env_values = true, value_parser = provider::BaseUrlParser)]
    pub(crate) base_url: Option<String>,

    /// Which OpenAI API to call.
    #[arg(long, value_enum, default_value_t = Api::Chat)]
    pub(crate) api: Api,

    /// The model provider: openai (any OpenAI-compatible server; the default when
    /// OPENAI_API_KEY or a base URL is set, else the offline scripted model), anthropic (the
    /// Messages API: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_MODEL), azure (Azure
    /// OpenAI: AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT, AZURE_OPENAI_API_KEY or else
    /// Microsoft Entra ID), foundry (a Microsoft Foundry project's Responses API:
    /// FOUNDRY_PROJECT_ENDPOINT, FOUNDRY_MODEL_DEPLOYMENT_NAME, Microsoft Entra ID), bedrock
    /// (Amazon Bedrock's Converse API: AWS_REGION, AWS credentials or AWS_PROFILE,
    /// BEDROCK_MODEL), gemini (the Gemini API: GEMINI_API_KEY or GOOGLE_API_KEY, GEMINI_BASE_URL,
    /// GEMINI_MODEL; Vertex AI with GOOGLE_GENAI_USE_VERTEXAI=true), ollama (Ollama's native API:
    /// OLLAMA_HOST, OLLAMA_MODEL) or scripted.
    /// With -f, it replaces the file's agents' models.
    #[arg(long, value_enum, value_name = "NAME")]
    pub(crate) provider: Option<ProviderKind>,

    /// The most model calls one run may make.
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
}

/// The model provider of `--provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderKind {
    /// OpenAI, Azure OpenAI or any OpenAI-compatible server.
    Openai,
    /// Anthropic's Messages API.
    Anthropic,
    /// Amazon Bedrock's Converse API, signed with AWS credentials.
    Bedrock,
    /// Google's Gemini API, or Vertex AI.
    Gemini,
    /// Ollama's native API (`/api/chat`).
    Ollama,
    /// Azure OpenAI, with its API key or Microsoft Entra ID.
    Azure,
    /// A Microsoft Foundry project (Responses API, Microsoft Entra ID).
    Foundry,
    /// Weft's offline scripted model.
    Scripted,
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
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with code 0; usage errors to stderr with code 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(error::EXIT_USAGE));
        }
    };
    // A server uses every core; the other commands need one thread.
    let mut builder = match cli.command {
        Command::Serve(_) | Command::Devui(_) | Command::Worker(_) => {
            tokio::runtime::Builder::new_multi_thread()
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(source) => {
            return error::report(&error::CliError::Io {
                context: "could not start the async runtime".into(),
                source,
            });
        }
    };
    // Inside the runtime: the OTLP/gRPC exporter's channel lives on it.
    let telemetry = match runtime.block_on(async { telemetry::start(cli.otlp.as_deref()) }) {
        Ok(telemetry) => telemetry,
        Err(error) => return error::report(&error),
    };
    // DevUI's trace view: the spans of the recent runs kept in memory, for `--ui` only (the
    // other commands record nothing).
    let traces = match &mut cli.command {
        Command::Serve(args) if args.ui => {
            args.traces.insert(weft::telemetry::TraceRecorder::new()).clone().into()
        }
        Command::Devui(args) => {
            args.serve.traces.insert(weft::telemetry::TraceRecorder::new()).clone().into()
        }
        _ => None,
    };
    logging::init(cli.verbose, cli.quiet, &telemetry, traces.as_ref());
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::Chat(args) => chat::run(args).await,
            Command::Mcp(args) => mcp::run(args).await,
            Command::Models(args) => models::run(args).await,
            Command::Completions(args) => completions::run(&args),
            Command::Validate(args) => declarative::validate(&args),
            Command::Schema(args) => declarative::schema(&args),
            Command::Serve(args) => serve::run(args).await,
            Command::Devui(args) => serve::devui(args).await,
            Command::Worker(args) => worker::run(args).await,
            Command::Workflow(args) => workflow_status::run(args).await,
        }
    });
    // The spans are flushed before the exit, whatever the outcome (the error, if any, is
    // reported after, so that it is the last line); off the runtime's thread, which keeps
    // driving a gRPC exporter's connection meanwhile.
    runtime.block_on(async {
        let _ = tokio::task::spawn_blocking(move || telemetry::finish(telemetry)).await;
    });
    drop(runtime);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error::report(&error),
    }
}
