//! The AG-UI endpoint over a real socket: the event stream (order, tool calls, text, state),
//! continuation by history, client-side tools, approvals as interrupts resumed by the next run,
//! and the guards (RUN_ERROR without details, 413, 404, 401, disconnect).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "agui/support.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{HangingAgent, TestHost, sse_data};
use futures::StreamExt;
use serde_json::{Value, json};
use support::{events, find, host, post, text, types};
use weft_host::{Host, HostConfig};

fn input(thread: &str, messages: Value) -> Value {
    json!({"threadId": thread, "runId": format!("run-{}", uuid()), "messages": messages,
           "tools": [], "context": [], "forwardedProps": {}})
}

fn uuid() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

fn user(id: &str, content: &str) -> Value {
    json!({"id": id, "role": "user", "content": content})
}

/// Waits (up to 10 s) until `check` holds.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_run_streams_tool_calls_results_and_text_in_order() {
    let host = host(HostConfig::default(), HangingAgent::default()).await;
    let body = input("t1", json!([user("u1", "Tell me the weather in Paris")]));
    let events = events(&host.url, "helper", &body).await;
    let kinds = types(&events);
    let deltas = kinds.iter().filter(|k| **k == "TEXT_MESSAGE_CONTENT").count();
    assert!(deltas >= 1, "{kinds:?}");
    let mut expected = vec![
        "RUN_STARTED",
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "TOOL_CALL_RESULT",
        "TEXT_MESSAGE_START",
    ];
    expected.extend(std::iter::repeat_n("TEXT_MESSAGE_CONTENT", deltas));
    expected.extend(["TEXT_MESSAGE_END", "RUN_FINISHED"]);
    assert_eq!(kinds, expected, "{events:#?}");

    let started = &events[0];
    assert_eq!(
        (started["threadId"].as_str(), started["runId"].as_str()),
        (Some("t1"), body["runId"].as_str())
    );
    let call = find(&events, "TOOL_CALL_START");
    assert_eq!(call["toolCallName"], "get_weather");
    let call_id = call["toolCallId"].as_str().unwrap();
    let args = find(&events, "TOOL_CALL_ARGS");
    assert_eq!(args["toolCallId"], call_id);
    assert_eq!(serde_json::from_str::<Value>(args["delta"].as_str().unwrap()).unwrap()["city"], "Paris");
    assert_eq!(find(&events, "TOOL_CALL_END")["toolCallId"], call_id);
    let result = find(&events, "TOOL_CALL_RESULT");
    assert_eq!(result["toolCallId"], call_id);
    assert_eq!(result["content"], "weather in Paris: sunny, 21C");
    assert_eq!(result["role"], "tool");
    assert!(result["messageId"].as_str().is_some());
    // The text message has one id from start to end, and the text is the tool's result told.
    let message_id = &find(&events, "TEXT_MESSAGE_START")["messageId"];
    assert_eq!(find(&events, "TEXT_MESSAGE_START")["role"], "assistant");
    assert!(
        events
            .iter()
            .filter(|e| e["type"].as_str().unwrap().starts_with("TEXT_"))
            .all(|e| &e["messageId"] == message_id)
    );
    assert!(text(&events).contains("sunny, 21C"), "{}", text(&events));
    let finished = events.last().unwrap();
    assert_eq!(finished["threadId"], "t1");
    assert_eq!(finished["runId"], body["runId"]);
    assert_eq!(finished["outcome"], json!({"type": "success"}));
    assert!(finished["usage"][0]["totalTokens"].as_u64().unwrap() > 0, "{finished}");
}

#[tokio::test]
async fn the_history_in_messages_continues_the_thread() {
    let host = host(HostConfig::default(), HangingAgent::default()).await;
    let first = events(&host.url, "helper", &input("t2", json!([user("u1", "My name is Ada.")]))).await;
    let reply = text(&first);
    let history = json!([
        user("u1", "My name is Ada."),
        {"id": "a1", "role": "assistant", "content": reply},
        user("u2", "What is my name?"),
    ]);
    let second = events(&host.url, "helper", &input("t2", history)).await;
    assert!(text(&second).contains("Ada"), "{second:#?}");
    // Without the history the agent does not know.
    let fresh = events(&host.url, "helper", &input("t3", json!([user("u2", "What is my name?")]))).await;
    assert!(!text(&fresh).contains("Ada"), "{fresh:#?}");
}

