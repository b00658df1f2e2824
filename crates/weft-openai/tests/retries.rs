//! Retries: 429 with Retry-After, repeated 429s, 5xx; counted by the requests the server got.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::{ask, builder, collect};
use weft_core::{ChatClient, ChatErrorKind};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const RATE_LIMITED: &str = r#"{"error": {"message": "Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}"#;

fn rate_limited() -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("Retry-After", "1")
        .set_body_raw(RATE_LIMITED, "application/json")
}

fn chat_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"id": "c", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "done"}, "finish_reason": "stop"}]}))
}

fn responses_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"id": "r", "status": "completed",
        "output": [{"type": "message", "id": "m", "role": "assistant", "content": [{"type": "output_text", "text": "done"}]}]}))
}

async fn server_failing_once(first: ResponseTemplate, then: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(first).up_to_n_times(1).with_priority(1).mount(&server).await;
    Mock::given(method("POST")).respond_with(then).with_priority(2).mount(&server).await;
    server
}

#[tokio::test]
async fn rate_limit_with_retry_after_is_retried_then_succeeds() {
    let server = server_failing_once(rate_limited(), chat_ok()).await;
    let response = builder(&server.uri()).build().unwrap().chat().get_response(ask("hi")).await.unwrap();
    assert_eq!(response.text_content(), "done");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    let server = server_failing_once(rate_limited(), responses_ok()).await;
    let response = builder(&server.uri()).build().unwrap().responses().get_response(ask("hi")).await.unwrap();
    assert_eq!(response.text_content(), "done");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_stream_is_retried_before_its_first_event() {
    let server = server_failing_once(
        rate_limited(),
        support::sse_response(support::chat_sse(
            &[json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "streamed"}, "finish_reason": "stop"}]})],
            true,
        )),
    )
    .await;
    let client = builder(&server.uri()).build().unwrap().chat();
    let (updates, err) = collect(&client, ask("hi")).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(updates.iter().map(|u| u.text_content()).collect::<String>(), "streamed");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn rate_limit_past_max_retries_reports_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(rate_limited()).mount(&server).await;
    let openai = builder(&server.uri()).max_retries(1).build().unwrap();
    let err = openai.chat().get_response(ask("hi")).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::RateLimit);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(err.code(), Some("rate_limit_exceeded"));
    assert!(err.message().starts_with("Rate limit reached for gpt-4o-mini"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    let (_, err) = collect(&openai.responses(), ask("hi")).await;
    let err = err.unwrap();
    assert_eq!((err.kind(), err.retry_after()), (ChatErrorKind::RateLimit, Some(Duration::from_secs(1))));
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = MockServer::start().await;
    let body = r#"{"error": {"message": "The server had an error while processing your request. Sorry about that!", "type": "server_error", "param": null, "code": null}}"#;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let openai = builder(&server.uri()).build().unwrap();
    for (client, requests) in
        [(Box::new(openai.chat()) as Box<dyn ChatClient>, 3), (Box::new(openai.responses()), 6)]
    {
        let err = client.get_response(ask("hi")).await.unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Server);
        assert_eq!(err.status(), Some(500));
        assert_eq!(err.message(), "The server had an error while processing your request. Sorry about that!");
        // The first attempt and the default two retries.
        assert_eq!(server.received_requests().await.unwrap().len(), requests);
    }
}

#[tokio::test]
async fn server_error_then_success() {
    let server = server_failing_once(ResponseTemplate::new(503), responses_ok()).await;
    let response = builder(&server.uri()).build().unwrap().responses().get_response(ask("hi")).await.unwrap();
    assert_eq!(response.text_content(), "done");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn bad_requests_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(400)).mount(&server).await;
    let err = builder(&server.uri()).build().unwrap().chat().get_response(ask("hi")).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::BadRequest);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_plain_answer_cut_mid_body_is_retried() {
    const WHOLE: &str = r#"{"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "content": "done"}, "finish_reason": "stop"}]}"#;
    let (uri, served) = support::body_server("application/json", |n| {
        let head =
            futures::stream::once(async { Ok(axum::body::Bytes::from_static(&WHOLE.as_bytes()[..20])) });
        if n == 0 {
            let cut = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut"))
            });
            Box::pin(futures::StreamExt::chain(head, cut))
        } else {
            Box::pin(futures::stream::once(async { Ok(axum::body::Bytes::from_static(WHOLE.as_bytes())) }))
        }
    })
    .await;
    let response = builder(&uri).build().unwrap().chat().get_response(ask("hi")).await.unwrap();
    assert_eq!(response.text_content(), "done");
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 2);
}
