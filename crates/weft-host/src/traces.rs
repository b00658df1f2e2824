//! The recent traces of the process, when the host was handed a [`TraceSource`]
//! ([`crate::Host::traces`]; `weft devui` and `weft serve --ui` hand it weft-telemetry's
//! in-memory recorder): `GET /v1/traces` lists the recent runs (newest first) and
//! `GET /v1/traces/{id}` answers one trace with its spans, behind the same token as the rest of
//! `/v1`. Every `/v1` and AG-UI answer then names its request's trace in the [`TRACE_ID_HEADER`]
//! header,
//! so a client links a run to its trace. Reading traces makes no trace of its own.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use weft_core::telemetry::TraceSource;

use crate::HostState;
use crate::error::ApiError;

/// The response header that names the trace of a `/v1` request (32 hex digits), when the host
/// keeps traces.
pub const TRACE_ID_HEADER: &str = "x-weft-trace-id";

/// The routes, on a host that keeps traces.
pub(crate) fn routes() -> Router<Arc<HostState>> {
    Router::new().route("/traces", get(list)).route("/traces/{id}", get(retrieve))
}

fn source(state: &HostState) -> Result<&Arc<dyn TraceSource>, ApiError> {
    state.traces.as_ref().ok_or_else(|| ApiError::not_found("this server keeps no traces"))
}

/// `GET /v1/traces`: the recent runs.
async fn list(State(state): State<Arc<HostState>>) -> Response {
    match source(&state) {
        Ok(source) => axum::Json(source.recent()).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /v1/traces/{id}`: one trace and its spans.
async fn retrieve(State(state): State<Arc<HostState>>, Path(id): Path<String>) -> Response {
    let found = source(&state).and_then(|source| {
        source.trace(&id).ok_or_else(|| {
            ApiError::not_found(format!("no trace {id:?} is kept here (only the most recent runs are)"))
        })
    });
    match found {
        Ok(trace) => axum::Json(trace).into_response(),
        Err(error) => error.into_response(),
    }
}
