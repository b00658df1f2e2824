//! The durable decorators outside a durable run (no Restate needed): they are the wrapped client
//! and tools, so the same agent runs locally with the same answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::{ChatClient, ChatRequest, ScriptedClient, Tool, ToolContext, ToolErrorKind};
use weft_restate::demo::{DemoSettings, MODEL_COUNT_FILE, agent, count_calls, tool_count_file};
use weft_restate::{DurableChatClient, StepKey, current_step, in_durable_run};

#[tokio::test]
async fn outside_a_durable_run_the_client_is_the_wrapped_client() {
    assert!(!in_durable_run());
    assert!(current_step().is_none());
    let request =
        ChatRequest::new(vec![weft_core::message::Message::user("hello there")], Default::default());
    let durable = DurableChatClient::new(Arc::new(ScriptedClient::new()));
    let direct = ScriptedClient::new().get_response(request.clone()).await.unwrap();
    assert_eq!(durable.get_response(request.clone()).await.unwrap().messages, direct.messages);
    let streamed = weft_core::collect_stream(durable.get_streaming_response(request)).await.unwrap();
    assert_eq!(streamed.text_content(), direct.text_content());
}

#[tokio::test]
async fn the_demo_agent_runs_locally_and_counts_its_calls() {
    let dir = tempfile::tempdir().unwrap();
    let settings = DemoSettings {
        counts: Some(dir.path().to_owned()),
        lookup_delay: Duration::ZERO,
        as_middleware: false,
    };
    let demo = agent(&settings);
    let mut session = AgentSession::new();
    let response = demo.run(&mut session, "note and lookup the Eiffel Tower").await.unwrap();
    assert!(response.text().contains("note_fact returned: noted:"), "{}", response.text());
    assert!(response.text().contains("slow_lookup returned: found:"), "{}", response.text());
    assert_eq!(count_calls(dir.path(), MODEL_COUNT_FILE), 2);
    assert_eq!(count_calls(dir.path(), &tool_count_file("note_fact")), 1);
    // Outside a durable run there is no step key: calls are counted as `local`.
    let lines = std::fs::read_to_string(dir.path().join(tool_count_file("slow_lookup"))).unwrap();
    assert_eq!(lines.trim(), "local");
}

#[tokio::test]
async fn a_failing_backend_is_shown_to_the_model_in_a_local_run() {
    let demo: ChatAgent = agent(&DemoSettings::default());
    let mut session = AgentSession::new();
    let response = demo.run(&mut session, "ask the backend").await.unwrap();
    assert!(
        response.text().contains("flaky_backend failed: the backend is unavailable"),
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn a_tool_outside_a_durable_run_keeps_its_error_kind() {
    let tool = weft_restate::DurableTool::new(Flaky);
    let error = tool.invoke(serde_json::json!({}), &ToolContext::default()).await.unwrap_err();
    assert_eq!(error.kind(), ToolErrorKind::Timeout);
}

struct Flaky;

#[async_trait::async_trait]
impl Tool for Flaky {
    fn definition(&self) -> &weft_core::ToolDefinition {
        static DEFINITION: std::sync::OnceLock<weft_core::ToolDefinition> = std::sync::OnceLock::new();
        DEFINITION.get_or_init(|| weft_core::ToolDefinition::new("flaky", "times out", serde_json::json!({})))
    }

    async fn invoke(
        &self,
        _arguments: serde_json::Value,
        _context: &ToolContext,
    ) -> Result<weft_core::ToolOutput, weft_core::ToolError> {
        Err(weft_core::ToolError::new(ToolErrorKind::Timeout, "too slow"))
    }
}

#[test]
fn a_step_key_is_one_idempotency_key() {
    let key = StepKey { invocation_id: "inv_1".into(), step: "tool:pay#3:call_1".into() };
    assert_eq!(key.idempotency_key(), "inv_1/tool:pay#3:call_1");
}
