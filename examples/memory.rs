//! Context providers: a memory that keeps what the user said in one session and recalls the
//! relevant facts in the next (by keyword; by embedding similarity with an embedding client).
//!
//! `cargo run -p weft --example memory`

use std::sync::Arc;

use weft::context::memory::MemoryProvider;
use weft::prelude::*;

#[tokio::main]
async fn main() -> Result<(), weft::BoxError> {
    let memory = Arc::new(MemoryProvider::new());
    // The scripted model runs offline; any other `ChatClient` (e.g. `weft::openai`) plugs in here.
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .instructions("Answer briefly.")
        .context_provider(memory.clone())
        .build();

    agent.run(&mut AgentSession::new(), "My favourite colour is teal. I live in Lyon.").await?;
    println!("remembered: {}", memory.facts().join(" | "));

    // A new session knows nothing of the first; the memory adds what is relevant to the
    // instructions of this run.
    let question = "Which colour is my favourite?";
    println!("recalled: {}", memory.recall(question).await?.join(" | "));
    let answer = agent.run(&mut AgentSession::new(), question).await?;
    println!("answer: {}", answer.text());
    Ok(())
}
