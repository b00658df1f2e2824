//! HTTP errors and undecodable answers become the right `ChatError` kinds, for both APIs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{ask, builder, collect};
use weft_core::{ChatClient, ChatErrorKind};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn serve(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(template).mount(&server).await;
    server
}

fn clients(server: &MockServer) -> [(Box<dyn ChatClient>, &'static str); 2] {
    let openai = builder(&server.uri()).build().unwrap();
    [(Box::new(openai.chat()), "chat"), (Box::new(openai.responses()), "responses")]
}

const AUTH_BODY: &str = r#"{
    "error": {
        "message": "Incorrect API key provided: sk-test. You can find your API key at https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": null,
        "code": "invalid_api_key"
    }
}"#;

#[tokio::test]
async fn unauthorized_is_an_authentication_error() {
    let server = serve(ResponseTemplate::new(401).set_body_raw(AUTH_BODY, "application/json")).await;
    for (client, api) in clients(&server) {
        let err = client.get_response(ask("hi")).await.unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Authentication, "{api}");
        assert_eq!(err.status(), Some(401));
        assert_eq!(err.code(), Some("invalid_api_key"));
        assert!(err.message().starts_with("Incorrect API key provided"), "{err}");
        assert_eq!(err.provider(), Some(format!("openai {api} {}/v1", server.uri()).as_str()));
        let (_, err) = collect(client.as_ref(), ask("hi")).await;
        assert_eq!(err.unwrap().kind(), ChatErrorKind::Authentication);
    }
    // Not retried: one call per request above.
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn bad_request_carries_the_provider_message_and_code() {
    let body = r#"{"error": {"message": "Invalid value for 'temperature': must be <= 2.", "type": "invalid_request_error", "param": "temperature", "code": "invalid_value"}}"#;
    let server = serve(ResponseTemplate::new(400).set_body_raw(body, "application/json")).await;
    for (client, api) in clients(&server) {
        let err = client.get_response(ask("hi")).await.unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::BadRequest);
        assert_eq!(err.message(), "Invalid value for 'temperature': must be <= 2.");
        assert_eq!(err.code(), Some("invalid_value"));
        assert_eq!(
            err.to_string(),
            format!(
                "openai {api} {}/v1: bad request (HTTP 400): Invalid value for 'temperature': must be <= 2.",
                server.uri()
            )
        );
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn not_found_and_unprocessable_are_bad_requests() {
    for status in [404, 413, 422] {
        let server = serve(ResponseTemplate::new(status).set_body_string("nope")).await;
        for (client, _) in clients(&server) {
            let err = client.get_response(ask("hi")).await.unwrap_err();
            assert_eq!(
                (err.kind(), err.status(), err.message()),
                (ChatErrorKind::BadRequest, Some(status), "nope")
            );
        }
    }
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_with_a_snippet() {
    let server = serve(
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"id": "chatcmpl-1", "choices": [{"ind"#, "application/json"),
    )
    .await;
    for (client, _) in clients(&server) {
        let err = client.get_response(ask("hi")).await.unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Decode);
        assert!(err.message().starts_with("the answer is not valid JSON"), "{err}");
        assert!(err.message().ends_with(r#": {"id": "chatcmpl-1", "choices": [{"ind"#), "{err}");
    }
}

#[tokio::test]
async fn a_malformed_stream_chunk_is_a_decode_error() {
    let server = serve(support::sse_response("data: {\"id\": oops}\n\n".to_string())).await;
    for (client, _) in clients(&server) {
        let (updates, err) = collect(client.as_ref(), ask("hi")).await;
        assert!(updates.is_empty());
        let err = err.unwrap();
        assert_eq!(err.kind(), ChatErrorKind::Decode);
        assert!(err.message().contains("{\"id\": oops}"), "{err}");
    }
}

#[tokio::test]
async fn error_events_inside_streams_keep_their_category() {
    let chat = "data: {\"error\": {\"message\": \"The server had an error\", \"type\": \"server_error\", \"code\": null}}\n\n";
    let server = serve(support::sse_response(chat.to_string())).await;
    let (_, err) = collect(&builder(&server.uri()).build().unwrap().chat(), ask("hi")).await;
    let err = err.unwrap();
    assert_eq!((err.kind(), err.message()), (ChatErrorKind::Server, "The server had an error"));

    let events = support::responses_sse(&[
        serde_json::json!({"type": "response.created", "response": {"id": "r", "status": "in_progress", "output": []}}),
        serde_json::json!({"type": "response.failed", "response": {"id": "r", "status": "failed", "output": [],
            "error": {"code": "invalid_prompt", "message": "Prompt flagged"}}}),
    ]);
    let server = serve(support::sse_response(events)).await;
    let (_, err) = collect(&builder(&server.uri()).build().unwrap().responses(), ask("hi")).await;
    let err = err.unwrap();
    assert_eq!(
        (err.kind(), err.code(), err.message()),
        (ChatErrorKind::BadRequest, Some("invalid_prompt"), "Prompt flagged")
    );

    let events = support::responses_sse(&[
        serde_json::json!({"type": "error", "code": "rate_limit_exceeded", "message": "Slow down", "param": null}),
    ]);
    let server = serve(support::sse_response(events)).await;
    let (_, err) = collect(&builder(&server.uri()).build().unwrap().responses(), ask("hi")).await;
    assert_eq!(err.unwrap().kind(), ChatErrorKind::RateLimit);
}

#[tokio::test]
async fn a_provider_error_echoing_the_key_has_it_masked() {
    // AUTH_BODY echoes the key the test builder sends, `sk-test`, as some servers do.
    let server = serve(ResponseTemplate::new(401).set_body_raw(AUTH_BODY, "application/json")).await;
    for (client, api) in clients(&server) {
        let err = client.get_response(ask("hi")).await.unwrap_err();
        assert!(err.message().starts_with("Incorrect API key provided: ***. You can find"), "{api}: {err}");
        let (_, streamed) = collect(client.as_ref(), ask("hi")).await;
        for err in [err, streamed.unwrap()] {
            assert!(!err.to_string().contains("sk-test"), "{api}: {err}");
            assert!(!format!("{err:?}").contains("sk-test"), "{api}: {err:?}");
        }
    }
    // In an error event inside a stream, and in a chunk that is not JSON, too.
    for body in [
        "data: {\"error\": {\"message\": \"bad key sk-test\", \"type\": \"server_error\"}}\n\n",
        "data: {\"key\": sk-test}\n\n",
    ] {
        let server = serve(support::sse_response(body.to_string())).await;
        let (_, err) = collect(&builder(&server.uri()).build().unwrap().chat(), ask("hi")).await;
        let err = err.unwrap();
        assert!(!err.to_string().contains("sk-test"), "{err}");
        assert!(err.to_string().contains("***"), "{err}");
    }
}

#[tokio::test]
async fn a_query_string_in_the_base_url_is_kept_on_every_request() {
    let server = serve(ResponseTemplate::new(200).set_body_raw(
        r#"{"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}"#,
        "application/json",
    ))
    .await;
    let openai = builder(&server.uri())
        .base_url(format!("{}/v1/?token=t0ken-in-query", server.uri()))
        .build()
        .unwrap();
    assert_eq!(openai.base_url(), format!("{}/v1?token=***", server.uri()));
    let response = openai.chat().get_response(ask("hi")).await.unwrap();
    assert_eq!(response.text_content(), "ok");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.path(), "/v1/chat/completions");
    assert_eq!(requests[0].url.query(), Some("token=t0ken-in-query"));
}
