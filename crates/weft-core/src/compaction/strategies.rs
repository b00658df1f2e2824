//! The strategies that drop older turns: [`KeepLastTurns`] and [`TokenBudget`].

use std::sync::Arc;

use async_trait::async_trait;

use super::tokens::{EstimatedTokenCounter, TokenCounter};
use super::{Compacted, CompactionContext, CompactionError, CompactionStrategy, turn_starts};
use crate::message::Message;

/// Keeps the last `turns` turns (a turn is a user message and everything up to the next one);
/// drops the older ones, and any earlier summary.
#[derive(Debug, Clone, Copy)]
pub struct KeepLastTurns {
    turns: usize,
}

impl KeepLastTurns {
    /// Keeps the last `turns` turns (at least 1).
    pub fn new(turns: usize) -> Self {
        Self { turns: turns.max(1) }
    }
}

#[async_trait]
impl CompactionStrategy for KeepLastTurns {
    async fn compact(
        &self,
        history: &[Message],
        _context: CompactionContext<'_>,
    ) -> Result<Compacted, CompactionError> {
        let starts = turn_starts(history);
        Ok(match starts.len().checked_sub(self.turns) {
            Some(first) if starts[first] > 0 => Compacted { summary: None, keep_from: starts[first] },
            _ => Compacted::unchanged(),
        })
    }
}

/// Keeps the newest turns whose tokens, with the instructions and the run's input, fit in
/// `max_tokens`; drops the older ones. The newest turn is kept even when it alone is over.
///
/// Tokens are counted by a [`TokenCounter`]: [`EstimatedTokenCounter`] by default; give a real
/// tokenizer with [`TokenBudget::with_counter`] (the crate `weft-history`, feature `tiktoken`,
/// has OpenAI's). Leave room in `max_tokens` for the answer and the tool definitions.
#[derive(Debug, Clone)]
pub struct TokenBudget {
    max_tokens: usize,
    counter: Arc<dyn TokenCounter>,
}

impl TokenBudget {
    /// A budget of `max_tokens` for the instructions, the history and the new input, counted
    /// with [`EstimatedTokenCounter`].
    pub fn new(max_tokens: usize) -> Self {
        Self { max_tokens, counter: Arc::new(EstimatedTokenCounter) }
    }

    /// Counts with `counter` instead.
    pub fn with_counter(mut self, counter: Arc<dyn TokenCounter>) -> Self {
        self.counter = counter;
        self
    }
}

#[async_trait]
impl CompactionStrategy for TokenBudget {
    async fn compact(
        &self,
        history: &[Message],
        context: CompactionContext<'_>,
    ) -> Result<Compacted, CompactionError> {
        let fixed = context.instructions.map_or(0, |text| self.counter.count_message(&Message::system(text)))
            + self.counter.count_messages(context.input);
        let budget = self.max_tokens.saturating_sub(fixed);
        // Tokens from each position to the end.
        let mut suffix = vec![0usize; history.len() + 1];
        for (position, message) in history.iter().enumerate().rev() {
            suffix[position] = suffix[position + 1] + self.counter.count_message(message);
        }
        if suffix[0] <= budget {
            return Ok(Compacted::unchanged());
        }
        let starts = turn_starts(history);
        let Some(&newest) = starts.last() else { return Ok(Compacted::unchanged()) };
        let keep_from = starts.iter().copied().find(|&start| suffix[start] <= budget).unwrap_or(newest);
        Ok(Compacted { summary: None, keep_from })
    }
}
