//! Embeddings: the Gemini API's `POST …/models/{model}:batchEmbedContents`, or Vertex AI's
//! `POST …/models/{model}:predict`, on the shared driver.

use std::borrow::Cow;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use weft_core::{
    ChatError, ChatErrorKind, ClientInfo, EmbeddingClient, EmbeddingError, EmbeddingOptions, Embeddings,
    Usage,
};
use weft_provider::Request;
use weft_provider::error::{decode_error, encode_error, payload_error};

use crate::config::{ApiKind, Gemini, Inner};

/// The default largest number of texts in one `batchEmbedContents` request (the Gemini API
/// takes up to 100).
pub const DEFAULT_EMBEDDING_BATCH_SIZE: usize = 100;
/// The default on Vertex AI, whose `gemini-embedding-001` takes one text per `predict`
/// request (`text-embedding-005` takes up to 250: raise it with
/// [`GeminiEmbeddingClient::max_batch_size`]).
pub const DEFAULT_VERTEX_EMBEDDING_BATCH_SIZE: usize = 1;

/// An [`EmbeddingClient`] for Google's embedding models (`gemini-embedding-001`,
/// `text-embedding-004` …), made by [`Gemini::embeddings`]. It shares the handle's HTTP client,
/// credentials, deadlines, retries and size limit with the chat client; its failures are the
/// same [`ChatError`]s (inside [`EmbeddingError::Provider`]).
///
/// A call with more texts than [`max_batch_size`](Self::max_batch_size) is sent as several
/// requests (one at a time unless [`max_concurrent_batches`](Self::max_concurrent_batches)
/// says otherwise); the vectors come back in the inputs' order. A batch answered with another
/// number of vectors fails with [`EmbeddingError::CountMismatch`]; vectors of another size
/// than [`EmbeddingOptions::dimensions`] (`outputDimensionality`) asked for, with
/// [`EmbeddingError::DimensionMismatch`]. The Gemini API reports no token counts for
/// embeddings (the usage is `None`); Vertex AI's are summed.
#[derive(Debug, Clone)]
pub struct GeminiEmbeddingClient {
    gemini: Gemini,
    model: String,
    dimensions: Option<u32>,
    task_type: Option<String>,
    max_batch_size: usize,
    max_concurrent_batches: usize,
}

impl Gemini {
    /// An embedding client for `model` (e.g. `gemini-embedding-001`); a call's
    /// [`EmbeddingOptions::model`] overrides it.
    pub fn embeddings(&self, model: impl Into<String>) -> GeminiEmbeddingClient {
        let max_batch_size = match self.inner.kind {
            ApiKind::Gemini => DEFAULT_EMBEDDING_BATCH_SIZE,
            ApiKind::Vertex => DEFAULT_VERTEX_EMBEDDING_BATCH_SIZE,
        };
        GeminiEmbeddingClient {
            gemini: self.clone(),
            model: model.into(),
            dimensions: None,
            task_type: None,
            max_batch_size,
            max_concurrent_batches: 1,
        }
    }
}

impl GeminiEmbeddingClient {
    /// The size of the vectors when a call's options name none (`outputDimensionality`;
    /// `gemini-embedding-001` makes 3072 and can shorten them, e.g. to 768).
    pub fn dimensions(mut self, dimensions: u32) -> Self {
        self.dimensions = Some(dimensions);
        self
    }

    /// What the vectors are for (`taskType`): `RETRIEVAL_QUERY`, `RETRIEVAL_DOCUMENT`,
    /// `SEMANTIC_SIMILARITY`, `CLASSIFICATION`, `CLUSTERING` …
    pub fn task_type(mut self, task_type: impl Into<String>) -> Self {
        self.task_type = Some(task_type.into());
        self
    }

