//! OTLP/HTTP span export with the body encoded by [`crate::encode`], sent by opentelemetry-otlp.
//!
//! opentelemetry-otlp builds each request's body itself from the `SpanData` batch (the costly
//! part, see [`crate::encode`]) and offers no way to hand it bytes. It does take the HTTP
//! client to send with, and everything else stays its own: the endpoint and headers from code
//! and the `OTEL_EXPORTER_OTLP_*` variables, the timeout, retries with backoff, the partial
//! success answer. So [`crate::batch`]'s export thread puts each request's bytes in a
//! [`PendingBody`] and asks the OTLP exporter to export an empty batch (a body of a few
//! bytes); [`PreEncoded`], the client that exporter was built with, sends the pending bytes in
//! its place (on each retry too). That thread exports one request at a time, so one slot is
//! enough.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};

/// The body of the export in progress, when it was encoded beforehand.
pub(crate) type PendingBody = Arc<Mutex<Option<Bytes>>>;

/// The trace timeout variable (milliseconds), as opentelemetry-otlp reads it.
const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
/// The timeout variable for every signal (milliseconds).
const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// opentelemetry-otlp's default timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The compression variables opentelemetry-otlp reads. It compresses the body it built (here an
/// empty batch) and says so in `Content-Encoding`, which the bytes sent in its place would
/// contradict: with compression asked for, spans go through opentelemetry-otlp's own encoding.
const COMPRESSION_VARIABLES: [&str; 2] =
    ["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"];

/// Whether a compression variable is set (then the body is not encoded here).
pub(crate) fn compression_requested() -> bool {
    COMPRESSION_VARIABLES.iter().any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

/// An HTTP client that sends the [`PendingBody`], when there is one, instead of the request's.
#[derive(Debug)]
pub(crate) struct PreEncoded {
    client: reqwest::blocking::Client,
    body: PendingBody,
}

impl PreEncoded {
    /// The blocking reqwest client opentelemetry-otlp would have built (with the timeout it
    /// would have read), sending `body` when set. Built on a thread of its own, as
    /// opentelemetry-otlp does: the blocking client cannot be built inside a tokio runtime.
    pub(crate) fn new(body: PendingBody) -> Result<Self, crate::TelemetryError> {
        let timeout = timeout_from_env();
        let failed = |reason: String| crate::TelemetryError::HttpClient(reason);
        let client = std::thread::Builder::new()
            .spawn(move || reqwest::blocking::Client::builder().timeout(timeout).build())
            .map_err(|error| failed(error.to_string()))?
            .join()
            .map_err(|_| failed("the thread building it panicked".to_string()))?
            .map_err(|error| failed(error.to_string()))?;
        Ok(PreEncoded { client, body })
    }
}

/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`, else 10 s.
fn timeout_from_env() -> Duration {
    [OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT]
        .iter()
        .find_map(|name| std::env::var(name).ok().and_then(|value| value.parse().ok()))
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

#[async_trait::async_trait]
impl HttpClient for PreEncoded {
    async fn send_bytes(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let pending = self.body.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(body) = pending {
            *request.body_mut() = body;
        }
        self.client.send_bytes(request).await
    }
}
