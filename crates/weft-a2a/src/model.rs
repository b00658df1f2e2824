//! The A2A task model Weft keeps (messages, parts, tasks, artifacts) and its JSON in both
//! protocol versions: 1.0 (ProtoJSON: `ROLE_USER`, `TASK_STATE_COMPLETED`, parts as `{"text": …}`,
//! `SendMessageResponse`/`StreamResponse` wrappers) and 0.3 (`kind`-tagged objects, `user`,
//! `completed`, `final` on status updates).

use serde_json::{Value, json};

/// The protocol version a request is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// A2A 1.0.
    V1,
    /// A2A 0.3 (requests without the `A2A-Version` header, or with `0.3`).
    V03,
}

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The client.
    User,
    /// The agent.
    Agent,
}

/// One part of a message or an artifact (files are not taken).
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Text.
    Text(String),
    /// A JSON value.
    Data(Value),
}

impl Part {
    /// The part's JSON in `version`.
    pub fn to_json(&self, version: Version) -> Value {
        match (self, version) {
            (Part::Text(text), _) => text_part(text, version),
            (Part::Data(data), Version::V1) => json!({"data": data}),
            (Part::Data(data), Version::V03) => json!({"kind": "data", "data": data}),
        }
    }
}

/// A message of a task.
#[derive(Debug, Clone)]
pub struct Message {
    /// The message id.
    pub message_id: String,
    /// The conversation it belongs to.
    pub context_id: Option<String>,
    /// The task it belongs to.
    pub task_id: Option<String>,
    /// Who sent it.
    pub role: Role,
    /// Its parts.
    pub parts: Vec<Part>,
}

impl Message {
    /// The text of all parts (data parts as their JSON), joined by newlines.
    pub fn text(&self) -> String {
        let texts: Vec<String> = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Data(data) => data.to_string(),
            })
            .collect();
        texts.join("\n")
    }

    /// The data parts.
    pub fn data(&self) -> impl Iterator<Item = &Value> {
        self.parts.iter().filter_map(|part| match part {
            Part::Data(data) => Some(data),
            Part::Text(_) => None,
        })
    }

    /// An agent message with one text part.
    pub fn agent(text: impl Into<String>, context_id: &str, task_id: &str) -> Self {
        Self {
            message_id: new_id(),
            context_id: Some(context_id.into()),
            task_id: Some(task_id.into()),
            role: Role::Agent,
            parts: vec![Part::Text(text.into())],
        }
    }

    /// Reads a message from either version's JSON (`text` and `data` parts); `None` when it has
    /// no `messageId`, no role or no text or data part.
    pub fn parse(value: &Value) -> Option<Self> {
        let role = match value.get("role")?.as_str()? {
            "ROLE_USER" | "user" => Role::User,
            "ROLE_AGENT" | "agent" => Role::Agent,
            _ => return None,
        };
        let parts: Vec<Part> = value
            .get("parts")?
            .as_array()?
            .iter()
            .filter_map(|part| match (part.get("text"), part.get("data")) {
                (Some(Value::String(text)), _) => Some(Part::Text(text.clone())),
                (_, Some(data)) => Some(Part::Data(data.clone())),
                _ => None,
            })
            .collect();
        if parts.is_empty() {
            return None;
        }
        let text_of = |key: &str| value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
        Some(Self {
            message_id: text_of("messageId")?.to_string(),
            context_id: text_of("contextId").map(str::to_string),
            task_id: text_of("taskId").map(str::to_string),
            role,
            parts,
        })
    }

    /// The message's JSON in `version`.
    pub fn to_json(&self, version: Version) -> Value {
        let mut out = serde_json::Map::new();
        if version == Version::V03 {
            out.insert("kind".into(), json!("message"));
        }
        out.insert("messageId".into(), json!(self.message_id));
        if let Some(context) = &self.context_id {
            out.insert("contextId".into(), json!(context));
        }
        if let Some(task) = &self.task_id {
            out.insert("taskId".into(), json!(task));
        }
        let role = match (version, self.role) {
            (Version::V1, Role::User) => "ROLE_USER",
            (Version::V1, Role::Agent) => "ROLE_AGENT",
            (Version::V03, Role::User) => "user",
            (Version::V03, Role::Agent) => "agent",
        };
        out.insert("role".into(), json!(role));
        out.insert("parts".into(), Value::Array(self.parts.iter().map(|p| p.to_json(version)).collect()));
        Value::Object(out)
    }
}

