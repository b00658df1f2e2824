//! `A2AAgent` against Weft's own A2A server over a real socket: the card, runs and streams over
//! JSON-RPC 1.0, HTTP+JSON and JSON-RPC 0.3, sessions that continue the remote conversation,
//! input-required as approval requests, cancel of abandoned runs, a workflow participant, and
//! the faults (refused, DNS, timeout, HTTP status, malformed card, failed task, a peer that goes
//! away mid-task, answers over the size limit).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use common::{TestHost, eventually, rpc};
use futures::StreamExt;
use serde_json::{Value, json};
use weft_a2a::client::{Binding, UnreachableCause};
use weft_a2a::{A2AAgent, A2aClientConfig, A2aClientError, A2aClientErrorKind};
use weft_core::{Agent, AgentError, AgentSession, Content, Message};
use weft_host::HostConfig;

fn client_error(error: &AgentError) -> &A2aClientError {
    match error {
        AgentError::Other { source, .. } => {
            source.downcast_ref::<A2aClientError>().expect("an A2aClientError")
        }
        other => panic!("not an A2A client error: {other:?}"),
    }
}

async fn serve(router: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (url, task)
}

#[tokio::test]
async fn connect_resolves_the_card_and_a_run_answers() {
    let host = TestHost::start(HostConfig::default()).await;
    let agent = A2AAgent::connect(host.agent_url("helper")).await.unwrap();
    assert_eq!(agent.name(), "helper");
    assert_eq!(agent.description(), Some("Answers from a script"));
    let interface = agent.interface().await.unwrap();
    assert_eq!(interface.binding, Binding::JsonRpc);
    assert_eq!(interface.version, weft_a2a::model::Version::V1);
    let mut session = AgentSession::new();
    let response = agent.run(&mut session, "hello").await.unwrap();
    assert_eq!(response.text(), "You said: hello");
    assert_eq!(response.messages[0].author_name.as_deref(), Some("helper"));
    assert_eq!(session.messages.len(), 2);
}

#[tokio::test]
async fn a_session_continues_the_remote_conversation_also_after_a_save() {
    let host = TestHost::start(HostConfig::default()).await;
    for binding in [Binding::JsonRpc, Binding::HttpJson] {
        let agent = A2AAgent::builder(host.agent_url("helper")).binding(binding).build();
        assert_eq!(agent.name(), "helper");
        let mut session = AgentSession::new();
        agent.run(&mut session, "My name is Ada.").await.unwrap();
        let mut session = AgentSession::from_json(&session.to_json().unwrap()).unwrap();
        let response = agent.run(&mut session, "What is my name?").await.unwrap();
        assert_eq!(response.text(), "Your name is Ada.", "{binding:?}");
        // A new session is a new remote conversation.
        let fresh = agent.run(&mut AgentSession::new(), "What is my name?").await.unwrap();
        assert_ne!(fresh.text(), "Your name is Ada.");
    }
}

async fn streamed_text(agent: &A2AAgent, session: &mut AgentSession, prompt: &str) -> (Vec<String>, String) {
    let mut pieces = Vec::new();
    let mut stream = agent.run_stream(session, prompt);
    while let Some(update) = stream.next().await {
        let update = update.unwrap();
        assert_eq!(update.author_name.as_deref(), Some(agent.name()));
        pieces.push(update.text_content());
    }
    let text = pieces.concat();
    (pieces, text)
}

#[tokio::test]
async fn a_streamed_run_yields_the_answer_as_it_comes_over_both_bindings() {
    let host = TestHost::start(HostConfig::default()).await;
    for binding in [Binding::JsonRpc, Binding::HttpJson] {
        let agent = A2AAgent::builder(host.agent_url("helper")).binding(binding).build();
        assert_eq!(agent.interface().await.unwrap().binding, binding);
        let mut session = AgentSession::new();
        let (pieces, text) = streamed_text(&agent, &mut session, "My name is Ada.").await;
        assert!(!pieces.is_empty());
        assert!(!text.is_empty(), "{binding:?}");
        let (_, text) = streamed_text(&agent, &mut session, "What is my name?").await;
        assert_eq!(text, "Your name is Ada.", "{binding:?}");
        assert_eq!(session.messages.len(), 4);
    }
}

