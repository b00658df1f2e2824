//! [`SqliteStore`]: responses and conversations in a SQLite file (feature `sqlite`), so they
//! survive a restart of the server.
//!
//! The schema is created when the store opens (`CREATE … IF NOT EXISTS`):
//!
//! ```sql
//! CREATE TABLE weft_host_responses (
//!     id TEXT PRIMARY KEY, agent TEXT NOT NULL, updated_at INTEGER NOT NULL,
//!     response TEXT NOT NULL, input_items TEXT NOT NULL, session TEXT  -- JSON
//! );
//! CREATE TABLE weft_host_conversations (
//!     id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, metadata TEXT NOT NULL
//! );
//! CREATE TABLE weft_host_items (
//!     seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order of the conversation
//!     conversation_id TEXT NOT NULL REFERENCES weft_host_conversations (id) ON DELETE CASCADE,
//!     item_id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (conversation_id, item_id)
//! );
//! CREATE TABLE weft_host_checkpoints (
//!     seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order they were saved in
//!     scope TEXT NOT NULL, checkpoint_id TEXT NOT NULL, run_id TEXT NOT NULL,
//!     superstep INTEGER NOT NULL, created_at_ms INTEGER NOT NULL, pending_requests INTEGER NOT NULL,
//!     body TEXT NOT NULL, UNIQUE (scope, checkpoint_id)
//! );
//! ```
//!
//! Tasks live in two more tables (see the `sqlite_tasks` module).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use weft_core::AgentSession;

use super::sqlite_tasks as tasks;
use super::{
    CheckpointMeta, Conversation, DEFAULT_CHECKPOINTS_PER_RUN, DEFAULT_MAX_CHECKPOINTS, ItemPage, ItemQuery,
    Order, SessionStore, StoreError, StoredCheckpoint, StoredResponse, StoredTask, TaskChange, TaskPage,
    TaskQuery, TaskRetention, item_id,
};

/// The default largest row: 16 MiB of JSON (a response's kept conversation grows with each turn).
pub const DEFAULT_MAX_ROW_BYTES: usize = 16 * 1024 * 1024;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS weft_host_responses (
        id          TEXT PRIMARY KEY,
        agent       TEXT NOT NULL,
        updated_at  INTEGER NOT NULL,
        response    TEXT NOT NULL,
        input_items TEXT NOT NULL,
        session     TEXT
    )",
    "CREATE TABLE IF NOT EXISTS weft_host_conversations (
        id         TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        metadata   TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS weft_host_items (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES weft_host_conversations (id) ON DELETE CASCADE,
        item_id         TEXT NOT NULL,
        body            TEXT NOT NULL,
        UNIQUE (conversation_id, item_id)
    )",
    "CREATE TABLE IF NOT EXISTS weft_host_checkpoints (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        scope            TEXT NOT NULL,
        checkpoint_id    TEXT NOT NULL,
        run_id           TEXT NOT NULL,
        superstep        INTEGER NOT NULL,
        created_at_ms    INTEGER NOT NULL,
        pending_requests INTEGER NOT NULL,
        body             TEXT NOT NULL,
        UNIQUE (scope, checkpoint_id)
    )",
    "CREATE INDEX IF NOT EXISTS weft_host_checkpoints_by_run ON weft_host_checkpoints (scope, run_id, seq)",
];

pub(crate) fn backend(error: sqlx::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

pub(crate) fn json_error(error: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("a stored record is not valid JSON: {error}"))
}

