//! Embeddings over Ollama's `POST {host}/api/embed`, on the shared driver.

use std::borrow::Cow;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weft_core::{
    ChatError, ChatErrorKind, ClientInfo, EmbeddingClient, EmbeddingError, EmbeddingOptions, Embeddings,
    Usage,
};
use weft_provider::Request;
use weft_provider::error::{decode_error, encode_error};

use crate::config::Ollama;
use crate::stream::body_error;

/// The default largest number of texts sent in one request.
pub const DEFAULT_EMBEDDING_BATCH_SIZE: usize = 128;

/// An [`EmbeddingClient`] over Ollama's `/api/embed` (`nomic-embed-text`, `all-minilm`,
/// `mxbai-embed-large` …), made by [`Ollama::embeddings`]. It shares the handle's HTTP client,
/// deadlines, retries and answer size limit with the chat client; its failures are the same
/// [`ChatError`]s (inside [`EmbeddingError::Provider`]).
///
/// A call with more texts than [`max_batch_size`](Self::max_batch_size) is sent as several
/// requests, one after the other; the vectors come back in the inputs' order and the usage
/// (`prompt_eval_count`) is summed. A batch answered with another number of vectors than
/// texts fails with [`EmbeddingError::CountMismatch`]; vectors of another size than
/// [`EmbeddingOptions::dimensions`] asked for (or than each other) with
/// [`EmbeddingError::DimensionMismatch`].
#[derive(Debug, Clone)]
pub struct OllamaEmbeddingClient {
    ollama: Ollama,
    model: String,
    dimensions: Option<u32>,
    truncate: Option<bool>,
    max_batch_size: usize,
}

impl OllamaEmbeddingClient {
    pub(crate) fn new(ollama: Ollama, model: String) -> Self {
        Self { ollama, model, dimensions: None, truncate: None, max_batch_size: DEFAULT_EMBEDDING_BATCH_SIZE }
    }

    /// The size of the vectors when a call's options name none (`dimensions`, for models that
    /// can shorten theirs).
    pub fn dimensions(mut self, dimensions: u32) -> Self {
        self.dimensions = Some(dimensions);
        self
    }

    /// Whether a text longer than the model's context is cut to fit (`truncate`, Ollama's
    /// default `true`) or fails the call with a bad-request error (`false`).
    pub fn truncate(mut self, truncate: bool) -> Self {
        self.truncate = Some(truncate);
        self
    }

    /// The largest number of texts in one request (default
    /// [`DEFAULT_EMBEDDING_BATCH_SIZE`], at least 1).
    pub fn max_batch_size(mut self, size: usize) -> Self {
        self.max_batch_size = size.max(1);
        self
    }

    /// The model used when a call's options name none.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Sends one batch and decodes its answer.
    async fn send(
        &self,
        model: &str,
        dimensions: Option<u32>,
        inputs: &[String],
    ) -> Result<Batch, EmbeddingError> {
        let inner = &self.ollama.inner;
        let label = inner.label.as_str();
        let body = WireRequest {
            model,
            input: inputs,
            dimensions,
            truncate: self.truncate,
            keep_alive: inner.keep_alive.as_ref(),
        };
        let body = serde_json::to_vec(&body).map_err(|err| encode_error(label, err))?;
        let request = Request {
            label,
            url: inner.embed_url.clone(),
            shown_url: Cow::Borrowed(&inner.shown_embed_url),
            headers: &inner.json_headers,
            body: Bytes::from(body),
        };
        let answer = inner.driver.fetch(&request).await?;
        parse_answer(label, &answer, inputs.len()).map_err(|err| match err {
            EmbeddingError::Provider(err) => EmbeddingError::Provider(inner.driver.redact(err)),
            other => other,
        })
    }
}

#[async_trait]
impl EmbeddingClient for OllamaEmbeddingClient {
    async fn embed(
        &self,
        inputs: Vec<String>,
        options: EmbeddingOptions,
    ) -> Result<Embeddings, EmbeddingError> {
        let label = self.ollama.inner.label.as_str();
        let requested = options.model.as_deref().map(str::trim).filter(|model| !model.is_empty());
        let model = requested.unwrap_or(self.model.trim());
        if model.is_empty() {
            return Err(ChatError::new(
                ChatErrorKind::Configuration,
                "no embedding model given: name one in Ollama::embeddings or EmbeddingOptions::model",
            )
            .with_provider(label)
            .into());
        }
        let dimensions = options.dimensions.or(self.dimensions);
        let mut answer = weft_provider::embeddings::answer(model, inputs.len());
        for (index, batch) in inputs.chunks(self.max_batch_size).enumerate() {
            let Batch { vectors, model: answered_model, usage } = self.send(model, dimensions, batch).await?;
            if index == 0 {
                answer.model = answered_model.unwrap_or(answer.model);
            }
            weft_provider::embeddings::add_batch(&mut answer, vectors, usage);
        }
        weft_provider::embeddings::check_dimensions(&answer, dimensions, label)?;
        Ok(answer)
    }

    fn info(&self) -> ClientInfo {
        ClientInfo {
            provider: "ollama".to_string(),
            default_model: Some(self.model.clone()),
            endpoint: Some(self.ollama.host().to_string()),
        }
    }
}

/// One batch's answer.
struct Batch {
    vectors: Vec<Vec<f32>>,
    model: Option<String>,
    usage: Option<Usage>,
}

/// The body of `POST /api/embed`.
#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    input: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    truncate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_alive: Option<&'a Value>,
}

/// `{"model", "embeddings": [[...], ...], "prompt_eval_count"}`.
#[derive(Deserialize)]
struct WireAnswer {
    #[serde(default)]
    model: Option<String>,
    embeddings: Vec<Vec<f32>>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
}

/// Decodes one answer for `expected` texts.
fn parse_answer(label: &str, body: &[u8], expected: usize) -> Result<Batch, EmbeddingError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|err| decode_error(label, "the answer", err, body))?;
    if let Some(err) = body_error(label, &value) {
        return Err(err.into());
    }
    let answer: WireAnswer =
        serde_json::from_value(value).map_err(|err| decode_error(label, "the answer", err, body))?;
    if answer.embeddings.len() != expected {
        return Err(EmbeddingError::CountMismatch {
            provider: label.to_string(),
            expected,
            actual: answer.embeddings.len(),
        });
    }
    Ok(Batch {
        vectors: answer.embeddings,
        model: answer.model.filter(|model| !model.is_empty()),
        usage: answer.prompt_eval_count.map(|tokens| Usage::new(tokens, 0)),
    })
}
