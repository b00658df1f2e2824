//! A workflow's progress in AG-UI. A workflow served as an agent streams its executors' events
//! as `weft.workflow` [`weft_core::Content::Event`]s (weft-workflow's `WorkflowAgent` documents
//! them); this turns them into AG-UI's steps and shared state:
//!
//! - `STEP_STARTED` / `STEP_FINISHED` (`stepName`: the executor's id) around each executor's
//!   work (an executor handling several messages at once is one step);
//! - a `STATE_SNAPSHOT` when the run starts, whose `workflow` key holds the run:
//!   `{"runId", "resumedFrom", "superstep", "executors": {ID: "pending"}, "checkpoints": [],
//!   "outputs": []}` (beside the keys of the client's own `state`);
//! - then `STATE_DELTA`s, RFC 6902 JSON Patches of that state: `replace`
//!   `/workflow/executors/ID` with `running`, `done`, `failed` or `waiting` (it asked for input
//!   and waits for the answer; `running` again once the answer reaches it), `replace
//!   /workflow/superstep`,
//!   `add /workflow/checkpoints/-` (`{"checkpointId", "superstep"}`) and `add
//!   /workflow/outputs/-` (`{"executorId", "value"}`).
//!
//! Also the human-input requests of a paused workflow: the function call a paused run ends
//! with ([`REQUEST_INFO_FUNCTION`]) becomes an interrupt whose `responseSchema` is the schema of
//! the answer the workflow expects.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use weft_core::{AgentSession, Content, FunctionCall, Role};

/// The `kind` of the events a workflow served as an agent streams (weft-workflow's
/// `WORKFLOW_EVENT_KIND`).
pub(crate) const WORKFLOW_EVENT_KIND: &str = "weft.workflow";

/// The name of the function call a paused workflow's request for input appears as
/// (weft-workflow's `REQUEST_INFO_FUNCTION`): its arguments hold `data` (the request) and
/// `response_schema` (the JSON schema of the answer).
pub const REQUEST_INFO_FUNCTION: &str = "request_info";

/// The `reason` of an interrupt that asks a person for input.
pub(crate) const INPUT_REASON: &str = "human_input";

/// The steps open and whether the snapshot was sent.
#[derive(Default)]
pub(crate) struct WorkflowSteps {
    /// The client's state, kept beside the workflow's.
    client_state: Map<String, Value>,
    started: bool,
    /// Per executor, how many of its handler calls are going on.
    active: BTreeMap<String, usize>,
    /// The executors waiting for an answer to their request for input.
    waiting: BTreeSet<String>,
}

/// A JSON pointer token (RFC 6901): `~` and `/` escaped.
fn token(id: &str) -> String {
    id.replace('~', "~0").replace('/', "~1")
}

fn delta(ops: Vec<Value>) -> Value {
    json!({"type": "STATE_DELTA", "delta": ops})
}

impl WorkflowSteps {
    /// Steps for a run whose client sent `state`.
    pub(crate) fn new(state: Option<&Value>) -> Self {
        let client_state = state.and_then(Value::as_object).cloned().unwrap_or_default();
        Self { client_state, ..Self::default() }
    }

