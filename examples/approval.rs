//! Human in the loop: a tool whose calls need approval. The run stops with an approval
//! request; the caller approves it and runs again, and the tool runs then.
//!
//! `cargo run -p weft --example approval`

mod common;

use schemars::JsonSchema;
use serde::Deserialize;
use weft::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct RefundArgs {
    /// The amount, in euros.
    amount: f64,
    /// The number of the order to refund.
    order_number: u32,
}

#[tokio::main]
async fn main() -> Result<(), AgentError> {
    let refund = FunctionTool::new("refund_order", "Refund an order", |args: RefundArgs| async move {
        Ok::<_, std::convert::Infallible>(format!(
            "refunded {:.2} EUR on order {}",
            args.amount, args.order_number
        ))
    })
    .with_approval(ApprovalMode::Always);
    let agent = ChatAgent::builder(common::chat_client()).tool(refund).build();
    let mut session = AgentSession::new();

    let response = agent.run(&mut session, "Refund 25 euros for order 1234").await?;
    let requests = response.approval_requests();
    println!("the run stopped with {} approval request(s)", requests.len());

    // Here a real application would ask a human (and could save the session meanwhile).
    let answers: Vec<Message> = requests
        .iter()
        .map(|request| {
            println!("  approving {} {}", request.call.name, request.call.arguments);
            request.approve()
        })
        .collect();

    let response = agent.run(&mut session, answers).await?;
    println!("answer: {}", response.text());
    Ok(())
}
