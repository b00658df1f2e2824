#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(not(feature = "sqlite"), allow(missing_docs))]
#![cfg(feature = "sqlite")]
//! The SQLite store's own behaviour: WAL, the schema, replacing, listing and deleting runs.

use std::sync::Arc;

use weft_workflow::{
    CheckpointError, CheckpointStore, FnExecutor, RunStatus, SQLITE_SCHEMA_VERSION, SqliteCheckpointStore,
    WorkflowBuilder, WorkflowContext,
};

fn counter(store: Arc<dyn CheckpointStore>) -> weft_workflow::Workflow {
    WorkflowBuilder::new()
        .name("counter")
        .start_with(FnExecutor::new("count", |n: i64, ctx: WorkflowContext<i64>| async move {
            if n < 3 {
                ctx.send_message(n + 1);
            } else {
                ctx.yield_output(n);
            }
            Ok(())
        }))
        .add_edge("count", "count")
        .with_checkpoint_store(store)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_database_uses_wal_and_records_its_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteCheckpointStore::open(dir.path().join("c.db")).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(store.pool()).await.unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(store.pool()).await.unwrap();
    assert_eq!(version, SQLITE_SCHEMA_VERSION);
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(tables, vec!["weft_workflow_checkpoints", "weft_workflow_runs"]);
    store.close().await;

    // A database from a newer build is refused.
    let newer = SqliteCheckpointStore::open(dir.path().join("newer.db")).await.unwrap();
    sqlx::query("PRAGMA user_version = 99").execute(newer.pool()).await.unwrap();
    newer.close().await;
    let error = SqliteCheckpointStore::open(dir.path().join("newer.db")).await.unwrap_err();
    assert!(matches!(error, CheckpointError::Incompatible(_)), "{error}");
}

#[tokio::test]
async fn runs_are_listed_saved_again_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteCheckpointStore::open(dir.path().join("c.db")).await.unwrap());
    let workflow = counter(store.clone());
    let first = workflow.run(0_i64).await.unwrap();
    let second = workflow.run(2_i64).await.unwrap();
    assert_eq!(first.outputs_as::<i64>(), vec![3]);
    assert_eq!(second.status, RunStatus::Idle);
    let runs = store.runs().await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.contains(&first.run_id) && runs.contains(&second.run_id));
    let infos = store.list(&first.run_id).await.unwrap();
    assert_eq!(infos.iter().map(|i| i.superstep).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);

    // Saving a checkpoint with the same id replaces it.
    let mut checkpoint = store.load(&infos[1].checkpoint_id).await.unwrap();
    checkpoint.shared_state.insert("note".into(), serde_json::json!("edited"));
    store.save(&checkpoint).await.unwrap();
    assert_eq!(store.list(&first.run_id).await.unwrap().len(), 5);
    assert_eq!(store.load(&checkpoint.checkpoint_id).await.unwrap(), checkpoint);

    // Another pool over the same file sees everything.
    let other = SqliteCheckpointStore::open(dir.path().join("c.db")).await.unwrap();
    assert_eq!(
        other.list(&second.run_id).await.unwrap().len(),
        store.list(&second.run_id).await.unwrap().len()
    );

    assert!(store.delete_run(&first.run_id).await.unwrap());
    assert!(!store.delete_run(&first.run_id).await.unwrap());
    assert!(store.list(&first.run_id).await.unwrap().is_empty());
    assert!(matches!(store.load(&infos[0].checkpoint_id).await, Err(CheckpointError::NotFound(_))));
    assert_eq!(store.runs().await.unwrap(), vec![second.run_id.clone()]);
}

#[tokio::test]
async fn concurrent_runs_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let a = Arc::new(SqliteCheckpointStore::open(&path).await.unwrap());
    let b = Arc::new(SqliteCheckpointStore::open(&path).await.unwrap());
    let (wa, wb) = (counter(a.clone()), counter(b.clone()));
    let results = futures::future::join_all((0..8).map(|i| {
        let workflow = if i % 2 == 0 { wa.clone() } else { wb.clone() };
        async move { workflow.run(0_i64).await.unwrap() }
    }))
    .await;
    for result in &results {
        assert_eq!(result.outputs_as::<i64>(), vec![3]);
        assert_eq!(a.list(&result.run_id).await.unwrap().len(), 5);
    }
    assert_eq!(a.runs().await.unwrap().len(), 8);
}
