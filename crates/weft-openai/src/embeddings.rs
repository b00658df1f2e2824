//! Embeddings: `POST {base}/embeddings` (on Azure OpenAI
//! `{endpoint}/openai/deployments/{deployment}/embeddings?api-version=…`), on the shared driver.

use std::borrow::Cow;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weft_core::{
    ChatError, ChatErrorKind, ClientInfo, EmbeddingClient, EmbeddingError, EmbeddingOptions, Embeddings,
    Usage,
};
use weft_provider::Request;

use crate::config::OpenAI;
use crate::error::{decode_error, encode_error, payload_error};
use crate::transport::Api;

/// The default largest number of texts sent in one request. OpenAI takes up to 2,048; 128
/// keeps the answer for 3,072-dimension vectors as JSON floats (about 5.5 MB) under the
/// default size limit of an answer ([`OpenAIBuilder::max_event_bytes`](crate::OpenAIBuilder::max_event_bytes), 8 MiB).
pub const DEFAULT_EMBEDDING_BATCH_SIZE: usize = 128;

/// How the server encodes the vectors of its answer (`encoding_format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EncodingFormat {
    /// JSON arrays of numbers (`float`, the default): every server takes it.
    #[default]
    Float,
    /// Base64 of little-endian 32-bit floats (`base64`): about a third of the bytes of `Float`,
    /// decoded here. A server that answers with numbers anyway is understood too.
    Base64,
}

/// An [`EmbeddingClient`] for OpenAI-compatible servers (OpenAI, Azure OpenAI, llama.cpp's
/// `llama-server --embeddings`, vLLM, Ollama's `/v1` …), made by [`OpenAI::embeddings`]. It
/// shares the handle's HTTP client, credentials, deadlines, retries and answer size limit
/// ([`OpenAIBuilder::max_event_bytes`](crate::OpenAIBuilder::max_event_bytes)) with the chat
/// clients, and its failures are the same [`ChatError`]s (inside
/// [`EmbeddingError::Provider`]).
///
/// A call with more texts than [`max_batch_size`](Self::max_batch_size) is sent as several
/// requests (one at a time unless [`max_concurrent_batches`](Self::max_concurrent_batches)
/// says otherwise), each retried on its own; the vectors come back in the inputs' order and
/// the usage is summed. A batch answered with another number of vectors than texts fails with
/// [`EmbeddingError::CountMismatch`]; vectors of another size than
/// [`EmbeddingOptions::dimensions`] asked for (or than each other) with
/// [`EmbeddingError::DimensionMismatch`].
#[derive(Debug, Clone)]
pub struct OpenAIEmbeddingClient {
    openai: OpenAI,
    model: String,
    dimensions: Option<u32>,
    max_batch_size: usize,
    max_concurrent_batches: usize,
    encoding_format: EncodingFormat,
}

impl OpenAI {
    /// An embedding client for `model` (on Azure OpenAI, the deployment), e.g.
    /// `text-embedding-3-small`; a call's [`EmbeddingOptions::model`] overrides it.
    pub fn embeddings(&self, model: impl Into<String>) -> OpenAIEmbeddingClient {
        OpenAIEmbeddingClient {
            openai: self.clone(),
            model: model.into(),
            dimensions: None,
            max_batch_size: DEFAULT_EMBEDDING_BATCH_SIZE,
            max_concurrent_batches: 1,
            encoding_format: EncodingFormat::Float,
        }
    }
}

impl OpenAIEmbeddingClient {
    /// The size of the vectors when a call's options name none (`dimensions`; only
    /// `text-embedding-3-*` and later models can shorten theirs).
    pub fn dimensions(mut self, dimensions: u32) -> Self {
        self.dimensions = Some(dimensions);
        self
    }

    /// The largest number of texts in one request (default [`DEFAULT_EMBEDDING_BATCH_SIZE`],
    /// at least 1).
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

    /// How the server should encode the vectors (default [`EncodingFormat::Float`]).
    pub fn encoding_format(mut self, format: EncodingFormat) -> Self {
        self.encoding_format = format;
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
        let inner = &self.openai.inner;
        let label = inner.label(Api::Embeddings);
        let (url, shown_url) = inner.request_url(Api::Embeddings, model)?;
        let encoding_format = match self.encoding_format {
            EncodingFormat::Float => "float",
            EncodingFormat::Base64 => "base64",
        };
        let body = serde_json::to_vec(&WireRequest { input: inputs, model, dimensions, encoding_format })
            .map_err(|err| encode_error(label, err))?;
        let request = Request {
            label,
            url,
            shown_url: Cow::Borrowed(&shown_url),
            headers: &inner.json_headers,
            body: Bytes::from(body),
        };
        let answer = inner.driver.fetch(&request).await?;
        parse_answer(label, &answer, inputs.len()).map_err(|err| match err {
            EmbeddingError::Provider(err) => EmbeddingError::Provider(inner.redact(err)),
            other => other,
        })
    }
}

