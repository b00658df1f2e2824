//! rmcp's `ServerHandler` over a [`Registry`]: one handler per connection.

#![allow(deprecated)] // logging and resources/subscribe are legacy in 2026-07-28; we serve 2025-11-25

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, GetPromptRequestParams,
    GetPromptResponse, GetPromptResult, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProtocolVersion, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, ServerCapabilities, ServerConfig, SetLevelRequestParams,
    SubscribeRequestParams, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler};

use super::agent_tool::{self, AgentSessions};
use super::registry::{Registry, Served, match_template};
use super::scope::{ConnectionState, RequestScope};

/// Serves one connection: rmcp's [`ServerHandler`] over the server's agents, tools, prompts
/// and resources, with this connection's own agent sessions, logging level and subscriptions.
#[derive(Clone)]
pub struct McpServerHandler {
    registry: Arc<Registry>,
    connection: Arc<ConnectionState>,
    sessions: AgentSessions,
    subscriptions: Arc<Mutex<HashSet<String>>>,
}

impl McpServerHandler {
    pub(crate) fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            connection: Arc::default(),
            sessions: Arc::new(Mutex::new(HashMap::new())),
            subscriptions: Arc::default(),
        }
    }

    /// The resource URIs this connection subscribed to.
    pub fn subscriptions(&self) -> Vec<String> {
        self.subscriptions.lock().map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }
}

/// The protocol revisions served: up to 2025-11-25 (rmcp's newer default, 2026-07-28, drops the
/// sessions, logging and server-to-client requests this server uses).
const SERVED_UP_TO: ProtocolVersion = ProtocolVersion::V_2025_11_25;

impl ServerHandler for McpServerHandler {
    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder()
            .enable_logging()
            .enable_completions()
            .enable_prompts()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_tools()
            .build();
        if self.registry.prompts.is_empty() {
            capabilities.prompts = None;
            capabilities.completions = None;
        }
        if self.registry.resources.is_empty() && self.registry.templates.is_empty() {
            capabilities.resources = None;
        }
        let mut info = ServerConfig::new(capabilities)
            .with_server_info(Implementation::new(self.registry.name.clone(), self.registry.version.clone()))
            .with_protocol_version(SERVED_UP_TO);
        if let Some(instructions) = &self.registry.instructions {
            info = info.with_instructions(instructions.clone());
        }
        info
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&SERVED_UP_TO))
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if let Ok(mut level) = self.connection.log_level.lock() {
            *level = Some(request.level);
        }
        Ok(())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.registry.tools.iter().map(|t| t.definition().clone()).collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.registry.find(name).map(|t| t.definition().clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(served) = self.registry.find(&request.name) else {
            return Err(ErrorData::invalid_params(format!("unknown tool: {}", request.name), None));
        };
        let scope = RequestScope {
            progress_token: context.meta.get_progress_token(),
            cancelled: context.ct.clone(),
            peer: context.peer.clone(),
            connection: self.connection.clone(),
        };
        let arguments = request.arguments.unwrap_or_default();
        let run = async {
            match served {
                Served::Agent { agent, .. } => {
                    Ok(agent_tool::run_agent(agent, arguments, &scope, &self.sessions).await)
                }
                Served::Weft { tool, .. } => Ok(agent_tool::call_tool(tool, arguments, &scope).await),
                Served::Mcp { handler, .. } => handler(arguments, scope.clone()).await,
            }
        };
        // The client's notifications/cancelled (or the connection closing) cancels `ct`:
        // dropping `run` drops the agent run and its tools with it.
        tokio::select! {
            result = run => result.map(CallToolResponse::from),
            () = context.ct.cancelled() => Err(ErrorData::internal_error("the call was cancelled", None)),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(self.registry.prompts.iter().map(|(p, _)| p.clone()).collect()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let Some((prompt, get)) = self.registry.prompts.iter().find(|(p, _)| p.name == request.name) else {
            return Err(ErrorData::invalid_params(format!("unknown prompt: {}", request.name), None));
        };
        let arguments = request.arguments.unwrap_or_default();
        for argument in prompt.arguments.iter().flatten() {
            if argument.required == Some(true) && !arguments.contains_key(&argument.name) {
                return Err(ErrorData::invalid_params(
                    format!("prompt {} needs the argument {}", prompt.name, argument.name),
                    None,
                ));
            }
        }
        let mut result = GetPromptResult::new(get(&arguments)?);
        result.description = prompt.description.clone();
        Ok(result.into())
    }

    async fn complete(
        &self,
        _request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        // No argument has suggestions yet: an empty list is a valid answer.
        Ok(CompleteResult::default())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(
            self.registry.resources.iter().map(|(r, _)| r.clone()).collect(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            self.registry.templates.iter().map(|(t, _)| t.clone()).collect(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if let Some((_, read)) = self.registry.resources.iter().find(|(r, _)| r.uri == request.uri) {
            return Ok(ReadResourceResult::new(read(&request.uri)?).into());
        }
        for (template, read) in &self.registry.templates {
            if let Some(vars) = match_template(&template.uri_template, &request.uri) {
                return Ok(ReadResourceResult::new(read(&request.uri, &vars)?).into());
            }
        }
        Err(ErrorData::resource_not_found(format!("no resource at {}", request.uri), None))
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if let Ok(mut subscriptions) = self.subscriptions.lock() {
            subscriptions.insert(request.uri);
        }
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if let Ok(mut subscriptions) = self.subscriptions.lock() {
            subscriptions.remove(&request.uri);
        }
        Ok(())
    }
}
