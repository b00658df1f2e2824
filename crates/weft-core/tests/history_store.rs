//! Agents over sessions kept in a history store: the session holds ids, runs load a window
//! and append their messages at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common_history;

use std::sync::Arc;

use common_history::Recording;
use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::history::{HistoryError, HistoryStore, HistoryWindow, MemoryHistoryStore};
use weft_core::{AgentError, ApprovalMode, FunctionTool, Message, Role};

#[derive(Deserialize, JsonSchema)]
struct City {
    /// The city.
    city: String,
}

fn weather() -> FunctionTool<City> {
    FunctionTool::new("get_weather", "Get the weather for a city", |args: City| async move {
        Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
    })
}

fn agent(client: Arc<Recording>, store: &MemoryHistoryStore) -> ChatAgent {
    ChatAgent::builder(client).tool(weather()).history_store(Arc::new(store.clone())).build()
}

#[tokio::test]
async fn a_stored_session_carries_no_messages_and_each_run_sees_the_earlier_ones() {
    let store = MemoryHistoryStore::new();
    let client = Recording::scripted();
    let agent = agent(client.clone(), &store);
    let mut session = agent.new_session();
    assert_eq!(session.history.as_ref().unwrap().store, "memory");

    agent.run(&mut session, "My name is Ada.").await.unwrap();
    agent.run(&mut session, "What's the weather in Paris?").await.unwrap();
    let response = agent.run(&mut session, "What is my name?").await.unwrap();
    assert_eq!(response.text(), "Your name is Ada.");

    assert!(session.messages.is_empty(), "the messages are in the store");
    let stored = store.load(&session.id, HistoryWindow::All).await.unwrap();
    // 3 user messages, 3 answers, and the weather call with its result.
    assert_eq!(stored.len(), 8, "{stored:#?}");
    assert_eq!(stored[0].text(), "My name is Ada.");
    assert!(stored.iter().any(|m| m.role == Role::Tool));
    // The last request held the whole conversation before the question.
    let sent = client.last_request();
    assert_eq!(sent.len(), 7);
    assert_eq!(sent[..7], stored[..7]);

    // The session saved as JSON holds no message, however long the conversation.
    let json = session.to_json().unwrap();
    assert!(!json.contains("Ada"), "{json}");
    let resumed = AgentSession::from_json(&json).unwrap();
    let mut resumed = resumed;
    let response = agent.run(&mut resumed, "What is my name?").await.unwrap();
    assert_eq!(response.text(), "Your name is Ada.");
}

#[tokio::test]
async fn a_run_loads_only_its_window_starting_at_a_turn() {
    let store = MemoryHistoryStore::new();
    let client = Recording::scripted();
    let agent = ChatAgent::builder(client.clone())
        .tool(weather())
        .history_store(Arc::new(store.clone()))
        .history_window(5)
        .build();
    let mut session = agent.new_session();
    for city in ["Paris", "Rome", "Oslo"] {
        agent.run(&mut session, format!("What's the weather in {city}?")).await.unwrap();
    }
    // Each weather turn is 4 messages: question, call, result, answer.
    assert_eq!(store.len(&session.id).await.unwrap(), 12);
    agent.run(&mut session, "hello").await.unwrap();
    let sent = client.last_request();
    // The window of 5 began in the middle of the Rome turn: it starts at the Oslo question.
    assert_eq!(sent.len(), 5, "{sent:#?}");
    assert_eq!(sent[0].text(), "What's the weather in Oslo?");
    assert_eq!(sent[4].text(), "hello");
}

