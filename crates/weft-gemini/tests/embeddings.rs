//! Gemini embeddings against an in-test server answering as Google documents
//! `batchEmbedContents` (Gemini API) and `predict` (Vertex AI): batches split and put back in
//! order, `outputDimensionality`, and the mismatches.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::{Mock, json_answer};
use weft_core::{EmbeddingClient, EmbeddingError, EmbeddingOptions, Usage};
use weft_gemini::Gemini;

fn texts(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("text {i}")).collect()
}

/// A documented `batchEmbedContents` answer with one vector per value.
fn answer(values: &[f32]) -> support::Answer {
    let embeddings: Vec<_> = values.iter().map(|value| json!({"values": [value, 0.5, -0.25]})).collect();
    json_answer(200, &json!({"embeddings": embeddings}).to_string())
}

#[tokio::test]
async fn batches_are_split_and_put_back_in_order() {
    let mock = Mock::start(vec![answer(&[0.0, 1.0]), answer(&[2.0, 3.0]), answer(&[4.0])]).await;
    let client = mock.builder().build().unwrap().embeddings("gemini-embedding-001").max_batch_size(2);
    let embeddings = client.embed(texts(5), EmbeddingOptions::default().dimensions(3)).await.unwrap();
    let firsts: Vec<f32> = embeddings.vectors.iter().map(|vector| vector[0]).collect();
    assert_eq!(firsts, [0.0, 1.0, 2.0, 3.0, 4.0]);
    assert_eq!((embeddings.model.as_str(), embeddings.usage), ("gemini-embedding-001", None));
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].uri, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
    assert_eq!(requests[0].headers["x-goog-api-key"], "AIza-test-key");
    assert_eq!(
        requests[0].body,
        json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "text 0"}]}, "outputDimensionality": 3},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "text 1"}]}, "outputDimensionality": 3},
        ]})
    );
    assert_eq!(requests[2].body["requests"][0]["content"]["parts"][0]["text"], "text 4");
    // No texts, no request.
    assert!(client.embed(Vec::new(), EmbeddingOptions::default()).await.unwrap().is_empty());
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn wrong_counts_and_sizes_are_typed_errors() {
    let mock = Mock::start(vec![answer(&[0.0]), answer(&[0.0, 1.0])]).await;
    let client =
        mock.builder().build().unwrap().embeddings("gemini-embedding-001").task_type("RETRIEVAL_DOCUMENT");
    let err = client.embed(texts(2), EmbeddingOptions::default()).await.unwrap_err();
    assert!(matches!(err, EmbeddingError::CountMismatch { expected: 2, actual: 1, .. }), "{err}");
    assert_eq!(mock.requests()[0].body["requests"][0]["taskType"], "RETRIEVAL_DOCUMENT");
    let err = client.embed(texts(2), EmbeddingOptions::default().dimensions(768)).await.unwrap_err();
    assert!(matches!(err, EmbeddingError::DimensionMismatch { expected: 768, actual: 3, .. }), "{err}");
}

#[tokio::test]
async fn a_429_is_retried_and_a_bad_model_reported() {
    let exhausted = r#"{"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}}"#;
    let not_found = r#"{"error": {"code": 404, "message": "models/nope is not found for API version v1beta, or is not supported for embedContent.", "status": "NOT_FOUND"}}"#;
    let mock =
        Mock::start(vec![json_answer(429, exhausted), answer(&[1.0]), json_answer(404, not_found)]).await;
    let client = mock.builder().build().unwrap().embeddings("gemini-embedding-001");
    let embeddings = client.embed(texts(1), EmbeddingOptions::default()).await.unwrap();
    assert_eq!(embeddings.vectors, vec![vec![1.0, 0.5, -0.25]]);
    let err = client.embed(texts(1), EmbeddingOptions::with_model("nope")).await.unwrap_err();
    let err = err.chat_error().unwrap();
    assert_eq!((err.status(), err.code()), (Some(404), Some("NOT_FOUND")));
    assert_eq!(mock.requests()[2].uri, "/v1beta/models/nope:batchEmbedContents");
}

#[tokio::test]
async fn vertex_ai_predicts_one_text_per_request_and_counts_tokens() {
    let predicted = |value: f32| {
        json_answer(
            200,
            &json!({"predictions": [{"embeddings": {"statistics": {"truncated": false, "token_count": 6}, "values": [value, 0.1]}}]})
                .to_string(),
        )
    };
    let mock = Mock::start(vec![predicted(1.0), predicted(2.0)]).await;
    let client = Gemini::builder()
        .vertex("my-project", "europe-west4")
        .base_url(&mock.base_url)
        .access_token("ya29.static")
        .build()
        .unwrap()
        .embeddings("gemini-embedding-001");
    let embeddings = client.embed(texts(2), EmbeddingOptions::default().dimensions(2)).await.unwrap();
    assert_eq!(embeddings.vectors, vec![vec![1.0, 0.1], vec![2.0, 0.1]]);
    assert_eq!(embeddings.usage, Some(Usage::new(12, 0)));
    let requests = mock.requests();
    assert_eq!(
        requests[0].uri,
        "/v1/projects/my-project/locations/europe-west4/publishers/google/models/gemini-embedding-001:predict"
    );
    assert_eq!(requests[0].headers["authorization"], "Bearer ya29.static");
    assert_eq!(
        requests[0].body,
        json!({"instances": [{"content": "text 0"}], "parameters": {"outputDimensionality": 2}})
    );
}
