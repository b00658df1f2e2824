//! What W6 and W7 share: where the MCP echo server is (`tools/mcp_echo_server.py` of the shared
//! bench, over stdio or streamable HTTP), how its `echo` answer is validated, and the process
//! probes of W7 (open fds, child processes).
//!
//! Environment:
//!
//! * `MCP_PYTHON`: the interpreter that runs the stdio server (default
//!   `/tmp/bench-venv/bin/python`, the incumbent's venv, which has the `mcp` package; the
//!   incumbent launches the server with its own interpreter, i.e. this one).
//! * `MCP_ECHO_SERVER`: the server script (default `../shared/bench/tools/mcp_echo_server.py`
//!   next to this repository).
//! * `MCP_HTTP_URL`: the running streamable-HTTP server (default `http://127.0.0.1:8090/mcp`).

use std::path::PathBuf;

use serde_json::Value;
use weft_core::ToolOutput;
use weft_mcp::{HttpServer, ServerConfig, StdioServer};

/// The incumbent's venv interpreter, which has the `mcp` package.
const DEFAULT_PYTHON: &str = "/tmp/bench-venv/bin/python";
/// The running HTTP server of `bench/run.sh`.
const DEFAULT_HTTP_URL: &str = "http://127.0.0.1:8090/mcp";
/// The name the source gets (used in errors and logs).
pub const SERVER_NAME: &str = "echo";
/// The tool W6 calls and W7 looks for.
pub const TOOL: &str = "echo";

/// Which transport a W6/W7 workload uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The framework launches the server as a child process on stdio.
    Stdio,
    /// The server already runs with streamable HTTP at `MCP_HTTP_URL`.
    Http,
}

impl Transport {
    /// `stdio` or `http`, as in the workload ids (`W6-stdio`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Stdio => "stdio",
            Transport::Http => "http",
        }
    }
}

/// Where the echo server is, read once from the environment before the timed region.
#[derive(Debug, Clone)]
pub struct EchoServer {
    /// The interpreter for the stdio server.
    pub python: String,
    /// The server script.
    pub script: String,
    /// The streamable-HTTP endpoint.
    pub http_url: String,
}

impl EchoServer {
    /// Reads `MCP_PYTHON`, `MCP_ECHO_SERVER` and `MCP_HTTP_URL`, with the defaults above.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            python: var("MCP_PYTHON").unwrap_or_else(|| DEFAULT_PYTHON.into()),
            script: var("MCP_ECHO_SERVER").unwrap_or_else(default_script),
            http_url: var("MCP_HTTP_URL").unwrap_or_else(|| DEFAULT_HTTP_URL.into()),
        }
    }

    /// Checks what a stdio launch needs (the interpreter and the script exist), so that a
    /// missing venv fails before the timed region with a clear message.
    pub fn check_stdio(&self) -> Result<(), String> {
        for (what, path) in [("MCP_PYTHON", &self.python), ("MCP_ECHO_SERVER", &self.script)] {
            if !std::path::Path::new(path).exists() {
                return Err(format!(
                    "{what}: {path} does not exist (see bench/run.sh for the venv one-liner)"
                ));
            }
        }
        Ok(())
    }

    /// The server config for a transport: `python mcp_echo_server.py` on stdio (the script's
    /// default mode, launched the way the incumbent does), or the HTTP URL.
    pub fn config(&self, transport: Transport) -> ServerConfig {
        match transport {
            Transport::Stdio => StdioServer::new(&self.python).arg(&self.script).into(),
            Transport::Http => HttpServer::new(&self.http_url).into(),
        }
    }
}

/// `../shared/bench/tools/mcp_echo_server.py` beside this repository.
fn default_script() -> String {
    let mut path = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    path.extend(["..", "..", "..", "shared", "bench", "tools", "mcp_echo_server.py"]);
    path.canonicalize().unwrap_or(path).display().to_string()
}

/// The argument of call `i`: `{"text": "msg-{i}"}`.
pub fn echo_arguments(i: usize) -> (String, Value) {
    let text = format!("msg-{i}");
    let arguments = serde_json::json!({ "text": text });
    (text, arguments)
}

/// Whether an `echo` result carries `text`: the value is exactly `text`, or (structured
/// content, e.g. `{"result": "msg-7"}`) contains it as a whole JSON string, so that `msg-1`
/// does not match `msg-10`. The incumbent's check is the same (`'"msg-{i}"' in text or text ==
/// "msg-{i}"`).
pub fn echo_ok(output: &ToolOutput, text: &str) -> bool {
    match &output.value {
        Value::String(value) => value == text,
        other => other.to_string().contains(&format!("\"{text}\"")),
    }
}

/// Open file descriptors of this process (entries of `/proc/self/fd`, counted the way the
/// incumbent counts them: the directory handle of the listing included).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|dir| dir.count()).unwrap_or(0)
}

/// Child processes of this process (zombies included): processes in `/proc` whose parent is us.
pub fn child_processes() -> usize {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| parent_pid(stat) == Some(me))
        .count()
}

/// The parent pid from a `/proc/<pid>/stat` line: the second field after the command, which is
/// in parentheses and may itself contain spaces and parentheses.
fn parent_pid(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_results_validate_exactly() {
        let (text, arguments) = echo_arguments(1);
        assert_eq!(arguments, serde_json::json!({"text": "msg-1"}));
        assert!(echo_ok(&ToolOutput::value("msg-1"), &text));
        assert!(!echo_ok(&ToolOutput::value("msg-10"), &text));
        assert!(echo_ok(&ToolOutput::value(serde_json::json!({"result": "msg-1"})), &text));
        assert!(!echo_ok(&ToolOutput::value(serde_json::json!({"result": "msg-10"})), &text));
    }

    #[test]
    fn parent_pid_survives_odd_command_names() {
        assert_eq!(parent_pid("42 (py (x) y) S 7 42 42 0"), Some(7));
        assert_eq!(parent_pid("garbage"), None);
    }

    #[test]
    fn probes_see_this_process() {
        assert!(open_fds() >= 3);
        let before = child_processes();
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        assert_eq!(child_processes(), before + 1);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(child_processes(), before);
    }
}
