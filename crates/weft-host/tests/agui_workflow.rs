//! Workflows through the host, which knows no workflow: entities with their kind and graph
//! (`GET /v1/entities`), a workflow's executor events as AG-UI steps and state (a snapshot then
//! JSON Patch deltas), its requests for input as `human_input` interrupts carrying the answer's
//! schema and resumed with the answer, and its checkpoints listed and resumed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "agui/support.rs"]
mod support;
#[path = "agui/workflow_support.rs"]
mod workflow_support;

use common::{TestHost, sse_data};
use serde_json::{Value, json};

fn run_input(thread: &str, messages: Value) -> Value {
    json!({"threadId": thread, "runId": "r1", "state": {}, "tools": [], "context": [], "forwardedProps": {},
           "messages": messages})
}

async fn get(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Applies the JSON Patch operations the host sends (`add`, `replace`) to `doc`.
fn apply(doc: &mut Value, ops: &Value) {
    for op in ops.as_array().unwrap() {
        let path = op["path"].as_str().unwrap();
        let (parent, last) = path.rsplit_once('/').unwrap();
        let target = doc.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent} in the state"));
        let last = last.replace("~1", "/").replace("~0", "~");
        match (op["op"].as_str().unwrap(), target) {
            ("add", Value::Array(items)) if last == "-" => items.push(op["value"].clone()),
            ("replace", Value::Object(map)) => {
                assert!(map.contains_key(&last), "replace of a missing {path}");
                map.insert(last, op["value"].clone());
            }
            (other, target) => panic!("unexpected {other} at {path} on {target}"),
        }
    }
}

/// The state after the run's snapshot and deltas.
fn final_state(events: &[Value]) -> Value {
    let mut state = Value::Null;
    for event in events {
        match event["type"].as_str().unwrap() {
            "STATE_SNAPSHOT" => state = event["snapshot"].clone(),
            "STATE_DELTA" => apply(&mut state, &event["delta"]),
            _ => {}
        }
    }
    state
}

