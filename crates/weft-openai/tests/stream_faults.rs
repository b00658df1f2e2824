//! Streams that end early, connections cut mid-body, silent streams, endless lines and events,
//! keep-alive-only streams, non-SSE answers: typed errors naming the limit, no hang.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{BodyStream, End, ask, body_server, builder, collect, raw_server, repeating, sse_response};
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

/// `data: ` and then 64 KiB chunks of `x`, without a line end, forever.
fn endless_line(_: usize) -> BodyStream {
    static CHUNK: [u8; 65536] = [b'x'; 65536];
    let head = futures::stream::once(async { Ok(axum::body::Bytes::from_static(b"data: ")) });
    let rest = futures::stream::repeat_with(|| Ok(axum::body::Bytes::from_static(&CHUNK)));
    Box::pin(futures::StreamExt::chain(head, rest))
}

/// One data event of 64 KiB-line pieces (`data: xxx…\n` many times), never dispatched.
fn endless_event(_: usize) -> BodyStream {
    static LINE: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
        let mut line = b"data: ".to_vec();
        line.extend_from_slice(&[b'x'; 65536]);
        line.push(b'\n');
        line
    });
    Box::pin(futures::stream::repeat_with(|| Ok(axum::body::Bytes::from_static(LINE.as_slice()))))
}

#[tokio::test]
async fn an_endless_line_or_event_hits_the_size_limit() {
    for (body, what) in [(endless_line as fn(usize) -> BodyStream, "line"), (endless_event, "event")] {
        let (uri, _) = body_server("text/event-stream", body).await;
        let openai = builder(&uri).max_event_bytes(1024 * 1024).build().unwrap();
        for client in [Box::new(openai.chat()) as Box<dyn ChatClient>, Box::new(openai.responses())] {
            let (updates, err) = collect(client.as_ref(), ask("hi")).await;
            assert!(updates.is_empty());
            let err = err.expect("an error");
            assert_eq!(err.kind(), ChatErrorKind::ResponseTooLarge, "{err}");
            assert!(!err.is_retryable());
            let expected = format!("response too large: an SSE {what} exceeded the 1 MiB limit");
            assert!(err.to_string().contains(&expected), "{err}");
            assert!(err.message().ends_with("raise it with OpenAIBuilder::max_event_bytes)"), "{err}");
        }
    }
}

#[tokio::test]
async fn the_default_size_limit_is_8_mib() {
    let (uri, _) = body_server("text/event-stream", endless_line).await;
    let (_, err) = collect(&builder(&uri).build().unwrap().chat(), ask("hi")).await;
    let err = err.expect("an error");
    assert!(err.to_string().contains("response too large: an SSE line exceeded the 8 MiB limit"), "{err}");
}

#[tokio::test]
async fn keep_alive_comments_do_not_keep_a_stream_alive() {
    let (uri, _) = body_server("text/event-stream", |_| {
        repeating(CHAT_HEAD, ": keepalive\n\n", Duration::from_millis(50))
    })
    .await;
    let openai = builder(&uri).stream_idle_timeout(Duration::from_millis(500)).build().unwrap();
    let started = Instant::now();
    let (updates, err) = collect(&openai.chat(), ask("hi")).await;
    assert_eq!(texts(&updates), "Hello");
    let err = err.expect("an error");
    assert_eq!(err.kind(), ChatErrorKind::Timeout, "{err}");
    assert!(err.message().starts_with("no stream event from"), "{err}");
    assert!(err.message().contains("500ms"), "{err}");
    assert!(err.message().contains("OpenAIBuilder::stream_idle_timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_stream_that_never_ends_hits_the_total_deadline() {
    const TOKEN: &str =
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\".\"}}]}\n\n";
    let (uri, served) =
        body_server("text/event-stream", |_| repeating(CHAT_HEAD, TOKEN, Duration::from_millis(20))).await;
    let openai = builder(&uri)
        .timeout(Duration::from_millis(1500))
        .stream_idle_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let (updates, err) = collect(&openai.chat(), ask("hi")).await;
    assert!(texts(&updates).starts_with("Hello..."), "{}", texts(&updates));
    let err = err.expect("an error");
    assert_eq!(err.kind(), ChatErrorKind::Timeout, "{err}");
    assert!(err.message().contains("did not finish within 1.5s"), "{err}");
    assert!(err.message().contains("OpenAIBuilder::timeout"), "{err}");
    assert!(!err.is_retryable());
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(6), "{elapsed:?}");
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_page_that_is_not_an_event_stream_is_reported_as_such() {
    let page = "<!DOCTYPE html><html><body><h1>Proxy sign-in required</h1></body></html>";
    for end in [End::Clean, End::Hang] {
        let uri = raw_server("text/html; charset=utf-8", vec![page], end).await;
        let openai = builder(&uri).build().unwrap();
        for client in [Box::new(openai.chat()) as Box<dyn ChatClient>, Box::new(openai.responses())] {
            let (updates, err) = collect(client.as_ref(), ask("hi")).await;
            assert!(updates.is_empty());
            let err = err.expect("an error");
            assert_eq!(err.kind(), ChatErrorKind::Decode, "{err}");
            assert_eq!(err.status(), Some(200));
            assert!(
                err.message().contains(
                    "answered with text/html; charset=utf-8, not an event stream (text/event-stream)"
                ),
                "{err}"
            );
            assert!(err.message().contains("Proxy sign-in required"), "{err}");
        }
    }
}
