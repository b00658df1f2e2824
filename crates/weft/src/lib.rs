//! # Weft
//!
//! Build AI agents in Rust: a [`ChatAgent`] over any [`ChatClient`] (model provider), with typed
//! function tools, streaming, sessions you can save and resume, structured output, middleware
//! around runs, model calls and tool calls, and human approval of tool calls.
//!
//! This crate is the facade: it re-exports [`weft_core`] at its root (so `weft::ChatAgent`,
//! `weft::agent::…`, `weft::middleware::…`) and the OpenAI-compatible provider as
//! [`weft::openai`](crate::openai) (feature `openai`), MCP tools as [`weft::mcp`](crate::mcp)
//! (feature `mcp`) and workflows as [`weft::workflow`](crate::workflow) (feature `workflow`), all
//! on by default; serving agents over HTTP is [`weft::host`](crate::host) (feature `host`), over
//! A2A `weft::a2a` (feature `a2a`), and span export over OTLP is `weft::telemetry` (feature
//! `otel`), all three off by default; so are the Anthropic (`anthropic`) and Ollama-native
//! (`ollama`) providers, and Agent Skills, `weft::skills` (feature `skills`)). `use weft::prelude::*;` brings in what most programs need.
//!
//! ```
//! use std::sync::Arc;
//!
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//! use weft::prelude::*;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct WeatherArgs {
//!     /// The city to get the weather for.
//!     city: String,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), weft::AgentError> {
//! let weather = FunctionTool::new("get_weather", "Get the weather for a city", |args: WeatherArgs| async move {
//!     Ok::<_, std::convert::Infallible>(format!("weather in {}: sunny, 21C", args.city))
//! });
//! // The scripted model runs offline; swap in `weft::openai::OpenAI::from_env()?.chat()` for a real one.
//! let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
//!     .instructions("You are a helpful weather assistant.")
//!     .tool(weather)
//!     .build();
//! let mut session = AgentSession::new();
//! let response = agent.run(&mut session, "What's the weather in Paris?").await?;
//! assert!(response.text().contains("weather in Paris: sunny, 21C"));
//! # Ok(()) }
//! ```
//!
//! Streaming is the same call with [`ChatAgent::run_stream`]: it yields
//! [`AgentResponseUpdate`]s (text deltas, function calls, tool results, approval requests) as
//! they happen.
//!
//! Embeddings go through the [`EmbeddingClient`] trait: `weft::openai::OpenAI::embeddings`
//! (feature `openai`) or `weft::ollama::Ollama::embeddings` (feature `ollama`) for a real
//! model, [`ScriptedEmbeddingClient`] offline.

pub use weft_core::*;

/// The OpenAI-compatible provider (OpenAI, Azure OpenAI and any server that speaks Chat
/// Completions or Responses): the [`weft_openai`] crate.
#[cfg(feature = "openai")]
pub use weft_openai as openai;

/// Microsoft Entra ID token credentials for Azure OpenAI and Microsoft Foundry
/// (`AzureCliCredential`, `ManagedIdentityCredential`, `ClientSecretCredential`,
/// `WorkloadIdentityCredential`, `DefaultAzureCredential`): the [`weft_azure`] crate. Give one
/// to `weft::openai::OpenAIBuilder::token_credential`.
#[cfg(feature = "azure")]
pub use weft_azure as azure;

/// The Anthropic Messages provider (Claude, llama.cpp's server, the LiteLLM proxy): the
/// [`weft_anthropic`] crate.
#[cfg(feature = "anthropic")]
pub use weft_anthropic as anthropic;

/// The Amazon Bedrock provider (Converse and ConverseStream signed with SigV4; Titan and Cohere
/// embeddings): the [`weft_bedrock`] crate.
#[cfg(feature = "bedrock")]
pub use weft_bedrock as bedrock;
/// The Gemini provider (Google's Gemini API with an API key, Vertex AI with an access token,
/// the LiteLLM proxy): chat and embeddings, the [`weft_gemini`] crate.
#[cfg(feature = "gemini")]
pub use weft_gemini as gemini;
/// Ollama's native API (`/api/chat` with its NDJSON streams, options, `keep_alive`, `format`
/// and `think`; `/api/embed`): the [`weft_ollama`] crate. Ollama's OpenAI-compatible `/v1`
/// works through [`openai`] too; `weft_ollama`'s docs say which to choose.
#[cfg(feature = "ollama")]
pub use weft_ollama as ollama;

