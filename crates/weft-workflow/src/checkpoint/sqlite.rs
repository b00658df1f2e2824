//! Checkpoints in a SQLite database: the embedded default store (feature `sqlite`).
//!
//! The schema is plain SQL that a Postgres store can mirror (`TEXT` → `text`, `INTEGER` →
//! `bigint`, the body `TEXT` → `jsonb`):
//!
//! ```sql
//! CREATE TABLE weft_workflow_runs (
//!     run_id        TEXT PRIMARY KEY,
//!     workflow_name TEXT NOT NULL,
//!     created_at_ms INTEGER NOT NULL,
//!     updated_at_ms INTEGER NOT NULL
//! );
//! CREATE TABLE weft_workflow_checkpoints (
//!     checkpoint_id    TEXT PRIMARY KEY,
//!     run_id           TEXT NOT NULL REFERENCES weft_workflow_runs (run_id) ON DELETE CASCADE,
//!     superstep        INTEGER NOT NULL,
//!     created_at_ms    INTEGER NOT NULL,
//!     format_version   INTEGER NOT NULL,
//!     pending_requests INTEGER NOT NULL,
//!     body             TEXT NOT NULL -- the checkpoint as JSON
//! );
//! ```

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};

use super::{Checkpoint, CheckpointInfo, CheckpointStore, sort_infos};
use crate::error::CheckpointError;

/// The schema version this build creates (kept in `PRAGMA user_version`).
pub const SQLITE_SCHEMA_VERSION: i64 = 1;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS weft_workflow_runs (
        run_id        TEXT PRIMARY KEY,
        workflow_name TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS weft_workflow_checkpoints (
        checkpoint_id    TEXT PRIMARY KEY,
        run_id           TEXT NOT NULL REFERENCES weft_workflow_runs (run_id) ON DELETE CASCADE,
        superstep        INTEGER NOT NULL,
        created_at_ms    INTEGER NOT NULL,
        format_version   INTEGER NOT NULL,
        pending_requests INTEGER NOT NULL,
        body             TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS weft_workflow_checkpoints_by_run
        ON weft_workflow_checkpoints (run_id, superstep, created_at_ms)",
];

fn store_error(error: sqlx::Error) -> CheckpointError {
    CheckpointError::Store(Box::new(error))
}

/// Keeps checkpoints in a SQLite database file: WAL journal, every save one `BEGIN IMMEDIATE`
/// transaction with `synchronous = FULL`, so a killed process leaves every committed
/// checkpoint readable and never a torn one. Several processes may share the file.
///
/// ```no_run
/// # async fn demo() -> Result<(), weft_workflow::CheckpointError> {
/// use std::sync::Arc;
/// use weft_workflow::SqliteCheckpointStore;
///
/// let store = Arc::new(SqliteCheckpointStore::open("checkpoints.db").await?);
/// # let _ = store; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteCheckpointStore {
    pool: SqlitePool,
}

