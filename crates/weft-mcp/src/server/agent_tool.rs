//! Running a served agent or Weft tool for one `tools/call`: progress while it works,
//! approvals asked through elicitation, the answer as MCP content.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use rmcp::model::{CallToolResult, ContentBlock, ElicitRequestParams, ElicitationAction, JsonObject};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use weft_core::{
    Agent, AgentSession, ApprovalRequest, ChatOptions, Content, FunctionCall, Message, Role, Tool,
    ToolContext, ToolOutput,
};

use super::scope::RequestScope;

/// How many times one call may stop for approvals before it gives up (a model that keeps
/// asking for approved calls would otherwise loop).
const MAX_APPROVAL_ROUNDS: usize = 8;

/// The most agent sessions one connection may keep.
pub(crate) const MAX_SESSIONS: usize = 64;

/// The agent sessions of one connection, by the id the client chose.
pub(crate) type AgentSessions = Arc<std::sync::Mutex<HashMap<String, Arc<Mutex<AgentSession>>>>>;

fn error(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text.into())])
}

/// Runs `agent` on the call's `{"prompt", "session"?}`.
pub(crate) async fn run_agent(
    agent: &Arc<dyn Agent>,
    arguments: JsonObject,
    scope: &RequestScope,
    sessions: &AgentSessions,
) -> CallToolResult {
    let Some(prompt) = arguments.get("prompt").and_then(Value::as_str) else {
        return error(format!(
            "the tool `{}` takes {{\"prompt\": string}}: `prompt` is missing or not a string",
            agent.name()
        ));
    };
    let session = match arguments.get("session") {
        None | Some(Value::Null) => Arc::new(Mutex::new(AgentSession::new())),
        Some(Value::String(id)) => match sessions.lock() {
            Ok(map) if map.len() >= MAX_SESSIONS && !map.contains_key(id) => {
                return error(format!("this connection already keeps {MAX_SESSIONS} sessions; reuse one"));
            }
            Ok(mut map) => {
                map.entry(id.clone()).or_insert_with(|| Arc::new(Mutex::new(AgentSession::new()))).clone()
            }
            Err(_) => return error("the session table is unusable after a panic"),
        },
        Some(_) => return error("`session` must be a string"),
    };
    let Ok(mut session) = session.try_lock() else {
        return error("this session is already running a call; wait for it to finish");
    };
    let mut input = vec![Message::user(prompt)];
    let mut step = 0.0;
    for _ in 0..MAX_APPROVAL_ROUNDS {
        let before = session.messages.len();
        let mut approvals = Vec::new();
        {
            let mut stream = agent.run_messages_stream(&mut session, input, ChatOptions::default());
            let mut answering = false;
            while let Some(update) = stream.next().await {
                let update = match update {
                    Ok(update) => update,
                    Err(e) => return error(format!("agent `{}` failed: {e}", agent.name())),
                };
                for content in &update.contents {
                    let message = match content {
                        Content::FunctionCall(call) => Some(format!("calling {}", call.name)),
                        Content::FunctionResult(result) => Some(format!("tool call {} done", result.call_id)),
                        Content::ApprovalRequest(request) => {
                            approvals.push(request.clone());
                            Some(format!("{} needs approval", request.call.name))
                        }
                        Content::Text { .. } if !answering => {
                            answering = true;
                            Some("answering".to_owned())
                        }
                        _ => None,
                    };
                    if let Some(message) = message {
                        step += 1.0;
                        scope.progress(step, None, Some(message)).await;
                    }
                }
            }
        }
        if approvals.is_empty() {
            let text = session.messages[before..]
                .iter()
                .rev()
                .find(|m| m.role == Role::Assistant && !m.text().is_empty())
                .map(Message::text)
                .unwrap_or_default();
            return CallToolResult::success(vec![ContentBlock::text(text)]);
        }
        let mut answers = Vec::with_capacity(approvals.len());
        for request in &approvals {
            match ask_approval(scope, Some(agent.name()), &request.call).await {
                Ok(approved) => {
                    answers.push(Content::ApprovalResponse(ApprovalRequest::response(request, approved)))
                }
                Err(result) => return result,
            }
        }
        input = vec![Message::new(Role::User, answers)];
    }
    error(format!(
        "agent `{}` asked for approvals {MAX_APPROVAL_ROUNDS} times in one call; giving up",
        agent.name()
    ))
}

