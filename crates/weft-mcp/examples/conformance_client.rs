//! A client for the official MCP conformance suite (`@modelcontextprotocol/conformance`), built on
//! weft-mcp's [`McpSource`] like any Weft user would.
//!
//! The suite runs `conformance client --command "<this binary>" --scenario <name>`: it appends
//! the scenario server's URL as the last argument and names the scenario in
//! `MCP_CONFORMANCE_SCENARIO`. The client connects (initialize + tools/list), does what the
//! scenario checks, closes the session, and exits 0 — or prints the error and exits 1.
//!
//! `scripts/conformance.sh` installs the suite and runs the scenarios this client passes.

use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Map, Value, json};
use weft_core::ToolSet;
use weft_mcp::{ElicitationRequest, ElicitationResponse, HttpServer, McpError, McpSource};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(url) = std::env::args().skip(1).last() else {
        eprintln!("usage: conformance_client URL (the scenario in MCP_CONFORMANCE_SCENARIO)");
        return ExitCode::from(2);
    };
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    match run(&scenario, &url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conformance client ({scenario}): {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(scenario: &str, url: &str) -> Result<(), McpError> {
    let mut builder = McpSource::builder("conformance", HttpServer::new(url))
        .connect_timeout(Duration::from_secs(20))
        .request_timeout(Duration::from_secs(20));
    if scenario.starts_with("elicitation") {
        // A user who accepts the form as offered: weft-mcp fills in the schema's defaults.
        builder = builder.elicitation_handler(|request: ElicitationRequest| async move {
            eprintln!("elicitation: {} (accepting the defaults {:?})", request.message, request.defaults());
            ElicitationResponse::Accept(Map::new())
        });
    }
    let source = builder.connect().await?;
    let names: Vec<String> = source.tools().iter().map(|tool| tool.definition().name.clone()).collect();
    eprintln!("connected to {url}; tools: {names:?}");
    let result = scenario_steps(scenario, &source, &names).await;
    source.close().await;
    result
}

/// What each scenario checks beyond the handshake and the tool list.
async fn scenario_steps(scenario: &str, source: &McpSource, names: &[String]) -> Result<(), McpError> {
    let call = |name: &str, arguments: Value| {
        let name = name.to_string();
        async move {
            let output = source.call_tool(&name, arguments).await?;
            eprintln!("{name} → {}", output.value);
            Ok::<(), McpError>(())
        }
    };
    match scenario {
        // initialize: the handshake and tools/list are the whole scenario.
        "initialize" => Ok(()),
        "tools_call" => call("add_numbers", json!({"a": 5, "b": 3})).await,
        // The server closes the call's event stream after a priming event with `retry`; the
        // answer arrives on the resumed stream (rmcp honours `retry` and sends Last-Event-ID).
        "sse-retry" => call("test_reconnection", json!({})).await,
        // The server asks for input (elicitation/create); the answer must carry the schema's
        // defaults for the omitted fields.
        "elicitation-sep1034-client-defaults" => call("test_client_elicitation_defaults", json!({})).await,
        // Unknown scenarios: call each tool that takes no required argument.
        _ => {
            for name in names {
                let required = source
                    .tools()
                    .iter()
                    .find(|tool| &tool.definition().name == name)
                    .and_then(|tool| tool.definition().parameters["required"].as_array().map(Vec::len))
                    .unwrap_or(0);
                if required == 0 {
                    call(name, json!({})).await?;
                }
            }
            Ok(())
        }
    }
}
