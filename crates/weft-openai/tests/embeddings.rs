//! Embeddings on the wire: OpenAI's documented answer byte for byte, the request sent, batches
//! split and put back in order, base64, Azure's deployment URL, and the faults (401, 429 with
//! Retry-After, 5xx retried, malformed JSON, too large, a count or size mismatch).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use support::builder;
use weft_core::{ChatErrorKind, EmbeddingClient, EmbeddingError, EmbeddingOptions, Usage};
use weft_openai::{EncodingFormat, OpenAI};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// OpenAI's documented answer to `POST /v1/embeddings` (the API reference's example, its
/// vector cut to the three numbers it shows).
const DOCUMENTED: &str = r#"{
  "object": "list",
  "data": [
    {
      "object": "embedding",
      "embedding": [
        0.0023064255,
        -0.009327292,
        -0.0028842222
      ],
      "index": 0
    }
  ],
  "model": "text-embedding-ada-002",
  "usage": {
    "prompt_tokens": 8,
    "total_tokens": 8
  }
}"#;

fn texts(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| text.to_string()).collect()
}

/// Answers each request with one vector per input, `[position in the call, length]` (the
/// input's number is its text), listed in reverse order with their indexes, and usage 1 per
/// input.
fn echo(request: &Request) -> ResponseTemplate {
    let body: Value = request.body_json().unwrap();
    let inputs = body["input"].as_array().unwrap();
    let mut data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let text = input.as_str().unwrap();
            json!({"object": "embedding", "index": index, "embedding": [text.parse::<f32>().unwrap(), text.len() as f32]})
        })
        .collect();
    data.reverse();
    ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": data, "model": "echo-model",
        "usage": {"prompt_tokens": inputs.len(), "total_tokens": inputs.len()}}))
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/v1/embeddings")).respond_with(template).mount(&server).await;
    server
}

async fn failing_once(first: ResponseTemplate, then: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(first).up_to_n_times(1).with_priority(1).mount(&server).await;
    Mock::given(method("POST")).respond_with(then).with_priority(2).mount(&server).await;
    server
}

async fn requests(server: &MockServer) -> Vec<Value> {
    server.received_requests().await.unwrap().iter().map(|request| request.body_json().unwrap()).collect()
}

#[tokio::test]
async fn the_documented_answer_decodes_and_the_request_is_openais() {
    let server = answering(ResponseTemplate::new(200).set_body_raw(DOCUMENTED, "application/json")).await;
    let client: Arc<dyn EmbeddingClient> =
        Arc::new(builder(&server.uri()).build().unwrap().embeddings("text-embedding-ada-002"));
    let answer = client
        .embed(texts(&["The food was delicious and the waiter..."]), EmbeddingOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.vectors, vec![vec![0.002_306_425_5_f32, -0.009_327_292, -0.002_884_222_2]]);
    assert_eq!(answer.model, "text-embedding-ada-002");
    assert_eq!(answer.usage, Some(Usage::new(8, 0)));
    assert_eq!(answer.dimensions(), Some(3));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["authorization"], "Bearer sk-test");
    assert_eq!(received[0].headers["content-type"], "application/json");
    assert_eq!(
        received[0].body_json::<Value>().unwrap(),
        json!({"input": ["The food was delicious and the waiter..."], "model": "text-embedding-ada-002",
            "encoding_format": "float"})
    );
    let info = client.info();
    assert_eq!(
        (info.provider.as_str(), info.default_model.as_deref()),
        ("openai", Some("text-embedding-ada-002"))
    );
}

