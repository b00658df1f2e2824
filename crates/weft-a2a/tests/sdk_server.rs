//! `A2AAgent` against an agent written with the official `a2a-sdk` (1.3.0) server
//! (`tests/servers/a2a_sdk_server.py`): JSON-RPC 1.0 and 0.3, HTTP+JSON, streaming, a remote
//! conversation kept in the session, input-required answered by the caller, cancel of an
//! abandoned task, and a failed task.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::{eventually_async, peer, rpc};
use futures::StreamExt;
use serde_json::json;
use tokio::io::AsyncBufReadExt;
use weft_a2a::client::Binding;
use weft_a2a::{A2AAgent, A2aClientError, A2aClientErrorKind};
use weft_core::{AgentError, AgentSession, Content};

/// The SDK server, killed when dropped.
struct SdkServer {
    url: String,
    _child: tokio::process::Child,
}

async fn sdk_server() -> SdkServer {
    let python = peer("WEFT_A2A_PYTHON");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/a2a_sdk_server.py");
    let mut child = tokio::process::Command::new(python)
        .arg(script)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the SDK server did not start")
        .unwrap()
        .expect("the SDK server exited");
    let port = line.strip_prefix("listening on ").expect("the port line");
    SdkServer { url: format!("http://127.0.0.1:{port}"), _child: child }
}

fn client_error(error: &AgentError) -> &A2aClientError {
    match error {
        AgentError::Other { source, .. } => {
            source.downcast_ref::<A2aClientError>().expect("an A2aClientError")
        }
        other => panic!("not an A2A client error: {other:?}"),
    }
}

async fn streamed(agent: &A2AAgent, session: &mut AgentSession, prompt: &str) -> (Vec<String>, Vec<Content>) {
    let mut pieces = Vec::new();
    let mut contents = Vec::new();
    let mut stream = agent.run_stream(session, prompt);
    while let Some(update) = stream.next().await {
        let update = update.unwrap();
        let text = update.text_content();
        if !text.is_empty() {
            pieces.push(text);
        }
        contents.extend(update.contents);
    }
    (pieces, contents)
}

#[tokio::test]
#[ignore = "needs the a2a-sdk Python package: scripts/test installs them"]
async fn runs_and_streams_over_both_bindings_keep_the_remote_conversation() {
    let server = sdk_server().await;
    for binding in [Binding::JsonRpc, Binding::HttpJson] {
        let agent = A2AAgent::builder(&server.url).binding(binding).connect().await.unwrap();
        assert_eq!(weft_core::Agent::name(&agent), "sdk-agent");
        assert_eq!(agent.interface().await.unwrap().binding, binding);
        let mut session = AgentSession::new();
        assert_eq!(agent.run(&mut session, "hello").await.unwrap().text(), "echo: hello");
        agent.run(&mut session, "My name is Ada.").await.unwrap();
        assert_eq!(agent.run(&mut session, "What is my name?").await.unwrap().text(), "Your name is Ada.");
        let (pieces, _) = streamed(&agent, &mut session, "streamed").await;
        assert_eq!(pieces, ["echo: ", "streamed"], "{binding:?}");
        let (pieces, _) = streamed(&agent, &mut session, "What is my name?").await;
        assert_eq!(pieces.concat(), "Your name is Ada.");
    }
}

