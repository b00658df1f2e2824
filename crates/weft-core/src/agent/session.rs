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

/// A random (version 4) UUID without a system call per id: `uuid::Uuid::new_v4` asks the OS
/// for 16 bytes every time (a `getrandom` call per session and per streamed tool result). std's
/// `RandomState` holds SipHash keys drawn from the OS once per thread and advanced for each new
/// state, so hashing with a fresh state gives unpredictable, distinct bits.
pub(crate) fn random_uuid() -> uuid::Uuid {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    let high = state.hash_one(0x5eed_u64).to_le_bytes();
    let low = state.hash_one(0xf00d_u64).to_le_bytes();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high);
    bytes[8..].copy_from_slice(&low);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

impl AgentSession {
    /// An empty session with a new id.
    pub fn new() -> Self {
        Self {
            format_version: SESSION_FORMAT_VERSION,
            id: random_uuid().to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_distinct_version_4_uuids() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| AgentSession::new().id).collect();
        assert_eq!(ids.len(), 10_000);
        let threads: Vec<_> = (0..4).map(|_| std::thread::spawn(|| AgentSession::new().id)).collect();
        let mut all = ids;
        for thread in threads {
            assert!(all.insert(thread.join().unwrap()));
        }
        for id in all.iter().take(100) {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version(), Some(uuid::Version::Random));
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
        }
    }
}
