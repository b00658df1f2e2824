//! The protocol's errors, with their JSON-RPC codes and their HTTP+JSON statuses.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::model::{TaskState, Version};

/// An error answered to an A2A client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({})", self.message(), self.code())]
pub enum A2aError {
    /// The body is not JSON (`-32700`).
    Parse(String),
    /// The body is not a JSON-RPC request (`-32600`).
    InvalidRequest(String),
    /// The body is over the server's limit (`-32600`, HTTP 413).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// No such method (`-32601`).
    MethodNotFound(String),
    /// The params are missing or wrong (`-32602`).
    InvalidParams(String),
    /// The server failed (`-32603`).
    Internal(String),
    /// The server runs as many tasks as it allows (`-32603`, HTTP 503 in HTTP+JSON).
    Busy,
    /// No task with this id (`-32001`).
    TaskNotFound(String),
    /// The task has ended and cannot be cancelled (`-32002`).
    TaskNotCancelable {
        /// The task id.
        id: String,
        /// Its state.
        state: TaskState,
    },
    /// The server does not do this (`-32004`).
    UnsupportedOperation(String),
    /// The `A2A-Version` asked for is not served (`-32009`).
    VersionNotSupported(String),
}

impl A2aError {
    /// The JSON-RPC error code.
    pub fn code(&self) -> i64 {
        match self {
            A2aError::Parse(_) => -32700,
            A2aError::InvalidRequest(_) | A2aError::TooLarge { .. } => -32600,
            A2aError::MethodNotFound(_) => -32601,
            A2aError::InvalidParams(_) => -32602,
            A2aError::Internal(_) | A2aError::Busy => -32603,
            A2aError::TaskNotFound(_) => -32001,
            A2aError::TaskNotCancelable { .. } => -32002,
            A2aError::UnsupportedOperation(_) => -32004,
            A2aError::VersionNotSupported(_) => -32009,
        }
    }

    /// What the client is told.
    pub fn message(&self) -> String {
        match self {
            A2aError::Parse(detail) => format!("The request body is not valid JSON: {detail}"),
            A2aError::InvalidRequest(detail)
            | A2aError::InvalidParams(detail)
            | A2aError::Internal(detail)
            | A2aError::UnsupportedOperation(detail) => detail.clone(),
            A2aError::TooLarge { limit } => {
                format!("The request body is larger than the server's limit of {limit} bytes")
            }
            A2aError::Busy => "The server runs as many tasks as it allows; try again later".into(),
            A2aError::MethodNotFound(method) => format!("Method not found: {method}"),
            A2aError::TaskNotFound(id) => format!("Task not found: {id}"),
            A2aError::TaskNotCancelable { id, state } => {
                format!("Task {id} cannot be canceled: it is {}", state.name(Version::V03))
            }
            A2aError::VersionNotSupported(version) => {
                format!("A2A-Version {version} is not supported; this server speaks 1.0 and 0.3")
            }
        }
    }

    /// The HTTP status, gRPC status name and reason of the HTTP+JSON binding.
    fn rest(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            A2aError::Parse(_) | A2aError::InvalidRequest(_) => {
                (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "INVALID_REQUEST")
            }
            A2aError::TooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "INVALID_ARGUMENT", "INVALID_REQUEST")
            }
            A2aError::InvalidParams(_) => (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "INVALID_PARAMS"),
            A2aError::MethodNotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND", "METHOD_NOT_FOUND"),
            A2aError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "INTERNAL_ERROR"),
            A2aError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", "INTERNAL_ERROR"),
            A2aError::TaskNotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND", "TASK_NOT_FOUND"),
            A2aError::TaskNotCancelable { .. } => {
                (StatusCode::BAD_REQUEST, "FAILED_PRECONDITION", "TASK_NOT_CANCELABLE")
            }
            A2aError::UnsupportedOperation(_) => {
                (StatusCode::BAD_REQUEST, "FAILED_PRECONDITION", "UNSUPPORTED_OPERATION")
            }
            A2aError::VersionNotSupported(_) => {
                (StatusCode::BAD_REQUEST, "FAILED_PRECONDITION", "VERSION_NOT_SUPPORTED")
            }
        }
    }

    /// The JSON-RPC `error` object.
    pub fn rpc_error(&self) -> Value {
        json!({"code": self.code(), "message": self.message()})
    }

    /// The HTTP+JSON answer: the status and a `google.rpc.Status`-shaped body with an `ErrorInfo`.
    pub fn rest_response(&self) -> (StatusCode, Value) {
        let (status, name, reason) = self.rest();
        let body = json!({"error": {
            "code": status.as_u16(),
            "status": name,
            "message": self.message(),
            "details": [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "a2a-protocol.org",
                "metadata": {},
            }],
        }});
        (status, body)
    }
}
