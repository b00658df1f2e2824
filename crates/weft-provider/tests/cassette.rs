//! Recording real traffic to a cassette and replaying it offline: the same frames and bodies,
//! secrets never written, a clear error for a request the cassette does not hold, and a file
//! that is whole after every exchange.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};
use weft_core::{ChatError, ChatErrorKind};
use weft_provider::cassette::{CassetteError, MatchBy, Recorder, Replayer, Timing};
use weft_provider::sse::{Event, SseParser};
use weft_provider::{Driver, DriverConfig, Opened, Request, RetryPolicy, Transport, http_client};

const SECRET: &str = "sk-test-very-secret";

/// A server with a streamed answer in three chunks, a whole JSON answer, and a 400 that echoes
/// the key (as some providers do).
async fn serve() -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route(
            "/v1/stream",
            post(|| async {
                let chunks = ["data: {\"n\":1}\n\n", "data: {\"n\":2}\n", "\ndata: [DONE]\n\n"];
                let body = futures::stream::iter(chunks).then(|chunk| async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, std::io::Error>(Bytes::from_static(chunk.as_bytes()))
                });
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/event-stream")
                    .body(Body::from_stream(body))
                    .unwrap()
            }),
        )
        .route(
            "/v1/whole",
            post(|body: Bytes| async move {
                let echoed: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let answer = serde_json::json!({"echo": echoed});
                ([(header::CONTENT_TYPE, "application/json")], answer.to_string())
            }),
        )
        .route(
            "/v1/refused",
            post(|| async {
                (StatusCode::BAD_REQUEST, format!("{{\"error\":{{\"message\":\"bad key {SECRET}\"}}}}"))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, server)
}

fn driver(transport: Arc<dyn Transport>) -> Driver {
    let mut config = DriverConfig::new("TestBuilder");
    config.retry = RetryPolicy { max_retries: 0, ..RetryPolicy::default() };
    config.secrets = vec![SECRET.to_string()];
    config.transport = Some(transport);
    Driver::new(http_client(Duration::from_secs(5)).unwrap(), config)
}

fn headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {SECRET}")).unwrap());
    headers.insert("x-api-key", HeaderValue::from_static(SECRET));
    headers.insert("x-goog-api-key", HeaderValue::from_static(SECRET));
    headers.insert("x-amz-security-token", HeaderValue::from_static("aws-session-token"));
    headers
}

fn request<'a>(base: &str, path: &str, headers: &'a HeaderMap, body: &str) -> Request<'a> {
    let url: reqwest::Url = format!("{base}{path}?key={SECRET}&alt=sse").parse().unwrap();
    Request {
        label: "test",
        shown_url: Cow::Owned(url.path().to_string()),
        url,
        headers,
        body: Bytes::from(body.to_string()),
    }
}

/// The data of every frame of a streamed answer.
async fn stream_data(driver: &Driver, request: &Request<'_>) -> Vec<String> {
    let Opened::Frames(mut frames) =
        driver.open_stream::<SseParser>(request, "text/event-stream").await.unwrap()
    else {
        panic!("expected a stream")
    };
    let mut data = Vec::new();
    while let Some(frame) = frames.next().await {
        let frame: Event = frame.unwrap();
        data.push(frame.data);
    }
    data
}

