//! # weft-host
//!
//! Serves Weft agents over HTTP protocols that clients already speak: the OpenAI Responses API
//! (`POST /v1/responses`, JSON or SSE, continued by `previous_response_id` or `conversation`) and
//! Chat Completions (`POST /v1/chat/completions`, streamed or not). `model` names the agent; the
//! agent's tools run on the server and its tool calls show as `function_call` /
//! `function_call_output` items. `POST /ag-ui/{agent}` speaks AG-UI, the protocol of agent UIs
//! (SSE events, client-side tools, approvals as interrupts resumed by the next run): see [`agui`].
//!
//! What outlives a request lives in a [`SessionStore`] ([`InMemoryStore`] by default, or
//! `SqliteStore` with the feature `sqlite`):
//!
//! - stored responses: `GET` and `DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`
//!   (`store: false` keeps nothing);
//! - conversations: `POST /v1/conversations`, `GET`/`POST`/`DELETE /v1/conversations/{id}`,
//!   `GET`/`POST /v1/conversations/{id}/items`, `GET`/`DELETE /v1/conversations/{id}/items/{item_id}`;
//! - background responses (`background: true`): answered `queued` at once, run by the host
//!   (shut down with it), polled with `GET`, stopped with `POST /v1/responses/{id}/cancel`;
//! - checkpoints of runs that must outlive the process ([`StoredCheckpoint`], bounded in number
//!   and size), which the server that builds the host reads and writes: `weft serve` keeps there
//!   the checkpoint a workflow paused for human input waits at, so that with a SQLite store the
//!   answer is taken after a restart, or a crash, of the server.
//!
//! A run cut short by the model's output limit, the agent's `max_iterations` or a run budget
//! ([`weft_core::budget`]: `AgentError::BudgetExceeded`) ends with status `incomplete`
//! (`response.incomplete`) and `incomplete_details.reason` (`max_output_tokens`,
//! `max_iterations`, `budget_exceeded`; which limit of the budget is in the server's log, and a
//! call the budget refused has an error output saying so); Chat Completions ends it with
//! `finish_reason: "length"`. Its turn is kept as a completed one's is.
//!
//! # Approvals and requests for input (Responses)
//!
//! - A tool call that needs approval shows as its `function_call` item, then an
//!   `mcp_approval_request` item (OpenAI's type: `{"type": "mcp_approval_request", "id", "name",
//!   "arguments", "server_label"}`, `server_label` being the served agent's name); the run ends
//!   with status `completed`. The next request (by `previous_response_id` or `conversation`, or
//!   with the whole history as `input`) carries `{"type": "mcp_approval_response",
//!   "approval_request_id", "approve", "reason"?}` items and the same run goes on: approved calls
//!   run, rejected (or unanswered) ones are reported to the model as not approved; `reason` is
//!   kept with the item, not sent to the model. A request is answered once: a second answer (or a
//!   retry after the answering run failed) is refused with 409 and the call never runs twice.
//! - A workflow served as an agent (weft-workflow's `WorkflowAgent`) that asks for input ends the
//!   run with a `function_call` named `request_info`: its `call_id` is the request's id, its
//!   `arguments` the request (`executor_id`, `request_type`, `response_type`, `data`). The client
//!   answers with `{"type": "function_call_output", "call_id", "output"}` (the answer as text)
//!   by `previous_response_id` or `conversation`, and the paused run goes on. What an agent keeps
//!   in its session's metadata (here, the checkpoint the run waits at) is kept with the stored
//!   response and beside a conversation.
//!
//! # What a turn keeps
//!
//! A turn is all or nothing for the conversation it continues:
//!
//! - A run that ends (completed, or `incomplete` with what it did so far) appends its input and
//!   output items to its `conversation`, and the conversation after it is kept for
//!   `previous_response_id`.
//! - A run that fails, passes its deadline or is cut by a shutdown leaves the conversation as it
//!   was; its response is stored with status `failed` and its partial output, and cannot be
//!   continued.
//! - A background run cancelled by `POST /v1/responses/{id}/cancel` is stored with status
//!   `cancelled` and the output produced so far; the conversation is left as it was.
//! - A client that disconnects from a JSON or streamed (non-background) run drops the run (its
//!   model call and tools stop): nothing of the turn is kept, neither a stored response nor
//!   conversation items.
//!
//! The host knows agents through [`weft_core::Agent`] only. What else a client may show about
//! an entity (a workflow's graph) and the checkpoints of its runs come from the server that
//! builds the host ([`Host::entity_info`], [`Host::checkpoints`]): `GET /v1/entities`, see
//! [`EntityInfo`] and [`CheckpointSource`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), weft_host::HostError> {
//! use std::sync::Arc;
//! use weft_core::{ChatAgent, ScriptedClient};
//! use weft_host::Host;
//!
//! let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).name("helper").build();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8088").await.map_err(weft_host::HostError::Io)?;
//! Host::new()
//!     .agent("helper", Arc::new(agent))
//!     .serve(listener, async { let _ = tokio::signal::ctrl_c().await; })
//!     .await
//! # }
//! ```
//!
//! Security defaults: a bearer token when one is configured (compared in constant time), a body
//! limit (4 MiB, answered 413), a deadline per run, a limit on concurrent runs (503 with
//! `Retry-After`), CORS off unless origins are given, and error bodies that never carry paths,
//! traces or secrets (the details go to the log). A client that disconnects drops its run.
//!
//! Handed a [`weft_core::telemetry::TraceSource`] ([`Host::traces`]), the host serves the recent
//! runs' traces at `GET /v1/traces` and `GET /v1/traces/{id}` (behind the token), and every `/v1`
//! and AG-UI answer names its trace in the `x-weft-trace-id` header ([`TRACE_ID_HEADER`]).