#[tokio::test]
async fn the_input_state_comes_back_as_a_snapshot() {
    let host = host(HostConfig::default(), HangingAgent::default()).await;
    let mut body = input("t4", json!([user("u1", "hello")]));
    body["state"] = json!({"count": 2, "items": ["a"]});
    let events = events(&host.url, "helper", &body).await;
    assert_eq!(types(&events)[..2], ["RUN_STARTED", "STATE_SNAPSHOT"]);
    assert_eq!(events[1]["snapshot"], body["state"]);
    // No state, no snapshot.
    let events = support::events(&host.url, "helper", &input("t5", json!([user("u1", "hello")]))).await;
    assert!(!types(&events).contains(&"STATE_SNAPSHOT"));
}

#[tokio::test]
async fn a_client_tool_ends_the_run_with_its_call_and_its_result_continues_it() {
    let host = host(HostConfig::default(), HangingAgent::default()).await;
    let tools = json!([{"name": "confirm_booking", "description": "Ask the user to confirm a booking",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                       "required": ["city"]}}]);
    let mut body = input("t6", json!([user("u1", "Please confirm booking in Rome")]));
    body["tools"] = tools.clone();
    let first = events(&host.url, "helper", &body).await;
    assert_eq!(
        types(&first),
        ["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "RUN_FINISHED"],
        "{first:#?}"
    );
    let call = find(&first, "TOOL_CALL_START");
    assert_eq!(call["toolCallName"], "confirm_booking");
    let call_id = call["toolCallId"].as_str().unwrap();
    let arguments = find(&first, "TOOL_CALL_ARGS")["delta"].as_str().unwrap().to_string();
    assert_eq!(serde_json::from_str::<Value>(&arguments).unwrap()["city"], "Rome");
    assert_eq!(first.last().unwrap()["outcome"], json!({"type": "success", "pendingToolCallIds": [call_id]}));

    let history = json!([
        user("u1", "Please confirm booking in Rome"),
        {"id": call["parentMessageId"], "role": "assistant", "toolCalls": [
            {"id": call_id, "type": "function", "function": {"name": "confirm_booking", "arguments": arguments}}]},
        {"id": "r1", "role": "tool", "toolCallId": call_id, "content": "the user confirmed"},
    ]);
    let mut body = input("t6", history);
    body["tools"] = tools;
    let second = events(&host.url, "helper", &body).await;
    assert!(!types(&second).contains(&"TOOL_CALL_START"), "{second:#?}");
    assert!(text(&second).contains("the user confirmed"), "{second:#?}");
    assert_eq!(second.last().unwrap()["outcome"], json!({"type": "success"}));
}

/// Runs "Delete the file notes.txt" on thread `thread` and returns its events.
async fn ask_to_delete(url: &str, thread: &str) -> Vec<Value> {
    events(url, "helper", &input(thread, json!([user("u1", "Delete the file notes.txt")]))).await
}

