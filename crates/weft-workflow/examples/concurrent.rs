//! Three agents on the same question at once, their answers joined by a custom aggregator.
//!
//! Run with `cargo run -p weft-workflow --example concurrent`.

use std::sync::Arc;

use weft_core::{Agent, ChatAgent, Message, ScriptedClient};
use weft_workflow::ConcurrentBuilder;

fn agent(name: &str) -> Arc<dyn Agent> {
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name(name).build())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workflow = ConcurrentBuilder::new()
        .participants([agent("legal"), agent("finance"), agent("engineering")])
        .with_aggregator(|results| {
            let lines: Vec<String> = results
                .iter()
                .map(|r| {
                    format!("[{}] {}", r.agent, r.messages.last().map(Message::text).unwrap_or_default())
                })
                .collect();
            vec![Message::assistant(lines.join("\n")).with_author("summary")]
        })
        .build()?;
    let result = workflow.run(vec![Message::user("Should we launch on Monday?")]).await?;
    for message in result.outputs_as::<Vec<Message>>().concat() {
        println!("{}", message.text());
    }
    Ok(())
}