pub mod agui;
mod chat;
mod conversations;
mod entities;
mod error;
mod guard;
mod responses;
mod run;
pub mod store;
mod trace;
mod traces;

use std::collections::BTreeMap;
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use weft_core::Agent;

pub use entities::{CheckpointSource, CheckpointSourceError, EntityInfo};
pub use error::HostError;
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{
    CheckpointMeta, Conversation, InMemoryStore, SessionStore, StoreError, StoredCheckpoint, StoredResponse,
    StoredTask, TaskPage, TaskPhase, TaskQuery, TaskRetention,
};

pub use traces::TRACE_ID_HEADER;

use error::ApiError;

/// The default body limit: 4 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// The default deadline of one run: 5 minutes.
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// The default limit on concurrent runs.
pub const DEFAULT_MAX_CONCURRENT_RUNS: usize = 64;
/// The default grace period of a shutdown: 10 seconds.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// How long a shutdown waits for connections to close once their runs are cancelled.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// The default interval of SSE keep-alive comments: 15 seconds.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The most items one conversation holds by default.
pub const DEFAULT_MAX_CONVERSATION_ITEMS: usize = 10_000;

/// How the host guards itself. [`HostConfig::default`] is the safe local default: no token (the
/// caller binds 127.0.0.1), the limits above, no CORS.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The bearer token every `/v1` request must carry; `None` accepts any request.
    pub token: Option<String>,
    /// The largest request body, in bytes (larger ones are answered 413).
    pub body_limit: usize,
    /// The longest one run may take; past it, the run is dropped and reported failed.
    pub run_timeout: Duration,
    /// How many runs may go on at once; more are answered 503 with `Retry-After`.
    pub max_concurrent_runs: usize,
    /// The origins allowed by CORS; empty turns CORS off.
    pub cors_origins: Vec<String>,
    /// How long a shutdown lets in-flight runs finish before cancelling them.
    pub grace: Duration,
    /// How often an idle SSE stream sends a keep-alive comment (it also finds gone clients).
    pub keep_alive: Duration,
    /// The most items one conversation may hold: adding more is answered 400, and a turn on a
    /// conversation that is full is refused (400) before it runs.
    pub max_conversation_items: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            token: None,
            body_limit: DEFAULT_BODY_LIMIT,
            run_timeout: DEFAULT_RUN_TIMEOUT,
            max_concurrent_runs: DEFAULT_MAX_CONCURRENT_RUNS,
            cors_origins: Vec::new(),
            grace: DEFAULT_GRACE,
            keep_alive: DEFAULT_KEEP_ALIVE,
            max_conversation_items: DEFAULT_MAX_CONVERSATION_ITEMS,
        }
    }
}

/// What every handler shares.
pub(crate) struct HostState {
    pub(crate) agents: BTreeMap<String, Arc<dyn Agent>>,
    /// What clients are told about entities beyond their names.
    pub(crate) entity_info: BTreeMap<String, EntityInfo>,
    /// The checkpoints of entities that keep them.
    pub(crate) checkpoints: BTreeMap<String, Arc<dyn CheckpointSource>>,
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) config: HostConfig,
    pub(crate) runs: Arc<Semaphore>,
    /// Cancelled when a shutdown begins (readiness turns 503).
    pub(crate) stopping: CancellationToken,
    /// Cancelled when the grace period is over: every run still going stops.
    pub(crate) cancel_runs: CancellationToken,
    /// When the host started (Unix seconds), the `created` of its models.
    pub(crate) started_at: u64,
    /// The tasks of background responses (closed and awaited by a shutdown).
    pub(crate) tasks: TaskTracker,
    /// The background runs still going, to cancel by id.
    pub(crate) background: responses::BackgroundRuns,
    /// The recent traces served at `/v1/traces`, when kept.
    pub(crate) traces: Option<Arc<dyn weft_core::telemetry::TraceSource>>,
}

