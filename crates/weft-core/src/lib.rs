//! # weft-core
//!
//! The stable core of Weft: messages and contents, the [`ChatClient`] trait every model
//! provider implements, tools, the [`ChatAgent`] runtime with its
//! function-invocation loop, middleware, sessions, telemetry names, URL credential
//! masking ([`redact`]), the [`EmbeddingClient`] trait (with the offline
//! [`ScriptedEmbeddingClient`]), and two built-in models
//! for tests and offline use ([`ScriptedClient`] and
//! [`ReplayClient`]).

pub mod budget;
pub mod client;
pub mod compaction;
pub mod context;
pub mod embedding;
pub mod error;
pub mod history;
pub mod hosted;
pub mod message;
pub mod options;
pub mod redact;
pub mod response;
pub mod schema;
pub mod size;
pub mod tool;

pub use budget::{BudgetLimits, BudgetOverrun, BudgetSpent, ModelPrice, PriceTable, RunBudget};
pub use client::{ChatClient, ChatRequest, ChatStream, ClientInfo, collect_stream};
pub use embedding::{
    EmbeddingClient, EmbeddingError, EmbeddingOptions, Embeddings, ScriptedEmbeddingClient, cosine_similarity,
};
pub use error::{AgentError, BoxError, ChatError, ChatErrorKind, SessionError, ToolError, ToolErrorKind};
pub use hosted::HostedTool;
pub use message::{
    ApprovalRequest, ApprovalResponse, Content, FunctionCall, FunctionResult, Message, Role, Usage,
};
pub use options::{ChatOptions, ResponseFormat, ToolChoice, ToolDefinition, ToolSchema};
pub use response::{ChatResponse, ChatResponseUpdate, FinishReason, ResponseFolder, fold_updates};
pub use tool::{ApprovalMode, FunctionTool, Tool, ToolContext, ToolOutput, ToolSet, WithApproval};

pub mod agent;
mod bridge;
pub mod chat_middleware;
pub mod middleware;
pub mod replay;
pub mod scripted;
pub mod telemetry;

pub use agent::{
    Agent, AgentResponse, AgentResponseUpdate, AgentRunContext, AgentSession, AgentTool, AgentToolExt,
    ChatAgent, RunInput,
};
pub use chat_middleware::MiddlewareChatClient;
pub use middleware::{FunctionInvocation, Middleware, Next, from_fn};
pub use replay::ReplayClient;
pub use scripted::ScriptedClient;
