//! A chat client that plays back a given list of responses, for tests.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::client::{ChatClient, ChatRequest, ChatStream, ClientInfo};
use crate::error::{ChatError, ChatErrorKind};
use crate::message::{Content, Role};
use crate::response::{ChatResponse, ChatResponseUpdate};

/// Plays back responses in order, one per call, and records every request it was given.
/// Streaming calls stream each text word by word, like a real model. A call after the last
/// response fails with an error saying so.
#[derive(Debug, Default)]
pub struct ReplayClient {
    responses: Mutex<VecDeque<Result<ChatResponse, ChatError>>>,
    requests: Mutex<Vec<ChatRequest>>,
}

impl ReplayClient {
    /// A client that answers with `responses`, in order.
    pub fn new(responses: impl IntoIterator<Item = ChatResponse>) -> Self {
        Self::with_results(responses.into_iter().map(Ok))
    }

    /// A client that answers with these results, errors included, in order.
    pub fn with_results(results: impl IntoIterator<Item = Result<ChatResponse, ChatError>>) -> Self {
        Self { responses: Mutex::new(results.into_iter().collect()), requests: Mutex::new(Vec::new()) }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// How many responses are left.
    pub fn remaining(&self) -> usize {
        self.responses.lock().map(|r| r.len()).unwrap_or(0)
    }

    fn next(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request);
        }
        let next = self.responses.lock().ok().and_then(|mut r| r.pop_front());
        next.unwrap_or_else(|| {
            Err(ChatError::new(ChatErrorKind::Other, "the replay client has no more responses")
                .with_provider("replay"))
        })
    }
}

#[async_trait]
impl ChatClient for ReplayClient {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        self.next(request)
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        let updates = match self.next(request) {
            Ok(response) => stream_updates(response).into_iter().map(Ok).collect(),
            Err(error) => vec![Err(error)],
        };
        Box::pin(futures::stream::iter(updates))
    }

    fn info(&self) -> ClientInfo {
        ClientInfo { provider: "replay".into(), default_model: Some("replay".into()), endpoint: None }
    }
}

/// Splits a response into the updates a streaming model would send: each text word by word,
/// every other content whole, then usage and the finish reason.
pub(crate) fn stream_updates(response: ChatResponse) -> Vec<ChatResponseUpdate> {
    let mut updates = Vec::new();
    let response_id = response.response_id.clone();
    for (index, message) in response.messages.into_iter().enumerate() {
        let message_id = Some(format!("msg_{index}"));
        let base = ChatResponseUpdate {
            role: Some(message.role),
            author_name: message.author_name.clone(),
            message_id: message_id.clone(),
            response_id: response_id.clone(),
            model: response.model.clone(),
            ..Default::default()
        };
        for content in message.contents {
            match content {
                Content::Text { text } => {
                    for word in split_words(&text) {
                        updates
                            .push(ChatResponseUpdate { contents: vec![Content::text(word)], ..base.clone() });
                    }
                }
                other => updates.push(ChatResponseUpdate { contents: vec![other], ..base.clone() }),
            }
        }
    }
    let mut last = ChatResponseUpdate {
        role: Some(Role::Assistant),
        response_id,
        finish_reason: response.finish_reason,
        ..Default::default()
    };
    if let Some(usage) = response.usage {
        last.contents.push(Content::Usage(usage));
    }
    updates.push(last);
    updates
}

/// Splits text into pieces that each end after a run of spaces, so that joining them gives the
/// text back.
fn split_words(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (index, ch) in text.char_indices() {
        if ch == ' ' {
            in_space = true;
        } else if in_space {
            pieces.push(&text[start..index]);
            start = index;
            in_space = false;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::fold_updates;

    #[test]
    fn split_words_round_trips() {
        for text in ["hello world", "a  b ", " lead", "", "one"] {
            assert_eq!(split_words(text).concat(), text);
        }
        assert_eq!(split_words("a b c"), vec!["a ", "b ", "c"]);
    }

    #[test]
    fn streamed_updates_fold_back() {
        let response = ChatResponse {
            usage: Some(crate::message::Usage::new(3, 4)),
            ..ChatResponse::text("the quick brown fox")
        };
        let folded = fold_updates(stream_updates(response.clone()));
        assert_eq!(folded.text_content(), "the quick brown fox");
        assert_eq!(folded.usage, response.usage);
        assert_eq!(folded.finish_reason, response.finish_reason);
        assert_eq!(folded.messages.len(), 1);
    }
}
