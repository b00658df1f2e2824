//! Connection refused and request deadlines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use support::{ask, builder, collect, refused_uri, silent_server};
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
