//! Agents that pass control to each other through generated handoff tools.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use weft_core::{
    Agent, AgentSession, ApprovalResponse, ChatOptions, Content, Message, ResponseFolder, ToolDefinition,
};

use super::{INPUT_ID, added_messages, check_participants, input_executor};
use crate::agent::AgentApprovalRequest;
use crate::context::WorkflowContext;
use crate::error::{BoxError, BuildError};
use crate::executor::Executor;
use crate::message::AnyMessage;
use crate::request::PendingRequest;
use crate::workflow::Workflow;
use crate::{CheckpointStore, WorkflowBuilder};

/// Reported (as a [`crate::WorkflowEvent::Custom`] event) when an agent hands off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffEvent {
    /// The agent that handed off.
    pub from: String,
    /// The agent that takes over.
    pub to: String,
}

/// The request for a human turn: the agent that answered and the conversation so far. Answer
/// it with a `String` (the user's next message; an empty one ends the run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffUserRequest {
    /// The agent that answered without handing off (it gets the user's reply).
    pub agent: String,
    /// The conversation so far.
    pub conversation: Vec<Message>,
}

type Predicate = Arc<dyn Fn(&[Message]) -> bool + Send + Sync>;

/// The name of the tool that hands off to `agent`.
pub fn handoff_tool_name(agent: &str) -> String {
    let clean: String = agent
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .collect();
    format!("handoff_to_{clean}")
}

/// Builds a handoff orchestration. The start agent answers first; each agent's run gets one
/// extra tool per agent it may hand off to, `handoff_to_<name>`, declared in the run's options
/// with nothing behind it: when the model calls one, a [`weft_core::ChatAgent`]'s run ends with
/// that call (the workflow also stops reading any other agent's streamed run at the end of
/// that model turn), and the conversation (without the handoff call) goes to that agent. When an
/// agent answers without handing off, the run ends, or, with
/// [`HandoffBuilder::with_human_input`], the workflow asks for the user's next message with a
/// [`HandoffUserRequest`] (until the user sends an empty message or the termination predicate
/// holds). A tool that needs approval pauses the run with an
/// [`crate::AgentApprovalRequest`], and the agent's turn continues with the answers. The output
/// is the messages added to the input.
pub struct HandoffBuilder {
    agents: Vec<Arc<dyn Agent>>,
    start: Option<String>,
    routes: BTreeMap<String, Vec<String>>,
    human_input: bool,
    terminate: Option<Predicate>,
    store: Option<Arc<dyn CheckpointStore>>,
}

impl Default for HandoffBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for HandoffBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandoffBuilder")
            .field("agents", &self.agents.iter().map(|a| a.name()).collect::<Vec<_>>())
            .field("start", &self.start)
            .field("routes", &self.routes)
            .finish()
    }
}

impl HandoffBuilder {
    participant_methods!();

    /// No participants.
    pub fn new() -> Self {
        Self {
            agents: Vec::new(),
            start: None,
            routes: BTreeMap::new(),
            human_input: false,
            terminate: None,
            store: None,
        }
    }

    /// The agent that answers first.
    pub fn start_with(mut self, agent: impl Into<String>) -> Self {
        self.start = Some(agent.into());
        self
    }

    /// Lets `from` hand off only to `targets` (by default every agent may hand off to every
    /// other). Call once per agent whose routes you restrict.
    pub fn add_handoff<S: Into<String>>(
        mut self,
        from: impl Into<String>,
        targets: impl IntoIterator<Item = S>,
    ) -> Self {
        self.routes.entry(from.into()).or_default().extend(targets.into_iter().map(Into::into));
        self
    }

    /// Asks the user for the next message when an agent answers without handing off.
    pub fn with_human_input(mut self, enabled: bool) -> Self {
        self.human_input = enabled;
        self
    }

