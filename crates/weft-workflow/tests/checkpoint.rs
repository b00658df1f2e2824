#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Checkpoints after every superstep, and resuming from any of them — for each store.

use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};
use weft_workflow::{
    BoxError, CHECKPOINT_FORMAT_VERSION, Checkpoint, CheckpointError, CheckpointStore, Executor,
    FileCheckpointStore, FnExecutor, InMemoryCheckpointStore, RunStatus, Workflow, WorkflowBuilder,
    WorkflowContext, WorkflowError, WorkflowEvent,
};

/// Counts the messages it has seen; the count is its checkpointed state.
struct Slow {
    count: Mutex<i64>,
}

#[async_trait]
impl Executor for Slow {
    type Input = i64;
    type Output = i64;

    fn id(&self) -> &str {
        "slow"
    }

    async fn handle(&self, x: i64, ctx: &WorkflowContext<i64>) -> Result<(), BoxError> {
        let count = {
            let mut count = self.count.lock().unwrap();
            *count += 1;
            *count
        };
        ctx.send_message(x + count);
        Ok(())
    }

    fn snapshot(&self) -> Result<Option<Value>, BoxError> {
        Ok(Some(json!(*self.count.lock().unwrap())))
    }

    fn restore(&self, state: Value) -> Result<(), BoxError> {
        *self.count.lock().unwrap() = serde_json::from_value(state)?;
        Ok(())
    }
}

/// split -> [fast, hop]; hop -> slow; [slow, fast] -> join -> report. The join's buffer holds
/// fast's message across the checkpoint after superstep 2; split writes shared state that report
/// reads in superstep 5. `slow_start` is the counter's state before any restore (a restarted
/// process would not have the state of the interrupted one), `fail_report` fails the report
/// once.
fn workflow(store: Arc<dyn CheckpointStore>, slow_start: i64, fail_report: Arc<AtomicBool>) -> Workflow {
    WorkflowBuilder::new()
        .name("checkpointed")
        .start_with(FnExecutor::new("split", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.set_state("base", &x)?;
            ctx.send_message(x);
            Ok(())
        }))
        .add_executor(FnExecutor::new("fast", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x * 10);
            Ok(())
        }))
        .add_executor(FnExecutor::new("hop", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x + 1);
            Ok(())
        }))
        .add_executor(Slow { count: Mutex::new(slow_start) })
        .add_executor(FnExecutor::new("join", |xs: Vec<i64>, ctx: WorkflowContext<Vec<i64>>| async move {
            ctx.send_message(xs);
            Ok(())
        }))
        .add_executor(FnExecutor::new("report", move |xs: Vec<i64>, ctx: WorkflowContext<()>| {
            let fail = fail_report.clone();
            async move {
                if fail.swap(false, Ordering::SeqCst) {
                    return Err("report failed once".into());
                }
                let base: i64 = ctx.get_state("base")?.unwrap_or(-1);
                ctx.yield_output((base, xs));
                Ok(())
            }
        }))
        .add_fan_out("split", ["fast", "hop"])
        .add_edge("hop", "slow")
        .add_fan_in(["slow", "fast"], "join")
        .add_edge("join", "report")
        .with_checkpoint_store(store)
        .build()
        .unwrap()
}

async fn resume_from_every_checkpoint<F, Fut>(make_store: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn CheckpointStore>>,
{
    let never = || Arc::new(AtomicBool::new(false));
    let original = workflow(make_store().await, 0, never());
    let result = original.run(4_i64).await.unwrap();
    assert_eq!(result.status, RunStatus::Idle);
    let expected = vec![(4_i64, vec![6_i64, 40])];
    assert_eq!(result.outputs_as::<(i64, Vec<i64>)>(), expected);
    let saved: Vec<u64> = result
        .events
        .iter()
        .filter_map(|e| match e {
            WorkflowEvent::CheckpointSaved { superstep, .. } => Some(*superstep),
            _ => None,
        })
        .collect();
    assert_eq!(saved, vec![0, 1, 2, 3, 4, 5]);

    // A "restarted process": a new store over the same data, a new workflow whose stateful
    // executor starts from the wrong state until a checkpoint restores it.
    let restarted = workflow(make_store().await, 100, never());
    let infos = restarted.list_checkpoints(&result.run_id).await.unwrap();
    assert_eq!(infos.iter().map(|i| i.superstep).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5]);
    let store = make_store().await;
    let middle = store.load(&infos[2].checkpoint_id).await.unwrap();
    assert_eq!(middle.superstep, 2);
    assert_eq!(middle.fan_in.len(), 1, "fast's message waits at the join: {middle:?}");
    assert_eq!(middle.fan_in[0].edge, "[slow, fast] -> join");
    assert_eq!(middle.fan_in[0].messages[0].value, json!(40));
    assert_eq!(middle.messages[0].executor_id, "slow");
    assert_eq!(middle.shared_state.get("base"), Some(&json!(4)));
    assert_eq!(middle.executor_states.get("slow"), Some(&json!(0)));

    for info in &infos[..5] {
        let resumed = restarted.resume(&info.checkpoint_id).await.unwrap();
        assert_eq!(resumed.status, RunStatus::Idle, "from superstep {}", info.superstep);
        assert_eq!(resumed.run_id, result.run_id);
        assert_eq!(resumed.outputs_as::<(i64, Vec<i64>)>(), expected, "from superstep {}", info.superstep);
        let first_step = resumed.events.iter().find_map(|e| match e {
            WorkflowEvent::SuperstepStarted { superstep } => Some(*superstep),
            _ => None,
        });
        assert_eq!(first_step, Some(info.superstep + 1));
    }
    // The last checkpoint has nothing left to do.
    let done = restarted.resume(&infos[5].checkpoint_id).await.unwrap();
    assert_eq!(done.status, RunStatus::Idle);
    assert!(done.outputs.is_empty());
}

