//! Sessions: the conversation an agent keeps between runs, serializable to JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::SessionError;
use crate::message::{Content, Message};

/// The newest session format this build writes and reads.
pub const SESSION_FORMAT_VERSION: u32 = 1;

/// A conversation thread: the history an agent sends to the model, kept across runs. Save it
/// with [`AgentSession::to_json`] and resume with [`AgentSession::from_json`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSession {
    /// The format version (see [`SESSION_FORMAT_VERSION`]).
    pub format_version: u32,
    /// A unique id.
    pub id: String,
    /// The conversation, oldest first (without the agent's instructions).
    pub messages: Vec<Message>,
    /// Free-form data an application keeps with the session.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

impl Default for AgentSession {
    fn default() -> Self {
        Self::new()
    }
}

impl AgentSession {
    /// An empty session with a new id.
    pub fn new() -> Self {
        Self {
            format_version: SESSION_FORMAT_VERSION,
            id: uuid::Uuid::new_v4().to_string(),
            messages: Vec::new(),
            metadata: Map::new(),
        }
    }

    /// The session as JSON.
    pub fn to_json(&self) -> Result<String, SessionError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// A session from JSON written by [`AgentSession::to_json`].
    pub fn from_json(json: &str) -> Result<Self, SessionError> {
        let session: AgentSession = serde_json::from_str(json)?;
        if session.format_version > SESSION_FORMAT_VERSION {
            return Err(SessionError::Version {
                found: session.format_version,
                supported: SESSION_FORMAT_VERSION,
            });
        }
        Ok(session)
    }

    /// Writes the session to a file.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), SessionError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json()?)
            .map_err(|source| SessionError::Io { path: path.display().to_string(), source })
    }

    /// Reads a session from a file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self, SessionError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path)
            .map_err(|source| SessionError::Io { path: path.display().to_string(), source })?;
        Self::from_json(&json)
    }

    /// Approval requests the last run ended with that no later message answered.
    pub fn pending_approvals(&self) -> Vec<crate::message::ApprovalRequest> {
        let Some(last) = self.messages.last() else { return Vec::new() };
        last.contents
            .iter()
            .filter_map(|c| match c {
                Content::ApprovalRequest(request) => Some(request.clone()),
                _ => None,
            })
            .collect()
    }
}
