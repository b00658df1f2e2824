//! The example runs offline, twice on one directory: the second process goes on with the
//! conversation the first stored, and compaction keeps the request smaller than the store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../weft/tests/support/examples.rs"]
mod examples_support;

use std::time::Duration;

async fn run(dir: &std::path::Path) -> String {
    let path = examples_support::example_path(
        "sqlite_history",
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")),
    );
    let mut command = tokio::process::Command::new(path);
    command.arg(dir).kill_on_drop(true).stdin(std::process::Stdio::null());
    let output = tokio::time::timeout(Duration::from_secs(60), command.output()).await.unwrap().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[tokio::test]
async fn sqlite_history_goes_on_in_a_new_process_and_compacts() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path()).await;
    assert!(first.contains("> My name is Ada.\nNice to meet you, Ada."), "{first}");
    assert!(first.contains("(messages sent to the model: 9; stored in history.db: 10)"), "{first}");
    assert!(first.contains("no message in it"), "{first}");
    let second = run(dir.path()).await;
    assert!(second.starts_with("going on with the saved session\n"), "{second}");
    assert!(second.contains("> What is my name?\nYour name is Ada."), "{second}");
    // The sixth turn: the first turn is compacted away, the store keeps it.
    assert!(second.contains("> and in Lima?\nget_weather returned: weather in Lima: sunny, 21C"), "{second}");
    assert!(second.contains("(messages sent to the model: 17; stored in history.db: 20)"), "{second}");
}
