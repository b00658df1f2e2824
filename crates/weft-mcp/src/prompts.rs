//! Prompts and resources of an MCP server: `prompts/list`, `prompts/get`, `resources/list`,
//! `resources/templates/list` and `resources/read` on an [`McpSource`], each with the request
//! deadline and the typed errors of tool calls. Prompt messages become Weft [`Message`]s.

use rmcp::model::{GetPromptRequestParams, JsonObject, ReadResourceRequestParams, ResourceContents};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weft_core::{Content, Message, Role};

use crate::error::{McpError, McpErrorKind};
use crate::source::McpSource;
use crate::telemetry::Call;

/// A prompt template a server offers (`prompts/list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpPrompt {
    /// The name to pass to [`McpSource::get_prompt`].
    pub name: String,
    /// A human-readable title, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the prompt is for, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The arguments the prompt takes.
    #[serde(default)]
    pub arguments: Vec<McpPromptArgument>,
}

/// One argument of an [`McpPrompt`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpPromptArgument {
    /// The argument's name.
    pub name: String,
    /// What it means, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the prompt needs it.
    #[serde(default)]
    pub required: bool,
}

/// A prompt filled in by the server (`prompts/get`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct McpPromptMessages {
    /// The server's description of the filled prompt, when given.
    pub description: Option<String>,
    /// The messages, ready for an agent run.
    pub messages: Vec<Message>,
}

/// A resource a server lists (`resources/list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpResource {
    /// The URI to pass to [`McpSource::read_resource`].
    pub uri: String,
    /// The resource's name.
    pub name: String,
    /// A human-readable title, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What it is, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its media type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Its size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A family of resources named by a URI template (`resources/templates/list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpResourceTemplate {
    /// The RFC 6570 URI template.
    pub uri_template: String,
    /// The template's name.
    pub name: String,
    /// What it is, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The media type of its resources, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// One part of a read resource (`resources/read`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum McpResourceContents {
    /// Text.
    Text {
        /// The URI of this part.
        uri: String,
        /// Its media type, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
        /// The text.
        text: String,
    },
    /// Binary data.
    Blob {
        /// The URI of this part.
        uri: String,
        /// Its media type, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
        /// The bytes, base64-encoded.
        base64: String,
    },
}

impl McpResourceContents {
    /// The URI of this part.
    pub fn uri(&self) -> &str {
        match self {
            McpResourceContents::Text { uri, .. } | McpResourceContents::Blob { uri, .. } => uri,
        }
    }

    /// The text, when this part is text.
    pub fn text(&self) -> Option<&str> {
        match self {
            McpResourceContents::Text { text, .. } => Some(text),
            McpResourceContents::Blob { .. } => None,
        }
    }

    /// As Weft content: text, or data with its media type.
    pub fn to_content(&self) -> Content {
        match self {
            McpResourceContents::Text { text, .. } => Content::text(text.clone()),
            McpResourceContents::Blob { mime_type, base64, .. } => Content::Data {
                media_type: mime_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
                base64: base64.clone(),
            },
        }
    }
}

impl McpSource {
    /// The server's prompts (all pages of `prompts/list`).
    pub async fn list_prompts(&self) -> Result<Vec<McpPrompt>, McpError> {
        let prompts = self
            .shared()
            .request("prompts/list", Call::Method("prompts/list"), |peer, _| async move {
                peer.list_all_prompts().await
            })
            .await?;
        Ok(prompts
            .into_iter()
            .map(|prompt| McpPrompt {
                name: prompt.name,
                title: prompt.title,
                description: prompt.description,
                arguments: prompt
                    .arguments
                    .unwrap_or_default()
                    .into_iter()
                    .map(|argument| McpPromptArgument {
                        name: argument.name,
                        description: argument.description,
                        required: argument.required.unwrap_or(false),
                    })
                    .collect(),
            })
            .collect())
    }

