//! `weft worker`: its refusals, and the demo agent served to a real restate-server (started per
//! test by `scripts/test`'s peer, `scripts/peers/restate.sh`): messages through Restate's
//! ingress, a conversation kept across a `kill -9` of the worker. The peer tests are
//! `#[ignore]`d unless run with `--run-ignored all`; without the peer they fail saying so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../weft-restate/tests/support/restate_server.rs"]
mod restate_server;
mod serve_support;

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
        assert!(
            line.contains("serving the agent (object WeftAgent) to Restate"),
            "the worker said: {line:?}"
        );
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

/// A declarative example file of the repository.
fn example(name: &str) -> String {
    format!("{}/../../examples/declarative/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `weft ARGS` off the async runtime.
async fn weft_cli(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    })
    .await
    .unwrap()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

#[test]
fn two_workflow_files_are_refused_naming_both() {
    let a = example("human_input.workflow.yaml");
    let b = example("sequential.workflow.yaml");
    let output = run(&["worker", &a, &b, "--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("human_input.workflow.yaml") && stderr.contains("sequential.workflow.yaml"),
        "{stderr}"
    );
    assert!(stderr.contains("one agent and one workflow at most"), "{stderr}");
}

#[test]
fn agent_flags_are_refused_for_a_worker_serving_only_a_workflow() {
    let file = example("sequential.workflow.yaml");
    let output = run(&["worker", &file, "--instructions", "be brief", "--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("--instructions applies to a served agent"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn a_workflow_file_runs_on_restate_started_answered_and_awaited_from_the_cli() {
    let server = RestateServer::start("weft worker workflow").await;
    let listen = format!("127.0.0.1:{}", free_port());
    let file = example("human_input.workflow.yaml");
    let (child, line) = spawn_worker(&[&file, "--listen", &listen, "--register", &server.admin]);
    let _worker = WorkerProcess(child);
    assert!(line.contains("the workflow publishing (workflow WeftWorkflow)"), "the worker said: {line:?}");
    let ingress = server.ingress.clone();
    let cli = |args: &[&str]| {
        let mut all = strings(args);
        all.extend(strings(&["--ingress", &ingress]));
        weft_cli(all)
    };

    let started = cli(&["workflow", "start", "pub-1", "Draft a haiku"]).await;
    assert!(started.status.success(), "{}", text(&started.stderr));
    assert!(text(&started.stdout).contains("started pub-1"), "{}", text(&started.stdout));

    // The review asks; its request is listed with its id.
    let deadline = std::time::Instant::now() + TIMEOUT;
    let request_id = loop {
        let status = cli(&["workflow", "status", "pub-1"]).await;
        let out = text(&status.stdout);
        if let Some(line) = out.lines().find(|l| l.contains("from review:")) {
            assert!(out.starts_with("run pub-1: waiting"), "{out}");
            assert!(line.contains("Publish the draft?"), "{out}");
            break line.split_whitespace().next().unwrap().to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "no review was asked: {out}{}", text(&status.stderr));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let answered = cli(&["workflow", "respond", "pub-1", &request_id, "yes"]).await;
    assert!(answered.status.success(), "{}", text(&answered.stderr));

    // The answer took the `yes` branch to the publisher, whose output `wait` prints.
    let waited = cli(&["workflow", "wait", "pub-1", "--timeout", "60"]).await;
    assert!(waited.status.success(), "{}", text(&waited.stderr));
    assert_eq!(text(&waited.stdout).trim(), "You said: yes", "{}", text(&waited.stdout));
    let status = cli(&["workflow", "status", "pub-1"]).await;
    assert!(text(&status.stdout).starts_with("run pub-1: completed"), "{}", text(&status.stdout));

    // One run per id: starting pub-1 again is refused, saying so.
    let again = cli(&["workflow", "start", "pub-1", "Draft another"]).await;
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("was started before"), "{}", text(&again.stderr));
}

/// `POST {url}/responses` with `body`; the answer as JSON.
async fn respond(url: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{url}/responses"))
        .json(&body)
        .timeout(TIMEOUT)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {answer}");
    answer
}

/// The text of a Responses answer's message items.
fn output_text(answer: &Value) -> String {
    answer["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().unwrap().iter())
        .filter_map(|part| part["text"].as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn weft_serve_runs_its_agent_on_the_restate_workers_and_outlives_a_dead_worker() {
    let server = RestateServer::start("weft serve on Restate").await;
    let port = free_port();
    let worker = WorkerProcess::start(port, &server.admin);
    let serve = tokio::task::spawn_blocking({
        let ingress = server.ingress.clone();
        move || serve_support::Server::start_with(&["--restate-ingress", &ingress])
    })
    .await
    .unwrap();

    let first = respond(&serve.url, json!({ "model": "weft", "input": "weather in Paris" })).await;
    assert!(output_text(&first).contains("Paris"), "{first}");
    // The tool call ran on the worker; the host shows it as items.
    assert!(first["output"].to_string().contains("get_weather"), "{first}");

    // The worker dies; the next message waits in Restate until a worker is back, then runs.
    worker.kill();
    let second = tokio::spawn({
        let url = serve.url.clone();
        let previous = first["id"].clone();
        async move {
            respond(
                &url,
                json!({ "model": "weft", "input": "What is 2 plus 3?", "previous_response_id": previous }),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!second.is_finished(), "answered with no worker running");
    let _worker = WorkerProcess::start(port, &server.admin);
    let second =
        tokio::time::timeout(TIMEOUT, second).await.expect("answered once a worker was back").unwrap();
    assert!(output_text(&second).contains('5'), "{second}");
    assert_eq!(second["previous_response_id"], first["id"], "{second}");
}
