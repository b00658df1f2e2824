#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Orchestrations end to end on the scripted and replay models.

mod common;

use std::sync::Arc;

use common::{added, authors};

use serde_json::json;
use weft_core::{
    Agent, ChatAgent, ChatResponse, FunctionCall, Message, ReplayClient, ResponseFormat, Role, ScriptedClient,
};
use weft_workflow::{
    BuildError, ConcurrentBuilder, GroupChatBuilder, HandoffBuilder, HandoffEvent, InMemoryCheckpointStore,
    RequestResponse, RunStatus, SequentialBuilder, SpeakerSelector, WorkflowAgent, WorkflowEvent,
    WorkflowRunResult,
};

fn scripted(name: &str) -> Arc<dyn Agent> {
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name(name).build())
}

fn replayed(name: &str, responses: Vec<ChatResponse>) -> (Arc<dyn Agent>, Arc<ReplayClient>) {
    let client = Arc::new(ReplayClient::new(responses));
    (Arc::new(ChatAgent::builder(client.clone()).name(name).build()), client)
}

#[tokio::test]
async fn sequential_agents_each_see_the_conversation_so_far() {
    let (editor, editor_client) = replayed("editor", vec![ChatResponse::text("edited")]);
    let workflow =
        SequentialBuilder::new().participant(scripted("writer")).participant(editor).build().unwrap();
    let result = workflow.run(vec![Message::user("write a haiku")]).await.unwrap();
    let messages = added(&result);
    assert_eq!(authors(&messages), vec!["writer", "editor"]);
    assert_eq!(messages[0].text(), "You said: write a haiku");
    assert_eq!(messages[1].text(), "edited");
    let seen = &editor_client.requests()[0].messages;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].text(), "You said: write a haiku");

    assert!(matches!(SequentialBuilder::new().build(), Err(BuildError::Orchestration { .. })));
    let twice = SequentialBuilder::new().participant(scripted("a")).participant(scripted("a")).build();
    assert!(matches!(twice, Err(BuildError::DuplicateExecutor { .. })));
}

#[tokio::test]
async fn concurrent_agents_fan_out_and_aggregate() {
    let workflow = ConcurrentBuilder::new()
        .participants([scripted("legal"), scripted("finance"), scripted("tech")])
        .build()
        .unwrap();
    let result = workflow.run(vec![Message::user("review the plan")]).await.unwrap();
    let messages = added(&result);
    assert_eq!(authors(&messages), vec!["legal", "finance", "tech"]);
    assert!(messages.iter().all(|m| m.text() == "You said: review the plan"));

    let joined = ConcurrentBuilder::new()
        .participants([scripted("a"), scripted("b")])
        .with_aggregator(|results| {
            let summary: Vec<String> =
                results.iter().map(|r| format!("{}: {}", r.agent, r.messages.len())).collect();
            vec![Message::assistant(summary.join(", "))]
        })
        .build()
        .unwrap();
    let result = joined.run(vec![Message::user("hi")]).await.unwrap();
    assert_eq!(added(&result)[0].text(), "a: 1, b: 1");
}

