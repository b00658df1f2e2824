//! Embeddings over InvokeModel (`POST {endpoint}/model/{modelId}/invoke`): Amazon Titan Text
//! Embeddings (one text a request) and Cohere Embed (batches).

use std::borrow::Cow;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use weft_core::{
    ChatError, ChatErrorKind, ClientInfo, EmbeddingClient, EmbeddingError, EmbeddingOptions, Embeddings,
    Usage,
};
use weft_provider::Request;
use weft_provider::error::{decode_error, encode_error};

use crate::config::Bedrock;

/// Titan's default model, Titan Text Embeddings V2.
pub const TITAN_EMBED_TEXT_V2: &str = "amazon.titan-embed-text-v2:0";
/// How many texts Cohere Embed takes in one request.
pub const COHERE_MAX_BATCH: usize = 96;
/// How many requests of one call are in flight at once unless
/// [`BedrockEmbeddingClient::max_concurrent_requests`] says otherwise.
pub const DEFAULT_CONCURRENT_REQUESTS: usize = 4;

/// The request shape a model id takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `amazon.titan-embed-*`: `{"inputText", "dimensions", "normalize"}`, one text a request.
    Titan,
    /// `cohere.embed-*`: `{"texts": [...], "input_type"}`, up to 96 texts a request.
    Cohere,
}

fn family(model: &str) -> Option<Family> {
    if model.contains("amazon.titan-embed") {
        Some(Family::Titan)
    } else if model.contains("cohere.embed") {
        Some(Family::Cohere)
    } else {
        None
    }
}

/// An [`EmbeddingClient`] for Bedrock's embedding models, made by [`Bedrock::embeddings`]:
/// Titan Text Embeddings (`amazon.titan-embed-text-v2:0`, `…-v1`), sent one text per request
/// with up to [`max_concurrent_requests`](Self::max_concurrent_requests) in flight, and Cohere
/// Embed (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`, `cohere.embed-v4:0`), sent
/// in batches of [`COHERE_MAX_BATCH`]. The vectors come back in the inputs' order, the usage
/// summed (Titan reports its input tokens; Cohere reports none). It shares the handle's
/// signing, deadlines, retries and size limit with the Converse client.
#[derive(Debug, Clone)]
pub struct BedrockEmbeddingClient {
    bedrock: Bedrock,
    model: String,
    dimensions: Option<u32>,
    normalize: bool,
    input_type: String,
    max_concurrent_requests: usize,
}

impl Bedrock {
    /// An embedding client for `model` (e.g. [`TITAN_EMBED_TEXT_V2`] or
    /// `cohere.embed-english-v3`); a call's [`EmbeddingOptions::model`] overrides it.
    pub fn embeddings(&self, model: impl Into<String>) -> BedrockEmbeddingClient {
        BedrockEmbeddingClient {
            bedrock: self.clone(),
            model: model.into(),
            dimensions: None,
            normalize: true,
            input_type: "search_document".to_string(),
            max_concurrent_requests: DEFAULT_CONCURRENT_REQUESTS,
        }
    }
}

impl BedrockEmbeddingClient {
    /// The size of the vectors when a call's options name none (Titan V2: 256, 512 or 1024;
    /// Cohere v4: 256, 512, 1024 or 1536, sent as `output_dimension`).
    pub fn dimensions(mut self, dimensions: u32) -> Self {
        self.dimensions = Some(dimensions);
        self
    }

    /// Whether Titan V2 normalizes its vectors (default true).
    pub fn normalize(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }

    /// Cohere's `input_type` (default `search_document`; `search_query` for queries,
    /// `classification`, `clustering`).
    pub fn input_type(mut self, input_type: impl Into<String>) -> Self {
        self.input_type = input_type.into();
        self
    }

    /// How many requests of one call may be in flight at once (default
    /// [`DEFAULT_CONCURRENT_REQUESTS`], at least 1). They run on the caller's task: dropping
    /// the call cancels them all.
    pub fn max_concurrent_requests(mut self, count: usize) -> Self {
        self.max_concurrent_requests = count.max(1);
        self
    }

    /// The model used when a call's options name none.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The body of one request.
    fn body(&self, family: Family, dimensions: Option<u32>, inputs: &[String]) -> Value {
        match family {
            Family::Titan => {
                let mut body = json!({"inputText": inputs.first().map(String::as_str).unwrap_or("")});
                // V1 takes the text alone.
                if dimensions.is_some() || !self.normalize {
                    body["normalize"] = json!(self.normalize);
                }
                if let Some(dimensions) = dimensions {
                    body["dimensions"] = json!(dimensions);
                }
                body
            }
            Family::Cohere => {
                let mut body = json!({"texts": inputs, "input_type": self.input_type});
                if let Some(dimensions) = dimensions {
                    body["output_dimension"] = json!(dimensions);
                }
                body
            }
        }
    }

