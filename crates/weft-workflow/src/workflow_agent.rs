//! A workflow as an [`Agent`]: conversations in, the workflow's outputs as the answer.

use std::any::TypeId;
use std::collections::HashSet;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use weft_core::{
    Agent, AgentError, AgentResponse, AgentResponseUpdate, AgentSession, ChatOptions, Content, FunctionCall,
    Message, Role, Usage,
};

use crate::error::WorkflowError;
use crate::events::{RunStatus, WorkflowEvent, WorkflowOutput};
use crate::request::{PendingRequest, RequestResponse};
use crate::workflow::Workflow;

/// The name of the function call a paused workflow's request appears as.
pub const REQUEST_INFO_FUNCTION: &str = "request_info";

/// The `kind` of the [`Content::Event`]s a [`WorkflowAgent`] streams (see its docs).
pub const WORKFLOW_EVENT_KIND: &str = "weft.workflow";

/// Session metadata key: a checkpoint the next run resumes from ([`WorkflowAgent::resume_session`]).
const RESUME_KEY: &str = "weft_workflow_resume_from";
/// Session metadata key: the checkpoint a paused run waits at.
const CHECKPOINT_KEY: &str = "weft_workflow_checkpoint";
/// Session metadata key: the ids of the requests it waits for.
const PENDING_KEY: &str = "weft_workflow_pending";

/// Runs a workflow whose start executor accepts `Vec<Message>` as an agent.
///
/// - Each run gives the workflow the session's conversation plus the new messages.
/// - The workflow's outputs become the response's messages: a `Vec<Message>`, a `Message` or an
///   [`AgentResponse`] as they are, a `String` as an assistant message, anything else as an
///   assistant message holding its JSON.
/// - Streamed, agents' updates inside the workflow come through as they are, and outputs of
///   executors that did not stream become one update per message.
/// - A request to the outside ([`crate::WorkflowContext::request_info`]) pauses the run (this
///   needs a checkpoint store): the response ends with a [`REQUEST_INFO_FUNCTION`] function
///   call whose `call_id` is the request's id and whose arguments hold the request. The next
///   run answers it with a function result of that `call_id` (its JSON value becomes the type
///   the executor asked for) and continues the paused run. The call's arguments carry the
///   request's `response_schema` (the JSON schema of the answer), for a client to build a form.
/// - Streamed, the run's progress comes as [`Content::Event`]s of kind [`WORKFLOW_EVENT_KIND`]
///   (never kept in the session), each `data` a JSON object with a `type`:
///   `run_started` (`run_id`, `resumed_from`, `executors`: every executor's id),
///   `superstep_started` / `superstep_completed` (`superstep`), `executor_invoked` /
///   `executor_completed` (`executor_id`, `superstep`), `executor_failed` (`executor_id`,
///   `superstep`, `error`), `checkpoint_saved` (`checkpoint_id`, `superstep`), `output`
///   (`executor_id`, `value`: the output as JSON) and `request_info` (`executor_id`,
///   `request_id`: the executor waits for that answer).
/// - A session made by [`WorkflowAgent::resume_session`] continues a run from any of its
///   checkpoints (time travel): its next run ignores its input and resumes there.
#[derive(Debug, Clone)]
pub struct WorkflowAgent {
    name: String,
    description: Option<String>,
    workflow: Workflow,
}

impl WorkflowAgent {
    /// The workflow as an agent named `name`. Fails when the start executor does not accept
    /// `Vec<Message>`.
    pub fn new(name: impl Into<String>, workflow: Workflow) -> Result<Self, WorkflowError> {
        let start = workflow.start_type();
        if start.id != TypeId::of::<Vec<Message>>() {
            return Err(WorkflowError::InputType {
                executor_id: workflow.start_id().to_string(),
                expected: std::any::type_name::<Vec<Message>>().to_string(),
                found: start.name.to_string(),
            });
        }
        Ok(Self { name: name.into(), description: None, workflow })
    }

    /// Describes the agent.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The workflow.
    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    /// A session whose next run resumes the run of `checkpoint_id` from that checkpoint (in the
    /// workflow's checkpoint store), instead of starting a new run on its input.
    pub fn resume_session(checkpoint_id: &str) -> AgentSession {
        let mut session = AgentSession::new();
        session.metadata.insert(RESUME_KEY.into(), json!(checkpoint_id));
        session
    }

