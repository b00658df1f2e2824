//! What the host says about its entities beyond their names, and the checkpoints of their runs.
//!
//! - `GET /v1/entities`: every entity, `{"object": "list", "data": [{"id", "object": "entity",
//!   "kind", "description", "tools", "info", "checkpoints"}]}`; `tools` lists the tools an
//!   agent offers its model (`{"name", "description", "parameters"}`). `kind` is `agent` unless the server
//!   said otherwise ([`Host::entity_info`](crate::Host::entity_info)), e.g. `workflow`, with
//!   `info` the data a client draws (a workflow's graph); `checkpoints` says whether the entity's
//!   checkpoints can be listed and resumed.
//! - `GET /v1/entities/{name}`: one of them (404 when none).
//! - `GET /v1/entities/{name}/checkpoints?run_id=RUN`: the checkpoints of one of its runs,
//!   oldest first, `{"object": "list", "data": [...]}` as the [`CheckpointSource`] lists them.
//! - `POST /v1/entities/{name}/checkpoints/{id}/resume`: continues the run from that checkpoint
//!   (time travel: any checkpoint, not only the last) and answers with the run's AG-UI events,
//!   as `POST /ag-ui/{name}` does. The body is `{"threadId", "runId", "state"}` (each optional).
//!
//! The host knows nothing of workflows: the server that builds it gives the data
//! ([`EntityInfo`]) and the checkpoints ([`CheckpointSource`]).

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_core::{AgentSession, ChatOptions};

use crate::HostState;
use crate::agui::{AguiRun, stream};
use crate::error::ApiError;
use crate::guard::{JsonBody, run_permit};
use crate::run::new_id;

/// What clients are told about one entity beyond its name and description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityInfo {
    /// What it is: `agent`, `workflow`, …
    pub kind: String,
    /// Data for a client to show, by kind (a workflow's graph: `{"name", "start", "nodes":
    /// [{"id", "kind"}], "edges": [{"source", "target", "label"}]}`).
    pub info: Value,
}

impl EntityInfo {
    /// An entity of `kind` with `info`.
    pub fn new(kind: impl Into<String>, info: Value) -> Self {
        Self { kind: kind.into(), info }
    }
}

/// Why checkpoints could not be listed or resumed, as told to the client.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointSourceError {
    /// No such checkpoint (or run).
    #[error("{0}")]
    NotFound(String),
    /// The store failed (logged; the client gets a generic message).
    #[error("the checkpoint store failed: {0}")]
    Store(String),
}

/// The checkpoints of one entity's runs, given by the server that builds the host (a
/// workflow's checkpoint store).
#[async_trait]
pub trait CheckpointSource: Send + Sync + 'static {
    /// The checkpoints of run `run_id`, oldest first; each a JSON object with at least
    /// `checkpointId` and `superstep`.
    async fn list(&self, run_id: &str) -> Result<Vec<Value>, CheckpointSourceError>;

    /// A session whose next run of the entity continues from `checkpoint_id`.
    async fn resume(&self, checkpoint_id: &str) -> Result<AgentSession, CheckpointSourceError>;
}

/// The routes, behind the token like the rest of `/v1`.
pub(crate) fn routes() -> Router<Arc<HostState>> {
    Router::new()
        .route("/entities", get(list))
        .route("/entities/{name}", get(one))
        .route("/entities/{name}/checkpoints", get(checkpoints))
        .route("/entities/{name}/checkpoints/{id}/resume", post(resume))
}

fn describe(state: &HostState, name: &str) -> Option<Value> {
    let agent = state.agents.get(name)?;
    let (kind, info) = match state.entity_info.get(name) {
        Some(entity) => (entity.kind.as_str(), entity.info.clone()),
        None => ("agent", Value::Null),
    };
    let tools: Vec<Value> = agent
        .tool_definitions()
        .into_iter()
        .map(
            |tool| json!({"name": tool.name, "description": tool.description, "parameters": tool.parameters}),
        )
        .collect();
    Some(json!({
        "id": name,
        "object": "entity",
        "kind": kind,
        "description": agent.description(),
        "tools": tools,
        "info": info,
        "checkpoints": state.checkpoints.contains_key(name),
    }))
}

async fn list(State(state): State<Arc<HostState>>) -> Response {
    let data: Vec<Value> = state.agents.keys().filter_map(|name| describe(&state, name)).collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

async fn one(State(state): State<Arc<HostState>>, Path(name): Path<String>) -> Result<Response, ApiError> {
    let entity = describe(&state, &name).ok_or_else(|| ApiError::unknown_model(&name))?;
    Ok(axum::Json(entity).into_response())
}

fn source(state: &HostState, name: &str) -> Result<Arc<dyn CheckpointSource>, ApiError> {
    if !state.agents.contains_key(name) {
        return Err(ApiError::unknown_model(name));
    }
    state
        .checkpoints
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("'{name}' keeps no checkpoints")))
}

fn source_error(error: CheckpointSourceError) -> ApiError {
    match error {
        CheckpointSourceError::NotFound(message) => ApiError::not_found(message),
        CheckpointSourceError::Store(detail) => {
            tracing::error!("checkpoints: {detail}");
            ApiError::internal("The checkpoint store failed; the server's log has the details")
        }
    }
}

/// The query of a checkpoint listing.
#[derive(Debug, Deserialize)]
struct ListQuery {
    run_id: Option<String>,
}

async fn checkpoints(
    State(state): State<Arc<HostState>>,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let source = source(&state, &name)?;
    let run_id = query.run_id.filter(|id| !id.is_empty()).ok_or_else(|| {
        ApiError::invalid_param("`run_id` is required: the run whose checkpoints to list", "run_id")
    })?;
    let data = source.list(&run_id).await.map_err(source_error)?;
    Ok(axum::Json(json!({"object": "list", "data": data})).into_response())
}

/// The body of a resume.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResumeBody {
    #[serde(default)]
    thread_id: Option<String>,
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    state: Option<Value>,
}

async fn resume(
    State(state): State<Arc<HostState>>,
    Path((name, checkpoint_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<ResumeBody>,
) -> Result<Response, ApiError> {
    let source = source(&state, &name)?;
    let agent = state.agent(&name)?;
    let permit = run_permit(&state)?;
    let session = source.resume(&checkpoint_id).await.map_err(source_error)?;
    let run = AguiRun {
        entity: name,
        thread_id: body.thread_id.unwrap_or_else(|| new_id("thread")),
        run_id: body.run_id.unwrap_or_else(|| new_id("run")),
        state: body.state,
    };
    Ok(stream(state, agent, session, Vec::new(), ChatOptions::default(), run, permit))
}
