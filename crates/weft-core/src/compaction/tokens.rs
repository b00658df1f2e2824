//! Counting the tokens of messages.

use std::borrow::Cow;

use crate::message::{Content, Message};

/// Tokens each message costs besides its contents (role and separators), as OpenAI's chat
/// format counts them.
pub const MESSAGE_OVERHEAD_TOKENS: usize = 4;

/// Counts tokens as a model would. Implement [`TokenCounter::count_text`]; the rest is derived.
pub trait TokenCounter: Send + Sync + std::fmt::Debug + 'static {
    /// The tokens of a piece of text.
    fn count_text(&self, text: &str) -> usize;

    /// The tokens of one message: its contents as the model reads them, plus
    /// [`MESSAGE_OVERHEAD_TOKENS`].
    fn count_message(&self, message: &Message) -> usize {
        MESSAGE_OVERHEAD_TOKENS
            + message.contents.iter().map(|content| self.count_text(&content_text(content))).sum::<usize>()
    }

    /// The tokens of a conversation.
    fn count_messages(&self, messages: &[Message]) -> usize {
        messages.iter().map(|message| self.count_message(message)).sum()
    }
}

/// The text a content stands for when its tokens are counted: text as is, a call as its name
/// and arguments, a result as the model is given it, anything else as its JSON.
pub fn content_text(content: &Content) -> Cow<'_, str> {
    match content {
        Content::Text { text } | Content::Reasoning { text, .. } => Cow::Borrowed(text),
        Content::FunctionCall(call) => Cow::Owned(format!("{} {}", call.name, call.arguments_text())),
        Content::FunctionResult(result) => Cow::Owned(result.to_model_text()),
        other => Cow::Owned(serde_json::to_string(other).unwrap_or_default()),
    }
}

/// An estimate for any model: a token per four bytes of text, rounded up (English text in
/// OpenAI's and Anthropic's tokenizers averages a little more than that). Use a real tokenizer
/// where one is known (`weft_history::tiktoken` for OpenAI models).
#[derive(Debug, Clone, Copy, Default)]
pub struct EstimatedTokenCounter;

impl TokenCounter for EstimatedTokenCounter {
    fn count_text(&self, text: &str) -> usize {
        text.len().div_ceil(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_counts_a_token_per_four_bytes_plus_the_message_overhead() {
        let counter = EstimatedTokenCounter;
        assert_eq!(counter.count_text(""), 0);
        assert_eq!(counter.count_text("abcd"), 1);
        assert_eq!(counter.count_text("abcde"), 2);
        let messages = [Message::user("abcdefgh"), Message::assistant("abcd")];
        assert_eq!(counter.count_messages(&messages), 2 + 1 + 2 * MESSAGE_OVERHEAD_TOKENS);
    }
}
