//! [`Summarize`]: older turns replaced by one summary message written by a model.

use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;

use super::tokens::content_text;
use super::{Compacted, CompactionContext, CompactionError, CompactionStrategy, turn_starts};
use crate::client::{ChatClient, ChatRequest};
use crate::message::{Content, Message, Role};
use crate::options::ChatOptions;

/// The instructions the summarizing model is given.
pub const DEFAULT_SUMMARY_PROMPT: &str = "Summarize the conversation below for the assistant who \
    continues it: the facts the user gave, decisions made, tool results that still matter and \
    open questions. Be brief; write only the summary.";

/// How a summary message begins (it is a system message after the agent's instructions).
pub const SUMMARY_PREFIX: &str = "Summary of the earlier conversation:\n";

/// When the history has more than `max_turns` turns, replaces all but the last
/// `keep_last_turns` (and any earlier summary) by one summary message that a model writes. The
/// model is called only then, so most runs cost nothing more; the summary is capped at
/// `max_summary_chars` so that a verbose model cannot make it grow.
#[derive(Clone)]
pub struct Summarize {
    client: Arc<dyn ChatClient>,
    options: ChatOptions,
    prompt: String,
    keep_last_turns: usize,
    max_turns: usize,
    max_summary_chars: usize,
}

impl std::fmt::Debug for Summarize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Summarize")
            .field("keep_last_turns", &self.keep_last_turns)
            .field("max_turns", &self.max_turns)
            .finish()
    }
}

impl Summarize {
    /// Summarizes with `client` (a small, cheap model does): keeps the last 4 turns, summarizes
    /// when there are more than 8, caps summaries at 4,000 characters.
    pub fn new(client: Arc<dyn ChatClient>) -> Self {
        Self {
            client,
            options: ChatOptions::default(),
            prompt: DEFAULT_SUMMARY_PROMPT.into(),
            keep_last_turns: 4,
            max_turns: 8,
            max_summary_chars: 4_000,
        }
    }

    /// How many of the newest turns stay as they are (at least 1).
    pub fn keep_last_turns(mut self, turns: usize) -> Self {
        self.keep_last_turns = turns.max(1);
        self.max_turns = self.max_turns.max(self.keep_last_turns);
        self
    }

    /// Summarizes once the history has more than `turns` turns (at least `keep_last_turns`).
    pub fn max_turns(mut self, turns: usize) -> Self {
        self.max_turns = turns.max(self.keep_last_turns);
        self
    }

    /// The summarizing model's instructions (default [`DEFAULT_SUMMARY_PROMPT`]).
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = prompt.into();
        self
    }

    /// Options of the summarizing call (its model, for example).
    pub fn options(mut self, options: ChatOptions) -> Self {
        self.options = options;
        self
    }

    /// The longest summary kept, in characters (longer ones are cut).
    pub fn max_summary_chars(mut self, chars: usize) -> Self {
        self.max_summary_chars = chars;
        self
    }
}

/// The conversation as plain text for the summarizing model.
fn transcript(messages: &[Message]) -> String {
    let mut text = String::new();
    for message in messages {
        for content in &message.contents {
            let line = match content {
                Content::FunctionCall(call) => format!("called {}({})", call.name, call.arguments_text()),
                Content::FunctionResult(result) => format!("result: {}", result.to_model_text()),
                Content::Text { .. } => content_text(content).into_owned(),
                _ => continue,
            };
            let _ = writeln!(text, "{}: {line}", message.role);
        }
    }
    text
}

#[async_trait]
impl CompactionStrategy for Summarize {
    async fn compact(
        &self,
        history: &[Message],
        _context: CompactionContext<'_>,
    ) -> Result<Compacted, CompactionError> {
        let starts = turn_starts(history);
        if starts.len() <= self.max_turns {
            return Ok(Compacted::unchanged());
        }
        let keep_from = starts[starts.len() - self.keep_last_turns];
        let request = ChatRequest::new(
            vec![Message::system(self.prompt.clone()), Message::user(transcript(&history[..keep_from]))],
            self.options.clone(),
        );
        let response =
            self.client.get_response(request).await.map_err(|source| CompactionError::Summary { source })?;
        let text = response.text_content();
        let summary: String = text.trim().chars().take(self.max_summary_chars).collect();
        Ok(Compacted {
            summary: Some(Message::new(
                Role::System,
                vec![Content::text(format!("{SUMMARY_PREFIX}{summary}"))],
            )),
            keep_from,
        })
    }
}
