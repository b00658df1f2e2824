//! [`PostgresHistoryStore`]: histories in a Postgres database.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use weft_core::Message;
use weft_core::history::{HistoryError, HistoryLimits, HistoryStore, HistoryWindow, decode_message};

use crate::sql_position;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS weft_history_sessions (
        session TEXT PRIMARY KEY,
        len     BIGINT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS weft_history_messages (
        session  TEXT NOT NULL,
        position BIGINT NOT NULL,
        body     TEXT NOT NULL,
        PRIMARY KEY (session, position)
    )",
];

/// Histories in a Postgres database. The schema is created when the store opens:
///
/// ```sql
/// CREATE TABLE weft_history_sessions (session TEXT PRIMARY KEY, len BIGINT NOT NULL);
/// CREATE TABLE weft_history_messages (
///     session TEXT NOT NULL, position BIGINT NOT NULL, body TEXT NOT NULL,  -- JSON
///     PRIMARY KEY (session, position));
/// ```
///
/// An append is one transaction: an upsert of the session's length (which locks the session's
/// row until commit, so writers to one session take turns and none is lost; writers to other
/// sessions do not wait) and the messages after it.
///
/// ```no_run
/// # async fn demo() -> Result<(), weft_core::history::HistoryError> {
/// use std::sync::Arc;
/// use weft_history::PostgresHistoryStore;
///
/// let store = Arc::new(PostgresHistoryStore::connect("postgres://weft@localhost/weft").await?);
/// # let _ = store; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresHistoryStore {
    id: String,
    pool: PgPool,
    limits: HistoryLimits,
}

impl PostgresHistoryStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// creates the schema. The store's id is `postgres`. Errors never show the password.
    pub async fn connect(url: &str) -> Result<Self, HistoryError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| {
                HistoryError::backend("postgres", weft_core::redact::redact_urls(&e.to_string()).into_owned())
            })?;
        Self::with_pool(pool).await
    }

    /// A store over an existing pool; creates the schema.
    pub async fn with_pool(pool: PgPool) -> Result<Self, HistoryError> {
        let store = Self { id: "postgres".into(), pool, limits: HistoryLimits::default() };
        let mut tx = store.pool.begin().await.map_err(|e| store.backend(e))?;
        // Stores opening at once would race on `CREATE TABLE IF NOT EXISTS`: take turns.
        sqlx::query("SELECT pg_advisory_xact_lock(7230518004)")
            .execute(&mut *tx)
            .await
            .map_err(|e| store.backend(e))?;
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

    fn decode(&self, session: &str, rows: Vec<PgRow>) -> Result<Vec<Message>, HistoryError> {
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
impl HistoryStore for PostgresHistoryStore {
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
        let mut tx = self.pool.begin().await.map_err(|e| self.backend(e))?;
        let len: i64 = sqlx::query_scalar(
            "INSERT INTO weft_history_sessions (session, len) VALUES ($1, $2)
             ON CONFLICT (session) DO UPDATE SET len = weft_history_sessions.len + EXCLUDED.len
             RETURNING len",
        )
        .bind(session)
        .bind(adding)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.backend(e))?;
        let start = len - adding;
        self.limits.check_room(session, u64::try_from(start).unwrap_or(0), bodies.len())?;
        for (offset, body) in (0i64..).zip(&bodies) {
            sqlx::query("INSERT INTO weft_history_messages (session, position, body) VALUES ($1, $2, $3)")
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
                    "SELECT position, body FROM weft_history_messages WHERE session = $1
                     ORDER BY position DESC LIMIT $2",
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
                     WHERE session = $1 AND position >= $2 AND position < $3 ORDER BY position",
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
        let len: Option<i64> = sqlx::query_scalar("SELECT len FROM weft_history_sessions WHERE session = $1")
            .bind(session)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.backend(e))?;
        Ok(len.and_then(|len| u64::try_from(len).ok()).unwrap_or(0))
    }

    async fn clear(&self, session: &str) -> Result<(), HistoryError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.backend(e))?;
        for statement in [
            "DELETE FROM weft_history_messages WHERE session = $1",
            "DELETE FROM weft_history_sessions WHERE session = $1",
        ] {
            sqlx::query(statement).bind(session).execute(&mut *tx).await.map_err(|e| self.backend(e))?;
        }
        tx.commit().await.map_err(|e| self.backend(e))?;
        Ok(())
    }
}
