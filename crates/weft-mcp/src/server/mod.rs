//! The server side: Weft agents, workflows (as agents) and tools served to MCP clients, over
//! stdio and streamable HTTP, on rmcp's server.
//!
//! ```no_run
//! # async fn demo(agent: std::sync::Arc<dyn weft_core::Agent>) -> Result<(), weft_mcp::server::McpServerError> {
//! use weft_mcp::server::McpServer;
//!
//! let server = McpServer::builder("weather").agent(agent).build();
//! server.serve_stdio().await?; // until the client closes stdin
//! # Ok(()) }
//! ```
//!
//! Every agent is a tool taking `{"prompt": string, "session"?: string}`: it runs the agent,
//! reports progress (each tool call and result) when the client gave a `progressToken`, and
//! returns the answer's text. A tool that needs approval asks the client through elicitation.
//! A client's `notifications/cancelled` drops the run, which cancels the agent's tools.
//! Each connection (each stdio process, each HTTP session) has its own state: agent sessions,
//! logging level and resource subscriptions.

mod agent_tool;
mod handler;
mod http;
mod registry;
mod scope;

use std::sync::Arc;

use rmcp::ServiceExt;
use rmcp::model::{Prompt, Resource, ResourceTemplate};

pub use handler::McpServerHandler;
pub use http::HttpOptions;
pub use registry::{McpToolFn, PromptFn, ResourceFn};
pub use scope::RequestScope;

use registry::{Registry, Served};

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpServerError {
    /// The client did not complete the MCP handshake (it closed the connection, or sent
    /// something else than `initialize` first).
    #[error("MCP client did not initialize: {0}")]
    Initialize(#[source] Box<rmcp::service::ServerInitializeError>),
    /// The server's task ended abnormally (it panicked or was aborted).
    #[error("MCP server task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// A set of Weft agents and tools (plus optional prompts and resources) to serve over MCP.
/// Cheap to clone; each connection gets its own [`McpServerHandler`].
#[derive(Clone)]
pub struct McpServer {
    registry: Arc<Registry>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("name", &self.registry.name)
            .field("tools", &self.tool_names())
            .finish()
    }
}

impl McpServer {
    /// Starts a server named `name` (its `serverInfo.name`).
    pub fn builder(name: impl Into<String>) -> McpServerBuilder {
        McpServerBuilder { registry: Registry::new(name.into()) }
    }

    /// The names of the tools served, in order.
    pub fn tool_names(&self) -> Vec<String> {
        self.registry.tools.iter().map(|t| t.definition().name.to_string()).collect()
    }

    /// A handler for one connection (one MCP session).
    pub fn handler(&self) -> McpServerHandler {
        McpServerHandler::new(self.registry.clone())
    }

    /// Serves one client over this process's stdin and stdout, until the client closes stdin.
    pub async fn serve_stdio(&self) -> Result<(), McpServerError> {
        self.serve_transport(rmcp::transport::io::stdio()).await
    }

    /// Serves one client over any rmcp transport (a pair of async reader and writer, …) until
    /// it closes. Runs still going when it closes are cancelled.
    pub async fn serve_transport<T, E, A>(&self, transport: T) -> Result<(), McpServerError>
    where
        T: rmcp::transport::IntoTransport<rmcp::RoleServer, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let running =
            self.handler().serve(transport).await.map_err(|e| McpServerError::Initialize(Box::new(e)))?;
        running.waiting().await.map_err(McpServerError::Task)?;
        Ok(())
    }

    /// The streamable HTTP transport as a tower service (one MCP session per client
    /// session), to mount at a path such as `/mcp`. See [`HttpOptions`] for its checks.
    pub fn http_service(
        &self,
        options: HttpOptions,
    ) -> rmcp::transport::streamable_http_server::StreamableHttpService<
        McpServerHandler,
        rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
    > {
        http::service(self.clone(), options)
    }

    /// An axum router serving the streamable HTTP transport at `path` (e.g. `/mcp`).
    pub fn router(&self, path: &str, options: HttpOptions) -> axum::Router {
        axum::Router::new().nest_service(path, self.http_service(options))
    }
}

/// Builds an [`McpServer`].
pub struct McpServerBuilder {
    registry: Registry,
}

impl McpServerBuilder {
    /// The server's version (`serverInfo.version`); the crate's version by default.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.registry.version = version.into();
        self
    }

    /// Instructions the client may show its model.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.registry.instructions = Some(instructions.into());
        self
    }

    /// Serves an agent (or a workflow wrapped as an agent) as a tool named after it, taking
    /// `{"prompt": string, "session"?: string}`.
    pub fn agent(mut self, agent: Arc<dyn weft_core::Agent>) -> Self {
        self.registry.add(Served::agent(agent));
        self
    }

    /// Serves a Weft tool as an MCP tool with its JSON schema.
    pub fn tool(mut self, tool: Arc<dyn weft_core::Tool>) -> Self {
        self.registry.add(Served::tool(tool));
        self
    }

    /// Serves a tool written against MCP directly: `handler` gets the arguments and the
    /// request's [`RequestScope`] (progress, logging, elicitation, sampling, cancellation)
    /// and returns MCP content.
    pub fn mcp_tool(mut self, definition: rmcp::model::Tool, handler: McpToolFn) -> Self {
        self.registry.add(Served::Mcp { definition, handler });
        self
    }

    /// Serves a prompt; `get` gets the arguments and returns the messages.
    pub fn prompt(mut self, prompt: Prompt, get: PromptFn) -> Self {
        self.registry.prompts.push((prompt, get));
        self
    }

    /// Serves a resource; `read` returns its contents.
    pub fn resource(mut self, resource: Resource, read: ResourceFn) -> Self {
        self.registry.resources.push((resource, read));
        self
    }

    /// Serves a resource template (`scheme://path/{var}/…`); `read` gets the requested URI
    /// and the template's variables.
    pub fn resource_template(mut self, template: ResourceTemplate, read: registry::TemplateFn) -> Self {
        self.registry.templates.push((template, read));
        self
    }

    /// The server.
    pub fn build(self) -> McpServer {
        McpServer { registry: Arc::new(self.registry) }
    }
}
