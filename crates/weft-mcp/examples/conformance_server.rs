//! The server the official MCP conformance suite's server scenarios test
//! (`npx @modelcontextprotocol/conformance server --url …`; run by scripts/conformance.sh):
//! Weft's MCP server side with the `test_*` fixture tools, prompts and resources the scenarios
//! call, as the reference SDKs' conformance servers provide them.
//!
//! `conformance_server [--port P]` serves streamable HTTP on 127.0.0.1 at `/mcp` and prints
//! `listening on http://127.0.0.1:P/mcp` (P chosen by the OS unless given); `--stdio` serves stdio.

// Logging and sampling are deprecated in protocol 2026-07-28; the suite tests 2025-11-25.
#![allow(deprecated)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use rmcp::ErrorData;
use rmcp::model::{
    CallToolResult, ContentBlock, CreateMessageRequestParams, ElicitRequestParams, JsonObject, LoggingLevel,
    Prompt, PromptArgument, PromptMessage, Resource, ResourceContents, ResourceTemplate, Role,
    SamplingMessage, Tool,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use weft_core::{ChatAgent, FunctionTool, ScriptedClient};
use weft_mcp::rmcp;
use weft_mcp::server::{HttpOptions, McpServer, McpToolFn, RequestScope};

/// A 1x1 red PNG.
const RED_PIXEL_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A WAV file of one silent 8-bit sample at 8 kHz.
const SILENT_WAV: &str = "UklGRiUAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQEAAACA";

#[derive(Deserialize, JsonSchema)]
struct NoArguments {}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

fn tool(name: &'static str, description: &'static str, schema: Value) -> Tool {
    Tool::new(name, description, object(schema))
}

fn no_arguments() -> Value {
    json!({"type": "object", "properties": {}})
}

fn handler<F, Fut>(f: F) -> McpToolFn
where
    F: Fn(JsonObject, RequestScope) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<CallToolResult, ErrorData>> + Send + 'static,
{
    Arc::new(move |arguments, scope| f(arguments, scope).boxed())
}

fn text_result(text: impl Into<String>) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::text(text.into())]))
}

fn elicitation(message: String, schema: Value) -> Result<ElicitRequestParams, ErrorData> {
    serde_json::from_value(json!({"mode": "form", "message": message, "requestedSchema": schema}))
        .map_err(|e| ErrorData::internal_error(format!("elicitation schema: {e}"), None))
}

async fn elicit(scope: RequestScope, params: ElicitRequestParams) -> Result<CallToolResult, ErrorData> {
    if !scope.supports_elicitation() {
        return Ok(CallToolResult::error(vec![ContentBlock::text(
            "this client does not support elicitation",
        )]));
    }
    match scope.elicit(params).await {
        Ok(result) => text_result(format!(
            "Elicitation completed: action={}, content={}",
            serde_json::to_value(&result.action).unwrap_or_default(),
            result.content.unwrap_or_default()
        )),
        Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(format!("elicitation failed: {e}"))])),
    }
}

