//! History stores: where a session's messages live when the session does not carry them.
//!
//! A [`HistoryStore`] keeps each session's messages in order, by session id. A session kept in
//! a store ([`AgentSession::stored_in`](crate::agent::AgentSession::stored_in)) holds only the
//! store's id; an agent given that store ([`ChatAgentBuilder::history_store`](crate::agent::ChatAgentBuilder::history_store))
//! loads only the window it sends and appends the run's new messages at the end of the run.
//!
//! Every append is atomic: the messages of one call land together, in order, and concurrent
//! writers to one session never lose a message. Sizes are bounded ([`HistoryLimits`]): a
//! message too large or a session too long is refused with a typed error, and nothing of that
//! append is written.
//!
//! [`MemoryHistoryStore`] keeps them in memory; the crate `weft-history` has SQLite, Postgres
//! and Redis stores.
//!
//! ```
//! # async fn demo() -> Result<(), weft_core::history::HistoryError> {
//! use weft_core::history::{HistoryStore, HistoryWindow, MemoryHistoryStore};
//! use weft_core::Message;
//!
//! let store = MemoryHistoryStore::new();
//! store.append("s1", &[Message::user("hi"), Message::assistant("hello")]).await?;
//! assert_eq!(store.len("s1").await?, 2);
//! let last = store.load("s1", HistoryWindow::Last(1)).await?;
//! assert_eq!(last[0].text(), "hello");
//! # Ok(()) }
//! ```

mod memory;

use async_trait::async_trait;

use crate::error::BoxError;
use crate::message::Message;

pub use memory::MemoryHistoryStore;

/// The default largest message a store accepts: 1 MiB of JSON.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The default longest session a store accepts: 100,000 messages.
pub const DEFAULT_MAX_SESSION_MESSAGES: u64 = 100_000;

/// Which of a session's messages to load. Positions count from 0, the oldest message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryWindow {
    /// Every message.
    All,
    /// The newest `n` messages (fewer when the session is shorter).
    Last(u64),
    /// The messages at positions `start..end` (`end` past the length means up to the end).
    Range {
        /// The first position loaded.
        start: u64,
        /// The position after the last one loaded.
        end: u64,
    },
}

impl HistoryWindow {
    /// The messages from position `start` to the end.
    pub fn from_position(start: u64) -> Self {
        HistoryWindow::Range { start, end: u64::MAX }
    }

    /// The positions `start..end` this window covers in a session of `len` messages (empty
    /// when `start >= end`).
    pub fn bounds(&self, len: u64) -> (u64, u64) {
        match *self {
            HistoryWindow::All => (0, len),
            HistoryWindow::Last(n) => (len.saturating_sub(n), len),
            HistoryWindow::Range { start, end } => {
                let end = end.min(len);
                (start.min(end), end)
            }
        }
    }
}

/// The sizes a store accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// The largest message, in bytes of its JSON.
    pub max_message_bytes: usize,
    /// The most messages one session may hold.
    pub max_session_messages: u64,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_session_messages: DEFAULT_MAX_SESSION_MESSAGES,
        }
    }
}

impl HistoryLimits {
    /// The messages of one append as JSON, each checked against the message limit. Stores
    /// call this before writing anything, so that a refused append writes nothing.
    pub fn encode(&self, session: &str, messages: &[Message]) -> Result<Vec<String>, HistoryError> {
        messages
            .iter()
            .enumerate()
            .map(|(index, message)| {
                let json = serde_json::to_string(message)
                    .map_err(|source| HistoryError::Encode { session: session.to_string(), source })?;
                if json.len() > self.max_message_bytes {
                    return Err(HistoryError::MessageTooLarge {
                        session: session.to_string(),
                        index,
                        bytes: json.len(),
                        limit: self.max_message_bytes,
                    });
                }
                Ok(json)
            })
            .collect()
    }

    /// Checks that a session of `len` messages can take `adding` more.
    pub fn check_room(&self, session: &str, len: u64, adding: usize) -> Result<(), HistoryError> {
        let adding = u64::try_from(adding).unwrap_or(u64::MAX);
        if len.saturating_add(adding) > self.max_session_messages {
            return Err(HistoryError::SessionFull {
                session: session.to_string(),
                len,
                adding,
                limit: self.max_session_messages,
            });
        }
        Ok(())
    }
}

