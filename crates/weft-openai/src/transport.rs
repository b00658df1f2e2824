//! Where a request goes and what it carries; the shared driver ([`weft_provider::Driver`])
//! sends it, with its deadlines and retries.

use std::borrow::Cow;

use bytes::Bytes;
use reqwest::Url;
use weft_core::redact::redact_url;
use weft_core::{ChatError, ChatOptions, ChatRequest, Message};
use weft_provider::{Request, parse_url};

use crate::config::{Azure, Inner};
use crate::error::encode_error;

/// Which OpenAI API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `POST /chat/completions`.
    Chat,
    /// `POST /responses`.
    Responses,
    /// `POST /embeddings`.
    Embeddings,
}

/// Encodes an API's request body from the messages, the options, the model and whether to
/// stream.
pub(crate) type BodyEncoder = fn(&[Message], &ChatOptions, &str, bool) -> Result<Vec<u8>, serde_json::Error>;

/// A request ready to send (the shared driver's).
pub(crate) type Prepared<'a> = Request<'a>;

/// What stays the same between requests to one API, made once when the client is built: how
/// errors name it and its URL, parsed and as shown (unless the URL names the model, as Azure's
/// Chat Completions URL does).
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) label: String,
    pub(crate) url: Option<(Url, String)>,
}

impl Endpoint {
    /// The endpoint of `api` at `base_url` (the Azure resource endpoint when `azure` is set),
    /// named with `shown_base_url` (its credentials masked). Fails with a
    /// [`Configuration`](ChatErrorKind::Configuration) error when the URL is not valid.
    pub(crate) fn new(
        azure: Option<&Azure>,
        provider: &str,
        base_url: &str,
        shown_base_url: &str,
        api: Api,
    ) -> Result<Self, ChatError> {
        let name = match api {
            Api::Chat => "chat",
            Api::Responses => "responses",
            Api::Embeddings => "embeddings",
        };
        let label = format!("{provider} {name} {shown_base_url}");
        let url = match (azure, api) {
            (Some(azure), Api::Chat | Api::Embeddings) if !azure.is_v1() => None,
            _ => {
                let url = url_for(azure, base_url, api, "");
                Some((parse_url(&url, &label)?, redact_url(&url)))
            }
        };
        Ok(Self { label, url })
    }
}

/// The URL a request to `api` goes to; `model` names the Azure deployment. The API's path
/// goes before the base URL's query string, which every request keeps.
fn url_for(azure: Option<&Azure>, base_url: &str, api: Api, model: &str) -> String {
    let (base, query) = match base_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (base_url, None),
    };
    let mut url = match (azure, api) {
        (None, Api::Chat) => format!("{base}/chat/completions"),
        (None, Api::Responses) => format!("{base}/responses"),
        (None, Api::Embeddings) => format!("{base}/embeddings"),
        (Some(azure), Api::Chat) if azure.is_v1() => format!("{base}/openai/v1/chat/completions"),
        (Some(azure), Api::Embeddings) if azure.is_v1() => format!("{base}/openai/v1/embeddings"),
        (Some(azure), Api::Chat | Api::Embeddings) => {
            let mut url = format!("{base}/openai/deployments/");
            url.push_str(&url_encode(model));
            url.push_str(if api == Api::Chat { "/chat/completions" } else { "/embeddings" });
            url.push_str("?api-version=");
            url.push_str(&url_encode(&azure.api_version));
            url
        }
        (Some(_), Api::Responses) => format!("{base}/openai/v1/responses"),
    };
    if let Some(query) = query.filter(|query| !query.is_empty()) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(query);
    }
    url
}

impl Inner {
    fn endpoint(&self, api: Api) -> &Endpoint {
        match api {
            Api::Chat => &self.chat,
            Api::Responses => &self.responses,
            Api::Embeddings => &self.embeddings,
        }
    }

    /// Names the endpoint on errors: `openai chat http://127.0.0.1:8089/v1`.
    pub(crate) fn label(&self, api: Api) -> &str {
        &self.endpoint(api).label
    }

    /// The URL a request goes to; `model` names the Azure deployment.
    pub(crate) fn url(&self, api: Api, model: &str) -> String {
        url_for(self.azure.as_ref(), &self.request_base_url, api, model)
    }

    /// The URL a request for `model` goes to, parsed, and as messages show it.
    pub(crate) fn request_url(&self, api: Api, model: &str) -> Result<(Url, Cow<'_, str>), ChatError> {
        if let Some((url, shown)) = &self.endpoint(api).url {
            return Ok((url.clone(), Cow::Borrowed(shown)));
        }
        let url = self.url(api, model);
        let shown = redact_url(&url);
        Ok((parse_url(&url, self.label(api))?, Cow::Owned(shown)))
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
        if api == Api::Chat {
            // Chat Completions hosts no tools; the Responses API hosts them all.
            weft_core::HostedTool::check(&request.options.hosted_tools, &[], label)?;
        }
        let model = self.resolve_model(request.options.model.as_deref(), label)?;
        let (url, shown_url) = self.request_url(api, model)?;
        let body = encode(&request.messages, &self.wire_options(&request.options), model, stream)
            .map_err(|err| encode_error(label, err))?;
        let headers = if stream { &self.stream_headers } else { &self.json_headers };
        Ok(Prepared { label, url, shown_url, headers, body: Bytes::from(body) })
    }
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
        assert_eq!(openai.inner.url(Api::Embeddings, "m"), "http://h:1/v1/embeddings");
        assert_eq!(openai.inner.label(Api::Embeddings), "openai embeddings http://h:1/v1");
        let azure = OpenAI::builder().azure_endpoint("https://r.openai.azure.com/").build().unwrap();
        assert_eq!(
            azure.inner.url(Api::Chat, "my dep"),
            "https://r.openai.azure.com/openai/deployments/my%20dep/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            azure.inner.url(Api::Embeddings, "emb dep"),
            "https://r.openai.azure.com/openai/deployments/emb%20dep/embeddings?api-version=2024-10-21"
        );
        assert_eq!(azure.inner.url(Api::Responses, "d"), "https://r.openai.azure.com/openai/v1/responses");
        assert_eq!(azure.inner.label(Api::Responses), "azure.ai.openai responses https://r.openai.azure.com");
    }
}
