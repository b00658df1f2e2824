//! The lines of a cassette, and what is redacted from them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What replaces a redacted value.
pub const REDACTED: &str = "[REDACTED]";

/// Headers that carry credentials: their values are never written.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "cookie",
    "set-cookie",
];

/// Query parameters that carry credentials (Gemini's `key=`, signed URLs).
const SECRET_QUERY: &[&str] =
    &["key", "api-key", "api_key", "x-amz-signature", "x-amz-security-token", "sig"];

/// One request and its answer: a line of a cassette.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The order in which the request was sent, from 0.
    pub seq: u64,
    /// The request.
    pub request: RecordedRequest,
    /// The answer; none when the request failed before one came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// Why the request got no answer (a transport failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A request as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `POST`.
    pub method: String,
    /// The whole URL, credentials in its query redacted.
    pub url: String,
    /// Every header, credentials redacted, in order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body: JSON as JSON, anything else as a string, nothing as null.
    #[serde(default)]
    pub body: Value,
}

/// An answer as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// The HTTP status.
    pub status: u16,
    /// Every header, credentials redacted, in order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body as it arrived.
    #[serde(default)]
    pub chunks: Vec<Chunk>,
    /// Whether the body was read to its end (not cut by a deadline, a failure or the caller).
    #[serde(default)]
    pub complete: bool,
    /// Why reading the body failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One chunk of a body: text when it is UTF-8, else base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Milliseconds from sending the request to this chunk's arrival.
    pub at_ms: u64,
    /// The chunk, when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The chunk in base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

impl Chunk {
    /// A chunk of `bytes` that arrived `at_ms` after the request.
    pub fn new(at_ms: u64, bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self { at_ms, text: Some(text.to_string()), base64: None },
            Err(_) => Self { at_ms, text: None, base64: Some(STANDARD.encode(bytes)) },
        }
    }

    /// Its bytes (none for base64 that does not decode).
    pub fn bytes(&self) -> Vec<u8> {
        match (&self.text, &self.base64) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(encoded)) => STANDARD.decode(encoded).unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }
}

/// `headers` in order, the values of credential headers replaced by `[REDACTED]`.
pub fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_string();
            let value = if SECRET_HEADERS.contains(&name.as_str()) {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

/// `url` with the values of its credential query parameters (`key=`) replaced by `[REDACTED]`.
pub fn redact_query(url: &reqwest::Url) -> String {
    let secret = |name: &str| SECRET_QUERY.iter().any(|s| s.eq_ignore_ascii_case(name));
    if !url.query_pairs().any(|(name, _)| secret(&name)) {
        return url.to_string();
    }
    let mut url = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if secret(&name) { REDACTED.to_string() } else { value.into_owned() };
            (name.into_owned(), value)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

/// A body as it is recorded: JSON as JSON, other text as a string, nothing as null.
pub(crate) fn body_value(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}
