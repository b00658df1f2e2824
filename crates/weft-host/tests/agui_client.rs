//! AG-UI's official client, `@ag-ui/client`'s `HttpAgent` (npm, pinned by scripts/peers/agui.sh),
//! driving the host: it verifies the order of the events itself (a run whose events break the
//! protocol fails), and the script it runs (`tests/agui/client.cjs`) prints the events it saw.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "agui/support.rs"]
mod support;
#[path = "agui/workflow_support.rs"]
mod workflow_support;

use std::time::Duration;

use common::HangingAgent;
use serde_json::{Value, json};
use weft_host::HostConfig;

/// The value of a peer variable (a path that exists), or a panic naming the script that sets it:
/// a test that needs the client never passes without running it.
fn peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() && std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "{var} is not set (or does not exist): this test needs @ag-ui/client; run scripts/test, \
             or `source scripts/peers/agui.sh` first"
        ),
    }
}

/// What the client printed for one run: its events and how it finished.
struct ClientRun {
    events: Vec<Value>,
    finished: Value,
}

impl ClientRun {
    fn types(&self) -> Vec<&str> {
        support::types(&self.events)
    }
    fn text(&self) -> String {
        support::text(&self.events)
    }
}

/// Runs the client script with `plan` (see `tests/agui/client.cjs`), within 20 s.
async fn run_client(plan: &Value) -> std::process::Output {
    let node = peer("WEFT_AGUI_NODE");
    let dir = peer("WEFT_AGUI_CLIENT_DIR");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/agui/client.cjs");
    let child = tokio::process::Command::new(node)
        .arg(script)
        .arg(plan.to_string())
        .env("WEFT_AGUI_CLIENT_DIR", dir)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(20), child).await.expect("the client hung").unwrap()
}

