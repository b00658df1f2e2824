//! Hosted tools (web search, file search, code interpreter): their documented request forms on
//! the Responses API, the provider's own tool items in its answers (skipped: they are not Weft
//! contents, and the text after them is the answer), and the typed refusal of Chat Completions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Map, Value, json};
use support::{ask, collect, openai, responses_sse, sse_response};
use weft_core::hosted::UNSUPPORTED_HOSTED_TOOL;
use weft_core::{
    ChatClient, ChatErrorKind, ChatOptions, ChatRequest, FinishReason, HostedTool, Message, ToolDefinition,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn hosted_tools() -> Vec<HostedTool> {
    vec![
        HostedTool::WebSearch {
            options: serde_json::from_value(json!({"search_context_size": "low"})).unwrap(),
        },
        HostedTool::FileSearch {
            vector_store_ids: vec!["vs_1234567890".into()],
            max_results: Some(2),
            ranker: Some("auto".into()),
            score_threshold: Some(0.5),
            filters: Some(json!({"type": "eq", "key": "type", "value": "blog"})),
        },
        HostedTool::CodeInterpreter { file_ids: vec!["file-1".into()] },
    ]
}

fn request_with(tools: Vec<HostedTool>) -> ChatRequest {
    let options = ChatOptions {
        model: Some("gpt-4.1".into()),
        tools: vec![ToolDefinition::new("get_weather", "Weather", json!({"type": "object"}))],
        hosted_tools: tools,
        ..ChatOptions::default()
    };
    ChatRequest::new(vec![Message::user("What was a positive news story from today?")], options)
}

async fn serve(body: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/v1/responses")).respond_with(body).mount(&server).await;
    server
}

#[test]
fn hosted_tools_take_their_documented_forms_after_the_functions() {
    let server_uri = "http://127.0.0.1:9";
    let client = support::builder(server_uri).build().unwrap().responses();
    let body = client.request_body(&request_with(hosted_tools()), false).unwrap();
    assert_eq!(
        body["tools"],
        json!([
            {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}, "strict": false},
            {"type": "web_search", "search_context_size": "low"},
            {"type": "file_search", "vector_store_ids": ["vs_1234567890"], "max_num_results": 2,
             "ranking_options": {"ranker": "auto", "score_threshold": 0.5},
             "filters": {"type": "eq", "key": "type", "value": "blog"}},
            {"type": "code_interpreter", "container": {"type": "auto", "file_ids": ["file-1"]}},
        ])
    );
    // Without settings, the bare forms.
    let bare = vec![
        HostedTool::WebSearch { options: Map::new() },
        HostedTool::FileSearch {
            vector_store_ids: vec!["vs_1".into()],
            max_results: None,
            ranker: None,
            score_threshold: None,
            filters: None,
        },
    ];
    let mut request = request_with(bare);
    request.options.tools.clear();
    let body = client.request_body(&request, false).unwrap();
    assert_eq!(
        body["tools"],
        json!([{"type": "web_search"}, {"type": "file_search", "vector_store_ids": ["vs_1"]}])
    );
}

/// The answer with a web search from OpenAI's web search guide, as documented.
const WEB_SEARCH_OUTPUT: &str = r#"[
  {
    "type": "web_search_call",
    "id": "ws_67c9fa0502748190b7dd390736892e100be649c1a5ff9609",
    "status": "completed"
  },
  {
    "id": "msg_67c9fa077e288190af08fdffda2e34f20be649c1a5ff9609",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [
      {
        "type": "output_text",
        "text": "On March 6, 2025, several news...",
        "annotations": [
          {
            "type": "url_citation",
            "start_index": 2606,
            "end_index": 2758,
            "url": "https://...",
            "title": "Title..."
          }
        ]
      }
    ]
  }
]"#;

#[tokio::test]
async fn a_web_search_call_item_is_skipped_and_the_message_after_it_is_the_answer() {
    let output: Value = serde_json::from_str(WEB_SEARCH_OUTPUT).unwrap();
    let body = json!({"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-4.1",
                      "output": output, "usage": null});
    let server = serve(ResponseTemplate::new(200).set_body_json(body)).await;
    let client = openai(&server).responses();
    let response = client.get_response(request_with(hosted_tools())).await.unwrap();
    assert_eq!(response.text_content(), "On March 6, 2025, several news...");
    assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    assert!(
        response.messages.iter().all(|m| m.function_calls().next().is_none()),
        "not a call for Weft to run"
    );
    assert_eq!(
        support::bodies(&server).await[0]["tools"][1],
        json!({"type": "web_search", "search_context_size": "low"})
    );
}

#[tokio::test]
async fn streamed_web_search_events_are_skipped() {
    let call = json!({"type": "web_search_call", "id": "ws_123", "status": "in_progress"});
    let done = json!({"type": "web_search_call", "id": "ws_123", "status": "completed"});
    let message = json!({"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": "Found it.", "annotations": []}]});
    let completed = json!({"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-4.1",
                           "output": [done.clone(), message.clone()], "usage": null});
    let events = vec![
        json!({"type": "response.output_item.added", "output_index": 0, "item": call, "sequence_number": 1}),
        json!({"type": "response.web_search_call.in_progress", "output_index": 0, "item_id": "ws_123", "sequence_number": 2}),
        json!({"type": "response.web_search_call.searching", "output_index": 0, "item_id": "ws_123", "sequence_number": 3}),
        json!({"type": "response.web_search_call.completed", "output_index": 0, "item_id": "ws_123", "sequence_number": 4}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": done, "sequence_number": 5}),
        json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": "Found it.", "sequence_number": 6}),
        json!({"type": "response.output_item.done", "output_index": 1, "item": message, "sequence_number": 7}),
        json!({"type": "response.completed", "response": completed, "sequence_number": 8}),
    ];
    let server = serve(sse_response(responses_sse(&events))).await;
    let client = openai(&server).responses();
    let (updates, error) = collect(&client, request_with(hosted_tools())).await;
    assert!(error.is_none(), "{error:?}");
    let text: String = updates.iter().map(|u| u.text_content()).collect();
    assert_eq!(text, "Found it.");
    assert!(
        updates.iter().all(|u| u.contents.iter().all(|c| !matches!(c, weft_core::Content::FunctionCall(_))))
    );
    assert_eq!(updates.last().unwrap().finish_reason, Some(FinishReason::Stop));
}

#[tokio::test]
async fn chat_completions_refuses_a_hosted_tool_naming_it_and_sends_nothing() {
    let server = MockServer::start().await;
    let client = openai(&server).chat();
    for tool in hosted_tools() {
        let error = client.get_response(request_with(vec![tool.clone()])).await.unwrap_err();
        assert_eq!(error.kind(), ChatErrorKind::Configuration);
        assert_eq!(error.code(), Some(UNSUPPORTED_HOSTED_TOOL));
        assert!(error.message().contains(&format!("`{}`", tool.kind())), "{}", error.message());
        assert!(error.provider().is_some_and(|p| !p.is_empty()));
        let (_, streamed) = collect(&client, request_with(vec![tool])).await;
        assert_eq!(streamed.unwrap().code(), Some(UNSUPPORTED_HOSTED_TOOL));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // Without hosted tools the same request goes out.
    let _ = client.get_response(ask("hi")).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
