//! An agent with a tool on Amazon Bedrock, its answer streamed (ConverseStream).
//!
//! `cargo run -p weft --features bedrock --example bedrock`
//!
//! With `BEDROCK_MODEL` set (a model id or inference profile, e.g.
//! `us.amazon.nova-lite-v1:0`) and AWS credentials configured (`AWS_ACCESS_KEY_ID` and
//! `AWS_SECRET_ACCESS_KEY`, or `AWS_PROFILE`, or a Bedrock API key in
//! `AWS_BEARER_TOKEN_BEDROCK`; the region in `AWS_REGION` or the profile) it calls Bedrock;
//! without, Weft's offline scripted model.

use std::io::Write;
use std::sync::Arc;

use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use weft::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Weather {
    /// The city to look up.
    city: String,
}

fn set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| !value.trim().is_empty())
}

/// Bedrock when a model and credentials are configured, else the scripted model.
fn chat_client() -> Arc<dyn ChatClient> {
    let credentials = ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK"];
    if set("BEDROCK_MODEL") && credentials.iter().any(|name| set(name)) {
        match weft::bedrock::Bedrock::from_env() {
            Ok(bedrock) => {
                eprintln!(
                    "(using Bedrock at {}, model {})",
                    bedrock.endpoint(),
                    bedrock.default_model().unwrap_or("")
                );
                return Arc::new(bedrock.converse());
            }
            Err(error) => eprintln!("(cannot use Bedrock: {error}; falling back to the scripted model)"),
        }
    }
    eprintln!("(using the scripted model: set BEDROCK_MODEL and AWS credentials to use Bedrock)");
    Arc::new(ScriptedClient::new())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let get_weather =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: Weather| async move {
            Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
        });
    let agent = ChatAgent::builder(chat_client())
        .instructions("You answer questions about the weather, in one sentence.")
        .tool(get_weather)
        .build();
    let mut session = AgentSession::new();
    let mut stream = agent.run_stream(&mut session, "What's the weather in Paris?");
    let mut stdout = std::io::stdout();
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
                _ => {}
            }
        }
    }
    println!();
    Ok(())
}