    /// The AG-UI events of one workflow event.
    pub(crate) fn on(&mut self, data: &Value) -> Vec<Value> {
        let kind = data["type"].as_str().unwrap_or_default();
        if kind == "run_started" {
            return self.snapshot(data);
        }
        if !self.started {
            return Vec::new();
        }
        let executor = data["executor_id"].as_str().unwrap_or_default();
        let set = |state: &str| json!({"op": "replace", "path": format!("/workflow/executors/{}", token(executor)), "value": state});
        match kind {
            "superstep_started" => {
                vec![delta(vec![
                    json!({"op": "replace", "path": "/workflow/superstep", "value": data["superstep"]}),
                ])]
            }
            "executor_invoked" => {
                let count = self.active.entry(executor.to_string()).or_default();
                *count += 1;
                let mut events = Vec::new();
                if *count == 1 {
                    events.push(json!({"type": "STEP_STARTED", "stepName": executor}));
                }
                // Invoked again (with the answer, or another message), it no longer only waits.
                self.waiting.remove(executor);
                events.push(delta(vec![set("running")]));
                events
            }
            "executor_completed" | "executor_failed" => {
                let failed = kind == "executor_failed";
                let mut finished = false;
                if let Some(count) = self.active.get_mut(executor) {
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        self.active.remove(executor);
                        finished = true;
                    }
                }
                // The state first, so that a client reading it at STEP_FINISHED sees how the
                // step ended. A failure stands even when other calls of the executor end well
                // afterwards.
                let mut events = Vec::new();
                if failed || !self.active.contains_key(executor) {
                    let state = match (failed, self.waiting.contains(executor)) {
                        (true, _) => "failed",
                        (false, true) => "waiting",
                        (false, false) => "done",
                    };
                    events.push(delta(vec![set(state)]));
                }
                if finished {
                    events.push(json!({"type": "STEP_FINISHED", "stepName": executor}));
                }
                events
            }
            "request_info" => {
                self.waiting.insert(executor.to_string());
                // Still in its handler, it shows `waiting` when that ends (above).
                if self.active.contains_key(executor) {
                    Vec::new()
                } else {
                    vec![delta(vec![set("waiting")])]
                }
            }
            "checkpoint_saved" => vec![delta(vec![json!({"op": "add", "path": "/workflow/checkpoints/-",
                "value": {"checkpointId": data["checkpoint_id"], "superstep": data["superstep"]}})])],
            "output" => vec![delta(vec![json!({"op": "add", "path": "/workflow/outputs/-",
                "value": {"executorId": data["executor_id"], "value": data["value"]}})])],
            _ => Vec::new(),
        }
    }

    fn snapshot(&mut self, data: &Value) -> Vec<Value> {
        let executors: Map<String, Value> = data["executors"]
            .as_array()
            .map(|ids| {
                ids.iter().filter_map(Value::as_str).map(|id| (id.to_string(), json!("pending"))).collect()
            })
            .unwrap_or_default();
        let mut state = self.client_state.clone();
        state.insert(
            "workflow".into(),
            json!({"runId": data["run_id"], "resumedFrom": data["resumed_from"], "superstep": 0,
                   "executors": executors, "checkpoints": [], "outputs": []}),
        );
        self.started = true;
        self.active.clear();
        self.waiting.clear();
        vec![json!({"type": "STATE_SNAPSHOT", "snapshot": state})]
    }

    /// `STEP_FINISHED` for the steps still open (before the run ends).
    pub(crate) fn close(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.active)
            .into_keys()
            .map(|name| json!({"type": "STEP_FINISHED", "stepName": name}))
            .collect()
    }
}

/// The requests for input the session's last turn waits on: the [`REQUEST_INFO_FUNCTION`] calls
/// of its trailing assistant messages.
pub(crate) fn pending_inputs(session: &AgentSession) -> Vec<&FunctionCall> {
    let trailing = session.messages.iter().rev().take_while(|m| m.role == Role::Assistant);
    let mut calls: Vec<&FunctionCall> = trailing
        .flat_map(|m| m.contents.iter())
        .filter_map(|c| match c {
            Content::FunctionCall(call) if call.name == REQUEST_INFO_FUNCTION => Some(call),
            _ => None,
        })
        .collect();
    calls.reverse();
    calls
}

