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
        if matches!(self, CliError::Provider(_)) {
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
        line
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