/// A 0.3 card (`url`, `preferredTransport`, `protocolVersion: 0.3.0`) pointing at Weft's
/// JSON-RPC endpoint, which answers requests without `A2A-Version` as 0.3.
#[tokio::test]
async fn a_0_3_card_is_called_over_json_rpc_0_3() {
    let host = TestHost::start(HostConfig::default()).await;
    let endpoint = host.agent_url("helper");
    let card = json!({
        "name": "old-helper", "description": "0.3", "url": endpoint, "version": "1",
        "protocolVersion": "0.3.0", "preferredTransport": "JSONRPC",
        "capabilities": {"streaming": true}, "skills": [],
        "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
    });
    let router =
        Router::new().route("/.well-known/agent-card.json", get(move || async move { axum::Json(card) }));
    let (url, _server) = serve(router).await;
    let agent = A2AAgent::connect(&url).await.unwrap();
    assert_eq!(agent.name(), "old-helper");
    assert_eq!(agent.interface().await.unwrap().version, weft_a2a::model::Version::V03);
    let mut session = AgentSession::new();
    agent.run(&mut session, "My name is Ada.").await.unwrap();
    assert_eq!(agent.run(&mut session, "What is my name?").await.unwrap().text(), "Your name is Ada.");
    let (_, text) = streamed_text(&agent, &mut session, "hello").await;
    assert_eq!(text, "You said: hello");
}

#[tokio::test]
async fn input_required_becomes_approval_requests_and_the_answer_resumes_the_task() {
    let host = TestHost::start(HostConfig::default()).await;
    for (binding, approve) in [(Binding::JsonRpc, true), (Binding::HttpJson, false)] {
        let agent = A2AAgent::builder(host.agent_url("guarded")).binding(binding).build();
        let mut session = AgentSession::new();
        let asked = agent.run(&mut session, "Delete the file notes.txt").await.unwrap();
        let requests = asked.approval_requests();
        assert_eq!(requests.len(), 1, "{asked:?}");
        assert_eq!(requests[0].call.name, "delete_file");
        assert_eq!(requests[0].call.arguments["path"], "notes.txt");
        assert_eq!(session.pending_approvals().len(), 1);
        let answer = if approve { requests[0].approve() } else { requests[0].reject() };
        let done = agent.run(&mut session, answer).await.unwrap();
        assert!(done.approval_requests().is_empty());
        if approve {
            assert!(done.text().contains("deleted notes.txt"), "{}", done.text());
        } else {
            assert!(!done.text().contains("deleted notes.txt"), "{}", done.text());
        }
        // The task is over: an answer now has no task to go to.
        let error = agent.run(&mut session, requests[0].approve()).await.unwrap_err();
        assert!(matches!(error, AgentError::InvalidInput { .. }), "{error:?}");
    }
}

#[tokio::test]
async fn a_streamed_input_required_ends_with_the_approval_request() {
    let host = TestHost::start(HostConfig::default()).await;
    let agent = A2AAgent::new(host.agent_url("guarded"));
    let mut session = AgentSession::new();
    let mut requests = Vec::new();
    {
        let mut stream = agent.run_stream(&mut session, "Delete the file notes.txt");
        while let Some(update) = stream.next().await {
            for content in update.unwrap().contents {
                if let Content::ApprovalRequest(request) = content {
                    requests.push(request);
                }
            }
        }
    }
    assert_eq!(requests.len(), 1);
    let (_, text) = streamed_text(&agent, &mut session, "yes").await;
    assert!(text.contains("deleted notes.txt"), "{text}");
}

#[tokio::test]
async fn dropping_a_streamed_run_cancels_the_remote_task() {
    let host = TestHost::start(HostConfig::default()).await;
    let agent = A2AAgent::new(host.agent_url("hang"));
    let mut session = AgentSession::new();
    {
        let mut stream = agent.run_stream(&mut session, "hello");
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.text_content(), "thinking");
    }
    agent.close().await;
    let dropped = host.dropped.clone();
    eventually("the remote run to stop", || dropped.load(Ordering::SeqCst) == 1).await;
    let (_, list) = rpc(&host.agent_url("hang"), Some("1.0"), "ListTasks", json!({})).await;
    assert_eq!(list["result"]["tasks"][0]["status"]["state"], "TASK_STATE_CANCELED", "{list:#}");
}