/// MCP (Model Context Protocol) tool sources over stdio and streamable HTTP: the [`weft_mcp`]
/// crate. With the feature `mcp-server`, also its server side (`weft::mcp::server`): agents,
/// workflows and tools served to MCP clients.
#[cfg(feature = "mcp")]
pub use weft_mcp as mcp;

/// Graph workflows with supersteps, checkpoints, human-in-the-loop and multi-agent
/// orchestrations: the [`weft_workflow`] crate.
#[cfg(feature = "workflow")]
pub use weft_workflow as workflow;

/// The A2A protocol: serving agents (agent cards, JSON-RPC and HTTP+JSON, tasks; mount the
/// routes in a host with `Host::routes`) and calling remote A2A agents as Weft agents
/// (`A2AAgent`): the `weft_a2a` crate.
#[cfg(feature = "a2a")]
pub use weft_a2a as a2a;
/// Declarative agents: MAF prompt-agent YAML files loaded into [`ChatAgent`]s (`load_agent`,
/// `Bindings`): the [`weft_declarative`] crate.
#[cfg(feature = "declarative")]
pub use weft_declarative as declarative;
/// Serving agents over HTTP (the OpenAI Responses and Chat Completions protocols): the
/// [`weft_host`] crate.
#[cfg(feature = "host")]
pub use weft_host as host;
/// Durable agents on Restate: model and tool calls as journaled steps that a crashed worker
/// does not repeat, conversations as virtual objects (the `weft_restate` crate).
#[cfg(feature = "restate")]
pub use weft_restate as restate;
/// Agent Skills: folders with a `SKILL.md` given to agents by progressive disclosure
/// (`SkillSet`, `SkillsProvider`, `.skills(…)` on the agent builder with `SkillsExt`,
/// scripts behind approval with `ScriptRunner`): the [`weft_skills`] crate.
#[cfg(feature = "skills")]
pub use weft_skills as skills;
/// History stores ([`weft_core::history`]) and, with the features `history-sqlite`,
/// `history-postgres` and `history-redis`, those on databases (the [`weft_history`] crate).
#[cfg(any(feature = "history-sqlite", feature = "history-postgres", feature = "history-redis"))]
pub mod history {
    pub use weft_core::history::*;
    #[cfg(feature = "history-postgres")]
    pub use weft_history::PostgresHistoryStore;
    #[cfg(feature = "history-redis")]
    pub use weft_history::RedisHistoryStore;
    #[cfg(feature = "history-sqlite")]
    pub use weft_history::SqliteHistoryStore;
}
/// Compaction strategies ([`weft_core::compaction`]) and, with the feature `tiktoken`,
/// OpenAI's tokenizer to count their token budgets.
#[cfg(feature = "tiktoken")]
pub mod compaction {
    pub use weft_core::compaction::*;
    pub use weft_history::tiktoken::{TiktokenCounter, counter_for_model};
}
/// OpenTelemetry: the GenAI semantic-convention names of Weft's spans
/// ([`weft_core::telemetry`]) and, with the `otel` feature, their export over OTLP
/// ([`weft_telemetry`]: [`init`](weft_telemetry::init), [`TelemetryConfig`](weft_telemetry::TelemetryConfig)).
#[cfg(feature = "otel")]
pub mod telemetry {
    pub use weft_core::telemetry::*;
    pub use weft_telemetry::*;
}

/// The items most programs use: `use weft::prelude::*;`.
pub mod prelude {
    pub use weft_core::agent::{
        Agent, AgentResponse, AgentResponseUpdate, AgentSession, AgentTool, AgentToolExt, ChatAgent, RunInput,
    };
    pub use weft_core::middleware::{FunctionInvocation, Middleware, Next, from_fn};
    pub use weft_core::{
        AgentError, AgentRunContext, ApprovalMode, ApprovalRequest, ChatClient, ChatError, ChatOptions,
        ChatRequest, ChatResponse, ChatResponseUpdate, Content, EmbeddingClient, EmbeddingError,
        EmbeddingOptions, Embeddings, FunctionCall, FunctionResult, FunctionTool, Message, ReplayClient,
        Role, ScriptedClient, ScriptedEmbeddingClient, Tool, ToolError, ToolOutput, Usage,
    };
}
