//! The CLI's errors: one line on stderr and an exit code per category.

use std::fmt;
use std::process::ExitCode;

use weft::{AgentError, ChatError, SessionError};

/// Exit code of errors that fit no other category.
pub(crate) const EXIT_OTHER: u8 = 1;
/// Exit code of usage errors (bad flags or arguments).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code of model and provider errors.
pub(crate) const EXIT_MODEL: u8 = 3;
/// Exit code when an MCP server cannot be reached (refused, not resolved, command not found,
/// exited during the handshake, connection lost).
pub(crate) const EXIT_MCP_UNREACHABLE: u8 = 4;
/// Exit code when an MCP server did not answer in time (connect or request).
pub(crate) const EXIT_MCP_TIMEOUT: u8 = 5;
/// Exit code when an MCP server refused the credentials (HTTP 401/403).
pub(crate) const EXIT_MCP_AUTH: u8 = 6;
/// Exit code when an MCP server broke the protocol or answered with a JSON-RPC error.
pub(crate) const EXIT_MCP_PROTOCOL: u8 = 7;
/// Exit code when an MCP tool reported an error (`isError`).
pub(crate) const EXIT_MCP_TOOL: u8 = 8;
/// Exit code when interrupted (128 + SIGINT).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// The exit-code table, as a literal so that help texts can `concat!` it.
macro_rules! exit_codes {
    () => {
        "\
Errors are one line on stderr (`weft: error: …`) saying what failed and why. Exit codes:
  0    success
  1    other errors (a file that cannot be read or written, a session file that does not load)
  2    usage errors (bad flags or arguments, an unknown tool, a server command line that
       cannot be split)
  3    the model failed (its server unreachable, refused, or broken; the model still
       calling tools after --max-iterations model calls)
  4    an MCP server cannot be reached (connection refused, host not found, command not found,
       server exited during the handshake, an HTTP error status, connection lost)
  5    an MCP server timed out (connecting, or waiting for an answer; see --timeout)
  6    an MCP server refused the credentials (HTTP 401/403; see --bearer, --header)
  7    an MCP server broke the protocol, answered over the 16 MiB message limit, or answered
       with a JSON-RPC error
  8    an MCP tool reported an error (`weft mcp call`; in `weft run` the model gets the error)
  130  interrupted (Ctrl-C)"
    };
}

/// The exit codes of every command, shown at the end of `weft --help`, `weft mcp --help`, …
/// (one table: a code means the same thing whichever command returns it).
pub(crate) const EXIT_CODES: &str = exit_codes!();