#[tokio::test]
async fn a_failed_run_appends_nothing_and_a_streamed_run_appends_at_its_end() {
    let store = MemoryHistoryStore::new();
    let client = Recording::scripted();
    let agent = agent(client.clone(), &store);
    let mut session = agent.new_session();
    agent.run(&mut session, "My name is Ada.").await.unwrap();

    client.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let error = agent.run(&mut session, "hello").await.unwrap_err();
    assert!(matches!(error, AgentError::Chat { .. }), "{error}");
    assert_eq!(store.len(&session.id).await.unwrap(), 2, "the failed run left nothing");
    client.fail.store(false, std::sync::atomic::Ordering::SeqCst);

    let mut stream = agent.run_stream(&mut session, "What's the weather in Paris?");
    let mut updates = 0;
    while let Some(update) = stream.next().await {
        update.unwrap();
        updates += 1;
    }
    drop(stream);
    assert!(updates > 0);
    let stored = store.load(&session.id, HistoryWindow::All).await.unwrap();
    assert_eq!(stored.len(), 6, "{stored:#?}");
    assert!(stored[5].text().contains("sunny"), "{stored:#?}");

    // A stream dropped before its end appends nothing.
    let mut stream = agent.run_stream(&mut session, "What's the weather in Rome?");
    let _first = stream.next().await;
    drop(stream);
    assert_eq!(store.len(&session.id).await.unwrap(), 6);
}

#[tokio::test]
async fn a_session_naming_another_store_is_refused_before_the_model_is_asked() {
    let client = Recording::scripted();
    let agent = agent(client.clone(), &MemoryHistoryStore::new());
    let mut session = AgentSession::stored_in("postgres");
    let error = agent.run(&mut session, "hello").await.unwrap_err();
    let AgentError::History { source: HistoryError::UnknownStore { store, available, .. }, .. } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!((store.as_str(), available.as_str()), ("postgres", "the store 'memory'"));
    assert!(error.to_string().contains("ChatAgentBuilder::history_store"), "{error}");
    assert_eq!(client.calls(), 0);

    let plain = ChatAgent::builder(client.clone()).build();
    let error = plain.run(&mut session, "hello").await.unwrap_err();
    assert!(error.to_string().contains("no history store"), "{error}");
}

#[tokio::test]
async fn an_append_the_store_refuses_fails_the_run_with_the_stores_error() {
    let store = MemoryHistoryStore::new()
        .with_limits(weft_core::history::HistoryLimits { max_message_bytes: 1_000, max_session_messages: 3 });
    let agent = ChatAgent::builder(Recording::scripted()).history_store(Arc::new(store.clone())).build();
    let mut session = agent.new_session();
    agent.run(&mut session, "one").await.unwrap();
    let error = agent.run(&mut session, "two").await.unwrap_err();
    assert!(matches!(error, AgentError::History { source: HistoryError::SessionFull { .. }, .. }), "{error}");
    assert_eq!(store.len(&session.id).await.unwrap(), 2);
}

#[tokio::test]
async fn approvals_wait_in_the_store_and_resume_from_it() {
    let store = MemoryHistoryStore::new();
    let agent = ChatAgent::builder(Recording::scripted())
        .tool(weather().with_approval(ApprovalMode::Always))
        .history_store(Arc::new(store.clone()))
        .build();
    let session = agent.new_session();
    let json = {
        let mut session = session;
        let response = agent.run(&mut session, "What's the weather in Paris?").await.unwrap();
        assert_eq!(response.approval_requests().len(), 1);
        session.to_json().unwrap()
    };
    // Another process: the session from JSON, the pending request from the store.
    let mut session = AgentSession::from_json(&json).unwrap();
    let pending = agent.pending_approvals(&session).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].call.name, "get_weather");
    let response = agent.run(&mut session, pending[0].approve()).await.unwrap();
    assert!(response.text().contains("sunny"), "{}", response.text());
    assert!(agent.pending_approvals(&session).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_on_one_stored_session_lose_no_message() {
    let store = MemoryHistoryStore::new();
    let agent = agent(Recording::scripted(), &store);
    let session = agent.new_session();
    let mut runs = tokio::task::JoinSet::new();
    for run in 0..10 {
        let agent = agent.clone();
        let mut session = session.clone();
        runs.spawn(async move { agent.run(&mut session, format!("message {run}")).await.unwrap() });
    }
    while let Some(done) = runs.join_next().await {
        done.unwrap();
    }
    let stored = store.load(&session.id, HistoryWindow::All).await.unwrap();
    assert_eq!(stored.len(), 20);
    let users: std::collections::HashSet<String> =
        stored.iter().filter(|m| m.role == Role::User).map(Message::text).collect();
    assert_eq!(users.len(), 10);
}