fn tools(builder: weft_mcp::server::McpServerBuilder) -> weft_mcp::server::McpServerBuilder {
    let simple_text =
        FunctionTool::new("test_simple_text", "Returns a simple text response", |_: NoArguments| async {
            Ok::<_, String>("This is a simple text response for testing.")
        });
    builder
        .tool(simple_text.into_shared())
        .mcp_tool(
            tool("test_image_content", "Returns an image", no_arguments()),
            handler(|_, _| async { Ok(CallToolResult::success(vec![ContentBlock::image(RED_PIXEL_PNG, "image/png")])) }),
        )
        .mcp_tool(
            tool("test_audio_content", "Returns audio", no_arguments()),
            handler(|_, _| async { Ok(CallToolResult::success(vec![ContentBlock::audio(SILENT_WAV, "audio/wav")])) }),
        )
        .mcp_tool(
            tool("test_embedded_resource", "Returns an embedded resource", no_arguments()),
            handler(|_, _| async {
                Ok(CallToolResult::success(vec![ContentBlock::resource(
                    ResourceContents::text("This is an embedded resource content.", "test://embedded-resource")
                        .with_mime_type("text/plain"),
                )]))
            }),
        )
        .mcp_tool(
            tool("test_multiple_content_types", "Returns text, an image and a resource", no_arguments()),
            handler(|_, _| async {
                Ok(CallToolResult::success(vec![
                    ContentBlock::text("Multiple content types test:"),
                    ContentBlock::image(RED_PIXEL_PNG, "image/png"),
                    ContentBlock::resource(
                        ResourceContents::text(r#"{"test":"data","value":123}"#, "test://mixed-content-resource")
                            .with_mime_type("application/json"),
                    ),
                ]))
            }),
        )
        .mcp_tool(
            tool("test_tool_with_logging", "Sends three log messages while it runs", no_arguments()),
            handler(|_, scope: RequestScope| async move {
                scope.log(LoggingLevel::Info, json!("Tool execution started")).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                scope.log(LoggingLevel::Info, json!("Tool processing data")).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                scope.log(LoggingLevel::Info, json!("Tool execution completed")).await;
                text_result("Tool with logging executed successfully")
            }),
        )
        .mcp_tool(
            tool("test_error_handling", "Always fails", no_arguments()),
            handler(|_, _| async {
                Ok(CallToolResult::error(vec![ContentBlock::text(
                    "This tool intentionally returns an error for testing",
                )]))
            }),
        )
        .mcp_tool(
            tool("test_tool_with_progress", "Reports progress 0, 50, 100 of 100", no_arguments()),
            handler(|_, scope: RequestScope| async move {
                for (i, progress) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    scope.progress(progress, Some(100.0), None).await;
                }
                text_result("Tool with progress executed successfully")
            }),
        )
        .mcp_tool(
            tool(
                "test_sampling",
                "Asks the client's model",
                json!({"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}),
            ),
            handler(|arguments: JsonObject, scope: RequestScope| async move {
                if !scope.supports_sampling() {
                    return Ok(CallToolResult::error(vec![ContentBlock::text("this client does not support sampling")]));
                }
                let prompt = arguments.get("prompt").and_then(Value::as_str).unwrap_or_default().to_owned();
                let params = CreateMessageRequestParams::new(vec![SamplingMessage::user_text(prompt)], 100);
                match scope.sample(params).await {
                    Ok(result) => {
                        let text = serde_json::to_value(&result.message.content).unwrap_or_default();
                        text_result(format!("LLM response: {text}"))
                    }
                    Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(format!("sampling failed: {e}"))])),
                }
            }),
        )
        .mcp_tool(
            tool(
                "test_elicitation",
                "Asks the client's user",
                json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}),
            ),
            handler(|arguments: JsonObject, scope: RequestScope| async move {
                let message = arguments.get("message").and_then(Value::as_str).unwrap_or("Please answer").to_owned();
                let params = elicitation(
                    message,
                    json!({"type": "object", "properties": {
                        "username": {"type": "string", "description": "User's response"},
                        "email": {"type": "string", "description": "User's email address"}
                    }, "required": ["username", "email"]}),
                )?;
                elicit(scope, params).await
            }),
        )
        .mcp_tool(
            tool("test_elicitation_sep1034_defaults", "Elicitation with defaults (SEP-1034)", no_arguments()),
            handler(|_, scope: RequestScope| async move {
                let params = elicitation(
                    "Please review the defaults".into(),
                    json!({"type": "object", "properties": {
                        "name": {"type": "string", "description": "User name", "default": "John Doe"},
                        "age": {"type": "integer", "description": "User age", "default": 30},
                        "score": {"type": "number", "description": "User score", "default": 95.5},
                        "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
                        "verified": {"type": "boolean", "description": "Verification status", "default": true}
                    }}),
                )?;
                elicit(scope, params).await
            }),
        )
        .mcp_tool(
            tool("test_elicitation_sep1330_enums", "Elicitation with every enum form (SEP-1330)", no_arguments()),
            handler(|_, scope: RequestScope| async move {
                let params = elicitation(
                    "Please pick options".into(),
                    json!({"type": "object", "properties": {
                        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                        "titledSingle": {"type": "string", "oneOf": [
                            {"const": "value1", "title": "First Option"},
                            {"const": "value2", "title": "Second Option"},
                            {"const": "value3", "title": "Third Option"}
                        ]},
                        "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
                        "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                        "titledMulti": {"type": "array", "items": {"anyOf": [
                            {"const": "value1", "title": "First Choice"},
                            {"const": "value2", "title": "Second Choice"},
                            {"const": "value3", "title": "Third Choice"}
                        ]}}
                    }}),
                )?;
                elicit(scope, params).await
            }),
        )
        .mcp_tool(
            tool(
                "json_schema_2020_12_tool",
                "Tool with JSON Schema 2020-12 features",
                json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "$defs": {"address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
                    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                    "additionalProperties": false
                }),
            ),
            handler(|arguments: JsonObject, _| async move { text_result(Value::Object(arguments).to_string()) }),
        )
        .mcp_tool(
            tool("test_reconnection", "Answers after a short delay (SSE polling scenario)", no_arguments()),
            handler(|_, _| async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                text_result("Reconnection test completed successfully")
            }),
        )
}

