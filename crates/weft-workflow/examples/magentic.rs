//! A magentic orchestration: a manager plans, delegates to a researcher and a writer through
//! its progress ledger, and writes the final answer. Offline, the manager replays the answers
//! a planning model would give (swap in a real model's agent to plan for real); the
//! participants run on the scripted model.
//!
//! Run with `cargo run -p weft-workflow --example magentic`.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::json;
use weft_core::{Agent, ChatAgent, ChatResponse, Message, ReplayClient, ScriptedClient};
use weft_workflow::{MagenticBuilder, MagenticEvent, WorkflowEvent};

fn participant(name: &str, description: &str) -> Arc<dyn Agent> {
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name(name).description(description).build())
}

/// The manager's progress ledger, as a planning model answers it.
fn ledger(satisfied: bool, next: &str, instruction: &str) -> ChatResponse {
    let entry = |reason: &str, answer: serde_json::Value| json!({"reason": reason, "answer": answer});
    ChatResponse::text(
        json!({
            "is_request_satisfied": entry("checked against the request", json!(satisfied)),
            "is_in_loop": entry("no repetition so far", json!(false)),
            "is_progress_being_made": entry("each step added something", json!(true)),
            "next_speaker": entry("the plan's next step", json!(next)),
            "instruction_or_question": entry("what that step needs", json!(instruction)),
        })
        .to_string(),
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manager = ChatAgent::builder(Arc::new(ReplayClient::new([
        ChatResponse::text("Given: a release on Friday. To look up: what changed."),
        ChatResponse::text("1. researcher: list the changes\n2. writer: draft the notes"),
        ledger(false, "researcher", "List the changes in this release."),
        ledger(false, "writer", "Draft release notes from the researcher's list."),
        ledger(true, "writer", "Nothing more."),
        ChatResponse::text("Release notes are drafted from the researcher's list of changes."),
    ])))
    .name("manager")
    .build();
    let workflow = MagenticBuilder::new()
        .manager(Arc::new(manager))
        .participant(participant("researcher", "finds and lists facts"))
        .participant(participant("writer", "writes clear prose"))
        .build()?;

    let mut events = workflow.run_stream(vec![Message::user("Write the release notes for Friday")]);
    while let Some(event) = events.next().await {
        match event {
            WorkflowEvent::Custom { event, .. } => match event.get::<MagenticEvent>() {
                Some(MagenticEvent::Planned { plan, .. }) => println!("[plan]\n{}\n", plan.plan),
                Some(MagenticEvent::Delegated { to, instruction }) => println!("[to {to}] {instruction}"),
                Some(MagenticEvent::Finished { reason }) => println!("[finished: {reason:?}]"),
                _ => {}
            },
            WorkflowEvent::Output(output) => {
                if let Some(messages) = output.value.get::<Vec<Message>>() {
                    for message in
                        messages.iter().filter(|m| m.author_name.as_deref() != Some("magentic_manager"))
                    {
                        println!("{}: {}", message.author_name.as_deref().unwrap_or("?"), message.text());
                    }
                    if let Some(answer) = messages.last() {
                        println!("\nfinal answer: {}", answer.text());
                    }
                }
            }
            WorkflowEvent::Failed { error, .. } => return Err(error.to_string().into()),
            _ => {}
        }
    }
    Ok(())
}
