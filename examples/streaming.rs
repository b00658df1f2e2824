//! Streaming a run: text deltas as they arrive on stdout, tool activity on stderr.
//!
//! `cargo run -p weft --example streaming`

mod common;

use std::io::Write;

use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use weft::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    /// The first number.
    a: f64,
    /// The second number.
    b: f64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let add = FunctionTool::new("add", "Add two numbers", |args: AddArgs| async move {
        Ok::<_, std::convert::Infallible>(format!("{} + {} = {}", args.a, args.b, args.a + args.b))
    });
    let agent = ChatAgent::builder(common::chat_client()).tool(add).build();
    let mut session = AgentSession::new();

    let mut stream = agent.run_stream(&mut session, "Please add 19 and 23");
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
                // Each model call reports its usage; sum them for the run.
                Content::Usage(call_usage) => usage += *call_usage,
                _ => {}
            }
        }
    }
    println!();
    eprintln!("usage: {} tokens in, {} out", usage.input_tokens, usage.output_tokens);
    // The stream updated the session when it ended.
    drop(stream);
    eprintln!("the session now holds {} messages", session.messages.len());
    Ok(())
}
