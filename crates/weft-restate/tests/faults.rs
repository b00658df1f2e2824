//! Fault tests against a real restate-server and real worker processes: a worker `kill -9`-ed
//! mid-tool-call resumes without repeating completed calls, concurrent messages to one
//! conversation lose no turn, and a poison step stops after its retries with a typed error.
//! `#[ignore]`d unless run by `scripts/test`; by hand:
//! `source scripts/peers/restate.sh && cargo nextest run -p weft-restate --run-ignored all`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{RestateServer, Worker, WorkerSettings, send};
use weft_core::agent::AgentSession;
use weft_core::message::{Message, Role};
use weft_restate::TurnReply;
use weft_restate::demo::{DemoSettings, MODEL_COUNT_FILE, agent, count_calls, tool_count_file};

const TEST_TIMEOUT: Duration = Duration::from_secs(120);

fn settings(dir: &Path, lookup_ms: u64, max_attempts: u32) -> WorkerSettings {
    WorkerSettings::in_dir(dir, lookup_ms, max_attempts)
}

async fn messages(ingress: &str, conversation: &str) -> Vec<Message> {
    let response = reqwest::Client::new()
        .post(format!("{ingress}/WeftAgent/{conversation}/messages"))
        .timeout(TEST_TIMEOUT)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "messages failed: {}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn wait_for_count(dir: &Path, file: &str, at_least: usize) {
    let deadline = Instant::now() + TEST_TIMEOUT;
    while count_calls(dir, file) < at_least {
        assert!(Instant::now() < deadline, "{file} did not reach {at_least} calls");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn a_worker_killed_mid_tool_call_resumes_without_repeating_completed_calls() {
    killed_mid_tool_call(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn with_the_durable_calls_middleware_a_killed_worker_repeats_no_completed_call() {
    killed_mid_tool_call(true).await;
}

/// The demo agent's worker is killed while `slow_lookup` runs (its calls made durable by the
/// decorators, or by the middleware), and started again.
async fn killed_mid_tool_call(as_middleware: bool) {
    let server = RestateServer::start("kill mid tool call").await;
    let dir = tempfile::tempdir().unwrap();
    let prompt = "note and lookup the Eiffel Tower";

    // The same agent, run locally: the answer a durable run must give, and the calls it makes.
    let local_counts = dir.path().join("local");
    std::fs::create_dir_all(&local_counts).unwrap();
    let local_agent = agent(&DemoSettings {
        counts: Some(local_counts.clone()),
        lookup_delay: Duration::ZERO,
        as_middleware,
    });
    let mut local_session = AgentSession::new();
    let local = local_agent.run(&mut local_session, prompt).await.unwrap();
    assert_eq!(count_calls(&local_counts, MODEL_COUNT_FILE), 2, "the local run calls the model twice");
    assert_eq!(count_calls(&local_counts, &tool_count_file("note_fact")), 1);
    assert_eq!(count_calls(&local_counts, &tool_count_file("slow_lookup")), 1);

    let settings = WorkerSettings { as_middleware, ..settings(dir.path(), 3000, 5) };
    let counts = settings.counts.clone();
    let worker = Worker::start(settings.clone(), Some(&server.admin));
    let run = send(&server.ingress, "conv-kill", prompt);
    let crash = async {
        // The first model call and note_fact are done and journaled; slow_lookup is running.
        wait_for_count(&counts, &tool_count_file("slow_lookup"), 1).await;
        assert_eq!(count_calls(&counts, MODEL_COUNT_FILE), 1);
        assert_eq!(count_calls(&counts, &tool_count_file("note_fact")), 1);
        tokio::time::sleep(Duration::from_millis(500)).await;
        worker.kill();
        Worker::start(settings.clone(), None)
    };
    let (response, restarted) = tokio::time::timeout(TEST_TIMEOUT, async { tokio::join!(run, crash) })
        .await
        .expect("the run did not finish");
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(status.is_success(), "the run failed ({status}): {body}\nrestate log:\n{}", server.log());
    let reply: TurnReply = serde_json::from_str(&body).unwrap();

    // Completed calls were not repeated; only the call the crash interrupted ran again.
    assert_eq!(count_calls(&counts, MODEL_COUNT_FILE), 2, "the first model call was not repeated");
    assert_eq!(count_calls(&counts, &tool_count_file("note_fact")), 1, "note_fact was not repeated");
    assert_eq!(count_calls(&counts, &tool_count_file("slow_lookup")), 2, "the interrupted call ran again");
    // The interrupted call ran again under the same step key: the idempotency key a tool sees.
    let keys = std::fs::read_to_string(counts.join(tool_count_file("slow_lookup"))).unwrap();
    let keys: Vec<&str> = keys.lines().collect();
    assert_eq!(keys[0], keys[1], "one key for both attempts");
    assert!(keys[0].starts_with("inv_") && keys[0].contains("/tool:slow_lookup#"), "{keys:?}");
    // The same answer as the local run, and the conversation holds the turn once.
    assert_eq!(reply.text, local.text());
    assert_eq!(reply.response.messages, local.messages);
    assert_eq!(messages(&server.ingress, "conv-kill").await, local_session.messages);
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn concurrent_messages_to_one_conversation_lose_no_turn() {
    let server = RestateServer::start("concurrent messages").await;
    let dir = tempfile::tempdir().unwrap();
    let _worker = Worker::start(settings(dir.path(), 100, 5), Some(&server.admin));
    const TURNS: usize = 6;
    let prompts: Vec<String> = (0..TURNS).map(|i| format!("lookup item{i}x")).collect();
    let sends = prompts.iter().map(|prompt| send(&server.ingress, "conv-busy", prompt));
    let responses = tokio::time::timeout(TEST_TIMEOUT, futures::future::join_all(sends)).await.unwrap();
    for response in responses {
        let status = response.status();
        assert!(status.is_success(), "a message failed ({status}): {}", response.text().await.unwrap());
    }
    let history = messages(&server.ingress, "conv-busy").await;
    let users: Vec<String> = history.iter().filter(|m| m.role == Role::User).map(Message::text).collect();
    assert_eq!(users.len(), TURNS, "every message is in the conversation once: {users:?}");
    for i in 0..TURNS {
        assert_eq!(users.iter().filter(|text| text.contains(&format!("item{i}x"))).count(), 1, "{users:?}");
    }
    // Turns do not interleave: each user message is followed by its own tool call and answer.
    let mut current: Option<String> = None;
    for message in &history {
        match message.role {
            Role::User => current = Some(message.text()),
            Role::Assistant if !message.text().is_empty() => {
                let asked = current.take().expect("an answer follows a user message");
                let item = asked.split_whitespace().last().unwrap_or_default();
                assert!(message.text().contains(item), "answer {:?} to {asked:?}", message.text());
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn a_poison_step_stops_after_its_retries_with_a_typed_error() {
    let server = RestateServer::start("poison step").await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), 0, 3);
    let counts = settings.counts.clone();
    let _worker = Worker::start(settings, Some(&server.admin));
    let response =
        tokio::time::timeout(TEST_TIMEOUT, send(&server.ingress, "conv-poison", "ask the backend"))
            .await
            .expect("the poison run did not stop");
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(!status.is_success(), "the run must fail: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("durable step tool:flaky_backend#2:"),
        "the typed error names the step: {body}"
    );
    assert!(message.contains("the backend is unavailable"), "and the cause: {body}");
    assert_eq!(count_calls(&counts, &tool_count_file("flaky_backend")), 3, "three attempts, no more");
    assert_eq!(count_calls(&counts, MODEL_COUNT_FILE), 1, "the model call before it was not repeated");
    assert!(messages(&server.ingress, "conv-poison").await.is_empty(), "a failed turn is not kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn requests_with_one_idempotency_key_start_one_run() {
    let server = RestateServer::start("idempotency key").await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), 300, 5);
    let counts = settings.counts.clone();
    let _worker = Worker::start(settings, Some(&server.admin));
    let request = || {
        reqwest::Client::new()
            .post(format!("{}/WeftAgent/conv-once/send", server.ingress))
            .header("idempotency-key", "order-42")
            .json(&json!({ "message": "lookup the order" }))
            .timeout(TEST_TIMEOUT)
            .send()
    };
    let (first, second) = tokio::join!(request(), request());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert!(first.status().is_success() && second.status().is_success());
    let (first, second): (TurnReply, TurnReply) = (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(first, second, "both requests get the one run's reply");
    let third: TurnReply = request().await.unwrap().json().await.unwrap();
    assert_eq!(first, third, "a retry after the run gets its reply too");
    assert_eq!(count_calls(&counts, &tool_count_file("slow_lookup")), 1, "one run");
    assert_eq!(count_calls(&counts, MODEL_COUNT_FILE), 2, "one run");
    let users = messages(&server.ingress, "conv-once").await.iter().filter(|m| m.role == Role::User).count();
    assert_eq!(users, 1, "the conversation holds the turn once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn a_run_finishes_when_restate_server_restarts_mid_run() {
    let test = "restate-server restart";
    let mut server = RestateServer::start(test).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), 2000, 5);
    let counts = settings.counts.clone();
    let _worker = Worker::start(settings, Some(&server.admin));
    let request = |ingress: String| async move {
        reqwest::Client::new()
            .post(format!("{ingress}/WeftAgent/conv-restart/send"))
            .header("idempotency-key", "restart-1")
            .json(&json!({ "message": "note and lookup the Eiffel Tower" }))
            .timeout(TEST_TIMEOUT)
            .send()
            .await
    };
    let first = request(server.ingress.clone());
    let restart = async {
        wait_for_count(&counts, &tool_count_file("slow_lookup"), 1).await;
        server.restart(test).await;
    };
    // The first request's connection dies with the server; the same idempotency key attaches
    // to the run, which the restarted server finishes.
    let (first, ()) =
        tokio::time::timeout(TEST_TIMEOUT, async { tokio::join!(first, restart) }).await.unwrap();
    drop(first);
    let response =
        tokio::time::timeout(TEST_TIMEOUT, request(server.ingress.clone())).await.unwrap().unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(status.is_success(), "the run failed ({status}): {body}\nrestate log:\n{}", server.log());
    let reply: TurnReply = serde_json::from_str(&body).unwrap();
    assert!(reply.text.contains("slow_lookup returned: found:"), "{}", reply.text);
    assert_eq!(count_calls(&counts, MODEL_COUNT_FILE), 2, "the first model call was not repeated");
    assert_eq!(count_calls(&counts, &tool_count_file("note_fact")), 1, "note_fact was not repeated");
    let lookups = count_calls(&counts, &tool_count_file("slow_lookup"));
    assert!((1..=2).contains(&lookups), "the interrupted call ran at most once more: {lookups}");
    let users =
        messages(&server.ingress, "conv-restart").await.iter().filter(|m| m.role == Role::User).count();
    assert_eq!(users, 1);
}
