//! The client side of the session: what rmcp calls when the server sends a notification or a
//! request. rmcp runs each notification handler as its own detached task, so every handler here
//! only signals or logs; the work (reloading the tool list) is done by the source's own tracked
//! reloader task.

use std::sync::Arc;

use rmcp::ClientHandler;
use rmcp::model::{
    ClientCapabilities, ClientConfig, Implementation, ProgressNotificationParam, ProtocolVersion,
};
#[allow(deprecated)] // Logging is deprecated from protocol 2026-07-28 on; we speak 2025-11-25.
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::{NotificationContext, RoleClient};
use serde_json::Value;
use tokio::sync::{Notify, broadcast};

/// Something the server told the source, for callers that subscribe
/// ([`McpSource::subscribe`](crate::McpSource::subscribe)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum McpEvent {
    /// Progress of a running request.
    Progress {
        /// The server's name.
        server: String,
        /// The progress token of the request (rmcp gives every request one).
        token: String,
        /// Progress so far.
        progress: f64,
        /// The total, when known.
        total: Option<f64>,
        /// A message, when given.
        message: Option<String>,
    },
    /// A log message from the server (also written to `tracing`, target `weft_mcp::server`).
    Log {
        /// The server's name.
        server: String,
        /// The MCP level (`debug`, `info`, … `emergency`).
        level: String,
        /// The server's logger name.
        logger: Option<String>,
        /// The logged data.
        data: Value,
    },
    /// The tool list was reloaded after a `tools/list_changed` notification.
    ToolsReloaded {
        /// The server's name.
        server: String,
        /// How many tools are offered now (after the allow-list).
        count: usize,
    },
    /// A lost connection was replaced by a new one.
    Reconnected {
        /// The server's name.
        server: String,
    },
}

/// Per-connection client handler.
pub(crate) struct Handler {
    pub(crate) server: Arc<str>,
    pub(crate) tools_changed: Arc<Notify>,
    pub(crate) events: broadcast::Sender<McpEvent>,
}

/// The protocol version announced: rmcp 3.9 announces 2026-07-28 by default, which servers and
/// the conformance suite of today do not speak; 2025-11-25 is the newest with `initialize`.
pub(crate) const PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion::V_2025_11_25;

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("weft-mcp", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(PROTOCOL_VERSION)
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        tracing::debug!(server = %self.server, "tools/list_changed");
        self.tools_changed.notify_one();
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        // Prompts are not cached: the next prompts/list sees the change.
        tracing::debug!(server = %self.server, "prompts/list_changed");
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let token = match serde_json::to_value(&params.progress_token) {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(_) => String::new(),
        };
        tracing::debug!(server = %self.server, %token, progress = params.progress, total = ?params.total, "progress");
        let _ = self.events.send(McpEvent::Progress {
            server: self.server.to_string(),
            token,
            progress: params.progress,
            total: params.total,
            message: params.message,
        });
    }

    #[allow(deprecated)] // see the import: logging is part of protocol 2025-11-25.
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let server = &*self.server;
        let logger = params.logger.as_deref().unwrap_or("");
        let data = &params.data;
        match params.level {
            LoggingLevel::Debug => tracing::debug!(target: "weft_mcp::server", server, logger, %data),
            LoggingLevel::Info | LoggingLevel::Notice => {
                tracing::info!(target: "weft_mcp::server", server, logger, %data)
            }
            LoggingLevel::Warning => tracing::warn!(target: "weft_mcp::server", server, logger, %data),
            _ => tracing::error!(target: "weft_mcp::server", server, logger, %data),
        }
        let level = serde_json::to_value(params.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = self.events.send(McpEvent::Log {
            server: server.to_owned(),
            level,
            logger: params.logger,
            data: params.data,
        });
    }
}
