//! The client's side of the two bindings: requests over JSON-RPC (1.0 and 0.3) and HTTP+JSON
//! (1.0), their answers read in either version's shapes, bounded in size and time.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use weft_provider::sse::{SseError, SseParser};

use super::card::{Binding, Interface};
use super::error::{A2aClientError, A2aClientErrorKind};
use crate::model::{Message, Part, Version};

/// A remote task's state, as the client reads it (the states this server never sets
/// included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemoteState {
    /// Submitted or working (or a state this client does not know).
    Running,
    /// Waiting for the client's answer.
    InputRequired,
    /// Ended with an answer.
    Completed,
    /// Ended failed, rejected, or asking for authentication the client cannot give.
    Failed,
    /// Cancelled.
    Canceled,
}

impl RemoteState {
    fn parse(name: &str) -> Self {
        let name = name.trim_start_matches("TASK_STATE_").to_ascii_lowercase().replace('_', "-");
        match name.as_str() {
            "input-required" => RemoteState::InputRequired,
            "completed" => RemoteState::Completed,
            "failed" | "rejected" | "auth-required" => RemoteState::Failed,
            "canceled" | "cancelled" => RemoteState::Canceled,
            _ => RemoteState::Running,
        }
    }

    /// Whether the task waits for the client or has ended: a run ends here.
    pub(crate) fn settled(self) -> bool {
        self != RemoteState::Running
    }
}

/// A task as the client reads it.
#[derive(Debug, Clone)]
pub(crate) struct RemoteTask {
    pub(crate) id: String,
    pub(crate) context_id: Option<String>,
    pub(crate) state: RemoteState,
    /// The status message (the question of an `input-required` task, a failure's reason).
    pub(crate) message: Option<Message>,
    /// The text of its artifacts.
    pub(crate) artifact_text: String,
    /// The last agent message of its history (where some servers, MAF's `A2AExecutor` among
    /// them, put the answer instead of an artifact).
    pub(crate) last_agent_message: Option<Message>,
}

/// One answer of a send or one streamed event.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// The whole task.
    Task(RemoteTask),
    /// A message instead of a task (an agent that answers at once).
    Message(Message),
    /// A status update.
    Status { task_id: String, context_id: Option<String>, state: RemoteState, message: Option<Message> },
    /// A piece of an artifact.
    Artifact { task_id: String, context_id: Option<String>, text: String, append: bool },
}

