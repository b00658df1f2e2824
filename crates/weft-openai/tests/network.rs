//! Connection refused, request deadlines, the first-byte deadline, and credentials in the base
//! URL kept out of messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use support::{ask, builder, collect, refused_uri, silent_server, silent_server_counting};
use weft_core::{ChatClient, ChatErrorKind};

#[tokio::test]
async fn connection_refused_is_a_network_error_saying_so() {
    let uri = refused_uri().await;
    let openai = builder(&uri).build().unwrap();
    for client in [Box::new(openai.chat()) as Box<dyn ChatClient>, Box::new(openai.responses())] {
        let err = tokio::time::timeout(Duration::from_secs(10), client.get_response(ask("hi")))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Network, "{err}");
        assert!(err.message().starts_with(&format!("could not connect to {uri}/v1/")), "{err}");
        assert!(err.message().contains("connection refused"), "{err}");
        let source = std::error::Error::source(&err).expect("the transport error is kept");
        let reqwest_error = source.downcast_ref::<reqwest::Error>().expect("a reqwest error");
        assert!(reqwest_error.is_connect());
        let (_, err) = collect(client.as_ref(), ask("hi")).await;
        let err = err.unwrap();
        assert_eq!(err.kind(), ChatErrorKind::Network);
        assert!(err.message().contains("connection refused"), "{err}");
    }
}

#[tokio::test]
async fn request_timeout_against_a_silent_server() {
    let uri = silent_server().await;
    let openai = builder(&uri).timeout(Duration::from_millis(400)).build().unwrap();
    for client in [Box::new(openai.chat()) as Box<dyn ChatClient>, Box::new(openai.responses())] {
        let started = Instant::now();
        let err = tokio::time::timeout(Duration::from_secs(10), client.get_response(ask("hi")))
            .await
            .unwrap()
            .unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(err.kind(), ChatErrorKind::Timeout, "{err}");
        assert!(err.message().starts_with(&format!("no answer from {uri}/v1/")), "{err}");
        assert!(
            err.message()
                .ends_with("within 400ms (the request timeout; raise it with OpenAIBuilder::timeout)"),
            "{err}"
        );
        // One attempt: our own deadline is not retried.
        assert!(
            elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(1500),
            "{elapsed:?}"
        );
        let (_, err) = collect(client.as_ref(), ask("hi")).await;
        assert_eq!(err.unwrap().kind(), ChatErrorKind::Timeout);
    }
}

#[tokio::test]
async fn a_stream_without_headers_hits_the_first_byte_timeout_once() {
    let (uri, accepted) = silent_server_counting().await;
    let openai = builder(&uri).first_byte_timeout(Duration::from_millis(400)).build().unwrap();
    for client in [Box::new(openai.chat()) as Box<dyn ChatClient>, Box::new(openai.responses())] {
        let started = Instant::now();
        let (_, err) = collect(client.as_ref(), ask("hi")).await;
        let elapsed = started.elapsed();
        let err = err.expect("an error");
        assert_eq!(err.kind(), ChatErrorKind::Timeout, "{err}");
        assert!(err.message().starts_with(&format!("no response from {uri}/v1/")), "{err}");
        assert!(err.message().contains("within 400ms (the first-byte timeout"), "{err}");
        assert!(err.message().contains("OpenAIBuilder::first_byte_timeout"), "{err}");
        // Our own deadline: not retryable, and not retried.
        assert!(!err.is_retryable());
        assert!(elapsed >= Duration::from_millis(400) && elapsed < Duration::from_secs(3), "{elapsed:?}");
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_first_byte_timeout_is_not_applied_to_plain_calls() {
    // A plain call's headers come with its whole answer: only the request timeout applies.
    let uri = silent_server().await;
    let openai = builder(&uri)
        .first_byte_timeout(Duration::from_millis(100))
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = openai.chat().get_response(ask("hi")).await.unwrap_err();
    assert!(err.message().contains("within 800ms (the request timeout"), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(800), "{:?}", started.elapsed());
}

#[tokio::test]
async fn credentials_in_the_base_url_never_show() {
    let uri = refused_uri().await;
    let host = uri.trim_start_matches("http://");
    let base = format!("http://alice:pa55word@{host}/v1?api-key=qu3ry-t0ken&api-version=2024-10-21");
    let openai = builder(&uri).base_url(&base).build().unwrap();
    let shown = format!("http://***@{host}/v1?api-key=***&api-version=2024-10-21");
    assert_eq!(openai.base_url(), shown);
    let debug = format!("{openai:?} {:?}", weft_openai::OpenAI::builder().base_url(&base));
    for client in [Box::new(openai.chat()) as Box<dyn ChatClient>, Box::new(openai.responses())] {
        let err = client.get_response(ask("hi")).await.unwrap_err();
        let (_, streamed) = collect(client.as_ref(), ask("hi")).await;
        let streamed = streamed.expect("an error");
        for text in [err.to_string(), streamed.to_string(), format!("{err:?}"), debug.clone()] {
            for secret in ["pa55word", "alice", "qu3ry-t0ken"] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        assert!(err.to_string().contains(&shown), "{err}");
        assert_eq!(client.info().endpoint.as_deref(), Some(shown.as_str()));
    }
}
