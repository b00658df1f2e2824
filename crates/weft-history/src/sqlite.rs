//! [`SqliteHistoryStore`]: histories in a SQLite file.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use weft_core::Message;
use weft_core::history::{HistoryError, HistoryLimits, HistoryStore, HistoryWindow, decode_message};

use crate::sql_position;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS weft_history_sessions (
        session TEXT PRIMARY KEY,
        len     INTEGER NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS weft_history_messages (
        session  TEXT NOT NULL,
        position INTEGER NOT NULL,
        body     TEXT NOT NULL,
        PRIMARY KEY (session, position)
    ) WITHOUT ROWID",
];

/// Histories in a SQLite database (WAL journal). The schema is created when the store opens:
///
/// ```sql
/// CREATE TABLE weft_history_sessions (session TEXT PRIMARY KEY, len INTEGER NOT NULL);
/// CREATE TABLE weft_history_messages (
///     session TEXT NOT NULL, position INTEGER NOT NULL, body TEXT NOT NULL,  -- JSON
///     PRIMARY KEY (session, position));
/// ```
///
/// An append is one `BEGIN IMMEDIATE` transaction that moves the session's length and writes
/// the messages after it, so writers (tasks or processes) take turns and none is lost.
///
/// ```no_run
/// # async fn demo() -> Result<(), weft_core::history::HistoryError> {
/// use std::sync::Arc;
/// use weft_history::SqliteHistoryStore;
///
/// let store = Arc::new(SqliteHistoryStore::open("history.db").await?);
/// # let _ = store; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteHistoryStore {
    id: String,
    pool: SqlitePool,
    limits: HistoryLimits,
}

impl SqliteHistoryStore {
    /// Opens (creating when missing) the database at `path` and creates the schema. The store's
    /// id is `sqlite`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, HistoryError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| HistoryError::backend("sqlite", e))?;
        Self::with_pool(pool).await
    }

    /// A store over an existing pool; creates the schema.
    pub async fn with_pool(pool: SqlitePool) -> Result<Self, HistoryError> {
        let store = Self { id: "sqlite".into(), pool, limits: HistoryLimits::default() };
        let mut tx = store.pool.begin_with("BEGIN IMMEDIATE").await.map_err(|e| store.backend(e))?;
        for statement in SCHEMA {
            sqlx::query(*statement).execute(&mut *tx).await.map_err(|e| store.backend(e))?;
        }
        tx.commit().await.map_err(|e| store.backend(e))?;
        Ok(store)
    }

    /// This store under another id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// This store with other limits.
    pub fn with_limits(mut self, limits: HistoryLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Closes the pool's connections (they close on drop too, in the background).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn backend(&self, error: sqlx::Error) -> HistoryError {
        HistoryError::backend(&self.id, error)
    }

    fn decode(
        &self,
        session: &str,
        rows: Vec<sqlx::sqlite::SqliteRow>,
    ) -> Result<Vec<Message>, HistoryError> {
        rows.iter()
            .map(|row| {
                let position: i64 = row.try_get(0).map_err(|e| self.backend(e))?;
                let body: &str = row.try_get(1).map_err(|e| self.backend(e))?;
                decode_message(session, u64::try_from(position).unwrap_or(0), body)
            })
            .collect()
    }
}

#[async_trait]
impl HistoryStore for SqliteHistoryStore {
    fn id(&self) -> &str {
        &self.id
    }

    fn limits(&self) -> HistoryLimits {
        self.limits
    }

    async fn append(&self, session: &str, messages: &[Message]) -> Result<u64, HistoryError> {
        let bodies = self.limits.encode(session, messages)?;
        if bodies.is_empty() {
            return self.len(session).await;
        }
        let adding = i64::try_from(bodies.len()).unwrap_or(i64::MAX);
        // Dropping the transaction before commit (an error, a cancelled future) rolls it back.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(|e| self.backend(e))?;
        let len: i64 = sqlx::query_scalar(
            "INSERT INTO weft_history_sessions (session, len) VALUES (?1, ?2)
             ON CONFLICT (session) DO UPDATE SET len = len + ?2 RETURNING len",
        )
        .bind(session)
        .bind(adding)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.backend(e))?;
        let start = len - adding;
        self.limits.check_room(session, u64::try_from(start).unwrap_or(0), bodies.len())?;
        for (offset, body) in (0i64..).zip(&bodies) {
            sqlx::query("INSERT INTO weft_history_messages (session, position, body) VALUES (?1, ?2, ?3)")
                .bind(session)
                .bind(start + offset)
                .bind(body)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.backend(e))?;
        }
        tx.commit().await.map_err(|e| self.backend(e))?;
        Ok(u64::try_from(len).unwrap_or(0))
    }

    async fn load(&self, session: &str, window: HistoryWindow) -> Result<Vec<Message>, HistoryError> {
        let rows = match window {
            HistoryWindow::Last(n) => {
                let mut rows = sqlx::query(
                    "SELECT position, body FROM weft_history_messages WHERE session = ?1
                     ORDER BY position DESC LIMIT ?2",
                )
                .bind(session)
                .bind(sql_position(n))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.backend(e))?;
                rows.reverse();
                rows
            }
            HistoryWindow::All | HistoryWindow::Range { .. } => {
                let (start, end) = window.bounds(u64::MAX);
                sqlx::query(
                    "SELECT position, body FROM weft_history_messages
                     WHERE session = ?1 AND position >= ?2 AND position < ?3 ORDER BY position",
                )
                .bind(session)
                .bind(sql_position(start))
                .bind(sql_position(end))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.backend(e))?
            }
        };
        self.decode(session, rows)
    }

    async fn len(&self, session: &str) -> Result<u64, HistoryError> {
        let len: Option<i64> = sqlx::query_scalar("SELECT len FROM weft_history_sessions WHERE session = ?1")
            .bind(session)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.backend(e))?;
        Ok(len.and_then(|len| u64::try_from(len).ok()).unwrap_or(0))
    }

    async fn clear(&self, session: &str) -> Result<(), HistoryError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(|e| self.backend(e))?;
        for statement in [
            "DELETE FROM weft_history_messages WHERE session = ?1",
            "DELETE FROM weft_history_sessions WHERE session = ?1",
        ] {
            sqlx::query(statement).bind(session).execute(&mut *tx).await.map_err(|e| self.backend(e))?;
        }
        tx.commit().await.map_err(|e| self.backend(e))?;
        Ok(())
    }
}
