//! Elicitation: a server asks the user for structured input in the middle of a request
//! (`elicitation/create`, form mode). The application answers through an
//! [`ElicitationHandler`] given to the source builder
//! ([`McpSourceBuilder::elicitation_handler`](crate::McpSourceBuilder::elicitation_handler)).
//! Without one, the capability is not announced and servers do not ask.
//!
//! A handler can be a closure, an implementation of the trait, or the human-in-the-loop channel
//! of [`elicitation_channel`]: each request arrives on a receiver as a [`PendingElicitation`]
//! that the application answers when the user has decided.
//!
//! When the answer is an accept, fields the user left out are filled from the `default` values
//! of the requested schema (SEP-1034), so a user who accepts a form as offered sends its
//! defaults.

use std::future::Future;

use async_trait::async_trait;
use rmcp::model::ElicitationSchema;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

/// A server's request for user input (form mode).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ElicitationRequest {
    /// The name of the server that asks.
    pub server: String,
    /// What the server wants to know, for the user.
    pub message: String,
    /// The shape of the answer: an object of primitive fields (string, number, integer,
    /// boolean, enums), with titles, descriptions, defaults and the required ones.
    pub schema: ElicitationSchema,
}

impl ElicitationRequest {
    /// The requested schema as JSON, as the server sent it.
    pub fn schema_json(&self) -> Value {
        serde_json::to_value(&self.schema).unwrap_or(Value::Null)
    }

    /// The default values of the schema's fields, by field name.
    pub fn defaults(&self) -> Map<String, Value> {
        schema_defaults(&self.schema_json())
    }
}

/// The user's answer to an [`ElicitationRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitationResponse {
    /// The user answered; the fields (missing ones are filled from the schema's defaults).
    Accept(Map<String, Value>),
    /// The user said no; the server's operation may go on without the input.
    Decline,
    /// The user dismissed the request without choosing.
    Cancel,
}

/// Answers elicitation requests. Implemented by closures
/// `Fn(ElicitationRequest) -> impl Future<Output = ElicitationResponse>`.
///
/// The handler may take as long as the user needs; it is abandoned (and the server gets an
/// error) when the server cancels its request or the connection closes.
#[async_trait]
pub trait ElicitationHandler: Send + Sync + 'static {
    /// Asks the user and returns the answer.
    async fn elicit(&self, request: ElicitationRequest) -> ElicitationResponse;
}

#[async_trait]
impl<F, Fut> ElicitationHandler for F
where
    F: Fn(ElicitationRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ElicitationResponse> + Send + 'static,
{
    async fn elicit(&self, request: ElicitationRequest) -> ElicitationResponse {
        self(request).await
    }
}

/// An elicitation waiting for the application's answer; see [`elicitation_channel`].
/// Dropping it without answering cancels the request.
#[derive(Debug)]
pub struct PendingElicitation {
    /// The request.
    pub request: ElicitationRequest,
    reply: oneshot::Sender<ElicitationResponse>,
}

impl PendingElicitation {
    /// Sends the answer to the server. Returns it back when nobody waits any more (the server
    /// cancelled, or the connection closed).
    pub fn respond(self, response: ElicitationResponse) -> Result<(), ElicitationResponse> {
        self.reply.send(response)
    }
}

/// The handler half of [`elicitation_channel`]: forwards each request to the receiver.
#[derive(Debug, Clone)]
pub struct ChannelElicitationHandler {
    sender: mpsc::Sender<PendingElicitation>,
}

#[async_trait]
impl ElicitationHandler for ChannelElicitationHandler {
    async fn elicit(&self, request: ElicitationRequest) -> ElicitationResponse {
        let (reply, answer) = oneshot::channel();
        if self.sender.send(PendingElicitation { request, reply }).await.is_err() {
            // Nobody listens: the user cannot be asked.
            return ElicitationResponse::Cancel;
        }
        answer.await.unwrap_or(ElicitationResponse::Cancel)
    }
}

/// A human-in-the-loop elicitation handler: give the handler to the source builder, and take
/// the requests from the receiver (at most `buffer` queued). A request whose
/// [`PendingElicitation`] is dropped unanswered, or that arrives after the receiver is gone, is
/// cancelled.
pub fn elicitation_channel(buffer: usize) -> (ChannelElicitationHandler, mpsc::Receiver<PendingElicitation>) {
    let (sender, receiver) = mpsc::channel(buffer.max(1));
    (ChannelElicitationHandler { sender }, receiver)
}

/// The `default` of each property of a requested schema (JSON), by property name.
pub(crate) fn schema_defaults(schema: &Value) -> Map<String, Value> {
    let mut defaults = Map::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            if let Some(default) = property.get("default").filter(|d| !d.is_null()) {
                defaults.insert(name.clone(), default.clone());
            }
        }
    }
    defaults
}

/// Fills the fields the user did not give from the schema's defaults (SEP-1034).
pub(crate) fn fill_defaults(content: &mut Map<String, Value>, schema: &Value) {
    for (name, default) in schema_defaults(schema) {
        content.entry(name).or_insert(default);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sep1034_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "User name", "default": "John Doe"},
                "age": {"type": "integer", "description": "User age", "default": 30},
                "score": {"type": "number", "description": "User score", "default": 95.5},
                "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
                "verified": {"type": "boolean", "default": true},
                "note": {"type": "string"}
            },
            "required": []
        })
    }

    #[test]
    fn defaults_fill_only_missing_fields() {
        // The SEP-1034 conformance schema parses as rmcp's typed schema and keeps its defaults.
        let schema: ElicitationSchema = serde_json::from_value(sep1034_schema()).unwrap();
        let request = ElicitationRequest { server: "s".into(), message: "m".into(), schema };
        let defaults = request.defaults();
        assert_eq!(defaults.len(), 5, "{defaults:?}");

        let mut content = Map::new();
        content.insert("name".into(), json!("Ada"));
        fill_defaults(&mut content, &request.schema_json());
        assert_eq!(
            Value::Object(content),
            json!({"name": "Ada", "age": 30, "score": 95.5, "status": "active", "verified": true})
        );
    }

    #[tokio::test]
    async fn channel_answers_and_cancels_when_dropped() {
        let schema: ElicitationSchema = serde_json::from_value(sep1034_schema()).unwrap();
        let request = ElicitationRequest { server: "s".into(), message: "m".into(), schema };
        let (handler, mut requests) = elicitation_channel(1);
        let asking = tokio::spawn({
            let handler = handler.clone();
            let request = request.clone();
            async move { handler.elicit(request).await }
        });
        let pending = requests.recv().await.unwrap();
        assert_eq!(pending.request.message, "m");
        pending.respond(ElicitationResponse::Decline).unwrap();
        assert_eq!(asking.await.unwrap(), ElicitationResponse::Decline);

        let asking = tokio::spawn({
            let handler = handler.clone();
            async move { handler.elicit(request).await }
        });
        drop(requests.recv().await.unwrap());
        assert_eq!(asking.await.unwrap(), ElicitationResponse::Cancel);
    }
}