    /// Fills in the prompt `name` with `arguments` (a JSON object of strings, or null).
    pub async fn get_prompt(&self, name: &str, arguments: Value) -> Result<McpPromptMessages, McpError> {
        let mut params = GetPromptRequestParams::new(name);
        match arguments {
            Value::Null => {}
            Value::Object(map) => params = params.with_arguments(stringify(map)),
            other => {
                let message = format!("prompt '{name}': the arguments are not a JSON object: {other}");
                return Err(McpError::new(McpErrorKind::Configuration, self.name(), message));
            }
        }
        let what = format!("prompt '{name}'");
        let result = self
            .shared()
            .request(&what, Call::Prompt(name), |peer, meta| async move {
                params.meta = meta;
                peer.get_prompt(params).await
            })
            .await?;
        let messages = result
            .messages
            .into_iter()
            .map(|message| {
                let role = match message.role {
                    rmcp::model::Role::Assistant => Role::Assistant,
                    _ => Role::User,
                };
                Message::new(role, content_of(&message.content).into_iter().collect())
            })
            .collect();
        Ok(McpPromptMessages { description: result.description, messages })
    }

    /// The server's resources (all pages of `resources/list`).
    pub async fn list_resources(&self) -> Result<Vec<McpResource>, McpError> {
        let resources = self
            .shared()
            .request("resources/list", Call::Method("resources/list"), |peer, _| async move {
                peer.list_all_resources().await
            })
            .await?;
        Ok(resources
            .into_iter()
            .map(|resource| McpResource {
                uri: resource.uri,
                name: resource.name,
                title: resource.title,
                description: resource.description,
                mime_type: resource.mime_type,
                size: resource.size,
            })
            .collect())
    }

    /// The server's resource templates (all pages of `resources/templates/list`).
    pub async fn list_resource_templates(&self) -> Result<Vec<McpResourceTemplate>, McpError> {
        let templates = self
            .shared()
            .request(
                "resources/templates/list",
                Call::Method("resources/templates/list"),
                |peer, _| async move { peer.list_all_resource_templates().await },
            )
            .await?;
        Ok(templates
            .into_iter()
            .map(|template| McpResourceTemplate {
                uri_template: template.uri_template,
                name: template.name,
                description: template.description,
                mime_type: template.mime_type,
            })
            .collect())
    }

    /// Reads the resource at `uri`: its text and binary parts.
    pub async fn read_resource(&self, uri: &str) -> Result<Vec<McpResourceContents>, McpError> {
        let mut params = ReadResourceRequestParams::new(uri);
        let what = format!("resource '{uri}'");
        let result = self
            .shared()
            .request(&what, Call::Resource(uri), |peer, meta| async move {
                params.meta = meta;
                peer.read_resource(params).await
            })
            .await?;
        Ok(result
            .contents
            .into_iter()
            .filter_map(|contents| match contents {
                ResourceContents::TextResourceContents { uri, mime_type, text, .. } => {
                    Some(McpResourceContents::Text { uri, mime_type, text })
                }
                ResourceContents::BlobResourceContents { uri, mime_type, blob, .. } => {
                    Some(McpResourceContents::Blob { uri, mime_type, base64: blob })
                }
                // A kind newer than this crate: skipped.
                _ => None,
            })
            .collect())
    }
}

/// Prompt arguments are strings on the wire: other JSON values are sent as their JSON text.
fn stringify(map: JsonObject) -> JsonObject {
    map.into_iter()
        .map(|(key, value)| match value {
            Value::String(_) => (key, value),
            other => (key, Value::String(other.to_string())),
        })
        .collect()
}

/// One content block of a prompt message as Weft content (unknown kinds are dropped).
fn content_of(block: &impl Serialize) -> Option<Content> {
    let block = serde_json::to_value(block).ok()?;
    let field = |name: &str| block.get(name).and_then(Value::as_str).map(str::to_owned);
    match block.get("type").and_then(Value::as_str)? {
        "text" => field("text").map(Content::text),
        "image" | "audio" => Some(Content::Data { media_type: field("mimeType")?, base64: field("data")? }),
        "resource_link" => Some(Content::Uri { uri: field("uri")?, media_type: field("mimeType") }),
        "resource" => {
            let resource = block.get("resource")?;
            let get = |name: &str| resource.get(name).and_then(Value::as_str).map(str::to_owned);
            match get("text") {
                Some(text) => Some(Content::text(text)),
                None => Some(Content::Data {
                    media_type: get("mimeType").unwrap_or_else(|| "application/octet-stream".into()),
                    base64: get("blob")?,
                }),
            }
        }
        _ => None,
    }
}
