#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What a client watching a workflow gets: the graph as data, the executors' events streamed by
//! a `WorkflowAgent` as `weft.workflow` contents, the JSON schema of a request's answer, and a
//! session that resumes a run from any of its checkpoints.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Value, json};
use weft_core::{Agent, AgentSession, ChatOptions, Content, FunctionResult, Message, Role};
use weft_workflow::{
    AnyMessage, BoxError, Executor, FnExecutor, GraphEdge, InMemoryCheckpointStore, PendingRequest,
    REQUEST_INFO_FUNCTION, WORKFLOW_EVENT_KIND, Workflow, WorkflowAgent, WorkflowBuilder, WorkflowContext,
};

/// The answer `ask` wants.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Review {
    /// Whether to publish.
    approved: bool,
    /// Why.
    note: Option<String>,
}

/// Asks for a [`Review`] of the draft; sends the draft on when approved.
struct Ask;

#[async_trait::async_trait]
impl Executor for Ask {
    type Input = String;
    type Output = String;

    fn id(&self) -> &str {
        "ask"
    }

    async fn handle(&self, draft: String, ctx: &WorkflowContext<String>) -> Result<(), BoxError> {
        ctx.request_info::<String, Review>(draft)?;
        Ok(())
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<String>,
    ) -> Result<(), BoxError> {
        let review = response.take::<Review>().map_err(|m| format!("not a review: {m:?}"))?;
        if review.approved {
            ctx.send_message(request.data_as::<String>()?);
        }
        Ok(())
    }
}

/// `draft` → `ask` (asks for a [`Review`]) → `publish`.
fn publishing() -> Workflow {
    WorkflowBuilder::new()
        .name("publishing")
        .start_with(FnExecutor::new(
            "draft",
            |input: Vec<Message>, ctx: WorkflowContext<String>| async move {
                ctx.send_message(format!("draft of {}", input.last().map(Message::text).unwrap_or_default()));
                Ok(())
            },
        ))
        .add_executor(Ask)
        .add_executor(FnExecutor::new("publish", |text: String, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("published {text}"));
            Ok(())
        }))
        .add_edge("draft", "ask")
        .add_edge_if("ask", "publish", |_: &String| true)
        .with_checkpoint_store(Arc::new(InMemoryCheckpointStore::new()))
        .build()
        .unwrap()
}

/// Runs `agent` on `session` with `input`; returns the workflow events and the other updates'
/// contents.
async fn run(
    agent: &WorkflowAgent,
    session: &mut AgentSession,
    input: Vec<Message>,
) -> (Vec<Value>, Vec<Content>) {
    let mut stream = agent.run_messages_stream(session, input, ChatOptions::default());
    let (mut events, mut contents) = (Vec::new(), Vec::new());
    while let Some(update) = stream.next().await {
        for content in update.unwrap().contents {
            match content {
                Content::Event { kind, data } if kind == WORKFLOW_EVENT_KIND => events.push(data),
                other => contents.push(other),
            }
        }
    }
    (events, contents)
}

#[test]
fn the_graph_is_data_with_the_same_edges_as_the_diagrams() {
    let graph = publishing().graph();
    assert_eq!(graph.name, "publishing");
    assert_eq!(graph.start, "draft");
    let ids: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["draft", "ask", "publish"]);
    assert_eq!(
        graph.edges,
        [
            GraphEdge { source: "draft".into(), target: "ask".into(), label: None },
            GraphEdge { source: "ask".into(), target: "publish".into(), label: Some("conditional".into()) },
        ]
    );
    let json = serde_json::to_value(&graph).unwrap();
    assert_eq!(json["edges"][0], json!({"source": "draft", "target": "ask"}));
}

#[test]
fn a_fan_in_is_drawn_through_a_join_node() {
    let noop = |id: &'static str| {
        FnExecutor::new(id, |_: String, ctx: WorkflowContext<String>| async move {
            ctx.send_message(String::new());
            Ok(())
        })
    };
    let workflow = WorkflowBuilder::new()
        .start_with(noop("a"))
        .add_executor(noop("b"))
        .add_executor(noop("c"))
        .add_executor(FnExecutor::new("d", |_: Vec<String>, _: WorkflowContext<()>| async move { Ok(()) }))
        .add_fan_out("a", ["b", "c"])
        .add_fan_in(["b", "c"], "d")
        .build()
        .unwrap();
    let graph = workflow.graph();
    let join = graph.nodes.iter().find(|n| n.kind == "fan_in").unwrap();
    let into_join = graph.edges.iter().filter(|e| e.target == join.id).count();
    assert_eq!(into_join, 2);
    assert!(graph.edges.iter().any(|e| e.source == join.id && e.target == "d"));
}

