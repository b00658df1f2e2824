//! The AG-UI view of a run: turns [`RunEvent`]s into AG-UI events (field names as `@ag-ui/core`
//! 1.0's schemas spell them), in the order `HttpAgent`'s verifier requires: `RUN_STARTED` first,
//! every text message and tool call closed before the run ends, `RUN_FINISHED` or `RUN_ERROR`
//! last.

use std::collections::HashSet;

use serde_json::{Value, json};
use weft_core::{AgentSession, ApprovalRequest, Content, FunctionCall, FunctionResult, Role, Usage};

use super::workflow::{WORKFLOW_EVENT_KIND, WorkflowSteps, input_interrupt, pending_inputs};
use crate::run::{RunEvent, RunFailure, new_id};

/// The `reason` of an interrupt that asks to approve a tool call.
pub(crate) const APPROVAL_REASON: &str = "tool_approval";

/// How a run ended, for the caller to keep what must be kept.
pub(crate) enum Ending {
    /// The run went on (no end yet).
    Running,
    /// The run ended; `interrupted` when it waits for approvals.
    Finished { session: Box<AgentSession>, interrupted: bool },
    /// The run failed.
    Failed,
}

/// Builds the events of one run.
pub(crate) struct EventBuilder {
    thread_id: String,
    run_id: String,
    /// The text message being written.
    open_message: Option<String>,
    /// The id of the assistant message of the current model turn: its text and its tool calls
    /// (`parentMessageId`) share it, so the client rebuilds the turn as one message.
    turn_message: Option<String>,
    /// Calls started in this run, and those that got a result.
    calls: Vec<String>,
    results: HashSet<String>,
    usage: Usage,
    /// A workflow's steps and state, when the agent is a workflow.
    workflow: WorkflowSteps,
}

impl EventBuilder {
    /// A builder for run `run_id` of thread `thread_id`.
    pub(crate) fn new(thread_id: String, run_id: String) -> Self {
        Self {
            thread_id,
            run_id,
            open_message: None,
            turn_message: None,
            calls: Vec::new(),
            results: HashSet::new(),
            usage: Usage::default(),
            workflow: WorkflowSteps::default(),
        }
    }

    /// `RUN_STARTED`, then a `STATE_SNAPSHOT` of the client's state when it sent one.
    pub(crate) fn start(&mut self, state: Option<&Value>) -> Vec<Value> {
        self.workflow = WorkflowSteps::new(state);
        let mut events =
            vec![json!({"type": "RUN_STARTED", "threadId": self.thread_id, "runId": self.run_id})];
        if let Some(state) = state.filter(|s| !s.is_null()) {
            events.push(json!({"type": "STATE_SNAPSHOT", "snapshot": state}));
        }
        events
    }

    /// The events of one run event, and whether the run ended.
    pub(crate) fn on(&mut self, event: RunEvent) -> (Vec<Value>, Ending) {
        match event {
            RunEvent::Text(delta) => (self.text(delta), Ending::Running),
            RunEvent::Call(call) => (self.call(&call), Ending::Running),
            RunEvent::Result(result) => (self.result(&result), Ending::Running),
            // The interrupts are read from the session when the run ends.
            RunEvent::Approval(_) => (Vec::new(), Ending::Running),
            RunEvent::Usage(usage) => {
                // Usage's `+=` saturates: counts come from the model server.
                self.usage += usage;
                (Vec::new(), Ending::Running)
            }
            RunEvent::Event { kind, data } if kind == WORKFLOW_EVENT_KIND => {
                (self.workflow.on(&data), Ending::Running)
            }
            RunEvent::Event { .. } => (Vec::new(), Ending::Running),
            RunEvent::Finished { session, .. } => {
                let (events, interrupted) = self.finish(&session);
                (events, Ending::Finished { session, interrupted })
            }
            RunEvent::Failed(failure) => (self.fail(failure), Ending::Failed),
        }
    }

    fn text(&mut self, delta: String) -> Vec<Value> {
        let mut events = Vec::new();
        let id = match &self.open_message {
            Some(id) => id.clone(),
            None => {
                let id = self.turn_message.get_or_insert_with(|| new_id("msg")).clone();
                events.push(json!({"type": "TEXT_MESSAGE_START", "messageId": id, "role": "assistant"}));
                self.open_message = Some(id.clone());
                id
            }
        };
        events.push(json!({"type": "TEXT_MESSAGE_CONTENT", "messageId": id, "delta": delta}));
        events
    }

