//! An agent as a tool of another (`as_tool`): the inner answer as the tool's result, its usage
//! added to the outer run's, its streamed updates forwarded to the outer stream, and its
//! approval requests answered by the outer caller, resuming the inner run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use serde_json::json;
use weft_core::{
    Agent, AgentSession, AgentToolExt, ApprovalMode, ChatAgent, ChatResponse, Content, FunctionCall,
    FunctionTool, ReplayClient, Tool, Usage,
};

fn with_usage(mut response: ChatResponse, input: u64, output: u64) -> ChatResponse {
    response.usage = Some(Usage::new(input, output));
    response
}

fn call(name: &str, arguments: serde_json::Value) -> ChatResponse {
    ChatResponse::function_calls([FunctionCall::new("call_1", name, arguments)])
}

fn inner_agent(responses: Vec<ChatResponse>) -> ChatAgent {
    ChatAgent::builder(Arc::new(ReplayClient::new(responses)))
        .name("researcher")
        .description("Finds things out")
        .build()
}

#[test]
fn the_tool_is_named_and_described_after_the_agent_and_takes_a_prompt() {
    let tool = inner_agent(vec![]).as_tool();
    let definition = tool.definition();
    assert_eq!(definition.name, "researcher");
    assert_eq!(definition.description, "Finds things out");
    assert_eq!(definition.parameters["properties"]["prompt"]["type"], "string");
    assert_eq!(definition.parameters["required"], json!(["prompt"]));
    let shared: Arc<dyn Agent> =
        Arc::new(ChatAgent::builder(Arc::new(ReplayClient::new(vec![]))).name("my agent!").build());
    let tool = shared.as_tool();
    assert_eq!(tool.definition().name, "my_agent_");
    assert!(tool.definition().description.contains("my agent!"));
}

#[tokio::test]
async fn the_inner_answer_is_the_result_and_its_usage_adds_to_the_outer_run() {
    let inner = inner_agent(vec![with_usage(ChatResponse::text("Paris is the capital"), 100, 7)]);
    let outer_client = Arc::new(ReplayClient::new(vec![
        with_usage(call("researcher", json!({"prompt": "capital of France?"})), 10, 2),
        with_usage(ChatResponse::text("It is Paris."), 20, 3),
    ]));
    let outer = ChatAgent::builder(outer_client.clone()).name("lead").tool(inner.as_tool()).build();
    let mut session = AgentSession::new();
    let response = outer.run(&mut session, "What is the capital of France?").await.unwrap();
    assert_eq!(response.text(), "It is Paris.");
    let result = response.messages.iter().flat_map(|m| m.function_results()).next().unwrap();
    assert_eq!(result.result, json!("Paris is the capital"));
    assert_eq!(response.usage.input_tokens, 130);
    assert_eq!(response.usage.output_tokens, 12);
}