#[tokio::test]
async fn in_memory_store_resumes_from_every_checkpoint() {
    let store: Arc<dyn CheckpointStore> = Arc::new(InMemoryCheckpointStore::new());
    resume_from_every_checkpoint(move || std::future::ready(store.clone())).await;
}

#[tokio::test]
async fn file_store_resumes_from_every_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    resume_from_every_checkpoint(move || {
        std::future::ready(Arc::new(FileCheckpointStore::new(path.clone())) as Arc<dyn CheckpointStore>)
    })
    .await;
    // Only finished files remain: no temporary files.
    let run_dir = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    for entry in std::fs::read_dir(run_dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name.ends_with(".json") && !name.starts_with('.'), "{name}");
    }
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_store_resumes_from_every_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoints.db");
    // Each call opens the file again: a new pool, as a restarted process would.
    resume_from_every_checkpoint(move || {
        let path = path.clone();
        async move {
            Arc::new(weft_workflow::SqliteCheckpointStore::open(path).await.unwrap())
                as Arc<dyn CheckpointStore>
        }
    })
    .await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_in_memory_store_resumes_from_every_checkpoint() {
    let store: Arc<dyn CheckpointStore> =
        Arc::new(weft_workflow::SqliteCheckpointStore::in_memory().await.unwrap());
    resume_from_every_checkpoint(move || std::future::ready(store.clone())).await;
}

#[tokio::test]
async fn a_failed_superstep_runs_again_on_resume() {
    let store: Arc<dyn CheckpointStore> = Arc::new(InMemoryCheckpointStore::new());
    let fail = Arc::new(AtomicBool::new(true));
    let workflow = workflow(store.clone(), 0, fail);
    let failed = workflow.run(1_i64).await.unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(
        matches!(&**failed.error().unwrap(), WorkflowError::Executor { executor_id, superstep: 5, .. } if executor_id == "report")
    );
    let last = workflow.list_checkpoints(&failed.run_id).await.unwrap().pop().unwrap();
    assert_eq!(last.superstep, 4);
    let resumed = workflow.resume(&last.checkpoint_id).await.unwrap();
    assert_eq!(resumed.outputs_as::<(i64, Vec<i64>)>(), vec![(1, vec![3, 10])]);
}

#[tokio::test]
async fn resume_errors_are_typed() {
    let store: Arc<dyn CheckpointStore> = Arc::new(InMemoryCheckpointStore::new());
    let workflow = workflow(store.clone(), 0, Arc::new(AtomicBool::new(false)));
    let error = workflow.resume("missing").await.unwrap_err();
    assert!(matches!(error, WorkflowError::Checkpoint(CheckpointError::NotFound(id)) if id == "missing"));

    // A checkpoint naming a message type no edge of this workflow carries is refused.
    let result = workflow.run(1_i64).await.unwrap();
    let first = workflow.list_checkpoints(&result.run_id).await.unwrap().remove(0);
    let mut checkpoint = store.load(&first.checkpoint_id).await.unwrap();
    checkpoint.checkpoint_id = "tampered".into();
    checkpoint.messages[0].type_name = "evil::Type".into();
    store.save(&checkpoint).await.unwrap();
    let error = workflow.resume("tampered").await.unwrap_err();
    assert!(
        matches!(&error, WorkflowError::Checkpoint(CheckpointError::UnknownMessageType { name }) if name == "evil::Type"),
        "{error}"
    );

    let no_store = WorkflowBuilder::new()
        .start_with(FnExecutor::new("a", |_: i64, _: WorkflowContext<()>| async move { Ok(()) }))
        .build()
        .unwrap();
    assert!(matches!(no_store.resume("x").await.unwrap_err(), WorkflowError::NoCheckpointStore));
}

#[tokio::test]
async fn checkpoint_json_is_versioned() {
    let store = Arc::new(InMemoryCheckpointStore::new());
    let workflow = workflow(store.clone(), 0, Arc::new(AtomicBool::new(false)));
    let result = workflow.run(1_i64).await.unwrap();
    assert_eq!(store.len(), 6);
    let info = workflow.list_checkpoints(&result.run_id).await.unwrap().remove(2);
    let checkpoint = store.load(&info.checkpoint_id).await.unwrap();
    let json = checkpoint.to_json().unwrap();
    assert!(json.contains(&format!("\"format_version\": {CHECKPOINT_FORMAT_VERSION}")));
    assert_eq!(Checkpoint::from_json(&json).unwrap(), checkpoint);
    let newer = json.replace(
        &format!("\"format_version\": {CHECKPOINT_FORMAT_VERSION}"),
        &format!("\"format_version\": {}", CHECKPOINT_FORMAT_VERSION + 1),
    );
    assert!(matches!(Checkpoint::from_json(&newer), Err(CheckpointError::Version { .. })));
    // Ids that could escape the store's directory are refused.
    let dir = tempfile::tempdir().unwrap();
    let files = FileCheckpointStore::new(dir.path());
    let mut bad = checkpoint.clone();
    bad.run_id = "../escape".into();
    assert!(matches!(files.save(&bad).await, Err(CheckpointError::InvalidId(_))));
}
