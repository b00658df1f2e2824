#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One budget covers all of a workflow run's agents.

use std::sync::Arc;

use weft_core::{
    AgentError, BudgetLimits, BudgetOverrun, ChatAgent, ChatResponse, Message, ReplayClient, Usage,
};
use weft_workflow::{RunStatus, SequentialBuilder, Workflow, WorkflowError};

fn answering(name: &str, answers: usize, usage: Usage) -> (Arc<ChatAgent>, Arc<ReplayClient>) {
    let responses = (0..answers)
        .map(|i| ChatResponse { usage: Some(usage), ..ChatResponse::text(format!("{name} {i}")) });
    let client = Arc::new(ReplayClient::new(responses));
    (Arc::new(ChatAgent::builder(client.clone()).name(name).build()), client)
}

/// A writer then a reviewer, each answering with 6 output tokens.
fn two_agents() -> (Workflow, Arc<ReplayClient>, Arc<ReplayClient>) {
    let (writer, writer_client) = answering("writer", 2, Usage::new(1, 6));
    let (reviewer, reviewer_client) = answering("reviewer", 2, Usage::new(1, 6));
    let workflow = SequentialBuilder::new().participant(writer).participant(reviewer).build().unwrap();
    (workflow, writer_client, reviewer_client)
}

#[tokio::test]
async fn the_second_agent_is_stopped_by_what_the_first_spent() {
    let (workflow, _, reviewer_client) = two_agents();
    // Either agent alone stays under 6 output tokens; together they would spend 12.
    let workflow = workflow.with_budget(BudgetLimits::new().max_output_tokens(6));
    let result = workflow.run(vec![Message::user("draft a note")]).await.unwrap();
    assert_eq!(result.status, RunStatus::Failed);
    let error = result.error().unwrap();
    let WorkflowError::Executor { source, .. } = error.as_ref() else { panic!("{error:?}") };
    let agent_error = source.downcast_ref::<AgentError>().unwrap();
    assert!(
        matches!(
            agent_error,
            AgentError::BudgetExceeded { agent, overrun: BudgetOverrun::OutputTokens { limit: 6, used: 6 }, .. }
                if agent == "reviewer"
        ),
        "{agent_error:?}"
    );
    assert_eq!(reviewer_client.remaining(), 2, "the reviewer never called its model");
}

#[tokio::test]
async fn each_run_of_the_workflow_gets_a_fresh_account() {
    let (workflow, _, _) = two_agents();
    let workflow = workflow.with_budget(BudgetLimits::new().max_output_tokens(13));
    for _ in 0..2 {
        let result = workflow.run(vec![Message::user("draft a note")]).await.unwrap();
        assert_eq!(result.status, RunStatus::Idle, "{:?}", result.error());
    }
}

#[tokio::test]
async fn a_group_chat_managers_model_calls_draw_from_the_budget_too() {
    use weft_workflow::{GroupChatBuilder, SpeakerSelector};
    let decision = ChatResponse {
        usage: Some(Usage::new(1, 5)),
        ..ChatResponse::text(serde_json::json!({"next_speaker": "writer"}).to_string())
    };
    let manager_client = Arc::new(ReplayClient::new([decision]));
    let manager = Arc::new(ChatAgent::builder(manager_client).name("manager").build());
    let (writer, writer_client) = answering("writer", 1, Usage::new(1, 1));
    let workflow = GroupChatBuilder::new()
        .participants([writer as Arc<dyn weft_core::Agent>])
        .selector(SpeakerSelector::Agent(manager))
        .build()
        .unwrap()
        .with_budget(BudgetLimits::new().max_output_tokens(5));
    let result = workflow.run(vec![Message::user("a slogan")]).await.unwrap();
    assert_eq!(result.status, RunStatus::Failed);
    assert_eq!(writer_client.remaining(), 1, "the manager spent the budget before the writer spoke");
}