#[tokio::test]
async fn dropping_a_run_cancels_the_remote_task() {
    let host = TestHost::start(HostConfig::default()).await;
    let agent = A2AAgent::new(host.agent_url("hang"));
    let mut session = AgentSession::new();
    let run = agent.run(&mut session, "hello");
    assert!(tokio::time::timeout(Duration::from_millis(500), run).await.is_err());
    agent.close().await;
    let dropped = host.dropped.clone();
    eventually("the remote run to stop", || dropped.load(Ordering::SeqCst) == 1).await;
    let (_, list) = rpc(&host.agent_url("hang"), Some("1.0"), "ListTasks", json!({})).await;
    assert_eq!(list["result"]["tasks"][0]["status"]["state"], "TASK_STATE_CANCELED", "{list:#}");
}

#[tokio::test]
async fn a_failed_remote_task_is_a_typed_error_without_the_servers_secrets() {
    let host = TestHost::start(HostConfig::default()).await;
    let agent = A2AAgent::new(host.agent_url("fail"));
    let error = agent.run(&mut AgentSession::new(), "hello").await.unwrap_err();
    let cause = client_error(&error);
    assert_eq!(cause.kind(), A2aClientErrorKind::TaskFailed);
    assert!(!error.to_string().contains("sk-secret"));
    let mut session = AgentSession::new();
    let mut stream = agent.run_stream(&mut session, "hello");
    let mut failed = None;
    while let Some(update) = stream.next().await {
        if let Err(error) = update {
            failed = Some(error);
        }
    }
    assert_eq!(client_error(&failed.unwrap()).kind(), A2aClientErrorKind::TaskFailed);
}

