#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The JSON file store's errors: a corrupt, unreadable or misplaced checkpoint file is reported
//! with its path and id, and a listing skips such files instead of failing.

use std::collections::BTreeMap;
use std::path::Path;

use weft_workflow::{
    CHECKPOINT_FORMAT_VERSION, Checkpoint, CheckpointError, CheckpointStore, FileCheckpointStore,
};

fn checkpoint(run_id: &str, checkpoint_id: &str, superstep: u64) -> Checkpoint {
    Checkpoint {
        format_version: CHECKPOINT_FORMAT_VERSION,
        workflow_version: 0,
        checkpoint_id: checkpoint_id.into(),
        run_id: run_id.into(),
        workflow_name: "w".into(),
        superstep,
        created_at_ms: 1_000 + superstep,
        messages: Vec::new(),
        fan_in: Vec::new(),
        shared_state: BTreeMap::new(),
        executor_states: BTreeMap::new(),
        pending_requests: Vec::new(),
    }
}

async fn store_with_two(dir: &Path) -> FileCheckpointStore {
    let store = FileCheckpointStore::new(dir);
    store.save(&checkpoint("run1", "good-a", 0)).await.unwrap();
    store.save(&checkpoint("run1", "good-b", 1)).await.unwrap();
    store
}

#[tokio::test]
async fn a_corrupt_checkpoint_is_reported_with_its_path_and_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_two(dir.path()).await;
    let path = dir.path().join("run1").join("torn.json");
    std::fs::write(&path, "{\"format_version\": 1, \"checkpoint_id\": \"torn\", \"run_").unwrap();
    let error = store.load("torn").await.unwrap_err();
    match &error {
        CheckpointError::Corrupt { checkpoint_id, path: at, .. } => {
            assert_eq!(checkpoint_id, "torn");
            assert_eq!(at, &path.display().to_string());
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let text = error.to_string();
    assert!(text.contains("'torn'") && text.contains(&path.display().to_string()), "{text}");
    // Not UTF-8 is corrupt too.
    std::fs::write(&path, [0xff, 0xfe, b'{']).unwrap();
    assert!(matches!(store.load("torn").await, Err(CheckpointError::Corrupt { .. })));
}

#[tokio::test]
async fn an_unreadable_checkpoint_is_reported_with_its_path_and_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_two(dir.path()).await;
    // A directory where the file should be: unreadable even for root (permissions are not).
    let path = dir.path().join("run1").join("blocked.json");
    std::fs::create_dir(&path).unwrap();
    let error = store.load("blocked").await.unwrap_err();
    match &error {
        CheckpointError::Unreadable { checkpoint_id, path: at, .. } => {
            assert_eq!(checkpoint_id, "blocked");
            assert_eq!(at, &path.display().to_string());
        }
        other => panic!("expected Unreadable, got {other:?}"),
    }
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
}

#[tokio::test]
async fn load_checks_the_id_inside_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_two(dir.path()).await;
    // A checkpoint copied by hand under another name.
    let run = dir.path().join("run1");
    std::fs::copy(run.join("good-a.json"), run.join("copied.json")).unwrap();
    let error = store.load("copied").await.unwrap_err();
    match &error {
        CheckpointError::WrongId { expected, found, path } => {
            assert_eq!(expected, "copied");
            assert_eq!(found, "good-a");
            assert_eq!(path, &run.join("copied.json").display().to_string());
        }
        other => panic!("expected WrongId, got {other:?}"),
    }
    assert_eq!(store.load("good-a").await.unwrap().checkpoint_id, "good-a");
}

#[tokio::test]
async fn list_reports_bad_files_and_still_lists_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_two(dir.path()).await;
    let run = dir.path().join("run1");
    std::fs::write(run.join("torn.json"), "{").unwrap();
    std::fs::create_dir(run.join("blocked.json")).unwrap();
    std::fs::copy(run.join("good-a.json"), run.join("copied.json")).unwrap();
    // A checkpoint of another run in this run's directory.
    let other = FileCheckpointStore::new(dir.path());
    other.save(&checkpoint("run2", "elsewhere", 0)).await.unwrap();
    std::fs::rename(dir.path().join("run2/elsewhere.json"), run.join("elsewhere.json")).unwrap();

    let listed = store.list("run1").await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|info| info.checkpoint_id.as_str()).collect();
    assert_eq!(ids, ["good-a", "good-b"]);

    let listing = store.scan("run1").await.unwrap();
    assert_eq!(listing.checkpoints, listed);
    let mut problems: Vec<String> = listing
        .problems
        .iter()
        .map(|problem| match problem {
            CheckpointError::Corrupt { checkpoint_id, .. } => format!("corrupt {checkpoint_id}"),
            CheckpointError::Unreadable { checkpoint_id, .. } => format!("unreadable {checkpoint_id}"),
            CheckpointError::WrongId { expected, .. } => format!("wrong id {expected}"),
            CheckpointError::WrongRun { found, .. } => format!("wrong run {found}"),
            other => format!("unexpected {other:?}"),
        })
        .collect();
    problems.sort();
    assert_eq!(problems, ["corrupt torn", "unreadable blocked", "wrong id copied", "wrong run run2"]);
}
