//! Chat Completions: plain and streamed answers, tool calls, usage, against wiremock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::{ask, chat_sse, collect, openai, sse_response};
use weft_core::{ChatClient, Content, FinishReason, FunctionCall, Role, Usage, collect_stream};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The non-streamed answer from the OpenAI API reference.
const COMPLETION: &str = r#"{
  "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "gpt-4.1-2025-04-14",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Hello! How can I assist you today?",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 19,
    "completion_tokens": 10,
    "total_tokens": 29,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default"
}"#;

/// The streamed answer from the OpenAI API reference, with usage.
const STREAM: &str = concat!(
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"!\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n",
    "data: [DONE]\n\n",
);

async fn serve(body: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(body).mount(&server).await;
    server
}

#[tokio::test]
async fn plain_answer_with_usage_and_finish_reason() {
    let server = serve(ResponseTemplate::new(200).set_body_raw(COMPLETION, "application/json")).await;
    let client = openai(&server).chat();
    let response = client.get_response(ask("Hello!")).await.unwrap();
    assert_eq!(response.text_content(), "Hello! How can I assist you today?");
    assert_eq!(response.messages.len(), 1);
    assert_eq!(response.messages[0].role, Role::Assistant);
    assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    assert_eq!(
        response.usage,
        Some(Usage { input_tokens: 19, output_tokens: 10, total_tokens: 29, ..Usage::default() })
    );
    assert_eq!(response.response_id.as_deref(), Some("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"));
    assert_eq!(response.model.as_deref(), Some("gpt-4.1-2025-04-14"));
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.headers.get("authorization").unwrap(), "Bearer sk-test");
}

#[tokio::test]
async fn streamed_text_arrives_one_update_per_delta() {
    let server = serve(sse_response(STREAM.to_string())).await;
    let client = openai(&server).chat();
    let (updates, error) = collect(&client, ask("Hello!")).await;
    assert!(error.is_none(), "{error:?}");
    let texts: Vec<String> = updates.iter().map(|u| u.text_content()).filter(|t| !t.is_empty()).collect();
    assert_eq!(texts, ["Hello", " there", "!"]);
    assert!(updates.iter().all(|u| u.message_id.as_deref() == Some("chatcmpl-123")));
    let last = updates.last().unwrap();
    assert_eq!(last.finish_reason, Some(FinishReason::Stop));
    assert_eq!(
        last.contents,
        vec![Content::Usage(Usage {
            input_tokens: 9,
            output_tokens: 3,
            total_tokens: 12,
            ..Usage::default()
        })]
    );
    let body = &support::bodies(&server).await[0];
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    let folded = collect_stream(client.get_streaming_response(ask("Hello!"))).await.unwrap();
    assert_eq!(folded.text_content(), "Hello there!");
    assert_eq!(
        folded.usage,
        Some(Usage { input_tokens: 9, output_tokens: 3, total_tokens: 12, ..Usage::default() })
    );
}

fn chunk(delta: serde_json::Value, finish: Option<&str>) -> serde_json::Value {
    json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
           "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
}

#[tokio::test]
async fn streamed_tool_call_arguments_split_across_chunks() {
    let body = chat_sse(
        &[
            chunk(
                json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "type": "function", "function": {"name": "get_weather", "arguments": ""}}], "refusal": null}),
                None,
            ),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\""}}]}), None),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "location"}}]}), None),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\":\""}}]}), None),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "Paris, France"}}]}), None),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"}"}}]}), None),
            chunk(json!({}), Some("tool_calls")),
        ],
        true,
    );
    let server = serve(sse_response(body)).await;
    let (updates, error) = collect(&openai(&server).chat(), ask("weather?")).await;
    assert!(error.is_none(), "{error:?}");
    let calls: Vec<&FunctionCall> =
        updates.iter().flat_map(|u| u.contents.iter().filter_map(Content::as_function_call)).collect();
    assert_eq!(
        calls,
        [&FunctionCall::new(
            "call_DdmO9pD3xa9XTPNJ32zg2hcA",
            "get_weather",
            json!({"location": "Paris, France"})
        )]
    );
    assert_eq!(updates.last().unwrap().finish_reason, Some(FinishReason::ToolCalls));
}

#[tokio::test]
async fn two_parallel_tool_calls_interleaved_by_index() {
    // llama.cpp style: ids without the `call_` prefix, `usage: null` everywhere.
    let body = chat_sse(
        &[
            chunk(
                json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "Xy7abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":"}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 1, "id": "Qw9def", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\""}}]}),
                None,
            ),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}), None),
            chunk(json!({"tool_calls": [{"index": 1, "function": {"arguments": ":\"CET\"}"}}]}), None),
            chunk(json!({}), Some("tool_calls")),
            json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", "choices": [],
                   "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}}),
        ],
        true,
    );
    let server = serve(sse_response(body)).await;
    let (updates, error) = collect(&openai(&server).chat(), ask("weather and time?")).await;
    assert!(error.is_none(), "{error:?}");
    let last = updates.last().unwrap();
    assert_eq!(
        last.contents,
        vec![
            Content::FunctionCall(FunctionCall::new("Xy7abc", "get_weather", json!({"city": "Paris"}))),
            Content::FunctionCall(FunctionCall::new("Qw9def", "get_time", json!({"tz": "CET"}))),
            Content::Usage(Usage {
                input_tokens: 50,
                output_tokens: 20,
                total_tokens: 70,
                ..Usage::default()
            }),
        ]
    );
    // No partial call was emitted before.
    assert_eq!(
        updates.iter().flat_map(|u| u.contents.iter().filter_map(Content::as_function_call)).count(),
        2
    );
}

#[tokio::test]
async fn plain_answer_with_tool_calls() {
    let body = json!({
        "id": "chatcmpl-abc123", "object": "chat.completion", "created": 1699896916, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_abc123", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\n\"location\": \"Boston, MA\"\n}"}}
        ]}, "logprobs": null, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99}
    });
    let server = serve(ResponseTemplate::new(200).set_body_json(body)).await;
    let response = openai(&server).chat().get_response(ask("weather?")).await.unwrap();
    let calls: Vec<_> = response.function_calls_requested().cloned().collect();
    assert_eq!(
        calls,
        [FunctionCall::new("call_abc123", "get_current_weather", json!({"location": "Boston, MA"}))]
    );
    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
}

#[tokio::test]
async fn info_names_provider_model_and_endpoint() {
    let server = MockServer::start().await;
    let info = openai(&server).chat().info();
    assert_eq!(info.provider, "openai");
    assert_eq!(info.default_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(info.endpoint, Some(format!("{}/v1", server.uri())));
}

#[tokio::test]
async fn missing_model_is_a_configuration_error_at_call_time() {
    let server = MockServer::start().await;
    let client = weft_openai::OpenAI::builder().base_url(server.uri()).build().unwrap().chat();
    let err = client.get_response(ask("hi")).await.unwrap_err();
    assert_eq!(err.kind(), weft_core::ChatErrorKind::Configuration);
    assert!(err.message().contains("OpenAIBuilder::model"), "{err}");
    let (_, err) = collect(&client, ask("hi")).await;
    assert_eq!(err.unwrap().kind(), weft_core::ChatErrorKind::Configuration);
    assert!(server.received_requests().await.unwrap().is_empty());
}