    /// The largest number of texts in one request (default [`DEFAULT_EMBEDDING_BATCH_SIZE`],
    /// or [`DEFAULT_VERTEX_EMBEDDING_BATCH_SIZE`] on Vertex AI; at least 1).
    pub fn max_batch_size(mut self, size: usize) -> Self {
        self.max_batch_size = size.max(1);
        self
    }

    /// How many requests of one call may be in flight at once (default 1, at least 1). They
    /// run on the caller's task: dropping the call cancels them all.
    pub fn max_concurrent_batches(mut self, count: usize) -> Self {
        self.max_concurrent_batches = count.max(1);
        self
    }

    /// The model used when a call's options name none.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The body of one batch.
    fn body(&self, model: &str, dimensions: Option<u32>, inputs: &[String]) -> Value {
        let model = model.strip_prefix("models/").unwrap_or(model);
        match self.gemini.inner.kind {
            ApiKind::Gemini => {
                let requests: Vec<Value> = inputs
                    .iter()
                    .map(|text| {
                        let mut request =
                            json!({"model": format!("models/{model}"), "content": {"parts": [{"text": text}]}});
                        if let Some(dimensions) = dimensions {
                            request["outputDimensionality"] = json!(dimensions);
                        }
                        if let Some(task_type) = &self.task_type {
                            request["taskType"] = json!(task_type);
                        }
                        request
                    })
                    .collect();
                json!({"requests": requests})
            }
            ApiKind::Vertex => {
                let instances: Vec<Value> = inputs
                    .iter()
                    .map(|text| {
                        let mut instance = json!({"content": text});
                        if let Some(task_type) = &self.task_type {
                            instance["task_type"] = json!(task_type);
                        }
                        instance
                    })
                    .collect();
                let mut body = json!({"instances": instances});
                if let Some(dimensions) = dimensions {
                    body["parameters"] = json!({"outputDimensionality": dimensions});
                }
                body
            }
        }
    }

    /// Sends one batch and decodes its answer.
    async fn send(
        &self,
        headers: &HeaderMap,
        model: &str,
        dimensions: Option<u32>,
        inputs: &[String],
    ) -> Result<Batch, EmbeddingError> {
        let inner = &self.gemini.inner;
        let label = inner.label.as_str();
        let method = match inner.kind {
            ApiKind::Gemini => "batchEmbedContents",
            ApiKind::Vertex => "predict",
        };
        let (url, shown_url) = inner.method_url(model, method, false)?;
        let body = serde_json::to_vec(&self.body(model, dimensions, inputs))
            .map_err(|err| encode_error(label, err))?;
        let request =
            Request { label, url, shown_url: Cow::Owned(shown_url), headers, body: Bytes::from(body) };
        let answer = inner.driver.fetch(&request).await?;
        let batch = parse_answer(label, &answer).map_err(|err| inner.driver.redact(err))?;
        if batch.vectors.len() != inputs.len() {
            return Err(EmbeddingError::CountMismatch {
                provider: label.to_string(),
                expected: inputs.len(),
                actual: batch.vectors.len(),
            });
        }
        Ok(batch)
    }
}