#[tokio::test]
async fn unreachable_agents_fail_with_the_cause_and_the_url() {
    // Refused: a port nobody listens on any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/a2a/x");
    let error = A2AAgent::connect(&url).await.unwrap_err();
    assert_eq!(error.kind(), A2aClientErrorKind::Unreachable(UnreachableCause::ConnectionRefused), "{error}");
    assert!(error.to_string().contains(&format!("127.0.0.1:{port}")), "{error}");
    // The same through a run.
    let run = A2AAgent::new(&url).run(&mut AgentSession::new(), "hi").await.unwrap_err();
    assert_eq!(
        client_error(&run).kind(),
        A2aClientErrorKind::Unreachable(UnreachableCause::ConnectionRefused)
    );

    let error = A2AAgent::connect("http://weft-a2a-test.invalid/a2a/x").await.unwrap_err();
    assert_eq!(error.kind(), A2aClientErrorKind::Unreachable(UnreachableCause::Dns), "{error}");

    // An HTTP error status: no agent by that name.
    let host = TestHost::start(HostConfig::default()).await;
    let error = A2AAgent::connect(host.agent_url("nobody")).await.unwrap_err();
    assert_eq!(error.kind(), A2aClientErrorKind::HttpStatus(404), "{error}");
    assert!(error.to_string().contains("/a2a/nobody/.well-known/agent-card.json"), "{error}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let config =
        A2aClientConfig { request_timeout: Duration::from_millis(300), ..A2aClientConfig::default() };
    let error = A2AAgent::builder(&url).config(config).connect().await.unwrap_err();
    assert_eq!(error.kind(), A2aClientErrorKind::Timeout, "{error}");
}

#[tokio::test]
async fn malformed_cards_are_typed_errors() {
    let router = Router::new()
        .route("/text/.well-known/agent-card.json", get(|| async { "<html>not a card</html>" }))
        .route(
            "/nameless/.well-known/agent-card.json",
            get(|| async { axum::Json(json!({"supportedInterfaces": []})) }),
        )
        .route(
            "/grpc/.well-known/agent-card.json",
            get(|| async {
                axum::Json(json!({"name": "g", "supportedInterfaces": [
                    {"url": "http://127.0.0.1:1", "protocolBinding": "GRPC", "protocolVersion": "1.0"}]}))
            }),
        )
        .route(
            "/big/.well-known/agent-card.json",
            get(|| async { axum::Json(json!({"name": "x".repeat(4096)})) }),
        );
    let (url, _server) = serve(router).await;
    let error = A2AAgent::connect(format!("{url}/text")).await.unwrap_err();
    assert_eq!(error.kind(), A2aClientErrorKind::MalformedCard, "{error}");
    let error = A2AAgent::connect(format!("{url}/nameless")).await.unwrap_err();
    assert_eq!(error.kind(), A2aClientErrorKind::MalformedCard, "{error}");
    let error = A2AAgent::connect(format!("{url}/grpc")).await.unwrap_err();
    assert_eq!(error.kind(), A2aClientErrorKind::NoSupportedInterface, "{error}");
    let small = A2aClientConfig { max_bytes: 1024, ..A2aClientConfig::default() };
    let error = A2AAgent::builder(format!("{url}/big")).config(small).connect().await.unwrap_err();
    assert_eq!(error.kind(), A2aClientErrorKind::TooLarge { limit: 1024 }, "{error}");
}

/// A server whose stream sends the task, then closes the connection mid-task, and whose
/// `GetTask` no longer knows it: the peer went away.
#[tokio::test]
async fn a_peer_that_goes_away_mid_task_is_connection_lost() {
    async fn rpc_handler(body: axum::Json<Value>) -> axum::response::Response {
        use axum::response::IntoResponse;
        let id = body.0["id"].clone();
        match body.0["method"].as_str() {
            Some("SendStreamingMessage") => {
                let task = json!({"jsonrpc": "2.0", "id": id, "result": {"task": {
                    "id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_WORKING"}}}});
                let body = format!("data: {task}\n\n");
                ([("content-type", "text/event-stream")], body).into_response()
            }
            _ => axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32001, "message": "Task not found: t1"}}))
                .into_response(),
        }
    }
    let router = Router::new().route("/", post(rpc_handler));
    let (url, _server) = serve(router).await;
    let card = json!({"name": "flaky", "capabilities": {"streaming": true}, "supportedInterfaces": [
        {"url": format!("{url}/"), "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}]});
    let router =
        Router::new().route("/.well-known/agent-card.json", get(move || async move { axum::Json(card) }));
    let (card_url, _cards) = serve(router).await;
    let agent = A2AAgent::new(&card_url);
    let mut session = AgentSession::new();
    let mut stream = agent.run_stream(&mut session, "hello");
    let mut error = None;
    while let Some(update) = stream.next().await {
        if let Err(e) = update {
            error = Some(e);
        }
    }
    let error = error.expect("the run fails");
    assert_eq!(client_error(&error).kind(), A2aClientErrorKind::ConnectionLost, "{error}");
}

#[tokio::test]
async fn an_a2a_agent_takes_part_in_a_sequential_workflow() {
    let host = TestHost::start(HostConfig::default()).await;
    let remote: Arc<dyn Agent> = Arc::new(A2AAgent::new(host.agent_url("helper")));
    let local: Arc<dyn Agent> = Arc::new(
        weft_core::ChatAgent::builder(Arc::new(weft_core::ScriptedClient::new())).name("local").build(),
    );
    let workflow =
        weft_workflow::SequentialBuilder::new().participant(local).participant(remote).build().unwrap();
    let result = workflow.run(vec![Message::user("hello")]).await.unwrap();
    let messages: Vec<Message> = result.outputs_as::<Vec<Message>>().concat();
    let authors: Vec<&str> = messages.iter().filter_map(|m| m.author_name.as_deref()).collect();
    assert!(authors.contains(&"helper"), "{messages:?}");
    let remote_answer = messages.iter().find(|m| m.author_name.as_deref() == Some("helper")).unwrap();
    assert!(remote_answer.text().starts_with("You said:"), "{}", remote_answer.text());
}

/// The remote task a session waits on was forgotten by the server: the answer fails with the
/// protocol's "task not found", and the error names the endpoint.
#[tokio::test]
async fn an_answer_to_a_forgotten_task_is_a_typed_task_not_found() {
    let config =
        weft_a2a::A2aConfig { task_ttl: Duration::from_millis(200), ..weft_a2a::A2aConfig::default() };
    let a2a = weft_a2a::A2aServer::new().config(config).agent("guarded", common::guarded_agent());
    let host = TestHost::start_with(HostConfig::default(), a2a).await;
    for binding in [Binding::JsonRpc, Binding::HttpJson] {
        let agent = A2AAgent::builder(host.agent_url("guarded")).binding(binding).build();
        let mut session = AgentSession::new();
        let asked = agent.run(&mut session, "Delete the file notes.txt").await.unwrap();
        let request = asked.approval_requests().remove(0);
        tokio::time::sleep(Duration::from_millis(600)).await;
        let error = agent.run(&mut session, request.approve()).await.unwrap_err();
        let cause = client_error(&error);
        assert_eq!(cause.kind(), A2aClientErrorKind::Remote { code: -32001 }, "{binding:?}: {cause}");
        assert!(cause.url().contains("/a2a/guarded"), "{cause}");
    }
}

/// A message over the server's body limit is refused with the protocol's error; the client
/// reports it with the code, and nothing runs.
#[tokio::test]
async fn an_oversized_message_is_refused_with_a_typed_error() {
    let host = TestHost::start(HostConfig { body_limit: 1024, ..HostConfig::default() }).await;
    let big = "x".repeat(4096);
    for (binding, code) in [(Binding::JsonRpc, -32600), (Binding::HttpJson, 413)] {
        let agent = A2AAgent::builder(host.agent_url("helper")).binding(binding).build();
        let mut session = AgentSession::new();
        let error = agent.run(&mut session, big.as_str()).await.unwrap_err();
        assert_eq!(client_error(&error).kind(), A2aClientErrorKind::Remote { code }, "{binding:?}: {error}");
        assert!(session.messages.is_empty(), "a refused run leaves the session as it was");
    }
    let (_, list) = rpc(&host.agent_url("helper"), Some("1.0"), "ListTasks", json!({})).await;
    assert_eq!(list["result"]["tasks"], json!([]), "{list:#}");
}

/// The agents a handoff orchestration reported handing off, in order.
fn handoffs(result: &weft_workflow::WorkflowRunResult) -> Vec<weft_workflow::HandoffEvent> {
    result
        .events
        .iter()
        .filter_map(|e| match e {
            weft_workflow::WorkflowEvent::Custom { event, .. } => {
                event.get::<weft_workflow::HandoffEvent>().cloned()
            }
            _ => None,
        })
        .collect()
}

/// A local triage agent hands the conversation off to a remote agent served by Weft's A2A
/// server: the remote task gets the conversation, and its answer is the handoff's output.
#[tokio::test]
async fn a_handoff_to_a_remote_a2a_agent_sends_the_conversation_and_brings_its_answer_back() {
    let host = TestHost::start(HostConfig::default()).await;
    let remote: Arc<dyn Agent> = Arc::new(A2AAgent::connect(host.agent_url("helper")).await.unwrap());
    assert_eq!(remote.name(), "helper");
    let triage_client = Arc::new(weft_core::ReplayClient::new([weft_core::ChatResponse::function_calls([
        weft_core::FunctionCall::new("c1", "handoff_to_helper", json!({"reason": "it knows"})),
    ])]));
    let triage: Arc<dyn Agent> =
        Arc::new(weft_core::ChatAgent::builder(triage_client.clone()).name("triage").build());
    let workflow = weft_workflow::HandoffBuilder::new()
        .participants([triage, remote])
        .start_with("triage")
        .build()
        .unwrap();
    let result = workflow.run(vec![Message::user("I was charged twice")]).await.unwrap();
    assert_eq!(
        handoffs(&result),
        vec![weft_workflow::HandoffEvent { from: "triage".into(), to: "helper".into() }]
    );
    let messages: Vec<Message> = result.outputs_as::<Vec<Message>>().concat();
    let authors: Vec<&str> = messages.iter().filter_map(|m| m.author_name.as_deref()).collect();
    assert_eq!(authors, ["helper"], "{messages:?}");
    assert_eq!(messages[0].text(), "You said: I was charged twice");
    // The remote server ran one task, on the conversation the handoff passed.
    let (_, list) = rpc(&host.agent_url("helper"), Some("1.0"), "ListTasks", json!({})).await;
    let tasks = list["result"]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{list:#}");
    assert_eq!(tasks[0]["status"]["state"], "TASK_STATE_COMPLETED");
    assert_eq!(tasks[0]["history"][0]["parts"][0]["text"], "I was charged twice", "{list:#}");
    assert_eq!(triage_client.requests().len(), 1);
}

/// A card at its own server pointing at a JSON-RPC endpoint `endpoint`; the card server's URL.
async fn card_for(endpoint: &str) -> (String, tokio::task::JoinHandle<()>) {
    let card = json!({"name": "stub", "capabilities": {"streaming": true}, "supportedInterfaces": [
        {"url": endpoint, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}]});
    serve(Router::new().route("/.well-known/agent-card.json", get(move || async move { axum::Json(card) })))
        .await
}

/// A peer that answers `SendMessage` with a working task and is gone before the client asks how
/// the task goes (`GetTask` finds nobody listening): the polling run ends with a typed error, and
/// its cancel (also unanswered) leaves nothing running once the agent is closed.
#[tokio::test]
async fn a_peer_that_goes_away_while_a_run_polls_is_a_typed_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/", listener.local_addr().unwrap());
    let peer = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        // The request's head, then as much body as its Content-Length says.
        loop {
            let read = socket.read(&mut buffer).await.unwrap();
            assert!(read > 0, "the client closed before its request was whole");
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request).to_lowercase();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
        }
        let request: Value = serde_json::from_slice(request.split(|b| *b == b'\n').next_back().unwrap())
            .unwrap_or_else(|_| json!({"id": 1}));
        let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {"task": {
            "id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_WORKING"}}}})
        .to_string();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            answer.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(answer.as_bytes()).await.unwrap();
        socket.shutdown().await.unwrap();
        // The listener goes with this task: the peer is gone.
    });
    let (card_url, _cards) = card_for(&endpoint).await;
    let agent = A2AAgent::builder(&card_url).binding(Binding::JsonRpc).build();
    let error = agent.run(&mut AgentSession::new(), "hello").await.unwrap_err();
    peer.await.unwrap();
    let kind = client_error(&error).kind();
    assert!(
        matches!(kind, A2aClientErrorKind::Unreachable(_) | A2aClientErrorKind::ConnectionLost),
        "{kind:?}: {error}"
    );
    tokio::time::timeout(Duration::from_secs(10), agent.close()).await.expect("the abandoned cancel ended");
}

