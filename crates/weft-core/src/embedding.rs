//! Embeddings: texts turned into vectors by a model, for search, clustering and retrieval.
//!
//! [`EmbeddingClient`] is the provider-neutral trait (hold it as `Arc<dyn EmbeddingClient>`):
//! one call embeds a batch of texts and answers one vector per text, in the inputs' order, with
//! the model that made them and the tokens it read. Providers split batches larger than they
//! take and put the answers back together; a provider that answers with a different number of
//! vectors, or vectors of another size than asked, fails with a typed [`EmbeddingError`].
//!
//! [`ScriptedEmbeddingClient`] runs offline and is deterministic, for tests and examples: it
//! hashes words into a fixed-size vector. It is **not semantic** (texts are close only when they
//! share words).

use std::sync::Arc;

use async_trait::async_trait;

use crate::client::ClientInfo;
use crate::error::ChatError;
use crate::message::Usage;

/// Options of one embedding call. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbeddingOptions {
    /// The model (or, on Azure OpenAI, the deployment); the client's own when `None`.
    pub model: Option<String>,
    /// The size of the vectors, for models that can shorten theirs (OpenAI's
    /// `text-embedding-3-*`); the model's own size when `None`.
    pub dimensions: Option<u32>,
}

impl EmbeddingOptions {
    /// Options naming `model`.
    pub fn with_model(model: impl Into<String>) -> Self {
        Self { model: Some(model.into()), ..Self::default() }
    }

    /// These options, asking for vectors of `dimensions` numbers.
    pub fn dimensions(mut self, dimensions: u32) -> Self {
        self.dimensions = Some(dimensions);
        self
    }
}

/// The answer to one embedding call: one vector per input, in the inputs' order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embeddings {
    /// One vector per input, in the inputs' order.
    pub vectors: Vec<Vec<f32>>,
    /// The model that made them, as the provider named it.
    pub model: String,
    /// The tokens read (`input_tokens`; embeddings generate none), summed over every request
    /// of the call; `None` when the provider reported none.
    pub usage: Option<Usage>,
}

impl Embeddings {
    /// How many vectors there are (as many as inputs).
    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    /// Whether there are none (the call had no inputs).
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// The size of the vectors (all have the same); `None` when there are none.
    pub fn dimensions(&self) -> Option<usize> {
        self.vectors.first().map(Vec::len)
    }
}

/// Why an embedding call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddingError {
    /// The provider call failed: the same categories as a chat call (authentication, rate
    /// limit with `retry_after()`, bad request, server, network, timeout, decode, response too
    /// large, configuration …).
    #[error(transparent)]
    Provider(#[from] ChatError),
    /// The provider answered a batch with a different number of vectors than it was sent
    /// texts, so the vectors cannot be matched to their texts.
    #[error("{provider}: sent {expected} text(s), got {actual} embedding(s) back")]
    CountMismatch {
        /// The provider or endpoint.
        provider: String,
        /// How many texts were sent.
        expected: usize,
        /// How many vectors came back.
        actual: usize,
    },
    /// A vector has another size than asked for with
    /// [`EmbeddingOptions::dimensions`] (the server ignored the option), or than the other
    /// vectors of the answer.
    #[error(
        "{provider}: embedding {index} has {actual} dimensions, expected {expected} \
         (a server that cannot shorten its vectors ignores `dimensions`)"
    )]
    DimensionMismatch {
        /// The provider or endpoint.
        provider: String,
        /// The input whose vector is off.
        index: usize,
        /// The size asked for (or that of the first vector).
        expected: usize,
        /// The size it has.
        actual: usize,
    },
}

impl EmbeddingError {
    /// The provider's error, when the call failed there.
    pub fn chat_error(&self) -> Option<&ChatError> {
        match self {
            EmbeddingError::Provider(err) => Some(err),
            _ => None,
        }
    }

