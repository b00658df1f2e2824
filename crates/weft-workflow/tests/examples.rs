#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every example of weft-workflow runs, offline on the scripted model, and prints what its doc
//! comment promises; the checkpoint and human-in-the-loop examples run as two processes, the
//! second continuing what the first saved. Cargo builds a package's examples before its tests;
//! these tests run those binaries.

#[path = "../../weft/tests/support/examples.rs"]
mod examples_support;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The built example `name` (see `examples_support::example_path`).
fn example_path(name: &str) -> PathBuf {
    examples_support::example_path(
        name,
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")),
    )
}

/// Runs an example with `args` and the `OPENAI_*` variables removed; returns its exit code,
/// stdout and stderr; fails the test if it runs over a minute.
async fn run_with(name: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = tokio::process::Command::new(example_path(name));
    command.args(args).kill_on_drop(true).stdin(std::process::Stdio::null());
    for var in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"] {
        command.env_remove(var);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("example {name} ran over 60 s"))
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    (output.status.code(), stdout, stderr)
}

/// Runs an example that must succeed; returns its stdout.
async fn run(name: &str, args: &[&str]) -> String {
    let (code, stdout, stderr) = run_with(name, args).await;
    assert_eq!(code, Some(0), "example {name} {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    stdout
}

/// The lines of `output` from the first that starts with `from`, for comparing a tail exactly.
fn lines_from<'a>(output: &'a str, from: &str) -> Vec<&'a str> {
    output.lines().skip_while(|l| !l.starts_with(from)).collect()
}

#[tokio::test]
async fn sequential_draws_the_chain_and_runs_both_agents() {
    let stdout = run("sequential", &[]).await;
    assert!(stdout.starts_with("flowchart TD\n"), "{stdout}");
    assert!(stdout.contains("  n1 --> n2;\n"), "{stdout}");
    assert_eq!(
        lines_from(&stdout, "writer:"),
        [
            "writer: You said: a tagline for a Rust agent framework",
            "reviewer: You said: a tagline for a Rust agent framework",
        ]
    );
}

#[tokio::test]
async fn concurrent_joins_the_three_answers() {
    let stdout = run("concurrent", &[]).await;
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "[legal] You said: Should we launch on Monday?",
            "[finance] You said: Should we launch on Monday?",
            "[engineering] You said: Should we launch on Monday?",
        ]
    );
}

#[tokio::test]
async fn group_chat_takes_four_turns_in_the_selectors_order() {
    let stdout = run("group_chat", &[]).await;
    let speakers: Vec<&str> = stdout.lines().filter_map(|l| l.split_once(':').map(|(who, _)| who)).collect();
    assert_eq!(speakers, ["planner", "critic", "writer", "critic"], "{stdout}");
}

#[tokio::test]
async fn handoff_routes_to_billing_and_lets_the_user_take_turns() {
    let stdout = run("handoff", &[]).await;
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "-- triage hands off to billing",
            "-- billing waits for the user; the user says \"Can I get a refund?\"",
            "-- billing waits for the user; the user says \"\"",
            "billing: You said: I have a billing question",
            "user: Can I get a refund?",
            "billing: You said: Can I get a refund?",
        ]
    );
}

#[tokio::test]
async fn magentic_plans_delegates_and_answers() {
    let stdout = run("magentic", &[]).await;
    for line in [
        "1. researcher: list the changes",
        "[to researcher] List the changes in this release.",
        "[to writer] Draft release notes from the researcher's list.",
        "[finished: Satisfied]",
        "researcher: You said: List the changes in this release.",
        "final answer: Release notes are drafted from the researcher's list of changes.",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing {line:?} in:\n{stdout}");
    }
}

#[tokio::test]
async fn fan_out_fan_in_gets_every_run_right() {
    let stdout = run("fan_out_fan_in", &[]).await;
    assert!(stdout.contains("  join1 --> n4;\n"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("100/100 runs correct, ")), "{stdout}");
}

fn db_arg(dir: &Path) -> String {
    dir.join("checkpoints.db").display().to_string()
}

#[tokio::test]
async fn checkpoint_resume_stops_and_a_new_process_finishes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_arg(dir.path());
    let first = run("checkpoint_resume", &["run", "--stop-after", "2", "--db", &db]).await;
    let run_id = first.lines().find_map(|l| l.strip_prefix("started run ")).unwrap();
    assert_eq!(
        lines_from(&first, "superstep"),
        [
            "superstep 1: build done",
            "superstep 2: test done",
            "stopped after superstep 2; continue with `resume`"
        ]
    );

    let second = run("checkpoint_resume", &["resume", "--db", &db]).await;
    assert!(
        second.contains(&format!("resuming run {run_id} from its checkpoint after superstep 2\n")),
        "{second}"
    );
    // Only the remaining steps run; the release carries what the first process did.
    assert_eq!(
        lines_from(&second, "superstep"),
        [
            "superstep 3: package done",
            "superstep 4: publish done",
            "release 1.4.0 is out:",
            "  build: compiled 1.4.0",
            "  test: tests passed 1.4.0",
            "  package: packaged 1.4.0",
            "  publish: published 1.4.0",
        ]
    );
    assert_ne!(first.lines().next(), second.lines().next(), "two processes");

    let third = run("checkpoint_resume", &["resume", "--db", &db]).await;
    assert!(third.contains(&format!("run {run_id} has finished: nothing to resume")), "{third}");
}

#[tokio::test]
async fn checkpoint_resume_without_a_run_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_with("checkpoint_resume", &["resume", "--db", &db_arg(dir.path())]).await;
    assert_eq!(code, Some(1));
    assert_eq!(stderr, "checkpoint_resume: no run to resume: start one with `run`\n");
}

#[tokio::test]
async fn human_approval_pauses_and_a_new_process_answers() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().display().to_string();
    let asked = run("human_approval", &["ask", "--dir", &dir_arg]).await;
    let request = "refunds asks to call refund_order {\"amount\":25.0,\"order_number\":1234}: approve?";
    assert!(asked.lines().any(|l| l == request), "{asked}");
    let checkpoint = asked
        .lines()
        .find_map(|l| l.strip_prefix("paused and saved as checkpoint "))
        .and_then(|rest| rest.split(';').next())
        .unwrap();
    assert!(!asked.contains("refunded"), "nothing is refunded before the answer: {asked}");

    let answered = run("human_approval", &["answer", "yes", "--dir", &dir_arg]).await;
    assert!(answered.contains(&format!("loaded checkpoint {checkpoint} of run ")), "{answered}");
    assert_eq!(
        lines_from(&answered, "refunds asks"),
        [request, "human: yes", "filed: refund_order returned: refunded 25.00 EUR on order 1234"]
    );

    // The answered run is no longer waiting.
    let (code, _, stderr) = run_with("human_approval", &["answer", "yes", "--dir", &dir_arg]).await;
    assert_eq!(code, Some(1));
    assert!(stderr.starts_with("human_approval: no run waits for an answer"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn human_approval_rejected_does_not_refund() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().display().to_string();
    run("human_approval", &["ask", "--dir", &dir_arg]).await;
    let answered = run("human_approval", &["answer", "no", "--dir", &dir_arg]).await;
    assert!(
        answered.lines().any(|l| l == "filed: refund_order failed: the user did not approve this tool call"),
        "{answered}"
    );
}