#[tokio::test]
async fn a_tool_that_needs_approval_interrupts_the_run_and_the_answer_resumes_it() {
    let host = host(HostConfig::default(), HangingAgent::default()).await;
    let first = ask_to_delete(&host.url, "t7").await;
    assert_eq!(
        types(&first),
        ["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "RUN_FINISHED"],
        "{first:#?}"
    );
    let call = find(&first, "TOOL_CALL_START");
    assert_eq!(call["toolCallName"], "delete_file");
    let outcome = &first.last().unwrap()["outcome"];
    assert_eq!(outcome["type"], "interrupt", "{outcome}");
    let interrupt = &outcome["interrupts"][0];
    assert_eq!(outcome["interrupts"].as_array().unwrap().len(), 1);
    assert_eq!(interrupt["reason"], "tool_approval");
    assert_eq!(interrupt["toolCallId"], call["toolCallId"]);
    assert!(interrupt["message"].as_str().unwrap().contains("delete_file"));
    assert_eq!(interrupt["responseSchema"]["properties"]["approved"]["type"], "boolean");

    let mut resume = input("t7", json!([]));
    resume["resume"] =
        json!([{"interruptId": interrupt["id"], "status": "resolved", "payload": {"approved": true}}]);
    let second = events(&host.url, "helper", &resume).await;
    let kinds = types(&second);
    assert_eq!(kinds[..3], ["RUN_STARTED", "TOOL_CALL_RESULT", "TEXT_MESSAGE_START"], "{second:#?}");
    let result = find(&second, "TOOL_CALL_RESULT");
    assert_eq!(result["toolCallId"], call["toolCallId"]);
    assert_eq!(result["content"], "deleted notes.txt");
    assert!(text(&second).contains("deleted notes.txt"), "{second:#?}");
    assert_eq!(second.last().unwrap()["outcome"], json!({"type": "success"}));

    // The same answer cannot run the call twice.
    let again = post(&host.url, "helper", &resume).await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn two_resumes_of_one_interrupt_run_the_approved_call_once() {
    let deletes = Arc::new(AtomicUsize::new(0));
    // The call takes a while, so the second resume arrives while the first run is going.
    let agent = support::agent_counting(deletes.clone(), Duration::from_millis(300));
    let host = TestHost::start(Host::new().agent("helper", agent)).await;
    let first = ask_to_delete(&host.url, "t12").await;
    let id = first.last().unwrap()["outcome"]["interrupts"][0]["id"].clone();
    let mut resume = input("t12", json!([]));
    resume["resume"] = json!([{"interruptId": id, "status": "resolved", "payload": {"approved": true}}]);
    let answer = |body: Value| {
        let url = host.url.clone();
        async move {
            let response = post(&url, "helper", &body).await;
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let (a, b) = tokio::join!(answer(resume.clone()), answer(resume.clone()));
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let ran = if a.0 == 200 { &a.1 } else { &b.1 };
    assert_eq!(find(&sse_data(ran), "TOOL_CALL_RESULT")["content"], "deleted notes.txt");
    assert_eq!(deletes.load(Ordering::SeqCst), 1, "the approved call ran once");
    // A retry after the resumed run finds nothing to resume either.
    assert_eq!(post(&host.url, "helper", &resume).await.status(), 409);
    assert_eq!(deletes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_rejected_or_cancelled_approval_does_not_run_the_tool() {
    let host = host(HostConfig::default(), HangingAgent::default()).await;
    for (thread, answer) in [
        ("t8", json!({"status": "resolved", "payload": {"approved": false}})),
        ("t9", json!({"status": "cancelled"})),
    ] {
        let first = ask_to_delete(&host.url, thread).await;
        let id = first.last().unwrap()["outcome"]["interrupts"][0]["id"].clone();
        let mut entry = answer;
        entry["interruptId"] = id;
        let mut resume = input(thread, json!([]));
        resume["resume"] = json!([entry]);
        let second = events(&host.url, "helper", &resume).await;
        let result = find(&second, "TOOL_CALL_RESULT");
        assert!(result["content"].as_str().unwrap().contains("did not approve"), "{result}");
        assert!(!text(&second).contains("deleted notes.txt"), "{second:#?}");
    }
}

#[tokio::test]
async fn a_resume_must_answer_the_open_interrupts_of_its_thread() {
    let host = host(HostConfig::default(), HangingAgent::default()).await;
    let first = ask_to_delete(&host.url, "t10").await;
    let id = first.last().unwrap()["outcome"]["interrupts"][0]["id"].as_str().unwrap().to_string();
    let resume = |thread: &str, interrupt: &str| {
        let mut body = input(thread, json!([]));
        body["resume"] =
            json!([{"interruptId": interrupt, "status": "resolved", "payload": {"approved": true}}]);
        body
    };
    // Another thread has nothing to resume; an unknown id answers nothing open.
    for body in [resume("t11", &id), resume("t10", "approval_nope")] {
        let answer = post(&host.url, "helper", &body).await;
        assert_eq!(answer.status(), 409);
        let error: Value = answer.json().await.unwrap();
        assert!(error["error"]["message"].as_str().unwrap().contains("interrupt"), "{error}");
    }
    // The right answer still resumes.
    let events = events(&host.url, "helper", &resume("t10", &id)).await;
    assert_eq!(find(&events, "TOOL_CALL_RESULT")["content"], "deleted notes.txt");
}

#[tokio::test]
async fn a_failed_run_ends_with_run_error_and_no_details() {
    let host = host(HostConfig::default(), HangingAgent::default()).await;
    let response = post(&host.url, "fail", &input("t12", json!([user("u1", "hi")]))).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(!body.contains("/home/alice") && !body.contains("sk-secret"), "{body}");
    let events = common::sse_data(&body);
    // The error is last (AG-UI lets RUN_ERROR end a run at any point, even mid-message).
    assert_eq!(
        types(&events),
        ["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "RUN_ERROR"],
        "{events:#?}"
    );
    let error = events.last().unwrap();
    assert_eq!(error["code"], "agent_error");
    assert!(error["message"].as_str().unwrap().contains("the server's log has the details"));
}

#[tokio::test]
async fn a_run_past_its_deadline_ends_with_run_error() {
    let config = HostConfig { run_timeout: Duration::from_millis(200), ..HostConfig::default() };
    let host = host(config, HangingAgent::default()).await;
    let events = events(&host.url, "hang", &input("t13", json!([user("u1", "hi")]))).await;
    let error = events.last().unwrap();
    assert_eq!(error["type"], "RUN_ERROR");
    assert_eq!(error["code"], "timeout");
}

#[tokio::test]
async fn bad_requests_are_refused_before_the_stream() {
    let config = HostConfig { body_limit: 1024, ..HostConfig::default() };
    let host = host(config, HangingAgent::default()).await;
    let big = post(&host.url, "helper", &input("t", json!([user("u1", &"x".repeat(2048))]))).await;
    assert_eq!(big.status(), 413);
    let unknown = post(&host.url, "nobody", &input("t", json!([user("u1", "hi")]))).await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("nobody"), "{body}");
    let missing = post(&host.url, "helper", &json!({"threadId": "t", "messages": []})).await;
    assert_eq!(missing.status(), 400);
    let body: Value = missing.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("runId"), "{body}");
    let nothing_new = post(
        &host.url,
        "helper",
        &input("t", json!([user("u1", "hi"), {"id": "a1", "role": "assistant", "content": "hello"}])),
    )
    .await;
    assert_eq!(nothing_new.status(), 400);
    let bad_role =
        post(&host.url, "helper", &input("t", json!([{"id": "x", "role": "robot", "content": "hi"}]))).await;
    assert_eq!(bad_role.status(), 400);
}

#[tokio::test]
async fn a_configured_token_is_required() {
    let config = HostConfig { token: Some("s3cret-token".into()), ..HostConfig::default() };
    let host = host(config, HangingAgent::default()).await;
    let body = input("t", json!([user("u1", "hi")]));
    let missing = post(&host.url, "helper", &body).await;
    assert_eq!(missing.status(), 401);
    assert!(!missing.text().await.unwrap().contains("s3cret"));
    let client = reqwest::Client::new();
    let url = format!("{}/ag-ui/helper", host.url);
    let wrong = client.post(&url).bearer_auth("wrong").json(&body).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = client.post(&url).bearer_auth("s3cret-token").json(&body).send().await.unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(common::sse_data(&right.text().await.unwrap()).last().unwrap()["type"], "RUN_FINISHED");
}

#[tokio::test]
async fn a_client_that_disconnects_cancels_its_run() {
    let hang = HangingAgent::default();
    let (started, dropped) = (hang.started.clone(), hang.dropped.clone());
    let config = HostConfig {
        keep_alive: Duration::from_millis(100),
        max_concurrent_runs: 1,
        ..HostConfig::default()
    };
    let host = host(config, hang).await;
    let response = post(&host.url, "hang", &input("t14", json!([user("u1", "hi")]))).await;
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("RUN_STARTED"));
    eventually("the run starts", || started.load(Ordering::SeqCst) == 1).await;
    // The one run allowed is taken.
    let busy = post(&host.url, "helper", &input("t15", json!([user("u1", "hi")]))).await;
    assert_eq!(busy.status(), 503);
    drop(body);
    eventually("the run is dropped", || dropped.load(Ordering::SeqCst) == 1).await;
    // Its permit is back: a new run is accepted.
    let again = events(&host.url, "helper", &input("t15", json!([user("u1", "hi")]))).await;
    assert_eq!(again.last().unwrap()["type"], "RUN_FINISHED");
}

#[tokio::test]
async fn a_shutdown_past_its_grace_ends_the_run_with_run_error() {
    let hang = HangingAgent::default();
    let (started, dropped) = (hang.started.clone(), hang.dropped.clone());
    let config = HostConfig { grace: Duration::from_millis(300), ..HostConfig::default() };
    let host = host(config, hang).await;
    let response = post(&host.url, "hang", &input("t16", json!([user("u1", "hi")]))).await;
    eventually("the run starts", || started.load(Ordering::SeqCst) == 1).await;
    host.shutdown().await.unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    let events = common::sse_data(&response.text().await.unwrap());
    let error = events.last().unwrap();
    assert_eq!(error["type"], "RUN_ERROR", "{events:#?}");
    assert_eq!(error["code"], "shutting_down");
    assert_eq!(error["message"], "The server shut down before the run ended");
}
