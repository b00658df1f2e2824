//! Streams that end early, connections cut mid-body, and silent streams: typed errors, no hang.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{End, ask, builder, collect, raw_server, sse_response};
use weft_core::{ChatClient, ChatErrorKind};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

const CHAT_HEAD: &str = concat!(
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n",
);

const RESPONSES_HEAD: &str = concat!(
    "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"output\":[]}}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hello\"}\n\n",
);

async fn wiremock_sse(body: String) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(sse_response(body)).mount(&server).await;
    server
}

fn texts(updates: &[weft_core::ChatResponseUpdate]) -> String {
    updates.iter().map(|u| u.text_content()).collect()
}

#[tokio::test]
async fn chat_stream_without_done_is_stream_ended() {
    // Ends cleanly after a finish reason but without `data: [DONE]`, then with half an event.
    let finish = "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    for body in [format!("{CHAT_HEAD}{finish}"), format!("{CHAT_HEAD}data: {{\"id\":\"chatcmpl-1\",\"choi")] {
        let server = wiremock_sse(body).await;
        let (updates, err) = collect(&builder(&server.uri()).build().unwrap().chat(), ask("hi")).await;
        assert_eq!(texts(&updates), "Hello");
        let err = err.expect("an error");
        assert_eq!(err.kind(), ChatErrorKind::StreamEnded);
        assert_eq!(err.message(), "the stream ended before data: [DONE]; the answer is incomplete");
        // Never retried once started.
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn responses_stream_without_completed_is_stream_ended() {
    let server = wiremock_sse(RESPONSES_HEAD.to_string()).await;
    let (updates, err) = collect(&builder(&server.uri()).build().unwrap().responses(), ask("hi")).await;
    assert_eq!(texts(&updates), "Hello");
    let err = err.expect("an error");
    assert_eq!(err.kind(), ChatErrorKind::StreamEnded);
    assert_eq!(err.message(), "the stream ended before response.completed; the answer is incomplete");
}

#[tokio::test]
async fn connection_cut_mid_stream_is_a_network_error() {
    let uri = raw_server("text/event-stream", vec![CHAT_HEAD], End::Cut).await;
    let (updates, err) = collect(&builder(&uri).build().unwrap().chat(), ask("hi")).await;
    assert_eq!(texts(&updates), "Hello");
    let err = err.expect("an error");
    assert!(matches!(err.kind(), ChatErrorKind::Network | ChatErrorKind::StreamEnded), "{err}");

    let uri = raw_server("text/event-stream", vec![RESPONSES_HEAD], End::Cut).await;
    let (updates, err) = collect(&builder(&uri).build().unwrap().responses(), ask("hi")).await;
    assert_eq!(texts(&updates), "Hello");
    let err = err.expect("an error");
    assert!(matches!(err.kind(), ChatErrorKind::Network | ChatErrorKind::StreamEnded), "{err}");
}

#[tokio::test]
async fn connection_cut_mid_body_is_a_network_error() {
    let uri = raw_server("application/json", vec!["{\"id\": \"chatcmpl-1\", \"choices\": ["], End::Cut).await;
    let openai = builder(&uri).build().unwrap();
    for client in [Box::new(openai.chat()) as Box<dyn ChatClient>, Box::new(openai.responses())] {
        let err = tokio::time::timeout(Duration::from_secs(10), client.get_response(ask("hi")))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Network, "{err}");
        assert!(err.message().starts_with("connection lost while reading the answer from"), "{err}");
    }
}

#[tokio::test]
async fn a_silent_stream_hits_the_idle_timeout() {
    let uri = raw_server("text/event-stream", vec![CHAT_HEAD], End::Hang).await;
    let openai = builder(&uri).stream_idle_timeout(Duration::from_millis(300)).build().unwrap();
    let started = Instant::now();
    let (updates, err) = collect(&openai.chat(), ask("hi")).await;
    assert_eq!(texts(&updates), "Hello");
    let err = err.expect("an error");
    assert_eq!(err.kind(), ChatErrorKind::Timeout);
    assert!(err.message().starts_with("no stream event from"), "{err}");
    assert!(err.message().contains("300ms"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));

    let uri = raw_server("text/event-stream", vec![RESPONSES_HEAD], End::Hang).await;
    let openai = builder(&uri).stream_idle_timeout(Duration::from_millis(300)).build().unwrap();
    let (_, err) = collect(&openai.responses(), ask("hi")).await;
    assert_eq!(err.expect("an error").kind(), ChatErrorKind::Timeout);
}

#[tokio::test]
async fn a_server_that_ignores_stream_true_still_streams() {
    let server = MockServer::start().await;
    let body = json!({"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}]});
    Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let (updates, err) = collect(&builder(&server.uri()).build().unwrap().chat(), ask("hi")).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(texts(&updates), "whole");
    assert_eq!(updates.last().unwrap().finish_reason, Some(weft_core::FinishReason::Stop));
}
