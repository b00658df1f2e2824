//! Prompts and resources against real servers: the Python `mcp` server over stdio and
//! server-everything over stdio and streamable HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::bounded;
use serde_json::json;
use weft_core::{Content, Role};
use weft_mcp::{McpErrorKind, McpResourceContents, McpSource, StdioServer};

async fn connect(name: &str, server: impl Into<weft_mcp::ServerConfig>) -> McpSource {
    bounded(30, McpSource::builder(name, server).request_timeout(Duration::from_secs(10)).connect())
        .await
        .unwrap()
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn python_prompts_and_resources() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = connect("py", StdioServer::new(python).arg(common::py_server()).arg("stdio")).await;

    let prompts = bounded(10, source.list_prompts()).await.unwrap();
    let greet = prompts.iter().find(|p| p.name == "greet").expect("the greet prompt");
    assert_eq!(greet.description.as_deref(), Some("A greeting prompt."));
    assert_eq!(greet.arguments.len(), 1);
    assert_eq!(greet.arguments[0].name, "name");
    assert!(greet.arguments[0].required);

    let filled = bounded(10, source.get_prompt("greet", json!({"name": "Ada"}))).await.unwrap();
    assert_eq!(filled.messages.len(), 1);
    assert_eq!(filled.messages[0].role, Role::User);
    assert_eq!(filled.messages[0].text(), "Please greet Ada warmly.");

    // An unknown prompt is the server's JSON-RPC error, and the session stays usable.
    let error = bounded(10, source.get_prompt("nope", json!(null))).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::Server, "{error}");
    assert!(error.to_string().contains("prompt 'nope'"), "{error}");
    // Arguments that are not an object are refused before anything is sent.
    let error = bounded(10, source.get_prompt("greet", json!([1]))).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::Configuration, "{error}");

    let resources = bounded(10, source.list_resources()).await.unwrap();
    let hello = resources.iter().find(|r| r.uri == "test://hello").expect("the hello resource");
    assert_eq!(hello.name, "hello");
    let contents = bounded(10, source.read_resource("test://hello")).await.unwrap();
    assert_eq!(contents.len(), 1);
    assert_eq!(contents[0].text(), Some("hello from the resource"));
    assert_eq!(contents[0].uri(), "test://hello");

    let error = bounded(10, source.read_resource("test://missing")).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::Server, "{error}");
    bounded(10, source.ping()).await.unwrap();
    bounded(15, source.close()).await;

    // Closed: a typed error, not a hang.
    let error = bounded(10, source.list_prompts()).await.unwrap_err();
    assert!(error.is_closed(), "{error}");
}

async fn everything_checks(source: &McpSource) {
    let prompts = bounded(10, source.list_prompts()).await.unwrap();
    let args = prompts.iter().find(|p| p.name == "args-prompt").expect("args-prompt");
    assert_eq!(args.title.as_deref(), Some("Arguments Prompt"));
    let city = args.arguments.iter().find(|a| a.name == "city").unwrap();
    assert!(city.required);
    let state = args.arguments.iter().find(|a| a.name == "state").unwrap();
    assert!(!state.required);
    let filled =
        bounded(10, source.get_prompt("args-prompt", json!({"city": "Paris", "state": "TX"}))).await.unwrap();
    assert_eq!(filled.messages[0].text(), "What's weather in Paris, TX?");

    let resources = bounded(10, source.list_resources()).await.unwrap();
    assert!(!resources.is_empty());
    let first = &resources[0];
    let contents = bounded(10, source.read_resource(&first.uri)).await.unwrap();
    assert!(!contents.is_empty(), "{first:?}");

    let templates = bounded(10, source.list_resource_templates()).await.unwrap();
    let blob = templates.iter().find(|t| t.uri_template.contains("/blob/")).expect("a blob template");
    let uri = blob.uri_template.replace("{resourceId}", "1");
    let contents = bounded(10, source.read_resource(&uri)).await.unwrap();
    match &contents[0] {
        McpResourceContents::Blob { base64, .. } => assert!(!base64.is_empty()),
        other => panic!("expected a blob: {other:?}"),
    }
    assert!(matches!(contents[0].to_content(), Content::Data { .. }));
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn everything_prompts_and_resources_stdio() {
    let node = common::peer("WEFT_MCP_NODE");
    let everything = common::peer("WEFT_MCP_EVERYTHING");
    let source = connect("everything", StdioServer::new(node).arg(everything).arg("stdio")).await;
    everything_checks(&source).await;
    bounded(15, source.close()).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn everything_prompts_and_resources_http() {
    let node = common::peer("WEFT_MCP_NODE");
    let everything = common::peer("WEFT_MCP_EVERYTHING");
    let server = common::start_everything_http(&node, &everything).await;
    let source = connect("everything-http", weft_mcp::HttpServer::new(&server.url)).await;
    everything_checks(&source).await;
    bounded(15, source.close()).await;
}
