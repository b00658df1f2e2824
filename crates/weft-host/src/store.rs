//! Where conversations live between requests: a [`SessionStore`] keyed by response id. Each
//! response's conversation is kept as it was after that response, so `previous_response_id` can
//! branch from any earlier turn. [`InMemoryStore`] is the default; the trait is async so that a
//! store on disk (SQLite) can implement it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use weft_core::AgentSession;

/// A conversation as kept after one response.
#[derive(Debug, Clone)]
pub struct StoredConversation {
    /// The agent that answered.
    pub agent: String,
    /// The conversation after the response.
    pub session: AgentSession,
}

/// Why a store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's backend failed.
    #[error("the conversation store failed: {0}")]
    Backend(String),
}

/// Conversations by response id.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The conversation after response `response_id`, if kept.
    async fn load(&self, response_id: &str) -> Result<Option<StoredConversation>, StoreError>;
    /// Keeps the conversation after response `response_id`.
    async fn save(&self, response_id: &str, conversation: StoredConversation) -> Result<(), StoreError>;
}

/// The default capacity of [`InMemoryStore`]: this many responses.
pub const DEFAULT_MEMORY_CAPACITY: usize = 10_000;

/// Conversations in memory, lost on restart; the oldest response is forgotten beyond the capacity.
#[derive(Debug)]
pub struct InMemoryStore {
    capacity: usize,
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    by_id: HashMap<String, StoredConversation>,
    order: VecDeque<String>,
}

impl Default for InMemoryStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_CAPACITY)
    }
}

impl InMemoryStore {
    /// A store that keeps the latest `capacity` responses (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), inner: Mutex::new(MemoryInner::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        // A panic while holding the lock cannot leave the map half-updated in a way that matters
        // (each operation is one insert or remove), so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl SessionStore for InMemoryStore {
    async fn load(&self, response_id: &str) -> Result<Option<StoredConversation>, StoreError> {
        Ok(self.lock().by_id.get(response_id).cloned())
    }

    async fn save(&self, response_id: &str, conversation: StoredConversation) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.by_id.insert(response_id.to_string(), conversation).is_none() {
            inner.order.push_back(response_id.to_string());
        }
        while inner.order.len() > self.capacity {
            if let Some(oldest) = inner.order.pop_front() {
                inner.by_id.remove(&oldest);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn forgets_the_oldest_beyond_capacity() {
        let store = InMemoryStore::with_capacity(2);
        for id in ["a", "b", "c"] {
            let conversation = StoredConversation { agent: "x".into(), session: AgentSession::new() };
            store.save(id, conversation).await.unwrap();
        }
        assert!(store.load("a").await.unwrap().is_none());
        assert!(store.load("b").await.unwrap().is_some());
        assert!(store.load("c").await.unwrap().is_some());
    }
}
