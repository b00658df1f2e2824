//! Errors: the host's own ([`HostError`]) and those answered to clients in OpenAI's error
//! object (`{"error": {"message", "type", "param", "code"}}`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why the host could not serve.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The listener or a connection failed.
    #[error("the server failed: {0}")]
    Io(#[source] std::io::Error),
}

/// An error answered to a client. Its message is written for the client and never carries a
/// path, a trace or a secret.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) kind: &'static str,
    pub(crate) code: Option<&'static str>,
    pub(crate) param: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, code: Option<&'static str>, message: String) -> Self {
        Self { status, message, kind, code, param: None }
    }

    /// 400: the request is malformed.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", None, message.into())
    }

    /// 400: the request is malformed in parameter `param`.
    pub(crate) fn invalid_param(message: impl Into<String>, param: &'static str) -> Self {
        Self::invalid(message).with_param(param)
    }

    /// The same error, naming parameter `param`.
    pub(crate) fn with_param(mut self, param: &'static str) -> Self {
        self.param = Some(param);
        self
    }

    /// 404: `model` names no agent served here.
    pub(crate) fn unknown_model(model: &str) -> Self {
        let mut error = Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("model_not_found"),
            format!("The model '{model}' does not exist: GET /v1/models lists the agents served here"),
        );
        error.param = Some("model");
        error
    }

    /// 404: something else does not exist.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", None, message.into())
    }

    /// 401: no token, or the wrong one.
    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Missing or invalid bearer token: send `Authorization: Bearer TOKEN`".into(),
        )
    }

    /// 413: the body is over the limit.
    pub(crate) fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("request_too_large"),
            format!("The request body is over the server's limit of {limit} bytes"),
        )
    }

    /// 503: too many runs at once.
    pub(crate) fn busy() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Some("server_busy"),
            "The server is running as many agent runs as it allows; retry shortly".into(),
        )
    }

    /// 503: the server is shutting down.
    pub(crate) fn shutting_down() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Some("shutting_down"),
            "The server is shutting down".into(),
        )
    }

    /// 409: the request conflicts with the state it continues (e.g. an approval answered twice),
    /// naming parameter `param`.
    pub(crate) fn conflict(message: impl Into<String>, param: &'static str) -> Self {
        Self::new(StatusCode::CONFLICT, "invalid_request_error", Some("conflict"), message.into())
            .with_param(param)
    }

    /// 500: a failure inside the server (the details are logged, not sent).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", Some("server_error"), message.into())
    }

    /// The error object, as OpenAI writes it.
    pub(crate) fn body(&self) -> serde_json::Value {
        serde_json::json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        match error {
            crate::store::StoreError::TooLarge { .. } | crate::store::StoreError::Full { .. } => {
                Self::invalid(error.to_string())
            }
            crate::store::StoreError::Backend(_) => {
                tracing::error!("the store failed: {error}");
                Self::internal("The conversation store failed; the server's log has the details")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
