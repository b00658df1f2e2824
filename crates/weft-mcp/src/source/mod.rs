//! [`McpSource`]: one MCP server, its session, and its tools as a Weft [`ToolSet`].
//!
//! Each connection is owned by one actor task that holds rmcp's running service (transport +
//! session) and closes it, inside the runtime, when the connection's token is cancelled.
//! Callers reach the server through rmcp's cheap `Peer` handle with a deadline on every
//! request; a background reloader (at most one running, one pending) replaces the tool snapshot
//! after `tools/list_changed`. Both tasks belong to the connection's `TaskTracker`; closing
//! cancels the token and awaits the tracker.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, JsonObject, RequestMetaObject};
use rmcp::service::{Peer, RoleClient, RunningService};
use serde_json::Value;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;
use weft_core::{Tool, ToolOutput, ToolSet};

use crate::config::ServerConfig;
use crate::connect::{Opened, open};
use crate::error::{McpError, McpErrorKind};
use crate::handler::{ClientFeatures, Handler, McpEvent};
use crate::stdio::{LINE_LIMIT, OversizedLines};
use crate::telemetry::{self, Call};
use crate::tool::{ToolOptions, build_tools, map_result};
use tracing::Instrument as _;

mod builder;

pub use builder::McpSourceBuilder;

/// How long closing waits for the session and the child process to end.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a burst of list-changed notifications may settle before the reload starts.
const RELOAD_SETTLE: Duration = Duration::from_millis(20);

/// One MCP server as a source of tools (and prompts, resources). Cheap to clone; all clones
/// share one connection. Hand it to an agent with `.tool_set(Arc::new(source.clone()))`: the
/// agent sees the current tools at every model turn.
///
/// [`close`](Self::close) ends the session cleanly (and the child process, on stdio);
/// dropping the last clone closes it too, in the background, as a safety net.
#[derive(Clone)]
pub struct McpSource {
    inner: Arc<SourceInner>,
}

impl std::fmt::Debug for McpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpSource").field("name", &self.inner.name).finish()
    }
}

pub(crate) struct SourceInner {
    name: Arc<str>,
    server: ServerConfig,
    tool_options: ToolOptions,
    connect_timeout: Duration,
    request_timeout: Duration,
    features: ClientFeatures,
    state: tokio::sync::Mutex<State>,
    tools: RwLock<Arc<Vec<Arc<dyn Tool>>>>,
    reloads: AtomicU64,
    events: broadcast::Sender<McpEvent>,
    weak: Weak<SourceInner>,
}

enum State {
    Never,
    Open(Conn),
    /// The connection was lost and reconnecting failed; the next call tries again.
    Lost,
    Closed,
}

/// One live connection: the peer handle, and the tasks that own the session.
struct Conn {
    peer: Peer<RoleClient>,
    token: CancellationToken,
    tracker: TaskTracker,
    lost: Arc<AtomicBool>,
    /// Stdio: counts the lines over the size limit (requests waiting then end at once).
    oversized: Option<OversizedLines>,
    session_id: Arc<Mutex<Option<String>>>,
    child_pid: Option<u32>,
    // Dropping the connection (the last source handle) cancels its token: the actor then
    // closes the session inside the runtime.
    _guard: DropGuard,
}

impl Conn {
    fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed) || self.peer.is_transport_closed()
    }

    async fn shutdown(self, server: &str) {
        self.token.cancel();
        self.tracker.close();
        if tokio::time::timeout(CLOSE_TIMEOUT, self.tracker.wait()).await.is_err() {
            tracing::warn!(server, "MCP connection did not close within {CLOSE_TIMEOUT:?}");
        }
    }
}

