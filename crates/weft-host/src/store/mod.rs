//! Where the host keeps what outlives a request: a [`SessionStore`] holds stored responses (the
//! response object, its input items and the conversation after it, so `previous_response_id` can
//! branch from any earlier turn) and conversations (`/v1/conversations`: metadata and an
//! append-only list of items), and the checkpoints of runs that must outlive the process (a
//! workflow paused for human input: see [`StoredCheckpoint`]).
//!
//! It also keeps tasks (see [`StoredTask`]): the long-running units of work of a protocol server
//! such as A2A's, with the conversation of each context they belong to.
//!
//! [`InMemoryStore`] is the default (lost on restart); `SqliteStore` (feature `sqlite`) keeps
//! everything in a SQLite file that survives restarts. Items are kept as the JSON objects the
//! Responses protocol shows (`message`, `function_call`, `function_call_output`, each with an
//! `id`); the host rebuilds an agent's conversation from them.

mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_tasks;
mod tasks;

use async_trait::async_trait;
use serde_json::Value;
use weft_core::AgentSession;

pub use memory::{DEFAULT_MEMORY_CAPACITY, InMemoryStore};

/// The most checkpoints a store keeps of one run by default: saving one more forgets the
/// run's oldest.
pub const DEFAULT_CHECKPOINTS_PER_RUN: usize = 64;

/// The most checkpoints a store keeps in all by default: saving one more forgets the oldest
/// saved.
pub const DEFAULT_MAX_CHECKPOINTS: usize = 10_000;
#[cfg(feature = "sqlite")]
pub use sqlite::{DEFAULT_MAX_ROW_BYTES, SqliteStore};
pub use tasks::{StoredTask, TaskChange, TaskPage, TaskPhase, TaskQuery, TaskRetention};

/// A response as kept for `GET /v1/responses/{id}` and `previous_response_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// The agent that answered (the request's `model`).
    pub agent: String,
    /// The response object, as last reported (`queued`, `in_progress`, then its final status).
    pub response: Value,
    /// The request's input items, with their ids.
    pub input_items: Vec<Value>,
    /// The conversation after the response; `None` until the run ended well (then the response
    /// cannot be continued).
    pub session: Option<AgentSession>,
}

impl StoredResponse {
    /// The response's `status`.
    pub fn status(&self) -> &str {
        self.response.get("status").and_then(Value::as_str).unwrap_or("")
    }
}

/// A conversation's own fields (its items are kept apart).
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// `conv_…`.
    pub id: String,
    /// When it was created, in Unix seconds.
    pub created_at: u64,
    /// The client's metadata (a JSON object).
    pub metadata: Value,
}

impl Conversation {
    /// The conversation object, as OpenAI writes it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "object": "conversation",
            "created_at": self.created_at,
            "metadata": self.metadata,
        })
    }
}

/// What a store says of a checkpoint in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointMeta {
    /// Its id (unique within its scope).
    pub id: String,
    /// The run it belongs to.
    pub run_id: String,
    /// The step of the run it was taken after.
    pub superstep: u64,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// How many requests for input it waits on.
    pub pending_requests: usize,
}

/// A checkpoint of a run (a workflow's whole state between two steps), kept as its JSON text:
/// the host knows no workflow, the server that builds it writes and reads the text. Each is
/// kept under a scope (the entity whose run it is), so one entity never loads another's.
///
/// Stores keep them bounded: at most [`DEFAULT_CHECKPOINTS_PER_RUN`] of one run and
/// [`DEFAULT_MAX_CHECKPOINTS`] in all (the oldest are forgotten first), and `SqliteStore`
/// refuses one larger than its row limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// What a listing says of it.
    pub meta: CheckpointMeta,
    /// The checkpoint as JSON text.
    pub body: String,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first (OpenAI's default for item lists).
    #[default]
    Desc,
}

/// Which items a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemQuery {
    /// Start after the item with this id (in the listing's order).
    pub after: Option<String>,
    /// At most this many; `None` for all of them.
    pub limit: Option<usize>,
    /// The order.
    pub order: Order,
}

impl ItemQuery {
    /// Every item, oldest first.
    pub fn all() -> Self {
        Self { after: None, limit: None, order: Order::Asc }
    }
}

/// One page of items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemPage {
    /// The items, in the order asked for.
    pub items: Vec<Value>,
    /// Whether more items follow the last one.
    pub has_more: bool,
}

/// Why a store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's backend failed.
    #[error("the conversation store failed: {0}")]
    Backend(String),
    /// A record is larger than the store accepts.
    #[error("a {what} of {bytes} bytes is over the store's limit of {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A conversation would hold more items than the host allows.
    #[error("a conversation holds at most {limit} items")]
    Full {
        /// The most items a conversation may hold.
        limit: usize,
    },
}

