//! An agent whose tools come from an MCP server started on stdio.
//!
//! `cargo run -p weft-mcp --example mcp_agent` starts the reference server,
//! `npx -y @modelcontextprotocol/server-everything stdio` (it needs Node.js; the first run
//! downloads the package), lists its tools, and asks an agent two things it uses them for. Give
//! another server's command line as arguments to use that one instead:
//! `cargo run -p weft-mcp --example mcp_agent -- python3 my_server.py`.
//!
//! When something fails (no `npx`, a server that does not start or answer), it says what in one
//! line on stderr and exits with status 1.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use weft_core::{AgentSession, ChatAgent, ScriptedClient, ToolSet};
use weft_mcp::{McpSource, StdioServer, UnreachableCause};

/// The server started when no command line is given.
const DEFAULT_SERVER: [&str; 4] = ["npx", "-y", "@modelcontextprotocol/server-everything", "stdio"];

#[tokio::main]
async fn main() -> ExitCode {
    let mut command: Vec<String> = std::env::args().skip(1).collect();
    if command.is_empty() {
        command = DEFAULT_SERVER.iter().map(|s| s.to_string()).collect();
    }
    match run(&command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // One line, whatever the error's text holds.
            eprintln!("mcp_agent: {}", message.split_whitespace().collect::<Vec<_>>().join(" "));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: &[String]) -> Result<(), String> {
    let (program, args) = command.split_first().ok_or("no server command given")?;
    let server = StdioServer::new(program).args(args.iter().cloned());
    // Generous: `npx -y` downloads the package on its first run.
    let source = McpSource::builder("server", server)
        .connect_timeout(Duration::from_secs(120))
        .connect()
        .await
        .map_err(|error| match error.unreachable_cause() {
            Some(UnreachableCause::SpawnFailed) => {
                // The message ends with the OS's reason (`No such file or directory`).
                let reason = error.message().rsplit_once(": ").map_or(error.message(), |(_, reason)| reason);
                format!(
                    "cannot start `{program}`: {reason}; install it (the default server needs Node.js's \
                     npx) or give another server's command line as arguments"
                )
            }
            _ => format!("`{}`: {error}", command.join(" ")),
        })?;
    let names: Vec<String> = source.tools().iter().map(|t| t.definition().name.clone()).collect();
    println!("tools offered by the server: {}", names.join(", "));

    // The scripted model runs offline and calls the tool whose name matches the prompt; any
    // other `ChatClient` plugs in here.
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .instructions("Use the tools to answer.")
        .tool_set(Arc::new(source.clone()))
        .build();
    let mut session = AgentSession::new();
    let mut outcome = Ok(());
    for prompt in ["echo Hello from Weft", "add 2 and 3"] {
        match agent.run(&mut session, prompt).await {
            Ok(answer) => println!("> {prompt}\n{}", answer.text()),
            Err(error) => {
                outcome = Err(format!("the agent failed on {prompt:?}: {error}"));
                break;
            }
        }
    }
    source.close().await;
    outcome
}