#[async_trait]
impl EmbeddingClient for OpenAIEmbeddingClient {
    async fn embed(
        &self,
        inputs: Vec<String>,
        options: EmbeddingOptions,
    ) -> Result<Embeddings, EmbeddingError> {
        let label = self.openai.inner.label(Api::Embeddings);
        let requested = options.model.as_deref().map(str::trim).filter(|model| !model.is_empty());
        let model = requested.unwrap_or(self.model.trim());
        if model.is_empty() {
            return Err(ChatError::new(
                ChatErrorKind::Configuration,
                "no embedding model given: name one in OpenAI::embeddings or EmbeddingOptions::model",
            )
            .with_provider(label)
            .into());
        }
        let dimensions = options.dimensions.or(self.dimensions);
        if inputs.is_empty() {
            return Ok(Embeddings { vectors: Vec::new(), model: model.to_string(), usage: None });
        }
        // The futures are made before the stream (not by a closure in it), so that the call's
        // future stays `Send` (a closure over borrowed batches would not be, for any lifetime).
        let pending: Vec<_> =
            inputs.chunks(self.max_batch_size).map(|batch| self.send(model, dimensions, batch)).collect();
        let batches: Vec<_> =
            futures::stream::iter(pending).buffered(self.max_concurrent_batches).try_collect().await?;
        let mut answer = weft_provider::embeddings::answer(model, inputs.len());
        for (index, Batch { vectors, model: answered_model, usage }) in batches.into_iter().enumerate() {
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
            provider: self.openai.provider_name().to_string(),
            default_model: Some(self.model.clone()),
            endpoint: Some(self.openai.base_url().to_string()),
        }
    }
}

/// The answer to one request: its vectors in the inputs' order, the model it names, its usage.
struct Batch {
    vectors: Vec<Vec<f32>>,
    model: Option<String>,
    usage: Option<Usage>,
}

/// The body of `POST /embeddings`.
#[derive(Serialize)]
struct WireRequest<'a> {
    input: &'a [String],
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
    encoding_format: &'static str,
}

/// The answer: `{"object": "list", "data": [...], "model": …, "usage": {...}}`, or an error
/// object that some servers send with status 200.
#[derive(Deserialize)]
struct WireAnswer {
    data: Option<Vec<WireEmbedding>>,
    model: Option<String>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

/// One vector: `{"object": "embedding", "index": 0, "embedding": [...] or "base64"}`.
#[derive(Deserialize)]
struct WireEmbedding {
    index: Option<usize>,
    embedding: WireVector,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireVector {
    Floats(Vec<f32>),
    Base64(String),
}

#[derive(Deserialize)]
struct WireUsage {
    prompt_tokens: Option<u64>,
    total_tokens: Option<u64>,
}

/// Decodes the answer to a batch of `expected` texts: its vectors in the inputs' order (placed
/// by their `index`), the model it names and its usage.
fn parse_answer(label: &str, body: &[u8], expected: usize) -> Result<Batch, EmbeddingError> {
    let answer: WireAnswer = serde_json::from_slice(body)
        .map_err(|err| decode_error(label, "the embeddings answer", err, body))?;
    if let Some(error) = answer.error.as_ref().filter(|error| !error.is_null()) {
        return Err(payload_error(label, error).into());
    }
    let bad = |message: String| ChatError::new(ChatErrorKind::Decode, message).with_provider(label);
    let data = answer.data.ok_or_else(|| bad("the embeddings answer has no `data` list".into()))?;
    if data.len() != expected {
        return Err(EmbeddingError::CountMismatch {
            provider: label.to_string(),
            expected,
            actual: data.len(),
        });
    }
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
    for (position, item) in data.into_iter().enumerate() {
        let index = item.index.unwrap_or(position);
        let vector = match item.embedding {
            WireVector::Floats(vector) => vector,
            WireVector::Base64(text) => decode_base64(&text).ok_or_else(|| {
                bad(format!("embedding {index} is neither numbers nor base64 of 32-bit floats"))
            })?,
        };
        match slots.get_mut(index) {
            Some(slot @ None) => *slot = Some(vector),
            Some(Some(_)) => return Err(bad(format!("embedding index {index} appears twice")).into()),
            None => {
                return Err(
                    bad(format!("embedding index {index} is out of range for {expected} text(s)")).into()
                );
            }
        }
    }
    let vectors = slots.into_iter().flatten().collect();
    let usage = answer.usage.and_then(|usage| {
        let input = usage.prompt_tokens?;
        Some(Usage {
            input_tokens: input,
            total_tokens: usage.total_tokens.unwrap_or(input),
            ..Usage::default()
        })
    });
    Ok(Batch { vectors, model: answer.model, usage })
}

/// Base64 of little-endian 32-bit floats, as OpenAI's `encoding_format: base64` sends them.
fn decode_base64(text: &str) -> Option<Vec<f32>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    if bytes.len() % 4 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn vectors_are_placed_by_index_and_base64_is_decoded() {
        let one = base64::engine::general_purpose::STANDARD
            .encode([1.5_f32, -2.0].iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>());
        let body = format!(
            r#"{{"data":[{{"index":1,"embedding":"{one}"}},{{"index":0,"embedding":[0.25,0.5]}}],"model":"m","usage":{{"prompt_tokens":3,"total_tokens":3}}}}"#
        );
        let Batch { vectors, model, usage } = parse_answer("l", body.as_bytes(), 2).unwrap();
        assert_eq!(vectors, vec![vec![0.25, 0.5], vec![1.5, -2.0]]);
        assert_eq!(model.as_deref(), Some("m"));
        assert_eq!(usage, Some(Usage::new(3, 0)));
    }

    #[test]
    fn bad_indexes_and_bad_base64_are_decode_errors() {
        for (body, says) in [
            (r#"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}"#, "appears twice"),
            (r#"{"data":[{"index":0,"embedding":[1]},{"index":7,"embedding":[2]}]}"#, "out of range"),
            (r#"{"data":[{"index":0,"embedding":"AAA"},{"index":1,"embedding":[2]}]}"#, "neither numbers"),
            (r#"{"object":"list"}"#, "no `data`"),
        ] {
            let Err(err) = parse_answer("l", body.as_bytes(), 2) else { panic!("{body} parsed") };
            let chat = err.chat_error().unwrap();
            assert_eq!(chat.kind(), ChatErrorKind::Decode, "{body}");
            assert!(err.to_string().contains(says), "{err}");
        }
    }
}
