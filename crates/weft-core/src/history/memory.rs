//! [`MemoryHistoryStore`]: histories in this process's memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{HistoryError, HistoryLimits, HistoryStore, HistoryWindow};
use crate::message::Message;

/// Histories in memory, lost when the last clone is dropped. Clones share the histories. Each
/// append holds one lock for the whole batch, so concurrent appends never interleave.
#[derive(Debug, Clone)]
pub struct MemoryHistoryStore {
    id: String,
    limits: HistoryLimits,
    sessions: Arc<Mutex<HashMap<String, Vec<Message>>>>,
}

impl Default for MemoryHistoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryHistoryStore {
    /// An empty store with the id `memory` and the default limits.
    pub fn new() -> Self {
        Self { id: "memory".into(), limits: HistoryLimits::default(), sessions: Arc::default() }
    }

    /// This store under another id (for an agent that has several stores).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// This store with other limits.
    pub fn with_limits(mut self, limits: HistoryLimits) -> Self {
        self.limits = limits;
        self
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Vec<Message>>> {
        // A panic while the lock was held cannot leave a half-done append (each append is one
        // `extend` after every check), so a poisoned lock is still consistent.
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl HistoryStore for MemoryHistoryStore {
    fn id(&self) -> &str {
        &self.id
    }

    fn limits(&self) -> HistoryLimits {
        self.limits
    }

    async fn append(&self, session: &str, messages: &[Message]) -> Result<u64, HistoryError> {
        self.limits.encode(session, messages)?;
        let mut sessions = self.sessions();
        let history = sessions.entry(session.to_string()).or_default();
        self.limits.check_room(session, history.len() as u64, messages.len())?;
        history.extend_from_slice(messages);
        Ok(history.len() as u64)
    }

    async fn load(&self, session: &str, window: HistoryWindow) -> Result<Vec<Message>, HistoryError> {
        let sessions = self.sessions();
        let Some(history) = sessions.get(session) else { return Ok(Vec::new()) };
        let (start, end) = window.bounds(history.len() as u64);
        let range = usize::try_from(start).unwrap_or(usize::MAX)..usize::try_from(end).unwrap_or(usize::MAX);
        Ok(history.get(range).map(<[Message]>::to_vec).unwrap_or_default())
    }

    async fn len(&self, session: &str) -> Result<u64, HistoryError> {
        Ok(self.sessions().get(session).map_or(0, |history| history.len() as u64))
    }

    async fn clear(&self, session: &str) -> Result<(), HistoryError> {
        self.sessions().remove(session);
        Ok(())
    }
}
