//! The tasks of [`SqliteStore`](super::SqliteStore): two tables beside the conversations.
//!
//! ```sql
//! CREATE TABLE weft_host_tasks (
//!     seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order of creation
//!     id TEXT NOT NULL UNIQUE, agent TEXT NOT NULL, context_id TEXT NOT NULL,
//!     state TEXT NOT NULL, phase TEXT NOT NULL, updated_at_ms INTEGER NOT NULL,
//!     task TEXT NOT NULL, pending TEXT NOT NULL  -- JSON
//! );
//! CREATE TABLE weft_host_task_contexts (
//!     agent TEXT NOT NULL, context_id TEXT NOT NULL, session TEXT NOT NULL,  -- JSON
//!     PRIMARY KEY (agent, context_id)
//! );
//! ```

use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, Sqlite, Transaction};
use weft_core::AgentSession;

use super::sqlite::{backend, json_error};
use super::{StoreError, StoredTask, TaskChange, TaskPage, TaskPhase, TaskQuery, TaskRetention};

/// The schema of the tasks.
pub(crate) const TASK_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS weft_host_tasks (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT NOT NULL UNIQUE,
        agent         TEXT NOT NULL,
        context_id    TEXT NOT NULL,
        state         TEXT NOT NULL,
        phase         TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        task          TEXT NOT NULL,
        pending       TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS weft_host_tasks_by_context ON weft_host_tasks (agent, context_id)",
    "CREATE TABLE IF NOT EXISTS weft_host_task_contexts (
        agent      TEXT NOT NULL,
        context_id TEXT NOT NULL,
        session    TEXT NOT NULL,
        PRIMARY KEY (agent, context_id)
    )",
];

/// The columns a task is read from, as one literal (sqlx takes only static SQL).
macro_rules! select_tasks {
    ($rest:literal) => {
        concat!(
            "SELECT id, agent, context_id, state, phase, updated_at_ms, task, pending FROM weft_host_tasks ",
            $rest
        )
    };
}

/// The task's `(task, pending)` JSON texts, each within `max_row_bytes`.
fn texts(task: &StoredTask, max_row_bytes: usize) -> Result<(String, String), StoreError> {
    let text = |what: &'static str, value: &serde_json::Value| {
        let text = serde_json::to_string(value).map_err(json_error)?;
        if text.len() > max_row_bytes {
            return Err(StoreError::TooLarge { what, bytes: text.len(), limit: max_row_bytes });
        }
        Ok(text)
    };
    Ok((text("task", &task.task)?, text("task's pending input", &task.pending)?))
}

/// The phase's name in the `phase` column.
fn phase_name(phase: TaskPhase) -> &'static str {
    match phase {
        TaskPhase::Running => "running",
        TaskPhase::Waiting => "waiting",
        TaskPhase::Ended => "ended",
    }
}

/// Reads a name written by [`phase_name`].
fn parse_phase(name: &str) -> Option<TaskPhase> {
    [TaskPhase::Running, TaskPhase::Waiting, TaskPhase::Ended].into_iter().find(|p| phase_name(*p) == name)
}

fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn read(row: &SqliteRow) -> Result<StoredTask, StoreError> {
    let phase: String = row.try_get("phase").map_err(backend)?;
    let updated: i64 = row.try_get("updated_at_ms").map_err(backend)?;
    Ok(StoredTask {
        id: row.try_get("id").map_err(backend)?,
        agent: row.try_get("agent").map_err(backend)?,
        context_id: row.try_get("context_id").map_err(backend)?,
        state: row.try_get("state").map_err(backend)?,
        phase: parse_phase(&phase)
            .ok_or_else(|| StoreError::Backend(format!("a stored task has an unknown phase {phase}")))?,
        updated_at_ms: u64::try_from(updated).unwrap_or(0),
        task: serde_json::from_str(row.try_get("task").map_err(backend)?).map_err(json_error)?,
        pending: serde_json::from_str(row.try_get("pending").map_err(backend)?).map_err(json_error)?,
    })
}

