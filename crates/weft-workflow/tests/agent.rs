#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Agents as executors: updates become events, conversations flow along edges.

use std::sync::Arc;

use weft_core::{ChatAgent, Message, ScriptedClient};
use weft_workflow::{AgentExecutor, RunStatus, WorkflowBuilder, WorkflowEvent};

fn agent(name: &str) -> Arc<ChatAgent> {
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name(name).build())
}

#[tokio::test]
async fn agents_chain_and_stream_updates() {
    let workflow = WorkflowBuilder::new()
        .start_with(AgentExecutor::new(agent("writer")))
        .add_executor(AgentExecutor::new(agent("reviewer")).yield_messages(true))
        .add_edge("writer", "reviewer")
        .build()
        .unwrap();
    let result = workflow.run(vec![Message::user("hello")]).await.unwrap();
    assert_eq!(result.status, RunStatus::Idle);
    let added = result.outputs_as::<Vec<Message>>();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].last().unwrap().text(), "You said: hello");
    let mut writers = 0;
    let mut reviewers = 0;
    for event in &result.events {
        if let WorkflowEvent::AgentUpdate { executor_id, .. } = event {
            match executor_id.as_str() {
                "writer" => writers += 1,
                "reviewer" => reviewers += 1,
                other => panic!("unexpected executor {other}"),
            }
        }
    }
    assert!(writers > 0 && reviewers > 0, "writer {writers}, reviewer {reviewers}");
}
