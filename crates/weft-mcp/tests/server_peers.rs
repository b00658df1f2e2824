#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `serve_agent` example (a Weft agent served as an MCP server) driven over stdio by Weft's
//! own client, and over stdio and streamable HTTP by the Python `mcp` client
//! (tests/servers/py_client.py): tools, progress, approvals through elicitation, bad input,
//! cancellation reaching the agent's tool, and no process left behind.

mod common;
#[path = "../../weft/tests/support/examples.rs"]
mod examples_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use weft_core::ToolSet;
use weft_mcp::{ElicitationResponse, McpErrorKind, McpSource, StdioServer};

fn serve_agent() -> PathBuf {
    examples_support::example_path("serve_agent", Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")))
}

/// Waits up to 10 s for the file `name` in `dir`.
async fn wait_for_mark(dir: &Path, name: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !dir.join(name).exists() {
        assert!(tokio::time::Instant::now() < deadline, "no {name} mark after 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn process_alive(pid: u32) -> bool {
    // A zombie has exited; /proc/PID/stat's third field says Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

#[tokio::test]
async fn weft_drives_an_agent_served_over_stdio() {
    let marks = tempfile::tempdir().unwrap();
    let server =
        StdioServer::new(serve_agent()).env("WEFT_SERVE_AGENT_MARKS", marks.path().display().to_string());
    let source = McpSource::builder("served", server)
        .request_timeout(Duration::from_secs(2))
        .elicitation_handler(|_request: weft_mcp::ElicitationRequest| async {
            ElicitationResponse::Accept(Default::default())
        })
        .connect()
        .await
        .unwrap();
    let pid = source.child_pid().await.unwrap();
    let names: Vec<String> = source.tools().iter().map(|t| t.definition().name.clone()).collect();
    assert_eq!(names, ["helper"]);
    let output = source.call_tool("helper", json!({"prompt": "What's the weather in Oslo?"})).await.unwrap();
    assert_eq!(output.value, json!("get_weather returned: weather in Oslo: sunny"));
    let output = source.call_tool("helper", json!({"prompt": "wipe the cache"})).await.unwrap();
    assert_eq!(output.value, json!("wipe_cache returned: cache wiped"));
    assert!(marks.path().join("wiped").exists());
    let error = source.call_tool("helper", json!({})).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::ToolFailed, "{error}");

    let error = source.call_tool("helper", json!({"prompt": "start the slow job"})).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::Timeout, "{error}");
    wait_for_mark(marks.path(), "slow_started").await;
    wait_for_mark(marks.path(), "slow_cancelled").await;

    source.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while process_alive(pid) {
        assert!(tokio::time::Instant::now() < deadline, "the server process {pid} outlived close");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs py_client.py with `args`; returns its steps by name.
fn python_client(args: &[&str], marks: &Path) -> serde_json::Map<String, Value> {
    let python = common::peer("WEFT_MCP_PYTHON");
    let script = common::servers_dir().join("py_client.py");
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .env("WEFT_SERVE_AGENT_MARKS", marks)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut steps = serde_json::Map::new();
    for line in BufReader::new(stdout).lines() {
        let step: Value = serde_json::from_str(&line.unwrap()).unwrap();
        steps.insert(step["step"].as_str().unwrap().to_owned(), step);
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "py_client failed: {}\n{steps:?}\n{stderr}", output.status);
    assert!(steps.contains_key("done"), "{steps:?}\n{stderr}");
    steps
}

fn check_python_steps(steps: &serde_json::Map<String, Value>, marks: &Path) {
    assert_eq!(steps["tools"]["names"], json!(["helper"]));
    assert_eq!(steps["tools"]["required"], json!([["prompt"]]));
    assert_eq!(steps["weather"]["texts"], json!(["get_weather returned: weather in Paris: sunny"]));
    let progress = steps["weather"]["progress"].as_array().unwrap();
    assert!(progress.contains(&json!("calling get_weather")), "{progress:?}");
    assert_eq!(steps["approve"]["texts"], json!(["wipe_cache returned: cache wiped"]));
    assert!(
        steps["approve"]["asked"][0].as_str().unwrap().contains("`wipe_cache`"),
        "{:?}",
        steps["approve"]
    );
    assert_eq!(steps["decline"]["asked"], json!(2));
    assert_ne!(steps["decline"]["texts"], json!(["wipe_cache returned: cache wiped"]));
    assert_eq!(steps["bad_input"]["is_error"], json!(true));
    assert_eq!(steps["cancel"]["cancelled"], json!(true));
    assert_eq!(steps["after_cancel"]["texts"], json!(["You said: hello"]));
    assert!(marks.join("slow_started").exists());
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn the_python_client_drives_an_agent_served_over_stdio() {
    let marks = tempfile::tempdir().unwrap();
    let server = serve_agent().display().to_string();
    let steps = tokio::task::spawn_blocking({
        let marks = marks.path().to_owned();
        move || python_client(&["stdio", &server], &marks)
    })
    .await
    .unwrap();
    check_python_steps(&steps, marks.path());
    wait_for_mark(marks.path(), "slow_cancelled").await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn the_python_client_drives_an_agent_served_over_http() {
    let marks = tempfile::tempdir().unwrap();
    let mut server = Command::new(serve_agent())
        .arg("--http")
        .env("WEFT_SERVE_AGENT_MARKS", marks.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("listening on ").unwrap().to_owned();
    let steps = tokio::task::spawn_blocking({
        let marks = marks.path().to_owned();
        move || python_client(&["http", &url], &marks)
    })
    .await
    .unwrap();
    check_python_steps(&steps, marks.path());
    wait_for_mark(marks.path(), "slow_cancelled").await;
    server.kill().unwrap();
    server.wait().unwrap();
}