#[tokio::test]
async fn large_batches_are_split_and_put_back_in_order_with_usage_summed() {
    let server = MockServer::start().await;
    let inputs: Vec<String> = (0..7).map(|n| n.to_string()).collect();
    for concurrent in [1, 3] {
        server.reset().await;
        Mock::given(method("POST")).and(path("/v1/embeddings")).respond_with(echo).mount(&server).await;
        let client = builder(&server.uri())
            .build()
            .unwrap()
            .embeddings("e")
            .max_batch_size(3)
            .max_concurrent_batches(concurrent);
        let answer = client.embed(inputs.clone(), EmbeddingOptions::default()).await.unwrap();
        let expected: Vec<Vec<f32>> = (0..7).map(|n| vec![n as f32, 1.0]).collect();
        assert_eq!(answer.vectors, expected, "concurrent {concurrent}");
        assert_eq!(answer.usage, Some(Usage::new(7, 0)));
        assert_eq!(answer.model, "echo-model");
        let mut sizes: Vec<usize> =
            requests(&server).await.iter().map(|body| body["input"].as_array().unwrap().len()).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, vec![1, 3, 3]);
    }
    // No inputs, no request.
    server.reset().await;
    let client = builder(&server.uri()).build().unwrap().embeddings("e");
    let answer = client.embed(Vec::new(), EmbeddingOptions::default()).await.unwrap();
    assert!(answer.is_empty());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn options_name_the_model_and_dimensions_and_base64_is_decoded() {
    let encoded = base64::engine::general_purpose::STANDARD
        .encode([0.5_f32, -1.25].iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>());
    let server = answering(ResponseTemplate::new(200).set_body_json(json!({"object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": encoded}], "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 2, "total_tokens": 2}})))
    .await;
    let client =
        builder(&server.uri()).build().unwrap().embeddings("default").encoding_format(EncodingFormat::Base64);
    let answer = client
        .embed(texts(&["hi"]), EmbeddingOptions::with_model("text-embedding-3-small").dimensions(2))
        .await
        .unwrap();
    assert_eq!(answer.vectors, vec![vec![0.5, -1.25]]);
    assert_eq!(
        requests(&server).await[0],
        json!({"input": ["hi"], "model": "text-embedding-3-small", "dimensions": 2, "encoding_format": "base64"})
    );
}

#[tokio::test]
async fn azure_uses_the_deployment_url_and_the_api_key_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/deployments/emb-dep/embeddings"))
        .and(query_param("api-version", "2024-10-21"))
        .and(header("api-key", "az-key"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(DOCUMENTED, "application/json"))
        .mount(&server)
        .await;
    let azure = OpenAI::builder().azure_endpoint(server.uri()).api_key("az-key").build().unwrap();
    let client = azure.embeddings("emb-dep");
    let answer = client.embed(texts(&["x"]), EmbeddingOptions::default()).await.unwrap();
    assert_eq!(answer.len(), 1);
    assert_eq!(client.info().provider, "azure.ai.openai");
}

#[tokio::test]
async fn a_count_mismatch_is_a_typed_error_and_not_retried() {
    let server = answering(ResponseTemplate::new(200).set_body_raw(DOCUMENTED, "application/json")).await;
    let client = builder(&server.uri()).build().unwrap().embeddings("e");
    let err = client.embed(texts(&["a", "b"]), EmbeddingOptions::default()).await.unwrap_err();
    assert!(
        matches!(&err, EmbeddingError::CountMismatch { expected: 2, actual: 1, provider } if provider.starts_with("openai embeddings")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn vectors_of_another_size_than_asked_are_a_typed_error() {
    // llama-server, for one, ignores `dimensions`.
    let server = answering(ResponseTemplate::new(200).set_body_raw(DOCUMENTED, "application/json")).await;
    let client = builder(&server.uri()).build().unwrap().embeddings("e").dimensions(256);
    let err = client.embed(texts(&["a"]), EmbeddingOptions::default()).await.unwrap_err();
    assert!(
        matches!(err, EmbeddingError::DimensionMismatch { index: 0, expected: 256, actual: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("ignores `dimensions`"), "{err}");
    // Vectors of different sizes within one answer.
    let server = answering(ResponseTemplate::new(200).set_body_json(json!({"data": [
        {"index": 0, "embedding": [1.0, 2.0]}, {"index": 1, "embedding": [1.0]}]})))
    .await;
    let client = builder(&server.uri()).build().unwrap().embeddings("e");
    let err = client.embed(texts(&["a", "b"]), EmbeddingOptions::default()).await.unwrap_err();
    assert!(
        matches!(err, EmbeddingError::DimensionMismatch { index: 1, expected: 2, actual: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_key_is_an_authentication_error_without_the_key() {
    let body = r#"{"error": {"message": "Incorrect API key provided: sk-test. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}"#;
    let server = answering(ResponseTemplate::new(401).set_body_raw(body, "application/json")).await;
    let client = builder(&server.uri()).build().unwrap().embeddings("e");
    let err = client.embed(texts(&["a"]), EmbeddingOptions::default()).await.unwrap_err();
    let chat = err.chat_error().unwrap();
    assert_eq!(
        (chat.kind(), chat.status(), chat.code()),
        (ChatErrorKind::Authentication, Some(401), Some("invalid_api_key"))
    );
    assert!(!err.to_string().contains("sk-test"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let rate_limited = ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_raw(
        r#"{"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}"#,
        "application/json",
    );
    let ok = ResponseTemplate::new(200).set_body_raw(DOCUMENTED, "application/json");
    for first in [rate_limited.clone(), ResponseTemplate::new(503).set_body_string("upstream down")] {
        let server = failing_once(first, ok.clone()).await;
        let client = builder(&server.uri()).build().unwrap().embeddings("e");
        let answer = client.embed(texts(&["a"]), EmbeddingOptions::default()).await.unwrap();
        assert_eq!(answer.len(), 1);
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }
    // Without retries the error says how long to wait.
    let server = answering(rate_limited.insert_header("Retry-After", "7")).await;
    let client = builder(&server.uri()).max_retries(0).build().unwrap().embeddings("e");
    let err = client.embed(texts(&["a"]), EmbeddingOptions::default()).await.unwrap_err();
    let chat = err.chat_error().unwrap();
    assert!(chat.is_rate_limit(), "{err}");
    assert_eq!(chat.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn malformed_error_and_oversized_answers_are_typed() {
    let server = answering(
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"data": [{"index": 0, "embedding": [1.0,"#, "application/json"),
    )
    .await;
    let client = builder(&server.uri()).build().unwrap().embeddings("e");
    let err = client.embed(texts(&["a"]), EmbeddingOptions::default()).await.unwrap_err();
    assert_eq!(err.chat_error().unwrap().kind(), ChatErrorKind::Decode, "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "a decode error is not retried");

    let server = answering(ResponseTemplate::new(200).set_body_json(
        json!({"error": {"message": "The model `nope` does not exist", "type": "invalid_request_error", "code": "model_not_found"}}),
    ))
    .await;
    let client = builder(&server.uri()).max_retries(0).build().unwrap().embeddings("e");
    let err = client.embed(texts(&["a"]), EmbeddingOptions::default()).await.unwrap_err();
    let chat = err.chat_error().unwrap();
    assert_eq!(chat.code(), Some("model_not_found"));
    assert!(err.to_string().contains("does not exist"), "{err}");

    let big: Vec<f32> = vec![0.123_456_79; 1000];
    let server = answering(
        ResponseTemplate::new(200).set_body_json(json!({"data": [{"index": 0, "embedding": big}]})),
    )
    .await;
    let client = builder(&server.uri()).max_event_bytes(4096).build().unwrap().embeddings("e");
    let err = client.embed(texts(&["a"]), EmbeddingOptions::default()).await.unwrap_err();
    let chat = err.chat_error().unwrap();
    assert_eq!(chat.kind(), ChatErrorKind::ResponseTooLarge, "{err}");
    assert!(err.to_string().contains("max_event_bytes"), "{err}");
}

#[tokio::test]
async fn a_missing_model_is_a_configuration_error() {
    let client = OpenAI::builder().build().unwrap().embeddings(" ");
    let err = client.embed(texts(&["a"]), EmbeddingOptions::default()).await.unwrap_err();
    assert_eq!(err.chat_error().unwrap().kind(), ChatErrorKind::Configuration);
    assert!(err.to_string().contains("EmbeddingOptions::model"), "{err}");
}