pub(crate) async fn create(
    pool: &SqlitePool,
    max_row_bytes: usize,
    task: StoredTask,
    retention: &TaskRetention,
) -> Result<(), StoreError> {
    let (body, pending) = texts(&task, max_row_bytes)?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    sqlx::query(
        "INSERT INTO weft_host_tasks (id, agent, context_id, state, phase, updated_at_ms, task, pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(&task.id)
    .bind(&task.agent)
    .bind(&task.context_id)
    .bind(&task.state)
    .bind(phase_name(task.phase))
    .bind(millis(task.updated_at_ms))
    .bind(body)
    .bind(pending)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    forget_in(&mut tx, retention).await?;
    tx.commit().await.map_err(backend)
}

pub(crate) async fn get(pool: &SqlitePool, id: &str) -> Result<Option<StoredTask>, StoreError> {
    let row =
        sqlx::query(select_tasks!("WHERE id = ?1")).bind(id).fetch_optional(pool).await.map_err(backend)?;
    row.as_ref().map(read).transpose()
}

pub(crate) async fn update(
    pool: &SqlitePool,
    max_row_bytes: usize,
    id: &str,
    change: TaskChange<'_>,
) -> Result<Option<StoredTask>, StoreError> {
    // BEGIN IMMEDIATE takes the write lock first: no other change runs between read and write.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    let row = sqlx::query(select_tasks!("WHERE id = ?1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    let Some(row) = row else { return Ok(None) };
    let before = read(&row)?;
    let mut task = before.clone();
    if !change(&mut task) {
        return Ok(Some(before));
    }
    task.id = id.to_string();
    let (body, pending) = texts(&task, max_row_bytes)?;
    sqlx::query(
        "UPDATE weft_host_tasks SET agent = ?2, context_id = ?3, state = ?4, phase = ?5, updated_at_ms = ?6,
                task = ?7, pending = ?8
         WHERE id = ?1",
    )
    .bind(id)
    .bind(&task.agent)
    .bind(&task.context_id)
    .bind(&task.state)
    .bind(phase_name(task.phase))
    .bind(millis(task.updated_at_ms))
    .bind(body)
    .bind(pending)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(Some(task))
}

pub(crate) async fn list(pool: &SqlitePool, query: &TaskQuery) -> Result<TaskPage, StoreError> {
    macro_rules! filter {
        () => {
            "WHERE agent = ?1 AND (?2 IS NULL OR context_id = ?2) AND (?3 IS NULL OR state = ?3)"
        };
    }
    let mut tx = pool.begin().await.map_err(backend)?;
    let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM weft_host_tasks ", filter!()))
        .bind(&query.agent)
        .bind(&query.context_id)
        .bind(&query.state)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
    let sql = select_tasks!(
        "WHERE agent = ?1 AND (?2 IS NULL OR context_id = ?2) AND (?3 IS NULL OR state = ?3) \
         ORDER BY seq DESC LIMIT ?4 OFFSET ?5"
    );
    let rows = sqlx::query(sql)
        .bind(&query.agent)
        .bind(&query.context_id)
        .bind(&query.state)
        .bind(i64::try_from(query.limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(query.offset).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    let tasks = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    Ok(TaskPage { tasks, total: usize::try_from(total).unwrap_or(0) })
}

pub(crate) async fn forget(pool: &SqlitePool, retention: &TaskRetention) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    forget_in(&mut tx, retention).await?;
    tx.commit().await.map_err(backend)
}

/// Forgets what `retention` says, inside `tx`.
async fn forget_in(tx: &mut Transaction<'_, Sqlite>, retention: &TaskRetention) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM weft_host_tasks WHERE phase != 'running' AND updated_at_ms < ?1")
        .bind(millis(retention.expire_before_ms))
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM weft_host_tasks")
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)?;
    let excess = usize::try_from(held).unwrap_or(0).saturating_sub(retention.max_tasks);
    if excess > 0 {
        sqlx::query(
            "DELETE FROM weft_host_tasks WHERE seq IN (
                SELECT seq FROM weft_host_tasks WHERE phase != 'running'
                ORDER BY (phase = 'ended') DESC, seq ASC LIMIT ?1)",
        )
        .bind(i64::try_from(excess).unwrap_or(i64::MAX))
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    }
    sqlx::query(
        "DELETE FROM weft_host_task_contexts WHERE NOT EXISTS (
            SELECT 1 FROM weft_host_tasks t
            WHERE t.agent = weft_host_task_contexts.agent AND t.context_id = weft_host_task_contexts.context_id)",
    )
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn put_context(
    pool: &SqlitePool,
    max_row_bytes: usize,
    agent: &str,
    context_id: &str,
    session: &AgentSession,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(session).map_err(json_error)?;
    if text.len() > max_row_bytes {
        return Err(StoreError::TooLarge { what: "conversation", bytes: text.len(), limit: max_row_bytes });
    }
    sqlx::query(
        "INSERT INTO weft_host_task_contexts (agent, context_id, session) VALUES (?1, ?2, ?3)
         ON CONFLICT (agent, context_id) DO UPDATE SET session = ?3",
    )
    .bind(agent)
    .bind(context_id)
    .bind(text)
    .execute(pool)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn get_context(
    pool: &SqlitePool,
    agent: &str,
    context_id: &str,
) -> Result<Option<AgentSession>, StoreError> {
    let text: Option<String> = sqlx::query_scalar(
        "SELECT session FROM weft_host_task_contexts WHERE agent = ?1 AND context_id = ?2",
    )
    .bind(agent)
    .bind(context_id)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    text.map(|text| serde_json::from_str(&text)).transpose().map_err(json_error)
}
