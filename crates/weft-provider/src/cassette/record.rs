//! Recording: a [`Transport`] that sends over the network and writes every exchange to a
//! cassette.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;

use super::CassetteError;
use super::format::{
    Chunk, Entry, REDACTED, RecordedRequest, RecordedResponse, body_value, redact_headers, redact_query,
};
use crate::transport::{Exchange, SendFuture, Transport, send_over_network};

/// Records every request a provider sends, and its answer, to a JSONL cassette.
///
/// Secrets never reach the file: credential headers (`Authorization`, `x-api-key`, `api-key`,
/// `x-goog-api-key`, AWS's signature and security token) and query parameters (`key=`) are
/// replaced by `[REDACTED]`, and so is every secret the provider masks in its errors.
///
/// An entry is written when its answer's body ends (or is dropped: a deadline, a cancelled
/// stream), the entries ordered as their requests were sent. Each write replaces the file
/// atomically (a temporary file beside it, then a rename), so a crash leaves the cassette as
/// it was after the last complete exchange, always readable.
#[derive(Debug, Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    next_seq: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Every written entry: its order and its line.
    lines: Vec<(u64, String)>,
    /// The first write that failed.
    failure: Option<String>,
}

impl Recorder {
    /// A recorder writing to `path`, which it creates empty now (replacing a file there), so
    /// that a path that cannot be written fails here rather than after the first request.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, CassetteError> {
        let path = path.into();
        write_atomically(&path, "").map_err(|source| CassetteError::Io {
            action: "write",
            path: path.clone(),
            source,
        })?;
        Ok(Self { inner: Arc::new(Inner { path, next_seq: AtomicU64::new(0), state: Mutex::default() }) })
    }

    /// The cassette.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many exchanges were written.
    pub fn len(&self) -> usize {
        self.inner.state.lock().map(|state| state.lines.len()).unwrap_or(0)
    }

    /// Whether none was written yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every write succeeded: the first failure otherwise (a write cannot fail the
    /// request it records, so it is kept for this check and logged).
    pub fn check(&self) -> Result<(), CassetteError> {
        let failure = self.inner.state.lock().ok().and_then(|state| state.failure.clone());
        match failure {
            None => Ok(()),
            Some(message) => Err(CassetteError::Io {
                action: "write",
                path: self.inner.path.clone(),
                source: std::io::Error::other(message),
            }),
        }
    }
}

impl Inner {
    /// Writes `entry`, secrets masked, with the entries before it.
    fn write(&self, entry: &Entry, secrets: &[String]) {
        let mut line = match serde_json::to_string(entry) {
            Ok(line) => line,
            Err(err) => return self.fail(err.to_string()),
        };
        for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
            line = line.replace(secret.as_str(), REDACTED);
        }
        let Ok(mut state) = self.state.lock() else { return };
        let at = state.lines.partition_point(|(seq, _)| *seq < entry.seq);
        state.lines.insert(at, (entry.seq, line));
        let mut text = String::new();
        for (_, line) in &state.lines {
            text.push_str(line);
            text.push('\n');
        }
        // Synchronous, under the lock: the file is small, and writes must not interleave.
        if let Err(err) = write_atomically(&self.path, &text) {
            tracing::error!(cassette = %self.path.display(), error = %err, "could not write the cassette");
            state.failure.get_or_insert(err.to_string());
        }
    }

    fn fail(&self, message: String) {
        tracing::error!(cassette = %self.path.display(), error = %message, "could not record an exchange");
        if let Ok(mut state) = self.state.lock() {
            state.failure.get_or_insert(message);
        }
    }
}

/// Replaces `path`'s content with `text`: a temporary file in the same directory, synced, then
/// renamed over it.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// An exchange whose answer's body is still being read; written when it ends or is dropped.
struct Pending {
    recorder: Arc<Inner>,
    secrets: Vec<String>,
    started: Instant,
    entry: Entry,
    written: bool,
}

impl Pending {
    fn chunk(&mut self, bytes: &[u8]) {
        let at_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(response) = &mut self.entry.response {
            response.chunks.push(Chunk::new(at_ms, bytes));
        }
    }

    fn end(&mut self, complete: bool, error: Option<String>) {
        if let Some(response) = &mut self.entry.response {
            response.complete = complete;
            response.error = error;
        }
        self.written = true;
        self.recorder.write(&self.entry, &self.secrets);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.written {
            self.end(false, None);
        }
    }
}

impl Transport for Recorder {
    fn send<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: reqwest::Request,
        exchange: Exchange<'a>,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let seq = self.inner.next_seq.fetch_add(1, Ordering::Relaxed);
            let recorded = RecordedRequest {
                method: request.method().to_string(),
                url: redact_query(request.url()),
                headers: redact_headers(request.headers()),
                body: body_value(request.body().and_then(reqwest::Body::as_bytes).unwrap_or_default()),
            };
            let started = Instant::now();
            let secrets = exchange.secrets.to_vec();
            let response = match send_over_network(http, request, exchange).await {
                Ok(response) => response,
                Err(err) => {
                    let entry =
                        Entry { seq, request: recorded, response: None, error: Some(err.to_string()) };
                    self.inner.write(&entry, &secrets);
                    return Err(err);
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let entry = Entry {
                seq,
                request: recorded,
                response: Some(RecordedResponse {
                    status: status.as_u16(),
                    headers: redact_headers(&headers),
                    chunks: Vec::new(),
                    complete: false,
                    error: None,
                }),
                error: None,
            };
            let mut pending =
                Pending { recorder: Arc::clone(&self.inner), secrets, started, entry, written: false };
            let mut body = response.bytes_stream();
            let teed = async_stream::stream! {
                loop {
                    match body.next().await {
                        Some(Ok(bytes)) => {
                            pending.chunk(&bytes);
                            yield Ok::<Bytes, reqwest::Error>(bytes);
                        }
                        Some(Err(err)) => {
                            pending.end(false, Some(err.to_string()));
                            yield Err(err);
                            return;
                        }
                        None => {
                            pending.end(true, None);
                            return;
                        }
                    }
                }
            };
            let mut rebuilt = http::Response::new(reqwest::Body::wrap_stream(teed));
            *rebuilt.status_mut() = status;
            *rebuilt.headers_mut() = headers;
            Ok(reqwest::Response::from(rebuilt))
        })
    }
}