/// Records the three exchanges against a live server, then stops it.
async fn record(path: &std::path::Path) -> (Vec<String>, Bytes, ChatError) {
    let (base, server) = serve().await;
    let recorder = Recorder::create(path).unwrap();
    let driver = driver(Arc::new(recorder.clone()));
    let headers = headers();
    let streamed =
        stream_data(&driver, &request(&base, "/v1/stream", &headers, r#"{"model":"m","stream":true}"#)).await;
    let whole =
        driver.fetch(&request(&base, "/v1/whole", &headers, r#"{"model":"m","user":"u-1"}"#)).await.unwrap();
    let refused =
        driver.fetch(&request(&base, "/v1/refused", &headers, r#"{"model":"m"}"#)).await.unwrap_err();
    recorder.check().unwrap();
    assert_eq!(recorder.len(), 3);
    server.abort();
    let _ = server.await;
    (streamed, whole, refused)
}

#[tokio::test]
async fn a_recorded_cassette_replays_the_same_answers_without_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cassette.jsonl");
    let (streamed, whole, refused) = record(&path).await;
    assert_eq!(streamed, ["{\"n\":1}", "{\"n\":2}", "[DONE]"]);

    let replayer = Replayer::open(&path).unwrap();
    assert_eq!(replayer.len(), 3);
    let driver = driver(Arc::new(replayer.clone()));
    let headers = HeaderMap::new();
    // Another host, another key, a volatile field changed: still the same requests.
    let base = "http://127.0.0.1:9";
    assert_eq!(
        stream_data(&driver, &request(base, "/v1/stream", &headers, r#"{"model":"m","stream":true}"#)).await,
        streamed
    );
    let replayed_whole =
        driver.fetch(&request(base, "/v1/whole", &headers, r#"{"user":"u-2","model":"m"}"#)).await.unwrap();
    assert_eq!(replayed_whole, whole);
    let replayed_refused =
        driver.fetch(&request(base, "/v1/refused", &headers, r#"{"model":"m"}"#)).await.unwrap_err();
    assert_eq!(replayed_refused.kind(), refused.kind());
    assert_eq!(replayed_refused.status(), Some(400));
    // The key the server echoed was masked in the cassette too.
    assert_eq!(refused.to_string(), "test: bad request (HTTP 400): bad key ***");
    assert_eq!(replayed_refused.to_string(), "test: bad request (HTTP 400): bad key [REDACTED]");
    replayer.finish().unwrap();
}

#[tokio::test]
async fn no_secret_reaches_the_cassette() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cassette.jsonl");
    record(&path).await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert!(!text.contains("aws-session-token"), "{text}");
    assert!(text.contains("\"authorization\",\"[REDACTED]\""), "{text}");
    assert!(text.contains("key=%5BREDACTED%5D&alt=sse"), "{text}");
}

#[tokio::test]
async fn a_request_the_cassette_does_not_hold_is_named_with_the_unused_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cassette.jsonl");
    record(&path).await;
    let replayer = Replayer::open(&path).unwrap();
    let driver = driver(Arc::new(replayer.clone()));
    let headers = HeaderMap::new();
    let err = driver
        .fetch(&request("http://127.0.0.1:9", "/v1/whole", &headers, r#"{"model":"other"}"#))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Configuration);
    let message = err.to_string();
    assert!(message.contains(r#"POST /v1/whole?alt=sse {"model":"other"}"#), "{message}");
    assert!(message.contains("#0 POST /v1/stream"), "{message}");
    assert!(message.contains("#1 POST /v1/whole"), "{message}");
    let source = std::error::Error::source(&err).unwrap();
    assert!(matches!(
        source.downcast_ref::<CassetteError>(),
        Some(CassetteError::NoMatch { by: MatchBy::Request, .. })
    ));
    let unused = replayer.finish().unwrap_err();
    assert!(matches!(&unused, CassetteError::Unused { unused, .. } if unused.len() == 3), "{unused}");
}

#[tokio::test]
async fn by_order_a_changed_body_still_gets_the_next_entry_but_not_another_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cassette.jsonl");
    let (streamed, ..) = record(&path).await;
    let replayer = Replayer::open(&path).unwrap().match_by(MatchBy::Order).timing(Timing::Recorded);
    let driver = driver(Arc::new(replayer));
    let headers = HeaderMap::new();
    let base = "http://127.0.0.1:9";
    assert_eq!(
        stream_data(&driver, &request(base, "/v1/stream", &headers, r#"{"model":"changed"}"#)).await,
        streamed
    );
    let err = driver.fetch(&request(base, "/v1/refused", &headers, "{}")).await.unwrap_err();
    assert!(err.to_string().contains("by order"), "{err}");
}

#[tokio::test]
async fn the_cassette_is_whole_after_every_exchange_and_a_cut_stream_is_marked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cassette.jsonl");
    let (base, server) = serve().await;
    let recorder = Recorder::create(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    let driver = driver(Arc::new(recorder.clone()));
    let headers = headers();
    driver.fetch(&request(&base, "/v1/whole", &headers, r#"{"n":1}"#)).await.unwrap();
    assert_eq!(Replayer::open(&path).unwrap().len(), 1);
    // A stream dropped after its first frame: recorded, marked incomplete.
    let Opened::Frames(mut frames) = driver
        .open_stream::<SseParser>(&request(&base, "/v1/stream", &headers, "{}"), "text/event-stream")
        .await
        .unwrap()
    else {
        panic!("expected a stream")
    };
    frames.next().await.unwrap().unwrap();
    drop(frames);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().nth(1).unwrap().contains("\"complete\":false"), "{text}");
    assert_eq!(Replayer::open(&path).unwrap().len(), 2);
    // Nothing but the cassette is left beside it.
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(names, ["cassette.jsonl"]);
    server.abort();
}

#[test]
fn a_cassette_that_cannot_be_written_or_read_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("c.jsonl");
    assert!(matches!(Recorder::create(&missing), Err(CassetteError::Io { action: "write", .. })));
    assert!(matches!(Replayer::open(&missing), Err(CassetteError::Io { action: "read", .. })));
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"seq\":0}\nnot json\n").unwrap();
    let err = Replayer::open(&bad).unwrap_err();
    assert!(matches!(err, CassetteError::Parse { line: 1, .. }), "{err}");
}

#[tokio::test]
async fn the_order_of_the_tools_offered_does_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cassette.jsonl");
    let (base, server) = serve().await;
    let recorder = Recorder::create(&path).unwrap();
    let headers = headers();
    let body = r#"{"model":"m","tools":[{"name":"a"},{"name":"b"}]}"#;
    let whole = driver(Arc::new(recorder)).fetch(&request(&base, "/v1/whole", &headers, body)).await.unwrap();
    server.abort();
    let driver = driver(Arc::new(Replayer::open(&path).unwrap()));
    let swapped = r#"{"model":"m","tools":[{"name":"b"},{"name":"a"}]}"#;
    assert_eq!(driver.fetch(&request(&base, "/v1/whole", &headers, swapped)).await.unwrap(), whole);
}