/// A request for input as an AG-UI interrupt: its id is the call's, and `responseSchema` the
/// schema of the answer (any JSON value when the workflow gave none).
pub(crate) fn input_interrupt(call: &FunctionCall) -> Value {
    let arguments = &call.arguments;
    let data = &arguments["data"];
    let message = data["prompt"].as_str().map(str::to_string).unwrap_or_else(|| {
        format!(
            "The workflow's executor '{}' asks for input",
            arguments["executor_id"].as_str().unwrap_or("?")
        )
    });
    let schema = match &arguments["response_schema"] {
        Value::Null => json!({}),
        schema => schema.clone(),
    };
    json!({
        "id": call.call_id,
        "reason": INPUT_REASON,
        "message": message,
        "toolCallId": call.call_id,
        "responseSchema": schema,
        "metadata": {"executorId": arguments["executor_id"], "request": data},
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn executor_states_are_a_snapshot_then_json_patches() {
        let mut steps = WorkflowSteps::new(Some(&json!({"mine": 1})));
        assert!(steps.on(&json!({"type": "executor_invoked", "executor_id": "a"})).is_empty());
        let snapshot = steps.on(&json!({"type": "run_started", "run_id": "r", "executors": ["a", "b/c"]}));
        assert_eq!(snapshot[0]["snapshot"]["mine"], 1);
        assert_eq!(
            snapshot[0]["snapshot"]["workflow"]["executors"],
            json!({"a": "pending", "b/c": "pending"})
        );
        let invoked = steps.on(&json!({"type": "executor_invoked", "executor_id": "b/c"}));
        assert_eq!(invoked[0], json!({"type": "STEP_STARTED", "stepName": "b/c"}));
        assert_eq!(
            invoked[1]["delta"][0],
            json!({"op": "replace", "path": "/workflow/executors/b~1c", "value": "running"})
        );
        // A second call of the same executor is the same step.
        assert_eq!(steps.on(&json!({"type": "executor_invoked", "executor_id": "b/c"})).len(), 1);
        assert_eq!(steps.on(&json!({"type": "executor_completed", "executor_id": "b/c"})).len(), 0);
        let done = steps.on(&json!({"type": "executor_completed", "executor_id": "b/c"}));
        assert_eq!(done[0]["delta"][0]["value"], "done");
        assert_eq!(done[1], json!({"type": "STEP_FINISHED", "stepName": "b/c"}));
        steps.on(&json!({"type": "executor_invoked", "executor_id": "a"}));
        let failed = steps.on(&json!({"type": "executor_failed", "executor_id": "a", "error": "x"}));
        assert_eq!(failed[0]["delta"][0]["value"], "failed");
        assert_eq!(failed[1]["type"], "STEP_FINISHED");
        steps.on(&json!({"type": "executor_invoked", "executor_id": "a"}));
        assert_eq!(steps.close(), vec![json!({"type": "STEP_FINISHED", "stepName": "a"})]);
    }

    #[test]
    fn an_executor_that_asked_for_input_waits_until_it_is_invoked_again() {
        let value = |events: &[Value]| {
            events.iter().find(|e| e["type"] == "STATE_DELTA").map(|e| e["delta"][0]["value"].clone())
        };
        let mut steps = WorkflowSteps::new(None);
        steps.on(&json!({"type": "run_started", "run_id": "r", "executors": ["ask", "late"]}));
        steps.on(&json!({"type": "executor_invoked", "executor_id": "ask"}));
        // Asked inside its handler: `waiting` once the handler ends, not `done`.
        assert!(steps.on(&json!({"type": "request_info", "executor_id": "ask"})).is_empty());
        let ended = steps.on(&json!({"type": "executor_completed", "executor_id": "ask"}));
        assert_eq!(value(&ended), Some(json!("waiting")));
        // The answer invokes it again: running, then done.
        assert_eq!(
            value(&steps.on(&json!({"type": "executor_invoked", "executor_id": "ask"}))),
            Some(json!("running"))
        );
        assert_eq!(
            value(&steps.on(&json!({"type": "executor_completed", "executor_id": "ask"}))),
            Some(json!("done"))
        );
        // Asked outside a handler (a request restored from a checkpoint): waiting at once.
        let asked = steps.on(&json!({"type": "request_info", "executor_id": "late"}));
        assert_eq!(
            asked[0]["delta"][0],
            json!({"op": "replace", "path": "/workflow/executors/late", "value": "waiting"})
        );
        // A new run starts from a clean slate.
        steps.on(&json!({"type": "run_started", "run_id": "r2", "executors": ["late"]}));
        steps.on(&json!({"type": "executor_invoked", "executor_id": "late"}));
        assert_eq!(
            value(&steps.on(&json!({"type": "executor_completed", "executor_id": "late"}))),
            Some(json!("done"))
        );
    }
}
