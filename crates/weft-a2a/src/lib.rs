//! # weft-a2a
//!
//! A2A protocol types, server routes and client for Weft agents: any [`weft_core::Agent`]
//! becomes an A2A agent that other frameworks' clients (the `a2a-sdk`, MAF, …) can call, and
//! [`A2AAgent`] makes a remote A2A agent (Weft's, the `a2a-sdk`'s, MAF's, …) a Weft agent (see
//! the [`client`] module).
//!
//! [`A2aServer::router`] serves, for each agent under its name `{entity}`:
//!
//! - the agent card at `GET /a2a/{entity}/.well-known/agent-card.json` (one skill from the
//!   agent's name and description; JSON-RPC and HTTP+JSON interfaces, protocol version 1.0);
//! - the JSON-RPC binding at `POST /a2a/{entity}`: `SendMessage`, `SendStreamingMessage` (SSE),
//!   `GetTask`, `CancelTask`, `ListTasks`, `SubscribeToTask` (SSE) with `A2A-Version: 1.0`, and
//!   `message/send`, `message/stream`, `tasks/get`, `tasks/cancel`, `tasks/resubscribe` answered
//!   in 0.3's shapes when the header is missing or says `0.3` (a request without the header may
//!   also use 1.0's method names, answered in 1.0's shapes). The other methods (push
//!   notifications, the extended card) are answered `-32004` (unsupported operation);
//! - the HTTP+JSON binding: `POST /a2a/{entity}/message:send`, `POST /a2a/{entity}/message:stream`,
//!   `GET /a2a/{entity}/tasks`, `GET /a2a/{entity}/tasks/{id}`, `POST /a2a/{entity}/tasks/{id}:cancel`,
//!   `GET` (or `POST`, as the `a2a-sdk` sends it) `/a2a/{entity}/tasks/{id}:subscribe`.
//!
//! Each message starts a task (`submitted`, `working`, then `completed`, `failed` or `canceled`)
//! run by the server (its runs end with [`A2aServer::shutdown`]); the answer is the task's
//! artifact `response`, streamed as artifact updates. A tool call that needs approval makes the
//! task `input-required`: its status message names the calls (a data part
//! `{"approvalRequests": [{id, name, arguments}]}`), and a message with the task's `taskId` and a
//! data part `{"approved": true}` (or `false`, or the text `yes` / `no`) runs the agent on. A message with a `contextId` continues that
//! conversation. Tasks, and the conversation of each context, live in the server's
//! [`SessionStore`] ([`A2aServer::store`]: the host's, so they sit beside its conversations; in
//! memory by default, or `weft_host::SqliteStore`, where a completed task stays readable and a
//! task waiting for approval can be answered after a restart). The runs going on and the streams
//! that follow them are this process's: a task its server stopped running without recording its
//! end (a crash) is recorded `failed` when next read. A task outlives the
//! connection that started it; a streaming client that falls [`A2aConfig::follower_buffer`]
//! events behind loses its stream (it ends with an error, `-32603`) while the task goes on.
//! Ended tasks and tasks waiting for input are kept [`A2aConfig::task_ttl`] after their last
//! change, and at most [`A2aConfig::max_tasks`] of them (running tasks always). Bodies over the limit are
//! answered 413; the bearer token is the mounting host's (`weft_host::Host::routes`).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use weft_a2a::A2aServer;
//! use weft_core::{ChatAgent, ScriptedClient};
//!
//! let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).name("helper").build();
//! let a2a = A2aServer::new().agent("helper", Arc::new(agent));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8089").await?;
//! // The card is at http://127.0.0.1:8089/a2a/helper/.well-known/agent-card.json
//! axum::serve(listener, a2a.router()).await?;
//! a2a.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod card;
pub mod client;
mod error;
mod jsonrpc;
pub mod model;
mod ops;
mod rest;
mod tasks;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use weft_core::Agent;
use weft_host::store::{InMemoryStore, SessionStore};

pub use client::{A2AAgent, A2AAgentBuilder, A2aClientConfig, A2aClientError, A2aClientErrorKind};
pub use error::A2aError;

use tasks::Tasks;

/// The protocol version of the card's interfaces.
pub const PROTOCOL_VERSION: &str = "1.0";

/// The default number of tasks kept: 10 000.
pub const DEFAULT_MAX_TASKS: usize = 10_000;

/// How long an ended or waiting task is kept by default: one hour.
pub const DEFAULT_TASK_TTL: Duration = Duration::from_secs(3600);

/// The default number of events a streaming client may fall behind: 256.
pub const DEFAULT_FOLLOWER_BUFFER: usize = 256;

