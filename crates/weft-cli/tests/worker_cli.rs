//! `weft worker`: its refusals, and the demo agent served to a real restate-server (started per
//! test by `scripts/test`'s peer, `scripts/peers/restate.sh`): messages through Restate's
//! ingress, a conversation kept across a `kill -9` of the worker. The peer tests are
//! `#[ignore]`d unless run with `--run-ignored all`; without the peer they fail saying so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../weft-restate/tests/support/restate_server.rs"]
mod restate_server;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

use common::{run, text};
use restate_server::{RestateServer, free_port};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn an_open_address_without_an_identity_key_is_refused() {
    let output = run(&["worker", "--listen", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--identity-key") && stderr.contains("--no-auth"), "{stderr}");
}

#[test]
fn a_malformed_identity_key_is_refused_without_showing_it() {
    let output = run(&["worker", "--listen", "127.0.0.1:0", "--identity-key", "not-a-key-s3cret"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("identity key is not valid"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "the key was shown: {stderr}");
}

#[test]
fn an_unreachable_admin_api_is_named() {
    let port = free_port();
    let admin = format!("http://127.0.0.1:{port}");
    let output = run(&["worker", "--listen", "127.0.0.1:0", "--register", &admin]);
    assert_ne!(output.status.code(), Some(0));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot reach Restate's admin API") && stderr.contains(&admin), "{stderr}");
}

/// `weft worker ARGS`, and the first line it prints (once it serves).
fn spawn_worker(args: &[&str]) -> (Child, String) {
    let mut child = common::weft().arg("worker").args(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line)
}

/// A `weft worker` process serving the demo agent on `port`, registered with `admin`; killed
/// on drop.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn start(port: u16, admin: &str) -> Self {
        let listen = format!("127.0.0.1:{port}");
        let (child, line) = spawn_worker(&["--listen", &listen, "--register", admin]);
        assert!(line.contains("serving the agent to Restate"), "the worker said: {line:?}");
        Self(child)
    }

    fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `POST INGRESS/PATH` with `body` as JSON (none for a handler without input).
async fn call(ingress: &str, path: &str, body: Option<Value>) -> Value {
    let mut request = reqwest::Client::new().post(format!("{ingress}/{path}")).timeout(TIMEOUT);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status}: {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn the_demo_agent_answers_through_restate_and_keeps_its_conversation_across_a_kill() {
    let server = RestateServer::start("weft worker").await;
    let port = free_port();
    let worker = WorkerProcess::start(port, &server.admin);

    let reply =
        call(&server.ingress, "WeftAgent/trip/send", Some(json!({ "message": "weather in Paris" }))).await;
    let answer = reply["text"].as_str().unwrap();
    assert!(answer.contains("Paris"), "{reply}");
    // The scripted model called the demo tool; the call and its result are in the turn.
    let turn = reply["response"]["messages"].to_string();
    assert!(turn.contains("get_weather"), "{turn}");

    // Killed and started again: the conversation is Restate's state, not the worker's.
    worker.kill();
    let _worker = WorkerProcess::start(port, &server.admin);
    call(&server.ingress, "WeftAgent/trip/send", Some(json!({ "message": "What is 2 plus 3?" }))).await;
    let messages = call(&server.ingress, "WeftAgent/trip/messages", None).await;
    let messages = messages.as_array().unwrap();
    let users: Vec<&Value> = messages.iter().filter(|m| m["role"] == "user").collect();
    assert_eq!(users.len(), 2, "both turns are kept: {messages:?}");
    assert!(messages.len() >= 6, "each turn holds its tool call and result: {messages:?}");
}

#[test]
fn sigterm_stops_the_worker_cleanly() {
    let port = free_port();
    let (mut child, line) = spawn_worker(&["--listen", &format!("127.0.0.1:{port}")]);
    assert!(line.contains(&format!("http://127.0.0.1:{port}")), "the worker said: {line:?}");
    let status =
        std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the worker did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit: {status:?}");
}

#[test]
fn workflow_status_names_an_unreachable_ingress() {
    let ingress = format!("http://127.0.0.1:{}", free_port());
    let output = run(&["workflow", "status", "run-1", "--ingress", &ingress]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot reach Restate's ingress") && stderr.contains(&ingress), "{stderr}");
}
