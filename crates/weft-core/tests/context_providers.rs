//! Context providers: what they add reaches the model (not the session), they compose in
//! order, they see each exchange, and the memory provider recalls facts across sessions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::context::memory::MemoryProvider;
use weft_core::context::{AddedContext, ContextProvider, ContextProviderError, RunEnd, RunStart};
use weft_core::{
    AgentError, BoxError, ChatResponse, EmbeddingOptions, FunctionCall, FunctionTool, Message, ReplayClient,
    Role, ScriptedEmbeddingClient,
};

/// Adds its instruction (and optionally a message and a `lookup` tool) and logs what it sees.
struct Recorder {
    name: &'static str,
    with_message_and_tool: bool,
    fail_before: bool,
    fail_after: bool,
    seen: Mutex<Vec<String>>,
}

impl Recorder {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            with_message_and_tool: false,
            fail_before: false,
            fail_after: false,
            seen: Mutex::default(),
        }
    }
}

#[async_trait]
impl ContextProvider for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    async fn before_run(&self, run: RunStart<'_>) -> Result<AddedContext, BoxError> {
        if self.fail_before {
            return Err("store offline".into());
        }
        self.seen.lock().unwrap().push(format!("before {} history={}", run.agent_name, run.history.len()));
        let mut added = AddedContext::new().instruction(format!("from {}", self.name));
        if self.with_message_and_tool {
            let lookup = FunctionTool::new("lookup", "Look a word up", |_: serde_json::Value| async move {
                Ok::<_, String>("a small fish".to_string())
            });
            added = added.message(Message::user("(context) the user likes fish")).tool(Arc::new(lookup));
        }
        Ok(added)
    }

    async fn after_run(&self, run: RunEnd<'_>) -> Result<(), BoxError> {
        self.seen.lock().unwrap().push(format!("after {} -> {}", run.input[0].text(), run.response.text()));
        if self.fail_after { Err("could not save".into()) } else { Ok(()) }
    }
}

#[tokio::test]
async fn providers_add_instructions_messages_and_tools_in_order_for_one_run() {
    let client = Arc::new(ReplayClient::new([
        ChatResponse::function_calls([FunctionCall::new("1", "lookup", json!({"word": "sprat"}))]),
        ChatResponse::text("a sprat is a small fish"),
        ChatResponse::text("second answer"),
    ]));
    let first = Arc::new(Recorder { with_message_and_tool: true, ..Recorder::new("first") });
    let second = Arc::new(Recorder::new("second"));
    let agent = ChatAgent::builder(client.clone())
        .name("reader")
        .instructions("Be brief.")
        .context_provider(first.clone())
        .context_provider(second.clone())
        .build();
    let mut session = AgentSession::new();
    let response = agent.run(&mut session, "what is a sprat?").await.unwrap();
    assert_eq!(response.text(), "a sprat is a small fish");

    let request = &client.requests()[0];
    assert_eq!(request.messages[0].role, Role::System);
    assert_eq!(request.messages[0].text(), "Be brief.\n\nfrom first\n\nfrom second");
    assert_eq!(request.messages[1].text(), "(context) the user likes fish");
    assert_eq!(request.messages[2].text(), "what is a sprat?");
    assert!(request.options.tools.iter().any(|tool| tool.name == "lookup"));
    // The provider's tool ran.
    let results: Vec<_> = response.messages.iter().flat_map(Message::function_results).collect();
    assert_eq!(results[0].result, json!("a small fish"));
    // What providers add is not kept in the session.
    assert!(session.messages.iter().all(|m| !m.text().contains("(context)")));
    assert_eq!(session.messages.len(), 4);

    agent.run(&mut session, "thanks").await.unwrap();
    assert_eq!(
        *second.seen.lock().unwrap(),
        vec![
            "before reader history=0",
            "after what is a sprat? -> a sprat is a small fish",
            "before reader history=4",
            "after thanks -> second answer",
        ]
    );
}

#[tokio::test]
async fn a_provider_failing_before_the_run_fails_it_and_after_the_run_does_not() {
    let failing = Arc::new(Recorder { fail_before: true, ..Recorder::new("flaky") });
    let client = Arc::new(ReplayClient::new([ChatResponse::text("never")]));
    let agent = ChatAgent::builder(client.clone()).context_provider(failing).build();
    let mut session = AgentSession::new();
    let error = agent.run(&mut session, "hi").await.unwrap_err();
    let AgentError::Other { source, .. } = &error else { panic!("{error:?}") };
    let cause = source.downcast_ref::<ContextProviderError>().unwrap();
    assert_eq!(cause.provider, "flaky");
    assert_eq!(client.remaining(), 1);
    assert!(session.messages.is_empty());

    let late = Arc::new(Recorder { fail_after: true, ..Recorder::new("late") });
    let client = Arc::new(ReplayClient::new([ChatResponse::text("answer")]));
    let agent = ChatAgent::builder(client).context_provider(late.clone()).build();
    let response = agent.run(&mut session, "hi").await.unwrap();
    assert_eq!(response.text(), "answer");
    assert_eq!(late.seen.lock().unwrap().len(), 2);
}

async fn recalled_in_a_later_session(memory: Arc<MemoryProvider>) -> String {
    let client = Arc::new(ReplayClient::new([ChatResponse::text("noted"), ChatResponse::text("teal")]));
    let agent =
        ChatAgent::builder(client.clone()).instructions("Be brief.").context_provider(memory.clone()).build();
    agent.run(&mut AgentSession::new(), "My favourite colour is teal. My cat is called Tom.").await.unwrap();
    assert_eq!(memory.facts(), vec!["My favourite colour is teal.", "My cat is called Tom."]);
    // Another session, where the conversation knows nothing of it.
    agent.run(&mut AgentSession::new(), "Which colour is my favourite?").await.unwrap();
    client.requests()[1].messages[0].text()
}

#[tokio::test]
async fn memory_recalls_facts_from_earlier_sessions_by_keyword() {
    let instructions = recalled_in_a_later_session(Arc::new(MemoryProvider::new())).await;
    assert!(instructions.starts_with("Be brief.\n\n"), "{instructions}");
    assert!(instructions.contains("- My favourite colour is teal."), "{instructions}");
    assert!(!instructions.contains("Tom"), "{instructions}");
}

#[tokio::test]
async fn memory_recalls_by_embedding_similarity_when_it_has_an_embedding_client() {
    let embedder = Arc::new(ScriptedEmbeddingClient::new());
    let memory = MemoryProvider::new().with_embeddings(embedder, EmbeddingOptions::default()).max_recalled(1);
    let instructions = recalled_in_a_later_session(Arc::new(memory)).await;
    assert!(instructions.contains("- My favourite colour is teal."), "{instructions}");
    assert!(!instructions.contains("Tom"), "{instructions}");
}
