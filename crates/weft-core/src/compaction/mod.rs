//! Compaction: what of a long conversation is sent to the model.
//!
//! An agent given a [`CompactionStrategy`] ([`ChatAgentBuilder::compaction`](crate::agent::ChatAgentBuilder::compaction))
//! compacts the history before each run, so that the request stays bounded however long the
//! conversation grows. The strategies here:
//!
//! - [`KeepLastTurns`]: the last N turns;
//! - [`TokenBudget`]: the newest turns that fit a token budget, counted by a [`TokenCounter`]
//!   (an estimate by default; the crate `weft-history` has OpenAI's real tokenizer);
//! - [`Summarize`]: older turns replaced by one summary message, written by a model.
//!
//! The history is only ever cut at the start of a turn (a user message), never between a tool
//! call and its result nor between an approval request and its answer, and the newest turn is
//! always kept whole: pending approvals stay.
//!
//! A session that carries its messages is compacted in place. A session kept in a history
//! store keeps everything in the store; the session remembers the summary and where the
//! compacted part ends ([`HistoryRef`](crate::agent::session::HistoryRef)), and later runs
//! load only what follows.

mod strategies;
mod summarize;
mod tokens;

use async_trait::async_trait;

use crate::error::BoxError;
use crate::message::{Content, Message, Role};

pub use strategies::{KeepLastTurns, TokenBudget};
pub use summarize::{DEFAULT_SUMMARY_PROMPT, SUMMARY_PREFIX, Summarize};
pub use tokens::{EstimatedTokenCounter, MESSAGE_OVERHEAD_TOKENS, TokenCounter, content_text};

/// What a strategy knows of the run about to start.
#[derive(Debug, Clone, Copy)]
pub struct CompactionContext<'a> {
    /// The agent's name.
    pub agent_name: &'a str,
    /// The model the run asks for, when known.
    pub model: Option<&'a str>,
    /// The agent's instructions, sent before the history.
    pub instructions: Option<&'a str>,
    /// The run's new input, sent after the history.
    pub input: &'a [Message],
}

/// A strategy's decision: the history becomes `summary` (when given) followed by
/// `messages[keep_from..]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compacted {
    /// A message standing for the messages dropped (and any earlier summary).
    pub summary: Option<Message>,
    /// The first message kept: a turn start (see [`turn_starts`]), or 0 to keep everything.
    pub keep_from: usize,
}

impl Compacted {
    /// Keeps the history as it is.
    pub fn unchanged() -> Self {
        Self::default()
    }

    /// Whether this changes nothing.
    pub fn is_unchanged(&self) -> bool {
        self.summary.is_none() && self.keep_from == 0
    }

    /// The compacted history.
    pub fn apply(self, mut messages: Vec<Message>) -> Vec<Message> {
        let keep_from = self.keep_from.min(messages.len());
        let mut kept = Vec::with_capacity(messages.len() - keep_from + 1);
        kept.extend(self.summary);
        kept.extend(messages.drain(keep_from..));
        kept
    }
}

/// Chooses what of a history to send.
#[async_trait]
pub trait CompactionStrategy: Send + Sync + 'static {
    /// Decides how to compact `history` (oldest first, without the instructions and the new
    /// input). `keep_from` must be 0 or one of [`turn_starts`]`(history)`; the agent refuses
    /// anything else (it would separate a call from its result).
    async fn compact(
        &self,
        history: &[Message],
        context: CompactionContext<'_>,
    ) -> Result<Compacted, CompactionError>;
}

/// A compaction that failed (the summarizing model call, for example).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompactionError {
    /// The model asked to summarize failed.
    #[error("summarizing the older turns failed: {source}")]
    Summary {
        /// The model's error.
        #[source]
        source: crate::error::ChatError,
    },
    /// A strategy chose a cut that is not the start of a turn.
    #[error("the compaction strategy cut the history at message {keep_from}, which does not start a turn")]
    InvalidCut {
        /// The cut.
        keep_from: usize,
    },
    /// Another failure of a strategy.
    #[error("{0}")]
    Other(BoxError),
}

/// The positions where a turn starts and the history may be cut: a user message (other than
/// one that only answers approvals) such that no tool call before it has its result at or after
/// it, and no approval request before it has its answer at or after it (a result or an answer
/// whose call or request is missing, as at the start of a window, rules out every cut before
/// it). `history[i..]` is then a whole conversation for every `i` returned. Ascending.
pub fn turn_starts(history: &[Message]) -> Vec<usize> {
    use std::collections::HashMap;
    // Open spans (call → result, request → answer) as a difference array over positions: a
    // cut at `i` is unsafe when a span opened before `i` closes at or after `i`.
    let mut opened: HashMap<&str, usize> = HashMap::new();
    let mut requests: HashMap<&str, usize> = HashMap::new();
    let mut delta = vec![0i64; history.len() + 1];
    for (position, message) in history.iter().enumerate() {
        for content in &message.contents {
            match content {
                Content::FunctionCall(call) => {
                    opened.insert(call.call_id.as_str(), position);
                }
                Content::ApprovalRequest(request) => {
                    requests.insert(request.id.as_str(), position);
                }
                Content::FunctionResult(result) => {
                    // A result whose call is not here (a window that began after the call)
                    // spans everything before it: no cut may leave it first.
                    let start = opened.get(result.call_id.as_str()).map_or(0, |&call| call + 1);
                    delta[start] += 1;
                    delta[position + 1] -= 1;
                }
                Content::ApprovalResponse(response) => {
                    let start = requests.get(response.id.as_str()).map_or(0, |&request| request + 1);
                    delta[start] += 1;
                    delta[position + 1] -= 1;
                }
                _ => {}
            }
        }
    }
    let mut open = 0i64;
    let mut starts = Vec::new();
    for (position, message) in history.iter().enumerate() {
        open += delta[position];
        if open == 0 && is_turn_message(message) {
            starts.push(position);
        }
    }
    starts
}

fn is_turn_message(message: &Message) -> bool {
    message.role == Role::User
        && message.contents.iter().any(|content| !matches!(content, Content::ApprovalResponse(_)))
}

/// Checks a strategy's decision against the history.
pub(crate) fn check_cut(history: &[Message], compacted: &Compacted) -> Result<(), CompactionError> {
    if compacted.keep_from == 0 || turn_starts(history).binary_search(&compacted.keep_from).is_ok() {
        Ok(())
    } else {
        Err(CompactionError::InvalidCut { keep_from: compacted.keep_from })
    }
}
