//! Replaying: a [`Transport`] that answers every request from a cassette, without a network.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;
use weft_core::{ChatError, ChatErrorKind};

use super::CassetteError;
use super::format::{Entry, body_value};
use crate::transport::{Exchange, SendFuture, Transport};

/// How a request finds its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchBy {
    /// The first unused entry with the same method, path (query credentials aside) and JSON
    /// body, the ignored fields removed and the `tools` in any order (the default).
    #[default]
    Request,
    /// The next unused entry in the cassette's order, if its method and path are the
    /// request's (its body may differ).
    Order,
}

impl std::fmt::Display for MatchBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Request => "by request",
            Self::Order => "by order",
        })
    }
}

/// When replayed chunks arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Timing {
    /// All at once (the default).
    #[default]
    Instant,
    /// At their recorded offsets from the request.
    Recorded,
}

/// Body fields that change from run to run and are left out of matching.
pub const DEFAULT_IGNORED_FIELDS: &[&str] = &["user", "metadata", "prompt_cache_key", "safety_identifier"];

/// Answers requests from a cassette a [`Recorder`](super::Recorder) wrote: deterministic, no
/// network. A request no entry matches fails with a
/// [`Configuration`](ChatErrorKind::Configuration) error whose source is
/// [`CassetteError::NoMatch`], naming the request and the entries left.
#[derive(Debug, Clone)]
pub struct Replayer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    entries: Vec<Entry>,
    used: Mutex<Vec<bool>>,
    by: MatchBy,
    timing: Timing,
    ignored: Vec<String>,
}

impl Replayer {
    /// The cassette at `path`, matched [by request](MatchBy::Request), replayed instantly.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, CassetteError> {
        let path = path.into();
        let text = std::fs::read_to_string(&path).map_err(|source| CassetteError::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        let mut entries = Vec::new();
        for (at, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let entry = serde_json::from_str(line).map_err(|source| CassetteError::Parse {
                path: path.clone(),
                line: at + 1,
                source,
            })?;
            entries.push(entry);
        }
        let used = Mutex::new(vec![false; entries.len()]);
        let ignored = DEFAULT_IGNORED_FIELDS.iter().map(|field| (*field).to_string()).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                entries,
                used,
                by: MatchBy::Request,
                timing: Timing::Instant,
                ignored,
            }),
        })
    }

    /// How requests find their entries.
    pub fn match_by(self, by: MatchBy) -> Self {
        self.with(|inner| inner.by = by)
    }

    /// When chunks arrive.
    pub fn timing(self, timing: Timing) -> Self {
        self.with(|inner| inner.timing = timing)
    }

    /// Also leaves this top-level body field out of matching.
    pub fn ignore_field(self, field: impl Into<String>) -> Self {
        let field = field.into();
        self.with(|inner| inner.ignored.push(field))
    }

    fn with(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        change(&mut inner);
        Self { inner: Arc::new(inner) }
    }

    /// The cassette.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.inner.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.inner.entries.is_empty()
    }

    /// The entries no request asked for yet, described as `#0 POST /v1/chat/completions {…}`.
    pub fn unused(&self) -> Vec<String> {
        let used = self.inner.used.lock().map(|used| used.clone()).unwrap_or_default();
        self.inner.unused(&used)
    }

    /// Ok when every entry was replayed; [`CassetteError::Unused`] naming the others.
    pub fn finish(&self) -> Result<(), CassetteError> {
        let unused = self.unused();
        if unused.is_empty() {
            Ok(())
        } else {
            Err(CassetteError::Unused { path: self.inner.path.clone(), unused })
        }
    }
}

impl Clone for Inner {
    fn clone(&self) -> Self {
        let used = self.used.lock().map(|used| used.clone()).unwrap_or_default();
        Self {
            path: self.path.clone(),
            entries: self.entries.clone(),
            used: Mutex::new(used),
            by: self.by,
            timing: self.timing,
            ignored: self.ignored.clone(),
        }
    }
}

/// A request reduced to what matching compares.
#[derive(Debug, PartialEq)]
struct Key {
    method: String,
    path: String,
    body: Value,
}

impl Inner {
    fn key(&self, method: &str, url: &str, body: Value) -> Key {
        let path = match reqwest::Url::parse(url) {
            Ok(url) => {
                let query: Vec<String> = url
                    .query_pairs()
                    .filter(|(name, _)| !name.eq_ignore_ascii_case("key"))
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect();
                if query.is_empty() {
                    url.path().to_string()
                } else {
                    format!("{}?{}", url.path(), query.join("&"))
                }
            }
            Err(_) => url.to_string(),
        };
        let body = match body {
            Value::Object(mut fields) => {
                for field in &self.ignored {
                    fields.remove(field);
                }
                // The order of the tools offered does not change the request (and a caller's
                // tool registry may not keep one).
                if let Some(Value::Array(tools)) = fields.get_mut("tools") {
                    tools.sort_by_cached_key(Value::to_string);
                }
                Value::Object(fields)
            }
            other => other,
        };
        Key { method: method.to_ascii_uppercase(), path, body }
    }