#[tokio::test]
async fn a_streamed_outer_run_forwards_the_inner_updates_and_counts_its_usage() {
    let inner = inner_agent(vec![with_usage(ChatResponse::text("Paris is the capital"), 100, 7)]);
    let outer = ChatAgent::builder(Arc::new(ReplayClient::new(vec![
        with_usage(call("researcher", json!({"prompt": "capital?"})), 10, 2),
        with_usage(ChatResponse::text("It is Paris."), 20, 3),
    ])))
    .name("lead")
    .tool(inner.as_tool())
    .build();
    let mut session = AgentSession::new();
    let mut inner_text = String::new();
    let mut outer_text = String::new();
    let mut usage = Usage::default();
    let mut stream = outer.run_stream(&mut session, "capital?");
    while let Some(update) = stream.next().await {
        let update = update.unwrap();
        for content in &update.contents {
            if let Content::Usage(u) = content {
                usage += *u;
            }
        }
        match update.author_name.as_deref() {
            Some("researcher") => inner_text.push_str(&update.text_content()),
            Some("lead") if update.role != Some(weft_core::Role::Tool) => {
                outer_text.push_str(&update.text_content())
            }
            _ => {}
        }
    }
    drop(stream);
    assert_eq!(inner_text, "Paris is the capital");
    assert_eq!(outer_text, "It is Paris.");
    // Every model call's usage went through the stream, the inner one's included.
    assert_eq!(usage.input_tokens, 130);
    let tool_result = session.messages.iter().flat_map(|m| m.function_results()).next().unwrap();
    assert_eq!(tool_result.result, json!("Paris is the capital"));
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct DeleteArgs {
    /// The file.
    path: String,
}

/// An inner agent whose `delete_file` tool needs approval; counts the deletions.
fn guarded_inner(deleted: Arc<AtomicUsize>) -> ChatAgent {
    let tool = FunctionTool::new("delete_file", "Delete a file", move |args: DeleteArgs| {
        let deleted = deleted.clone();
        async move {
            deleted.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(format!("deleted {}", args.path))
        }
    })
    .with_approval(ApprovalMode::Always);
    ChatAgent::builder(Arc::new(ReplayClient::new(vec![
        call("delete_file", json!({"path": "notes.txt"})),
        with_usage(ChatResponse::text("The file is gone."), 50, 5),
    ])))
    .name("janitor")
    .tool(tool)
    .build()
}

#[tokio::test]
async fn inner_approvals_reach_the_outer_caller_and_the_answer_resumes_the_inner_run() {
    for approve in [true, false] {
        let deleted = Arc::new(AtomicUsize::new(0));
        let outer_client = Arc::new(ReplayClient::new(vec![
            call("janitor", json!({"prompt": "delete notes.txt"})),
            ChatResponse::text("Done."),
        ]));
        let outer = ChatAgent::builder(outer_client.clone())
            .name("lead")
            .tool(guarded_inner(deleted.clone()).as_tool())
            .build();
        let mut session = AgentSession::new();
        let asked = outer.run(&mut session, "clean up").await.unwrap();
        let requests = asked.approval_requests();
        assert_eq!(requests.len(), 1, "{asked:?}");
        assert_eq!(requests[0].call.name, "delete_file");
        assert_eq!(requests[0].call.arguments["path"], "notes.txt");
        assert_eq!(deleted.load(Ordering::SeqCst), 0);
        assert_eq!(session.pending_approvals().len(), 1);

        let answer = if approve { requests[0].approve() } else { requests[0].reject() };
        let done = outer.run(&mut session, answer).await.unwrap();
        assert_eq!(done.text(), "Done.");
        assert_eq!(deleted.load(Ordering::SeqCst), usize::from(approve));
        let result = done.messages.iter().flat_map(|m| m.function_results()).next().unwrap();
        assert_eq!(result.call_id, "call_1");
        assert_eq!(result.result, json!("The file is gone."));
        assert_eq!(done.usage.input_tokens, 50, "the resumed inner run's usage counts");
        // The outer model saw the inner answer as the tool's result.
        let last_request = outer_client.requests().pop().unwrap();
        assert!(
            last_request.messages.iter().flat_map(|m| m.function_results()).any(|r| r.call_id == "call_1")
        );
    }
}

#[tokio::test]
async fn a_streamed_outer_run_ends_with_the_inner_approval_request() {
    let deleted = Arc::new(AtomicUsize::new(0));
    let outer = ChatAgent::builder(Arc::new(ReplayClient::new(vec![
        call("janitor", json!({"prompt": "delete notes.txt"})),
        ChatResponse::text("Done."),
    ])))
    .name("lead")
    .tool(guarded_inner(deleted.clone()).as_tool())
    .build();
    let mut session = AgentSession::new();
    let mut requests = Vec::new();
    {
        let mut stream = outer.run_stream(&mut session, "clean up");
        while let Some(update) = stream.next().await {
            for content in update.unwrap().contents {
                if let Content::ApprovalRequest(request) = content {
                    requests.push(request);
                }
            }
        }
    }
    assert_eq!(requests.len(), 1, "only the outer request, under the outer id: {requests:?}");
    let mut stream = outer.run_stream(&mut session, requests[0].approve());
    while let Some(update) = stream.next().await {
        update.unwrap();
    }
    drop(stream);
    assert_eq!(deleted.load(Ordering::SeqCst), 1);
    assert_eq!(session.messages.last().unwrap().text(), "Done.");
}

/// The inner run waiting for approval is held in memory by the tool: an answer given to another
/// tool (as after a restart: the session was saved and loaded, the agents built anew) finds no
/// run to resume. The inner call fails with an error that says so (the outer model sees it), the
/// guarded call never runs, and the outer run goes on.
#[tokio::test]
async fn an_answer_after_a_restart_fails_the_inner_call_with_a_clear_error_and_runs_nothing() {
    let deleted = Arc::new(AtomicUsize::new(0));
    let outer = |deleted: Arc<AtomicUsize>, responses: Vec<ChatResponse>| {
        let client = Arc::new(ReplayClient::new(responses));
        let agent =
            ChatAgent::builder(client.clone()).name("lead").tool(guarded_inner(deleted).as_tool()).build();
        (agent, client)
    };
    let (before, _) = outer(deleted.clone(), vec![call("janitor", json!({"prompt": "delete notes.txt"}))]);
    let mut session = AgentSession::new();
    let asked = before.run(&mut session, "clean up").await.unwrap();
    let request = asked.approval_requests().remove(0);
    let saved = session.to_json().unwrap();
    drop(before);

    let (after, client) = outer(deleted.clone(), vec![ChatResponse::text("Done.")]);
    // The new process answers the question the old one asked: the outer model is asked again.
    let mut session = AgentSession::from_json(&saved).unwrap();
    let done = after.run(&mut session, request.approve()).await.unwrap();
    assert_eq!(deleted.load(Ordering::SeqCst), 0, "the guarded call did not run");
    let result = done.messages.iter().flat_map(|m| m.function_results()).next().unwrap();
    assert_eq!(result.call_id, "call_1");
    let shown = result.error.clone().unwrap_or_default();
    assert!(shown.contains("is gone") && shown.contains("janitor"), "{result:?}");
    assert!(
        client.requests().iter().any(|r| r
            .messages
            .iter()
            .flat_map(|m| m.function_results())
            .any(|r| r.call_id == "call_1"))
    );
}