/// A text part in `version`.
fn text_part(text: &str, version: Version) -> Value {
    match version {
        Version::V1 => json!({"text": text}),
        Version::V03 => json!({"kind": "text", "text": text}),
    }
}

/// The states of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Received, not started.
    Submitted,
    /// The agent runs.
    Working,
    /// The agent answered.
    Completed,
    /// The run failed.
    Failed,
    /// The client cancelled it.
    Canceled,
    /// The agent waits for the client's answer (a tool call to approve).
    InputRequired,
}

impl TaskState {
    /// Whether the task can change no more.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskState::Completed | TaskState::Failed | TaskState::Canceled)
    }

    /// Whether a stream of the task ends here (a terminal state, or one waiting for the client).
    pub fn ends_stream(self) -> bool {
        self.is_terminal() || self == TaskState::InputRequired
    }

    /// The state's name in `version`.
    pub fn name(self, version: Version) -> &'static str {
        match (version, self) {
            (Version::V1, TaskState::Submitted) => "TASK_STATE_SUBMITTED",
            (Version::V1, TaskState::Working) => "TASK_STATE_WORKING",
            (Version::V1, TaskState::Completed) => "TASK_STATE_COMPLETED",
            (Version::V1, TaskState::Failed) => "TASK_STATE_FAILED",
            (Version::V1, TaskState::Canceled) => "TASK_STATE_CANCELED",
            (Version::V1, TaskState::InputRequired) => "TASK_STATE_INPUT_REQUIRED",
            (Version::V03, TaskState::Submitted) => "submitted",
            (Version::V03, TaskState::Working) => "working",
            (Version::V03, TaskState::Completed) => "completed",
            (Version::V03, TaskState::Failed) => "failed",
            (Version::V03, TaskState::Canceled) => "canceled",
            (Version::V03, TaskState::InputRequired) => "input-required",
        }
    }

    /// Reads a state filter (`TASK_STATE_WORKING` or `working`).
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Submitted, Self::Working, Self::Completed, Self::Failed, Self::Canceled, Self::InputRequired]
            .into_iter()
            .find(|state| state.name(Version::V1) == name || state.name(Version::V03) == name)
    }
}

/// A task's status: its state, an optional agent message and when it was set.
#[derive(Debug, Clone)]
pub struct TaskStatus {
    /// The state.
    pub state: TaskState,
    /// What the agent says about it (the reason of a failure).
    pub message: Option<Message>,
    /// When it was set (RFC 3339).
    pub timestamp: String,
}

impl TaskStatus {
    /// A status set now.
    pub fn now(state: TaskState, message: Option<Message>) -> Self {
        Self { state, message, timestamp: now_rfc3339() }
    }

    /// The status's JSON in `version`.
    pub fn to_json(&self, version: Version) -> Value {
        let mut out = json!({"state": self.state.name(version), "timestamp": self.timestamp});
        if let Some(message) = &self.message {
            out["message"] = message.to_json(version);
        }
        out
    }
}

/// An output of a task: the agent's answer.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The artifact id.
    pub artifact_id: String,
    /// Its name.
    pub name: String,
    /// Its text parts.
    pub parts: Vec<String>,
}

impl Artifact {
    /// The artifact's JSON in `version`.
    pub fn to_json(&self, version: Version) -> Value {
        json!({
            "artifactId": self.artifact_id,
            "name": self.name,
            "parts": self.parts.iter().map(|p| text_part(p, version)).collect::<Vec<_>>(),
        })
    }
}

/// A task: one message sent to an agent, and what became of it.
#[derive(Debug, Clone)]
pub struct Task {
    /// The task id.
    pub id: String,
    /// The conversation it continues.
    pub context_id: String,
    /// Its status.
    pub status: TaskStatus,
    /// Its outputs.
    pub artifacts: Vec<Artifact>,
    /// The messages exchanged.
    pub history: Vec<Message>,
}

