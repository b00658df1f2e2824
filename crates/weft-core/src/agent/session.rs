//! Sessions: the conversation an agent keeps between runs, serializable to JSON.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::session_file;

use crate::error::SessionError;
use crate::message::{Content, Message};

/// The newest session format this build writes and reads.
pub const SESSION_FORMAT_VERSION: u32 = 1;

/// A conversation thread: the history an agent sends to the model, kept across runs. Save it
/// with [`AgentSession::to_json`] or [`AgentSession::save`] and resume with
/// [`AgentSession::from_json`] or [`AgentSession::load`].
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
    /// Where the conversation lives when a history store keeps it (then `messages` stays
    /// empty); `None` when the session carries its messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryRef>,
}

/// A session's place in a [`HistoryStore`](crate::history::HistoryStore): the store's id, and
/// what compaction made of the stored messages so far.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HistoryRef {
    /// The id of the store ([`HistoryStore::id`](crate::history::HistoryStore::id)).
    pub store: String,
    /// The stored messages before this position are compacted away: runs load from here.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub compacted_through: u64,
    /// What stands for the compacted messages (a summary), sent before those loaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub summary: Vec<Message>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
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
            history: None,
        }
    }

    /// An empty session, with a new id, whose messages the history store `store` keeps (give
    /// the agent that store with
    /// [`ChatAgentBuilder::history_store`](crate::agent::ChatAgentBuilder::history_store)).
    /// The session itself then holds only ids, whatever the length of the conversation.
    pub fn stored_in(store: &str) -> Self {
        let mut session = Self::new();
        session.history = Some(HistoryRef { store: store.to_string(), ..HistoryRef::default() });
        session
    }

    /// Whether a history store keeps this session's messages.
    pub fn is_stored(&self) -> bool {
        self.history.is_some()
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

    /// Writes the session to a file, atomically: the JSON goes to a new temporary file in the
    /// same directory, is flushed to disk and renamed over `path`, so that the file always
    /// holds a whole session (the old one or the new one), even if the process is killed
    /// mid-save. A symlink is followed (the link stays, its target is replaced), an existing
    /// file keeps its permissions, and a read-only file is refused.
    ///
    /// This blocks on file I/O; async code can use [`AgentSession::save_async`]. Concurrent
    /// saves to one file from several processes each write a whole session, but the last one
    /// wins: processes that load, run and save one file take turns with a lock of their own
    /// (as `weft run --session` does).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), SessionError> {
        save_json(path.as_ref(), &self.to_json()?)
    }

    /// [`AgentSession::save`] on tokio's blocking pool. The session is serialized first, on the
    /// caller's task; dropping the future does not stop a write under way (it completes or
    /// fails as a whole).
    pub async fn save_async(&self, path: impl Into<PathBuf>) -> Result<(), SessionError> {
        let path = path.into();
        let json = self.to_json()?;
        blocking(path, move |path| save_json(path, &json)).await
    }

    /// Reads a session from a file. Errors name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SessionError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|source| io_error(path, source))?;
        Self::from_json(&json).map_err(|source| SessionError::InvalidFile {
            path: path.display().to_string(),
            source: Box::new(source),
        })
    }

    /// [`AgentSession::load`] on tokio's blocking pool.
    pub async fn load_async(path: impl Into<PathBuf>) -> Result<Self, SessionError> {
        blocking(path.into(), |path| Self::load(path)).await
    }

    /// Checks, before any work whose result would be lost, that a session can be saved at
    /// `path`: its directory exists and takes new files, and an existing file is neither a
    /// directory nor read-only. Returns the file a save replaces: `path`, or the final target
    /// of a symlink (where a lock guarding the file belongs).
    pub fn check_path(path: impl AsRef<Path>) -> Result<PathBuf, SessionError> {
        let path = path.as_ref();
        let target = session_file::resolve(path).map_err(|source| io_error(path, source))?;
        session_file::check_writable(&target).map_err(|source| io_error(path, source))?;
        Ok(target)
    }

    /// Approval requests the last run ended with that no later message answered (of a session
    /// that carries its messages; for a stored one, see
    /// [`ChatAgent::pending_approvals`](crate::agent::ChatAgent::pending_approvals)).
    pub fn pending_approvals(&self) -> Vec<crate::message::ApprovalRequest> {
        pending_approvals_in(&self.messages)
    }
}

/// Approval requests the last of `messages` holds (those a conversation ending there waits on).
pub(crate) fn pending_approvals_in(messages: &[Message]) -> Vec<crate::message::ApprovalRequest> {
    let Some(last) = messages.last() else { return Vec::new() };
    last.contents
        .iter()
        .filter_map(|c| match c {
            Content::ApprovalRequest(request) => Some(request.clone()),
            _ => None,
        })
        .collect()
}

fn io_error(path: &Path, source: std::io::Error) -> SessionError {
    SessionError::Io { path: path.display().to_string(), source }
}

fn save_json(path: &Path, json: &str) -> Result<(), SessionError> {
    let target = session_file::resolve(path).map_err(|source| io_error(path, source))?;
    session_file::write_atomic(&target, json.as_bytes()).map_err(|source| io_error(path, source))
}

/// Runs blocking file work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    path: PathBuf,
    work: impl FnOnce(&Path) -> Result<T, SessionError> + Send + 'static,
) -> Result<T, SessionError> {
    let display = path.display().to_string();
    tokio::task::spawn_blocking(move || work(&path))
        .await
        .map_err(|error| SessionError::Io { path: display, source: std::io::Error::other(error) })?
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
