//! Sessions: run, save the conversation as JSON, load it (as another process would), run again.
//!
//! `cargo run -p weft --example session_resume`

mod common;

use weft::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = ChatAgent::builder(common::chat_client()).instructions("Answer briefly.").build();
    let path = std::env::temp_dir().join(format!("weft-session-{}.json", std::process::id()));

    // First run, then save.
    let mut session = AgentSession::new();
    let first = agent.run(&mut session, "My name is Ada.").await?;
    println!("1st answer: {}", first.text());
    session.save(&path)?;
    println!("saved session {} ({} messages) to {}", session.id, session.messages.len(), path.display());

    // Later: load and continue the same conversation.
    let mut resumed = AgentSession::load(&path)?;
    assert_eq!(resumed, session);
    let second = agent.run(&mut resumed, "What is my name?").await?;
    println!("2nd answer: {}", second.text());
    println!("the conversation now has {} messages:", resumed.messages.len());
    for message in &resumed.messages {
        println!("  {:>9}: {}", message.role, message.text());
    }
    std::fs::remove_file(&path)?;
    Ok(())
}
