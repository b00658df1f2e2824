//! The record of spans that could not be sent, and the exporter wrapper of the SDK's batch
//! processor (OTLP/gRPC, or OTLP/HTTP with compression: opentelemetry-otlp encodes those
//! bodies; see [`crate::batch`] for the others): string-array attributes restored (see
//! [`crate::arrays`]) and export failures remembered. Export runs on its own thread and its
//! errors would otherwise go nowhere, so that a wrong endpoint means traces silently missing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Spans that could not be sent, and why the first batch failed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Lost {
    /// How many spans were dropped.
    pub(crate) spans: usize,
    /// The first failure, URL credentials masked.
    pub(crate) reason: String,
}

/// The shared record of what was lost.
pub(crate) type LostSpans = Arc<Mutex<Option<Lost>>>;

/// An exporter that exports string-array attributes as arrays and records the spans its inner
/// exporter failed to send.
#[derive(Debug)]
pub(crate) struct Reporting<E> {
    inner: E,
    lost: LostSpans,
}

impl<E> Reporting<E> {
    /// Wraps `inner`; failures go to `lost`.
    pub(crate) fn new(inner: E, lost: LostSpans) -> Self {
        Reporting { inner, lost }
    }
}

impl<E: SpanExporter> SpanExporter for Reporting<E> {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        for span in &mut batch {
            crate::arrays::restore(&mut span.attributes);
        }
        let spans = batch.len();
        let result = self.inner.export(batch).await;
        if let Err(error) = &result
            && let Ok(mut lost) = self.lost.lock()
        {
            let entry = lost.get_or_insert_with(|| Lost {
                spans: 0,
                reason: weft_core::redact::redact_urls(&error.to_string()).into_owned(),
            });
            entry.spans += spans;
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