/// The end of `weft run --help` (and of `chat` and `models`): the environment, then the exit
/// codes.
pub(crate) const RUN_AFTER_HELP: &str = concat!(
    "\
Environment:
  OPENAI_API_KEY     the model server's key (never printed); with it, or with a base URL, the
                     OpenAI-compatible provider is used instead of the offline scripted model
  OPENAI_BASE_URL    the model server, as --base-url
  OPENAI_MODEL       the model, as --model
  OPENAI_ORG_ID, OPENAI_PROJECT_ID
                     sent as OpenAI's organization and project headers
  ANTHROPIC_API_KEY  the key of Anthropic's API, with --provider anthropic (never printed)
  ANTHROPIC_BASE_URL another server of the Messages API (e.g. llama-server), as --base-url
  ANTHROPIC_MODEL    the model with --provider anthropic (default: claude-sonnet-4-5)
  AWS_REGION         the region of --provider bedrock (else AWS_DEFAULT_REGION, else the profile's)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
                     the credentials --provider bedrock signs with (never printed)
  AWS_PROFILE        else, the profile of ~/.aws/credentials and ~/.aws/config to read
  AWS_BEARER_TOKEN_BEDROCK
                     a Bedrock API key, instead of AWS credentials (never printed)
  BEDROCK_MODEL      the model id or inference profile with --provider bedrock, as --model
  GEMINI_API_KEY, GOOGLE_API_KEY
                     the key of the Gemini API, with --provider gemini (never printed)
  GEMINI_BASE_URL    another server of the Gemini API (e.g. a LiteLLM proxy's /v1beta)
  GEMINI_MODEL       the model with --provider gemini (default: gemini-2.5-flash)
  GOOGLE_GENAI_USE_VERTEXAI=true, GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION,
  GOOGLE_CLOUD_ACCESS_TOKEN
                     --provider gemini on Vertex AI, with an OAuth access token (never printed)
  OLLAMA_HOST        Ollama's server with --provider ollama, as --base-url (default:
                     http://localhost:11434; also host or host:port)
  OLLAMA_MODEL       the model with --provider ollama (default: llama3.2)
  OLLAMA_API_KEY     a bearer token for an Ollama behind a proxy, with --provider ollama
                     (never printed)
  AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT, AZURE_OPENAI_API_VERSION
                     Azure OpenAI with --provider azure (api-version v1: every API on /openai/v1/)
  AZURE_OPENAI_API_KEY
                     its key (never printed); without it, Microsoft Entra ID signs in
  FOUNDRY_PROJECT_ENDPOINT, FOUNDRY_MODEL_DEPLOYMENT_NAME
                     a Foundry project (https://<resource>.services.ai.azure.com/api/projects/<p>)
                     and model deployment, with --provider foundry (also AZURE_AI_PROJECT_ENDPOINT,
                     AZURE_AI_MODEL_DEPLOYMENT_NAME)
  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE
                     Microsoft Entra ID sign-in, tried in order: environment (client secret),
                     workload identity, managed identity, then the Azure CLI (`az login`)
  RUST_LOG           which logs to show on stderr (e.g. weft_openai=debug); wins over -v and -q

",
    exit_codes!()
);

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The arguments do not make sense together.
    Usage(String),
    /// The provider could not be set up.
    Provider(ChatError),
    /// The model server's list of models could not be had.
    Models(ChatError),
    /// The agent run failed.
    Agent(AgentError),
    /// The session file could not be read or written.
    Session(SessionError),
    /// Reading or writing a stream or file failed.
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An MCP server failed: the line says which and why, the code is its category's.
    Mcp {
        /// The whole error line (without the `weft: error: ` prefix).
        line: String,
        /// The exit code.
        code: u8,
        /// The typed error.
        source: weft_mcp::McpError,
    },
    /// A workflow run failed or could not go on.
    Workflow(String),
    /// Restate refused or could not be reached (`weft worker --register`).
    Restate(String),
    /// The user pressed Ctrl-C.
    Interrupted,
    /// A failure already shown on stderr (a turn of `weft chat`): only its exit code is left.
    Reported(u8),
}

impl CliError {
    /// The process exit code for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Provider(_) | CliError::Models(_) => EXIT_MODEL,
            CliError::Agent(
                AgentError::Chat { .. }
                | AgentError::MaxIterations { .. }
                | AgentError::StructuredOutput { .. },
            ) => EXIT_MODEL,
            CliError::Agent(_)
            | CliError::Session(_)
            | CliError::Io { .. }
            | CliError::Workflow(_)
            | CliError::Restate(_) => EXIT_OTHER,
            CliError::Mcp { code, .. } => *code,
            CliError::Interrupted => EXIT_INTERRUPTED,
            CliError::Reported(code) => *code,
        }
    }

    /// A short name of the category, for JSON output.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "usage",
            CliError::Provider(_) | CliError::Models(_) => "provider",
            CliError::Agent(AgentError::Chat { .. }) => "model",
            CliError::Agent(_) => "agent",
            CliError::Session(_) => "session",
            CliError::Io { .. } => "io",
            CliError::Mcp { code, .. } => match *code {
                EXIT_MCP_UNREACHABLE => "mcp_unreachable",
                EXIT_MCP_TIMEOUT => "mcp_timeout",
                EXIT_MCP_AUTH => "mcp_auth",
                EXIT_MCP_PROTOCOL => "mcp_protocol",
                EXIT_MCP_TOOL => "mcp_tool",
                _ => "mcp",
            },
            CliError::Workflow(_) => "workflow",
            CliError::Restate(_) => "restate",
            CliError::Interrupted => "interrupted",
            CliError::Reported(_) => "reported",
        }
    }

    /// The error and its causes on one line. A cause whose text the line already holds is
    /// skipped (many errors quote their cause in their own message), and the chain stops at a
    /// [`ChatError`]: its message already says what its transport cause was (the whole chain is
    /// logged at debug level).
    pub(crate) fn chain(&self) -> String {
        let mut line = self.to_string();
        let mut source = std::error::Error::source(self);
        // Provider and MCP lines already name their transport cause.
        if matches!(self, CliError::Provider(_) | CliError::Models(_) | CliError::Mcp { .. }) {
            source = None;
        }
        while let Some(cause) = source {
            let text = cause.to_string();
            if !text.is_empty() && !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            tracing::debug!(cause = %text, "caused by");
            source = if cause.is::<ChatError>() { None } else { cause.source() };
        }
        crate::provider::in_cli_terms(line)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) | CliError::Workflow(message) | CliError::Restate(message) => {
                f.write_str(message)
            }
            CliError::Provider(error) => write!(f, "could not set up the model provider: {error}"),
            CliError::Models(error) => write!(f, "could not list the models: {error}"),
            CliError::Agent(AgentError::MaxIterations { limit, .. }) => write!(
                f,
                "the model still requested tools after {limit} model calls; \
                 allow more with --max-iterations (1 to 1000)"
            ),
            CliError::Agent(error) => fmt::Display::fmt(error, f),
            CliError::Session(error) => fmt::Display::fmt(error, f),
            CliError::Io { context, source } => write!(f, "{context}: {source}"),
            CliError::Mcp { line, .. } => f.write_str(line),
            CliError::Interrupted => f.write_str("interrupted"),
            CliError::Reported(code) => write!(f, "failed (exit code {code})"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Usage(_)
            | CliError::Workflow(_)
            | CliError::Restate(_)
            | CliError::Interrupted
            | CliError::Reported(_) => None,
            CliError::Provider(error) | CliError::Models(error) => error.source(),
            CliError::Agent(error) => error.source(),
            CliError::Session(error) => error.source(),
            CliError::Io { source, .. } => source.source(),
            CliError::Mcp { source, .. } => Some(source),
        }
    }
}

impl From<AgentError> for CliError {
    fn from(error: AgentError) -> Self {
        CliError::Agent(error)
    }
}

impl From<SessionError> for CliError {
    fn from(error: SessionError) -> Self {
        CliError::Session(error)
    }
}

/// Prints `weft: error: …` on stderr and returns the exit code.
pub(crate) fn report(error: &CliError) -> ExitCode {
    // `weft … | head`: the reader closed the pipe because it has what it wanted. Like other
    // command-line tools, stop quietly (Rust ignores SIGPIPE, so this arrives as an error).
    if let CliError::Io { source, .. } = error {
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
    }
    match error {
        CliError::Interrupted => eprintln!("weft: interrupted"),
        CliError::Reported(_) => {}
        other => eprintln!("weft: error: {}", other.chain()),
    }
    ExitCode::from(error.exit_code())
}
