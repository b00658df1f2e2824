//! Microsoft Agent Framework's own clients driving `weft serve` (`tests/clients/maf_clients.py`):
//! a MAF `Agent` over `OpenAIChatClient` (Responses) and `OpenAIChatCompletionClient` (Chat
//! Completions), multi-turn, streamed and not, a server-side tool call, approvals answered through
//! MAF's approval contents; and `AGUIChatClient` over `/ag-ui/weft` (streamed text, a tool call,
//! an approval interrupt resumed). One framework's client against the other's server.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
mod serve_support;

use std::process::Command;

use serve_support::Server;

/// The Python of the venv scripts/peers/maf.sh installs, or a panic saying how to get it.
fn maf_python() -> String {
    match std::env::var("WEFT_MAF_PYTHON") {
        Ok(value) if std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "WEFT_MAF_PYTHON is not set (or does not exist): this test needs MAF's Python packages; run \
             scripts/test, or `source scripts/peers/maf.sh` first"
        ),
    }
}

/// Runs PART of the script against `weft serve` and `weft serve --approve`.
fn drive(part: &str) {
    let python = maf_python();
    let mut plain = Server::start();
    let mut approve = Server::start_with(&["--approve"]);
    let root = |server: &Server| server.url.trim_end_matches("/v1").to_string();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/maf_clients.py");
    let output =
        Command::new(python).arg(script).arg(part).arg(root(&plain)).arg(root(&approve)).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("all checks passed"), "{stdout}");
    assert!(plain.terminate().success());
    assert!(approve.terminate().success());
}

#[test]
#[ignore = "needs MAF: scripts/test installs them"]
fn mafs_responses_client_drives_weft_serve() {
    drive("responses");
}

#[test]
#[ignore = "needs MAF: scripts/test installs them"]
fn mafs_chat_completion_client_drives_weft_serve() {
    drive("chat-completions");
}

#[test]
#[ignore = "needs MAF: scripts/test installs them"]
fn mafs_ag_ui_client_drives_weft_serve() {
    drive("ag-ui");
}
