//! Two agents one after another on the scripted model: each sees the conversation so far.
//!
//! Run with `cargo run -p weft-workflow --example sequential`.

use std::sync::Arc;

use weft_core::{Agent, ChatAgent, Message, ScriptedClient};
use weft_workflow::SequentialBuilder;

fn agent(name: &str, instructions: &str) -> Arc<dyn Agent> {
    Arc::new(
        ChatAgent::builder(Arc::new(ScriptedClient::new())).name(name).instructions(instructions).build(),
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workflow = SequentialBuilder::new()
        .participant(agent("writer", "Write a tagline."))
        .participant(agent("reviewer", "Improve the tagline."))
        .build()?;
    println!("{}", workflow.to_mermaid());
    let result = workflow.run(vec![Message::user("a tagline for a Rust agent framework")]).await?;
    for message in result.outputs_as::<Vec<Message>>().concat() {
        println!("{}: {}", message.author_name.as_deref().unwrap_or("?"), message.text());
    }
    Ok(())
}