    /// Whether sending the same call again may succeed: [`ChatError::is_retryable`] for a
    /// provider error; a malformed answer is not.
    pub fn is_retryable(&self) -> bool {
        self.chat_error().is_some_and(ChatError::is_retryable)
    }
}

/// A model that turns texts into vectors. Object safe: hold it as `Arc<dyn EmbeddingClient>`.
#[async_trait]
pub trait EmbeddingClient: Send + Sync + 'static {
    /// Embeds `inputs`: one vector per input, in their order (none for no inputs). A provider
    /// sends a large batch in several requests and sums their usage.
    async fn embed(
        &self,
        inputs: Vec<String>,
        options: EmbeddingOptions,
    ) -> Result<Embeddings, EmbeddingError>;

    /// Provider name, default model and endpoint.
    fn info(&self) -> ClientInfo;
}

#[async_trait]
impl<C: EmbeddingClient + ?Sized> EmbeddingClient for Arc<C> {
    async fn embed(
        &self,
        inputs: Vec<String>,
        options: EmbeddingOptions,
    ) -> Result<Embeddings, EmbeddingError> {
        (**self).embed(inputs, options).await
    }

    fn info(&self) -> ClientInfo {
        (**self).info()
    }
}

/// The cosine similarity of two vectors, from -1 to 1 (0 when either is all zeros or their
/// sizes differ).
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let norms = norm(a) * norm(b);
    if norms == 0.0 { 0.0 } else { dot / norms }
}

/// The default size of [`ScriptedEmbeddingClient`]'s vectors.
pub const SCRIPTED_EMBEDDING_DIMENSIONS: u32 = 64;

/// An offline, deterministic embedding model for tests and examples. **Not semantic**: each
/// lower-cased word (a run of letters and digits) is hashed (FNV-1a, stable across platforms
/// and releases) to one position of the vector and a sign, the counts are summed and the vector
/// is scaled to length 1 ("feature hashing"). Texts sharing words are close; synonyms are not.
/// The same text always gets the same vector; a text without words gets all zeros.
///
/// The vectors have [`SCRIPTED_EMBEDDING_DIMENSIONS`] numbers unless the client or the
/// call's [`EmbeddingOptions::dimensions`] says otherwise; usage counts one input token per
/// word; the model is `scripted-embedding`.
#[derive(Debug, Clone)]
pub struct ScriptedEmbeddingClient {
    dimensions: u32,
}

impl Default for ScriptedEmbeddingClient {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptedEmbeddingClient {
    /// The model name it reports.
    pub const MODEL: &'static str = "scripted-embedding";

    /// A client making vectors of [`SCRIPTED_EMBEDDING_DIMENSIONS`] numbers.
    pub fn new() -> Self {
        Self { dimensions: SCRIPTED_EMBEDDING_DIMENSIONS }
    }

    /// A client making vectors of `dimensions` numbers (at least 1).
    pub fn with_dimensions(dimensions: u32) -> Self {
        Self { dimensions: dimensions.max(1) }
    }

    /// The vector of one text, `dimensions` long, and its word count.
    fn vector(text: &str, dimensions: usize) -> (Vec<f32>, u64) {
        let mut vector = vec![0.0_f32; dimensions];
        let mut words = 0;
        for word in text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()) {
            words += 1;
            let hash = fnv1a(word.to_lowercase().as_bytes());
            let slot = usize::try_from(hash % dimensions as u64).unwrap_or(0);
            let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
            if let Some(value) = vector.get_mut(slot) {
                *value += sign;
            }
        }
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.iter_mut().for_each(|x| *x /= norm);
        }
        (vector, words)
    }
}

