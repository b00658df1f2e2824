//! Opening a connection: spawning the stdio child (as a process-group leader, its stderr into
//! `tracing`) or building the HTTP transport, then the `initialize` handshake under a deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use process_wrap::tokio::{CommandWrap, ProcessGroup};
use rmcp::ServiceExt;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransportConfig, StreamableHttpClientWorker,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{HttpServer, ServerConfig, StdioServer};
use crate::error::{McpError, McpErrorKind, UnreachableCause, describe_chain};
use crate::handler::Handler;
use crate::http::{Drainer, SessionClient, own_client};
use crate::stderr_tail::StderrTail;
use crate::stdio::{ChildTransport, OversizedLines, Spawned};
use rmcp::service::RoleClient;

/// How many requests to one HTTP server may be in flight at once (rmcp's default is 16).
const MAX_REQUESTS_IN_FLIGHT: usize = 64;

/// How long stderr is still read after the connection is closed.
const STDERR_GRACE: Duration = Duration::from_millis(500);

/// A freshly initialized session.
pub(crate) struct Opened {
    pub(crate) running: RunningService<RoleClient, Handler>,
    pub(crate) session_id: Arc<Mutex<Option<String>>>,
    pub(crate) child_pid: Option<u32>,
    pub(crate) process_group: Option<u32>,
    /// Stdio: counts the lines over the size limit that the server sent.
    pub(crate) oversized: Option<OversizedLines>,
}

pub(crate) async fn open(
    server: &Arc<str>,
    config: &ServerConfig,
    handler: Handler,
    connect_timeout: Duration,
    tracker: &TaskTracker,
    token: &CancellationToken,
) -> Result<Opened, McpError> {
    match config {
        ServerConfig::Stdio(stdio) => {
            open_stdio(server, stdio, handler, connect_timeout, tracker, token).await
        }
        ServerConfig::Http(http) => {
            let opened = open_http(server, http, handler, connect_timeout, tracker, token).await;
            if opened.is_err() {
                // Ends the connection's helper tasks (response bodies being drained).
                token.cancel();
            }
            opened
        }
    }
}