#[tokio::test]
#[ignore = "needs the a2a-sdk Python package: scripts/test installs them"]
async fn a_0_3_card_is_called_over_the_sdks_0_3_compatibility() {
    let server = sdk_server().await;
    let card = json!({
        "name": "sdk-0.3", "description": "0.3", "url": format!("{}/", server.url), "version": "1",
        "protocolVersion": "0.3.0", "preferredTransport": "JSONRPC", "capabilities": {"streaming": true},
        "skills": [], "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
    });
    let router =
        Router::new().route("/.well-known/agent-card.json", get(move || async move { axum::Json(card) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let card_url = format!("http://{}", listener.local_addr().unwrap());
    let _cards = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let agent = A2AAgent::connect(&card_url).await.unwrap();
    assert_eq!(agent.interface().await.unwrap().version, weft_a2a::model::Version::V03);
    let mut session = AgentSession::new();
    assert_eq!(agent.run(&mut session, "hello").await.unwrap().text(), "echo: hello");
    agent.run(&mut session, "My name is Ada.").await.unwrap();
    let (pieces, _) = streamed(&agent, &mut session, "What is my name?").await;
    assert_eq!(pieces.concat(), "Your name is Ada.");
}

#[tokio::test]
#[ignore = "needs the a2a-sdk Python package: scripts/test installs them"]
async fn input_required_is_a_request_the_callers_answer_resumes() {
    let server = sdk_server().await;
    for binding in [Binding::JsonRpc, Binding::HttpJson] {
        let agent = A2AAgent::builder(&server.url).binding(binding).build();
        let mut session = AgentSession::new();
        let asked = agent.run(&mut session, "Ask me my colour").await.unwrap();
        let requests = asked.approval_requests();
        assert_eq!(requests.len(), 1, "{asked:?}");
        assert_eq!(requests[0].call.name, weft_a2a::client::INPUT_REQUIRED_TOOL);
        assert_eq!(requests[0].call.arguments["question"], "What is your favourite colour?");
        assert_eq!(asked.text(), "What is your favourite colour?");
        let done = agent.run(&mut session, "blue").await.unwrap();
        assert_eq!(done.text(), "Your favourite colour is blue.", "{binding:?}");

        // Streamed: the run ends with the request, the answer streams the rest.
        let (_, contents) = streamed(&agent, &mut session, "Ask me my colour again").await;
        assert!(contents.iter().any(|c| matches!(c, Content::ApprovalRequest(_))), "{contents:?}");
        let (pieces, _) = streamed(&agent, &mut session, "green").await;
        assert_eq!(pieces.concat(), "Your favourite colour is green.");
    }
}

#[tokio::test]
#[ignore = "needs the a2a-sdk Python package: scripts/test installs them"]
async fn dropping_a_run_cancels_the_sdk_task_and_a_failed_task_is_an_error() {
    let server = sdk_server().await;
    let agent = A2AAgent::new(&server.url);
    let mut session = AgentSession::new();
    {
        let mut stream = agent.run_stream(&mut session, "be slow");
        assert_eq!(stream.next().await.unwrap().unwrap().text_content(), "working");
    }
    agent.close().await;
    let url = format!("{}/", server.url);
    eventually_async("the SDK task to be canceled", || {
        let url = url.clone();
        async move {
            let (_, list) = rpc(&url, Some("1.0"), "ListTasks", json!({})).await;
            list["result"]["tasks"][0]["status"]["state"] == "TASK_STATE_CANCELED"
        }
    })
    .await;

    let error = agent.run(&mut AgentSession::new(), "please fail").await.unwrap_err();
    let cause = client_error(&error);
    assert_eq!(cause.kind(), A2aClientErrorKind::TaskFailed);
    assert!(cause.message().contains("the tool broke"), "{cause}");
}

/// A local triage agent hands the conversation off to the `a2a-sdk` agent: the SDK agent gets
/// the conversation (it echoes it) and its answer is the handoff's output.
#[tokio::test]
#[ignore = "needs the a2a-sdk Python package: scripts/test installs them"]
async fn a_handoff_to_the_sdk_agent_sends_the_conversation_and_brings_its_answer_back() {
    use std::sync::Arc;
    use weft_core::{Agent, ChatAgent, ChatResponse, FunctionCall, Message, ReplayClient};

    let server = sdk_server().await;
    let remote: Arc<dyn Agent> = Arc::new(A2AAgent::connect(&server.url).await.unwrap());
    let triage = ReplayClient::new([ChatResponse::function_calls([FunctionCall::new(
        "c1",
        "handoff_to_sdk-agent",
        json!({}),
    )])]);
    let triage: Arc<dyn Agent> = Arc::new(ChatAgent::builder(Arc::new(triage)).name("triage").build());
    let workflow = weft_workflow::HandoffBuilder::new()
        .participants([triage, remote])
        .start_with("triage")
        .build()
        .unwrap();
    let result = workflow.run(vec![Message::user("I was charged twice")]).await.unwrap();
    let messages: Vec<Message> = result.outputs_as::<Vec<Message>>().concat();
    let authors: Vec<&str> = messages.iter().filter_map(|m| m.author_name.as_deref()).collect();
    assert_eq!(authors, ["sdk-agent"], "{messages:?}");
    assert_eq!(messages[0].text(), "echo: I was charged twice");
}
