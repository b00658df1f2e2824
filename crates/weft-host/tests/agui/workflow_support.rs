//! A stand-in for a workflow served as an agent (the host knows no workflow): it streams
//! `weft.workflow` events as weft-workflow's `WorkflowAgent` does, asks for input with a
//! `request_info` call, continues when the call gets a result, and resumes from a "checkpoint"
//! named in its session. Also a [`CheckpointSource`] over it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use weft_core::{
    Agent, AgentError, AgentResponse, AgentResponseUpdate, AgentSession, ChatOptions, Content, FunctionCall,
    Message, Role,
};
use weft_host::{CheckpointSource, CheckpointSourceError, EntityInfo, Host};

/// The session key naming the checkpoint to resume from.
pub const RESUME: &str = "resume_from";

/// The workflow: `ask` (asks a person for an approval object) then `publish`.
pub struct FakeWorkflow;

fn event(data: Value) -> AgentResponseUpdate {
    AgentResponseUpdate {
        contents: vec![Content::Event { kind: "weft.workflow".into(), data }],
        ..Default::default()
    }
}

fn step(kind: &str, executor: &str, superstep: u64) -> AgentResponseUpdate {
    event(json!({"type": kind, "executor_id": executor, "superstep": superstep}))
}

/// The schema of the answer `ask` wants.
pub fn answer_schema() -> Value {
    json!({"type": "object", "properties": {"approved": {"type": "boolean"}, "note": {"type": "string"}},
           "required": ["approved"]})
}

#[async_trait]
impl Agent for FakeWorkflow {
    fn name(&self) -> &str {
        "flow"
    }
    fn description(&self) -> Option<&str> {
        Some("Asks, then publishes")
    }
    async fn run_messages(
        &self,
        _session: &mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        Ok(AgentResponse::default())
    }
    fn run_messages_stream<'a>(
        &'a self,
        session: &'a mut AgentSession,
        messages: Vec<Message>,
        _options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        Box::pin(async_stream::stream! {
            let executors = json!(["ask", "publish"]);
            let answer = messages.iter().flat_map(Message::function_results).next().map(|r| r.result.clone());
            let resumed = session.metadata.remove(RESUME);
            yield Ok(event(json!({"type": "run_started", "run_id": "run-1", "resumed_from": resumed,
                                  "executors": executors})));
            if let Some(answer) = answer.or_else(|| resumed.map(|_| json!({"approved": true}))) {
                yield Ok(event(json!({"type": "superstep_started", "superstep": 2})));
                yield Ok(step("executor_invoked", "publish", 2));
                yield Ok(step("executor_completed", "publish", 2));
                yield Ok(event(json!({"type": "output", "executor_id": "publish", "value": answer})));
                yield Ok(AgentResponseUpdate::text(format!("published: {answer}")));
                session.messages.extend(messages);
                session.messages.push(Message::assistant(format!("published: {answer}")));
                return;
            }
            yield Ok(event(json!({"type": "superstep_started", "superstep": 1})));
            yield Ok(step("executor_invoked", "ask", 1));
            yield Ok(step("executor_completed", "ask", 1));
            yield Ok(event(json!({"type": "checkpoint_saved", "checkpoint_id": "cp-1", "superstep": 1})));
            let call = FunctionCall::new("req-1", "request_info", json!({
                "executor_id": "ask", "request_type": "Ask", "response_type": "Answer",
                "data": {"prompt": "Publish the draft?"}, "response_schema": answer_schema(),
            }));
            let message = Message::new(Role::Assistant, vec![Content::FunctionCall(call)]);
            yield Ok(AgentResponseUpdate {
                role: Some(Role::Assistant),
                contents: message.contents.clone(),
                message_id: Some("msg-req".into()),
                ..Default::default()
            });
            session.messages.extend(messages);
            session.messages.push(message);
        })
    }
}

/// The fake's checkpoints: `cp-1` of `run-1`.
pub struct FakeCheckpoints;

#[async_trait]
impl CheckpointSource for FakeCheckpoints {
    async fn list(&self, run_id: &str) -> Result<Vec<Value>, CheckpointSourceError> {
        match run_id {
            "run-1" => Ok(vec![json!({"checkpointId": "cp-1", "runId": "run-1", "superstep": 1})]),
            _ => Ok(Vec::new()),
        }
    }
    async fn resume(&self, checkpoint_id: &str) -> Result<AgentSession, CheckpointSourceError> {
        if checkpoint_id != "cp-1" {
            return Err(CheckpointSourceError::NotFound(format!("No checkpoint '{checkpoint_id}'")));
        }
        let mut session = AgentSession::new();
        session.metadata.insert(RESUME.into(), json!(checkpoint_id));
        Ok(session)
    }
}

/// The graph the host is told about.
pub fn graph() -> Value {
    json!({"name": "flow", "start": "ask", "nodes": [{"id": "ask", "kind": "executor"},
           {"id": "publish", "kind": "executor"}], "edges": [{"source": "ask", "target": "publish"}]})
}

/// A host serving the fake as `flow` (a workflow with checkpoints) beside the scripted `helper`.
pub fn host() -> Host {
    Host::new()
        .agent("flow", Arc::new(FakeWorkflow))
        .agent("helper", crate::support::agent())
        .entity_info("flow", EntityInfo::new("workflow", graph()))
        .checkpoints("flow", Arc::new(FakeCheckpoints))
}