fn handoffs(result: &WorkflowRunResult) -> Vec<HandoffEvent> {
    result
        .events
        .iter()
        .filter_map(|e| match e {
            WorkflowEvent::Custom { event, .. } => event.get::<HandoffEvent>().cloned(),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn handoff_tools_move_control_between_agents() {
    let (triage, triage_client) = replayed(
        "triage",
        vec![ChatResponse::function_calls([FunctionCall::new(
            "c1",
            "handoff_to_billing",
            json!({"reason": "money"}),
        )])],
    );
    let billing = Arc::new(
        ChatAgent::builder(Arc::new(ScriptedClient::new()))
            .name("billing")
            .description("invoices and refunds")
            .build(),
    );
    let workflow = HandoffBuilder::new()
        .participants([triage, billing, scripted("tech")])
        .start_with("triage")
        .build()
        .unwrap();
    let result = workflow.run(vec![Message::user("I was charged twice")]).await.unwrap();
    let messages = added(&result);
    assert_eq!(authors(&messages), vec!["billing"]);
    assert_eq!(messages[0].text(), "You said: I was charged twice");
    assert_eq!(handoffs(&result), vec![HandoffEvent { from: "triage".into(), to: "billing".into() }]);

    // The triage model was offered one tool per other agent, and asked once: the handoff call
    // ends its run.
    let requests = triage_client.requests();
    assert_eq!(requests.len(), 1);
    let tools: Vec<&str> = requests[0].options.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tools, vec!["handoff_to_billing", "handoff_to_tech"]);
    assert!(requests[0].options.tools[0].description.contains("invoices and refunds"));
    assert!(!messages.iter().any(|m| m.function_calls().next().is_some()), "no dangling handoff call");
}

#[tokio::test]
async fn the_scripted_model_hands_off_by_topic_and_a_human_takes_turns() {
    let workflow = HandoffBuilder::new()
        .participants([scripted("triage"), scripted("billing"), scripted("tech")])
        .add_handoff("billing", ["triage"])
        .with_human_input(true)
        .with_checkpoint_store(Arc::new(InMemoryCheckpointStore::new()))
        .build()
        .unwrap();
    let first = workflow.run(vec![Message::user("question about billing")]).await.unwrap();
    assert_eq!(first.status, RunStatus::IdleWithPendingRequests);
    assert_eq!(handoffs(&first), vec![HandoffEvent { from: "triage".into(), to: "billing".into() }]);
    let request = first.pending_requests().remove(0);
    assert_eq!(request.executor_id, "billing");

    let second = workflow
        .send_responses(
            first.last_checkpoint_id().unwrap(),
            vec![RequestResponse::new(&request.request_id, "thanks".to_string())],
        )
        .await
        .unwrap();
    assert_eq!(second.status, RunStatus::IdleWithPendingRequests);
    let request = second.pending_requests().remove(0);
    let done = workflow
        .send_responses(
            second.last_checkpoint_id().unwrap(),
            vec![RequestResponse::new(&request.request_id, String::new())],
        )
        .await
        .unwrap();
    let messages = added(&done);
    assert_eq!(authors(&messages), vec!["billing", "-", "billing"]);
    assert_eq!(messages[1].role, Role::User);
    assert_eq!(messages[2].text(), "You said: thanks");
}

#[tokio::test]
async fn group_chat_round_robin_and_function_selectors() {
    let workflow = GroupChatBuilder::new()
        .participants([scripted("alice"), scripted("bob")])
        .max_rounds(3)
        .build()
        .unwrap();
    let result = workflow.run(vec![Message::user("plan a trip")]).await.unwrap();
    assert_eq!(authors(&added(&result)), vec!["alice", "bob", "alice"]);

    let workflow = GroupChatBuilder::new()
        .participants([scripted("alice"), scripted("bob")])
        .selector(SpeakerSelector::function(|state| {
            Some(if state.last_speaker.as_deref() == Some("bob") { "alice" } else { "bob" }.to_string())
        }))
        .terminate_when(|state| state.conversation.len() >= 3)
        .build()
        .unwrap();
    let result = workflow.run(vec![Message::user("plan a trip")]).await.unwrap();
    assert_eq!(authors(&added(&result)), vec!["bob", "alice"]);
}

#[tokio::test]
async fn a_speaker_sees_the_other_participants_turns_as_named_user_messages() {
    // llama.cpp's server refuses a conversation ending with two assistant messages, which
    // round 3 of a two-agent chat would be if the others' turns stayed assistant messages.
    let (alice, alice_client) =
        replayed("alice", vec![ChatResponse::text("alice 1"), ChatResponse::text("alice 2")]);
    let (bob, bob_client) = replayed("bob", vec![ChatResponse::text("bob 1")]);
    let workflow = GroupChatBuilder::new().participants([alice, bob]).max_rounds(3).build().unwrap();
    let result = workflow.run(vec![Message::user("plan a trip")]).await.unwrap();

    let seen = |m: &Message| (m.role, m.author_name.clone().unwrap_or_default(), m.text());
    let alice_requests = alice_client.requests();
    let second: Vec<_> = alice_requests[1].messages.iter().map(seen).collect();
    assert_eq!(
        second,
        vec![
            (Role::User, String::new(), "plan a trip".to_string()),
            (Role::Assistant, "alice".to_string(), "alice 1".to_string()),
            (Role::User, "bob".to_string(), "bob 1".to_string()),
        ]
    );
    let bob_saw: Vec<_> = bob_client.requests()[0].messages.iter().map(seen).collect();
    assert_eq!(bob_saw[1], (Role::User, "alice".to_string(), "alice 1".to_string()));
    for request in alice_requests.iter().chain(bob_client.requests().iter()) {
        let tail: Vec<Role> = request.messages.iter().rev().take(2).map(|m| m.role).collect();
        assert_ne!(tail, vec![Role::Assistant, Role::Assistant]);
    }

    // The chat's output keeps every turn as its author's assistant message.
    let output = added(&result);
    assert_eq!(authors(&output), vec!["alice", "bob", "alice"]);
    assert!(output.iter().all(|m| m.role == Role::Assistant));
    assert_eq!(output.iter().map(Message::text).collect::<Vec<_>>(), ["alice 1", "bob 1", "alice 2"]);
}

#[tokio::test]
async fn an_agent_manages_the_group_chat() {
    let decide = |name: &str| ChatResponse::text(json!({"next_speaker": name}).to_string());
    let (manager, manager_client) =
        replayed("manager", vec![decide("writer"), decide("critic"), decide("FINISH")]);
    let workflow = GroupChatBuilder::new()
        .participants([scripted("writer"), scripted("critic")])
        .selector(SpeakerSelector::Agent(manager))
        .build()
        .unwrap();
    // As an agent, too.
    let agent = WorkflowAgent::new("panel", workflow).unwrap();
    let mut session = weft_core::AgentSession::new();
    let response =
        agent.run_messages(&mut session, vec![Message::user("a slogan")], Default::default()).await.unwrap();
    assert_eq!(authors(&response.messages), vec!["writer", "critic"]);
    let requests = manager_client.requests();
    assert_eq!(requests.len(), 3);
    let Some(ResponseFormat::JsonSchema { schema, .. }) = &requests[0].options.response_format else {
        panic!()
    };
    assert_eq!(schema["properties"]["next_speaker"]["enum"], json!(["writer", "critic", "FINISH"]));
    assert_eq!(requests[2].messages.len(), 4, "input, two answers, the manager's question");
}

#[tokio::test]
async fn a_tool_approval_inside_a_handoff_pauses_the_run_until_answered() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let refunds = Arc::new(AtomicUsize::new(0));
    let counter = refunds.clone();
    let refund = weft_core::FunctionTool::new("refund", "Refund an order", move |_: serde_json::Value| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>("refunded")
        }
    })
    .with_approval(weft_core::ApprovalMode::Always);
    let (triage, _) = replayed(
        "triage",
        vec![ChatResponse::function_calls([FunctionCall::new("h1", "handoff_to_billing", json!({}))])],
    );
    let billing_client = Arc::new(ReplayClient::new([
        ChatResponse::function_calls([FunctionCall::new("r1", "refund", json!({"order": 7}))]),
        ChatResponse::text("Your refund is on its way."),
    ]));
    let billing = Arc::new(ChatAgent::builder(billing_client.clone()).name("billing").tool(refund).build());
    let workflow = HandoffBuilder::new()
        .participants([triage, billing as Arc<dyn Agent>])
        .start_with("triage")
        .with_checkpoint_store(Arc::new(InMemoryCheckpointStore::new()))
        .build()
        .unwrap();
    let first = workflow.run(vec![Message::user("refund order 7")]).await.unwrap();
    assert_eq!(first.status, RunStatus::IdleWithPendingRequests, "{:?}", first.error());
    let request = first.pending_requests().remove(0);
    assert_eq!(request.executor_id, "billing");
    let asked: weft_workflow::AgentApprovalRequest = request.data_as().unwrap();
    assert_eq!(asked.requests[0].call.name, "refund");
    assert_eq!(refunds.load(Ordering::SeqCst), 0);

    let second = workflow
        .send_responses(
            first.last_checkpoint_id().unwrap(),
            vec![RequestResponse::new(&request.request_id, asked.approve_all())],
        )
        .await
        .unwrap();
    let messages = added(&second);
    assert_eq!(refunds.load(Ordering::SeqCst), 1);
    assert_eq!(messages.last().unwrap().text(), "Your refund is on its way.");
    assert!(
        messages.iter().any(|m| m.function_results().any(|r| r.call_id == "r1")),
        "the refund's result is in the conversation"
    );
    assert!(!messages.iter().any(|m| m.function_calls().any(|c| c.name.starts_with("handoff_to"))));
}
