//! # weft-history
//!
//! [`HistoryStore`]s on real databases, and OpenAI's tokenizer
//! for compaction:
//!
//! - `sqlite`: `SqliteHistoryStore`, a SQLite file (sqlx);
//! - `postgres`: `PostgresHistoryStore`, a Postgres server (sqlx);
//! - `redis`: `RedisHistoryStore`, a Redis server (the `redis` crate over tokio);
//! - `tiktoken`: `tiktoken::TiktokenCounter`, the real token count of OpenAI models, and
//!   `tiktoken::counter_for_model`, which picks it for OpenAI models and an estimate for others.
//!
//! Every store appends a run's messages in one atomic write (a transaction on SQL, a script on
//! Redis), so concurrent writers to one session never lose a message; each loads only the
//! window asked for; each bounds messages and sessions
//! ([`HistoryLimits`]).

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis_store;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "tiktoken")]
pub mod tiktoken;

#[cfg(feature = "postgres")]
pub use postgres::PostgresHistoryStore;
#[cfg(feature = "redis")]
pub use redis_store::{DEFAULT_KEY_PREFIX, RedisHistoryStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteHistoryStore;

pub use weft_core::history::{HistoryError, HistoryLimits, HistoryStore, HistoryWindow, MemoryHistoryStore};

/// Positions as SQL integers (SQLite and Postgres have signed 64-bit integers).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn sql_position(position: u64) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}
