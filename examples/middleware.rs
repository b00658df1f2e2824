//! Middleware at the three interception points, made with `weft::from_fn`: an agent-run timer,
//! a chat-call logger, a function-call logger, and a function middleware that short-circuits
//! (blocks a tool without running it). The first middleware added is the outermost.
//!
//! `cargo run -p weft --example middleware`

mod common;

use std::time::Instant;

use schemars::JsonSchema;
use serde::Deserialize;
use weft::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct WeatherArgs {
    /// The city.
    city: String,
}

#[derive(Deserialize, JsonSchema)]
struct DeleteArgs {
    /// The file to delete.
    path: String,
}

#[tokio::main]
async fn main() -> Result<(), AgentError> {
    let weather =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: WeatherArgs| async move {
            Ok::<_, std::convert::Infallible>(format!("weather in {}: sunny, 21C", args.city))
        });
    let delete = FunctionTool::new("delete_file", "Delete a file", |args: DeleteArgs| async move {
        Ok::<_, std::convert::Infallible>(format!("deleted {}", args.path))
    });

    let agent = ChatAgent::builder(common::chat_client())
        .tool(weather)
        .tool(delete)
        // Agent middleware: times the whole run.
        .middleware(from_fn(|run: AgentRunContext, next: Next<AgentRunContext>| async move {
            let started = Instant::now();
            let result = next.run(run).await;
            match &result {
                Ok(response) => println!(
                    "[agent] run took {:?}, {} model call(s)",
                    started.elapsed(),
                    response.model_calls
                ),
                Err(error) => println!("[agent] run failed after {:?}: {error}", started.elapsed()),
            }
            result
        }))
        // Chat middleware: logs every model call.
        .chat_middleware(from_fn(|request: ChatRequest, next: Next<ChatRequest>| async move {
            println!("[chat] calling the model with {} message(s)", request.messages.len());
            let response = next.run(request).await?;
            println!("[chat] finish reason: {:?}", response.finish_reason);
            Ok(response)
        }))
        // Function middleware: logs every tool call and its result.
        .function_middleware(from_fn(
            |invocation: FunctionInvocation, next: Next<FunctionInvocation>| async move {
                println!("[tool] {} {}", invocation.call.name, invocation.call.arguments);
                let output = next.run(invocation).await;
                println!("[tool] -> {:?}", output.as_ref().map(|o| &o.value));
                output
            },
        ))
        // Function middleware that short-circuits: deleting files is refused without calling the
        // tool. The model is told why.
        .function_middleware(from_fn(
            |invocation: FunctionInvocation, next: Next<FunctionInvocation>| async move {
                if invocation.call.name == "delete_file" {
                    return Err(ToolError::failed("blocked by policy: this agent may not delete files"));
                }
                next.run(invocation).await
            },
        ))
        .build();

    let mut session = AgentSession::new();
    let answer = agent.run(&mut session, "What's the weather in Lisbon?").await?;
    println!("answer: {}\n", answer.text());
    let answer = agent.run(&mut session, "Delete the file notes.txt").await?;
    println!("answer: {}", answer.text());
    Ok(())
}
