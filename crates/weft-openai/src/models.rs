//! Listing the models a server serves: `GET {base}/models`.

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use weft_core::redact::redact_url;
use weft_core::{ChatError, ChatErrorKind};

use crate::config::OpenAI;
use crate::error::{decode_error, status_error, timeout_error, transport_error};

/// One model of a server's list, as `GET /models` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The name to ask for in requests, e.g. `gpt-4o-mini`.
    pub id: String,
    /// Who owns it, when the server says (`openai`, `system`, `llamacpp`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// When it was created (Unix seconds), when the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
}

/// The body of `GET /models`: `{"object": "list", "data": [...]}`.
#[derive(Deserialize)]
struct ModelList {
    data: Vec<ModelInfo>,
}

impl OpenAI {
    /// The models the server serves (`GET {base}/models`; on Azure the resource's
    /// `/openai/models`), in the server's order. One attempt, under the request timeout;
    /// failures are [`ChatError`]s like a chat call's (authentication, not found, network, …).
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>, ChatError> {
        let inner = &self.inner;
        let url = match &inner.azure {
            Some(azure) if azure.is_v1() => format!("{}/openai/v1/models", azure.endpoint),
            Some(azure) => format!("{}/openai/models?api-version={}", azure.endpoint, azure.api_version),
            // The path goes before the base URL's query string, as for chat requests.
            None => match inner.request_base_url.split_once('?') {
                Some((base, query)) => format!("{base}/models?{query}"),
                None => format!("{}/models", inner.request_base_url),
            },
        };
        let label = format!("{} models {}", self.provider_name(), inner.shown_base_url);
        let shown_url = redact_url(&url);
        let parsed = Url::parse(&url).map_err(|err| {
            ChatError::new(ChatErrorKind::Configuration, format!("the URL {shown_url:?} is not valid: {err}"))
                .with_provider(label.as_str())
        })?;
        let mut request = reqwest::Request::new(Method::GET, parsed);
        let mut headers: HeaderMap = inner.json_headers.clone();
        headers.remove(CONTENT_TYPE);
        if let Some(authorization) = inner.driver.bearer_header(&label).await? {
            headers.insert(reqwest::header::AUTHORIZATION, authorization);
        }
        *request.headers_mut() = headers;
        let exchange = async {
            let response = inner
                .driver
                .http()
                .execute(request)
                .await
                .map_err(|err| transport_error(&label, &shown_url, err))?;
            let status = response.status();
            let response_headers = response.headers().clone();
            let body = response.bytes().await.map_err(|err| transport_error(&label, &shown_url, err))?;
            if !status.is_success() {
                return Err(status_error(&label, status, &response_headers, &body));
            }
            serde_json::from_slice::<ModelList>(&body)
                .map(|list| list.data)
                .map_err(|err| decode_error(&label, "the model list", err, &body))
        };
        let result = match tokio::time::timeout(inner.driver.config().timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(timeout_error(
                &label,
                format!(
                    "no answer from {shown_url} within {:?} (the request timeout)",
                    inner.driver.config().timeout
                ),
            )),
        };
        result.map_err(|err| inner.redact(err))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_list_keeps_ids_and_optional_fields() {
        let body = r#"{"object":"list","data":[{"id":"a","object":"model","owned_by":"me","created":1},{"id":"b"}]}"#;
        let list: ModelList = serde_json::from_str(body).unwrap();
        assert_eq!(list.data[0], ModelInfo { id: "a".into(), owned_by: Some("me".into()), created: Some(1) });
        assert_eq!(list.data[1].id, "b");
        assert_eq!(list.data[1].owned_by, None);
    }
}
