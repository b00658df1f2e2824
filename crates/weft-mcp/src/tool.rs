//! An MCP server's tool as a Weft [`Tool`], and the mapping of MCP tool results to Weft
//! contents.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use rmcp::model::CallToolResult;
use serde_json::{Map, Value};
use weft_core::{
    ApprovalMode, Content, FunctionCall, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput,
};

use crate::source::SourceInner;

/// Which of a server's tools are offered, under which names, with which approval.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToolOptions {
    pub(crate) allow: Option<HashSet<String>>,
    pub(crate) prefix: String,
    pub(crate) approvals: HashMap<String, ApprovalMode>,
    pub(crate) default_approval: ApprovalMode,
}

/// One of a server's tools, as the model sees it. Holds the source weakly: a tool kept after
/// its source is dropped answers "closed".
pub(crate) struct McpTool {
    definition: ToolDefinition,
    /// The server's name for the tool (without the prefix).
    remote_name: String,
    output_schema: Option<Value>,
    approval: ApprovalMode,
    source: Weak<SourceInner>,
    server: Arc<str>,
}

impl std::fmt::Debug for McpTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpTool")
            .field("name", &self.definition.name)
            .field("server", &self.server)
            .field("has_output_schema", &self.output_schema.is_some())
            .finish()
    }
}

/// Turns a `tools/list` answer into the Weft tools offered: allow-list applied, names prefixed,
/// input schemas passed through unchanged.
pub(crate) fn build_tools(
    tools: Vec<rmcp::model::Tool>,
    options: &ToolOptions,
    source: &Weak<SourceInner>,
    server: &Arc<str>,
) -> Vec<Arc<dyn Tool>> {
    let mut seen = HashSet::new();
    tools
        .into_iter()
        .filter(|tool| options.allow.as_ref().is_none_or(|allow| allow.contains(tool.name.as_ref())))
        .filter(|tool| seen.insert(tool.name.to_string()))
        .map(|tool| {
            let remote_name = tool.name.to_string();
            let description = tool
                .description
                .as_deref()
                .map(str::to_owned)
                .or_else(|| tool.title.clone())
                .unwrap_or_default();
            let parameters = Value::Object(tool.input_schema.as_ref().clone());
            let approval = options
                .approvals
                .get(&remote_name)
                .cloned()
                .unwrap_or_else(|| options.default_approval.clone());
            Arc::new(McpTool {
                definition: ToolDefinition::new(
                    format!("{}{remote_name}", options.prefix),
                    description,
                    parameters,
                ),
                remote_name,
                output_schema: tool.output_schema.map(|schema| Value::Object(schema.as_ref().clone())),
                approval,
                source: source.clone(),
                server: server.clone(),
            }) as Arc<dyn Tool>
        })
        .collect()
}

#[async_trait]
impl Tool for McpTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn invoke(&self, arguments: Value, _context: &ToolContext) -> Result<ToolOutput, ToolError> {
        let arguments = match arguments {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(ToolError::invalid_arguments(format!(
                    "the arguments are not a JSON object: {other}"
                )));
            }
        };
        let Some(source) = self.source.upgrade() else {
            return Err(crate::McpError::closed(&self.server, "the source was dropped").into());
        };
        Ok(source.call_tool(&self.remote_name, arguments).await?)
    }

    fn requires_approval(&self, call: &FunctionCall) -> bool {
        self.approval.requires_approval(call)
    }
}

/// Maps a `tools/call` result: structured content (when given) is the value, otherwise the
/// text contents joined; images and audio become [`Content::Data`], resource links
/// [`Content::Uri`], embedded resources text or data. `Err` carries the error text of an
/// `isError` result.
pub(crate) fn map_result(result: CallToolResult) -> Result<ToolOutput, String> {
    let is_error = result.is_error.unwrap_or(false);
    let mut texts: Vec<String> = Vec::new();
    let mut contents = Vec::new();
    for block in &result.content {
        let Ok(block) = serde_json::to_value(block) else { continue };
        let field = |name: &str| block.get(name).and_then(Value::as_str).map(str::to_owned);
        match block.get("type").and_then(Value::as_str) {
            Some("text") => texts.extend(field("text")),
            Some("image") | Some("audio") => {
                if let (Some(data), Some(media_type)) = (field("data"), field("mimeType")) {
                    contents.push(Content::Data { media_type, base64: data });
                }
            }
            Some("resource_link") => {
                if let Some(uri) = field("uri") {
                    contents.push(Content::Uri { uri, media_type: field("mimeType") });
                }
            }
            Some("resource") => {
                let resource = block.get("resource").cloned().unwrap_or(Value::Null);
                let get = |name: &str| resource.get(name).and_then(Value::as_str).map(str::to_owned);
                if let Some(text) = get("text") {
                    texts.push(text);
                } else if let Some(blob) = get("blob") {
                    let media_type = get("mimeType").unwrap_or_else(|| "application/octet-stream".into());
                    contents.push(Content::Data { media_type, base64: blob });
                }
            }
            _ => {}
        }
    }
    let text = texts.join("\n");
    if is_error {
        return Err(if text.is_empty() {
            "the tool reported an error without a message".into()
        } else {
            text
        });
    }
    let value = match result.structured_content {
        Some(structured) => structured,
        None => Value::String(text),
    };
    Ok(ToolOutput { value, contents })
}