    /// Ends the run when `predicate` holds for the conversation after an agent's answer.
    pub fn terminate_when(mut self, predicate: impl Fn(&[Message]) -> bool + Send + Sync + 'static) -> Self {
        self.terminate = Some(Arc::new(predicate));
        self
    }

    /// Builds the workflow: `input -> start`, and an edge for every allowed handoff.
    pub fn build(self) -> Result<Workflow, BuildError> {
        check_participants(&self.agents)?;
        let names: Vec<String> = self.agents.iter().map(|a| a.name().to_string()).collect();
        let known = |name: &String| -> Result<(), BuildError> {
            if names.contains(name) {
                Ok(())
            } else {
                Err(BuildError::Orchestration { reason: format!("'{name}' is not a participant") })
            }
        };
        let start = self.start.clone().unwrap_or_else(|| names[0].clone());
        known(&start)?;
        for (from, targets) in &self.routes {
            known(from)?;
            targets.iter().try_for_each(known)?;
        }
        let descriptions: BTreeMap<String, String> = self
            .agents
            .iter()
            .map(|a| (a.name().to_string(), a.description().unwrap_or("").to_string()))
            .collect();
        let mut builder = WorkflowBuilder::new().name("handoff").start_with(input_executor());
        let mut edges = Vec::new();
        for agent in self.agents {
            let name = agent.name().to_string();
            let targets: Vec<String> = match self.routes.get(&name) {
                Some(targets) => targets
                    .iter()
                    .filter(|t| **t != name)
                    .cloned()
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect(),
                None => names.iter().filter(|n| **n != name).cloned().collect(),
            };
            let mut targets = targets;
            targets.sort_by_key(|t| names.iter().position(|n| n == t));
            let tools = targets
                .iter()
                .map(|target| {
                    let about = descriptions.get(target).filter(|d| !d.is_empty()).map(|d| format!(": {d}")).unwrap_or_default();
                    ToolDefinition::new(
                        handoff_tool_name(target),
                        format!("Hand the conversation over to {target}{about}"),
                        json!({"type": "object", "properties": {"reason": {"type": "string"}}, "required": [], "additionalProperties": false}),
                    )
                })
                .collect();
            for target in &targets {
                edges.push((name.clone(), target.clone()));
            }
            builder = builder.add_executor(HandoffAgent {
                agent,
                targets,
                tools,
                human_input: self.human_input,
                terminate: self.terminate.clone(),
            });
        }
        builder = builder.add_edge(INPUT_ID, start);
        for (from, to) in edges {
            builder = builder.add_edge(from, to);
        }
        if let Some(store) = self.store {
            builder = builder.with_checkpoint_store(store);
        }
        builder.build()
    }
}

struct HandoffAgent {
    agent: Arc<dyn Agent>,
    targets: Vec<String>,
    tools: Vec<ToolDefinition>,
    human_input: bool,
    terminate: Option<Predicate>,
}

/// Removes function calls that have no result in `messages` (and the results of removed calls),
/// dropping messages left empty.
fn without_unanswered_calls(messages: Vec<Message>, also_remove: &HashSet<String>) -> Vec<Message> {
    let answered: HashSet<String> =
        messages.iter().flat_map(Message::function_results).map(|r| r.call_id.clone()).collect();
    messages
        .into_iter()
        .filter_map(|mut message| {
            message.contents.retain(|content| match content {
                Content::FunctionCall(call) => {
                    answered.contains(&call.call_id) && !also_remove.contains(&call.call_id)
                }
                Content::FunctionResult(result) => !also_remove.contains(&result.call_id),
                _ => true,
            });
            (!message.contents.is_empty()).then_some(message)
        })
        .collect()
}