    /// Ends the text message being written, if any.
    fn close_message(&mut self) -> Vec<Value> {
        match self.open_message.take() {
            Some(id) => vec![json!({"type": "TEXT_MESSAGE_END", "messageId": id})],
            None => Vec::new(),
        }
    }

    fn call(&mut self, call: &FunctionCall) -> Vec<Value> {
        let mut events = self.close_message();
        let parent = self.turn_message.get_or_insert_with(|| new_id("msg")).clone();
        self.calls.push(call.call_id.clone());
        events.push(json!({"type": "TOOL_CALL_START", "toolCallId": call.call_id,
                           "toolCallName": call.name, "parentMessageId": parent}));
        events.push(
            json!({"type": "TOOL_CALL_ARGS", "toolCallId": call.call_id, "delta": call.arguments_text()}),
        );
        events.push(json!({"type": "TOOL_CALL_END", "toolCallId": call.call_id}));
        events
    }

    fn result(&mut self, result: &FunctionResult) -> Vec<Value> {
        let mut events = self.close_message();
        // The model's next turn is a new message.
        self.turn_message = None;
        self.results.insert(result.call_id.clone());
        events.push(
            json!({"type": "TOOL_CALL_RESULT", "messageId": new_id("msg"), "toolCallId": result.call_id,
                           "content": result.to_model_text(), "role": "tool"}),
        );
        events
    }

    /// `RUN_FINISHED`: with an `interrupt` outcome when the session's last turn waits for
    /// approvals or a workflow's requests for input, else `success` naming the calls left for
    /// the client (its own tools).
    fn finish(&mut self, session: &AgentSession) -> (Vec<Value>, bool) {
        let mut events = self.close_message();
        events.extend(self.workflow.close());
        let requests = pending_approvals(session);
        let inputs = pending_inputs(session);
        let outcome = if requests.is_empty() && inputs.is_empty() {
            let pending: Vec<&String> = self.calls.iter().filter(|id| !self.results.contains(*id)).collect();
            if pending.is_empty() {
                json!({"type": "success"})
            } else {
                json!({"type": "success", "pendingToolCallIds": pending})
            }
        } else {
            let mut interrupts: Vec<Value> = requests.iter().map(|request| interrupt(request)).collect();
            interrupts.extend(inputs.iter().map(|call| input_interrupt(call)));
            json!({"type": "interrupt", "interrupts": interrupts})
        };
        let mut finished = json!({"type": "RUN_FINISHED", "threadId": self.thread_id, "runId": self.run_id, "outcome": outcome});
        if self.usage.total_tokens > 0 || self.usage.input_tokens > 0 || self.usage.output_tokens > 0 {
            finished["usage"] = json!([{
                "inputTokens": self.usage.input_tokens,
                "outputTokens": self.usage.output_tokens,
                "totalTokens": self.usage.total_tokens,
            }]);
        }
        events.push(finished);
        (events, !requests.is_empty() || !inputs.is_empty())
    }

    fn fail(&mut self, failure: RunFailure) -> Vec<Value> {
        let code = match failure {
            RunFailure::Agent => "agent_error",
            RunFailure::Timeout(_) => "timeout",
            RunFailure::Shutdown => "shutting_down",
            RunFailure::Cancelled => "cancelled",
        };
        vec![json!({"type": "RUN_ERROR", "message": failure.message(), "code": code})]
    }
}

/// The approval requests the session's last turn waits on.
pub(crate) fn pending_approvals(session: &AgentSession) -> Vec<&ApprovalRequest> {
    session
        .messages
        .last()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| {
            m.contents
                .iter()
                .filter_map(|c| match c {
                    Content::ApprovalRequest(request) => Some(request),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An approval request as an AG-UI interrupt: its id is the request's, `toolCallId` the call's
/// (already streamed as `TOOL_CALL_*` events), and `responseSchema` the payload the answer
/// carries.
fn interrupt(request: &ApprovalRequest) -> Value {
    json!({
        "id": request.id,
        "reason": APPROVAL_REASON,
        "message": format!("The agent wants to call the tool '{}': approve or reject the call", request.call.name),
        "toolCallId": request.call.call_id,
        "responseSchema": {
            "type": "object",
            "properties": {"approved": {"type": "boolean"}},
            "required": ["approved"],
        },
    })
}
