//! The Converse client against an in-test Bedrock runtime that checks every SigV4 signature
//! and answers with event-stream frames built as AWS documents them (correct CRCs, the
//! `:event-type`, `:content-type` and `:message-type` headers), and with a bad CRC, a cut
//! frame, and an exception mid-stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures::StreamExt;
use serde_json::json;
use support::{Mock, aws_error, event, event_stream, exception, json_answer};
use weft_core::{
    ChatClient, ChatErrorKind, ChatOptions, ChatRequest, ChatResponseUpdate, Content, FinishReason,
    FunctionCall, Message, ToolDefinition, Usage, collect_stream,
};

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new(vec![Message::user(text)], ChatOptions::default())
}

/// A streamed answer with reasoning (its signature), text, a tool call with its input in
/// pieces, the stop reason and cached usage, in the order ConverseStream sends them.
fn tool_stream() -> Vec<u8> {
    [
        event("messageStart", r#"{"p":"abcdefghijkl","role":"assistant"}"#),
        event("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"The user wants "}},"p":"abcd"}"#),
        event("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"the weather."}},"p":"abcd"}"#),
        event("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"ErcBCkgIBxABGAIiQH"}},"p":"ab"}"#),
        event("contentBlockStop", r#"{"contentBlockIndex":0,"p":"abcdefghijklmnopqrstu"}"#),
        event("contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"text":"Let me check"},"p":"abcdefgh"}"#),
        event("contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"text":" that."},"p":"abcdefgh"}"#),
        event("contentBlockStop", r#"{"contentBlockIndex":1,"p":"abcdefghij"}"#),
        event("contentBlockStart", r#"{"contentBlockIndex":2,"start":{"toolUse":{"name":"get_weather","toolUseId":"tooluse_Xr8vLwXdQ0q3bZwV4pLX1A"}},"p":"abcdef"}"#),
        event("contentBlockDelta", r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":""}},"p":"abcdefgh"}"#),
        event("contentBlockDelta", r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"city\": \"Pa"}},"p":"abcdefgh"}"#),
        event("contentBlockDelta", r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"ris\"}"}},"p":"abcdefgh"}"#),
        event("contentBlockStop", r#"{"contentBlockIndex":2,"p":"abcdefghijklmnopqrstuvwxyzABCDEFGH"}"#),
        event("messageStop", r#"{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR","stopReason":"tool_use"}"#),
        event("metadata", r#"{"metrics":{"latencyMs":1021},"p":"abcdef","usage":{"cacheReadInputTokens":1000,"cacheWriteInputTokens":24,"inputTokens":410,"outputTokens":62,"totalTokens":1496}}"#),
    ]
    .concat()
}

fn text_stream(texts: &[&str]) -> Vec<Vec<u8>> {
    let mut frames = vec![event("messageStart", r#"{"p":"abcd","role":"assistant"}"#)];
    for text in texts {
        frames.push(event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"text": text}, "p": "ab"}).to_string(),
        ));
    }
    frames
}

async fn run(
    client: &impl ChatClient,
    request: ChatRequest,
) -> (Vec<ChatResponseUpdate>, Option<weft_core::ChatError>) {
    let mut stream = client.get_streaming_response(request);
    let mut updates = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(update) => updates.push(update),
            Err(err) => return (updates, Some(err)),
        }
    }
    (updates, None)
}

fn text_of(updates: &[ChatResponseUpdate]) -> String {
    updates
        .iter()
        .flat_map(|update| &update.contents)
        .filter_map(|content| match content {
            Content::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_streamed_tool_call_with_reasoning_and_cached_usage() {
    let mock = Mock::answers(vec![event_stream(tool_stream())]).await;
    let client = mock.bedrock().converse();
    let options = ChatOptions {
        tools: vec![ToolDefinition::new("get_weather", "Weather for a city", json!({"type": "object"}))],
        ..ChatOptions::default()
    };
    let request =
        ChatRequest::new(vec![Message::system("Be brief."), Message::user("Weather in Paris?")], options);
    let response = collect_stream(client.get_streaming_response(request)).await.unwrap();
    let contents = &response.messages[0].contents;
    assert!(
        contents.contains(&Content::FunctionCall(FunctionCall::new(
            "tooluse_Xr8vLwXdQ0q3bZwV4pLX1A",
            "get_weather",
            json!({"city": "Paris"})
        ))),
        "{contents:?}"
    );
    assert_eq!(response.text_content(), "Let me check that.");
    assert!(contents.iter().any(|content| matches!(content,
        Content::Reasoning { text, signature: Some(signature) } if text == "The user wants the weather." && signature == "ErcBCkgIBxABGAIiQH")), "{contents:?}");
    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        response.usage,
        Some(Usage {
            input_tokens: 1434,
            output_tokens: 62,
            total_tokens: 1496,
            cache_read_input_tokens: 1000,
            cache_creation_input_tokens: 24
        })
    );
    let received = mock.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
    assert_eq!(received[0].headers["accept"], "application/vnd.amazon.eventstream");
    assert_eq!(received[0].body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(received[0].body["toolConfig"]["tools"][0]["toolSpec"]["name"], "get_weather");
}

#[tokio::test]
async fn a_whole_answer_is_signed_and_decoded() {
    let mock = Mock::answers(vec![json_answer(
        200,
        json!({
            "output": {"message": {"role": "assistant", "content": [{"text": "Hello! How can I help?"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 12, "outputTokens": 7, "totalTokens": 19},
            "metrics": {"latencyMs": 412},
        }),
    )])
    .await;
    let client = mock.bedrock().converse();
    let mut request = ask("Hello");
    request.options.model = Some("us.amazon.nova-lite-v1:0".into());
    request.options.max_tokens = Some(100);
    let response = client.get_response(request).await.unwrap();
    assert_eq!(response.text_content(), "Hello! How can I help?");
    assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    assert_eq!(response.usage, Some(Usage::new(12, 7)));
    assert_eq!(response.model.as_deref(), Some("us.amazon.nova-lite-v1:0"));
    let received = mock.received();
    assert_eq!(received[0].path, "/model/us.amazon.nova-lite-v1%3A0/converse");
    assert_eq!(
        received[0].body,
        json!({"messages": [{"role": "user", "content": [{"text": "Hello"}]}], "inferenceConfig": {"maxTokens": 100}})
    );
}

#[tokio::test]
async fn throttling_and_a_model_not_ready_are_retried_every_attempt_signed() {
    let mock = Mock::answers(vec![
        aws_error(429, "ThrottlingException", "Too many requests, please wait before trying again."),
        aws_error(
            429,
            "ModelNotReadyException",
            "Model is not ready for inference. Wait and try your request again.",
        ),
        event_stream(
            [
                text_stream(&["Hi", " there"]),
                vec![
                    event("messageStop", r#"{"stopReason":"end_turn"}"#),
                    event("metadata", r#"{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}}"#),
                ],
            ]
            .concat()
            .concat(),
        ),
    ])
    .await;
    let client = mock.bedrock().converse();
    let (updates, error) = run(&client, ask("hi")).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text_of(&updates), "Hi there");
    assert_eq!(updates.last().unwrap().finish_reason, Some(FinishReason::Stop));
    assert_eq!(mock.received().len(), 3);
}

#[tokio::test]
async fn http_errors_keep_bedrock_s_exception_and_mask_the_secrets() {
    let secret_echo =
        format!("The security token included in the request is invalid: {}", support::SESSION_TOKEN);
    let cases = [
        (
            aws_error(400, "ValidationException", "The provided model identifier is invalid."),
            ChatErrorKind::BadRequest,
            "ValidationException",
        ),
        (
            aws_error(
                403,
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID.",
            ),
            ChatErrorKind::Authentication,
            "AccessDeniedException",
        ),
        (
            aws_error(403, "UnrecognizedClientException", &secret_echo),
            ChatErrorKind::Authentication,
            "UnrecognizedClientException",
        ),
    ];
    for (answer, kind, code) in cases {
        let mock = Mock::answers(vec![answer]).await;
        let client = mock.bedrock().converse();
        let err = client.get_response(ask("hi")).await.unwrap_err();
        assert_eq!((err.kind(), err.code()), (kind, Some(code)), "{err}");
        assert!(err.to_string().contains(&mock.endpoint), "{err}");
        assert!(!err.to_string().contains(support::SESSION_TOKEN), "{err}");
        assert_eq!(mock.received().len(), 1, "{code} is not retried");
    }
    let mock =
        Mock::answers(vec![aws_error(503, "ServiceUnavailableException", "Service unavailable")]).await;
    let err =
        mock.builder().max_retries(1).build().unwrap().converse().get_response(ask("hi")).await.unwrap_err();
    assert_eq!((err.kind(), err.code()), (ChatErrorKind::Server, Some("ServiceUnavailableException")));
    assert_eq!(mock.received().len(), 2);
}

#[tokio::test]
async fn an_exception_mid_stream_ends_it_with_its_error() {
    let bytes = [
        text_stream(&["Partial"]),
        vec![exception("throttlingException", "Too many tokens, please wait before trying again.")],
    ]
    .concat()
    .concat();
    let mock = Mock::answers(vec![event_stream(bytes)]).await;
    let (updates, error) = run(&mock.bedrock().converse(), ask("hi")).await;
    assert_eq!(text_of(&updates), "Partial");
    let err = error.unwrap();
    assert_eq!((err.kind(), err.code()), (ChatErrorKind::RateLimit, Some("ThrottlingException")));
    assert_eq!(err.message(), "Too many tokens, please wait before trying again.");
    let bytes = [text_stream(&["x"]), vec![exception("modelStreamErrorException", "The model failed.")]]
        .concat()
        .concat();
    let mock = Mock::answers(vec![event_stream(bytes)]).await;
    let err = run(&mock.bedrock().converse(), ask("hi")).await.1.unwrap();
    assert_eq!((err.kind(), err.code()), (ChatErrorKind::Server, Some("ModelStreamErrorException")));
    let bytes = [
        text_stream(&["x"]),
        vec![exception("validationException", "Input is too long for requested model.")],
    ]
    .concat()
    .concat();
    let mock = Mock::answers(vec![event_stream(bytes)]).await;
    let err = run(&mock.bedrock().converse(), ask("hi")).await.1.unwrap();
    assert_eq!(err.kind(), ChatErrorKind::BadRequest);
    assert_eq!(mock.received().len(), 1, "a stream already handed out is not retried");
}

#[tokio::test]
async fn a_frame_with_a_bad_crc_is_a_decode_error() {
    let mut frames = text_stream(&["Good", "Bad"]);
    let bad = frames.last_mut().unwrap();
    let at = bad.len() - 8;
    bad[at] ^= 0x01;
    let mock = Mock::answers(vec![event_stream(frames.concat())]).await;
    let (updates, error) = run(&mock.bedrock().converse(), ask("hi")).await;
    assert_eq!(text_of(&updates), "Good");
    let err = error.unwrap();
    assert_eq!(err.kind(), ChatErrorKind::Decode);
    assert!(err.message().contains("message CRC"), "{err}");
}

#[tokio::test]
async fn a_cut_frame_ends_the_stream_early() {
    let mut bytes = text_stream(&["Cut"]).concat();
    let stop = event("messageStop", r#"{"stopReason":"end_turn"}"#);
    bytes.extend_from_slice(&stop[..stop.len() - 5]);
    let mock = Mock::answers(vec![event_stream(bytes)]).await;
    let (updates, error) = run(&mock.bedrock().converse(), ask("hi")).await;
    assert_eq!(text_of(&updates), "Cut");
    let err = error.unwrap();
    assert_eq!(err.kind(), ChatErrorKind::StreamEnded);
    assert!(err.message().contains("messageStop and metadata"), "{err}");
}

#[tokio::test]
async fn a_frame_over_the_limit_is_too_large() {
    let bytes = text_stream(&[&"x".repeat(4096)]).concat();
    let mock = Mock::answers(vec![event_stream(bytes)]).await;
    let client = mock.builder().max_event_bytes(1024).build().unwrap().converse();
    let err = run(&client, ask("hi")).await.1.unwrap();
    assert_eq!(err.kind(), ChatErrorKind::ResponseTooLarge);
    assert!(err.message().contains("BedrockBuilder::max_event_bytes"), "{err}");
}

#[tokio::test]
async fn the_mock_catches_a_wrong_signature() {
    let mock = Mock::answers(vec![json_answer(200, json!({"output": {"message": {"content": []}}}))]).await;
    let wrong = mock
        .builder()
        .credentials(weft_bedrock::Credentials::new(
            support::ACCESS_KEY,
            "another-secret-key",
            Some(support::SESSION_TOKEN.to_string()),
        ))
        .build()
        .unwrap();
    wrong.converse().get_response(ask("hi")).await.unwrap();
    let problem = mock.received_unchecked()[0].signature_problem.clone().unwrap();
    assert!(problem.contains("signature mismatch"), "{problem}");
}

#[tokio::test]
async fn an_api_key_is_sent_as_a_bearer_token_unsigned() {
    let mock =
        Mock::answers(vec![json_answer(200, json!({"output": {"message": {"content": [{"text": "ok"}]}}}))])
            .await;
    let bedrock = weft_bedrock::Bedrock::builder()
        .api_key("ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl")
        .endpoint_url(&mock.endpoint)
        .model("amazon.nova-micro-v1:0")
        .build()
        .unwrap();
    assert_eq!(bedrock.converse().get_response(ask("hi")).await.unwrap().text_content(), "ok");
    let received = mock.received_unchecked();
    assert_eq!(received[0].headers["authorization"], "Bearer ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl");
    assert!(received[0].headers.get("x-amz-date").is_none());
}