/// The 64-bit FNV-1a hash: tiny and stable, unlike std's `DefaultHasher`, whose output may
/// change between Rust releases (the scripted vectors must not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[async_trait]
impl EmbeddingClient for ScriptedEmbeddingClient {
    async fn embed(
        &self,
        inputs: Vec<String>,
        options: EmbeddingOptions,
    ) -> Result<Embeddings, EmbeddingError> {
        let dimensions = options.dimensions.unwrap_or(self.dimensions).max(1) as usize;
        let mut tokens = 0;
        let vectors = inputs
            .iter()
            .map(|input| {
                let (vector, words) = Self::vector(input, dimensions);
                tokens += words;
                vector
            })
            .collect();
        let model = options.model.unwrap_or_else(|| Self::MODEL.to_string());
        Ok(Embeddings { vectors, model, usage: Some(Usage::new(tokens, 0)) })
    }

    fn info(&self) -> ClientInfo {
        ClientInfo { provider: "scripted".into(), default_model: Some(Self::MODEL.into()), endpoint: None }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn embed(client: &dyn EmbeddingClient, inputs: &[&str], options: EmbeddingOptions) -> Embeddings {
        client.embed(inputs.iter().map(|s| s.to_string()).collect(), options).await.unwrap()
    }

    #[tokio::test]
    async fn scripted_vectors_are_deterministic_normalized_and_lexical() {
        let client: Arc<dyn EmbeddingClient> = Arc::new(ScriptedEmbeddingClient::new());
        let texts =
            ["Paris weather is sunny", "the weather in Paris", "Rust borrow checker", "", "paris WEATHER"];
        let first = embed(&*client, &texts, EmbeddingOptions::default()).await;
        let again = embed(&*client, &texts, EmbeddingOptions::default()).await;
        assert_eq!(first, again);
        assert_eq!(first.len(), 5);
        assert_eq!(first.dimensions(), Some(64));
        assert_eq!(first.model, "scripted-embedding");
        assert_eq!(first.usage, Some(Usage::new(4 + 4 + 3 + 2, 0)));
        let length = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((length(&first.vectors[0]) - 1.0).abs() < 1e-5);
        assert!(first.vectors[3].iter().all(|x| *x == 0.0), "no words, no direction");
        let close = cosine_similarity(&first.vectors[0], &first.vectors[1]);
        let far = cosine_similarity(&first.vectors[0], &first.vectors[2]);
        assert!(close > far, "{close} <= {far}");
        assert_ne!(first.vectors[0], first.vectors[1]);
        // Case does not matter.
        let same = embed(&*client, &["Paris weather"], EmbeddingOptions::default()).await;
        assert_eq!(same.vectors[0], first.vectors[4]);
    }

    #[tokio::test]
    async fn options_set_the_size_and_the_model() {
        let client = ScriptedEmbeddingClient::with_dimensions(8);
        let answer = embed(&client, &["a b"], EmbeddingOptions::with_model("m").dimensions(16)).await;
        assert_eq!((answer.dimensions(), answer.model.as_str()), (Some(16), "m"));
        assert_eq!(embed(&client, &["a"], EmbeddingOptions::default()).await.dimensions(), Some(8));
        assert!(embed(&client, &[], EmbeddingOptions::default()).await.is_empty());
        assert_eq!(client.info().provider, "scripted");
    }

    #[test]
    fn cosine_similarity_handles_zero_and_mismatched_vectors() {
        assert_eq!(cosine_similarity(&[1.0, 0.0], &[0.0, 0.0]), 0.0);
        assert_eq!(cosine_similarity(&[1.0], &[1.0, 2.0]), 0.0);
        assert!((cosine_similarity(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-6);
        assert!((cosine_similarity(&[1.0, 0.0], &[-1.0, 0.0]) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn errors_say_what_came_back_and_whether_to_retry() {
        let err = EmbeddingError::CountMismatch { provider: "p".into(), expected: 3, actual: 2 };
        assert_eq!(err.to_string(), "p: sent 3 text(s), got 2 embedding(s) back");
        assert!(!err.is_retryable());
        let err = EmbeddingError::from(ChatError::new(crate::ChatErrorKind::RateLimit, "slow down"));
        assert!(err.is_retryable());
        assert!(err.chat_error().is_some_and(ChatError::is_rate_limit));
    }
}
