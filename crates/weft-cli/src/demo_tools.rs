//! The demo tools `weft run` gives its agent: deterministic and offline.

use std::convert::Infallible;

use schemars::JsonSchema;
use serde::Deserialize;
use weft::FunctionTool;

/// Arguments of `get_weather`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct WeatherArgs {
    /// The city, e.g. "Paris".
    pub(crate) city: String,
}

/// Arguments of `add`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct AddArgs {
    /// The first number.
    pub(crate) a: f64,
    /// The second number.
    pub(crate) b: f64,
}

/// A made-up but stable forecast: the same city always gets the same weather.
pub(crate) fn forecast(city: &str) -> String {
    const SKIES: [&str; 5] = ["sunny", "cloudy", "rainy", "windy", "foggy"];
    let city = city.trim();
    let seed = city
        .to_lowercase()
        .bytes()
        .fold(7u32, |hash, byte| hash.wrapping_mul(31).wrapping_add(u32::from(byte)));
    let sky = SKIES[(seed % SKIES.len() as u32) as usize];
    let celsius = 5 + (seed / 7) % 26;
    format!("weather in {city}: {sky}, {celsius}C")
}

/// `get_weather(city)`: a deterministic fake forecast.
pub(crate) fn get_weather() -> FunctionTool<WeatherArgs> {
    FunctionTool::new(
        "get_weather",
        "Get the current weather forecast for a city (demo data)",
        |args: WeatherArgs| async move { Ok::<_, Infallible>(forecast(&args.city)) },
    )
}

/// `add(a, b)`: the sum of two numbers.
pub(crate) fn add() -> FunctionTool<AddArgs> {
    FunctionTool::new("add", "Add two numbers and return their sum", |args: AddArgs| async move {
        Ok::<_, Infallible>(format!("{} + {} = {}", args.a, args.b, args.a + args.b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forecasts_are_stable_and_name_the_city() {
        let first = forecast("Paris");
        assert_eq!(first, forecast("Paris"));
        assert!(first.starts_with("weather in Paris: "), "{first}");
        assert_eq!(forecast("paris").to_lowercase(), first.to_lowercase());
    }
}
