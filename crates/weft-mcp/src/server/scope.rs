//! One tool call as the server sees it: the client to talk back to (progress, logs,
//! elicitation, sampling) and the call's cancellation.

#![allow(deprecated)] // logging and sampling are deprecated in protocol 2026-07-28; we serve 2025-11-25

use std::sync::{Arc, Mutex};

use rmcp::model::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, LoggingLevel,
    LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
};
use rmcp::service::{Peer, RoleServer, ServiceError};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// The per-connection state a tool call can see.
#[derive(Debug, Default)]
pub(crate) struct ConnectionState {
    /// The lowest level the client wants logs at (`logging/setLevel`); all when unset.
    pub(crate) log_level: Mutex<Option<LoggingLevel>>,
}

/// The scope of one `tools/call`: send progress and logs to the client, ask it (elicitation,
/// sampling), and see whether the client cancelled the call.
#[derive(Clone)]
pub struct RequestScope {
    pub(crate) peer: Peer<RoleServer>,
    pub(crate) progress_token: Option<ProgressToken>,
    pub(crate) cancelled: CancellationToken,
    pub(crate) connection: Arc<ConnectionState>,
}

impl std::fmt::Debug for RequestScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestScope")
            .field("progress_token", &self.progress_token)
            .field("cancelled", &self.cancelled.is_cancelled())
            .finish()
    }
}

fn rank(level: &LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

impl RequestScope {
    /// Whether the client gave a progress token (so progress reaches it).
    pub fn wants_progress(&self) -> bool {
        self.progress_token.is_some()
    }

    /// Sends a progress notification, when the client asked for progress. A client that went
    /// away is not an error here: the call's cancellation tells the tool to stop.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        let Some(token) = self.progress_token.clone() else { return };
        let mut param = ProgressNotificationParam::new(token, progress);
        param.total = total;
        param.message = message;
        if let Err(error) = self.peer.notify_progress(param).await {
            tracing::debug!(%error, "progress notification not sent");
        }
    }

    /// Sends a log message at `level`, unless the client asked for a higher level.
    pub async fn log(&self, level: LoggingLevel, data: Value) {
        let wanted = self.connection.log_level.lock().map(|l| *l).unwrap_or(None);
        if wanted.is_some_and(|min| rank(&level) < rank(&min)) {
            return;
        }
        let mut param = LoggingMessageNotificationParam::new(level, data);
        param.logger = Some("weft".into());
        if let Err(error) = self.peer.notify_logging_message(param).await {
            tracing::debug!(%error, "log notification not sent");
        }
    }

    /// Whether the client declared the elicitation capability.
    pub fn supports_elicitation(&self) -> bool {
        self.peer.peer_info().is_some_and(|info| info.capabilities.elicitation.is_some())
    }

    /// Whether the client declared the sampling capability.
    pub fn supports_sampling(&self) -> bool {
        self.peer.peer_info().is_some_and(|info| info.capabilities.sampling.is_some())
    }

    /// Asks the client's user (`elicitation/create`). Ends early, with
    /// [`ServiceError::Cancelled`], when the call is cancelled.
    pub async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, ServiceError> {
        tokio::select! {
            result = self.peer.create_elicitation(params) => result,
            () = self.cancelled.cancelled() => Err(ServiceError::Cancelled { reason: Some("tool call cancelled".into()) }),
        }
    }

    /// Asks the client's model (`sampling/createMessage`). Ends early, with
    /// [`ServiceError::Cancelled`], when the call is cancelled.
    pub async fn sample(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, ServiceError> {
        tokio::select! {
            result = self.peer.create_message(params) => result,
            () = self.cancelled.cancelled() => Err(ServiceError::Cancelled { reason: Some("tool call cancelled".into()) }),
        }
    }

    /// Cancelled when the client cancels the call (or the connection closes).
    pub fn cancellation(&self) -> CancellationToken {
        self.cancelled.clone()
    }
}
