//! Structured output: ask for a typed answer; the schema comes from the Rust type. Here the
//! agent extracts facts from a text (the scripted model fills each field from the text's names,
//! numbers and words; a real model reads it).
//!
//! `cargo run -p weft --example structured_output`

mod common;

use schemars::JsonSchema;
use serde::Deserialize;
use weft::prelude::*;

/// Facts about a city.
#[derive(Debug, Deserialize, JsonSchema)]
struct CityFacts {
    /// The city's name.
    name: String,
    /// The country it is in.
    country: String,
    /// Its population, in millions.
    population_millions: f64,
    /// A few famous places.
    landmarks: Vec<String>,
    /// Whether it is a capital.
    is_capital: bool,
}

#[tokio::main]
async fn main() -> Result<(), AgentError> {
    let agent =
        ChatAgent::builder(common::chat_client()).instructions("You know a lot about cities.").build();
    let mut session = AgentSession::new();
    let text = "Paris is the capital of France, with 2.1 million people, the Eiffel Tower and the Louvre.";
    let facts = agent.run_typed::<CityFacts>(&mut session, text).await?;
    let city = facts.value;
    println!(
        "{} ({}): {} million people, capital: {}",
        city.name, city.country, city.population_millions, city.is_capital
    );
    println!("landmarks: {}", city.landmarks.join(", "));
    println!("(raw answer: {})", facts.response.text());
    Ok(())
}
