//! Triage hands a billing question to the billing agent through a generated `handoff_to_billing`
//! tool, then the user takes a turn (a human-in-the-loop request) and ends the conversation.
//!
//! Run with `cargo run -p weft-workflow --example handoff`.

use std::sync::Arc;

use weft_core::{Agent, ChatAgent, Message, ScriptedClient};
use weft_workflow::{
    HandoffBuilder, HandoffEvent, InMemoryCheckpointStore, RequestResponse, RunStatus, WorkflowEvent,
    WorkflowRunResult,
};

fn agent(name: &str, description: &str) -> Arc<dyn Agent> {
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name(name).description(description).build())
}

fn show(result: &WorkflowRunResult) {
    for event in &result.events {
        if let WorkflowEvent::Custom { event, .. } = event {
            if let Some(HandoffEvent { from, to }) = event.get::<HandoffEvent>() {
                println!("-- {from} hands off to {to}");
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workflow = HandoffBuilder::new()
        .participants([
            agent("triage", "routes questions"),
            agent("billing", "invoices and refunds"),
            agent("support", "technical problems"),
        ])
        // Billing may only pass problems on to support (by default every agent may hand off to
        // every other one).
        .add_handoff("billing", ["support"])
        .with_human_input(true)
        .with_checkpoint_store(Arc::new(InMemoryCheckpointStore::new()))
        .build()?;
    let mut result = workflow.run(vec![Message::user("I have a billing question")]).await?;
    let mut replies = vec!["Can I get a refund?".to_string(), String::new()].into_iter();
    while result.status == RunStatus::IdleWithPendingRequests {
        show(&result);
        let request = result.pending_requests().remove(0);
        let reply = replies.next().unwrap_or_default();
        println!("-- {} waits for the user; the user says {reply:?}", request.executor_id);
        let checkpoint = result.last_checkpoint_id().ok_or("no checkpoint")?.to_string();
        result = workflow
            .send_responses(&checkpoint, vec![RequestResponse::new(request.request_id, reply)])
            .await?;
    }
    show(&result);
    if let Some(error) = result.error() {
        return Err(format!("the run failed: {error}").into());
    }
    for message in result.outputs_as::<Vec<Message>>().concat() {
        println!("{}: {}", message.author_name.as_deref().unwrap_or("user"), message.text());
    }
    Ok(())
}