impl McpSource {
    /// Starts building a source for the server named `name` (used in errors and logs; when it
    /// holds a URL, its password, token and query values are hidden).
    pub fn builder(name: impl Into<String>, server: impl Into<ServerConfig>) -> McpSourceBuilder {
        McpSourceBuilder {
            name: crate::error::hide(name.into()),
            server: server.into(),
            tools: ToolOptions::default(),
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            features: ClientFeatures::default(),
        }
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The shared state, for the requests of sibling modules (prompts, resources).
    pub(crate) fn shared(&self) -> &SourceInner {
        &self.inner
    }

    /// Connects: starts the process or opens the HTTP session, runs the handshake and loads
    /// the tool list, all within the connect timeout. Does nothing when already connected;
    /// after [`close`](Self::close) it opens a new session.
    pub async fn connect(&self) -> Result<(), McpError> {
        let mut state = self.inner.state.lock().await;
        if matches!(&*state, State::Open(conn) if !conn.is_lost()) {
            return Ok(());
        }
        if let State::Open(old) = std::mem::replace(&mut *state, State::Never) {
            old.shutdown(&self.inner.name).await;
        }
        let conn = self.inner.open_conn().await?;
        *state = State::Open(conn);
        Ok(())
    }

    /// Closes the session (HTTP: `DELETE` when terminate-on-close; stdio: the child process and
    /// its process group), cancels and awaits the background reload. Idempotent.
    pub async fn close(&self) {
        let mut state = self.inner.state.lock().await;
        if let State::Open(conn) = std::mem::replace(&mut *state, State::Closed) {
            conn.shutdown(&self.inner.name).await;
            tracing::debug!(server = %self.inner.name, "MCP source closed");
        }
        self.inner.set_tools(Vec::new());
    }

    /// Whether a session is open (it may still turn out lost at the next call).
    pub async fn is_connected(&self) -> bool {
        matches!(&*self.inner.state.lock().await, State::Open(conn) if !conn.is_lost())
    }

    /// The HTTP session id of the current connection, when the server gave one.
    pub async fn session_id(&self) -> Option<String> {
        match &*self.inner.state.lock().await {
            State::Open(conn) => conn.session_id.lock().ok().and_then(|id| id.clone()),
            _ => None,
        }
    }

    /// The process id of the stdio child (the leader of its process group).
    pub async fn child_pid(&self) -> Option<u32> {
        match &*self.inner.state.lock().await {
            State::Open(conn) => conn.child_pid,
            _ => None,
        }
    }

    /// How many times the tool list was reloaded after a list-changed notification.
    pub fn tool_reloads(&self) -> u64 {
        self.inner.reloads.load(Ordering::Relaxed)
    }

    /// Events from the server: progress, log messages, tool reloads, reconnects.
    pub fn subscribe(&self) -> broadcast::Receiver<McpEvent> {
        self.inner.events.subscribe()
    }

    /// Calls a tool by the server's name (no prefix, allow-list not applied). An `isError`
    /// result is an error of kind [`McpErrorKind::ToolFailed`] carrying the tool's text.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<ToolOutput, McpError> {
        let arguments = match arguments {
            Value::Object(map) => map,
            Value::Null => JsonObject::new(),
            other => {
                let message = format!("tool '{name}': the arguments are not a JSON object: {other}");
                return Err(McpError::new(McpErrorKind::Configuration, &*self.inner.name, message));
            }
        };
        self.inner.call_tool(name, arguments).await
    }

    /// Sends a ping and waits for the answer.
    pub async fn ping(&self) -> Result<(), McpError> {
        self.inner
            .request("ping", Call::Method("ping"), |peer, _| async move {
                peer.send_request(rmcp::model::ClientRequest::PingRequest(Default::default()))
                    .await
                    .map(|_| ())
            })
            .await
    }
}

impl ToolSet for McpSource {
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.inner.tools.read().map(|tools| tools.as_ref().clone()).unwrap_or_default()
    }
}

impl SourceInner {
    fn set_tools(&self, tools: Vec<Arc<dyn Tool>>) {
        if let Ok(mut slot) = self.tools.write() {
            *slot = Arc::new(tools);
        }
    }

