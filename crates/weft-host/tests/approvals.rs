//! Approvals in the Responses protocol: a call needing approval ends the run with an
//! `mcp_approval_request` item; `mcp_approval_response` items in the next request (by
//! `previous_response_id`, `conversation`, or the whole history in `input`) continue it; a
//! request is answered once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "agui/support.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestHost, get_json, post, post_json, sse_data};
use serde_json::{Value, json};
use weft_host::Host;

/// A host serving the scripted agent as `helper`, whose `delete_file` needs approval and counts
/// its runs in the returned counter.
async fn host(slow: Duration) -> (TestHost, Arc<AtomicUsize>) {
    let deletes = Arc::new(AtomicUsize::new(0));
    let agent = support::agent_counting(deletes.clone(), slow);
    (TestHost::start(Host::new().agent("helper", agent)).await, deletes)
}

fn kinds(response: &Value) -> Vec<&str> {
    response["output"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect()
}

fn answer(request: &Value, approve: bool) -> Value {
    json!({"type": "mcp_approval_response", "approval_request_id": request["id"], "approve": approve})
}

/// Asks `helper` to delete notes.txt (with `extra` fields); the response.
async fn ask(url: &str, extra: Value) -> Value {
    let mut body = json!({"model": "helper", "input": "Delete the file notes.txt"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (status, response) = post_json(&format!("{url}/v1/responses"), body).await;
    assert_eq!(status, 200, "{response:#}");
    response
}

/// The response's `mcp_approval_request` item, checked.
fn approval_request(response: &Value) -> Value {
    assert_eq!(response["status"], "completed", "{response:#}");
    assert_eq!(kinds(response), ["function_call", "mcp_approval_request"], "{response:#}");
    let call = &response["output"][0];
    let request = response["output"][1].clone();
    assert_eq!(request["name"], "delete_file");
    assert_eq!(request["server_label"], "helper");
    assert_eq!(request["arguments"], call["arguments"]);
    let arguments: Value = serde_json::from_str(request["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments["path"], "notes.txt");
    assert!(!request["id"].as_str().unwrap().is_empty());
    request
}

#[tokio::test]
async fn an_approved_request_runs_the_call_once_by_previous_response_id() {
    let (host, deletes) = host(Duration::ZERO).await;
    let first = ask(&host.url, json!({})).await;
    let request = approval_request(&first);
    assert_eq!(deletes.load(Ordering::SeqCst), 0, "nothing runs before the answer");

    let body =
        json!({"model": "helper", "previous_response_id": first["id"], "input": [answer(&request, true)]});
    let (status, second) = post_json(&format!("{}/v1/responses", host.url), body.clone()).await;
    assert_eq!(status, 200, "{second:#}");
    assert_eq!(kinds(&second), ["function_call_output", "message"], "{second:#}");
    assert_eq!(second["output"][0]["call_id"], first["output"][0]["call_id"]);
    assert_eq!(second["output"][0]["output"], "deleted notes.txt");
    assert!(second["output_text"].as_str().unwrap().contains("deleted notes.txt"), "{second:#}");
    assert_eq!(deletes.load(Ordering::SeqCst), 1);
    let (_, items) =
        get_json(&format!("{}/v1/responses/{}/input_items", host.url, second["id"].as_str().unwrap())).await;
    assert_eq!(items["data"][0]["type"], "mcp_approval_response");
    assert_eq!(items["data"][0]["approve"], true);

    // A second answer to the same request is refused, and the call does not run again.
    let (status, error) = post_json(&format!("{}/v1/responses", host.url), body).await;
    assert_eq!(status, 409, "{error:#}");
    assert!(error["error"]["message"].as_str().unwrap().contains("answered already"), "{error:#}");
    assert_eq!(deletes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_rejected_request_does_not_run_the_call() {
    let (host, deletes) = host(Duration::ZERO).await;
    let first = ask(&host.url, json!({})).await;
    let request = approval_request(&first);
    let mut rejection = answer(&request, false);
    rejection["reason"] = json!("not that file");
    let body = json!({"model": "helper", "previous_response_id": first["id"], "input": [rejection]});
    let (status, second) = post_json(&format!("{}/v1/responses", host.url), body).await;
    assert_eq!(status, 200, "{second:#}");
    assert_eq!(kinds(&second), ["function_call_output", "message"], "{second:#}");
    assert!(second["output"][0]["output"].as_str().unwrap().contains("did not approve"), "{second:#}");
    assert_eq!(deletes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn streamed_runs_show_the_request_and_continue_after_the_answer() {
    let (host, deletes) = host(Duration::ZERO).await;
    let url = format!("{}/v1/responses", host.url);
    let first =
        post(&url, json!({"model": "helper", "input": "Delete the file notes.txt", "stream": true})).await;
    let events = sse_data(&first.text().await.unwrap());
    let added: Vec<&Value> = events.iter().filter(|e| e["type"] == "response.output_item.added").collect();
    assert_eq!(added.len(), 2, "{events:#?}");
    assert_eq!(added[1]["item"]["type"], "mcp_approval_request");
    let done = events
        .iter()
        .find(|e| e["type"] == "response.output_item.done" && e["item"]["type"] == "mcp_approval_request");
    assert_eq!(done.unwrap()["output_index"], 1);
    let completed = events.last().unwrap();
    assert_eq!(completed["type"], "response.completed", "{events:#?}");
    let request = approval_request(&completed["response"]);

    let body = json!({"model": "helper", "stream": true, "previous_response_id": completed["response"]["id"],
                      "input": [answer(&request, true)]});
    let events = sse_data(&post(&url, body).await.text().await.unwrap());
    let completed = events.last().unwrap();
    assert_eq!(completed["type"], "response.completed", "{events:#?}");
    assert_eq!(kinds(&completed["response"]), ["function_call_output", "message"]);
    assert_eq!(deletes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_conversation_holds_the_request_and_its_answer() {
    let (host, deletes) = host(Duration::ZERO).await;
    let (_, conversation) = post_json(&format!("{}/v1/conversations", host.url), json!({})).await;
    let id = conversation["id"].as_str().unwrap().to_string();
    let first = ask(&host.url, json!({"conversation": id})).await;
    let request = approval_request(&first);
    let body = json!({"model": "helper", "conversation": id, "input": [answer(&request, true)]});
    let (status, second) = post_json(&format!("{}/v1/responses", host.url), body.clone()).await;
    assert_eq!(status, 200, "{second:#}");
    assert_eq!(second["output"][0]["output"], "deleted notes.txt", "{second:#}");
    let (_, items) = get_json(&format!("{}/v1/conversations/{id}/items?order=asc", host.url)).await;
    let types: Vec<&str> =
        items["data"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "message",
            "function_call",
            "mcp_approval_request",
            "mcp_approval_response",
            "function_call_output",
            "message"
        ]
    );
    let (status, _) = post_json(&format!("{}/v1/responses", host.url), body).await;
    assert_eq!(status, 409);
    // The conversation goes on as before.
    let body = json!({"model": "helper", "conversation": id, "input": "Tell me the weather in Paris"});
    let (status, third) = post_json(&format!("{}/v1/responses", host.url), body).await;
    assert_eq!(status, 200, "{third:#}");
    assert!(third["output_text"].as_str().unwrap().contains("sunny"), "{third:#}");
    assert_eq!(deletes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn two_answers_at_once_run_the_approved_call_once() {
    // The call takes a while, so the second answer arrives while the first run is going.
    let (host, deletes) = host(Duration::from_millis(300)).await;
    let first = ask(&host.url, json!({})).await;
    let request = approval_request(&first);
    let body =
        json!({"model": "helper", "previous_response_id": first["id"], "input": [answer(&request, true)]});
    let url = format!("{}/v1/responses", host.url);
    let ((a, _), (b, _)) = tokio::join!(post_json(&url, body.clone()), post_json(&url, body.clone()));
    let mut statuses = [a, b];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(deletes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_whole_history_in_input_answers_without_stored_state() {
    let (host, deletes) = host(Duration::ZERO).await;
    let first = ask(&host.url, json!({"store": false})).await;
    let request = approval_request(&first);
    let mut input = vec![json!({"role": "user", "content": "Delete the file notes.txt"})];
    input.extend(first["output"].as_array().unwrap().iter().cloned());
    input.push(answer(&request, true));
    let body = json!({"model": "helper", "store": false, "input": input});
    let (status, second) = post_json(&format!("{}/v1/responses", host.url), body).await;
    assert_eq!(status, 200, "{second:#}");
    assert_eq!(second["output"][0]["output"], "deleted notes.txt", "{second:#}");
    assert_eq!(deletes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_answer_to_no_waiting_request_is_refused() {
    let (host, deletes) = host(Duration::ZERO).await;
    let first = ask(&host.url, json!({})).await;
    approval_request(&first);
    let bogus =
        json!({"type": "mcp_approval_response", "approval_request_id": "approval_nope", "approve": true});
    let body = json!({"model": "helper", "previous_response_id": first["id"], "input": [bogus]});
    let (status, error) = post_json(&format!("{}/v1/responses", host.url), body).await;
    assert_eq!(status, 409, "{error:#}");
    assert_eq!(error["error"]["param"], "input");
    let missing = json!({"type": "mcp_approval_response", "approval_request_id": "x"});
    let body = json!({"model": "helper", "input": [missing]});
    let (status, error) = post_json(&format!("{}/v1/responses", host.url), body).await;
    assert_eq!(status, 400, "{error:#}");
    assert_eq!(deletes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
#[ignore = "needs the openai Python SDK: scripts/test installs it"]
async fn the_openai_python_sdk_answers_approval_requests() {
    let python = common::peer("WEFT_OPENAI_PYTHON");
    let (host, deletes) = host(Duration::ZERO).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/openai_sdk_approvals.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(format!("{}/v1", host.url))
        .arg("helper")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("all checks passed"), "{stdout}");
    assert_eq!(deletes.load(Ordering::SeqCst), 2, "the two approved calls ran, the rejected one did not");
}