/// A stored message as JSON back into a [`Message`], naming where it was on failure.
pub fn decode_message(session: &str, position: u64, json: &str) -> Result<Message, HistoryError> {
    serde_json::from_str(json).map_err(|source| HistoryError::Corrupt {
        session: session.to_string(),
        position,
        source,
    })
}

/// Where a session's messages live: appended atomically, loaded by window.
///
/// Implementations keep, per session id, an ordered list of messages. Every method may be
/// called concurrently, from several processes for stores on a server: an append is all or
/// nothing and never interleaves with another append to the same session, so concurrent
/// writers each find all their messages, in their order. Run the shared test suite of the
/// crate `weft-history` (its `tests/suite`) against a new implementation.
#[async_trait]
pub trait HistoryStore: Send + Sync + 'static {
    /// The store's id: sessions kept in this store name it
    /// ([`AgentSession::history`](crate::agent::AgentSession::history)).
    fn id(&self) -> &str;

    /// The sizes this store accepts.
    fn limits(&self) -> HistoryLimits;

    /// Appends `messages` to the end of the session (creating it), all or nothing, and returns
    /// the session's new length. Refuses, writing nothing, a message over
    /// [`HistoryLimits::max_message_bytes`] and an append that would take the session past
    /// [`HistoryLimits::max_session_messages`].
    async fn append(&self, session: &str, messages: &[Message]) -> Result<u64, HistoryError>;

    /// The session's messages in `window`, oldest first (none for an unknown session).
    async fn load(&self, session: &str, window: HistoryWindow) -> Result<Vec<Message>, HistoryError>;

    /// How many messages the session holds (0 for an unknown session).
    async fn len(&self, session: &str) -> Result<u64, HistoryError>;

    /// Whether the session holds no message.
    async fn is_empty(&self, session: &str) -> Result<bool, HistoryError> {
        Ok(self.len(session).await? == 0)
    }

    /// Removes every message of the session.
    async fn clear(&self, session: &str) -> Result<(), HistoryError>;
}

/// An error of a history store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// One message of an append is too large; nothing was written.
    #[error(
        "history of session '{session}': message {index} of the append is {bytes} bytes, over the \
         store's limit of {limit} (raise max_message_bytes on the store, or send less)"
    )]
    MessageTooLarge {
        /// The session.
        session: String,
        /// The message's position in the append.
        index: usize,
        /// Its size as JSON.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The append would take the session past its limit; nothing was written.
    #[error(
        "history of session '{session}' holds {len} messages; adding {adding} would pass the \
         store's limit of {limit} (clear the session, start a new one, or raise max_session_messages)"
    )]
    SessionFull {
        /// The session.
        session: String,
        /// Its length.
        len: u64,
        /// How many messages the append had.
        adding: u64,
        /// The limit.
        limit: u64,
    },
    /// A session names a store the agent was not given.
    #[error(
        "session '{session}' is kept in the history store '{store}', but the agent has {available} \
         (give the agent that store with ChatAgentBuilder::history_store)"
    )]
    UnknownStore {
        /// The session.
        session: String,
        /// The store the session names.
        store: String,
        /// What the agent has instead.
        available: String,
    },
    /// A message could not be written as JSON.
    #[error("history of session '{session}': a message does not serialize: {source}")]
    Encode {
        /// The session.
        session: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A stored message does not read back as a message.
    #[error(
        "history of session '{session}': the message at position {position} is not a valid message: {source}"
    )]
    Corrupt {
        /// The session.
        session: String,
        /// Its position.
        position: u64,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The store's backend failed (connection, query, server).
    #[error("history store '{store}': {source}")]
    Backend {
        /// The store's id.
        store: String,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
}

impl HistoryError {
    /// A backend failure of the store `store`.
    pub fn backend(store: &str, source: impl Into<BoxError>) -> Self {
        HistoryError::Backend { store: store.to_string(), source: source.into() }
    }
}