#[tokio::test]
async fn entities_say_their_kind_description_graph_and_checkpoints() {
    let host = TestHost::start(workflow_support::host()).await;
    let (status, list) = get(&format!("{}/v1/entities", host.url)).await;
    assert_eq!(status, 200);
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{list}");
    let flow = data.iter().find(|e| e["id"] == "flow").unwrap();
    assert_eq!(flow["kind"], "workflow");
    assert_eq!(flow["description"], "Asks, then publishes");
    assert_eq!(flow["info"], workflow_support::graph());
    assert_eq!(flow["checkpoints"], true);
    let helper = data.iter().find(|e| e["id"] == "helper").unwrap();
    assert_eq!((helper["kind"].as_str(), helper["checkpoints"].as_bool()), (Some("agent"), Some(false)));
    // An agent's tools, by name, with what they do and their arguments' schema.
    let tools = helper["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["delete_file", "get_weather"], "{helper}");
    assert_eq!(tools[1]["description"], "Get the weather for a city");
    assert_eq!(tools[1]["parameters"]["type"], "object", "{helper}");
    assert_eq!(flow["tools"], json!([]));
    let (status, one) = get(&format!("{}/v1/entities/flow", host.url)).await;
    assert_eq!((status, &one), (200, flow));
    let (status, missing) = get(&format!("{}/v1/entities/nope", host.url)).await;
    assert_eq!(status, 404, "{missing}");
}

#[tokio::test]
async fn executor_events_are_steps_and_state_deltas_and_a_request_for_input_is_an_interrupt() {
    let host = TestHost::start(workflow_support::host()).await;
    let user = json!([{"id": "u1", "role": "user", "content": "Draft a haiku"}]);
    let events = support::events(&host.url, "flow", &run_input("t1", user)).await;
    let types = support::types(&events);
    assert_eq!(
        types,
        [
            "RUN_STARTED",
            "STATE_SNAPSHOT",
            "STATE_SNAPSHOT",
            "STATE_DELTA",
            "STEP_STARTED",
            "STATE_DELTA",
            "STATE_DELTA",
            "STEP_FINISHED",
            "STATE_DELTA",
            "TOOL_CALL_START",
            "TOOL_CALL_ARGS",
            "TOOL_CALL_END",
            "RUN_FINISHED"
        ],
        "{events:#?}"
    );
    assert_eq!(events[4], json!({"type": "STEP_STARTED", "stepName": "ask"}));
    assert_eq!(
        events[5]["delta"],
        json!([{"op": "replace", "path": "/workflow/executors/ask", "value": "running"}])
    );
    let state = final_state(&events);
    assert_eq!(state["workflow"]["executors"], json!({"ask": "done", "publish": "pending"}));
    assert_eq!(state["workflow"]["superstep"], 1);
    assert_eq!(state["workflow"]["runId"], "run-1");
    assert_eq!(state["workflow"]["checkpoints"], json!([{"checkpointId": "cp-1", "superstep": 1}]));
    let outcome = &support::find(&events, "RUN_FINISHED")["outcome"];
    assert_eq!(outcome["type"], "interrupt");
    let interrupt = &outcome["interrupts"][0];
    assert_eq!(interrupt["id"], "req-1");
    assert_eq!(interrupt["reason"], "human_input");
    assert_eq!(interrupt["message"], "Publish the draft?");
    assert_eq!(interrupt["toolCallId"], "req-1");
    assert_eq!(interrupt["responseSchema"], workflow_support::answer_schema());

    // The answer resumes the kept conversation: the workflow gets it as the call's result.
    let mut resume = run_input("t1", json!([]));
    resume["resume"] = json!([{"interruptId": "req-1", "status": "resolved",
                               "payload": {"approved": true, "note": "ship it"}}]);
    let events = support::events(&host.url, "flow", &resume).await;
    assert!(
        support::text(&events).contains(r#"published: {"approved":true,"note":"ship it"}"#),
        "{events:#?}"
    );
    assert_eq!(support::find(&events, "STEP_FINISHED")["stepName"], "publish");
    assert_eq!(support::find(&events, "RUN_FINISHED")["outcome"]["type"], "success");
    let state = final_state(&events);
    assert_eq!(state["workflow"]["executors"]["publish"], "done");
    assert_eq!(state["workflow"]["outputs"][0]["executorId"], "publish");
    // Answered once: the interrupt is gone.
    let again = support::post(&host.url, "flow", &resume).await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn a_resume_must_answer_the_request_for_input() {
    let host = TestHost::start(workflow_support::host()).await;
    let user = json!([{"id": "u1", "role": "user", "content": "Draft"}]);
    support::events(&host.url, "flow", &run_input("t2", user)).await;
    let mut resume = run_input("t2", json!([]));
    resume["resume"] = json!([{"interruptId": "other", "status": "resolved", "payload": true}]);
    let response = support::post(&host.url, "flow", &resume).await;
    assert_eq!(response.status(), 409);
    assert!(response.text().await.unwrap().contains("req-1"));
}

#[tokio::test]
async fn checkpoints_are_listed_and_a_run_resumes_from_one() {
    let host = TestHost::start(workflow_support::host()).await;
    let (status, list) = get(&format!("{}/v1/entities/flow/checkpoints?run_id=run-1", host.url)).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"][0]["checkpointId"], "cp-1");
    let (status, body) = get(&format!("{}/v1/entities/flow/checkpoints", host.url)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "run_id");
    let (status, _) = get(&format!("{}/v1/entities/helper/checkpoints?run_id=x", host.url)).await;
    assert_eq!(status, 404);
    let (status, _) = get(&format!("{}/v1/entities/nope/checkpoints?run_id=x", host.url)).await;
    assert_eq!(status, 404);

    let client = reqwest::Client::new();
    let resume = |id: &str| {
        client
            .post(format!("{}/v1/entities/flow/checkpoints/{id}/resume", host.url))
            .json(&json!({"threadId": "t3", "runId": "r9"}))
            .send()
    };
    let response = resume("cp-1").await.unwrap();
    assert_eq!(response.status(), 200);
    let events = sse_data(&response.text().await.unwrap());
    assert_eq!(events[0], json!({"type": "RUN_STARTED", "threadId": "t3", "runId": "r9"}));
    let snapshot = support::find(&events, "STATE_SNAPSHOT");
    assert_eq!(snapshot["snapshot"]["workflow"]["resumedFrom"], "cp-1");
    assert!(support::text(&events).contains("published"), "{events:#?}");
    assert_eq!(support::find(&events, "RUN_FINISHED")["outcome"]["type"], "success");
    let missing = resume("cp-9").await.unwrap();
    assert_eq!(missing.status(), 404);
}