fn prompts(builder: weft_mcp::server::McpServerBuilder) -> weft_mcp::server::McpServerBuilder {
    let arg = |name: &str, description: &str| {
        PromptArgument::new(name).with_description(description).with_required(true)
    };
    let text_of = |arguments: &JsonObject, key: &str| {
        arguments.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
    };
    builder
        .prompt(
            Prompt::new("test_simple_prompt", Some("A simple prompt without arguments"), None),
            Arc::new(|_| {
                Ok(vec![PromptMessage::new_text(Role::User, "This is a simple prompt for testing.")])
            }),
        )
        .prompt(
            Prompt::new(
                "test_prompt_with_arguments",
                Some("A prompt with two arguments"),
                Some(vec![arg("arg1", "First test argument"), arg("arg2", "Second test argument")]),
            ),
            Arc::new(move |arguments| {
                Ok(vec![PromptMessage::new_text(
                    Role::User,
                    format!(
                        "Prompt with arguments: arg1='{}', arg2='{}'",
                        text_of(arguments, "arg1"),
                        text_of(arguments, "arg2")
                    ),
                )])
            }),
        )
        .prompt(
            Prompt::new(
                "test_prompt_with_embedded_resource",
                Some("A prompt embedding a resource"),
                Some(vec![arg("resourceUri", "URI of the resource to embed")]),
            ),
            Arc::new(move |arguments| {
                Ok(vec![
                    PromptMessage::new(
                        Role::User,
                        ContentBlock::resource(
                            ResourceContents::text(
                                "Embedded resource content for testing.",
                                text_of(arguments, "resourceUri"),
                            )
                            .with_mime_type("text/plain"),
                        ),
                    ),
                    PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
                ])
            }),
        )
        .prompt(
            Prompt::new("test_prompt_with_image", Some("A prompt with an image"), None),
            Arc::new(|_| {
                Ok(vec![
                    PromptMessage::new(Role::User, ContentBlock::image(RED_PIXEL_PNG, "image/png")),
                    PromptMessage::new_text(Role::User, "Please analyze the image above."),
                ])
            }),
        )
}

fn resources(builder: weft_mcp::server::McpServerBuilder) -> weft_mcp::server::McpServerBuilder {
    builder
        .resource(
            Resource::new("test://static-text", "static-text")
                .with_description("A static text resource")
                .with_mime_type("text/plain"),
            Arc::new(|uri| {
                Ok(vec![
                    ResourceContents::text("This is the content of the static text resource.", uri)
                        .with_mime_type("text/plain"),
                ])
            }),
        )
        .resource(
            Resource::new("test://static-binary", "static-binary")
                .with_description("A static binary resource")
                .with_mime_type("image/png"),
            Arc::new(|uri| Ok(vec![ResourceContents::blob(RED_PIXEL_PNG, uri).with_mime_type("image/png")])),
        )
        .resource(
            Resource::new("test://watched-resource", "watched-resource")
                .with_description("A resource to subscribe to")
                .with_mime_type("text/plain"),
            Arc::new(|uri| {
                Ok(vec![
                    ResourceContents::text("Watched resource content.", uri).with_mime_type("text/plain"),
                ])
            }),
        )
        .resource_template(
            ResourceTemplate::new("test://template/{id}/data", "template-data")
                .with_description("Data for an id")
                .with_mime_type("application/json"),
            Arc::new(|uri, vars: &HashMap<String, String>| {
                let id = vars.get("id").cloned().unwrap_or_default();
                let text =
                    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string();
                Ok(vec![ResourceContents::text(text, uri).with_mime_type("application/json")])
            }),
        )
}

fn server() -> McpServer {
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("weft_assistant")
        .description("A Weft agent on the scripted model: send it a prompt, get its answer.")
        .build();
    let builder = McpServer::builder("weft-conformance-server").agent(Arc::new(agent));
    resources(prompts(tools(builder))).build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--stdio") {
        server().serve_stdio().await?;
        return Ok(());
    }
    let port = match args.iter().position(|a| a == "--port") {
        Some(i) => args.get(i + 1).ok_or("--port needs a value")?.parse::<u16>()?,
        None => 0,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let router = server().router("/mcp", HttpOptions::default().cancellation(shutdown.child_token()));
    println!("listening on http://{address}/mcp");
    let stop = shutdown.clone();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
        })
        .await?;
    Ok(())
}
