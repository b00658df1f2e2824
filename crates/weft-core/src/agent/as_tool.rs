//! An agent as a tool of another agent ([`AgentTool`], made by [`AgentToolExt::as_tool`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{Value, json};

use super::{Agent, AgentSession};
use crate::error::ToolError;
use crate::message::{ApprovalRequest, Content, Message, Usage};
use crate::options::{ChatOptions, ToolDefinition};
use crate::tool::{Tool, ToolContext, ToolOutput};

/// How many inner runs waiting for an approval one [`AgentTool`] keeps (the oldest is
/// forgotten past it).
pub const MAX_WAITING_RUNS: usize = 256;

/// An agent called as a tool: the model of the calling agent gives it a `prompt`, and the
/// tool's result is the agent's answer. Each call runs the agent on a new session.
///
/// - When the calling run streams, the agent's streamed updates are forwarded to its stream
///   (with the inner agent's `author_name`).
/// - The tokens the agent used are added to the calling run's usage.
/// - When the agent asks for approvals, the calling run ends with them (their calls are the
///   inner agent's tool calls); answer them as any approval request, and the next run of the
///   calling agent resumes the inner run with the answers. The inner run waits in memory, in
///   this tool ([`MAX_WAITING_RUNS`] at most): answer in the same process. An answer that finds
///   no waiting run (the process restarted, even with the calling session saved and loaded, or
///   the run was forgotten past the limit) fails the inner call with an error saying so, which
///   the calling model sees; the inner agent's tool call never runs, and the calling run goes
///   on.
#[derive(Clone)]
pub struct AgentTool {
    agent: Arc<dyn Agent>,
    definition: ToolDefinition,
    /// The inner sessions waiting for approvals, by the call id that started them.
    waiting: Arc<Mutex<VecDeque<(String, AgentSession)>>>,
}

impl std::fmt::Debug for AgentTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentTool").field("definition", &self.definition).finish()
    }
}

/// A tool name from an agent name: letters, digits, `_` and `-` kept, the rest `_`, at most 64
/// characters (what model APIs accept).
fn tool_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .take(64)
        .collect();
    if cleaned.is_empty() { "agent".into() } else { cleaned }
}

impl AgentTool {
    /// `agent` as a tool named after it, described by its description.
    pub fn new(agent: Arc<dyn Agent>) -> Self {
        let name = tool_name(agent.name());
        let description = agent
            .description()
            .map_or_else(|| format!("Ask the agent {} and get its answer", agent.name()), str::to_string);
        let parameters = json!({
            "type": "object",
            "properties": {"prompt": {"type": "string", "description": "What to ask the agent"}},
            "required": ["prompt"],
            "additionalProperties": false,
        });
        Self {
            agent,
            definition: ToolDefinition::new(name, description, parameters),
            waiting: Arc::default(),
        }
    }

    /// Renames the tool.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.definition.name = name.into();
        self
    }

    /// Replaces the tool's description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.definition.description = description.into();
        self
    }

    fn park(&self, call_id: &str, session: AgentSession) {
        let mut waiting = self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        waiting.retain(|(id, _)| id != call_id);
        if waiting.len() >= MAX_WAITING_RUNS {
            waiting.pop_front();
        }
        waiting.push_back((call_id.to_string(), session));
    }

    fn unpark(&self, call_id: &str) -> Option<AgentSession> {
        let mut waiting = self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let index = waiting.iter().position(|(id, _)| id == call_id)?;
        waiting.remove(index).map(|(_, session)| session)
    }
}

/// Makes an agent a tool of another agent.
pub trait AgentToolExt {
    /// The agent as a tool ([`AgentTool`]): name, description, and an input schema
    /// `{"prompt": string}`.
    fn as_tool(&self) -> AgentTool;
}

impl<A: Agent + Clone> AgentToolExt for A {
    fn as_tool(&self) -> AgentTool {
        AgentTool::new(Arc::new(self.clone()))
    }
}

impl AgentToolExt for Arc<dyn Agent> {
    fn as_tool(&self) -> AgentTool {
        AgentTool::new(Arc::clone(self))
    }
}

/// What one inner run gave.
struct InnerRun {
    text: String,
    usage: Usage,
    approvals: Vec<ApprovalRequest>,
}

#[async_trait]
impl Tool for AgentTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn invoke(&self, arguments: Value, context: &ToolContext) -> Result<ToolOutput, ToolError> {
        let answers = context.run.approval_answers();
        let (mut session, input) = if answers.is_empty() {
            let prompt = arguments
                .get("prompt")
                .and_then(Value::as_str)
                .ok_or_else(|| ToolError::invalid_arguments("the arguments need a string `prompt`"))?;
            (AgentSession::new(), vec![Message::user(prompt)])
        } else {
            let session = self.unpark(&context.call_id).ok_or_else(|| {
                ToolError::failed(format!(
                    "the run of agent {} waiting for these approvals is gone (answers are taken in the process \
                     that asked, by the same tool)",
                    self.agent.name()
                ))
            })?;
            let input = session
                .pending_approvals()
                .iter()
                .map(|request| {
                    let approved = answers.iter().any(|a| a.id == request.id && a.approved);
                    if approved { request.approve() } else { request.reject() }
                })
                .collect();
            (session, input)
        };
        let run = if context.run.is_streaming() {
            let mut run = InnerRun { text: String::new(), usage: Usage::default(), approvals: Vec::new() };
            let mut stream = self.agent.run_messages_stream(&mut session, input, ChatOptions::default());
            let mut answer = String::new();
            while let Some(update) = stream.next().await {
                let update = update.map_err(|e| ToolError::failed(e.to_string()))?;
                for content in &update.contents {
                    match content {
                        Content::Usage(usage) => run.usage += *usage,
                        Content::ApprovalRequest(request) => run.approvals.push(request.clone()),
                        Content::Text { text } if update.role != Some(crate::message::Role::Tool) => {
                            answer.push_str(text);
                        }
                        _ => {}
                    }
                }
                // The inner requests reach the caller through the calling run, under its ids.
                let mut update = update;
                update.contents.retain(|c| !matches!(c, Content::ApprovalRequest(_)));
                if update.contents.is_empty() && update.finish_reason.is_none() {
                    continue;
                }
                if !context.run.forward(update).await {
                    return Err(ToolError::failed("the caller dropped the stream"));
                }
            }
            drop(stream);
            // The answer is the last assistant message's text, as in a run that does not stream.
            run.text = session
                .messages
                .iter()
                .rev()
                .find(|m| m.role == crate::message::Role::Assistant && !m.text().is_empty())
                .map(Message::text)
                .unwrap_or(answer);
            run
        } else {
            let response = self
                .agent
                .run_messages(&mut session, input, ChatOptions::default())
                .await
                .map_err(|e| ToolError::failed(e.to_string()))?;
            InnerRun { text: response.text(), approvals: response.approval_requests(), usage: response.usage }
        };
        context.run.add_usage(run.usage);
        if !run.approvals.is_empty() {
            context.run.request_approvals(run.approvals);
            self.park(&context.call_id, session);
            return Ok(ToolOutput::value(format!("agent {} waits for approvals", self.agent.name())));
        }
        Ok(ToolOutput::value(run.text))
    }
}
