//! Sending one request: headers, per-attempt deadlines, error mapping and retries.

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use std::pin::Pin;
use tokio::time::Instant;

use futures::Stream;
use weft_core::{ChatError, ChatErrorKind, ChatOptions, ChatRequest, Message};

use crate::config::{Azure, Inner};
use crate::deadline::Deadline;
use crate::error::{encode_error, status_error, timeout_error, transport_error};
use crate::retry::RetryPolicy;

/// Which OpenAI API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `POST /chat/completions`.
    Chat,
    /// `POST /responses`.
    Responses,
}

/// Encodes an API's request body from the messages, the options, the model and whether to
/// stream.
pub(crate) type BodyEncoder = fn(&[Message], &ChatOptions, &str, bool) -> Result<Vec<u8>, serde_json::Error>;

/// A request ready to send: how errors name the endpoint, where it goes, and its body.
pub(crate) struct Prepared<'a> {
    pub(crate) label: &'a str,
    pub(crate) url: Url,
    pub(crate) body: Bytes,
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
    pub(crate) deadline: Deadline,
}

/// What stays the same between requests to one API, made once when the client is built: how
/// errors name it and its URL, parsed (unless the URL names the model, as Azure's Chat
/// Completions URL does).
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) label: String,
    pub(crate) url: Option<Url>,
}

impl Endpoint {
    /// The endpoint of `api` at `base_url` (the Azure resource endpoint when `azure` is set).
    /// Fails with a [`Configuration`](ChatErrorKind::Configuration) error when the URL is not
    /// valid.
    pub(crate) fn new(azure: Option<&Azure>, base_url: &str, api: Api) -> Result<Self, ChatError> {
        let provider = if azure.is_some() { "azure.ai.openai" } else { "openai" };
        let name = match api {
            Api::Chat => "chat",
            Api::Responses => "responses",
        };
        let label = format!("{provider} {name} {base_url}");
        let url = match (azure, api) {
            (Some(_), Api::Chat) => None,
            _ => Some(parse_url(&url_for(azure, base_url, api, ""), &label)?),
        };
        Ok(Self { label, url })
    }
}

/// The URL a request to `api` goes to; `model` names the Azure deployment.
fn url_for(azure: Option<&Azure>, base_url: &str, api: Api, model: &str) -> String {
    match (azure, api) {
        (None, Api::Chat) => format!("{base_url}/chat/completions"),
        (None, Api::Responses) => format!("{base_url}/responses"),
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

/// Parses a request URL; an invalid one is a configuration error.
fn parse_url(url: &str, label: &str) -> Result<Url, ChatError> {
    Url::parse(url).map_err(|err| {
        ChatError::new(ChatErrorKind::Configuration, format!("the request URL {url:?} is not valid: {err}"))
            .with_provider(label)
            .with_source(err)
    })
}

/// The headers of every request: the configured ones, then `Content-Type` and `Accept` (JSON,
/// or server-sent events when `stream`), made once when the client is built.
pub(crate) fn request_headers(headers: &HeaderMap, stream: bool) -> HeaderMap {
    let mut headers = headers.clone();
    let accept = if stream { "text/event-stream" } else { "application/json" };
    headers.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.append(ACCEPT, HeaderValue::from_static(accept));
    headers
}

impl Inner {
    fn endpoint(&self, api: Api) -> &Endpoint {
        match api {
            Api::Chat => &self.chat,
            Api::Responses => &self.responses,
        }
    }

    /// Names the endpoint on errors: `openai chat http://127.0.0.1:8089/v1`.
    pub(crate) fn label(&self, api: Api) -> &str {
        &self.endpoint(api).label
    }

    /// The URL a request goes to; `model` names the Azure deployment.
    pub(crate) fn url(&self, api: Api, model: &str) -> String {
        url_for(self.azure.as_ref(), &self.base_url, api, model)
    }

    /// The URL a request for `model` goes to, parsed.
    fn request_url(&self, api: Api, model: &str) -> Result<Url, ChatError> {
        if let Some(url) = &self.endpoint(api).url {
            return Ok(url.clone());
        }
        parse_url(&self.url(api, model), self.label(api))
    }

    /// Resolves the model, the URL and the body of `request` for `api`.
    pub(crate) fn prepare(
        &self,
        api: Api,
        request: &ChatRequest,
        stream: bool,
        encode: BodyEncoder,
    ) -> Result<Prepared<'_>, ChatError> {
        let label = self.label(api);
        let model = self.resolve_model(request.options.model.as_deref(), label)?;
        let url = self.request_url(api, model)?;
        let body = encode(&request.messages, &self.wire_options(&request.options), model, stream)
            .map_err(|err| encode_error(label, err))?;
        Ok(Prepared { label, url, body: Bytes::from(body) })
    }

    /// Sends a non-streaming request and reads its whole answer.
    pub(crate) async fn fetch(&self, prepared: &Prepared<'_>) -> Result<Bytes, ChatError> {
        let sent = self.send(prepared, false).await?;
        self.read_body(prepared.label, prepared.url.as_str(), sent).await
    }

    /// Sends a streaming request: its events, or the whole answer of a server that ignored
    /// `stream: true`.
    pub(crate) async fn open_stream(&self, prepared: &Prepared<'_>) -> Result<Opened, ChatError> {
        let sent = self.send(prepared, true).await?;
        if is_json(&sent.response) {
            return Ok(Opened::Whole(self.read_body(prepared.label, prepared.url.as_str(), sent).await?));
        }
        Ok(Opened::Events(Box::pin(crate::sse::events(
            sent.response,
            sent.deadline,
            self.stream_idle_timeout,
            prepared.label.to_string(),
            prepared.url.to_string(),
        ))))
    }

    /// Sends the prepared request, retrying transient failures, and returns the first
    /// successful answer's head. Non-success statuses become errors carrying the provider's
    /// message.
    pub(crate) async fn send(&self, prepared: &Prepared<'_>, stream: bool) -> Result<Sent, ChatError> {
        let label = prepared.label;
        let mut retry = 0;
        loop {
            match self.attempt(prepared, stream).await {
                Ok(sent) => return Ok(sent),
                Err(err) if retry < self.retry.max_retries && RetryPolicy::should_retry(&err) => {
                    let wait = self.retry.delay(retry, err.retry_after());
                    retry += 1;
                    // Its own target, so that a front end can show retries its own way.
                    tracing::warn!(
                        target: "weft_openai::retry",
                        provider = label,
                        kind = %err.kind(),
                        status = err.status(),
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

    async fn attempt(&self, prepared: &Prepared<'_>, stream: bool) -> Result<Sent, ChatError> {
        let Prepared { label, url, body } = prepared;
        let mut deadline = self.timers.deadline(Instant::now() + self.timeout);
        let mut request = reqwest::Request::new(Method::POST, url.clone());
        *request.headers_mut() = if stream { self.stream_headers.clone() } else { self.json_headers.clone() };
        *request.body_mut() = Some(body.clone().into());
        tracing::debug!(provider = label, url = url.as_str(), stream, "sending request");
        let response = match deadline.run(self.http.execute(request)).await {
            Err(_) => return Err(self.deadline_error(label, url.as_str())),
            Ok(Err(err)) => return Err(transport_error(label, url.as_str(), err)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(Sent { response, deadline });
        }
        let headers = response.headers().clone();
        // The error body is best effort: the status alone already says what happened.
        let body = match deadline.run(response.bytes()).await {
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
        let Sent { response, mut deadline } = sent;
        match deadline.run(response.bytes()).await {
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
