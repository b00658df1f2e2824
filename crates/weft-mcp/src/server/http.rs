//! The streamable HTTP transport: rmcp's `StreamableHttpService` with Weft's defaults —
//! DNS-rebinding protection (`Host` and `Origin` must be loopback unless allowed), a bounded
//! body, one MCP session per client session.

use std::sync::Arc;
use std::time::Duration;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::{McpServer, McpServerHandler};

/// The default limit on a request body: 4 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Options of the streamable HTTP transport.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    allowed_hosts: Vec<String>,
    any_host: bool,
    allowed_origins: Vec<String>,
    max_body_bytes: usize,
    cancellation: CancellationToken,
    keep_alive: Option<Duration>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            allowed_hosts: ["localhost", "127.0.0.1", "::1", "[::1]"].map(String::from).to_vec(),
            any_host: false,
            allowed_origins: ["http", "https"]
                .iter()
                .flat_map(|scheme| {
                    ["localhost", "127.0.0.1", "[::1]"].map(|host| format!("{scheme}://{host}:*"))
                })
                .collect(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            cancellation: CancellationToken::new(),
            keep_alive: Some(Duration::from_secs(15)),
        }
    }
}

impl HttpOptions {
    /// Also accepts requests whose `Host` is `host` (a name, or `name:port`). Only loopback
    /// names are accepted by default, against DNS rebinding.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_hosts.push(host.into());
        self
    }

    /// Accepts any `Host` (for a server behind a proxy that checks it). Not recommended.
    pub fn any_host(mut self) -> Self {
        self.any_host = true;
        self
    }

    /// Also accepts browser requests from `origin` (`scheme://host:port`, `:*` for any port).
    /// Requests without `Origin` (non-browser clients) are always accepted; by default only
    /// loopback origins are, and any other is refused with 403.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }

    /// The largest request body accepted (413 above it); 4 MiB by default.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Cancelling `token` ends every session and its runs (graceful shutdown).
    pub fn cancellation(mut self, token: CancellationToken) -> Self {
        self.cancellation = token;
        self
    }

    /// How often idle event streams get a keep-alive comment (`None`: never).
    pub fn keep_alive(mut self, every: Option<Duration>) -> Self {
        self.keep_alive = every;
        self
    }

    fn config(&self) -> StreamableHttpServerConfig {
        let config = StreamableHttpServerConfig::default()
            .with_allowed_origins(self.allowed_origins.clone())
            .enforce_origin_validation()
            .with_max_request_body_bytes(self.max_body_bytes)
            .with_cancellation_token(self.cancellation.clone())
            .with_sse_keep_alive(self.keep_alive);
        if self.any_host {
            config.disable_allowed_hosts()
        } else {
            config.with_allowed_hosts(self.allowed_hosts.clone())
        }
    }
}

pub(crate) fn service(
    server: McpServer,
    options: HttpOptions,
) -> StreamableHttpService<McpServerHandler, LocalSessionManager> {
    StreamableHttpService::new(
        move || Ok(server.handler()),
        Arc::new(LocalSessionManager::default()),
        options.config(),
    )
}
