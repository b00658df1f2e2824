//! DevUI's workflow features in a real browser: `weft serve --ui` serving the example workflow
//! files (on the scripted model), driven by Playwright for Python and Debian's chromium, one
//! scenario per test (`tests/devui/workflow_scenarios.py`): the graph with live executor
//! states, a human-input form, and resuming from a checkpoint. Each saves a screenshot (PNG) in
//! `$WEFT_SCREENSHOT_DIR` (default: the workspace's target/screenshots). The peers come
//! from `scripts/peers/browser.sh`; without them these tests fail, never pass.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{text, weft};

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The value of a peer variable (a path that exists), or a panic saying how to install it.
fn peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() && std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "{var} is not set (or does not exist): this test needs chromium and Playwright; run scripts/test, \
             or `source scripts/peers/browser.sh` first"
        ),
    }
}

/// A running `weft serve --ui --port 0` over the example workflows, killed when dropped.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    base: String,
}

impl Server {
    fn start() -> Self {
        let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/declarative");
        let mut child = weft()
            .args(["serve", "--ui", "--port", "0"])
            .arg(examples.join("conditional.workflow.yaml"))
            .arg(examples.join("human_input.workflow.yaml"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the weft binary starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = receiver.recv_timeout(Duration::from_secs(20)).expect("weft serve printed its URL");
        let base = line.trim().trim_end_matches("/v1").to_string();
        Self { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the screenshots go: `$WEFT_SCREENSHOT_DIR`, else the workspace's target/screenshots.
fn screenshots() -> PathBuf {
    match std::env::var_os("WEFT_SCREENSHOT_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"),
    }
}

/// Runs `scenario` against a fresh server; fails with the script's output.
fn scenario(name: &str) {
    let python = peer("WEFT_PLAYWRIGHT_PYTHON");
    let chromium = peer("WEFT_CHROMIUM");
    let server = Server::start();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/devui/workflow_scenarios.py");
    let output = Command::new(python)
        .arg(script)
        .args([server.base.as_str(), name])
        .arg(screenshots())
        .env("WEFT_CHROMIUM", chromium)
        .stdin(Stdio::null())
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "scenario {name} failed:\n{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn a_workflow_is_drawn_and_its_executors_states_update_live_with_events_and_outputs() {
    scenario("graph");
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn a_request_for_input_is_a_form_from_its_schema_and_submitting_it_finishes_the_workflow() {
    scenario("human_input");
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn a_run_resumed_from_an_earlier_checkpoint_continues_from_there() {
    scenario("checkpoints");
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn a_form_is_generated_from_an_object_schema_checks_required_fields_and_sends_typed_values() {
    scenario("schema_form");
}
