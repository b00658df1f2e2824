//! [`McpSourceBuilder`]: what an [`McpSource`] connects to and how.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::broadcast;
use weft_core::ApprovalMode;

use super::{McpSource, SourceInner, State};
use crate::config::ServerConfig;
use crate::elicitation::ElicitationHandler;
use crate::error::McpError;
use crate::handler::ClientFeatures;
use crate::tool::ToolOptions;

/// Builds an [`McpSource`]; see [`McpSource::builder`].
#[derive(Debug)]
pub struct McpSourceBuilder {
    pub(super) name: String,
    pub(super) server: ServerConfig,
    pub(super) tools: ToolOptions,
    pub(super) connect_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) features: ClientFeatures,
}

impl McpSourceBuilder {
    /// Answers the server's `elicitation/create` requests (form mode) with this handler, and
    /// announces the capability. See [`crate::elicitation_channel`] for a human-in-the-loop
    /// handler.
    pub fn elicitation_handler(mut self, handler: impl ElicitationHandler) -> Self {
        self.features.elicitation = Some(Arc::new(handler));
        self
    }

    /// Answers the server's `sampling/createMessage` requests with this model, and announces
    /// the capability.
    pub fn sampling_client(mut self, client: Arc<dyn weft_core::ChatClient>) -> Self {
        self.features.sampling = Some(client);
        self
    }

    /// Offers only these tools (by the server's names). Default: all.
    pub fn allow_tools<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tools.allow = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Prefixes every tool name the model sees (e.g. `"github_"`), to keep servers apart.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.tools.prefix = prefix.into();
        self
    }

    /// Sets the approval mode of one tool (by the server's name).
    pub fn approval(mut self, tool: impl Into<String>, mode: ApprovalMode) -> Self {
        self.tools.approvals.insert(tool.into(), mode);
        self
    }

    /// Sets the approval mode of the tools without their own (default: never ask).
    pub fn default_approval(mut self, mode: ApprovalMode) -> Self {
        self.tools.default_approval = mode;
        self
    }

    /// Deadline for connecting: spawn or TCP connect, plus the `initialize` handshake and the
    /// first tool list (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Deadline for each request, tool calls included (default 60 s). A request past it is
    /// cancelled on the server (`notifications/cancelled`) and fails with a timeout error.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The source, not yet connected.
    pub fn build(self) -> McpSource {
        let (events, _) = broadcast::channel(256);
        let server: Arc<str> = self.name.into();
        let inner = Arc::new_cyclic(|weak| SourceInner {
            name: server,
            server: self.server,
            tool_options: self.tools,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            features: self.features,
            state: tokio::sync::Mutex::new(State::Never),
            tools: RwLock::new(Arc::new(Vec::new())),
            reloads: AtomicU64::new(0),
            events,
            weak: weak.clone(),
        });
        McpSource { inner }
    }

    /// Builds the source and connects it.
    pub async fn connect(self) -> Result<McpSource, McpError> {
        let source = self.build();
        source.connect().await?;
        Ok(source)
    }
}