    fn install(&self, tools: Vec<rmcp::model::Tool>) -> usize {
        let tools = build_tools(tools, &self.tool_options, &self.weak, &self.name);
        let count = tools.len();
        self.set_tools(tools);
        count
    }

    /// Opens a connection: transport, handshake, first tool list, then the actor and reloader.
    async fn open_conn(&self) -> Result<Conn, McpError> {
        let token = CancellationToken::new();
        let tracker = TaskTracker::new();
        let tools_changed = Arc::new(Notify::new());
        let handler = Handler {
            server: self.name.clone(),
            tools_changed: tools_changed.clone(),
            events: self.events.clone(),
            features: self.features.clone(),
        };
        let deadline = tokio::time::Instant::now() + self.connect_timeout;
        let Opened { running, session_id, child_pid, process_group, oversized } =
            open(&self.name, &self.server, handler, self.connect_timeout, &tracker, &token).await?;
        let peer = running.peer().clone();
        let listed = {
            let listing = std::pin::pin!(tokio::time::timeout_at(deadline, peer.list_all_tools()));
            until_oversized(oversized.clone(), listing).await
        };
        let listed = match listed {
            Some(listed) => listed,
            None => {
                close_running(running, &self.name, process_group).await;
                token.cancel();
                return Err(McpError::message_too_large(&self.name, "tools/list", LINE_LIMIT, STDIO_DETAIL));
            }
        };
        let tools = match listed {
            Ok(Ok(tools)) => tools,
            Ok(Err(error)) => {
                close_running(running, &self.name, process_group).await;
                token.cancel();
                return Err(McpError::from_service(&self.name, "tools/list", error));
            }
            Err(_) => {
                close_running(running, &self.name, process_group).await;
                token.cancel();
                return Err(McpError::timeout(&self.name, "tools/list during connect", self.connect_timeout));
            }
        };
        let count = self.install(tools);
        tracing::info!(server = %self.name, tools = count, session_id = ?session_id.lock().ok().and_then(|s| s.clone()), "MCP source connected");
        let lost = Arc::new(AtomicBool::new(false));
        tracker.spawn(actor(running, token.clone(), lost.clone(), self.name.clone(), process_group));
        tracker.spawn(reloader(
            self.weak.clone(),
            peer.clone(),
            tools_changed,
            token.clone(),
            self.request_timeout,
        ));
        Ok(Conn {
            peer,
            _guard: token.clone().drop_guard(),
            token,
            tracker,
            lost,
            oversized,
            session_id,
            child_pid,
        })
    }

    /// The peer of a live connection; a lost one is replaced once, here, before the request.
    async fn peer(&self) -> Result<Handle, McpError> {
        let mut state = self.state.lock().await;
        match &*state {
            State::Never => return Err(McpError::closed(&self.name, "not connected (call connect first)")),
            State::Closed => return Err(McpError::closed(&self.name, "the source is closed")),
            State::Open(conn) if !conn.is_lost() => return Ok(conn.handle()),
            State::Open(_) | State::Lost => {}
        }
        tracing::warn!(server = %self.name, "MCP connection lost; reconnecting once");
        if let State::Open(old) = std::mem::replace(&mut *state, State::Never) {
            Box::pin(old.shutdown(&self.name)).await;
        }
        // Boxed: opening a connection (spawn, handshake, tools/list) is a future of several KB
        // that every request's future would otherwise carry, and move, for a rare reconnect.
        match Box::pin(self.open_conn()).await {
            Ok(conn) => {
                let handle = conn.handle();
                *state = State::Open(conn);
                tracing::info!(server = %self.name, "MCP connection re-established");
                let _ = self.events.send(McpEvent::Reconnected { server: self.name.to_string() });
                Ok(handle)
            }
            Err(error) => {
                tracing::warn!(server = %self.name, %error, "MCP reconnect failed");
                *state = State::Lost;
                Err(error)
            }
        }
    }

