//! # weft-mcp
//!
//! MCP servers as Weft tool sources, on [`rmcp`], the official Rust MCP SDK.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use weft_core::{AgentSession, ChatAgent, ScriptedClient};
//! use weft_mcp::{McpSource, StdioServer};
//!
//! let source = McpSource::builder("everything", StdioServer::new("npx").args(["-y", "@modelcontextprotocol/server-everything"]))
//!     .allow_tools(["echo", "get-sum"])
//!     .connect()
//!     .await?;
//! let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).tool_set(Arc::new(source.clone())).build();
//! let answer = agent.run(&mut AgentSession::new(), "echo hello").await?;
//! println!("{}", answer.text());
//! source.close().await;
//! # Ok(()) }
//! ```
//!
//! How it holds rmcp: one actor task per connection owns the running session and closes it
//! inside the runtime; every request has a deadline; notification handlers only signal, and a
//! tracked reloader replaces the tool snapshot; stdio children run as process-group leaders
//! so that grandchildren end with them; a lost connection is replaced once, at the next call.
//!
//! With the `server` feature, `weft_mcp::server` is the other side: Weft agents, workflows (as agents)
//! and tools served to MCP clients over stdio and streamable HTTP.
//!
//! Transports: stdio and streamable HTTP. The legacy HTTP+SSE transport (protocol 2024-11-05: a
//! GET event stream plus an `endpoint` to POST to) is not supported: rmcp removed its SSE client
//! transport in 0.11 (modelcontextprotocol/rust-sdk#562), and 3.9 has none.

mod config;
mod connect;
mod elicitation;
mod error;
mod handler;
mod http;
mod prompts;
mod redact;
mod sampling;
#[cfg(feature = "server")]
pub mod server;
mod source;
mod stderr_tail;
mod stdio;
pub mod telemetry;
mod tool;
mod tool_answer;

pub use config::{HttpServer, ServerConfig, StdioServer};
pub use elicitation::{
    ChannelElicitationHandler, ElicitationHandler, ElicitationRequest, ElicitationResponse,
    PendingElicitation, elicitation_channel,
};
pub use error::{McpError, McpErrorKind, UnreachableCause};
pub use handler::McpEvent;
pub use prompts::{
    McpPrompt, McpPromptArgument, McpPromptMessages, McpResource, McpResourceContents, McpResourceTemplate,
};
pub use rmcp;
pub use source::{McpSource, McpSourceBuilder};
/// Masks the credentials of the URLs in a text; the one policy of [`weft_core::redact`].
pub use weft_core::redact::redact_urls;
