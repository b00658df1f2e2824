//! An agent on Gemini: a tool, a streamed answer, and the run's usage.
//!
//! `cargo run -p weft --features gemini --example gemini`
//!
//! With `GEMINI_API_KEY` (or `GOOGLE_API_KEY`) set it asks Gemini (`GEMINI_MODEL`, default
//! `gemini-2.5-flash`; `GEMINI_BASE_URL` for another server, e.g. a LiteLLM proxy's
//! `http://localhost:4000/v1beta`); without, Weft's offline scripted model.

use std::io::Write;
use std::sync::Arc;

use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use weft::gemini::GeminiBuilder;
use weft::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Weather {
    /// The city to look up.
    city: String,
}

/// Gemini when a key (or a server) is configured, else the scripted model.
fn chat_client() -> Arc<dyn ChatClient> {
    let set = |name: &str| std::env::var(name).is_ok_and(|value| !value.trim().is_empty());
    if ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_BASE_URL"].iter().any(|name| set(name)) {
        let mut builder = GeminiBuilder::from_env();
        if !set("GEMINI_MODEL") {
            builder = builder.model("gemini-2.5-flash");
        }
        match builder.build() {
            Ok(gemini) => {
                eprintln!("(using {} at {})", gemini.default_model().unwrap_or("?"), gemini.base_url());
                return Arc::new(gemini.chat());
            }
            Err(error) => eprintln!("(cannot use Gemini: {error}; falling back to the scripted model)"),
        }
    }
    eprintln!("(using the scripted model: deterministic, offline; set GEMINI_API_KEY for Gemini)");
    Arc::new(ScriptedClient::new())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let get_weather =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: Weather| async move {
            Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
        });
    let agent = ChatAgent::builder(chat_client())
        .instructions("You answer questions about the weather, briefly.")
        .tool(get_weather)
        .build();
    let mut session = AgentSession::new();
    let mut stream = agent.run_stream(&mut session, "What's the weather in Paris?");
    let mut stdout = std::io::stdout();
    let mut usage = Usage::default();
    while let Some(update) = stream.next().await {
        let update = update?;
        for content in &update.contents {
            match content {
                Content::Text { text } if update.role != Some(Role::Tool) => {
                    write!(stdout, "{text}")?;
                    stdout.flush()?;
                }
                Content::FunctionCall(call) => eprintln!("→ {} {}", call.name, call.arguments),
                Content::FunctionResult(result) => eprintln!("← {}", result.to_model_text()),
                Content::Usage(call_usage) => usage += *call_usage,
                _ => {}
            }
        }
    }
    println!();
    eprintln!("usage: {} tokens in, {} out", usage.input_tokens, usage.output_tokens);
    Ok(())
}