    fn output_messages(&self, output: &WorkflowOutput) -> Vec<Message> {
        if let Some(messages) = output.get::<Vec<Message>>() {
            return messages.clone();
        }
        if let Some(message) = output.get::<Message>() {
            return vec![message.clone()];
        }
        if let Some(response) = output.get::<AgentResponse>() {
            return response.messages.clone();
        }
        let text = match output.get::<String>() {
            Some(text) => text.clone(),
            None => output.value.to_json().map(|v| v.to_string()).unwrap_or_default(),
        };
        vec![Message::assistant(text).with_author(self.name.clone())]
    }

    fn failed(&self, error: impl Into<weft_core::BoxError>) -> AgentError {
        AgentError::Other { agent: self.name.clone(), source: error.into() }
    }

    /// The events of this run: a new run over the conversation, or the paused run continued
    /// with the answers found in `messages`.
    fn events(
        &self,
        session: &AgentSession,
        messages: &[Message],
    ) -> Result<BoxStream<'static, WorkflowEvent>, AgentError> {
        let pending: Vec<String> = session
            .metadata
            .get(PENDING_KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let answers: Vec<RequestResponse> = messages
            .iter()
            .flat_map(Message::function_results)
            .filter(|r| pending.contains(&r.call_id))
            .map(|r| RequestResponse::json(r.call_id.clone(), r.result.clone()))
            .collect();
        if let Some(checkpoint) = session.metadata.get(RESUME_KEY).and_then(Value::as_str) {
            return Ok(self.workflow.resume_stream(checkpoint));
        }
        if answers.is_empty() {
            let mut conversation = session.messages.clone();
            conversation.extend(messages.iter().cloned());
            return Ok(self.workflow.run_stream(conversation));
        }
        let checkpoint = session.metadata.get(CHECKPOINT_KEY).and_then(Value::as_str).ok_or_else(|| {
            AgentError::InvalidInput {
                agent: self.name.clone(),
                message: "answers to requests, but the session holds no paused run".into(),
            }
        })?;
        Ok(self.workflow.send_responses_stream(checkpoint, answers))
    }
}

fn update_of(message: &Message) -> AgentResponseUpdate {
    AgentResponseUpdate {
        role: Some(message.role),
        author_name: message.author_name.clone(),
        contents: message.contents.clone(),
        message_id: Some(format!("msg_{}", uuid::Uuid::new_v4().simple())),
        ..Default::default()
    }
}

/// The [`WORKFLOW_EVENT_KIND`] event data of a workflow event, for those a watcher follows.
fn event_data(event: &WorkflowEvent, executors: &[&str]) -> Option<Value> {
    Some(match event {
        WorkflowEvent::Started { run_id, resumed_from } => json!({
            "type": "run_started", "run_id": run_id, "resumed_from": resumed_from, "executors": executors,
        }),
        WorkflowEvent::SuperstepStarted { superstep } => {
            json!({"type": "superstep_started", "superstep": superstep})
        }
        WorkflowEvent::SuperstepCompleted { superstep } => {
            json!({"type": "superstep_completed", "superstep": superstep})
        }
        WorkflowEvent::ExecutorInvoked { executor_id, superstep } => {
            json!({"type": "executor_invoked", "executor_id": executor_id, "superstep": superstep})
        }
        WorkflowEvent::ExecutorCompleted { executor_id, superstep } => {
            json!({"type": "executor_completed", "executor_id": executor_id, "superstep": superstep})
        }
        WorkflowEvent::ExecutorFailed { executor_id, superstep, error } => json!({
            "type": "executor_failed", "executor_id": executor_id, "superstep": superstep, "error": error,
        }),
        WorkflowEvent::CheckpointSaved { checkpoint_id, superstep } => {
            json!({"type": "checkpoint_saved", "checkpoint_id": checkpoint_id, "superstep": superstep})
        }
        WorkflowEvent::Output(output) => json!({
            "type": "output", "executor_id": output.executor_id,
            "value": output.value.to_json().unwrap_or(Value::Null),
        }),
        WorkflowEvent::RequestInfo(request) => json!({
            "type": "request_info", "executor_id": request.executor_id, "request_id": request.request_id,
        }),
        _ => return None,
    })
}

fn event_update(data: Value) -> AgentResponseUpdate {
    AgentResponseUpdate {
        contents: vec![Content::Event { kind: WORKFLOW_EVENT_KIND.into(), data }],
        ..Default::default()
    }
}