/// A run dropped while its task runs cancels it; a peer that answers the cancel with the
/// protocol's "not cancelable" (the task finished meanwhile) leaves nothing running.
#[tokio::test]
async fn a_cancel_refused_because_the_task_finished_leaves_nothing_running() {
    let cancels = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let seen = cancels.clone();
    let rpc_handler = move |body: axum::Json<Value>| {
        let seen = seen.clone();
        async move {
            let id = body.0["id"].clone();
            let task = json!({"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_WORKING"}});
            axum::Json(match body.0["method"].as_str() {
                Some("SendMessage") => json!({"jsonrpc": "2.0", "id": id, "result": {"task": task}}),
                Some("GetTask") => json!({"jsonrpc": "2.0", "id": id, "result": task}),
                _ => {
                    seen.lock().unwrap().push(body.0.clone());
                    json!({"jsonrpc": "2.0", "id": id, "error": {
                        "code": -32002, "message": "Task t1 cannot be canceled: it is completed"}})
                }
            })
        }
    };
    let (url, _server) = serve(Router::new().route("/", post(rpc_handler))).await;
    let (card_url, _cards) = card_for(&format!("{url}/")).await;
    let agent = A2AAgent::builder(&card_url).binding(Binding::JsonRpc).build();
    let mut session = AgentSession::new();
    let run = agent.run(&mut session, "hello");
    assert!(tokio::time::timeout(Duration::from_millis(500), run).await.is_err());
    tokio::time::timeout(Duration::from_secs(10), agent.close()).await.expect("the cancel ended");
    let cancels = cancels.lock().unwrap();
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert_eq!(cancels[0]["method"], "CancelTask");
    assert_eq!(cancels[0]["params"]["id"], "t1");
    assert!(session.messages.is_empty(), "an abandoned run leaves the session as it was");
}