#[async_trait]
impl EmbeddingClient for GeminiEmbeddingClient {
    async fn embed(
        &self,
        inputs: Vec<String>,
        options: EmbeddingOptions,
    ) -> Result<Embeddings, EmbeddingError> {
        let inner = &self.gemini.inner;
        let requested = options.model.as_deref().map(str::trim).filter(|model| !model.is_empty());
        let model = requested.unwrap_or(self.model.trim());
        if model.is_empty() {
            return Err(ChatError::new(
                ChatErrorKind::Configuration,
                "no embedding model given: name one in Gemini::embeddings or EmbeddingOptions::model",
            )
            .with_provider(inner.label.as_str())
            .into());
        }
        let dimensions = options.dimensions.or(self.dimensions);
        if inputs.is_empty() {
            return Ok(Embeddings { vectors: Vec::new(), model: model.to_string(), usage: None });
        }
        let token = inner.fresh_token().await?;
        let headers = match &token {
            Some(token) => Cow::Owned(Inner::with_bearer(&inner.json_headers, token)?),
            None => Cow::Borrowed(&inner.json_headers),
        };
        // The futures are made before the stream (not by a closure in it), so that the call's
        // future stays `Send`.
        let pending: Vec<_> = inputs
            .chunks(self.max_batch_size)
            .map(|batch| self.send(&headers, model, dimensions, batch))
            .collect();
        let batches: Vec<Batch> = futures::stream::iter(pending)
            .buffered(self.max_concurrent_batches)
            .try_collect()
            .await
            .map_err(|err| match (err, &token) {
                (EmbeddingError::Provider(err), Some(token)) => EmbeddingError::Provider(err.redact(token)),
                (err, _) => err,
            })?;
        let mut answer = weft_provider::embeddings::answer(model, inputs.len());
        for Batch { vectors, tokens } in batches {
            weft_provider::embeddings::add_batch(
                &mut answer,
                vectors,
                tokens.map(|tokens| Usage::new(tokens, 0)),
            );
        }
        weft_provider::embeddings::check_dimensions(&answer, dimensions, &inner.label)?;
        Ok(answer)
    }

    fn info(&self) -> ClientInfo {
        ClientInfo {
            provider: self.gemini.inner.provider_name().to_string(),
            default_model: Some(self.model.clone()),
            endpoint: Some(self.gemini.base_url().to_string()),
        }
    }
}

/// The answer to one request: its vectors in the inputs' order, the tokens it read (Vertex AI).
struct Batch {
    vectors: Vec<Vec<f32>>,
    tokens: Option<u64>,
}

/// `{"embeddings": [{"values": [...]}]}` (Gemini API) or
/// `{"predictions": [{"embeddings": {"values": [...], "statistics": {"token_count": N}}}]}`
/// (Vertex AI).
#[derive(Deserialize)]
struct WireAnswer {
    #[serde(default)]
    embeddings: Option<Vec<WireValues>>,
    #[serde(default)]
    predictions: Option<Vec<WirePrediction>>,
}

#[derive(Deserialize)]
struct WireValues {
    #[serde(default)]
    values: Vec<f32>,
    #[serde(default)]
    statistics: Option<WireStatistics>,
}

#[derive(Deserialize)]
struct WirePrediction {
    embeddings: WireValues,
}

#[derive(Deserialize)]
struct WireStatistics {
    #[serde(default)]
    token_count: Option<f64>,
}

fn parse_answer(label: &str, body: &[u8]) -> Result<Batch, ChatError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|err| decode_error(label, "the answer", err, body))?;
    if value.get("error").is_some() {
        return Err(payload_error(label, &value));
    }
    let answer: WireAnswer =
        serde_json::from_value(value).map_err(|err| decode_error(label, "the answer", err, body))?;
    match (answer.embeddings, answer.predictions) {
        (Some(embeddings), _) => Ok(Batch {
            vectors: embeddings.into_iter().map(|embedding| embedding.values).collect(),
            tokens: None,
        }),
        (None, Some(predictions)) => {
            let mut tokens = None;
            let mut vectors = Vec::with_capacity(predictions.len());
            for prediction in predictions {
                if let Some(count) =
                    prediction.embeddings.statistics.and_then(|statistics| statistics.token_count)
                {
                    // Vertex AI sends the count as a JSON number that may be a float (`5.0`).
                    let count = if count.is_finite() && count >= 0.0 { count as u64 } else { 0 };
                    tokens = Some(tokens.unwrap_or(0u64).saturating_add(count));
                }
                vectors.push(prediction.embeddings.values);
            }
            Ok(Batch { vectors, tokens })
        }
        (None, None) => Err(ChatError::new(
            ChatErrorKind::Decode,
            format!(
                "the answer has neither `embeddings` nor `predictions`: {}",
                weft_provider::error::snippet(body)
            ),
        )
        .with_provider(label)),
    }
}