async fn open_stdio(
    server: &Arc<str>,
    config: &StdioServer,
    handler: Handler,
    connect_timeout: Duration,
    tracker: &TaskTracker,
    token: &CancellationToken,
) -> Result<Opened, McpError> {
    let mut command = tokio::process::Command::new(&config.command);
    command.args(&config.args);
    if config.env_clear {
        command.env_clear();
    }
    command.envs(config.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &config.cwd {
        command.current_dir(dir);
    }
    let mut wrapped = CommandWrap::from(command);
    wrapped.wrap(ProcessGroup::leader());
    let Spawned { transport, stderr, pid: child_pid, oversized } =
        ChildTransport::spawn(wrapped, server.clone()).map_err(|error| {
            let message = format!("{}: {}: {error}", UnreachableCause::SpawnFailed, config.command.display());
            McpError::new(McpErrorKind::Unreachable(UnreachableCause::SpawnFailed), &**server, message)
                .with_source(error)
        })?;
    let tail = Arc::new(Mutex::new(StderrTail::default()));
    if let Some(stderr) = stderr {
        tracker.spawn(read_stderr(stderr, server.clone(), tail.clone(), token.clone()));
    }
    let outcome = tokio::time::timeout(connect_timeout, handler.serve(transport)).await;
    let error = match outcome {
        Ok(Ok(running)) => {
            return Ok(Opened {
                running,
                session_id: Arc::new(Mutex::new(None)),
                child_pid,
                process_group: child_pid,
                oversized: Some(oversized),
            });
        }
        Ok(Err(error)) => Some(error),
        Err(_) => None,
    };
    // The transport (and its child) was dropped with the handshake: make sure the whole
    // process group is gone, and give stderr a moment to deliver the server's last words.
    if let Some(group) = child_pid {
        kill_group(group);
    }
    tracker.close();
    let _ = tokio::time::timeout(STDERR_GRACE, tracker.wait()).await;
    token.cancel();
    let stderr_tail = tail.lock().map(|tail| tail.summary()).unwrap_or_default();
    Err(match error {
        Some(error) => McpError::from_initialize(server, error, true, false, &stderr_tail),
        None => {
            let mut message = format!("no answer to initialize within {connect_timeout:?}");
            if !stderr_tail.is_empty() {
                message.push_str("; stderr: ");
                message.push_str(&stderr_tail);
            }
            McpError::new(McpErrorKind::Unreachable(UnreachableCause::Timeout), &**server, message)
        }
    })
}

async fn open_http(
    server: &Arc<str>,
    config: &HttpServer,
    handler: Handler,
    connect_timeout: Duration,
    tracker: &TaskTracker,
    token: &CancellationToken,
) -> Result<Opened, McpError> {
    let configuration = |message: String| McpError::new(McpErrorKind::Configuration, &**server, message);
    let client = match &config.client {
        Some(client) => client.clone(),
        None => own_client(config, connect_timeout)
            .map_err(|e| configuration(format!("could not build the HTTP client: {}", describe_chain(&e))))?,
    };
    let mut headers = HashMap::new();
    for (name, value) in &config.headers {
        let name = http::HeaderName::try_from(name.as_str())
            .map_err(|e| configuration(format!("invalid header name '{name}': {e}")))?;
        let value = http::HeaderValue::try_from(value.as_str())
            .map_err(|e| configuration(format!("invalid value for header '{name}': {e}")))?;
        headers.insert(name, value);
    }
    // A `tools/call` POST answered with an SSE stream is held until its answer arrives
    // (`tool_answer`), so it counts against rmcp's bound on POSTs in flight for the whole call,
    // not only until the stream opens: the bound is raised from rmcp's 16 so that a turn's
    // parallel calls to one server still all run at once.
    let mut transport_config = StreamableHttpClientTransportConfig::with_uri(config.url.as_str())
        .custom_headers(headers)
        .max_concurrent_requests(MAX_REQUESTS_IN_FLIGHT);
    if let Some(token) = &config.bearer {
        transport_config = transport_config.auth_header(token.clone());
    }
    let session_id = Arc::new(Mutex::new(None));
    // Cancelled when rmcp's transport is dropped (its drop guard): a POST still waiting then
    // ends at once, also the `initialize` POST, which rmcp 3.9 does not race with its token.
    let transport_token = CancellationToken::new();
    let client = SessionClient {
        transport_token: transport_token.clone(),
        inner: client,
        session_id: session_id.clone(),
        terminate_on_close: config.terminate_on_close,
        server: server.clone(),
        events: handler.events.clone(),
        tools_changed: handler.tools_changed.clone(),
        drainer: Drainer { tracker: tracker.clone(), token: token.clone() },
    };
    let transport = StreamableHttpClientTransport::spawn_with_ct(
        StreamableHttpClientWorker::new(client, transport_config),
        transport_token,
    );
    match tokio::time::timeout(connect_timeout, handler.serve(transport)).await {
        Ok(Ok(running)) => {
            Ok(Opened { running, session_id, child_pid: None, process_group: None, oversized: None })
        }
        Ok(Err(error)) => {
            let https = config.url.starts_with("https:");
            Err(McpError::from_initialize(server, error, false, https, ""))
        }
        Err(_) => Err(McpError::new(
            McpErrorKind::Unreachable(UnreachableCause::Timeout),
            &**server,
            format!("{}: no answer to initialize within {connect_timeout:?}", config.url),
        )),
    }
}

/// Logs the child's stderr lines (target `weft_mcp::stderr`) and keeps the last ones.
async fn read_stderr(
    stderr: tokio::process::ChildStderr,
    server: Arc<str>,
    tail: Arc<Mutex<StderrTail>>,
    token: CancellationToken,
) {
    let mut lines = BufReader::new(stderr).lines();
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let next = match deadline {
            None => tokio::select! {
                line = lines.next_line() => line,
                _ = token.cancelled() => {
                    deadline = Some(tokio::time::Instant::now() + STDERR_GRACE);
                    continue;
                }
            },
            Some(at) => match tokio::time::timeout_at(at, lines.next_line()).await {
                Ok(line) => line,
                Err(_) => return,
            },
        };
        match next {
            Ok(Some(line)) => {
                tracing::info!(target: "weft_mcp::stderr", server = %server, "{line}");
                if let Ok(mut tail) = tail.lock() {
                    tail.push(&line);
                }
            }
            Ok(None) | Err(_) => return,
        }
    }
}

/// Ends whatever is left of a child's process group (grandchildren of `npx`, `sh -c`).
pub(crate) fn kill_group(group: u32) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        if let Ok(raw) = i32::try_from(group) {
            match killpg(Pid::from_raw(raw), Signal::SIGKILL) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(error) => tracing::debug!(group, %error, "could not signal the process group"),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = group;
}