    /// Runs one request with the request deadline in its client span (see [`telemetry`]);
    /// marks the connection lost when it broke. `send` gets the `_meta` that carries the
    /// span's trace context (`None` without export).
    pub(crate) async fn request<T, F, Fut>(&self, what: &str, call: Call<'_>, send: F) -> Result<T, McpError>
    where
        F: FnOnce(Peer<RoleClient>, Option<RequestMetaObject>) -> Fut,
        Fut: std::future::Future<Output = Result<T, rmcp::ServiceError>>,
    {
        let span = telemetry::client_span(call, &self.server);
        let started = std::time::Instant::now();
        let result = self.request_in(&span, what, send).await;
        let error = result.as_ref().err().map(|error| telemetry::error_type(error.kind()));
        telemetry::record_duration(call, &self.server, started.elapsed(), error);
        result
    }

    /// [`SourceInner::request`] in a span made by the caller.
    async fn request_in<T, F, Fut>(&self, span: &tracing::Span, what: &str, send: F) -> Result<T, McpError>
    where
        F: FnOnce(Peer<RoleClient>, Option<RequestMetaObject>) -> Fut,
        Fut: std::future::Future<Output = Result<T, rmcp::ServiceError>>,
    {
        let result = self.request_unspanned(span, what, send).instrument(span.clone()).await;
        if let Err(error) = &result {
            telemetry::record_error(span, telemetry::error_type(error.kind()));
        }
        result
    }

    async fn request_unspanned<T, F, Fut>(
        &self,
        span: &tracing::Span,
        what: &str,
        send: F,
    ) -> Result<T, McpError>
    where
        F: FnOnce(Peer<RoleClient>, Option<RequestMetaObject>) -> Fut,
        Fut: std::future::Future<Output = Result<T, rmcp::ServiceError>>,
    {
        let Handle { peer, lost, oversized, session_id } = self.peer().await?;
        let session = session_id.lock().ok().and_then(|id| id.clone());
        telemetry::record_session(span, session.as_deref(), &peer);
        let meta = telemetry::request_meta(span);
        let transport_closed = peer.clone();
        let request = std::pin::pin!(tokio::time::timeout(self.request_timeout, send(peer, meta)));
        let outcome = until_oversized(oversized, request).await;
        let Some(outcome) = outcome else {
            return Err(McpError::message_too_large(&self.name, what, LINE_LIMIT, STDIO_DETAIL));
        };
        match outcome {
            Err(_) => Err(McpError::timeout(&self.name, what, self.request_timeout)),
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                let error = McpError::from_service(&self.name, what, error);
                if error.is_connection_lost() || transport_closed.is_transport_closed() {
                    tracing::warn!(server = %self.name, %error, "MCP connection lost");
                    lost.store(true, Ordering::Relaxed);
                }
                Err(error)
            }
        }
    }

    pub(crate) async fn call_tool(&self, name: &str, arguments: JsonObject) -> Result<ToolOutput, McpError> {
        let mut params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        let what = format!("tool '{name}'");
        let span = telemetry::client_span(Call::Tool(name), &self.server);
        let started = std::time::Instant::now();
        let result = self
            .request_in(&span, &what, |peer, meta| async move {
                params.meta = meta;
                // Boxed: rmcp's call future is ~5 KB; inline, it is copied with every future
                // that wraps it (one allocation is cheaper than those copies).
                Box::pin(peer.call_tool(params)).await
            })
            .await
            .and_then(|result| {
                map_result(result).map_err(|text| {
                    telemetry::record_error(&span, telemetry::error_type(McpErrorKind::ToolFailed));
                    McpError::new(McpErrorKind::ToolFailed, &*self.name, text)
                })
            });
        let error = result.as_ref().err().map(|error| telemetry::error_type(error.kind()));
        telemetry::record_duration(Call::Tool(name), &self.server, started.elapsed(), error);
        result
    }
}

