//! DevUI in a real browser: `weft serve --ui` (the scripted demo agent, with its weather tool)
//! driven by Playwright for Python and Debian's chromium, one scenario per test
//! (`tests/devui/scenarios.py`). Each scenario's screenshots, its end state included, go to
//! `$WEFT_SCREENSHOT_DIR` (scripts/test sets it; by default the workspace's target/screenshots).
//! The peers come from `scripts/peers/browser.sh`; without them these tests fail, never pass.

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

/// A running `weft serve --ui --port 0`, killed when dropped.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    base: String,
}

impl Server {
    fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = weft()
            .args(["serve", "--ui", "--port", "0"])
            .args(args)
            .envs(env.iter().copied())
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

/// Runs `scenario` against a fresh server started with `args`; fails with the script's output.
fn scenario(name: &str, args: &[&str], extra: &[&str]) {
    scenario_with_env(name, args, &[], extra);
}

/// [`scenario`], with the server started with `env` set.
fn scenario_with_env(name: &str, args: &[&str], env: &[(&str, &str)], extra: &[&str]) {
    let python = peer("WEFT_PLAYWRIGHT_PYTHON");
    let chromium = peer("WEFT_CHROMIUM");
    let server = Server::start_with_env(args, env);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/devui/scenarios.py");
    let output = Command::new(python)
        .arg(script)
        .args([server.base.as_str(), name])
        .arg(screenshots())
        .args(extra)
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
fn a_prompt_is_answered_and_the_answer_streams_in() {
    scenario("chat_streams", &[], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn the_agent_s_description_and_tools_are_listed_above_the_chat() {
    scenario("entity_tools", &[], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn a_tool_call_shows_inline_and_expands_to_its_arguments_and_result() {
    scenario("tool_call", &[], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn stop_ends_a_run_that_is_still_streaming() {
    scenario("stop", &[], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn a_conversation_is_listed_resumed_and_deleted() {
    scenario("conversation", &[], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn markup_in_model_output_and_tool_results_renders_as_text_and_nothing_runs() {
    scenario("xss", &[], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn the_page_works_by_keyboard_in_both_themes_and_at_phone_width() {
    scenario("layout", &[], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn a_server_with_a_token_gets_it_asked_once_and_sent() {
    scenario("token", &["--token", "devui-test-token"], &["--token", "devui-test-token"]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn a_tool_call_waiting_for_approval_is_approved_or_rejected_with_buttons() {
    scenario("approval", &["--approve"], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn markdown_renders_lists_code_blocks_bold_and_http_links() {
    scenario("markdown", &[], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn an_answer_opens_its_trace_with_the_model_and_tool_spans_and_their_tokens() {
    scenario("traces", &[], &[]);
}

#[test]
#[ignore = "needs chromium, playwright and the MCP test servers: scripts/test installs them"]
fn markup_in_an_mcp_servers_tool_result_renders_as_text_and_nothing_runs() {
    let python = match std::env::var("WEFT_MCP_PYTHON") {
        Ok(value) if std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "WEFT_MCP_PYTHON is not set (or does not exist): this test needs the Python `mcp` server; run \
             scripts/test, or `source scripts/peers/mcp.sh` first"
        ),
    };
    let server = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../weft-mcp/tests/servers/py_server.py");
    let command = format!("{python} {} stdio", server.display());
    scenario("mcp_xss", &["--mcp", &command], &[]);
}

#[test]
#[ignore = "needs chromium and playwright: scripts/test installs them"]
fn markup_in_recorded_message_content_renders_as_text_in_the_trace_view() {
    scenario_with_env(
        "trace_xss",
        &[],
        &[("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")],
        &[],
    );
}