/// Responses, conversations and checkpoints in a SQLite database: WAL journal, each write one
/// transaction (`BEGIN IMMEDIATE`, so concurrent writers take turns), rows bounded in size,
/// checkpoints bounded in number (see [`StoredCheckpoint`]). A committed write survives the
/// process being killed.
///
/// ```no_run
/// # async fn demo() -> Result<(), weft_host::StoreError> {
/// use std::sync::Arc;
/// use weft_host::{Host, SqliteStore};
///
/// let host = Host::new().store(Arc::new(SqliteStore::open("weft.db").await?));
/// # let _ = host; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    max_row_bytes: usize,
    checkpoints_per_run: usize,
    max_checkpoints: usize,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `path` and creates the schema.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool =
            SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(backend)?;
        Self::with_pool(pool).await
    }

    /// A private in-memory database (one connection; lost when the store is dropped).
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").map_err(backend)?.foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(backend)?;
        Self::with_pool(pool).await
    }

    /// A store over an existing pool (its connections should enable foreign keys); creates the
    /// schema.
    pub async fn with_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        for statement in SCHEMA.iter().chain(super::sqlite_tasks::TASK_SCHEMA) {
            sqlx::query(*statement).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(Self {
            pool,
            max_row_bytes: DEFAULT_MAX_ROW_BYTES,
            checkpoints_per_run: DEFAULT_CHECKPOINTS_PER_RUN,
            max_checkpoints: DEFAULT_MAX_CHECKPOINTS,
        })
    }

    /// Refuses rows larger than `bytes` (default [`DEFAULT_MAX_ROW_BYTES`]).
    pub fn max_row_bytes(mut self, bytes: usize) -> Self {
        self.max_row_bytes = bytes;
        self
    }

    /// Keeps at most `per_run` checkpoints of one run and `total` in all (at least one each).
    pub fn checkpoint_limits(mut self, per_run: usize, total: usize) -> Self {
        self.checkpoints_per_run = per_run.max(1);
        self.max_checkpoints = total.max(1);
        self
    }

    /// `value` as JSON text, within the row limit.
    fn text(&self, what: &'static str, value: &impl serde::Serialize) -> Result<String, StoreError> {
        let text = serde_json::to_string(value).map_err(json_error)?;
        if text.len() > self.max_row_bytes {
            return Err(StoreError::TooLarge { what, bytes: text.len(), limit: self.max_row_bytes });
        }
        Ok(text)
    }

    fn item_rows(&self, items: &[Value]) -> Result<Vec<(String, String)>, StoreError> {
        items
            .iter()
            .map(|item| Ok((item_id(item).to_string(), self.text("conversation item", item)?)))
            .collect()
    }
}

