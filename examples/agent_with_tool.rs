//! An agent with a typed function tool, run once.
//!
//! `cargo run -p weft --example agent_with_tool`

use std::sync::Arc;

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
        });
    // The scripted model runs offline; any other `ChatClient` (e.g. `weft::openai`) plugs in here.
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .instructions("You are a helpful weather assistant.")
        .tool(get_weather)
        .build();

    let mut session = AgentSession::new();
    let response = agent.run(&mut session, "What's the weather in Paris?").await?;
    println!("{}", response.text());
    Ok(())
}
