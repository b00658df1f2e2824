//! Sending one request: headers, per-attempt deadlines, error mapping and retries.

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use std::pin::Pin;
use tokio::time::{Instant, timeout_at};

use futures::Stream;
use weft_core::{ChatError, ChatErrorKind, ChatOptions, ChatRequest, Message};

use crate::config::Inner;
use crate::error::{status_error, timeout_error, transport_error};
use crate::retry::RetryPolicy;

/// Which OpenAI API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `POST /chat/completions`.
    Chat,
    /// `POST /responses`.
    Responses,
}

/// Builds an API's request body from the messages, the options, the model and whether to stream.
pub(crate) type BodyBuilder = fn(&[Message], &ChatOptions, &str, bool) -> Value;

/// A request ready to send: how errors name the endpoint, where it goes, and its body.
pub(crate) struct Prepared {
    pub(crate) label: String,
    pub(crate) url: String,
    pub(crate) body: Value,
}

/// The events of a streamed answer.
pub(crate) type EventStream = Pin<Box<dyn Stream<Item = Result<crate::sse::Event, ChatError>> + Send>>;

/// What a streaming request got back.
pub(crate) enum Opened {
    /// The server ignored `stream: true` and answered in one piece.
    Whole(Bytes),
    /// Server-sent events.
    Events(EventStream),
}

/// A successful answer's head, and the deadline of the attempt that got it.
pub(crate) struct Sent {
    pub(crate) response: reqwest::Response,
    pub(crate) deadline: Instant,
}

impl Inner {
    /// Names the endpoint on errors: `openai chat http://127.0.0.1:8089/v1`.
    pub(crate) fn label(&self, api: Api) -> String {
        let provider = if self.azure.is_some() { "azure.ai.openai" } else { "openai" };
        let api = match api {
            Api::Chat => "chat",
            Api::Responses => "responses",
        };
        format!("{provider} {api} {}", self.base_url)
    }

    /// The URL a request goes to; `model` names the Azure deployment.
    pub(crate) fn url(&self, api: Api, model: &str) -> String {
        match (&self.azure, api) {
            (None, Api::Chat) => format!("{}/chat/completions", self.base_url),
            (None, Api::Responses) => format!("{}/responses", self.base_url),
            (Some(azure), Api::Chat) => {
                let mut url = format!("{}/openai/deployments/", azure.endpoint);
                url.push_str(&url_encode(model));
                url.push_str("/chat/completions?api-version=");
                url.push_str(&url_encode(&azure.api_version));
                url
            }
            (Some(azure), Api::Responses) => format!("{}/openai/v1/responses", azure.endpoint),
        }
    }

    /// Resolves the model, the URL and the body of `request` for `api`.
    pub(crate) fn prepare(
        &self,
        api: Api,
        request: &ChatRequest,
        stream: bool,
        build: BodyBuilder,
    ) -> Result<Prepared, ChatError> {
        let label = self.label(api);
        let model = self.resolve_model(request.options.model.as_deref(), &label)?;
        let url = self.url(api, &model);
        let body = build(&request.messages, &self.wire_options(&request.options), &model, stream);
        Ok(Prepared { label, url, body })
    }

    /// Sends a non-streaming request and reads its whole answer.
    pub(crate) async fn fetch(&self, prepared: &Prepared) -> Result<Bytes, ChatError> {
        let sent = self.send(&prepared.label, &prepared.url, &prepared.body, false).await?;
        self.read_body(&prepared.label, &prepared.url, sent).await
    }

    /// Sends a streaming request: its events, or the whole answer of a server that ignored
    /// `stream: true`.
    pub(crate) async fn open_stream(&self, prepared: &Prepared) -> Result<Opened, ChatError> {
        let sent = self.send(&prepared.label, &prepared.url, &prepared.body, true).await?;
        if is_json(&sent.response) {
            return Ok(Opened::Whole(self.read_body(&prepared.label, &prepared.url, sent).await?));
        }
        Ok(Opened::Events(Box::pin(crate::sse::events(
            sent.response,
            self.stream_idle_timeout,
            prepared.label.clone(),
            prepared.url.clone(),
        ))))
    }