    fn entry_key(&self, entry: &Entry) -> Key {
        self.key(&entry.request.method, &entry.request.url, entry.request.body.clone())
    }

    fn unused(&self, used: &[bool]) -> Vec<String> {
        self.entries
            .iter()
            .zip(used)
            .filter(|(_, used)| !**used)
            .map(|(entry, _)| format!("#{} {}", entry.seq, describe(&self.entry_key(entry))))
            .collect()
    }

    /// Takes the entry answering `key`.
    fn take(&self, key: &Key) -> Result<&Entry, CassetteError> {
        let Ok(mut used) = self.used.lock() else {
            return Err(self.no_match(key, Vec::new()));
        };
        let found = match self.by {
            MatchBy::Request => {
                (0..self.entries.len()).find(|at| !used[*at] && self.entry_key(&self.entries[*at]) == *key)
            }
            MatchBy::Order => (0..self.entries.len()).find(|at| !used[*at]).filter(|at| {
                let entry = self.entry_key(&self.entries[*at]);
                entry.method == key.method && entry.path == key.path
            }),
        };
        match found {
            Some(at) => {
                used[at] = true;
                Ok(&self.entries[at])
            }
            None => Err(self.no_match(key, self.unused(&used))),
        }
    }

    fn no_match(&self, key: &Key, unused: Vec<String>) -> CassetteError {
        CassetteError::NoMatch { path: self.path.clone(), request: describe(key), by: self.by, unused }
    }
}

/// `POST /v1/chat/completions {"model":…}`, the body cut short.
fn describe(key: &Key) -> String {
    const SHOWN: usize = 160;
    let body = key.body.to_string();
    let mut shown: String = body.chars().take(SHOWN).collect();
    if body.chars().count() > SHOWN {
        shown.push('…');
    }
    format!("{} {} {shown}", key.method, key.path)
}

impl Transport for Replayer {
    fn send<'a>(
        &'a self,
        _http: &'a reqwest::Client,
        request: reqwest::Request,
        exchange: Exchange<'a>,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let inner = &self.inner;
            let body = body_value(request.body().and_then(reqwest::Body::as_bytes).unwrap_or_default());
            let key = inner.key(request.method().as_str(), request.url().as_str(), body);
            let entry = inner.take(&key).map_err(|err| {
                ChatError::new(ChatErrorKind::Configuration, err.to_string())
                    .with_provider(exchange.label)
                    .with_source(err)
            })?;
            let Some(response) = &entry.response else {
                let message = entry.error.clone().unwrap_or_else(|| "no answer was recorded".to_string());
                return Err(ChatError::new(ChatErrorKind::Network, format!("(replayed) {message}"))
                    .with_provider(exchange.label));
            };
            let chunks: Vec<(Duration, Bytes)> = response
                .chunks
                .iter()
                .map(|chunk| (Duration::from_millis(chunk.at_ms), Bytes::from(chunk.bytes())))
                .collect();
            let timing = inner.timing;
            let failure = (!response.complete).then(|| response.error.clone()).flatten();
            let body = async_stream::stream! {
                let started = tokio::time::Instant::now();
                for (at, bytes) in chunks {
                    if timing == Timing::Recorded {
                        tokio::time::sleep_until(started + at).await;
                    }
                    yield Ok::<Bytes, std::io::Error>(bytes);
                }
                if let Some(failure) = failure {
                    yield Err(std::io::Error::other(format!("(replayed) {failure}")));
                }
            };
            let mut answer = http::Response::new(reqwest::Body::wrap_stream(body));
            *answer.status_mut() = reqwest::StatusCode::from_u16(response.status).map_err(|err| {
                ChatError::new(
                    ChatErrorKind::Decode,
                    format!("the cassette {} has an invalid status: {err}", inner.path.display()),
                )
                .with_provider(exchange.label)
            })?;
            for (name, value) in &response.headers {
                if let (Ok(name), Ok(value)) =
                    (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
                {
                    // The body is replayed whole and unencoded, whatever the recording said.
                    if ![
                        reqwest::header::CONTENT_LENGTH,
                        reqwest::header::TRANSFER_ENCODING,
                        reqwest::header::CONTENT_ENCODING,
                    ]
                    .contains(&name)
                    {
                        answer.headers_mut().append(name, value);
                    }
                }
            }
            Ok(reqwest::Response::from(answer))
        })
    }
}
