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

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The arguments do not make sense together.
    Usage(String),
    /// The provider could not be set up.
    Provider(ChatError),
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
    /// The user pressed Ctrl-C.
    Interrupted,
}

impl CliError {
    /// The process exit code for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Provider(_) => EXIT_MODEL,
            CliError::Agent(
                AgentError::Chat { .. }
                | AgentError::MaxIterations { .. }
                | AgentError::StructuredOutput { .. },
            ) => EXIT_MODEL,
            CliError::Agent(_) | CliError::Session(_) | CliError::Io { .. } => EXIT_OTHER,
            CliError::Mcp { code, .. } => *code,
            CliError::Interrupted => EXIT_INTERRUPTED,
        }
    }

    /// A short name of the category, for JSON output.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "usage",
            CliError::Provider(_) => "provider",
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
            CliError::Interrupted => "interrupted",
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
        if matches!(self, CliError::Provider(_) | CliError::Mcp { .. }) {
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
            CliError::Usage(message) => f.write_str(message),
            CliError::Provider(error) => write!(f, "could not set up the model provider: {error}"),
            CliError::Agent(error) => fmt::Display::fmt(error, f),
            CliError::Session(error) => fmt::Display::fmt(error, f),
            CliError::Io { context, source } => write!(f, "{context}: {source}"),
            CliError::Mcp { line, .. } => f.write_str(line),
            CliError::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Usage(_) | CliError::Interrupted => None,
            CliError::Provider(error) => error.source(),
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
    match error {
        CliError::Interrupted => eprintln!("weft: interrupted"),
        other => eprintln!("weft: error: {}", other.chain()),
    }
    ExitCode::from(error.exit_code())
}
