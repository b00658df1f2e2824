//! Errors: every problem of a file is a [`Problem`] with its `file:line:col`.

use std::fmt;
use std::path::PathBuf;

/// One problem in a declarative file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (`<string>` for text given directly).
    pub file: PathBuf,
    /// The line, from 1 (0 when unknown).
    pub line: u64,
    /// The column, from 1 (0 when unknown).
    pub column: u64,
    /// What is wrong, and what to do. Never holds a secret's value.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
    }
}

/// Why a declarative agent could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{}: could not read the file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid agent; nothing was built or connected.
    #[error("{}", Problems(.0))]
    Invalid(Vec<Problem>),
    /// An MCP server of a `kind: mcp` tool could not be connected (those connected before it
    /// were closed).
    #[error("{problem}: {source}")]
    Connect {
        /// Where the tool is.
        problem: Problem,
        /// The cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl LoadError {
    /// The file's problems (for [`LoadError::Invalid`]; one for the others).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            LoadError::Invalid(problems) => problems.clone(),
            LoadError::Read { path, source } => vec![Problem {
                file: path.clone(),
                line: 0,
                column: 0,
                message: format!("could not read the file: {source}"),
            }],
            LoadError::Connect { problem, source } => {
                vec![Problem { message: format!("{}: {source}", problem.message), ..problem.clone() }]
            }
        }
    }
}

/// Problems shown one per line.
struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}