/// A peer whose answer (or streamed event) is over the client's size limit: the run ends with
/// the typed `TooLarge`, the client reads no further, and the abandoned task's cancel ends.
#[tokio::test]
async fn an_answer_over_the_clients_limit_is_a_typed_error() {
    async fn rpc_handler(body: axum::Json<Value>) -> axum::response::Response {
        use axum::response::IntoResponse;
        let id = body.0["id"].clone();
        let task = json!({"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_COMPLETED"},
                          "artifacts": [{"artifactId": "a1", "parts": [{"text": "x".repeat(4096)}]}]});
        match body.0["method"].as_str() {
            Some("SendStreamingMessage") => {
                let event = json!({"jsonrpc": "2.0", "id": id, "result": {"task": task}});
                ([("content-type", "text/event-stream")], format!("data: {event}\n\n")).into_response()
            }
            Some("SendMessage") => {
                axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": {"task": task}})).into_response()
            }
            _ => axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": task})).into_response(),
        }
    }
    let (url, _server) = serve(Router::new().route("/", post(rpc_handler))).await;
    let (card_url, _cards) = card_for(&format!("{url}/")).await;
    let small = A2aClientConfig { max_bytes: 1024, ..A2aClientConfig::default() };
    let agent = A2AAgent::builder(&card_url).binding(Binding::JsonRpc).config(small).build();
    let mut session = AgentSession::new();
    let error = agent.run(&mut session, "hello").await.unwrap_err();
    assert_eq!(client_error(&error).kind(), A2aClientErrorKind::TooLarge { limit: 1024 }, "{error}");
    let mut stream = agent.run_stream(&mut session, "hello");
    let mut failed = None;
    while let Some(update) = stream.next().await {
        if let Err(error) = update {
            failed = Some(error);
        }
    }
    drop(stream);
    let failed = failed.expect("the streamed run fails");
    assert_eq!(client_error(&failed).kind(), A2aClientErrorKind::TooLarge { limit: 1024 }, "{failed}");
    assert!(session.messages.is_empty(), "failed runs leave the session as it was");
    tokio::time::timeout(Duration::from_secs(10), agent.close()).await.expect("nothing left running");
}