/// What [`McpError::message_too_large`] adds on stdio, where the lost line's request is unknown.
const STDIO_DETAIL: &str = " (on stdio every request waiting when such a line arrives ends with this error)";

/// What a request needs of its connection.
struct Handle {
    peer: Peer<RoleClient>,
    lost: Arc<AtomicBool>,
    oversized: Option<OversizedLines>,
    session_id: Arc<Mutex<Option<String>>>,
}

impl Conn {
    fn handle(&self) -> Handle {
        Handle {
            peer: self.peer.clone(),
            lost: self.lost.clone(),
            oversized: self.oversized.clone(),
            session_id: self.session_id.clone(),
        }
    }
}

/// Runs `future`; `None` when the connection's stdout carries a line over the size limit before
/// it ends (only lines that start arriving from now on count).
///
/// Takes the future pinned by the caller: an async fn keeps its arguments apart from the state
/// they are moved into, so a future passed by value would be stored twice (the tool call's
/// request, ~5 KB, made every call's future ~11 KB, copied on every move).
async fn until_oversized<F: std::future::Future + ?Sized>(
    oversized: Option<OversizedLines>,
    future: Pin<&mut F>,
) -> Option<F::Output> {
    let Some(mut lines) = oversized else { return Some(future.await) };
    lines.mark_unchanged();
    tokio::select! {
        output = future => Some(output),
        Ok(()) = lines.changed() => None,
    }
}

/// Owns the running service: waits for the connection's token, then closes the session (and
/// the child's process group) inside the runtime. Also notices a dead transport early.
async fn actor(
    running: RunningService<RoleClient, Handler>,
    token: CancellationToken,
    lost: Arc<AtomicBool>,
    server: Arc<str>,
    process_group: Option<u32>,
) {
    let mut check = tokio::time::interval(Duration::from_millis(500));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = check.tick() => {
                if running.peer().is_transport_closed() && !lost.swap(true, Ordering::Relaxed) {
                    tracing::warn!(server = %server, "MCP transport closed by the server side");
                }
            }
        }
    }
    close_running(running, &server, process_group).await;
}

/// Closes rmcp's service with a deadline, then ends what is left of the child's process group.
async fn close_running(
    mut running: RunningService<RoleClient, Handler>,
    server: &str,
    process_group: Option<u32>,
) {
    match tokio::time::timeout(CLOSE_TIMEOUT, running.close()).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => tracing::warn!(server, %error, "MCP session task failed while closing"),
        Err(_) => tracing::warn!(server, "MCP session did not close within {CLOSE_TIMEOUT:?}"),
    }
    drop(running);
    if let Some(group) = process_group {
        crate::connect::kill_group(group);
    }
}

/// Reloads the tool list after list-changed signals: one reload at a time, a burst of signals
/// during a reload collapses into one more. Cancelled with the connection.
async fn reloader(
    source: Weak<SourceInner>,
    peer: Peer<RoleClient>,
    signal: Arc<Notify>,
    token: CancellationToken,
    timeout: Duration,
) {
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = signal.notified() => {}
        }
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(RELOAD_SETTLE) => {}
        }
        let listed = tokio::select! {
            _ = token.cancelled() => return,
            listed = tokio::time::timeout(timeout, peer.list_all_tools()) => listed,
        };
        let Some(inner) = source.upgrade() else { return };
        inner.reloads.fetch_add(1, Ordering::Relaxed);
        match listed {
            Ok(Ok(tools)) => {
                let count = inner.install(tools);
                tracing::info!(server = %inner.name, tools = count, "MCP tool list reloaded");
                let _ = inner.events.send(McpEvent::ToolsReloaded { server: inner.name.to_string(), count });
            }
            Ok(Err(error)) => tracing::warn!(server = %inner.name, %error, "MCP tool list reload failed"),
            Err(_) => tracing::warn!(server = %inner.name, "MCP tool list reload timed out"),
        }
    }
}
