#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `mcp_agent` example: against server-everything (the server it starts by default, here the
//! installed copy), and failing in one line when the server cannot start. Cargo builds a
//! package's examples before its tests; these tests run that binary. (`conformance_client` is
//! run by the MCP conformance suite, `.ci/conformance.sh`.)

mod common;
#[path = "../../weft/tests/support/examples.rs"]
mod examples_support;

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

/// The built example `name` (see `examples_support::example_path`).
fn example_path(name: &str) -> PathBuf {
    examples_support::example_path(
        name,
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples")),
    )
}

/// Runs `mcp_agent` with `args` (and `path` as its PATH when given); fails the test if it runs
/// over two minutes.
async fn mcp_agent(args: &[&str], path: Option<&str>) -> (Output, String, String) {
    let mut command = tokio::process::Command::new(example_path("mcp_agent"));
    command.args(args).kill_on_drop(true).stdin(std::process::Stdio::null());
    for var in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"] {
        command.env_remove(var);
    }
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("mcp_agent ran over 120 s")
        .unwrap();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    (output, stdout, stderr)
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn mcp_agent_uses_server_everythings_tools() {
    let (node, everything) = (common::peer("WEFT_MCP_NODE"), common::peer("WEFT_MCP_EVERYTHING"));
    let (output, stdout, stderr) = mcp_agent(&[&node, &everything, "stdio"], None).await;
    assert!(output.status.success(), "{:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);
    let tools = stdout.lines().find_map(|l| l.strip_prefix("tools offered by the server: ")).unwrap();
    let tools: Vec<&str> = tools.split(", ").collect();
    assert!(tools.contains(&"echo") && tools.contains(&"get-sum"), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    for expected in [
        "> echo Hello from Weft",
        "echo returned: Echo: Hello from Weft",
        "> add 2 and 3",
        "get-sum returned: The sum of 2 and 3 is 5.",
    ] {
        assert!(lines.contains(&expected), "missing {expected:?} in:\n{stdout}");
    }
}

/// The one line a failure prints, after checking it is the only one and the exit status is 1.
#[track_caller]
fn one_error_line(output: &Output, stdout: &str, stderr: &str) -> String {
    assert_eq!(output.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("McpError {"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    stderr.trim_end().to_string()
}

#[tokio::test]
async fn without_npx_the_default_server_fails_in_one_line_naming_npx() {
    let (output, stdout, stderr) = mcp_agent(&[], Some("/nonexistent-weft-test-path")).await;
    let line = one_error_line(&output, &stdout, &stderr);
    assert!(line.starts_with("mcp_agent: cannot start `npx`: "), "{line}");
    assert!(line.contains("No such file or directory"), "{line}");
}

#[tokio::test]
async fn a_server_that_exits_at_once_fails_in_one_line_naming_it() {
    let (output, stdout, stderr) = mcp_agent(&["sh", "-c", "echo 'no MCP here' >&2; exit 3"], None).await;
    let line = one_error_line(&output, &stdout, &stderr);
    assert!(line.starts_with("mcp_agent: `sh -c echo 'no MCP here' >&2; exit 3`: MCP server"), "{line}");
    assert!(line.contains("unreachable"), "{line}");
    assert!(line.contains("no MCP here"), "the server's last words: {line}");
}