impl SqliteCheckpointStore {
    /// Opens (creating when missing) the database at `path` and creates the schema.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, CheckpointError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool =
            SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(store_error)?;
        Self::with_pool(pool).await
    }

    /// A private in-memory database (one connection; lost when the store is dropped).
    pub async fn in_memory() -> Result<Self, CheckpointError> {
        let options =
            SqliteConnectOptions::from_str("sqlite::memory:").map_err(store_error)?.foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(store_error)?;
        Self::with_pool(pool).await
    }

    /// A store over an existing pool (its connections should enable foreign keys); creates the
    /// schema.
    pub async fn with_pool(pool: SqlitePool) -> Result<Self, CheckpointError> {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        let version: i64 =
            sqlx::query_scalar("PRAGMA user_version").fetch_one(&mut *tx).await.map_err(store_error)?;
        if version > SQLITE_SCHEMA_VERSION {
            return Err(CheckpointError::Incompatible(format!(
                "the database has schema version {version}; this build knows up to {SQLITE_SCHEMA_VERSION}"
            )));
        }
        for statement in SCHEMA {
            sqlx::query(*statement).execute(&mut *tx).await.map_err(store_error)?;
        }
        // PRAGMA takes no bound parameters; the value is a constant.
        sqlx::query("PRAGMA user_version = 1").execute(&mut *tx).await.map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(Self { pool })
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The ids of the runs in the store, newest first.
    pub async fn runs(&self) -> Result<Vec<String>, CheckpointError> {
        sqlx::query_scalar("SELECT run_id FROM weft_workflow_runs ORDER BY updated_at_ms DESC, run_id")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)
    }

    /// Deletes a run and its checkpoints. Returns whether there was such a run.
    pub async fn delete_run(&self, run_id: &str) -> Result<bool, CheckpointError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        sqlx::query("DELETE FROM weft_workflow_checkpoints WHERE run_id = ?1")
            .bind(run_id)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let deleted = sqlx::query("DELETE FROM weft_workflow_runs WHERE run_id = ?1")
            .bind(run_id)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?
            .rows_affected();
        tx.commit().await.map_err(store_error)?;
        Ok(deleted > 0)
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn insert(connection: &mut SqliteConnection, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
    let body = serde_json::to_string(checkpoint)?;
    let created = i64::try_from(checkpoint.created_at_ms).unwrap_or(i64::MAX);
    let superstep = i64::try_from(checkpoint.superstep).unwrap_or(i64::MAX);
    let pending = i64::try_from(checkpoint.pending_requests.len()).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO weft_workflow_runs (run_id, workflow_name, created_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (run_id) DO UPDATE SET updated_at_ms = MAX(updated_at_ms, excluded.updated_at_ms)",
    )
    .bind(&checkpoint.run_id)
    .bind(&checkpoint.workflow_name)
    .bind(created)
    .execute(&mut *connection)
    .await
    .map_err(store_error)?;
    sqlx::query(
        "INSERT INTO weft_workflow_checkpoints
            (checkpoint_id, run_id, superstep, created_at_ms, format_version, pending_requests, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (checkpoint_id) DO UPDATE SET
            run_id = excluded.run_id, superstep = excluded.superstep,
            created_at_ms = excluded.created_at_ms, format_version = excluded.format_version,
            pending_requests = excluded.pending_requests, body = excluded.body",
    )
    .bind(&checkpoint.checkpoint_id)
    .bind(&checkpoint.run_id)
    .bind(superstep)
    .bind(created)
    .bind(i64::from(checkpoint.format_version))
    .bind(pending)
    .bind(body)
    .execute(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl CheckpointStore for SqliteCheckpointStore {
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        insert(&mut tx, checkpoint).await?;
        tx.commit().await.map_err(store_error)
    }

    async fn load(&self, checkpoint_id: &str) -> Result<Checkpoint, CheckpointError> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM weft_workflow_checkpoints WHERE checkpoint_id = ?1")
                .bind(checkpoint_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        match body {
            Some(body) => Checkpoint::from_json(&body),
            None => Err(CheckpointError::NotFound(checkpoint_id.to_string())),
        }
    }

    async fn list(&self, run_id: &str) -> Result<Vec<CheckpointInfo>, CheckpointError> {
        let rows = sqlx::query(
            "SELECT checkpoint_id, superstep, created_at_ms, pending_requests
             FROM weft_workflow_checkpoints WHERE run_id = ?1
             ORDER BY superstep, created_at_ms",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let mut infos = Vec::with_capacity(rows.len());
        for row in rows {
            let number = |column: &str| -> Result<u64, CheckpointError> {
                let value: i64 = row.try_get(column).map_err(store_error)?;
                Ok(u64::try_from(value).unwrap_or(0))
            };
            infos.push(CheckpointInfo {
                checkpoint_id: row.try_get("checkpoint_id").map_err(store_error)?,
                run_id: run_id.to_string(),
                superstep: number("superstep")?,
                created_at_ms: number("created_at_ms")?,
                pending_requests: usize::try_from(number("pending_requests")?).unwrap_or(usize::MAX),
            });
        }
        sort_infos(&mut infos);
        Ok(infos)
    }
}
