//! Options of a chat call: model, sampling, tools, response format and provider extras.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// What the model is told about a tool: its name, description and parameter schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// The JSON Schema of its arguments (an object schema), shared: every request of every run
    /// offers the tool, and cloning the definition does not copy the schema.
    pub parameters: ToolSchema,
}

impl ToolDefinition {
    /// A definition from its parts.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self { name: name.into(), description: description.into(), parameters: ToolSchema::from(parameters) }
    }
}

/// A tool's parameter schema, immutable and shared: a clone is a reference count, not a copy of
/// the JSON. Reads as the [`Value`] it holds (`Deref`), and (de)serializes as that value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolSchema(Arc<Value>);

impl ToolSchema {
    /// The schema as JSON.
    pub fn as_value(&self) -> &Value {
        &self.0
    }
}

impl From<Value> for ToolSchema {
    fn from(value: Value) -> Self {
        Self(Arc::new(value))
    }
}

impl std::ops::Deref for ToolSchema {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.0
    }
}

impl PartialEq<Value> for ToolSchema {
    fn eq(&self, other: &Value) -> bool {
        *self.0 == *other
    }
}

impl std::fmt::Display for ToolSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for ToolSchema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ToolSchema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::from)
    }
}

/// Whether and which tools the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must not call tools.
    None,
    /// The model must call at least one tool.
    Required,
    /// The model must call this tool.
    Function(String),
}

/// The shape of the model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON that matches a schema.
    JsonSchema {
        /// A name for the schema (letters, digits, `_`, `-`).
        name: String,
        /// The schema.
        schema: Value,
        /// Ask the provider to enforce the schema strictly.
        #[serde(default)]
        strict: bool,
    },
}

/// Options of one chat call. Every field is optional; [`ChatOptions::merged_over`] layers run
/// options over an agent's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatOptions {
    /// The model (or deployment) to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// The most tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// A seed for reproducible sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// The tools offered to the model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolDefinition>,
    /// Whether and which tool the model must call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may ask for several calls at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// The shape of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Tools the provider runs itself (web search, file search, a code interpreter); a client
    /// whose provider cannot run one fails the call naming it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosted_tools: Vec<crate::HostedTool>,
    /// Provider-specific fields, merged into the request body as they are.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// A budget the run draws from, besides the agent's own (see [`crate::budget`]): share one
    /// [`crate::RunBudget`] between runs to cap them together. Not sent to the provider.
    #[serde(skip)]
    pub budget: Option<crate::budget::RunBudget>,
}

impl ChatOptions {
    /// Options with only the model set.
    pub fn with_model(model: impl Into<String>) -> Self {
        Self { model: Some(model.into()), ..Default::default() }
    }

    /// These options over `defaults`: every field set here wins; tools, hosted tools and extras
    /// are combined (one of the same name or kind here replaces the default's).
    pub fn merged_over(&self, defaults: &ChatOptions) -> ChatOptions {
        let mut tools = defaults.tools.clone();
        for tool in &self.tools {
            tools.retain(|t| t.name != tool.name);
            tools.push(tool.clone());
        }
        let mut hosted_tools = defaults.hosted_tools.clone();
        for tool in &self.hosted_tools {
            hosted_tools.retain(|t| t.kind() != tool.kind());
            hosted_tools.push(tool.clone());
        }
        let mut extra = defaults.extra.clone();
        for (key, value) in &self.extra {
            extra.insert(key.clone(), value.clone());
        }
        ChatOptions {
            model: self.model.clone().or_else(|| defaults.model.clone()),
            temperature: self.temperature.or(defaults.temperature),
            top_p: self.top_p.or(defaults.top_p),
            max_tokens: self.max_tokens.or(defaults.max_tokens),
            stop: if self.stop.is_empty() { defaults.stop.clone() } else { self.stop.clone() },
            seed: self.seed.or(defaults.seed),
            tools,
            tool_choice: self.tool_choice.clone().or_else(|| defaults.tool_choice.clone()),
            parallel_tool_calls: self.parallel_tool_calls.or(defaults.parallel_tool_calls),
            response_format: self.response_format.clone().or_else(|| defaults.response_format.clone()),
            hosted_tools,
            extra,
            budget: self.budget.clone().or_else(|| defaults.budget.clone()),
        }
    }
}
