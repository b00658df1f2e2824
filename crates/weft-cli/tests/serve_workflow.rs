//! A workflow with human input served by `weft serve` (examples/declarative/human_input.workflow.yaml):
//! the paused run ends its response with a `request_info` function call, and a
//! `function_call_output` answering it continues the run, by `previous_response_id` and by
//! `conversation`; with a SQLite store, the conversation and the response are stored.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
mod serve_support;

use serde_json::{Value, json};
use serve_support::{Server, json_body};

fn workflow() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/declarative/human_input.workflow.yaml").to_string()
}

/// A response's output items by type.
fn items<'a>(response: &'a Value, kind: &str) -> Vec<&'a Value> {
    response["output"].as_array().unwrap().iter().filter(|item| item["type"] == kind).collect()
}

/// POSTs `body` to /v1/responses: a 200's JSON.
fn respond(server: &Server, body: Value) -> Value {
    let answer = server.post("/v1/responses", &body.to_string());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    json_body(&answer)
}

/// The `request_info` call a paused run ends with, checked.
fn request_info(response: &Value) -> Value {
    assert_eq!(response["status"], "completed", "{response:#}");
    let calls = items(response, "function_call");
    let call = calls.last().expect("a paused run ends with a function_call");
    assert_eq!(call["name"], "request_info", "{response:#}");
    assert!(items(response, "function_call_output").is_empty(), "{response:#}");
    let arguments: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments["executor_id"], "review", "{arguments:#}");
    assert!(arguments["data"].to_string().contains("Publish the draft?"), "{arguments:#}");
    (*call).clone()
}

fn answer(call: &Value, text: &str) -> Value {
    json!([{"type": "function_call_output", "call_id": call["call_id"], "output": text}])
}

#[test]
fn a_workflow_asks_and_goes_on_after_the_answer_by_previous_response_id() {
    let server = Server::start_with(&[&workflow()]);
    let first = respond(&server, json!({"model": "publishing", "input": "Draft a haiku"}));
    let call = request_info(&first);
    let second = respond(
        &server,
        json!({"model": "publishing", "previous_response_id": first["id"], "input": answer(&call, "yes")}),
    );
    assert_eq!(second["status"], "completed", "{second:#}");
    assert!(items(&second, "function_call").is_empty(), "{second:#}");
    let text = second["output_text"].as_str().unwrap();
    assert!(text.contains("yes"), "the publisher answers after the yes: {second:#}");
    // Branching from the same paused response with another answer takes the other path.
    let other = respond(
        &server,
        json!({"model": "publishing", "previous_response_id": first["id"], "input": answer(&call, "no")}),
    );
    assert_eq!(other["status"], "completed", "{other:#}");
    assert_ne!(other["output_text"], second["output_text"], "{other:#}");
}

#[test]
fn a_workflow_asks_and_goes_on_after_the_answer_in_a_conversation_kept_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("weft.db").display());
    let streamed = |server: &Server, body: Value| -> Vec<Value> {
        let answer = server.post("/v1/responses", &body.to_string());
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        answer
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .map(|data| serde_json::from_str(data).unwrap())
            .collect()
    };
    let server = Server::start_with(&[&workflow(), "--store", &store]);
    let conversation = json_body(&server.post("/v1/conversations", "{}"));
    let id = conversation["id"].as_str().unwrap();
    let events = streamed(
        &server,
        json!({"model": "publishing", "input": "Draft a haiku", "conversation": id, "stream": true}),
    );
    let completed = events.last().unwrap();
    assert_eq!(completed["type"], "response.completed", "{events:#?}");
    let call = request_info(&completed["response"]);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "response.function_call_arguments.done" && e["name"] == "request_info"),
        "{events:#?}"
    );
    let second =
        respond(&server, json!({"model": "publishing", "conversation": id, "input": answer(&call, "yes")}));
    assert!(items(&second, "function_call").is_empty(), "{second:#}");
    assert!(second["output_text"].as_str().unwrap().contains("yes"), "{second:#}");
    let kept = json_body(&server.get(&format!("/v1/conversations/{id}/items?order=asc&limit=100")));
    let kinds: Vec<&str> =
        kept["data"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    let asked = kinds.iter().position(|k| *k == "function_call").expect("the request is kept");
    assert_eq!(kinds[asked + 1], "function_call_output", "{kinds:?}");
    let stored = json_body(&server.get(&format!("/v1/responses/{}", second["id"].as_str().unwrap())));
    assert_eq!(stored["output_text"], second["output_text"]);
    // The answer is taken once: the run is no longer paused, so the same answer starts over.
    let again =
        respond(&server, json!({"model": "publishing", "conversation": id, "input": "Draft another"}));
    request_info(&again);
}

/// How a server is stopped between the question and the answer.
#[derive(Clone, Copy)]
enum Stop {
    /// SIGTERM: the server shuts down in order.
    Term,
    /// SIGKILL: nothing is flushed or closed.
    Kill,
}

/// Pauses two runs (one continued by `previous_response_id`, one in a conversation) on a server
/// with a SQLite store, stops it as `stop` says, and answers both on a second server on the same
/// file: each paused run goes on to the path its answer picks.
fn paused_runs_outlive(stop: Stop) {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("weft.db").display());
    let mut server = Server::start_with(&[&workflow(), "--store", &store]);
    let first = respond(&server, json!({"model": "publishing", "input": "Draft a haiku"}));
    let call = request_info(&first);
    let conversation = json_body(&server.post("/v1/conversations", "{}"));
    let id = conversation["id"].as_str().unwrap();
    let asked =
        respond(&server, json!({"model": "publishing", "input": "Draft a limerick", "conversation": id}));
    let asked_call = request_info(&asked);
    match stop {
        Stop::Term => assert!(server.terminate().success()),
        Stop::Kill => server.crash(),
    }

    let mut server = Server::start_with(&[&workflow(), "--store", &store]);
    let published = respond(
        &server,
        json!({"model": "publishing", "previous_response_id": first["id"], "input": answer(&call, "yes")}),
    );
    assert_eq!(published["status"], "completed", "{published:#}");
    assert!(items(&published, "function_call").is_empty(), "{published:#}");
    let text = published["output_text"].as_str().unwrap();
    assert!(text.contains("yes"), "the publisher answers after the yes: {published:#}");
    let shredded = respond(
        &server,
        json!({"model": "publishing", "conversation": id, "input": answer(&asked_call, "no")}),
    );
    assert_eq!(shredded["status"], "completed", "{shredded:#}");
    assert!(items(&shredded, "function_call").is_empty(), "{shredded:#}");
    let shredded_text = shredded["output_text"].as_str().unwrap();
    assert!(shredded_text.contains("no") && !shredded_text.is_empty(), "{shredded:#}");
    assert_ne!(shredded_text, text, "the no takes the other path: {shredded:#}");
    // The run's checkpoints are listed from the store too.
    let entity = json_body(&server.get("/v1/entities/publishing"));
    assert_eq!(entity["checkpoints"], true, "{entity:#}");
    assert!(server.terminate().success());
}

#[test]
fn a_paused_workflow_is_answered_after_a_restart_with_a_sqlite_store() {
    paused_runs_outlive(Stop::Term);
}

#[test]
fn a_paused_workflow_is_answered_after_the_server_is_killed() {
    paused_runs_outlive(Stop::Kill);
}
