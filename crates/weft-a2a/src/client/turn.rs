//! One turn with a remote agent: the remote ids a session keeps, the message a run sends, and
//! how a task's end becomes the run's answer or approval requests.

use serde_json::{Value, json};
use weft_core::{
    AgentSession, ApprovalRequest, Content, FunctionCall, Message as CoreMessage, Role as CoreRole,
};

use super::error::{A2aClientError, A2aClientErrorKind};
use super::wire::{self, RemoteState, RemoteTask};
use super::{INPUT_REQUIRED_TOOL, SESSION_KEY};
use crate::model::{Message, Part};

/// The remote ids a session keeps for one agent URL.
#[derive(Debug, Default, Clone)]
pub(crate) struct Remote {
    pub(crate) context_id: Option<String>,
    /// The task waiting for input.
    pub(crate) task_id: Option<String>,
}

pub(crate) fn remote_of(session: &AgentSession, url: &str) -> Remote {
    let entry = session.metadata.get(SESSION_KEY).and_then(|m| m.get(url));
    let text = |key: &str| entry.and_then(|e| e.get(key)).and_then(Value::as_str).map(str::to_string);
    Remote { context_id: text("contextId"), task_id: text("taskId") }
}

pub(crate) fn store_remote(session: &mut AgentSession, url: &str, remote: &Remote) {
    let entry = session.metadata.entry(SESSION_KEY).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    if let Some(map) = entry.as_object_mut() {
        map.insert(url.to_string(), json!({"contextId": remote.context_id, "taskId": remote.task_id}));
    }
}

/// What a run sends: the message and whether it answers approvals.
pub(crate) fn outgoing(messages: &[CoreMessage], remote: &Remote) -> Result<Message, String> {
    let answers: Vec<(String, bool)> = messages
        .iter()
        .flat_map(|m| m.contents.iter())
        .filter_map(|c| match c {
            Content::ApprovalResponse(answer) => Some((answer.id.clone(), answer.approved)),
            _ => None,
        })
        .collect();
    let text: Vec<String> = messages
        .iter()
        .filter(|m| m.role != CoreRole::System)
        .map(CoreMessage::text)
        .filter(|t| !t.is_empty())
        .collect();
    let parts = if answers.is_empty() {
        if text.is_empty() {
            return Err("the input has no text to send to the remote agent".into());
        }
        vec![Part::Text(text.join("\n"))]
    } else {
        if remote.task_id.is_none() {
            return Err("the input answers approvals, but no remote task waits for input".into());
        }
        let approved = answers.iter().all(|(_, approved)| *approved);
        let each: Vec<Value> = answers.iter().map(|(id, ok)| json!({"id": id, "approved": ok})).collect();
        vec![
            Part::Text(if approved { "yes" } else { "no" }.into()),
            Part::Data(json!({"approved": approved, "approvals": each})),
        ]
    };
    Ok(wire::user_message(parts, remote.context_id.clone(), remote.task_id.clone()))
}

/// The approval requests an `input-required` task stands for.
pub(crate) fn approval_requests(task_id: &str, question: Option<&Message>) -> Vec<ApprovalRequest> {
    let named: Vec<ApprovalRequest> = question
        .into_iter()
        .flat_map(Message::data)
        .filter_map(|d| d.get("approvalRequests").and_then(Value::as_array))
        .flatten()
        .filter_map(|r| {
            let id = r.get("id").and_then(Value::as_str)?;
            let name = r.get("name").and_then(Value::as_str)?;
            let arguments = r.get("arguments").cloned().unwrap_or_else(|| json!({}));
            Some(ApprovalRequest { id: id.to_string(), call: FunctionCall::new(id, name, arguments) })
        })
        .collect();
    if !named.is_empty() {
        return named;
    }
    let text = question.map(question_text).unwrap_or_default();
    vec![ApprovalRequest {
        id: task_id.to_string(),
        call: FunctionCall::new(task_id, INPUT_REQUIRED_TOOL, json!({"question": text})),
    }]
}

/// The text parts of a message.
pub(crate) fn question_text(message: &Message) -> String {
    let texts: Vec<&str> = message
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::Text(text) => Some(text.as_str()),
            Part::Data(_) => None,
        })
        .collect();
    texts.join("\n")
}

/// How a run ended.
pub(crate) enum Outcome {
    /// An answer (the text).
    Answer(String),
    /// The task waits for input.
    Input { task_id: String, question: Option<Message> },
}

/// What a run learns as it goes.
#[derive(Default)]
pub(crate) struct Progress {
    pub(crate) task_id: Option<String>,
    pub(crate) context_id: Option<String>,
    pub(crate) state: Option<RemoteState>,
    pub(crate) text: String,
    pub(crate) status_message: Option<Message>,
}

impl Progress {
    pub(crate) fn take_task(&mut self, task: &RemoteTask) {
        self.task_id = Some(task.id.clone());
        self.context_id = task.context_id.clone().or(self.context_id.take());
        self.state = Some(task.state);
        if task.message.is_some() {
            self.status_message = task.message.clone();
        } else if task.last_agent_message.is_some() {
            self.status_message = task.last_agent_message.clone();
        }
        if !task.artifact_text.is_empty() {
            self.text = task.artifact_text.clone();
        }
    }

    /// The run's end, once the task settled.
    pub(crate) fn outcome(&self, url: &str) -> Option<Result<Outcome, A2aClientError>> {
        let state = self.state?;
        let reason = || self.status_message.as_ref().map(question_text).filter(|t| !t.is_empty());
        Some(match state {
            RemoteState::Running => return None,
            RemoteState::Completed => {
                let text = if self.text.is_empty() {
                    self.status_message.as_ref().map(question_text).unwrap_or_default()
                } else {
                    self.text.clone()
                };
                Ok(Outcome::Answer(text))
            }
            RemoteState::InputRequired => Ok(Outcome::Input {
                task_id: self.task_id.clone().unwrap_or_default(),
                question: self.status_message.clone(),
            }),
            RemoteState::Failed => Err(A2aClientError::new(
                A2aClientErrorKind::TaskFailed,
                url,
                reason().unwrap_or_else(|| "the remote task failed".into()),
            )),
            RemoteState::Canceled => Err(A2aClientError::new(
                A2aClientErrorKind::TaskCanceled,
                url,
                reason().unwrap_or_else(|| "the remote task was canceled".into()),
            )),
        })
    }
}
