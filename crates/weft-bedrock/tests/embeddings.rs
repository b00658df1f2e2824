//! Titan and Cohere embeddings over InvokeModel, against the signing mock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use support::{Answer, Mock, Script, aws_error, json_answer};
use weft_bedrock::TITAN_EMBED_TEXT_V2;
use weft_core::{ChatErrorKind, EmbeddingClient, EmbeddingError, EmbeddingOptions, Usage};

/// Titan's answer for one text: a vector naming the text's length, and its word count as
/// tokens.
fn titan(body: &Value) -> Answer {
    let text = body["inputText"].as_str().unwrap_or("");
    let size = body["dimensions"].as_u64().unwrap_or(4) as usize;
    let mut vector = vec![0.0; size];
    vector[0] = text.len() as f32;
    json_answer(
        200,
        json!({"embedding": vector, "inputTextTokenCount": text.split_whitespace().count(), "embeddingsByType": {"float": vector}}),
    )
}

#[tokio::test]
async fn titan_sends_one_text_a_request_and_keeps_the_order() {
    let mock = Mock::start(Script::Computed(Arc::new(titan))).await;
    let client = mock.bedrock().embeddings(TITAN_EMBED_TEXT_V2).dimensions(256).max_concurrent_requests(3);
    let inputs: Vec<String> = (1..=7).map(|n| "word ".repeat(n).trim().to_string()).collect();
    let answer = client.embed(inputs.clone(), EmbeddingOptions::default()).await.unwrap();
    assert_eq!(answer.len(), 7);
    assert_eq!(answer.dimensions(), Some(256));
    for (vector, input) in answer.vectors.iter().zip(&inputs) {
        assert_eq!(vector[0], input.len() as f32);
    }
    assert_eq!(answer.usage, Some(Usage::new(28, 0)));
    assert_eq!(answer.model, TITAN_EMBED_TEXT_V2);
    let received = mock.received();
    assert_eq!(received.len(), 7);
    assert!(received.iter().all(|request| request.path == "/model/amazon.titan-embed-text-v2%3A0/invoke"));
    let mut bodies: Vec<Value> = received.into_iter().map(|request| request.body).collect();
    bodies.sort_by_key(|body| body["inputText"].as_str().unwrap().len());
    assert_eq!(bodies[0], json!({"inputText": "word", "normalize": true, "dimensions": 256}));
}

#[tokio::test]
async fn cohere_sends_batches_of_96() {
    let mock = Mock::start(Script::Computed(Arc::new(|body: &Value| {
        let texts = body["texts"].as_array().unwrap();
        let vectors: Vec<Vec<f32>> =
            texts.iter().map(|text| vec![text.as_str().unwrap().parse().unwrap(), 1.0]).collect();
        json_answer(
            200,
            json!({"embeddings": vectors, "id": "e1", "response_type": "embeddings_floats", "texts": texts}),
        )
    })))
    .await;
    let client = mock.bedrock().embeddings("cohere.embed-english-v3").input_type("search_query");
    let inputs: Vec<String> = (0..100).map(|n| n.to_string()).collect();
    let answer = client.embed(inputs, EmbeddingOptions::default()).await.unwrap();
    assert_eq!(
        answer.vectors.iter().map(|vector| vector[0] as usize).collect::<Vec<_>>(),
        (0..100).collect::<Vec<_>>()
    );
    assert_eq!(answer.usage, None);
    let received = mock.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body["texts"].as_array().unwrap().len(), 96);
    assert_eq!(received[0].body["input_type"], "search_query");
    assert_eq!(received[0].path, "/model/cohere.embed-english-v3/invoke");
    // With `embedding_types`, Cohere answers by type.
    let mock = Mock::answers(vec![json_answer(
        200,
        json!({"embeddings": {"float": [[0.5, 0.25]]}, "response_type": "embeddings_by_type"}),
    )])
    .await;
    let answer = mock
        .bedrock()
        .embeddings("cohere.embed-v4:0")
        .embed(vec!["a".into()], EmbeddingOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.vectors, [vec![0.5, 0.25]]);
}

#[tokio::test]
async fn failures_are_typed() {
    let mock = Mock::answers(vec![json_answer(200, json!({"embeddings": [[1.0]]}))]).await;
    let err = mock
        .bedrock()
        .embeddings("cohere.embed-english-v3")
        .embed(vec!["a".into(), "b".into()], EmbeddingOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, EmbeddingError::CountMismatch { expected: 2, actual: 1, .. }), "{err}");
    let mock = Mock::start(Script::Computed(Arc::new(titan))).await;
    let err = mock
        .bedrock()
        .embeddings(TITAN_EMBED_TEXT_V2)
        .embed(vec!["a".into()], EmbeddingOptions::default().dimensions(8))
        .await;
    assert_eq!(err.unwrap().dimensions(), Some(8));
    let err = mock
        .bedrock()
        .embeddings("amazon.nova-lite-v1:0")
        .embed(vec!["a".into()], EmbeddingOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.chat_error().unwrap().kind(), ChatErrorKind::Configuration);
    assert!(err.to_string().contains("amazon.titan-embed-text-v2:0"), "{err}");
    let mock = Mock::answers(vec![
        aws_error(429, "ThrottlingException", "Too many requests"),
        json_answer(200, json!({"embedding": [0.1, 0.2], "inputTextTokenCount": 1})),
    ])
    .await;
    let answer = mock
        .bedrock()
        .embeddings(TITAN_EMBED_TEXT_V2)
        .embed(vec!["a".into()], EmbeddingOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.vectors, [vec![0.1, 0.2]]);
    assert_eq!(mock.received().len(), 2);
    let mock = Mock::answers(vec![aws_error(400, "ValidationException", "Malformed input request")]).await;
    let err = mock
        .bedrock()
        .embeddings(TITAN_EMBED_TEXT_V2)
        .embed(vec!["a".into()], EmbeddingOptions::default())
        .await
        .unwrap_err();
    let err = err.chat_error().unwrap();
    assert_eq!((err.kind(), err.code()), (ChatErrorKind::BadRequest, Some("ValidationException")));
}
