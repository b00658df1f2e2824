//! Requests to the outside (human in the loop) and their answers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::message::{AnyMessage, WorkflowMessage};

/// A question an executor asked the outside, waiting for an answer. Portable: checkpoints hold
/// it as JSON, so it can be answered after a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRequest {
    /// The request's id; answer it with a [`RequestResponse`] of the same id.
    pub request_id: String,
    /// The executor that asked (and whose response handler gets the answer).
    pub executor_id: String,
    /// The Rust type of the request.
    pub request_type: String,
    /// The Rust type the answer must have.
    pub response_type: String,
    /// The request, as JSON.
    pub data: Value,
    /// The JSON schema of the answer (of `response_type`), for a client to build a form from.
    /// Absent in checkpoints written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_schema: Option<Value>,
}

impl PendingRequest {
    /// The request as a `T`.
    pub fn data_as<T: WorkflowMessage>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.data.clone())
    }
}

/// The caller's answer to a [`PendingRequest`].
#[derive(Debug, Clone)]
pub struct RequestResponse {
    /// The id of the request answered.
    pub request_id: String,
    /// The answer.
    pub value: AnyMessage,
}

impl RequestResponse {
    /// An answer to the request with this id.
    pub fn new<T: WorkflowMessage>(request_id: impl Into<String>, value: T) -> Self {
        Self { request_id: request_id.into(), value: AnyMessage::new(value) }
    }

    /// An answer given as JSON; the asking executor receives it as the type it asked for (the
    /// run fails there if the JSON does not parse as that type).
    pub fn json(request_id: impl Into<String>, value: serde_json::Value) -> Self {
        Self { request_id: request_id.into(), value: AnyMessage::from_json(value) }
    }
}
