//! [`InMemoryStore`]: responses and conversations in memory, lost on restart.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use weft_core::AgentSession;

use super::tasks::MemoryTasks;
use super::{
    CheckpointMeta, Conversation, DEFAULT_CHECKPOINTS_PER_RUN, DEFAULT_MAX_CHECKPOINTS, ItemPage, ItemQuery,
    SessionStore, StoreError, StoredCheckpoint, StoredResponse, StoredTask, TaskChange, TaskPage, TaskQuery,
    TaskRetention, item_id, page,
};

/// The default capacity of [`InMemoryStore`]: this many responses, and this many conversations.
pub const DEFAULT_MEMORY_CAPACITY: usize = 10_000;

/// Responses, conversations and checkpoints in memory, lost on restart; beyond the capacity the
/// oldest response (or conversation) is forgotten, and checkpoints are bounded as
/// [`StoredCheckpoint`] says. Tasks are kept as long as their [`TaskRetention`] says.
#[derive(Debug)]
pub struct InMemoryStore {
    capacity: usize,
    checkpoints_per_run: usize,
    max_checkpoints: usize,
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    responses: HashMap<String, StoredResponse>,
    response_order: VecDeque<String>,
    conversations: HashMap<String, (Conversation, Vec<Value>)>,
    conversation_order: VecDeque<String>,
    tasks: MemoryTasks,
    /// `(scope, checkpoint)`, oldest saved first.
    checkpoints: VecDeque<(String, StoredCheckpoint)>,
}

impl Default for InMemoryStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_CAPACITY)
    }
}