/// The limits of an [`A2aServer`].
#[derive(Debug, Clone)]
pub struct A2aConfig {
    /// The largest request body, in bytes (larger ones are answered 413).
    pub body_limit: usize,
    /// The longest one run may take; past it, the task fails.
    pub run_timeout: Duration,
    /// How often an idle SSE stream sends a keep-alive comment.
    pub keep_alive: Duration,
    /// How many tasks are kept; past it, the oldest ended ones, then the oldest waiting for input
    /// (`input-required`), are forgotten, with the sessions of contexts left without a task.
    /// Running tasks are never forgotten.
    pub max_tasks: usize,
    /// How long a task that ended, or waits for input, is kept after its last change; then it
    /// is forgotten (`GetTask` answers -32001, an answer to it is refused).
    pub task_ttl: Duration,
    /// How many tasks may run at once; more are refused (`-32603`, or 503 over HTTP+JSON).
    pub max_concurrent_runs: usize,
    /// How many events a streaming client (`SendStreamingMessage`, `SubscribeToTask`) may fall
    /// behind: past it, its stream ends with an error (`-32603`) and the task goes on (follow it
    /// again with `GetTask` or `SubscribeToTask`). A slow reader never grows the server's memory.
    pub follower_buffer: usize,
}

impl Default for A2aConfig {
    fn default() -> Self {
        Self {
            body_limit: 4 * 1024 * 1024,
            run_timeout: Duration::from_secs(300),
            keep_alive: Duration::from_secs(15),
            max_tasks: DEFAULT_MAX_TASKS,
            task_ttl: DEFAULT_TASK_TTL,
            max_concurrent_runs: 64,
            follower_buffer: DEFAULT_FOLLOWER_BUFFER,
        }
    }
}

/// What the handlers share.
pub(crate) struct A2aState {
    pub(crate) agents: BTreeMap<String, Arc<dyn Agent>>,
    pub(crate) tasks: Arc<Tasks>,
    pub(crate) config: A2aConfig,
}

impl A2aState {
    /// The agent served as `entity`.
    pub(crate) fn agent(&self, entity: &str) -> Option<Arc<dyn Agent>> {
        self.agents.get(entity).cloned()
    }
}

/// Agents served over A2A. Add agents, take the [`A2aServer::router`] (mount it at the root of
/// the server: its paths start with `/a2a/`), and call [`A2aServer::shutdown`] when the server
/// stops.
pub struct A2aServer {
    agents: BTreeMap<String, Arc<dyn Agent>>,
    config: A2aConfig,
    store: Arc<dyn SessionStore>,
    /// The tasks, made by the first [`A2aServer::router`] and shared by the next ones.
    tasks: OnceLock<Arc<Tasks>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Default for A2aServer {
    fn default() -> Self {
        Self::new()
    }
}

impl A2aServer {
    /// A server with no agents and the default [`A2aConfig`].
    pub fn new() -> Self {
        Self {
            agents: BTreeMap::new(),
            config: A2aConfig::default(),
            store: Arc::new(InMemoryStore::default()),
            tasks: OnceLock::new(),
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Serves `agent` at `/a2a/{name}`.
    pub fn agent(mut self, name: impl Into<String>, agent: Arc<dyn Agent>) -> Self {
        self.agents.insert(name.into(), agent);
        self
    }

    /// Replaces the limits.
    pub fn config(mut self, config: A2aConfig) -> Self {
        self.config = config;
        self
    }

    /// Keeps the tasks, and the conversations of their contexts, in `store` (by default a new
    /// [`InMemoryStore`]). Give it the host's store so that they sit beside its conversations:
    /// with a `weft_host::SqliteStore`, they survive a restart.
    pub fn store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = store;
        self
    }

    /// The routes (see the crate docs). Their tasks are run by this server; every call gives
    /// routes over the same tasks.
    pub fn router(&self) -> Router {
        let tasks = self.tasks.get_or_init(|| {
            Arc::new(Tasks::new(
                self.store.clone(),
                self.tracker.clone(),
                self.shutdown.clone(),
                &self.config,
            ))
        });
        let state = Arc::new(A2aState {
            agents: self.agents.clone(),
            tasks: tasks.clone(),
            config: self.config.clone(),
        });
        Router::new()
            .route("/a2a/{entity}/.well-known/agent-card.json", get(card::agent_card))
            .route("/a2a/{entity}", post(jsonrpc::handle))
            .route("/a2a/{entity}/message:send", post(rest::send))
            .route("/a2a/{entity}/message:stream", post(rest::stream))
            .route("/a2a/{entity}/tasks", get(rest::list))
            .route("/a2a/{entity}/tasks/{id}", get(rest::get_task).post(rest::task_action))
            .layer(DefaultBodyLimit::max(self.config.body_limit))
            .with_state(state)
    }

    /// Lets the runs still going finish for at most `grace`, then stops the rest as
    /// [`A2aServer::shutdown`] does. A server's SIGTERM handling calls this with its grace period.
    pub async fn shutdown_after(&self, grace: std::time::Duration) {
        self.tracker.close();
        let _ = tokio::time::timeout(grace, self.tracker.wait()).await;
        self.shutdown().await;
    }

    /// Stops every run still going (their tasks end `failed`) and waits for them to record it.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}
