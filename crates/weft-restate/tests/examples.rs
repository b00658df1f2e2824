//! The `restate_workflow` example against a restate-server of its own: it serves the demo
//! workflow, registers it, answers the run's review and prints the report. Cargo builds a
//! package's examples before its tests; this test runs that binary. `#[ignore]`d unless run by
//! `scripts/test` (it needs restate-server, `scripts/peers/restate.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../weft/tests/support/examples.rs"]
mod examples_support;
mod support;

use std::time::Duration;

use support::RestateServer;

/// Runs the example `name` against `server` (its ingress and admin URLs), at most `limit`;
/// asserts it succeeded and returns what it printed.
async fn run_example(name: &str, server: &RestateServer, limit: Duration) -> String {
    let path = examples_support::example_path(
        name,
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")),
    );
    let mut command = tokio::process::Command::new(path);
    command.args([&server.ingress, &server.admin]).kill_on_drop(true).stdin(std::process::Stdio::null());
    let output = tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| panic!("{name} ran over {limit:?}"))
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        output.status.success(),
        "{:?}\nstdout:\n{stdout}\nstderr:\n{stderr}\nrestate log:\n{}",
        output.status,
        server.log()
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn restate_workflow_runs_a_workflow_and_answers_its_review() {
    let server = RestateServer::start("restate_workflow example").await;
    let stdout = run_example("restate_workflow", &server, Duration::from_secs(120)).await;
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("asked: ") && l.contains("the Eiffel Tower")), "{stdout}");
    let report = lines.iter().find_map(|l| l.strip_prefix("report: ")).expect("a report");
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    assert_eq!(report["review"]["approved"], true, "{report}");
    assert_eq!(report["findings"][1], "found: the Eiffel Tower", "{report}");
    assert!(lines.contains(&"phase: completed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn durable_restart_survives_kill_9_of_its_worker_without_repeating_completed_steps() {
    let server = RestateServer::start("durable_restart example").await;
    let stdout = run_example("durable_restart", &server, Duration::from_secs(180)).await;
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("killed: ")), "{stdout}");
    assert!(lines.iter().any(|l| l.starts_with("restarted: ")), "{stdout}");
    let answer = lines.iter().find_map(|l| l.strip_prefix("agent: ")).expect("the agent's answer");
    assert!(answer.contains("found: the Eiffel Tower"), "{stdout}");
    let report = lines.iter().find_map(|l| l.strip_prefix("report: ")).expect("a report");
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    assert_eq!(report["review"]["approved"], true, "{report}");
    assert_eq!(report["findings"][1], "found: the Eiffel Tower", "{report}");
    // The calls completed before the kill ran once: the model's two calls are two distinct
    // steps, each made once; `plan` and `facts` once.
    for once in [
        "calls: model made 2, 2 distinct",
        "calls: exec-plan made 1, 1 distinct",
        "calls: exec-facts made 1, 1 distinct",
    ] {
        assert!(lines.contains(&once), "{once:?} missing:\n{stdout}");
    }
    // Only the steps the kill interrupted ran again (at least once more, under one key).
    assert_eq!(
        lines.iter().find_map(|l| l.strip_prefix("repeated: ")),
        Some("exec-lookup tool-slow_lookup"),
        "{stdout}"
    );
}