fn request_message(agent: &str, request: &PendingRequest) -> Message {
    let mut arguments = json!({
        "executor_id": request.executor_id,
        "request_type": request.request_type,
        "response_type": request.response_type,
        "data": request.data,
    });
    if let Some(schema) = &request.response_schema {
        arguments["response_schema"] = schema.clone();
    }
    let call = FunctionCall::new(request.request_id.clone(), REQUEST_INFO_FUNCTION, arguments);
    Message::new(Role::Assistant, vec![Content::FunctionCall(call)]).with_author(agent)
}

#[async_trait]
impl Agent for WorkflowAgent {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    async fn run_messages(
        &self,
        session: &mut AgentSession,
        messages: Vec<Message>,
        options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        let start = session.messages.len() + messages.len();
        let mut usage = Usage::default();
        {
            let mut stream = self.run_messages_stream(session, messages, options);
            while let Some(update) = stream.next().await {
                for content in &update?.contents {
                    if let Content::Usage(u) = content {
                        usage += *u;
                    }
                }
            }
        }
        Ok(AgentResponse {
            messages: session.messages.get(start..).unwrap_or_default().to_vec(),
            usage,
            ..Default::default()
        })
    }

    fn run_messages_stream<'a>(
        &'a self,
        session: &'a mut AgentSession,
        messages: Vec<Message>,
        _options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        Box::pin(async_stream::stream! {
            let mut events = match self.events(session, &messages) {
                Ok(events) => events,
                Err(error) => {
                    yield Err(error);
                    return;
                }
            };
            let mut added: Vec<Message> = Vec::new();
            let mut streamed_by: HashSet<String> = HashSet::new();
            let mut requests: Vec<PendingRequest> = Vec::new();
            let mut checkpoint: Option<String> = None;
            let mut paused = false;
            let executors = self.workflow.executor_ids();
            while let Some(event) = events.next().await {
                if let Some(data) = event_data(&event, &executors) {
                    yield Ok(event_update(data));
                }
                match event {
                    WorkflowEvent::AgentUpdate { executor_id, update } => {
                        streamed_by.insert(executor_id);
                        yield Ok(update);
                    }
                    WorkflowEvent::Output(output) => {
                        let streamed = streamed_by.contains(&output.executor_id);
                        for message in self.output_messages(&output) {
                            if !streamed {
                                yield Ok(update_of(&message));
                            }
                            added.push(message);
                        }
                    }
                    WorkflowEvent::RequestInfo(request)
                        if !requests.iter().any(|r| r.request_id == request.request_id) =>
                    {
                        requests.push(request);
                    }
                    WorkflowEvent::CheckpointSaved { checkpoint_id, .. } => checkpoint = Some(checkpoint_id),
                    WorkflowEvent::Status { status } => paused = status == RunStatus::IdleWithPendingRequests,
                    // Until the run saves one, the checkpoint it resumed from is where it waits.
                    WorkflowEvent::Started { resumed_from: Some(id), .. } if checkpoint.is_none() => {
                        checkpoint = Some(id);
                    }
                    WorkflowEvent::Failed { error } => {
                        yield Err(self.failed(error));
                        return;
                    }
                    _ => {}
                }
            }
            // A run resumed from a checkpoint that already waited for answers asks nothing new:
            // its requests are the checkpoint's.
            if paused && requests.is_empty() {
                if let (Some(id), Some(store)) = (&checkpoint, self.workflow.checkpoint_store()) {
                    match store.load(id).await {
                        Ok(saved) => requests = saved.pending_requests,
                        Err(error) => {
                            yield Err(self.failed(error));
                            return;
                        }
                    }
                }
            }
            if !requests.is_empty() && checkpoint.is_none() {
                yield Err(self.failed("it asked for input but has no checkpoint store to pause in"));
                return;
            }
            for request in &requests {
                let message = request_message(&self.name, request);
                yield Ok(update_of(&message));
                added.push(message);
            }
            session.messages.extend(messages);
            session.messages.extend(added);
            session.metadata.remove(RESUME_KEY);
            if requests.is_empty() {
                session.metadata.remove(CHECKPOINT_KEY);
                session.metadata.remove(PENDING_KEY);
            } else {
                let ids: Vec<&str> = requests.iter().map(|r| r.request_id.as_str()).collect();
                session.metadata.insert(CHECKPOINT_KEY.into(), json!(checkpoint));
                session.metadata.insert(PENDING_KEY.into(), json!(ids));
            }
        })
    }
}
