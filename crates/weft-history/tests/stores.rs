//! The shared store suite against each store: memory and SQLite always, Postgres 15 and
//! Redis 7 when `scripts/test` provides them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/servers.rs"]
mod servers;
mod suite;

use std::sync::Arc;

use async_trait::async_trait;
use suite::Opener;
use weft_core::history::{HistoryLimits, HistoryStore, MemoryHistoryStore};

struct Memory(MemoryHistoryStore);

#[async_trait]
impl Opener for Memory {
    async fn open(&self, limits: HistoryLimits) -> Arc<dyn HistoryStore> {
        Arc::new(self.0.clone().with_limits(limits))
    }
}

async fn memory(_test: &str) -> Memory {
    Memory(MemoryHistoryStore::new())
}

store_suite!(memory_store, memory);

mod sqlite_backend {
    use super::*;
    use weft_history::SqliteHistoryStore;

    pub struct Sqlite(pub tempfile::TempDir);

    #[async_trait]
    impl Opener for Sqlite {
        async fn open(&self, limits: HistoryLimits) -> Arc<dyn HistoryStore> {
            Arc::new(
                SqliteHistoryStore::open(self.0.path().join("history.db")).await.unwrap().with_limits(limits),
            )
        }
    }

    pub async fn sqlite(_test: &str) -> Sqlite {
        Sqlite(tempfile::tempdir().unwrap())
    }
}
use sqlite_backend::sqlite;
store_suite!(sqlite_store, sqlite);

mod postgres_backend {
    use super::*;
    use weft_history::PostgresHistoryStore;

    pub struct Postgres(pub servers::PgServer);

    #[async_trait]
    impl Opener for Postgres {
        async fn open(&self, limits: HistoryLimits) -> Arc<dyn HistoryStore> {
            Arc::new(PostgresHistoryStore::connect(&self.0.url()).await.unwrap().with_limits(limits))
        }
    }

    pub async fn postgres(test: &str) -> Postgres {
        let test = test.to_string();
        Postgres(tokio::task::spawn_blocking(move || servers::PgServer::start(&test)).await.unwrap())
    }
}
use postgres_backend::postgres;
store_suite!(postgres_store, postgres, #[ignore = "needs PostgreSQL 15: scripts/test installs them"]);

mod redis_backend {
    use super::*;
    use weft_history::RedisHistoryStore;

    pub struct Redis(pub servers::RedisServer);

    #[async_trait]
    impl Opener for Redis {
        async fn open(&self, limits: HistoryLimits) -> Arc<dyn HistoryStore> {
            Arc::new(RedisHistoryStore::connect(&self.0.url()).await.unwrap().with_limits(limits))
        }
    }

    pub async fn redis(test: &str) -> Redis {
        let test = test.to_string();
        Redis(tokio::task::spawn_blocking(move || servers::RedisServer::start(&test)).await.unwrap())
    }
}
use redis_backend::redis;
store_suite!(redis_store, redis, #[ignore = "needs Redis 7: scripts/test installs them"]);
