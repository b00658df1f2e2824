//! A driver with a request signer signs every attempt (retries included) after the other
//! headers are set, and a signer that fails ends the call before anything is sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use reqwest::header::HeaderValue;
use weft_core::{ChatError, ChatErrorKind};
use weft_provider::{Driver, DriverConfig, Request, RequestSigner, RetryPolicy, http_client};

/// Signs with the attempt's number and the body's length.
#[derive(Debug, Default)]
struct Counting {
    attempts: AtomicUsize,
}

impl RequestSigner for Counting {
    fn sign(&self, request: &mut reqwest::Request, body: &[u8]) -> Result<(), ChatError> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let seen_type = request.headers().contains_key("content-type");
        let value = format!("attempt={attempt} body={} content-type={seen_type}", body.len());
        request.headers_mut().insert("x-test-signature", HeaderValue::from_str(&value).unwrap());
        Ok(())
    }
}

#[derive(Debug)]
struct Refusing;

impl RequestSigner for Refusing {
    fn sign(&self, _request: &mut reqwest::Request, _body: &[u8]) -> Result<(), ChatError> {
        Err(ChatError::new(ChatErrorKind::Configuration, "no credentials to sign with"))
    }
}

fn driver() -> Driver {
    let mut config = DriverConfig::new("TestBuilder");
    config.retry =
        RetryPolicy { max_retries: 2, initial_delay: Duration::from_millis(5), ..RetryPolicy::default() };
    Driver::new(http_client(Duration::from_secs(5)).unwrap(), config)
}

#[tokio::test]
async fn every_attempt_is_signed_and_a_refusal_sends_nothing() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = Router::new().route(
        "/",
        post(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                let mut seen = record.lock().unwrap();
                seen.push(headers.get("x-test-signature").map(|value| value.to_str().unwrap().to_string()));
                if seen.len() == 1 { (StatusCode::TOO_MANY_REQUESTS, "{}") } else { (StatusCode::OK, "{}") }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: reqwest::Url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let request = Request {
        label: "test",
        url: url.clone(),
        shown_url: Cow::Owned(url.to_string()),
        headers: &headers,
        body: Bytes::from_static(b"{\"a\":1}"),
    };
    let signed = driver().with_signer(Arc::new(Counting::default()));
    assert_eq!(&signed.fetch(&request).await.unwrap()[..], b"{}");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            Some("attempt=1 body=7 content-type=true".to_string()),
            Some("attempt=2 body=7 content-type=true".to_string())
        ]
    );
    let err = driver().with_signer(Arc::new(Refusing)).fetch(&request).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Configuration);
    assert_eq!(seen.lock().unwrap().len(), 2, "nothing sent");
    server.abort();
}
