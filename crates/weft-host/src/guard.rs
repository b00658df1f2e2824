//! Request guards: the bearer token, the JSON body (with its limit) and the run permits.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;
use tokio::sync::OwnedSemaphorePermit;

use crate::HostState;
use crate::error::ApiError;

/// Lets a request through when no token is configured or it carries `Bearer TOKEN` (compared in
/// constant time); else 401.
pub(crate) async fn require_token(
    State(state): State<Arc<HostState>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(expected) = &state.config.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map_or("", |(_, token)| token.trim());
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return ApiError::unauthorized().into_response();
        }
    }
    next.run(request).await
}

/// A JSON body parsed into `T`; its failures answered in OpenAI's error shape (413 over the
/// limit, 400 with serde's message for bad JSON).
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<Arc<HostState>> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Arc<HostState>) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(state.config.body_limit)
            } else {
                ApiError::invalid("The request body could not be read")
            }
        })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|error| {
            ApiError::invalid(format!("The request body is not valid JSON for this endpoint: {error}"))
        })
    }
}

/// A permit for one run, or 503 when the server runs as many as it allows (or is stopping).
pub(crate) fn run_permit(state: &HostState) -> Result<OwnedSemaphorePermit, ApiError> {
    if state.stopping.is_cancelled() {
        return Err(ApiError::shutting_down());
    }
    state.runs.clone().try_acquire_owned().map_err(|_| ApiError::busy())
}