fn int(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

fn meta(row: &sqlx::sqlite::SqliteRow) -> Result<CheckpointMeta, StoreError> {
    let superstep: i64 = row.try_get("superstep").map_err(backend)?;
    let created_at_ms: i64 = row.try_get("created_at_ms").map_err(backend)?;
    let pending: i64 = row.try_get("pending_requests").map_err(backend)?;
    Ok(CheckpointMeta {
        id: row.try_get("checkpoint_id").map_err(backend)?,
        run_id: row.try_get("run_id").map_err(backend)?,
        superstep: u64::try_from(superstep).unwrap_or(0),
        created_at_ms: u64::try_from(created_at_ms).unwrap_or(0),
        pending_requests: usize::try_from(pending).unwrap_or(0),
    })
}

fn unix_now() -> i64 {
    i64::try_from(crate::run::unix_now()).unwrap_or(i64::MAX)
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn put_response(&self, id: &str, response: StoredResponse) -> Result<(), StoreError> {
        let body = self.text("response", &response.response)?;
        let input_items = self.text("response's input items", &response.input_items)?;
        let session =
            response.session.as_ref().map(|session| self.text("conversation", session)).transpose()?;
        sqlx::query(
            "INSERT INTO weft_host_responses (id, agent, updated_at, response, input_items, session)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET agent = ?2, updated_at = ?3, response = ?4, input_items = ?5,
                                            session = ?6",
        )
        .bind(id)
        .bind(&response.agent)
        .bind(unix_now())
        .bind(body)
        .bind(input_items)
        .bind(session)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn get_response(&self, id: &str) -> Result<Option<StoredResponse>, StoreError> {
        let row = sqlx::query(
            "SELECT agent, response, input_items, session FROM weft_host_responses WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let session: Option<String> = row.try_get("session").map_err(backend)?;
        Ok(Some(StoredResponse {
            agent: row.try_get("agent").map_err(backend)?,
            response: serde_json::from_str(row.try_get("response").map_err(backend)?).map_err(json_error)?,
            input_items: serde_json::from_str(row.try_get("input_items").map_err(backend)?)
                .map_err(json_error)?,
            session: session.map(|text| serde_json::from_str(&text)).transpose().map_err(json_error)?,
        }))
    }

    async fn delete_response(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM weft_host_responses WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_conversation(
        &self,
        conversation: Conversation,
        items: Vec<Value>,
    ) -> Result<(), StoreError> {
        let metadata = self.text("metadata", &conversation.metadata)?;
        let rows = self.item_rows(&items)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        sqlx::query("INSERT INTO weft_host_conversations (id, created_at, metadata) VALUES (?1, ?2, ?3)")
            .bind(&conversation.id)
            .bind(i64::try_from(conversation.created_at).unwrap_or(i64::MAX))
            .bind(metadata)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        insert_items(&mut tx, &conversation.id, rows).await?;
        tx.commit().await.map_err(backend)
    }

    async fn get_conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        let row = sqlx::query("SELECT created_at, metadata FROM weft_host_conversations WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let created_at: i64 = row.try_get("created_at").map_err(backend)?;
        Ok(Some(Conversation {
            id: id.to_string(),
            created_at: u64::try_from(created_at).unwrap_or(0),
            metadata: serde_json::from_str(row.try_get("metadata").map_err(backend)?).map_err(json_error)?,
        }))
    }

    async fn update_conversation(
        &self,
        id: &str,
        metadata: Value,
    ) -> Result<Option<Conversation>, StoreError> {
        let text = self.text("metadata", &metadata)?;
        let done = sqlx::query("UPDATE weft_host_conversations SET metadata = ?2 WHERE id = ?1")
            .bind(id)
            .bind(text)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get_conversation(id).await
    }

    async fn delete_conversation(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM weft_host_conversations WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn append_items(&self, id: &str, items: Vec<Value>, max_items: usize) -> Result<bool, StoreError> {
        let rows = self.item_rows(&items)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let kept = sqlx::query("SELECT 1 FROM weft_host_conversations WHERE id = ?1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if kept.is_none() {
            return Ok(false);
        }
        let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM weft_host_items WHERE conversation_id = ?1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        if usize::try_from(held).unwrap_or(usize::MAX).saturating_add(rows.len()) > max_items {
            return Err(StoreError::Full { limit: max_items });
        }
        insert_items(&mut tx, id, rows).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn list_items(&self, id: &str, query: ItemQuery) -> Result<Option<ItemPage>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let kept = sqlx::query("SELECT 1 FROM weft_host_conversations WHERE id = ?1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if kept.is_none() {
            return Ok(None);
        }
        let after = match &query.after {
            None => None,
            Some(after) => {
                let seq: Option<i64> = sqlx::query_scalar(
                    "SELECT seq FROM weft_host_items WHERE conversation_id = ?1 AND item_id = ?2",
                )
                .bind(id)
                .bind(after)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
                // An unknown `after` item is past the end: nothing follows it.
                Some(seq.unwrap_or(match query.order {
                    Order::Asc => i64::MAX,
                    Order::Desc => i64::MIN,
                }))
            }
        };
        // One more than asked tells whether more follow; -1 is no limit in SQLite.
        let limit = query.limit.map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1);
        let sql = match query.order {
            Order::Asc => {
                "SELECT body FROM weft_host_items WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3"
            }
            Order::Desc => {
                "SELECT body FROM weft_host_items WHERE conversation_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
            }
        };
        let start = after.unwrap_or(match query.order {
            Order::Asc => i64::MIN,
            Order::Desc => i64::MAX,
        });
        let bodies: Vec<String> = sqlx::query_scalar(sql)
            .bind(id)
            .bind(start)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        let mut items = bodies
            .iter()
            .map(|body| serde_json::from_str(body))
            .collect::<Result<Vec<Value>, _>>()
            .map_err(json_error)?;
        let has_more = query.limit.is_some_and(|limit| items.len() > limit);
        if let Some(limit) = query.limit {
            items.truncate(limit);
        }
        Ok(Some(ItemPage { items, has_more }))
    }

    async fn get_item(&self, id: &str, item_id: &str) -> Result<Option<Value>, StoreError> {
        let body: Option<String> = sqlx::query_scalar(
            "SELECT body FROM weft_host_items WHERE conversation_id = ?1 AND item_id = ?2",
        )
        .bind(id)
        .bind(item_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        body.map(|body| serde_json::from_str(&body)).transpose().map_err(json_error)
    }

    async fn delete_item(&self, id: &str, item_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM weft_host_items WHERE conversation_id = ?1 AND item_id = ?2")
            .bind(id)
            .bind(item_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_task(&self, task: StoredTask, retention: &TaskRetention) -> Result<(), StoreError> {
        tasks::create(&self.pool, self.max_row_bytes, task, retention).await
    }

    async fn get_task(&self, id: &str) -> Result<Option<StoredTask>, StoreError> {
        tasks::get(&self.pool, id).await
    }

    async fn update_task(&self, id: &str, change: TaskChange<'_>) -> Result<Option<StoredTask>, StoreError> {
        tasks::update(&self.pool, self.max_row_bytes, id, change).await
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage, StoreError> {
        tasks::list(&self.pool, query).await
    }

    async fn forget_tasks(&self, retention: &TaskRetention) -> Result<(), StoreError> {
        tasks::forget(&self.pool, retention).await
    }

    async fn put_task_context(
        &self,
        agent: &str,
        context_id: &str,
        session: &AgentSession,
    ) -> Result<(), StoreError> {
        tasks::put_context(&self.pool, self.max_row_bytes, agent, context_id, session).await
    }

    async fn get_task_context(
        &self,
        agent: &str,
        context_id: &str,
    ) -> Result<Option<AgentSession>, StoreError> {
        tasks::get_context(&self.pool, agent, context_id).await
    }

    async fn put_checkpoint(&self, scope: &str, checkpoint: StoredCheckpoint) -> Result<(), StoreError> {
        if checkpoint.body.len() > self.max_row_bytes {
            let (bytes, limit) = (checkpoint.body.len(), self.max_row_bytes);
            return Err(StoreError::TooLarge { what: "checkpoint", bytes, limit });
        }
        let StoredCheckpoint { meta, body } = checkpoint;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        sqlx::query("DELETE FROM weft_host_checkpoints WHERE scope = ?1 AND checkpoint_id = ?2")
            .bind(scope)
            .bind(&meta.id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        // Room for one more of the run: its newest (per_run - 1) stay.
        sqlx::query(
            "DELETE FROM weft_host_checkpoints WHERE scope = ?1 AND run_id = ?2 AND seq NOT IN (
                 SELECT seq FROM weft_host_checkpoints WHERE scope = ?1 AND run_id = ?2
                 ORDER BY seq DESC LIMIT ?3)",
        )
        .bind(scope)
        .bind(&meta.run_id)
        .bind(int(self.checkpoints_per_run - 1))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "INSERT INTO weft_host_checkpoints
                 (scope, checkpoint_id, run_id, superstep, created_at_ms, pending_requests, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(scope)
        .bind(&meta.id)
        .bind(&meta.run_id)
        .bind(int(meta.superstep))
        .bind(int(meta.created_at_ms))
        .bind(int(meta.pending_requests))
        .bind(body)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        // The newest `max_checkpoints` of all stay.
        sqlx::query(
            "DELETE FROM weft_host_checkpoints WHERE seq <= (
                 SELECT seq FROM weft_host_checkpoints ORDER BY seq DESC LIMIT 1 OFFSET ?1)",
        )
        .bind(int(self.max_checkpoints))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn get_checkpoint(&self, scope: &str, id: &str) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row = sqlx::query(
            "SELECT checkpoint_id, run_id, superstep, created_at_ms, pending_requests, body
             FROM weft_host_checkpoints WHERE scope = ?1 AND checkpoint_id = ?2",
        )
        .bind(scope)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredCheckpoint { meta: meta(&row)?, body: row.try_get("body").map_err(backend)? }))
    }

    async fn list_checkpoints(&self, scope: &str, run_id: &str) -> Result<Vec<CheckpointMeta>, StoreError> {
        let rows = sqlx::query(
            "SELECT checkpoint_id, run_id, superstep, created_at_ms, pending_requests
             FROM weft_host_checkpoints WHERE scope = ?1 AND run_id = ?2
             ORDER BY superstep, created_at_ms, seq",
        )
        .bind(scope)
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(meta).collect()
    }
}

/// Inserts the `(item_id, body)` rows at the end of conversation `id`.
async fn insert_items(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    id: &str,
    rows: Vec<(String, String)>,
) -> Result<(), StoreError> {
    for (item_id, body) in rows {
        sqlx::query("INSERT INTO weft_host_items (conversation_id, item_id, body) VALUES (?1, ?2, ?3)")
            .bind(id)
            .bind(item_id)
            .bind(body)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;
    use weft_core::{AgentSession, Message};

    use super::*;

    #[tokio::test]
    async fn responses_and_conversations_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.db");
        let mut session = AgentSession::new();
        session.messages.push(Message::user("My name is Ada."));
        {
            let store = SqliteStore::open(&path).await.unwrap();
            let response = StoredResponse {
                agent: "helper".into(),
                response: json!({"id": "resp_1", "status": "completed"}),
                input_items: vec![json!({"id": "msg_1"})],
                session: Some(session.clone()),
            };
            store.put_response("resp_1", response).await.unwrap();
            let conversation =
                Conversation { id: "conv_1".into(), created_at: 7, metadata: json!({"k": "v"}) };
            store.create_conversation(conversation, vec![json!({"id": "a"})]).await.unwrap();
            assert!(
                store.append_items("conv_1", vec![json!({"id": "b"}), json!({"id": "c"})], 3).await.unwrap()
            );
            store.pool.close().await;
        }
        let store = SqliteStore::open(&path).await.unwrap();
        let response = store.get_response("resp_1").await.unwrap().unwrap();
        assert_eq!(response.status(), "completed");
        assert_eq!(response.session.unwrap().messages, session.messages);
        assert_eq!(store.get_conversation("conv_1").await.unwrap().unwrap().metadata["k"], "v");
        let desc = ItemQuery { after: Some("c".into()), limit: Some(1), order: Order::Desc };
        let page = store.list_items("conv_1", desc).await.unwrap().unwrap();
        assert_eq!(page.items, [json!({"id": "b"})]);
        assert!(page.has_more);
        let all = store.list_items("conv_1", ItemQuery::all()).await.unwrap().unwrap();
        assert_eq!(all.items.len(), 3);
        assert!(!all.has_more);
        assert!(store.delete_item("conv_1", "b").await.unwrap());
        assert!(store.delete_conversation("conv_1").await.unwrap());
        assert!(store.list_items("conv_1", ItemQuery::all()).await.unwrap().is_none());
        assert!(store.get_item("conv_1", "a").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn items_beyond_the_conversations_limit_are_refused_whole() {
        let store = SqliteStore::in_memory().await.unwrap();
        let conversation = Conversation { id: "conv_1".into(), created_at: 1, metadata: json!({}) };
        store.create_conversation(conversation, vec![json!({"id": "a"})]).await.unwrap();
        let error = store.append_items("conv_1", vec![json!({"id": "b"}), json!({"id": "c"})], 2).await;
        assert!(matches!(error, Err(StoreError::Full { limit: 2 })), "{error:?}");
        assert_eq!(store.list_items("conv_1", ItemQuery::all()).await.unwrap().unwrap().items.len(), 1);
        assert!(store.append_items("conv_1", vec![json!({"id": "b"})], 2).await.unwrap());
    }

    fn checkpoint(id: &str, run_id: &str, superstep: u64, body: &str) -> StoredCheckpoint {
        let meta = CheckpointMeta {
            id: id.into(),
            run_id: run_id.into(),
            superstep,
            created_at_ms: 1,
            pending_requests: 1,
        };
        StoredCheckpoint { meta, body: body.into() }
    }

    #[tokio::test]
    async fn checkpoints_survive_reopening_the_file_within_their_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.db");
        {
            let store = SqliteStore::open(&path).await.unwrap().checkpoint_limits(2, 3);
            for (id, superstep) in [("a1", 0), ("a2", 1), ("a3", 2)] {
                store.put_checkpoint("wf", checkpoint(id, "run_a", superstep, id)).await.unwrap();
            }
            store.put_checkpoint("other", checkpoint("b1", "run_b", 0, "b1")).await.unwrap();
            store.pool.close().await;
        }
        let store = SqliteStore::open(&path).await.unwrap().checkpoint_limits(2, 3);
        // Two per run: the run's oldest was forgotten.
        assert!(store.get_checkpoint("wf", "a1").await.unwrap().is_none());
        let kept = store.get_checkpoint("wf", "a3").await.unwrap().unwrap();
        assert_eq!((kept.body.as_str(), kept.meta.superstep, kept.meta.pending_requests), ("a3", 2, 1));
        let ids = |metas: Vec<CheckpointMeta>| metas.into_iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(store.list_checkpoints("wf", "run_a").await.unwrap()), ["a2", "a3"]);
        // Another scope sees none of them.
        assert!(store.get_checkpoint("other", "a3").await.unwrap().is_none());
        // Three in all: the oldest saved goes.
        store.put_checkpoint("other", checkpoint("b2", "run_b", 1, "b2")).await.unwrap();
        assert!(store.get_checkpoint("wf", "a2").await.unwrap().is_none());
        assert_eq!(ids(store.list_checkpoints("other", "run_b").await.unwrap()), ["b1", "b2"]);
        // Saving an id again replaces it.
        store.put_checkpoint("other", checkpoint("b1", "run_b", 7, "new")).await.unwrap();
        assert_eq!(store.get_checkpoint("other", "b1").await.unwrap().unwrap().body, "new");
        assert_eq!(ids(store.list_checkpoints("other", "run_b").await.unwrap()), ["b2", "b1"]);
    }

    #[tokio::test]
    async fn a_checkpoint_over_the_row_limit_is_refused() {
        let store = SqliteStore::in_memory().await.unwrap().max_row_bytes(8);
        let error = store.put_checkpoint("wf", checkpoint("c1", "run", 0, "0123456789")).await;
        assert!(matches!(error, Err(StoreError::TooLarge { what: "checkpoint", .. })), "{error:?}");
        assert!(store.get_checkpoint("wf", "c1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn rows_over_the_limit_are_refused() {
        let store = SqliteStore::in_memory().await.unwrap().max_row_bytes(64);
        let conversation = Conversation { id: "conv_1".into(), created_at: 1, metadata: json!({}) };
        store.create_conversation(conversation, Vec::new()).await.unwrap();
        let error = store.append_items("conv_1", vec![json!({"id": "x", "text": "y".repeat(100)})], 10).await;
        assert!(matches!(error, Err(StoreError::TooLarge { .. })), "{error:?}");
        assert!(store.list_items("conv_1", ItemQuery::all()).await.unwrap().unwrap().items.is_empty());
    }
}

#[cfg(test)]
mod task_tests {
    #![allow(clippy::unwrap_used)]
    use super::SqliteStore;
    use crate::store::tasks::contract;
    use crate::store::{SessionStore, TaskPhase, TaskRetention};

    #[tokio::test]
    async fn tasks_are_listed_and_updated_atomically() {
        contract::lists_and_updates(&SqliteStore::in_memory().await.unwrap()).await;
    }

    #[tokio::test]
    async fn tasks_are_forgotten_by_their_retention() {
        contract::forgets_by_retention(&SqliteStore::in_memory().await.unwrap()).await;
    }

    #[tokio::test]
    async fn tasks_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.db");
        let keep = TaskRetention { max_tasks: 10, expire_before_ms: 0 };
        {
            let store = SqliteStore::open(&path).await.unwrap();
            store.create_task(contract::task("t1", "c1", TaskPhase::Waiting, 5), &keep).await.unwrap();
            store.put_task_context("helper", "c1", &weft_core::AgentSession::new()).await.unwrap();
            store.pool.close().await;
        }
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(
            store.get_task("t1").await.unwrap().unwrap(),
            contract::task("t1", "c1", TaskPhase::Waiting, 5)
        );
        assert!(store.get_task_context("helper", "c1").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_task_over_the_row_limit_is_refused() {
        let store = SqliteStore::in_memory().await.unwrap().max_row_bytes(64);
        let mut task = contract::task("t1", "c1", TaskPhase::Running, 5);
        task.task = serde_json::json!({"text": "y".repeat(100)});
        let keep = TaskRetention { max_tasks: 10, expire_before_ms: 0 };
        let error = store.create_task(task, &keep).await;
        assert!(matches!(error, Err(crate::store::StoreError::TooLarge { .. })), "{error:?}");
        assert!(store.get_task("t1").await.unwrap().is_none());
    }
}
