//! Run budgets: limit a run's tokens, cost, wall time and tool calls; going over ends the run
//! with `AgentError::BudgetExceeded`, which names the limit and carries the partial response.
//!
//! `cargo run -p weft --example budget`

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use weft::prelude::*;
use weft::{BudgetLimits, ModelPrice, PriceTable};

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
    let prices = PriceTable::new().with("scripted", ModelPrice::new(2.0, 8.0));
    // No tool calls allowed: the model's first call to get_weather ends the run.
    let limits =
        BudgetLimits::new().max_tool_calls(0).max_cost(0.01, prices).max_wall_time(Duration::from_secs(30));
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).tool(get_weather).budget(limits).build();

    let mut session = AgentSession::new();
    match agent.run(&mut session, "What's the weather in Paris?").await {
        Err(AgentError::BudgetExceeded { overrun, response, .. }) => {
            println!("stopped: {overrun}");
            println!(
                "partial response: {} messages, {} input tokens, cost {:.6}",
                response.messages.len(),
                response.usage.input_tokens,
                response.cost.unwrap_or_default()
            );
            println!("session unchanged: {} messages", session.messages.len());
        }
        Ok(response) => println!("answered within the budget: {}", response.text()),
        Err(error) => return Err(error),
    }
    Ok(())
}
