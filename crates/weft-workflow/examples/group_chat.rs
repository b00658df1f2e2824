//! A group chat: a function picks who speaks next until four turns were taken.
//!
//! Run with `cargo run -p weft-workflow --example group_chat`.

use std::sync::Arc;

use weft_core::{Agent, ChatAgent, Message, ScriptedClient};
use weft_workflow::{GroupChatBuilder, SpeakerSelector};

fn agent(name: &str) -> Arc<dyn Agent> {
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name(name).build())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workflow = GroupChatBuilder::new()
        .participants([agent("planner"), agent("critic"), agent("writer")])
        // The planner opens; then critic and writer alternate.
        .selector(SpeakerSelector::function(|state| {
            let next = match state.last_speaker.as_deref() {
                None => "planner",
                Some("critic") => "writer",
                Some(_) => "critic",
            };
            Some(next.to_string())
        }))
        .max_rounds(4)
        .build()?;
    let result = workflow.run(vec![Message::user("Draft a launch announcement")]).await?;
    for message in result.outputs_as::<Vec<Message>>().concat() {
        println!("{}: {}", message.author_name.as_deref().unwrap_or("?"), message.text());
    }
    Ok(())
}