/// Runs the client script with `plan` and returns each run's output (every run must finish).
async fn client(plan: Value) -> Vec<ClientRun> {
    let output = run_client(&plan).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the client failed:\n{stdout}\n{stderr}");
    let lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let runs = plan["runs"].as_array().unwrap().len();
    (0..runs)
        .map(|run| {
            let mine = lines.iter().filter(|l| l["run"] == run);
            let events = mine.clone().filter_map(|l| l.get("event").cloned()).collect();
            let finished = mine
                .filter_map(|l| l.get("finished").cloned())
                .next_back()
                .unwrap_or_else(|| panic!("run {run} did not finish:\n{stdout}\n{stderr}"));
            ClientRun { events, finished }
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs @ag-ui/client: scripts/test installs them"]
async fn http_agent_runs_a_tool_calling_agent_and_continues_the_thread() {
    let host = support::host(HostConfig::default(), HangingAgent::default()).await;
    let runs = client(json!({
        "url": format!("{}/ag-ui/helper", host.url),
        "threadId": "thread-1",
        "runs": [
            {"user": "My name is Ada."},
            {"user": "Tell me the weather in Paris", "state": {"unit": "celsius"}},
            {"user": "What is my name?"},
        ],
    }))
    .await;
    assert_eq!(runs[0].types().first(), Some(&"RUN_STARTED"));
    let first = &runs[1];
    let kinds = first.types();
    assert_eq!(
        kinds[..6],
        [
            "RUN_STARTED",
            "STATE_SNAPSHOT",
            "TOOL_CALL_START",
            "TOOL_CALL_ARGS",
            "TOOL_CALL_END",
            "TOOL_CALL_RESULT"
        ],
        "{kinds:?}"
    );
    assert_eq!(kinds[6], "TEXT_MESSAGE_START");
    assert_eq!(kinds[kinds.len() - 2..], ["TEXT_MESSAGE_END", "RUN_FINISHED"]);
    let call = support::find(&first.events, "TOOL_CALL_START");
    assert_eq!(call["toolCallName"], "get_weather");
    assert_eq!(support::find(&first.events, "TOOL_CALL_RESULT")["content"], "weather in Paris: sunny, 21C");
    assert!(first.text().contains("sunny, 21C"), "{}", first.text());
    assert_eq!(first.finished["outcome"], "success");
    assert_eq!(first.finished["state"], json!({"unit": "celsius"}));
    // The client rebuilt the turn: the user's message, the assistant's call, the tool's result
    // and the assistant's answer.
    let roles: Vec<&str> =
        first.finished["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["user", "assistant", "user", "assistant", "tool", "assistant"],
        "{:#}",
        first.finished
    );
    assert_eq!(first.finished["messages"][3]["toolCalls"][0]["id"], call["toolCallId"]);

    // The last run sends that history back, and the agent remembers what the first was told.
    let second = &runs[2];
    assert_eq!(second.types().first(), Some(&"RUN_STARTED"));
    assert!(second.text().contains("Ada"), "{}", second.text());
    assert_eq!(second.finished["outcome"], "success");
}

#[tokio::test]
#[ignore = "needs @ag-ui/client: scripts/test installs them"]
async fn http_agent_runs_a_client_side_tool_and_sends_its_result_back() {
    // HttpAgent always sends its state (`{}` at first), so a STATE_SNAPSHOT follows RUN_STARTED.
    let host = support::host(HostConfig::default(), HangingAgent::default()).await;
    let tools = json!([{"name": "confirm_booking", "description": "Ask the user to confirm a booking",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let runs = client(json!({
        "url": format!("{}/ag-ui/helper", host.url),
        "threadId": "thread-2",
        "runs": [
            {"user": "Please confirm booking in Rome", "tools": tools},
            {"toolResult": "the user confirmed", "tools": tools},
        ],
    }))
    .await;
    let first = &runs[0];
    assert_eq!(
        first.types(),
        [
            "RUN_STARTED",
            "STATE_SNAPSHOT",
            "TOOL_CALL_START",
            "TOOL_CALL_ARGS",
            "TOOL_CALL_END",
            "RUN_FINISHED"
        ]
    );
    let call_id = support::find(&first.events, "TOOL_CALL_START")["toolCallId"].clone();
    assert_eq!(support::find(&first.events, "TOOL_CALL_START")["toolCallName"], "confirm_booking");
    assert_eq!(first.finished["pendingToolCallIds"], json!([call_id]));
    let second = &runs[1];
    assert!(!second.types().contains(&"TOOL_CALL_START"), "{:?}", second.types());
    assert!(second.text().contains("the user confirmed"), "{}", second.text());
    assert_eq!(second.finished["pendingToolCallIds"], json!([]));
}

#[tokio::test]
#[ignore = "needs @ag-ui/client: scripts/test installs them"]
async fn http_agent_answers_an_approval_interrupt_and_the_run_resumes() {
    let config = HostConfig { token: Some("agui-token".into()), ..HostConfig::default() };
    let host = support::host(config, HangingAgent::default()).await;
    let runs = client(json!({
        "url": format!("{}/ag-ui/helper", host.url),
        "token": "agui-token",
        "threadId": "thread-3",
        "runs": [
            {"user": "Delete the file notes.txt"},
            {"approve": true},
        ],
    }))
    .await;
    let first = &runs[0];
    assert_eq!(
        first.types(),
        [
            "RUN_STARTED",
            "STATE_SNAPSHOT",
            "TOOL_CALL_START",
            "TOOL_CALL_ARGS",
            "TOOL_CALL_END",
            "RUN_FINISHED"
        ]
    );
    assert_eq!(first.finished["outcome"], "interrupt");
    let interrupt = &first.finished["interrupts"][0];
    assert_eq!(interrupt["reason"], "tool_approval");
    assert_eq!(interrupt["toolCallId"], support::find(&first.events, "TOOL_CALL_START")["toolCallId"]);
    let second = &runs[1];
    assert_eq!(second.types()[..3], ["RUN_STARTED", "STATE_SNAPSHOT", "TOOL_CALL_RESULT"]);
    assert_eq!(support::find(&second.events, "TOOL_CALL_RESULT")["content"], "deleted notes.txt");
    assert!(second.text().contains("deleted notes.txt"), "{}", second.text());
    assert_eq!(second.finished["outcome"], "success");
}

#[tokio::test]
#[ignore = "needs @ag-ui/client: scripts/test installs them"]
async fn http_agent_accepts_a_failed_run_ending_with_run_error() {
    let host = support::host(HostConfig::default(), HangingAgent::default()).await;
    let plan = json!({
        "url": format!("{}/ag-ui/fail", host.url),
        "threadId": "thread-4",
        "runs": [{"user": "hi"}],
    });
    let output = run_client(&plan).await;
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("/home/alice") && !stdout.contains("sk-secret"), "{stdout}");
    let events: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).unwrap().get("event").cloned())
        .collect();
    let error = events.last().unwrap();
    assert_eq!(error["type"], "RUN_ERROR", "{stdout}");
    assert_eq!(error["code"], "agent_error");
}

#[tokio::test]
#[ignore = "needs @ag-ui/client: scripts/test installs them"]
async fn http_agent_follows_a_workflow_s_steps_and_state_deltas_and_answers_its_request_for_input() {
    let host = common::TestHost::start(workflow_support::host()).await;
    let runs = client(json!({
        "url": format!("{}/ag-ui/flow", host.url),
        "threadId": "thread-wf",
        "runs": [
            {"user": "Draft a haiku", "state": {"mine": 1}},
            {"answer": {"approved": true}},
        ],
    }))
    .await;
    let first = &runs[0];
    assert!(
        first.types().contains(&"STEP_STARTED") && first.types().contains(&"STATE_DELTA"),
        "{:?}",
        first.types()
    );
    // The client applied the snapshot and the JSON Patch deltas itself.
    let state = &first.finished["state"];
    assert_eq!(state["mine"], 1, "{state}");
    assert_eq!(state["workflow"]["executors"], json!({"ask": "done", "publish": "pending"}), "{state}");
    assert_eq!(state["workflow"]["checkpoints"][0]["checkpointId"], "cp-1");
    assert_eq!(first.finished["outcome"], "interrupt");
    let interrupt = &first.finished["interrupts"][0];
    assert_eq!(interrupt["reason"], "human_input");
    assert_eq!(interrupt["responseSchema"], workflow_support::answer_schema());
    let second = &runs[1];
    assert_eq!(second.finished["outcome"], "success");
    assert!(second.text().contains(r#"published: {"approved":true}"#), "{}", second.text());
    assert_eq!(second.finished["state"]["workflow"]["executors"]["publish"], "done");
}