impl HandoffAgent {
    /// One turn of this agent: runs it, then hands off, ends, or asks the user.
    ///
    /// `conversation` is the conversation so far; the agent runs on `session` with `input`
    /// (a fresh turn: an empty session and the conversation; after an approval: the session
    /// that asked, and the answers).
    async fn turn(
        &self,
        conversation: Vec<Message>,
        mut session: AgentSession,
        input: Vec<Message>,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        let tool_names: Vec<String> = self.targets.iter().map(|t| handoff_tool_name(t)).collect();
        let options =
            ChatOptions { tools: self.tools.clone(), budget: ctx.budget().cloned(), ..Default::default() };
        let received = conversation.len();
        let mut folder = ResponseFolder::new();
        let mut handoff: Option<(String, String)> = None;
        let mut cut = false;
        {
            let mut stream = self.agent.run_messages_stream(&mut session, input, options);
            while let Some(update) = stream.next().await {
                let update = update?;
                if handoff.is_none() {
                    handoff = update.contents.iter().find_map(|c| match c {
                        Content::FunctionCall(call) => tool_names
                            .iter()
                            .position(|n| *n == call.name)
                            .map(|i| (self.targets[i].clone(), call.call_id.clone())),
                        _ => None,
                    });
                }
                folder.push_ref(&update);
                let turn_ended = update.finish_reason.is_some();
                ctx.emit_agent_update(update);
                if handoff.is_some() && turn_ended {
                    // Stop before the agent's loop tries to run the handoff tool.
                    cut = true;
                    break;
                }
            }
        }
        if !cut {
            let pending = session.pending_approvals();
            if !pending.is_empty() {
                ctx.request_info::<AgentApprovalRequest, Vec<ApprovalResponse>>(AgentApprovalRequest {
                    agent: self.agent.name().to_string(),
                    requests: pending,
                    conversation: session.messages,
                    received,
                    session_metadata: session.metadata,
                })?;
                return Ok(());
            }
        }
        let produced = if cut {
            folder.finish().messages
        } else {
            let answers_only =
                |m: &Message| m.contents.iter().all(|c| matches!(c, Content::ApprovalResponse(_)));
            session
                .messages
                .get(received..)
                .unwrap_or_default()
                .iter()
                .filter(|m| !answers_only(m))
                .cloned()
                .collect()
        };
        let removed: HashSet<String> = produced
            .iter()
            .flat_map(Message::function_calls)
            .filter(|c| tool_names.contains(&c.name))
            .map(|c| c.call_id.clone())
            .collect();
        let mut conversation = conversation;
        conversation.extend(without_unanswered_calls(produced, &removed));
        if let Some((target, _)) = handoff {
            ctx.add_event(HandoffEvent { from: self.agent.name().to_string(), to: target.clone() });
            ctx.send_message_to(target, conversation);
            return Ok(());
        }
        let terminated = self.terminate.as_ref().is_some_and(|t| t(&conversation));
        if self.human_input && !terminated {
            ctx.request_info::<HandoffUserRequest, String>(HandoffUserRequest {
                agent: self.agent.name().to_string(),
                conversation,
            })?;
            return Ok(());
        }
        ctx.yield_output(added_messages(ctx, &conversation)?);
        Ok(())
    }
}

#[async_trait]
impl Executor for HandoffAgent {
    type Input = Vec<Message>;
    type Output = Vec<Message>;

    fn id(&self) -> &str {
        self.agent.name()
    }

    async fn handle(
        &self,
        conversation: Vec<Message>,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        self.turn(conversation.clone(), AgentSession::new(), conversation, ctx).await
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        if request.request_type == crate::agent::AGENT_APPROVAL_REQUEST {
            let (session, input, _) = AgentApprovalRequest::answered(&request, response)?;
            return self.turn(session.messages.clone(), session, vec![input], ctx).await;
        }
        let HandoffUserRequest { mut conversation, .. } = request.data_as()?;
        let reply = response
            .take::<String>()
            .map_err(|m| format!("expected the user's reply as a String, got {m:?}"))?;
        if reply.trim().is_empty() {
            ctx.yield_output(added_messages(ctx, &conversation)?);
            return Ok(());
        }
        conversation.push(Message::user(reply));
        self.turn(conversation.clone(), AgentSession::new(), conversation, ctx).await
    }
}