impl Task {
    /// The task's JSON in `version`, with at most `history_length` messages of history (all
    /// when `None`) and its artifacts when `artifacts` is set.
    pub fn to_json(&self, version: Version, history_length: Option<usize>, artifacts: bool) -> Value {
        let mut out = serde_json::Map::new();
        if version == Version::V03 {
            out.insert("kind".into(), json!("task"));
        }
        out.insert("id".into(), json!(self.id));
        out.insert("contextId".into(), json!(self.context_id));
        out.insert("status".into(), self.status.to_json(version));
        if artifacts && !self.artifacts.is_empty() {
            let list = self.artifacts.iter().map(|a| a.to_json(version)).collect();
            out.insert("artifacts".into(), Value::Array(list));
        }
        let skip = history_length.map_or(0, |n| self.history.len().saturating_sub(n));
        let history: Vec<Value> = self.history.iter().skip(skip).map(|m| m.to_json(version)).collect();
        if !history.is_empty() {
            out.insert("history".into(), Value::Array(history));
        }
        Value::Object(out)
    }

    /// Reads a task written by [`Task::to_json`] (either version, with its artifacts and whole
    /// history); `None` when it is not one.
    pub fn parse(value: &Value) -> Option<Self> {
        let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        let status = value.get("status")?;
        let status = TaskStatus {
            state: TaskState::parse(status.get("state")?.as_str()?)?,
            message: status.get("message").and_then(Message::parse),
            timestamp: text(status, "timestamp").unwrap_or_default(),
        };
        let list = |key: &str| value.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
        let artifacts = list("artifacts")
            .iter()
            .map(|artifact| {
                let parts = artifact.get("parts")?.as_array()?;
                Some(Artifact {
                    artifact_id: text(artifact, "artifactId")?,
                    name: text(artifact, "name").unwrap_or_default(),
                    parts: parts.iter().filter_map(|p| text(p, "text")).collect(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let history = list("history").iter().map(Message::parse).collect::<Option<Vec<_>>>()?;
        Some(Self {
            id: text(value, "id")?,
            context_id: text(value, "contextId")?,
            status,
            artifacts,
            history,
        })
    }
}

/// What a streamed task sends after the task itself.
#[derive(Debug, Clone)]
pub enum TaskEvent {
    /// The status changed.
    Status(TaskStatus),
    /// A piece of an artifact: the first with `append: false`, the next ones appended.
    Artifact {
        /// The artifact (its new parts).
        artifact: Artifact,
        /// Whether its parts add to those sent before.
        append: bool,
        /// Whether it is the artifact's last piece.
        last_chunk: bool,
    },
}

impl TaskEvent {
    /// The event's JSON in `version`: in 1.0 wrapped as a `StreamResponse` (`statusUpdate`,
    /// `artifactUpdate`), in 0.3 `kind`-tagged with `final` on the last status update.
    pub fn to_json(&self, version: Version, task_id: &str, context_id: &str) -> Value {
        match self {
            TaskEvent::Status(status) => {
                let mut event =
                    json!({"taskId": task_id, "contextId": context_id, "status": status.to_json(version)});
                match version {
                    Version::V1 => json!({"statusUpdate": event}),
                    Version::V03 => {
                        event["kind"] = json!("status-update");
                        event["final"] = json!(status.state.ends_stream());
                        event
                    }
                }
            }
            TaskEvent::Artifact { artifact, append, last_chunk } => {
                let mut event = json!({
                    "taskId": task_id,
                    "contextId": context_id,
                    "artifact": artifact.to_json(version),
                    "append": append,
                    "lastChunk": last_chunk,
                });
                match version {
                    Version::V1 => json!({"artifactUpdate": event}),
                    Version::V03 => {
                        event["kind"] = json!("artifact-update");
                        event
                    }
                }
            }
        }
    }
}

/// A new random id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Now, as RFC 3339 with milliseconds (`2026-11-27T19:34:49.123Z`).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
