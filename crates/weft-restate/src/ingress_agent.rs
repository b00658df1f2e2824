//! [`IngressAgent`]: the durable agent that Weft workers serve to Restate, reached through
//! Restate's ingress and used as any [`Agent`]. A host (`weft serve --restate-ingress URL`)
//! serves it over its protocols while the runs execute on the workers: each message becomes a
//! `send` to the conversation's virtual object, journaled, retried and resumed by Restate, so a
//! run outlives the death of the worker running it.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use weft_core::agent::{Agent, AgentResponse, AgentResponseUpdate, AgentSession};
use weft_core::{AgentError, ChatOptions, Message, Role};

use crate::error::IngressError;
use crate::object::{OBJECT_NAME, TurnReply, TurnRequest};

/// How long a message may take by default, its durable run included.
pub const DEFAULT_TURN_TIMEOUT: Duration = Duration::from_secs(300);

/// The most bytes of a reply read from the ingress.
const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// The most bytes of an error answer kept in an [`IngressError`].
const MAX_ERROR_BYTES: usize = 2048;

/// The durable agent behind Restate's ingress (the [`OBJECT_NAME`] object of the workers
/// registered there), as an [`Agent`].
///
/// A session is a conversation: its id is the object's key, so every message to the session
/// goes to the same object, which Restate runs one message at a time and whose state holds the
/// history the workers run on. The session also keeps a copy of the exchange (for a host's
/// conversation items); the object's history is the one the model sees.
///
/// - Input: user messages with text (joined by blank lines into the turn's message); anything
///   else (tool results, approvals, images) is refused with [`AgentError::InvalidInput`].
/// - A message is durable once Restate accepted it: a caller that stops waiting (a cancelled
///   run, a disconnected client) does not stop it; its answer goes into the object's history.
/// - A stream yields the run's messages when the run ends (the workers' runs are not streamed).
#[derive(Debug, Clone)]
pub struct IngressAgent {
    name: String,
    description: Option<String>,
    ingress: reqwest::Url,
    client: reqwest::Client,
}

impl IngressAgent {
    /// The agent named `name` behind the ingress at `ingress` (e.g. `http://127.0.0.1:8080`),
    /// each message allowed [`DEFAULT_TURN_TIMEOUT`].
    pub fn new(name: impl Into<String>, ingress: &str) -> Result<Self, IngressError> {
        Self::with_timeout(name, ingress, DEFAULT_TURN_TIMEOUT)
    }