impl InMemoryStore {
    /// A store that keeps the latest `capacity` responses and conversations (at least one each).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            checkpoints_per_run: DEFAULT_CHECKPOINTS_PER_RUN,
            max_checkpoints: DEFAULT_MAX_CHECKPOINTS,
            inner: Mutex::new(MemoryInner::default()),
        }
    }

    /// Keeps at most `per_run` checkpoints of one run and `total` in all (at least one each).
    pub fn checkpoint_limits(mut self, per_run: usize, total: usize) -> Self {
        self.checkpoints_per_run = per_run.max(1);
        self.max_checkpoints = total.max(1);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that matters
        // (each operation is one insert or remove), so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Inserts `key` into `map`, remembering its age in `order`; forgets the oldest beyond `capacity`.
fn insert_bounded<T>(
    map: &mut HashMap<String, T>,
    order: &mut VecDeque<String>,
    capacity: usize,
    key: &str,
    value: T,
) {
    if map.insert(key.to_string(), value).is_none() {
        order.push_back(key.to_string());
    }
    while order.len() > capacity {
        if let Some(oldest) = order.pop_front() {
            map.remove(&oldest);
        }
    }
}

#[async_trait]
impl SessionStore for InMemoryStore {
    async fn put_response(&self, id: &str, response: StoredResponse) -> Result<(), StoreError> {
        let inner = &mut *self.lock();
        insert_bounded(&mut inner.responses, &mut inner.response_order, self.capacity, id, response);
        Ok(())
    }

    async fn get_response(&self, id: &str) -> Result<Option<StoredResponse>, StoreError> {
        Ok(self.lock().responses.get(id).cloned())
    }

    async fn delete_response(&self, id: &str) -> Result<bool, StoreError> {
        let inner = &mut *self.lock();
        inner.response_order.retain(|kept| kept != id);
        Ok(inner.responses.remove(id).is_some())
    }

    async fn create_conversation(
        &self,
        conversation: Conversation,
        items: Vec<Value>,
    ) -> Result<(), StoreError> {
        let inner = &mut *self.lock();
        let id = conversation.id.clone();
        let (map, order) = (&mut inner.conversations, &mut inner.conversation_order);
        insert_bounded(map, order, self.capacity, &id, (conversation, items));
        Ok(())
    }

    async fn get_conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        Ok(self.lock().conversations.get(id).map(|(conversation, _)| conversation.clone()))
    }

    async fn update_conversation(
        &self,
        id: &str,
        metadata: Value,
    ) -> Result<Option<Conversation>, StoreError> {
        let mut inner = self.lock();
        Ok(inner.conversations.get_mut(id).map(|(conversation, _)| {
            conversation.metadata = metadata;
            conversation.clone()
        }))
    }

    async fn delete_conversation(&self, id: &str) -> Result<bool, StoreError> {
        let inner = &mut *self.lock();
        inner.conversation_order.retain(|kept| kept != id);
        Ok(inner.conversations.remove(id).is_some())
    }

    async fn append_items(&self, id: &str, items: Vec<Value>, max_items: usize) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let Some((_, kept)) = inner.conversations.get_mut(id) else { return Ok(false) };
        if kept.len().saturating_add(items.len()) > max_items {
            return Err(StoreError::Full { limit: max_items });
        }
        kept.extend(items);
        Ok(true)
    }

    async fn list_items(&self, id: &str, query: ItemQuery) -> Result<Option<ItemPage>, StoreError> {
        Ok(self.lock().conversations.get(id).map(|(_, items)| page(items, &query)))
    }

    async fn get_item(&self, id: &str, wanted: &str) -> Result<Option<Value>, StoreError> {
        let inner = self.lock();
        let items = inner.conversations.get(id).map(|(_, items)| items);
        Ok(items.and_then(|items| items.iter().find(|item| item_id(item) == wanted).cloned()))
    }

    async fn delete_item(&self, id: &str, wanted: &str) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let Some((_, items)) = inner.conversations.get_mut(id) else { return Ok(false) };
        let before = items.len();
        items.retain(|item| item_id(item) != wanted);
        Ok(items.len() < before)
    }

    async fn create_task(&self, task: StoredTask, retention: &TaskRetention) -> Result<(), StoreError> {
        self.lock().tasks.create(task, retention);
        Ok(())
    }

    async fn get_task(&self, id: &str) -> Result<Option<StoredTask>, StoreError> {
        Ok(self.lock().tasks.get(id))
    }

    async fn update_task(&self, id: &str, change: TaskChange<'_>) -> Result<Option<StoredTask>, StoreError> {
        Ok(self.lock().tasks.update(id, change))
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage, StoreError> {
        Ok(self.lock().tasks.list(query))
    }

    async fn forget_tasks(&self, retention: &TaskRetention) -> Result<(), StoreError> {
        self.lock().tasks.forget(retention);
        Ok(())
    }

    async fn put_task_context(
        &self,
        agent: &str,
        context_id: &str,
        session: &AgentSession,
    ) -> Result<(), StoreError> {
        self.lock().tasks.put_context(agent, context_id, session.clone());
        Ok(())
    }

    async fn get_task_context(
        &self,
        agent: &str,
        context_id: &str,
    ) -> Result<Option<AgentSession>, StoreError> {
        Ok(self.lock().tasks.get_context(agent, context_id))
    }

    async fn put_checkpoint(&self, scope: &str, checkpoint: StoredCheckpoint) -> Result<(), StoreError> {
        let inner = &mut *self.lock();
        let kept = &mut inner.checkpoints;
        kept.retain(|(s, c)| !(s == scope && c.meta.id == checkpoint.meta.id));
        let same_run =
            |(s, c): &(String, StoredCheckpoint)| s == scope && c.meta.run_id == checkpoint.meta.run_id;
        let mut of_run = kept.iter().filter(|entry| same_run(entry)).count();
        while of_run >= self.checkpoints_per_run {
            match kept.iter().position(same_run) {
                Some(oldest) => {
                    kept.remove(oldest);
                    of_run -= 1;
                }
                None => break,
            }
        }
        kept.push_back((scope.to_string(), checkpoint));
        while kept.len() > self.max_checkpoints {
            kept.pop_front();
        }
        Ok(())
    }

    async fn get_checkpoint(&self, scope: &str, id: &str) -> Result<Option<StoredCheckpoint>, StoreError> {
        let inner = self.lock();
        Ok(inner.checkpoints.iter().find(|(s, c)| s == scope && c.meta.id == id).map(|(_, c)| c.clone()))
    }

    async fn list_checkpoints(&self, scope: &str, run_id: &str) -> Result<Vec<CheckpointMeta>, StoreError> {
        let inner = self.lock();
        let mut metas: Vec<CheckpointMeta> = inner
            .checkpoints
            .iter()
            .filter(|(s, c)| s == scope && c.meta.run_id == run_id)
            .map(|(_, c)| c.meta.clone())
            .collect();
        // Stable: equal keys stay in the order they were saved.
        metas.sort_by_key(|meta| (meta.superstep, meta.created_at_ms));
        Ok(metas)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;
    use crate::store::Order;

    fn response() -> StoredResponse {
        StoredResponse { agent: "x".into(), response: json!({}), input_items: Vec::new(), session: None }
    }

    #[tokio::test]
    async fn forgets_the_oldest_beyond_capacity() {
        let store = InMemoryStore::with_capacity(2);
        for id in ["a", "b", "c"] {
            store.put_response(id, response()).await.unwrap();
        }
        assert!(store.get_response("a").await.unwrap().is_none());
        assert!(store.get_response("b").await.unwrap().is_some());
        assert!(store.get_response("c").await.unwrap().is_some());
    }

    fn checkpoint(id: &str, run_id: &str, superstep: u64) -> StoredCheckpoint {
        let meta = CheckpointMeta {
            id: id.into(),
            run_id: run_id.into(),
            superstep,
            created_at_ms: 1,
            pending_requests: 0,
        };
        StoredCheckpoint { meta, body: format!("{{\"id\":\"{id}\"}}") }
    }

    #[tokio::test]
    async fn keeps_checkpoints_by_scope_within_its_bounds() {
        let store = InMemoryStore::default().checkpoint_limits(2, 3);
        for (id, superstep) in [("a1", 0), ("a2", 1), ("a3", 2)] {
            store.put_checkpoint("wf", checkpoint(id, "run_a", superstep)).await.unwrap();
        }
        // Two per run: the run's oldest is forgotten.
        assert!(store.get_checkpoint("wf", "a1").await.unwrap().is_none());
        let ids = |metas: Vec<CheckpointMeta>| metas.into_iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(store.list_checkpoints("wf", "run_a").await.unwrap()), ["a2", "a3"]);
        // Another scope sees none of them.
        assert!(store.get_checkpoint("other", "a2").await.unwrap().is_none());
        assert!(store.list_checkpoints("other", "run_a").await.unwrap().is_empty());
        // Three in all: the oldest saved goes.
        store.put_checkpoint("other", checkpoint("b1", "run_b", 0)).await.unwrap();
        store.put_checkpoint("other", checkpoint("b2", "run_b", 1)).await.unwrap();
        assert!(store.get_checkpoint("wf", "a2").await.unwrap().is_none());
        let kept = store.get_checkpoint("wf", "a3").await.unwrap().unwrap();
        assert_eq!(kept.body, r#"{"id":"a3"}"#);
        // Saving an id again replaces it.
        store.put_checkpoint("other", checkpoint("b2", "run_b", 5)).await.unwrap();
        assert_eq!(store.list_checkpoints("other", "run_b").await.unwrap()[1].superstep, 5);
    }

    #[tokio::test]
    async fn pages_items_in_either_order() {
        let store = InMemoryStore::default();
        let conversation = Conversation { id: "conv_1".into(), created_at: 1, metadata: json!({}) };
        let items: Vec<Value> = (1..=5).map(|n| json!({"id": format!("i{n}")})).collect();
        store.create_conversation(conversation, items).await.unwrap();
        let ids = |page: ItemPage| page.items.iter().map(|i| item_id(i).to_string()).collect::<Vec<_>>();
        let query = ItemQuery { after: None, limit: Some(2), order: Order::Desc };
        let first = store.list_items("conv_1", query).await.unwrap().unwrap();
        assert!(first.has_more);
        assert_eq!(ids(first), ["i5", "i4"]);
        let query = ItemQuery { after: Some("i4".into()), limit: Some(10), order: Order::Desc };
        let rest = store.list_items("conv_1", query).await.unwrap().unwrap();
        assert!(!rest.has_more);
        assert_eq!(ids(rest), ["i3", "i2", "i1"]);
        assert!(store.delete_item("conv_1", "i3").await.unwrap());
        assert_eq!(
            ids(store.list_items("conv_1", ItemQuery::all()).await.unwrap().unwrap()),
            ["i1", "i2", "i4", "i5"]
        );
        assert!(store.list_items("nope", ItemQuery::all()).await.unwrap().is_none());
    }
}

#[cfg(test)]
mod task_tests {
    use super::InMemoryStore;
    use crate::store::tasks::contract;

    #[tokio::test]
    async fn tasks_are_listed_and_updated_atomically() {
        contract::lists_and_updates(&InMemoryStore::default()).await;
    }

    #[tokio::test]
    async fn tasks_are_forgotten_by_their_retention() {
        contract::forgets_by_retention(&InMemoryStore::default()).await;
    }
}
