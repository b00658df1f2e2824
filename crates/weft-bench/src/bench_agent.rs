//! The agent every workload runs: its instructions and its one tool (WORKLOADS.md).

use schemars::JsonSchema;
use serde::Deserialize;
use weft_core::FunctionTool;

/// The benchmark agent's instructions.
pub const INSTRUCTIONS: &str = "You are a benchmark agent.";

/// The arguments of [`weather_tool`].
#[derive(Deserialize, JsonSchema)]
pub struct WeatherArgs {
    /// City name
    city: String,
}

/// `get_weather`, the workloads' one tool: a fixed answer for the city asked.
pub fn weather_tool() -> FunctionTool<WeatherArgs> {
    FunctionTool::new("get_weather", "Get the current weather for a city.", |args: WeatherArgs| async move {
        Ok::<_, std::convert::Infallible>(format!("weather in {}: sunny, 21C", args.city))
    })
}