fn string(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The text of parts (`{"text"}` in 1.0, `{"kind": "text", "text"}` in 0.3; data parts as JSON).
fn parts_text(parts: Option<&Value>) -> String {
    let mut out = String::new();
    for part in parts.and_then(Value::as_array).into_iter().flatten() {
        if let Some(text) = part.get("text").and_then(Value::as_str) {
            out.push_str(text);
        } else if let Some(data) = part.get("data") {
            out.push_str(&data.to_string());
        }
    }
    out
}

fn status_of(value: &Value) -> (RemoteState, Option<Message>) {
    let status = value.get("status");
    let state = status
        .and_then(|s| s.get("state"))
        .and_then(Value::as_str)
        .map_or(RemoteState::Running, RemoteState::parse);
    let message = status.and_then(|s| s.get("message")).and_then(Message::parse);
    (state, message)
}

fn task(value: &Value) -> Option<RemoteTask> {
    let id = string(value, "id")?;
    let (state, message) = status_of(value);
    let artifact_text = value
        .get("artifacts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|artifact| parts_text(artifact.get("parts")))
        .collect();
    let last_agent_message = value
        .get("history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .rev()
        .filter_map(Message::parse)
        .find(|m| m.role == crate::model::Role::Agent);
    Some(RemoteTask {
        id,
        context_id: string(value, "contextId"),
        state,
        message,
        artifact_text,
        last_agent_message,
    })
}

fn status_update(value: &Value) -> Option<Event> {
    let (state, message) = status_of(value);
    Some(Event::Status {
        task_id: string(value, "taskId")?,
        context_id: string(value, "contextId"),
        state,
        message,
    })
}

fn artifact_update(value: &Value) -> Option<Event> {
    Some(Event::Artifact {
        task_id: string(value, "taskId")?,
        context_id: string(value, "contextId"),
        text: parts_text(value.get("artifact").and_then(|a| a.get("parts"))),
        append: value.get("append").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// Reads a send result or a streamed event in either version's shape.
pub(crate) fn parse_event(value: &Value) -> Option<Event> {
    if let Some(inner) = value.get("task") {
        return task(inner).map(Event::Task);
    }
    if let Some(inner) = value.get("message") {
        return Message::parse(inner).map(Event::Message);
    }
    if let Some(inner) = value.get("statusUpdate") {
        return status_update(inner);
    }
    if let Some(inner) = value.get("artifactUpdate") {
        return artifact_update(inner);
    }
    match value.get("kind").and_then(Value::as_str) {
        Some("task") => task(value).map(Event::Task),
        Some("message") => Message::parse(value).map(Event::Message),
        Some("status-update") => status_update(value),
        Some("artifact-update") => artifact_update(value),
        _ if value.get("status").is_some() => task(value).map(Event::Task),
        _ => Message::parse(value).map(Event::Message),
    }
}

/// The HTTP side of one interface, with its limits.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    pub(crate) http: reqwest::Client,
    pub(crate) interface: Interface,
    /// The largest answer or streamed event.
    pub(crate) max_bytes: usize,
    /// The deadline of one request (a stream: of its response headers).
    pub(crate) request_timeout: Duration,
    /// The longest silence of a stream.
    pub(crate) idle_timeout: Duration,
}

/// A JSON-RPC method's name in `version`.
fn method(name: &str, version: Version) -> &'static str {
    match (name, version) {
        ("send", Version::V1) => "SendMessage",
        ("stream", Version::V1) => "SendStreamingMessage",
        ("get", Version::V1) => "GetTask",
        ("cancel", Version::V1) => "CancelTask",
        ("send", Version::V03) => "message/send",
        ("stream", Version::V03) => "message/stream",
        ("get", Version::V03) => "tasks/get",
        _ => "tasks/cancel",
    }
}

/// Reads a body up to `max` bytes, chunk by chunk.
pub(crate) async fn read_body(
    url: &str,
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, A2aClientError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| A2aClientError::from_reqwest(url, e))? {
        if body.len() + chunk.len() > max {
            return Err(A2aClientError::new(
                A2aClientErrorKind::TooLarge { limit: max },
                url,
                "the answer is larger than the client's limit",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.trim().to_string()
}

/// The error of an HTTP+JSON error body (`{"error": {code, message, details: [{reason}]}}`) or of
/// a JSON-RPC error object.
fn remote_error(url: &str, status: Option<u16>, error: &Value) -> A2aClientError {
    let message = error.get("message").and_then(Value::as_str).unwrap_or("no message").to_string();
    let reason = error.pointer("/details/0/reason").and_then(Value::as_str);
    let code = match reason {
        Some("TASK_NOT_FOUND") => -32001,
        Some("TASK_NOT_CANCELABLE") => -32002,
        Some("UNSUPPORTED_OPERATION") => -32004,
        _ => match status {
            Some(status) => i64::from(status),
            None => error.get("code").and_then(Value::as_i64).unwrap_or(-32603),
        },
    };
    A2aClientError::new(A2aClientErrorKind::Remote { code }, url, message)
}

impl Wire {
    fn url(&self) -> &str {
        &self.interface.url
    }

    fn request(&self, method: reqwest::Method, url: &str, accept: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url).header(reqwest::header::ACCEPT, accept);
        match self.interface.version {
            Version::V1 => request.header("A2A-Version", "1.0"),
            // 0.3 servers take a request without the header as 0.3.
            Version::V03 => request,
        }
    }

    /// Sends a request and reads its JSON answer: the JSON-RPC result, or the HTTP+JSON body.
    async fn call(&self, builder: reqwest::RequestBuilder, url: &str) -> Result<Value, A2aClientError> {
        let exchange = async {
            let response = builder.send().await.map_err(|e| A2aClientError::from_reqwest(url, e))?;
            let status = response.status();
            self.call_answer(url, status, response).await
        };
        tokio::time::timeout(self.request_timeout, exchange).await.map_err(|_| {
            let secs = self.request_timeout.as_secs_f64();
            A2aClientError::new(A2aClientErrorKind::Timeout, url, format!("no answer within {secs} s"))
        })?
    }

    fn rpc_body(&self, name: &str, params: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": crate::model::new_id(), "method": method(name, self.interface.version), "params": params})
    }

    fn rest_url(&self, path: &str) -> String {
        format!("{}/{path}", self.url().trim_end_matches('/'))
    }

    /// `SendMessage`: the task (or message) the server answers with. With `return_immediately`
    /// the server answers before the task has ended.
    pub(crate) async fn send(
        &self,
        message: &Message,
        return_immediately: bool,
    ) -> Result<Event, A2aClientError> {
        let configuration = match self.interface.version {
            Version::V1 => json!({"returnImmediately": return_immediately}),
            Version::V03 => json!({"blocking": !return_immediately}),
        };
        let params =
            json!({"message": message.to_json(self.interface.version), "configuration": configuration});
        let (url, builder) = match self.interface.binding {
            Binding::JsonRpc => {
                let url = self.url().to_string();
                let builder = self
                    .request(reqwest::Method::POST, &url, "application/json")
                    .json(&self.rpc_body("send", params));
                (url, builder)
            }
            Binding::HttpJson => {
                let url = self.rest_url("message:send");
                (url.clone(), self.request(reqwest::Method::POST, &url, "application/json").json(&params))
            }
        };
        let value = self.call(builder, &url).await?;
        parse_event(&value).ok_or_else(|| {
            A2aClientError::new(
                A2aClientErrorKind::Protocol,
                &url,
                "the answer is neither a task nor a message",
            )
        })
    }

    /// `GetTask`.
    pub(crate) async fn get_task(&self, id: &str) -> Result<RemoteTask, A2aClientError> {
        let (url, builder) = match self.interface.binding {
            Binding::JsonRpc => {
                let url = self.url().to_string();
                let body = self.rpc_body("get", json!({"id": id}));
                let builder = self.request(reqwest::Method::POST, &url, "application/json").json(&body);
                (url, builder)
            }
            Binding::HttpJson => {
                let url = self.rest_url(&format!("tasks/{id}"));
                (url.clone(), self.request(reqwest::Method::GET, &url, "application/json"))
            }
        };
        let value = self.call(builder, &url).await?;
        task(value.get("task").unwrap_or(&value)).ok_or_else(|| {
            A2aClientError::new(A2aClientErrorKind::Protocol, &url, "the answer is not a task")
        })
    }

    /// `CancelTask`: the task as the server left it.
    pub(crate) async fn cancel(&self, id: &str) -> Result<RemoteTask, A2aClientError> {
        let (url, builder) = match self.interface.binding {
            Binding::JsonRpc => {
                let url = self.url().to_string();
                let body = self.rpc_body("cancel", json!({"id": id}));
                let builder = self.request(reqwest::Method::POST, &url, "application/json").json(&body);
                (url, builder)
            }
            Binding::HttpJson => {
                let url = self.rest_url(&format!("tasks/{id}:cancel"));
                (
                    url.clone(),
                    self.request(reqwest::Method::POST, &url, "application/json").json(&json!({"id": id})),
                )
            }
        };
        let value = self.call(builder, &url).await?;
        task(value.get("task").unwrap_or(&value)).ok_or_else(|| {
            A2aClientError::new(A2aClientErrorKind::Protocol, &url, "the answer is not a task")
        })
    }

    /// `SendStreamingMessage`: the task's events as the server sends them. The stream ends when
    /// the server closes it; a silence longer than the idle timeout, an event over the size
    /// limit or a body cut short end it with an error.
    pub(crate) fn stream(&self, message: &Message) -> BoxStream<'static, Result<Event, A2aClientError>> {
        let wire = self.clone();
        let params = json!({"message": message.to_json(self.interface.version)});
        async_stream::try_stream! {
            let (url, builder) = match wire.interface.binding {
                Binding::JsonRpc => {
                    let url = wire.url().to_string();
                    let builder = wire.request(reqwest::Method::POST, &url, "text/event-stream").json(&wire.rpc_body("stream", params));
                    (url, builder)
                }
                Binding::HttpJson => {
                    let url = wire.rest_url("message:stream");
                    (url.clone(), wire.request(reqwest::Method::POST, &url, "text/event-stream").json(&params))
                }
            };
            let response = tokio::time::timeout(wire.request_timeout, builder.send())
                .await
                .map_err(|_| A2aClientError::new(A2aClientErrorKind::Timeout, &url, "no response headers in time"))?
                .map_err(|e| A2aClientError::from_reqwest(&url, e))?;
            let status = response.status();
            let is_sse = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"));
            if !is_sse {
                // A JSON answer: an error object, or one result (a server that does not stream).
                let value = wire.call_answer(&url, status, response).await?;
                let event = parse_event(&value).ok_or_else(|| {
                    A2aClientError::new(A2aClientErrorKind::Protocol, &url, "the answer is neither a task nor a message")
                })?;
                yield event;
                return;
            }
            let mut body = response.bytes_stream();
            let mut parser = SseParser::with_max_event_bytes(wire.max_bytes);
            loop {
                while let Some(sse) = parser.next_event().map_err(|e| sse_error(&url, &e, wire.max_bytes))? {
                    let value: Value = serde_json::from_str(&sse.data).map_err(|e| {
                        A2aClientError::new(A2aClientErrorKind::Protocol, &url, format!("a streamed event is not JSON: {e}"))
                    })?;
                    let value = match wire.interface.binding {
                        Binding::HttpJson => {
                            if let Some(error) = value.get("error").filter(|e| e.is_object()) {
                                Err(remote_error(&url, None, error))?;
                            }
                            value
                        }
                        Binding::JsonRpc => {
                            if let Some(error) = value.get("error").filter(|e| e.is_object()) {
                                Err(remote_error(&url, None, error))?;
                            }
                            value.get("result").cloned().unwrap_or(Value::Null)
                        }
                    };
                    if let Some(event) = parse_event(&value) {
                        yield event;
                    }
                }
                let next = tokio::time::timeout(wire.idle_timeout, body.next()).await.map_err(|_| {
                    let secs = wire.idle_timeout.as_secs_f64();
                    A2aClientError::new(A2aClientErrorKind::Timeout, &url, format!("the stream was silent for {secs} s"))
                })?;
                match next {
                    None => break,
                    Some(chunk) => parser.feed(&chunk.map_err(|e| A2aClientError::from_reqwest(&url, e))?),
                }
            }
        }
        .boxed()
    }

    /// Reads a non-streamed answer to a streaming request.
    async fn call_answer(
        &self,
        url: &str,
        status: reqwest::StatusCode,
        response: reqwest::Response,
    ) -> Result<Value, A2aClientError> {
        let body = read_body(url, response, self.max_bytes).await?;
        let parsed: Option<Value> = serde_json::from_slice(&body).ok();
        if let Some(error) = parsed.as_ref().and_then(|v| v.get("error")).filter(|e| e.is_object()) {
            let status = (self.interface.binding == Binding::HttpJson).then_some(status.as_u16());
            return Err(remote_error(url, status, error));
        }
        if !status.is_success() {
            return Err(A2aClientError::new(
                A2aClientErrorKind::HttpStatus(status.as_u16()),
                url,
                format!("the server answered {status}: {}", snippet(&body)),
            ));
        }
        let value = parsed.ok_or_else(|| {
            A2aClientError::new(
                A2aClientErrorKind::Protocol,
                url,
                format!("the answer is not JSON: {}", snippet(&body)),
            )
        })?;
        match self.interface.binding {
            Binding::HttpJson => Ok(value),
            Binding::JsonRpc => value.get("result").cloned().ok_or_else(|| {
                A2aClientError::new(A2aClientErrorKind::Protocol, url, "the JSON-RPC answer has no result")
            }),
        }
    }
}

fn sse_error(url: &str, error: &SseError, limit: usize) -> A2aClientError {
    match error {
        SseError::TooLarge { .. } => {
            A2aClientError::new(A2aClientErrorKind::TooLarge { limit }, url, error.to_string())
        }
        _ => A2aClientError::new(A2aClientErrorKind::Protocol, url, error.to_string()),
    }
}

/// A user message to send: `parts`, in `context_id` and (answering it) `task_id`.
pub(crate) fn user_message(parts: Vec<Part>, context_id: Option<String>, task_id: Option<String>) -> Message {
    Message { message_id: crate::model::new_id(), context_id, task_id, role: crate::model::Role::User, parts }
}