/// A handoff to a remote agent whose task needs approval: the workflow pauses with the remote
/// call as an `AgentApprovalRequest`, and the answer resumes the remote task (whose id the
/// agent's session carries through the checkpoint) until the remote answer comes back.
#[tokio::test]
async fn a_remote_approval_in_a_handoff_pauses_the_workflow_and_the_answer_resumes_the_remote_task() {
    let host = TestHost::start(HostConfig::default()).await;
    let remote: Arc<dyn Agent> = Arc::new(A2AAgent::connect(host.agent_url("guarded")).await.unwrap());
    let triage = weft_core::ReplayClient::new([weft_core::ChatResponse::function_calls([
        weft_core::FunctionCall::new("c1", "handoff_to_guarded", json!({})),
    ])]);
    let triage: Arc<dyn Agent> =
        Arc::new(weft_core::ChatAgent::builder(Arc::new(triage)).name("triage").build());
    let workflow = weft_workflow::HandoffBuilder::new()
        .participants([triage, remote])
        .start_with("triage")
        .with_checkpoint_store(Arc::new(weft_workflow::InMemoryCheckpointStore::new()))
        .build()
        .unwrap();
    let first = workflow.run(vec![Message::user("Delete the file notes.txt")]).await.unwrap();
    assert_eq!(first.status, weft_workflow::RunStatus::IdleWithPendingRequests, "{:?}", first.error());
    let request = first.pending_requests().remove(0);
    assert_eq!(request.executor_id, "guarded");
    let asked: weft_workflow::AgentApprovalRequest = request.data_as().unwrap();
    assert_eq!(asked.requests[0].call.name, "delete_file");

    let second = workflow
        .send_responses(
            first.last_checkpoint_id().unwrap(),
            vec![weft_workflow::RequestResponse::new(&request.request_id, asked.approve_all())],
        )
        .await
        .unwrap();
    assert_eq!(second.status, weft_workflow::RunStatus::Idle, "{:?}", second.error());
    let messages: Vec<Message> = second.outputs_as::<Vec<Message>>().concat();
    let answer = messages.iter().rev().find(|m| m.author_name.as_deref() == Some("guarded")).unwrap();
    assert!(answer.text().contains("deleted notes.txt"), "{messages:?}");
    let (_, list) = rpc(&host.agent_url("guarded"), Some("1.0"), "ListTasks", json!({})).await;
    let tasks = list["result"]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "the answer resumed the remote task: {list:#}");
    assert_eq!(tasks[0]["status"]["state"], "TASK_STATE_COMPLETED");
}