impl HostState {
    /// The agent `model` names, or a 404 in OpenAI's shape.
    pub(crate) fn agent(&self, model: &str) -> Result<Arc<dyn Agent>, ApiError> {
        self.agents.get(model).cloned().ok_or_else(|| ApiError::unknown_model(model))
    }
}

/// Agents served over HTTP. Build it with [`Host::new`], add agents, then [`Host::serve`] (or take
/// the [`Host::router`] to mount it yourself).
pub struct Host {
    agents: BTreeMap<String, Arc<dyn Agent>>,
    entity_info: BTreeMap<String, EntityInfo>,
    checkpoints: BTreeMap<String, Arc<dyn CheckpointSource>>,
    store: Arc<dyn SessionStore>,
    config: HostConfig,
    /// Routes of other protocols (A2A, …), served beside the host's own behind its guards.
    extra: Router,
    /// Routes served beside the protocols (a web page), outside the token guard.
    public: Router,
    /// The recent traces to serve, if any.
    traces: Option<Arc<dyn weft_core::telemetry::TraceSource>>,
}

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

impl Host {
    /// A host with no agents, an in-memory conversation store and the default [`HostConfig`].
    pub fn new() -> Self {
        Self {
            agents: BTreeMap::new(),
            entity_info: BTreeMap::new(),
            checkpoints: BTreeMap::new(),
            store: Arc::new(InMemoryStore::default()),
            config: HostConfig::default(),
            extra: Router::new(),
            public: Router::new(),
            traces: None,
        }
    }

    /// Serves the recent traces of `source` (weft-telemetry's `TraceRecorder`) at `GET /v1/traces`
    /// and `GET /v1/traces/{id}`, behind the token, and names each `/v1` request's trace in the
    /// [`TRACE_ID_HEADER`] header of its answer.
    pub fn traces(mut self, source: Arc<dyn weft_core::telemetry::TraceSource>) -> Self {
        self.traces = Some(source);
        self
    }

    /// Serves `routes` beside the protocols, e.g. a web page (`weft serve --ui`). They are not
    /// behind the token (a page must load to ask for it) nor the body limit; they must not
    /// overlap the host's paths (`/v1`, `/ag-ui`, `/liveness`, `/readiness`) nor set a fallback.
    /// Routes of another protocol go through [`Host::routes`] instead, behind the guards.
    pub fn public_routes(mut self, routes: Router) -> Self {
        self.public = self.public.merge(routes);
        self
    }

    /// Serves `agent` under `name` (the `model` clients ask for).
    pub fn agent(mut self, name: impl Into<String>, agent: Arc<dyn Agent>) -> Self {
        self.agents.insert(name.into(), agent);
        self
    }

    /// Tells clients more about the entity `name` (`GET /v1/entities`): its kind and the data
    /// to show, e.g. a workflow's graph.
    pub fn entity_info(mut self, name: impl Into<String>, info: EntityInfo) -> Self {
        self.entity_info.insert(name.into(), info);
        self
    }

    /// Lists and resumes the checkpoints of the entity `name`'s runs through `source`
    /// (`/v1/entities/{name}/checkpoints`).
    pub fn checkpoints(mut self, name: impl Into<String>, source: Arc<dyn CheckpointSource>) -> Self {
        self.checkpoints.insert(name.into(), source);
        self
    }

