//! The client side of the session: what rmcp calls when the server sends a notification or a
//! request. rmcp runs each notification handler as its own detached task, so every handler here
//! only signals or logs; the work (reloading the tool list) is done by the source's own tracked
//! reloader task.

use std::sync::Arc;

use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
    ElicitationCapability, FormElicitationCapability, Implementation, ProgressNotificationParam,
    ProtocolVersion,
};
#[allow(deprecated)] // Sampling is deprecated from protocol 2026-07-28 on; we speak 2025-11-25.
use rmcp::model::{CreateMessageRequestParams, CreateMessageResult, SamplingCapability};
#[allow(deprecated)] // Logging is deprecated from protocol 2026-07-28 on; we speak 2025-11-25.
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::RequestContext;
use rmcp::service::{NotificationContext, RoleClient};
use rmcp::{ClientHandler, ErrorData};
use serde_json::Value;
use tokio::sync::{Notify, broadcast};
use weft_core::ChatClient;

use crate::elicitation::{ElicitationHandler, ElicitationRequest, ElicitationResponse, fill_defaults};

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

/// What the client offers servers besides receiving notifications: answering elicitations
/// and sampling requests. A capability is announced only when its handler is set.
#[derive(Clone, Default)]
pub(crate) struct ClientFeatures {
    pub(crate) elicitation: Option<Arc<dyn ElicitationHandler>>,
    pub(crate) sampling: Option<Arc<dyn ChatClient>>,
}

impl std::fmt::Debug for ClientFeatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientFeatures")
            .field("elicitation", &self.elicitation.is_some())
            .field("sampling", &self.sampling.as_ref().map(|client| client.info().provider))
            .finish()
    }
}

/// Per-connection client handler.
pub(crate) struct Handler {
    pub(crate) server: Arc<str>,
    pub(crate) tools_changed: Arc<Notify>,
    pub(crate) events: broadcast::Sender<McpEvent>,
    pub(crate) features: ClientFeatures,
}

/// The protocol version announced: rmcp 3.9 announces 2026-07-28 by default, which servers and
/// the conformance suite of today do not speak; 2025-11-25 is the newest with `initialize`.
pub(crate) const PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion::V_2025_11_25;

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        if self.features.elicitation.is_some() {
            // Form mode only: URL mode (sending the user to a web page) is not offered.
            capabilities.elicitation =
                Some(ElicitationCapability::new().with_form(FormElicitationCapability::new()));
        }
        if self.features.sampling.is_some() {
            #[allow(deprecated)]
            {
                capabilities.sampling = Some(SamplingCapability::default());
            }
        }
        ClientConfig::new(capabilities, Implementation::new("weft-mcp", env!("CARGO_PKG_VERSION")))
            .with_protocol_version(PROTOCOL_VERSION)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let Some(handler) = self.features.elicitation.clone() else {
            return Err(ErrorData::method_not_found::<rmcp::model::ElicitationCreateRequestMethod>());
        };
        let (message, schema) = match request {
            ElicitRequestParams::FormElicitationParams { message, requested_schema, .. } => {
                (message, requested_schema)
            }
            _ => {
                tracing::info!(server = %self.server, "declining a URL-mode elicitation (not supported)");
                return Ok(ElicitResult::new(ElicitationAction::Decline));
            }
        };
        tracing::debug!(server = %self.server, %message, "elicitation/create");
        let request = ElicitationRequest { server: self.server.to_string(), message, schema };
        let schema = request.schema_json();
        let response = tokio::select! {
            response = handler.elicit(request) => response,
            _ = context.ct.cancelled() => {
                tracing::debug!(server = %self.server, "elicitation cancelled by the server");
                return Err(ErrorData::internal_error("the request was cancelled", None));
            }
        };
        Ok(match response {
            ElicitationResponse::Accept(mut content) => {
                fill_defaults(&mut content, &schema);
                ElicitResult::new(ElicitationAction::Accept).with_content(Value::Object(content))
            }
            ElicitationResponse::Decline => ElicitResult::new(ElicitationAction::Decline),
            ElicitationResponse::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        })
    }

    #[allow(deprecated)] // see the import: sampling is part of protocol 2025-11-25.
    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let Some(client) = self.features.sampling.clone() else {
            return Err(ErrorData::method_not_found::<rmcp::model::CreateMessageRequestMethod>());
        };
        let request = crate::sampling::to_chat_request(params)?;
        tracing::debug!(server = %self.server, messages = request.messages.len(), "sampling/createMessage");
        let response = tokio::select! {
            response = client.get_response(request) => response,
            _ = context.ct.cancelled() => {
                tracing::debug!(server = %self.server, "sampling cancelled by the server");
                return Err(ErrorData::internal_error("the request was cancelled", None));
            }
        };
        match response {
            Ok(response) => Ok(crate::sampling::from_chat_response(response, client.as_ref())),
            Err(error) => {
                tracing::warn!(server = %self.server, %error, "sampling: the model failed");
                Err(ErrorData::internal_error(format!("the model failed: {error}"), None))
            }
        }
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
