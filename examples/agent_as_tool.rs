//! One agent calls another as a tool (`as_tool`): the inner agent's streamed text is forwarded
//! to the outer stream, its usage counts in the outer run, and its approval request reaches
//! the outer caller, whose answer resumes the inner run.
//!
//! `cargo run -p weft --example agent_as_tool`

use std::sync::Arc;

use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use weft::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct WeatherArgs {
    /// The city to get the weather for.
    city: String,
}

#[tokio::main]
async fn main() -> Result<(), AgentError> {
    let get_weather =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: WeatherArgs| async move {
            Ok::<_, std::convert::Infallible>(format!("weather in {}: sunny, 21C", args.city))
        })
        .with_approval(ApprovalMode::Always);
    let forecaster = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("forecaster")
        .description("Answers questions about the weather")
        .tool(get_weather)
        .build();
    let lead =
        ChatAgent::builder(Arc::new(ScriptedClient::new())).name("lead").tool(forecaster.as_tool()).build();
    let mut session = AgentSession::new();

    let response = lead.run(&mut session, "Ask the forecaster, prompt: weather in Paris").await?;
    let requests = response.approval_requests();
    for request in &requests {
        println!("approval asked: {} {}", request.call.name, request.call.arguments);
    }
    let answers: Vec<Message> = requests.iter().map(ApprovalRequest::approve).collect();

    // The answer resumes the forecaster's run; its text streams through the lead's stream.
    let mut forwarded = String::new();
    let mut stream = lead.run_stream(&mut session, answers);
    while let Some(update) = stream.next().await {
        let update = update?;
        if update.author_name.as_deref() == Some("forecaster") {
            forwarded.push_str(&update.text_content());
        }
    }
    drop(stream);
    println!("forecaster streamed: {forwarded}");
    println!("lead answers: {}", session.messages.last().map(Message::text).unwrap_or_default());
    Ok(())
}