    /// Keeps stored responses and conversations in `store` instead of memory.
    pub fn store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = store;
        self
    }

    /// Replaces the limits and the token.
    pub fn config(mut self, config: HostConfig) -> Self {
        self.config = config;
        self
    }

    /// Serves `routes` (another protocol's, e.g. `weft_a2a::A2aServer::router`) beside the
    /// host's own, behind the same guards: the bearer token, the body limit and CORS. Their paths
    /// must not clash with the host's (`/v1/…`, `/liveness`, `/readiness`); the runs they start
    /// are theirs to own and stop.
    pub fn routes(mut self, routes: Router) -> Self {
        self.extra = self.extra.merge(routes);
        self
    }

    /// The names of the agents served, sorted.
    pub fn agent_names(&self) -> Vec<String> {
        self.agents.keys().cloned().collect()
    }

    fn into_state(self) -> (Arc<HostState>, Router, Router) {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let state = Arc::new(HostState {
            runs: Arc::new(Semaphore::new(self.config.max_concurrent_runs.max(1))),
            agents: self.agents,
            entity_info: self.entity_info,
            checkpoints: self.checkpoints,
            store: self.store,
            config: self.config,
            stopping: CancellationToken::new(),
            cancel_runs: CancellationToken::new(),
            started_at,
            tasks: TaskTracker::new(),
            background: responses::BackgroundRuns::default(),
            traces: self.traces,
        });
        (state, self.extra, self.public)
    }

    /// The routes, ready to mount (runs are never cancelled by a shutdown of this router's own,
    /// and background runs go on until they end).
    pub fn router(self) -> Router {
        let (state, extra, public) = self.into_state();
        router(state, extra).merge(public)
    }

    /// Serves on `listener` until `shutdown` completes; then stops accepting, lets in-flight
    /// runs (background ones too) finish within [`HostConfig::grace`], cancels those left and
    /// returns once every connection is closed and every background run has recorded its end.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), HostError> {
        let (state, extra, public) = self.into_state();
        let grace = state.config.grace;
        let stopping = state.stopping.clone();
        let cancel_runs = state.cancel_runs.clone();
        let tasks = state.tasks.clone();
        let signal = stopping.clone();
        // `into_make_service` hands each connection a clone of the router built once; serving the
        // `Router` itself rebuilds its routes (`with_state(())`) for every accepted connection,
        // about 9 KiB each (heaptrack under W8-open, BENCHMARKS.md).
        let server = axum::serve(listener, router(state, extra).merge(public).into_make_service())
            .with_graceful_shutdown(async move { signal.cancelled().await })
            .into_future();
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => {
                tasks.close();
                cancel_runs.cancel();
                tasks.wait().await;
                return result.map_err(HostError::Io);
            }
            () = shutdown => {}
        }
        tracing::info!("shutting down: no new connections; in-flight runs have {grace:?}");
        stopping.cancel();
        tasks.close();
        let deadline = tokio::time::Instant::now() + grace;
        // The server's result, once it ended (a finished future must not be polled again).
        let mut ended: Option<std::io::Result<()>> = None;
        let drained = async {
            ended = Some((&mut server).await);
            tasks.wait().await;
        };
        if tokio::time::timeout_at(deadline, drained).await.is_ok() {
            return ended.unwrap_or(Ok(())).map_err(HostError::Io);
        }
        tracing::warn!("grace period over: cancelling the runs still going");
        cancel_runs.cancel();
        // Cancelled runs end at once; a client that stops reading could still hold its
        // connection open, so the wait for the last connections is bounded too.
        let closed = async {
            if ended.is_none() {
                ended = Some((&mut server).await);
            }
            tasks.wait().await;
        };
        if tokio::time::timeout(CLOSE_WAIT, closed).await.is_err() {
            tracing::warn!(
                "connections still open {CLOSE_WAIT:?} after the runs were cancelled: leaving them"
            );
            return Ok(());
        }
        ended.unwrap_or(Ok(())).map_err(HostError::Io)
    }
}

/// The routes over `state`, with `extra` behind the same guards.
fn router(state: Arc<HostState>, extra: Router) -> Router {
    let extra = extra.layer(axum::middleware::from_fn_with_state(state.clone(), guard::require_token));
    let v1 = Router::new()
        .route("/models", get(list_models))
        .route("/chat/completions", post(chat::create))
        .merge(responses::routes())
        .merge(conversations::routes())
        .merge(entities::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::require_token))
        .layer(axum::middleware::from_fn_with_state(state.clone(), trace::server_span))
        .merge(
            traces::routes().layer(axum::middleware::from_fn_with_state(state.clone(), guard::require_token)),
        );
    let mut app = Router::new()
        .nest("/v1", v1)
        .merge(
            agui::routes(state.clone())
                .layer(axum::middleware::from_fn_with_state(state.clone(), trace::server_span)),
        )
        .route("/liveness", get(liveness))
        .route("/readiness", get(readiness))
        .with_state(state.clone())
        .merge(extra)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.config.body_limit));
    if !state.config.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> =
            state.config.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        app = app.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderName::from_static("a2a-version"),
                ]),
        );
    }
    app
}

/// `GET /v1/models`: the agents, as OpenAI's model list.
async fn list_models(State(state): State<Arc<HostState>>) -> Response {
    let data: Vec<_> = state
        .agents
        .keys()
        .map(|name| {
            serde_json::json!({"id": name, "object": "model", "created": state.started_at, "owned_by": "weft"})
        })
        .collect();
    axum::Json(serde_json::json!({"object": "list", "data": data})).into_response()
}

/// `GET /liveness`: the process answers.
async fn liveness() -> Response {
    axum::Json(serde_json::json!({"status": "alive"})).into_response()
}

/// `GET /readiness`: ready for runs, until a shutdown begins (then 503).
async fn readiness(State(state): State<Arc<HostState>>) -> Response {
    if state.stopping.is_cancelled() {
        let body = axum::Json(serde_json::json!({"status": "shutting down"}));
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    }
    axum::Json(serde_json::json!({"status": "ready"})).into_response()
}

/// Any other path: OpenAI's 404.
async fn not_found(uri: axum::http::Uri) -> Response {
    ApiError::not_found(format!("no route for {}", uri.path())).into_response()
}