/// Stored responses and conversations. Every method is one atomic step, so concurrent requests
/// on one conversation take turns and never lose an item.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Keeps (or replaces) response `id`.
    async fn put_response(&self, id: &str, response: StoredResponse) -> Result<(), StoreError>;
    /// Response `id`, if kept.
    async fn get_response(&self, id: &str) -> Result<Option<StoredResponse>, StoreError>;
    /// Forgets response `id`; whether it was kept.
    async fn delete_response(&self, id: &str) -> Result<bool, StoreError>;

    /// Creates `conversation` with its first `items`.
    async fn create_conversation(
        &self,
        conversation: Conversation,
        items: Vec<Value>,
    ) -> Result<(), StoreError>;
    /// Conversation `id`, if kept.
    async fn get_conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError>;
    /// Replaces the metadata of conversation `id`; the conversation after, if kept.
    async fn update_conversation(
        &self,
        id: &str,
        metadata: Value,
    ) -> Result<Option<Conversation>, StoreError>;
    /// Forgets conversation `id` and its items; whether it was kept.
    async fn delete_conversation(&self, id: &str) -> Result<bool, StoreError>;
    /// Appends `items` to conversation `id`, in one step; whether the conversation is kept.
    /// Appends nothing, and fails with [`StoreError::Full`], when the conversation would then
    /// hold more than `max_items` items.
    async fn append_items(&self, id: &str, items: Vec<Value>, max_items: usize) -> Result<bool, StoreError>;
    /// Items of conversation `id`; `None` when the conversation is not kept.
    async fn list_items(&self, id: &str, query: ItemQuery) -> Result<Option<ItemPage>, StoreError>;
    /// Item `item_id` of conversation `id`.
    async fn get_item(&self, id: &str, item_id: &str) -> Result<Option<Value>, StoreError>;
    /// Removes item `item_id` from conversation `id`; whether it was there.
    async fn delete_item(&self, id: &str, item_id: &str) -> Result<bool, StoreError>;

    /// Keeps the new task `task` (its id is new), then forgets what `retention` says.
    async fn create_task(&self, task: StoredTask, retention: &TaskRetention) -> Result<(), StoreError>;
    /// Task `id`, if kept.
    async fn get_task(&self, id: &str) -> Result<Option<StoredTask>, StoreError>;
    /// Applies `change` to task `id` in one atomic step (a concurrent change waits for it) and
    /// writes the task back when `change` says it changed it; the task after, if kept.
    async fn update_task(&self, id: &str, change: TaskChange<'_>) -> Result<Option<StoredTask>, StoreError>;
    /// The tasks `query` selects, newest first, and how many it selects in all.
    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage, StoreError>;
    /// Forgets the tasks `retention` says, and the conversations of the contexts left without a
    /// task.
    async fn forget_tasks(&self, retention: &TaskRetention) -> Result<(), StoreError>;
    /// Keeps (or replaces) the conversation of `agent`'s context `context_id`; it is forgotten
    /// with the context's last task.
    async fn put_task_context(
        &self,
        agent: &str,
        context_id: &str,
        session: &AgentSession,
    ) -> Result<(), StoreError>;
    /// The conversation of `agent`'s context `context_id`, if kept.
    async fn get_task_context(
        &self,
        agent: &str,
        context_id: &str,
    ) -> Result<Option<AgentSession>, StoreError>;
    /// Keeps (or replaces) `checkpoint` under `scope`, in one step; beyond the store's bounds
    /// the oldest checkpoints of its run, then the oldest of all, are forgotten.
    async fn put_checkpoint(&self, scope: &str, checkpoint: StoredCheckpoint) -> Result<(), StoreError>;
    /// Checkpoint `id` of `scope`, if kept.
    async fn get_checkpoint(&self, scope: &str, id: &str) -> Result<Option<StoredCheckpoint>, StoreError>;
    /// The checkpoints of run `run_id` in `scope`, by superstep then age (oldest first).
    async fn list_checkpoints(&self, scope: &str, run_id: &str) -> Result<Vec<CheckpointMeta>, StoreError>;
}

/// The `id` of an item.
pub(crate) fn item_id(item: &Value) -> &str {
    item.get("id").and_then(Value::as_str).unwrap_or("")
}

/// A page of `items` (oldest first) as `query` asks.
pub(crate) fn page(items: &[Value], query: &ItemQuery) -> ItemPage {
    let ordered: Vec<&Value> = match query.order {
        Order::Asc => items.iter().collect(),
        Order::Desc => items.iter().rev().collect(),
    };
    let start = match &query.after {
        None => 0,
        Some(after) => {
            ordered.iter().position(|item| item_id(item) == after).map_or(ordered.len(), |i| i + 1)
        }
    };
    let rest = &ordered[start..];
    let take = query.limit.unwrap_or(rest.len()).min(rest.len());
    ItemPage { items: rest[..take].iter().map(|item| (*item).clone()).collect(), has_more: take < rest.len() }
}