    /// Sends `body` to `url`, retrying transient failures, and returns the first successful
    /// answer's head. Non-success statuses become errors carrying the provider's message.
    pub(crate) async fn send(
        &self,
        label: &str,
        url: &str,
        body: &Value,
        stream: bool,
    ) -> Result<Sent, ChatError> {
        let body = Bytes::from(serde_json::to_vec(body).map_err(|err| {
            ChatError::new(ChatErrorKind::Other, format!("could not encode the request: {err}"))
                .with_provider(label)
                .with_source(err)
        })?);
        let mut retry = 0;
        loop {
            match self.attempt(label, url, body.clone(), stream).await {
                Ok(sent) => return Ok(sent),
                Err(err) if retry < self.retry.max_retries && RetryPolicy::should_retry(&err) => {
                    let wait = self.retry.delay(retry, err.retry_after());
                    retry += 1;
                    tracing::warn!(
                        provider = label,
                        retry,
                        max_retries = self.retry.max_retries,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = %err,
                        "request failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(err) => return Err(err),
            }
        }
    }

    async fn attempt(&self, label: &str, url: &str, body: Bytes, stream: bool) -> Result<Sent, ChatError> {
        let deadline = Instant::now() + self.timeout;
        let accept = if stream { "text/event-stream" } else { "application/json" };
        let request = self
            .http
            .post(url)
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(ACCEPT, HeaderValue::from_static(accept))
            .body(body);
        tracing::debug!(provider = label, url, stream, "sending request");
        let response = match timeout_at(deadline, request.send()).await {
            Err(_) => return Err(self.deadline_error(label, url)),
            Ok(Err(err)) => return Err(transport_error(label, url, err)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(Sent { response, deadline });
        }
        let headers = response.headers().clone();
        // The error body is best effort: the status alone already says what happened.
        let body = match timeout_at(deadline, response.bytes()).await {
            Ok(Ok(body)) => body,
            _ => Bytes::new(),
        };
        Err(status_error(label, status, &headers, &body))
    }

    /// The error for an attempt that outlived the request timeout.
    pub(crate) fn deadline_error(&self, label: &str, url: &str) -> ChatError {
        timeout_error(
            label,
            format!(
                "no answer from {url} within {:?} (the request timeout; raise it with OpenAIBuilder::timeout)",
                self.timeout
            ),
        )
    }

    /// Reads a whole successful body within the attempt's deadline.
    pub(crate) async fn read_body(&self, label: &str, url: &str, sent: Sent) -> Result<Bytes, ChatError> {
        match timeout_at(sent.deadline, sent.response.bytes()).await {
            Err(_) => Err(self.deadline_error(label, url)),
            Ok(Err(err)) => Err(transport_error(label, url, err)),
            Ok(Ok(body)) => Ok(body),
        }
    }
}

/// Whether an answer is plain JSON (a server that ignored `stream: true`).
pub(crate) fn is_json(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with("application/json"))
}

/// Percent-encodes a path segment or query value.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpenAI;

    #[test]
    fn urls_for_openai_and_azure() {
        let openai = OpenAI::builder().base_url("http://h:1/v1/").build().unwrap();
        assert_eq!(openai.inner.url(Api::Chat, "m"), "http://h:1/v1/chat/completions");
        assert_eq!(openai.inner.url(Api::Responses, "m"), "http://h:1/v1/responses");
        assert_eq!(openai.inner.label(Api::Chat), "openai chat http://h:1/v1");
        let azure = OpenAI::builder().azure_endpoint("https://r.openai.azure.com/").build().unwrap();
        assert_eq!(
            azure.inner.url(Api::Chat, "my dep"),
            "https://r.openai.azure.com/openai/deployments/my%20dep/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(azure.inner.url(Api::Responses, "d"), "https://r.openai.azure.com/openai/v1/responses");
        assert_eq!(azure.inner.label(Api::Responses), "azure.ai.openai responses https://r.openai.azure.com");
    }
}
