//! The embedding client against a real OpenAI-compatible server: llama.cpp's `llama-server
//! --embeddings --pooling mean` with the tiny deterministic model of `scripts/peers/llama.sh`.
//! Vectors: one per text, all of one size, the same text always the same vector, different
//! texts different vectors; batches split; base64 decoded to the same numbers; a `dimensions`
//! the server ignores and an empty text are typed errors.
//!
//! Each test starts its own server and stops it. The tests are `#[ignore]`d in plain
//! `cargo nextest run`; `scripts/test` builds the peer and runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/llama.rs"]
mod llama;

use std::future::Future;
use std::time::Duration;

use llama::{LlamaServer, Options, peer};
use weft_core::{ChatErrorKind, EmbeddingClient, EmbeddingError, EmbeddingOptions};
use weft_openai::{EncodingFormat, OpenAI, OpenAIEmbeddingClient};

/// Far more than a test needs (about a second), so that only a hang trips it.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

async fn within<F: Future<Output = ()>>(test: F) {
    if tokio::time::timeout(TEST_TIMEOUT, test).await.is_err() {
        panic!("the test did not finish within {TEST_TIMEOUT:?}");
    }
}

fn start(test: &str) -> LlamaServer {
    let peer = peer(test);
    LlamaServer::start(&peer, &Options { embeddings: true, context: 512, ..Options::default() })
}

/// An embedding client for the server: model `tiny`, short deadlines and no retries, so that a
/// failure shows up as it is.
fn client(server: &LlamaServer) -> OpenAIEmbeddingClient {
    OpenAI::builder()
        .base_url(server.base_url())
        .timeout(Duration::from_secs(30))
        .max_retries(0)
        .build()
        .unwrap()
        .embeddings("tiny")
}

fn texts(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| text.to_string()).collect()
}

#[tokio::test]
#[ignore = "needs llama-server: scripts/test installs them"]
async fn vectors_have_one_size_are_deterministic_and_differ_by_text() {
    let server = start("vectors_have_one_size_are_deterministic_and_differ_by_text");
    within(async {
        let inputs = texts(&["hello world", "good bye", "hello world", "Howdy, pal!", "the cat sat"]);
        // Five texts in batches of two: three requests, put back in order.
        let client = client(&server).max_batch_size(2);
        let answer = client.embed(inputs.clone(), EmbeddingOptions::default()).await.unwrap();
        assert_eq!(answer.len(), 5);
        let size = answer.dimensions().unwrap();
        assert!(size > 0);
        assert!(answer.vectors.iter().all(|vector| vector.len() == size));
        assert!(answer.vectors.iter().all(|vector| vector.iter().any(|x| *x != 0.0)), "{:?}", answer.vectors);
        assert_eq!(answer.model, "tiny");
        let usage = answer.usage.unwrap();
        assert!(usage.input_tokens >= 5, "{usage:?}");
        // The same text, the same vector: within a call, across batches and across calls.
        assert_eq!(answer.vectors[0], answer.vectors[2]);
        let again = client.embed(texts(&["hello world"]), EmbeddingOptions::default()).await.unwrap();
        assert_eq!(again.vectors[0], answer.vectors[0]);
        // Different texts, different vectors.
        for (i, a) in answer.vectors.iter().enumerate() {
            for (j, b) in answer.vectors.iter().enumerate() {
                if inputs[i] != inputs[j] {
                    assert_ne!(a, b, "{:?} and {:?}", inputs[i], inputs[j]);
                }
            }
        }
        // One request for all of them gives the same vectors.
        let whole = self::client(&server).embed(inputs.clone(), EmbeddingOptions::default()).await.unwrap();
        assert_eq!(whole.vectors, answer.vectors);
        // Base64 decodes to the very same numbers.
        let base64 = self::client(&server)
            .encoding_format(EncodingFormat::Base64)
            .embed(inputs, EmbeddingOptions::default())
            .await
            .unwrap();
        assert_eq!(base64.vectors, answer.vectors);
    })
    .await;
}

#[tokio::test]
#[ignore = "needs llama-server: scripts/test installs them"]
async fn an_ignored_dimensions_and_an_empty_text_are_typed_errors() {
    let server = start("an_ignored_dimensions_and_an_empty_text_are_typed_errors");
    within(async {
        let client = client(&server);
        // llama-server cannot shorten its vectors and ignores `dimensions`.
        let err =
            client.embed(texts(&["hello"]), EmbeddingOptions::default().dimensions(3)).await.unwrap_err();
        assert!(matches!(err, EmbeddingError::DimensionMismatch { index: 0, expected: 3, .. }), "{err:?}");
        let err = client.embed(texts(&["hello", ""]), EmbeddingOptions::default()).await.unwrap_err();
        let chat = err.chat_error().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!((chat.kind(), chat.status()), (ChatErrorKind::BadRequest, Some(400)), "{err}");
        assert!(err.to_string().contains("empty"), "{err}");
    })
    .await;
}