/// Asks the client whether `call` may run. `Err` is the tool result to return instead.
async fn ask_approval(
    scope: &RequestScope,
    agent: Option<&str>,
    call: &FunctionCall,
) -> Result<bool, CallToolResult> {
    if !scope.supports_elicitation() {
        return Err(error(format!(
            "the tool `{}` needs approval, and this MCP client cannot be asked: it did not declare the elicitation capability",
            call.name
        )));
    }
    let who = agent.map(|a| format!("Agent `{a}` wants to run")).unwrap_or_else(|| "Run".to_owned());
    let params = json!({
        "mode": "form",
        "message": format!("{who} the tool `{}` with arguments {}. Allow it?", call.name, call.arguments),
        "requestedSchema": {"type": "object", "properties": {}}
    });
    let params: ElicitRequestParams = match serde_json::from_value(params) {
        Ok(params) => params,
        Err(e) => return Err(error(format!("could not build the approval request: {e}"))),
    };
    match scope.elicit(params).await {
        Ok(result) => Ok(result.action == ElicitationAction::Accept),
        Err(e) => Err(error(format!("asking the client to approve `{}` failed: {e}", call.name))),
    }
}

/// Calls a Weft tool with the call's arguments, asking approval first when it needs it.
pub(crate) async fn call_tool(
    tool: &Arc<dyn Tool>,
    arguments: JsonObject,
    scope: &RequestScope,
) -> CallToolResult {
    let name = tool.definition().name.clone();
    let call_id = format!("mcp-{}", uuid_like());
    let call = FunctionCall::new(call_id.clone(), name.clone(), Value::Object(arguments));
    if tool.requires_approval(&call) {
        match ask_approval(scope, None, &call).await {
            Ok(true) => {}
            Ok(false) => return error(format!("the user declined to run `{name}`")),
            Err(result) => return result,
        }
    }
    let context = ToolContext { call_id, ..ToolContext::default() };
    match tool.invoke(call.arguments, &context).await {
        Ok(output) => CallToolResult::success(contents(output)),
        Err(e) => error(e.to_string()),
    }
}

/// A Weft tool output as MCP content: the value (strings as they are, other values as JSON),
/// then the rich contents.
fn contents(output: ToolOutput) -> Vec<ContentBlock> {
    let mut blocks = Vec::with_capacity(1 + output.contents.len());
    match output.value {
        Value::Null if !output.contents.is_empty() => {}
        Value::String(text) => blocks.push(ContentBlock::text(text)),
        other => blocks.push(ContentBlock::text(other.to_string())),
    }
    for content in output.contents {
        match content {
            Content::Text { text } => blocks.push(ContentBlock::text(text)),
            Content::Data { media_type, base64 } if media_type.starts_with("audio/") => {
                blocks.push(ContentBlock::audio(base64, media_type))
            }
            Content::Data { media_type, base64 } if media_type.starts_with("image/") => {
                blocks.push(ContentBlock::image(base64, media_type))
            }
            Content::Data { media_type, base64 } => blocks.push(ContentBlock::resource(
                rmcp::model::ResourceContents::blob(base64, "data:").with_mime_type(media_type),
            )),
            Content::Uri { uri, media_type } => {
                let mut resource = rmcp::model::Resource::new(uri.clone(), uri);
                if let Some(media_type) = media_type {
                    resource = resource.with_mime_type(media_type);
                }
                blocks.push(ContentBlock::resource_link(resource));
            }
            _ => {}
        }
    }
    blocks
}

/// A unique-enough id for a call made by an MCP client (no model gave one).
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:x}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
