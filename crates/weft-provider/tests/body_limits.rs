//! The driver reads error bodies and whole answers up to a limit, however much a server sends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::borrow::Cow;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use futures::StreamExt;
use reqwest::header::HeaderMap;
use weft_core::ChatErrorKind;
use weft_provider::{Driver, DriverConfig, Request, RetryPolicy, http_client};

/// Generous against a loaded machine, far under the request timeout the tests configure.
const ENOUGH: Duration = Duration::from_secs(15);

/// A server answering every request with `status`, `content_type` and `bytes` of body that
/// then never ends (so only a bounded read returns before the request timeout).
struct Server {
    url: reqwest::Url,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(status: StatusCode, content_type: &'static str, bytes: usize) -> Server {
    let app = Router::new().route(
        "/",
        post(move || async move {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let chunks = bytes.div_ceil(chunk.len());
            let body =
                futures::stream::iter((0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())))
                    .chain(futures::stream::pending());
            Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from_stream(body))
                .unwrap()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { url, task }
}

fn driver(max_event_bytes: usize) -> Driver {
    let mut config = DriverConfig::new("TestBuilder");
    config.timeout = Duration::from_secs(120);
    config.max_event_bytes = max_event_bytes;
    config.retry = RetryPolicy { max_retries: 0, ..RetryPolicy::default() };
    Driver::new(http_client(Duration::from_secs(5)).unwrap(), config)
}

fn request<'a>(url: &reqwest::Url, headers: &'a HeaderMap) -> Request<'a> {
    Request {
        label: "test",
        url: url.clone(),
        shown_url: Cow::Owned(url.to_string()),
        headers,
        body: Bytes::from_static(b"{}"),
    }
}

#[tokio::test]
async fn an_oversized_error_body_is_cut_and_the_error_keeps_its_status() {
    let server = serve(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", 10 << 20).await;
    let headers = HeaderMap::new();
    let err = tokio::time::timeout(ENOUGH, driver(1 << 20).fetch(&request(&server.url, &headers)))
        .await
        .expect("the error body was read past its limit")
        .unwrap_err();
    assert_eq!((err.kind(), err.status()), (ChatErrorKind::Server, Some(500)));
    assert!(err.message().starts_with("xxx"), "{err}");
}

#[tokio::test]
async fn an_oversized_whole_answer_is_too_large() {
    let server = serve(StatusCode::OK, "application/json", 256 * 1024).await;
    let headers = HeaderMap::new();
    let err = tokio::time::timeout(ENOUGH, driver(100_000).fetch(&request(&server.url, &headers)))
        .await
        .expect("the answer was read past its limit")
        .unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::ResponseTooLarge, "{err}");
    assert!(
        err.to_string().contains("100000") && err.to_string().contains("TestBuilder::max_event_bytes"),
        "{err}"
    );
}