    /// Sends one request and decodes its answer.
    async fn send(
        &self,
        model: &str,
        family: Family,
        dimensions: Option<u32>,
        inputs: &[String],
    ) -> Result<(Vec<Vec<f32>>, Option<Usage>), EmbeddingError> {
        let inner = &self.bedrock.inner;
        let label = inner.label.as_str();
        let (url, shown_url) = inner.model_url(model, "invoke")?;
        let body = serde_json::to_vec(&self.body(family, dimensions, inputs))
            .map_err(|err| encode_error(label, err))?;
        let request = Request {
            label,
            url,
            shown_url: Cow::Owned(shown_url),
            headers: &inner.json_headers,
            body: Bytes::from(body),
        };
        let answer = inner.driver.fetch(&request).await?;
        let decoded = match family {
            Family::Titan => serde_json::from_slice::<TitanAnswer>(&answer).map(|answer| {
                let usage = answer.input_text_token_count.map(|tokens| Usage::new(tokens, 0));
                (vec![answer.embedding], usage)
            }),
            Family::Cohere => serde_json::from_slice::<CohereAnswer>(&answer).map(|answer| {
                let vectors = match answer.embeddings {
                    CohereEmbeddings::Floats(vectors) => vectors,
                    CohereEmbeddings::ByType { float } => float,
                };
                (vectors, None)
            }),
        };
        let (vectors, usage) = decoded
            .map_err(|err| inner.driver.redact(decode_error(label, "the embeddings", err, &answer)))?;
        if vectors.len() != inputs.len() {
            return Err(EmbeddingError::CountMismatch {
                provider: label.to_string(),
                expected: inputs.len(),
                actual: vectors.len(),
            });
        }
        Ok((vectors, usage))
    }
}

#[async_trait]
impl EmbeddingClient for BedrockEmbeddingClient {
    async fn embed(
        &self,
        inputs: Vec<String>,
        options: EmbeddingOptions,
    ) -> Result<Embeddings, EmbeddingError> {
        let label = self.bedrock.inner.label.as_str();
        let requested = options.model.as_deref().map(str::trim).filter(|model| !model.is_empty());
        let model = requested.unwrap_or(self.model.trim());
        let Some(family) = family(model) else {
            return Err(ChatError::new(
                ChatErrorKind::Configuration,
                format!(
                    "{model:?} is not an embedding model Weft knows on Bedrock: use Amazon Titan Text \
                     Embeddings ({TITAN_EMBED_TEXT_V2}) or Cohere Embed (cohere.embed-english-v3 …)"
                ),
            )
            .with_provider(label)
            .into());
        };
        let dimensions = options.dimensions.or(self.dimensions);
        if inputs.is_empty() {
            return Ok(Embeddings { vectors: Vec::new(), model: model.to_string(), usage: None });
        }
        let size = match family {
            Family::Titan => 1,
            Family::Cohere => COHERE_MAX_BATCH,
        };
        // Made before the stream, so that the call's future stays `Send`.
        let pending: Vec<_> =
            inputs.chunks(size).map(|batch| self.send(model, family, dimensions, batch)).collect();
        let answers: Vec<_> =
            futures::stream::iter(pending).buffered(self.max_concurrent_requests).try_collect().await?;
        let mut answer = weft_provider::embeddings::answer(model, inputs.len());
        for (vectors, usage) in answers {
            weft_provider::embeddings::add_batch(&mut answer, vectors, usage);
        }
        weft_provider::embeddings::check_dimensions(&answer, dimensions, label)?;
        Ok(answer)
    }

    fn info(&self) -> ClientInfo {
        ClientInfo {
            provider: "bedrock".to_string(),
            default_model: Some(self.model.clone()),
            endpoint: Some(self.bedrock.endpoint().to_string()),
        }
    }
}

/// Titan's answer: `{"embedding": [...], "inputTextTokenCount": n}` (V2 adds
/// `embeddingsByType`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanAnswer {
    embedding: Vec<f32>,
    #[serde(default)]
    input_text_token_count: Option<u64>,
}

/// Cohere's answer: `{"embeddings": [[...]], "id", "response_type": "embeddings_floats",
/// "texts"}`, or with `embedding_types` `{"embeddings": {"float": [[...]]}}`.
#[derive(Deserialize)]
struct CohereAnswer {
    embeddings: CohereEmbeddings,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CohereEmbeddings {
    Floats(Vec<Vec<f32>>),
    ByType { float: Vec<Vec<f32>> },
}