#[tokio::test]
async fn the_agent_streams_executor_events_and_requests_carry_the_answer_s_schema() {
    let agent = WorkflowAgent::new("publishing", publishing()).unwrap();
    let mut session = AgentSession::new();
    let (events, contents) = run(&agent, &mut session, vec![Message::user("a haiku")]).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "run_started", "{kinds:?}");
    assert_eq!(events[0]["executors"], json!(["draft", "ask", "publish"]));
    for expected in ["superstep_started", "executor_invoked", "executor_completed", "checkpoint_saved"] {
        assert!(kinds.contains(&expected), "{expected} in {kinds:?}");
    }
    let invoked: Vec<&Value> =
        events.iter().filter(|e| e["type"] == "executor_invoked").map(|e| &e["executor_id"]).collect();
    assert_eq!(invoked, [&json!("draft"), &json!("ask")]);
    // The events are not conversation: the session holds the question only.
    assert!(session.messages.iter().flat_map(|m| &m.contents).all(|c| !matches!(c, Content::Event { .. })));
    let call = contents
        .iter()
        .find_map(|c| match c {
            Content::FunctionCall(call) if call.name == REQUEST_INFO_FUNCTION => Some(call.clone()),
            _ => None,
        })
        .unwrap();
    let schema = &call.arguments["response_schema"];
    assert_eq!(schema["type"], "object", "{schema}");
    assert_eq!(schema["properties"]["approved"]["type"], "boolean", "{schema}");
    assert_eq!(schema["required"], json!(["approved"]), "{schema}");
    assert_eq!(call.arguments["data"], "draft of a haiku");
    // The request is an event too, naming the executor that waits and the request's id.
    let asked = events.iter().find(|e| e["type"] == "request_info").unwrap();
    assert_eq!(asked["executor_id"], "ask");
    assert_eq!(asked["request_id"], json!(call.call_id));

    // Answered: the run goes on to `publish`, whose output is an event too.
    let answer = Message::new(
        Role::Tool,
        vec![Content::FunctionResult(FunctionResult::ok(&call.call_id, json!({"approved": true})))],
    );
    let (events, _) = run(&agent, &mut session, vec![answer]).await;
    let output = events.iter().find(|e| e["type"] == "output").unwrap();
    assert_eq!(output["executor_id"], "publish");
}

#[tokio::test]
async fn a_resume_session_continues_the_run_from_any_of_its_checkpoints() {
    let workflow = publishing();
    let agent = WorkflowAgent::new("publishing", workflow.clone()).unwrap();
    let mut session = AgentSession::new();
    let (events, _) = run(&agent, &mut session, vec![Message::user("a haiku")]).await;
    let run_id = events[0]["run_id"].as_str().unwrap().to_string();
    let checkpoints = workflow.list_checkpoints(&run_id).await.unwrap();
    let after_draft = checkpoints.iter().find(|c| c.superstep == 1).unwrap();

    // Time travel: from the checkpoint after `draft`, `ask` runs again (and asks again).
    let mut resumed = WorkflowAgent::resume_session(&after_draft.checkpoint_id);
    let (events, contents) = run(&agent, &mut resumed, Vec::new()).await;
    assert_eq!(events[0]["resumed_from"], json!(after_draft.checkpoint_id));
    assert_eq!(events[0]["run_id"], json!(run_id));
    let invoked: Vec<&Value> =
        events.iter().filter(|e| e["type"] == "executor_invoked").map(|e| &e["executor_id"]).collect();
    assert_eq!(invoked, [&json!("ask")]);
    assert!(
        contents
            .iter()
            .any(|c| matches!(c, Content::FunctionCall(call) if call.name == REQUEST_INFO_FUNCTION))
    );
    // The session now waits on that request, like any paused run.
    assert!(resumed.metadata.contains_key("weft_workflow_pending"), "{:?}", resumed.metadata);
    assert!(!resumed.metadata.contains_key("weft_workflow_resume_from"));
}

#[tokio::test]
async fn resumed_from_a_checkpoint_that_waits_for_input_the_run_asks_again() {
    let workflow = publishing();
    let agent = WorkflowAgent::new("publishing", workflow.clone()).unwrap();
    let (events, _) = run(&agent, &mut AgentSession::new(), vec![Message::user("a haiku")]).await;
    let run_id = events[0]["run_id"].as_str().unwrap().to_string();
    let checkpoints = workflow.list_checkpoints(&run_id).await.unwrap();
    let waiting = checkpoints.iter().find(|c| c.pending_requests > 0).unwrap();
    let mut resumed = WorkflowAgent::resume_session(&waiting.checkpoint_id);
    let (_, contents) = run(&agent, &mut resumed, Vec::new()).await;
    let call = contents
        .iter()
        .find_map(|c| match c {
            Content::FunctionCall(call) if call.name == REQUEST_INFO_FUNCTION => Some(call.clone()),
            _ => None,
        })
        .expect("the checkpoint's request is asked again");
    assert_eq!(call.arguments["data"], "draft of a haiku");
    // And answering it goes on from there.
    let answer = Message::new(
        Role::Tool,
        vec![Content::FunctionResult(FunctionResult::ok(&call.call_id, json!({"approved": true})))],
    );
    let (events, _) = run(&agent, &mut resumed, vec![answer]).await;
    assert!(events.iter().any(|e| e["type"] == "output"), "{events:?}");
}
