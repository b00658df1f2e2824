//! What a server serves: tools (agents, Weft tools, MCP-native tools), prompts, resources and
//! resource templates, fixed when the server is built.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use rmcp::ErrorData;
use rmcp::model::{
    CallToolResult, JsonObject, Prompt, PromptMessage, Resource, ResourceContents, ResourceTemplate, Tool,
};
use serde_json::{Value, json};

use super::scope::RequestScope;

/// An MCP-native tool's body: the call's arguments and its scope in, MCP content out.
pub type McpToolFn = Arc<
    dyn Fn(JsonObject, RequestScope) -> BoxFuture<'static, Result<CallToolResult, ErrorData>> + Send + Sync,
>;

/// A prompt's body: its arguments in, its messages out.
pub type PromptFn = Arc<dyn Fn(&JsonObject) -> Result<Vec<PromptMessage>, ErrorData> + Send + Sync>;

/// A resource's body: its URI in, its contents out.
pub type ResourceFn = Arc<dyn Fn(&str) -> Result<Vec<ResourceContents>, ErrorData> + Send + Sync>;

/// A resource template's body: the requested URI and the template's variables in, contents out.
pub type TemplateFn =
    Arc<dyn Fn(&str, &HashMap<String, String>) -> Result<Vec<ResourceContents>, ErrorData> + Send + Sync>;

/// One served tool.
pub(crate) enum Served {
    /// An agent: `{"prompt", "session"?}` in, its answer out.
    Agent { agent: Arc<dyn weft_core::Agent>, definition: Tool },
    /// A Weft tool with its own schema.
    Weft { tool: Arc<dyn weft_core::Tool>, definition: Tool },
    /// A tool written against MCP.
    Mcp { definition: Tool, handler: McpToolFn },
}

impl Served {
    pub(crate) fn agent(agent: Arc<dyn weft_core::Agent>) -> Self {
        let description = agent.description().map(str::to_owned).unwrap_or_else(|| {
            format!("Runs the agent {} on a prompt and returns its answer.", agent.name())
        });
        let schema = json!({
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "description": "What to ask the agent."},
                "session": {
                    "type": "string",
                    "description": "Continue the conversation of this session id (kept for this connection); omit for a new one."
                }
            },
            "required": ["prompt"],
            "additionalProperties": false
        });
        let definition = Tool::new(agent.name().to_owned(), description, object(schema));
        Served::Agent { agent, definition }
    }

    pub(crate) fn tool(tool: Arc<dyn weft_core::Tool>) -> Self {
        let spec = tool.definition();
        let definition = Tool::new(
            spec.name.clone(),
            spec.description.clone(),
            object(spec.parameters.as_value().clone()),
        );
        Served::Weft { tool, definition }
    }

    pub(crate) fn definition(&self) -> &Tool {
        match self {
            Served::Agent { definition, .. }
            | Served::Weft { definition, .. }
            | Served::Mcp { definition, .. } => definition,
        }
    }
}

/// A JSON Schema as the object MCP wants; a non-object schema becomes `{"type":"object"}`.
fn object(schema: Value) -> JsonObject {
    match schema {
        Value::Object(map) => map,
        _ => {
            let mut map = JsonObject::new();
            map.insert("type".into(), Value::String("object".into()));
            map
        }
    }
}

/// Everything a server serves.
pub(crate) struct Registry {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) instructions: Option<String>,
    pub(crate) tools: Vec<Served>,
    pub(crate) prompts: Vec<(Prompt, PromptFn)>,
    pub(crate) resources: Vec<(Resource, ResourceFn)>,
    pub(crate) templates: Vec<(ResourceTemplate, TemplateFn)>,
}

impl Registry {
    pub(crate) fn new(name: String) -> Self {
        Self {
            name,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            instructions: None,
            tools: Vec::new(),
            prompts: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
        }
    }

    /// Adds a tool; a later tool of the same name replaces an earlier one.
    pub(crate) fn add(&mut self, served: Served) {
        let name = served.definition().name.clone();
        self.tools.retain(|t| t.definition().name != name);
        self.tools.push(served);
    }

    pub(crate) fn find(&self, name: &str) -> Option<&Served> {
        self.tools.iter().find(|t| t.definition().name == name)
    }
}

/// Matches `uri` against a level-1 URI template (`test://template/{id}/data`): literal parts
/// must match exactly, each `{name}` takes a non-empty run of characters up to the next literal
/// (and never a `/`). Written here because rmcp has no template matcher and only this simple
/// level is served.
pub(crate) fn match_template(template: &str, uri: &str) -> Option<HashMap<String, String>> {
    let mut vars = HashMap::new();
    let mut rest = uri;
    let mut pattern = template;
    while !pattern.is_empty() {
        if let Some(after_open) = pattern.strip_prefix('{') {
            let close = after_open.find('}')?;
            let name = &after_open[..close];
            pattern = &after_open[close + 1..];
            let next_literal_end = pattern.find('{').unwrap_or(pattern.len());
            let literal = &pattern[..next_literal_end];
            let value_end = if literal.is_empty() { rest.len() } else { rest.find(literal)? };
            let value = &rest[..value_end];
            if value.is_empty() || value.contains('/') {
                return None;
            }
            vars.insert(name.to_owned(), value.to_owned());
            rest = &rest[value_end..];
        } else {
            let literal_end = pattern.find('{').unwrap_or(pattern.len());
            rest = rest.strip_prefix(&pattern[..literal_end])?;
            pattern = &pattern[literal_end..];
        }
    }
    rest.is_empty().then_some(vars)
}

#[cfg(test)]
mod tests {
    use super::match_template;

    #[test]
    fn templates_match_their_variables_and_nothing_else() {
        let vars =
            match_template("test://template/{id}/data", "test://template/123/data").unwrap_or_default();
        assert_eq!(vars.get("id").map(String::as_str), Some("123"));
        assert!(match_template("test://template/{id}/data", "test://template//data").is_none());
        assert!(match_template("test://template/{id}/data", "test://template/1/2/data").is_none());
        assert!(match_template("test://template/{id}/data", "test://other/1/data").is_none());
        assert!(match_template("test://template/{id}", "test://template/7").is_some());
    }
}