    /// [`IngressAgent::new`] allowing each message `timeout`.
    pub fn with_timeout(
        name: impl Into<String>,
        ingress: &str,
        timeout: Duration,
    ) -> Result<Self, IngressError> {
        let invalid = |cause: String| IngressError::InvalidUrl { url: ingress.to_owned(), cause };
        let parsed = reqwest::Url::parse(ingress).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
            return Err(invalid("not an http(s) URL".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| IngressError::Unreachable { url: ingress.to_owned(), cause: e.to_string() })?;
        Ok(Self { name: name.into(), description: None, ingress: parsed, client })
    }

    /// Sets what the agent does, for clients that list agents.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// `{ingress}/WeftAgent/{conversation}/send`, the key percent-encoded.
    fn send_url(&self, conversation: &str) -> Result<reqwest::Url, IngressError> {
        let mut url = self.ingress.clone();
        url.path_segments_mut()
            .map_err(|()| IngressError::InvalidUrl {
                url: self.ingress.to_string(),
                cause: "no path".into(),
            })?
            .pop_if_empty()
            .extend([OBJECT_NAME, conversation, "send"]);
        Ok(url)
    }

    /// Sends one message to the conversation's object and reads its reply.
    pub async fn send(&self, conversation: &str, message: String) -> Result<TurnReply, IngressError> {
        let url = self.send_url(conversation)?;
        let shown = url.to_string();
        let unreachable = |error: reqwest::Error| {
            let cause = if error.is_timeout() {
                "timed out".to_owned()
            } else if error.is_connect() {
                format!("connection failed ({})", root_cause(&error))
            } else {
                root_cause(&error)
            };
            IngressError::Unreachable { url: shown.clone(), cause }
        };
        let mut request = self.client.post(url.clone()).json(&TurnRequest { message });
        // The caller's trace goes on into the worker's run (when export is set up).
        for (name, value) in weft_core::telemetry::propagation::current_trace_fields() {
            request = request.header(name, value);
        }
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(IngressError::TooLarge { url: shown, limit: MAX_REPLY_BYTES });
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            // Restate's errors are `{"message": …}`.
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|value| value["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| text.chars().take(MAX_ERROR_BYTES).collect());
            return Err(IngressError::Refused { url: shown, status: status.as_u16(), message });
        }
        serde_json::from_slice(&body)
            .map_err(|e| IngressError::Malformed { url: shown, cause: e.to_string() })
    }

    fn failed(&self, error: IngressError) -> AgentError {
        AgentError::Other { agent: self.name.clone(), source: Box::new(error) }
    }

    /// The turn's message: the text of `messages`, which must be user messages with text only.
    fn turn_text(&self, messages: &[Message]) -> Result<String, AgentError> {
        let invalid =
            |message: &str| AgentError::InvalidInput { agent: self.name.clone(), message: message.into() };
        if messages.is_empty() {
            return Err(invalid("no message to send"));
        }
        let mut texts = Vec::with_capacity(messages.len());
        for message in messages {
            let text = message.text();
            if message.role != Role::User || text.is_empty() || message.contents.len() != 1 {
                return Err(invalid(
                    "a durable agent on Restate takes user messages with text only (no tool results, approvals or files)",
                ));
            }
            texts.push(text);
        }
        Ok(texts.join("\n\n"))
    }
}

/// The innermost cause of `error` (reqwest's own message names only the URL).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Numbers the streamed turns of this process, for message ids unique across turns.
static TURNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// An update per message of a finished run, each message's id `{prefix}_{index}`.
fn updates_of(response: &AgentResponse, prefix: &str) -> Vec<Result<AgentResponseUpdate, AgentError>> {
    response
        .messages
        .iter()
        .enumerate()
        .map(|(index, message)| {
            Ok(AgentResponseUpdate {
                role: Some(message.role),
                author_name: message.author_name.clone(),
                contents: message.contents.clone(),
                message_id: Some(format!("{prefix}_{index}")),
                ..Default::default()
            })
        })
        .collect()
}

#[async_trait::async_trait]
impl Agent for IngressAgent {
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
        _options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        let text = self.turn_text(&messages)?;
        let reply = self.send(&session.id, text).await.map_err(|error| self.failed(error))?;
        session.messages.extend(messages);
        session.messages.extend(reply.response.messages.iter().cloned());
        Ok(reply.response)
    }

    fn run_messages_stream<'a>(
        &'a self,
        session: &'a mut AgentSession,
        messages: Vec<Message>,
        options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        let turn = TURNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let prefix = format!("msg_{}_{turn}", session.id);
        futures::stream::once(self.run_messages(session, messages, options))
            .flat_map(move |result| {
                let updates = match result {
                    Ok(response) => updates_of(&response, &prefix),
                    Err(error) => vec![Err(error)],
                };
                futures::stream::iter(updates)
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conversation_key_is_percent_encoded_into_the_object_path() {
        let agent = IngressAgent::new("a", "http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            agent.send_url("conv 1/x").unwrap().as_str(),
            "http://127.0.0.1:8080/WeftAgent/conv%201%2Fx/send"
        );
        let agent = IngressAgent::new("a", "http://gw.example/restate").unwrap();
        assert_eq!(agent.send_url("c").unwrap().as_str(), "http://gw.example/restate/WeftAgent/c/send");
    }

    #[test]
    fn a_bad_ingress_url_is_refused_naming_it() {
        let error = IngressAgent::new("a", "ftp://x").unwrap_err();
        assert!(error.to_string().contains("ftp://x"), "{error}");
        assert!(IngressAgent::new("a", "not a url").is_err());
    }

    #[test]
    fn only_user_text_is_sent() {
        let agent = IngressAgent::new("a", "http://127.0.0.1:1").unwrap();
        assert_eq!(agent.turn_text(&[Message::user("a"), Message::user("b")]).unwrap(), "a\n\nb");
        assert!(matches!(agent.turn_text(&[Message::assistant("x")]), Err(AgentError::InvalidInput { .. })));
        assert!(matches!(agent.turn_text(&[]), Err(AgentError::InvalidInput { .. })));
    }

    #[tokio::test]
    async fn an_unreachable_ingress_is_a_typed_error_naming_it_and_the_cause() {
        // A port nothing listens on: bind one, then close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let agent = IngressAgent::new("a", &format!("http://127.0.0.1:{port}")).unwrap();
        let mut session = AgentSession::new();
        let error = agent
            .run_messages(&mut session, vec![Message::user("hi")], ChatOptions::default())
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}/WeftAgent/")), "{text}");
        assert!(text.contains("connection failed"), "{text}");
        assert!(session.messages.is_empty(), "a failed turn leaves the session as it was");
    }
}
