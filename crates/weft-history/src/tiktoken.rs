//! OpenAI's tokenizers (`tiktoken-rs`) as [`TokenCounter`]s, for
//! [`TokenBudget`](weft_core::compaction::TokenBudget).

use std::sync::Arc;

use weft_core::compaction::{EstimatedTokenCounter, TokenCounter};

/// Counts tokens exactly as an OpenAI model's tokenizer does (`o200k_base` for GPT-4o and
/// later, `cl100k_base` for GPT-4 and GPT-3.5, …).
#[derive(Clone)]
pub struct TiktokenCounter {
    model: String,
    bpe: &'static tiktoken_rs::CoreBPE,
}

impl std::fmt::Debug for TiktokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TiktokenCounter").field("model", &self.model).finish()
    }
}

impl TiktokenCounter {
    /// The tokenizer of the OpenAI model `model` (e.g. `gpt-4o-mini`), or `None` when the model
    /// is not one tiktoken knows.
    pub fn for_model(model: &str) -> Option<Self> {
        let bpe = tiktoken_rs::bpe_for_model(model).ok()?;
        Some(Self { model: model.to_string(), bpe })
    }
}

impl TokenCounter for TiktokenCounter {
    fn count_text(&self, text: &str) -> usize {
        self.bpe.encode_with_special_tokens(text).len()
    }
}

/// The real tokenizer for an OpenAI model, the estimate ([`EstimatedTokenCounter`]) for any
/// other.
pub fn counter_for_model(model: &str) -> Arc<dyn TokenCounter> {
    match TiktokenCounter::for_model(model) {
        Some(counter) => Arc::new(counter),
        None => Arc::new(EstimatedTokenCounter),
    }
}
