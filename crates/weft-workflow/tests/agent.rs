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

mod approvals {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::json;
    use weft_core::{
        ApprovalMode, ChatAgent, ChatResponse, FunctionCall, FunctionTool, Message, ReplayClient,
    };
    use weft_workflow::{
        AgentApprovalRequest, InMemoryCheckpointStore, RequestResponse, RunStatus, SequentialBuilder,
        Workflow,
    };

    /// A sequential workflow whose `clerk` may refund only with approval; returns the number of
    /// refunds made.
    fn refund_workflow(
        store: Arc<InMemoryCheckpointStore>,
        clerk_answers: Vec<ChatResponse>,
    ) -> (Workflow, Arc<AtomicUsize>, Arc<ReplayClient>) {
        let refunds = Arc::new(AtomicUsize::new(0));
        let counter = refunds.clone();
        let refund = FunctionTool::new("refund", "Refund an order", move |args: serde_json::Value| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::convert::Infallible>(format!("refunded {}", args["order"]))
            }
        })
        .with_approval(ApprovalMode::Always);
        let client = Arc::new(ReplayClient::new(clerk_answers));
        let clerk = ChatAgent::builder(client.clone()).name("clerk").tool(refund).build();
        let notifier = ChatAgent::builder(Arc::new(ReplayClient::new([ChatResponse::text("customer told")])))
            .name("notifier")
            .build();
        let workflow = SequentialBuilder::new()
            .participant(Arc::new(clerk))
            .participant(Arc::new(notifier))
            .with_checkpoint_store(store)
            .build()
            .unwrap();
        (workflow, refunds, client)
    }

    fn clerk_answers() -> Vec<ChatResponse> {
        vec![
            ChatResponse::function_calls([FunctionCall::new("c1", "refund", json!({"order": 7}))]),
            ChatResponse::text("done: order 7"),
        ]
    }

    async fn paused(workflow: &Workflow) -> (String, AgentApprovalRequest, String) {
        let first = workflow.run(vec![Message::user("refund order 7")]).await.unwrap();
        assert_eq!(first.status, RunStatus::IdleWithPendingRequests, "{:?}", first.error());
        let pending = first.pending_requests().remove(0);
        assert_eq!(pending.executor_id, "clerk");
        let asked: AgentApprovalRequest = pending.data_as().unwrap();
        (first.last_checkpoint_id().unwrap().to_string(), asked, pending.request_id)
    }

    #[tokio::test]
    async fn an_agent_asks_for_approval_and_continues_after_the_answer() {
        let store = Arc::new(InMemoryCheckpointStore::new());
        let (workflow, refunds, _) = refund_workflow(store.clone(), clerk_answers());
        let (checkpoint, asked, request_id) = paused(&workflow).await;
        assert_eq!(asked.agent, "clerk");
        assert_eq!(asked.requests.len(), 1);
        assert_eq!(asked.requests[0].call.name, "refund");
        assert_eq!(refunds.load(Ordering::SeqCst), 0, "nothing runs before the answer");

        // Answered after a "restart": new executors, the same store.
        let (workflow, refunds, client) = refund_workflow(store, vec![ChatResponse::text("done: order 7")]);
        let second = workflow
            .send_responses(&checkpoint, vec![RequestResponse::new(request_id, asked.approve_all())])
            .await
            .unwrap();
        assert_eq!(second.status, RunStatus::Idle, "{:?}", second.error());
        assert_eq!(refunds.load(Ordering::SeqCst), 1);
        let added = second.outputs_as::<Vec<Message>>().remove(0);
        let texts: Vec<String> = added.iter().map(Message::text).filter(|t| !t.is_empty()).collect();
        assert_eq!(texts, vec!["done: order 7", "customer told"]);
        // The clerk's model saw the tool's result.
        let seen = client.requests();
        assert_eq!(seen.len(), 1, "the new process asks the model once, after the tool ran");
        assert!(format!("{:?}", seen[0].messages).contains("refunded 7"));
    }

    #[tokio::test]
    async fn a_rejected_call_does_not_run() {
        let store = Arc::new(InMemoryCheckpointStore::new());
        let (workflow, refunds, client) = refund_workflow(store, clerk_answers());
        let (checkpoint, asked, request_id) = paused(&workflow).await;
        let second = workflow
            .send_responses(&checkpoint, vec![RequestResponse::new(request_id, asked.reject_all())])
            .await
            .unwrap();
        assert_eq!(second.status, RunStatus::Idle, "{:?}", second.error());
        assert_eq!(refunds.load(Ordering::SeqCst), 0);
        let last = client.requests().pop().unwrap();
        assert!(!format!("{:?}", last.messages).contains("refunded 7"));
    }
}
