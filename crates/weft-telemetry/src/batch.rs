//! The span processor of OTLP/HTTP export: each span is encoded to protobuf (by
//! [`crate::encode`]) as it ends, on the thread that ends it, and appended to a bounded batch;
//! one export thread sends the full batches, and the partial one on a timer, on a flush and at
//! shutdown, through opentelemetry-otlp's exporter (see [`crate::direct`]).
//!
//! It takes the place of the SDK's `BatchSpanProcessor` (with [`crate::report::Reporting`])
//! when this crate encodes the bodies: there each ended span's `SpanData` went through a
//! channel to the processor's thread, waited in a batch, was encoded there and dropped; here
//! it is encoded at once and dropped where it ended, and what waits is its bytes. The limits
//! are the SDK's, read from the same variables: at most `OTEL_BSP_MAX_QUEUE_SIZE` spans wait
//! (2,048; a span ending while the queue is full is dropped and counted as lost, it never
//! blocks), a batch holds at most `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (512, at most the queue
//! size), and what waits is sent at least every `OTEL_BSP_SCHEDULE_DELAY` milliseconds (5,000).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use crate::direct::PendingBody;
use crate::report::LostSpans;

/// How long a flush waits for the export thread, as the SDK's batch processor waits.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The batch limits (`OTEL_BSP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// At most this many spans wait to be sent.
    pub(crate) max_queue: usize,
    /// At most this many spans in one request.
    pub(crate) max_batch: usize,
    /// What waits is sent at least this often.
    pub(crate) delay: Duration,
}

impl Limits {
    /// The SDK's defaults, overridden by `OTEL_BSP_MAX_QUEUE_SIZE`,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` and `OTEL_BSP_SCHEDULE_DELAY` (milliseconds) as the SDK
    /// reads them (a value that does not parse is ignored); the batch is at most the queue.
    pub(crate) fn from_env() -> Self {
        Limits::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        use opentelemetry_sdk::trace::{
            OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT, OTEL_BSP_MAX_QUEUE_SIZE,
            OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT, OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
        };
        let number = |name: &str| lookup(name).and_then(|value| value.parse::<u64>().ok());
        let size = |name: &str| number(name).and_then(|value| usize::try_from(value).ok());
        let max_queue = size(OTEL_BSP_MAX_QUEUE_SIZE).unwrap_or(OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT);
        let max_batch =
            size(OTEL_BSP_MAX_EXPORT_BATCH_SIZE).unwrap_or(OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT);
        Limits {
            max_queue,
            max_batch: max_batch.min(max_queue),
            delay: number(OTEL_BSP_SCHEDULE_DELAY)
                .map_or(OTEL_BSP_SCHEDULE_DELAY_DEFAULT, Duration::from_millis),
        }
    }
}

/// Encoded spans waiting to be sent in one request: per instrumentation scope (in order of
/// first appearance), the scope's spans as [`crate::encode::append_span_message`] writes them.
#[derive(Debug, Default)]
struct Batch {
    scopes: Vec<(InstrumentationScope, Vec<u8>)>,
    spans: usize,
}

impl Batch {
    /// Where the spans of `scope` go.
    fn spans_of(&mut self, scope: &InstrumentationScope) -> &mut Vec<u8> {
        let index = match self.scopes.iter().position(|(known, _)| known == scope) {
            Some(index) => index,
            None => {
                self.scopes.push((scope.clone(), Vec::with_capacity(16 * 1024)));
                self.scopes.len() - 1
            }
        };
        &mut self.scopes[index].1
    }
}

/// What the ending threads, the flushing threads and the export thread share.
#[derive(Debug, Default)]
struct Queue {
    /// The batch spans are appended to.
    open: Batch,
    /// Batches ready to be sent, oldest first.
    full: VecDeque<Batch>,
    /// Spans waiting, in `open` and `full` (not those being sent).
    waiting: usize,
    /// Flushes asked for (shutdown included), numbered from 1.
    asked: u64,
    /// The last flush the export thread has done, and its failure.
    done: u64,
    failure: Option<String>,
    /// Shutdown was asked for: spans ending now are not kept.
    shutdown: bool,
}

impl Queue {
    /// Moves the open batch, when it holds spans, to the full ones.
    fn seal(&mut self) {
        if self.open.spans > 0 {
            let batch = std::mem::take(&mut self.open);
            self.full.push_back(batch);
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Wakes the export thread: a batch is full, or a flush or shutdown is asked for.
    work: Condvar,
    /// Wakes the threads waiting for a flush.
    flushed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

thread_local! {
    /// Working space to encode an ending span in (its length is known once it is written).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The span processor (see the module's documentation).
#[derive(Debug)]
pub(crate) struct EncodingProcessor {
    shared: Arc<Shared>,
    limits: Limits,
    lost: LostSpans,
    /// The resource the export thread encodes requests under (the provider sets it).
    resource: Arc<Mutex<Resource>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl EncodingProcessor {
    /// Starts the export thread: it sends each request's bytes through `exporter`, an
    /// OTLP/HTTP exporter built with a [`crate::direct::PreEncoded`] client on `body`, and
    /// counts the spans of the requests that fail in `lost`.
    pub(crate) fn start<E: SpanExporter + 'static>(
        exporter: E,
        body: PendingBody,
        lost: LostSpans,
        limits: Limits,
    ) -> Result<Self, crate::TelemetryError> {
        let shared = Arc::new(Shared::default());
        let resource = Arc::new(Mutex::new(Resource::builder_empty().build()));
        let sender =
            Sender { shared: shared.clone(), exporter, body, lost: lost.clone(), resource: resource.clone() };
        let worker = std::thread::Builder::new()
            .name("weft-telemetry-export".to_string())
            .spawn(move || sender.run(limits.delay))
            .map_err(|error| {
                crate::TelemetryError::HttpClient(format!("cannot start the export thread: {error}"))
            })?;
        Ok(EncodingProcessor { shared, limits, lost, resource, worker: Mutex::new(Some(worker)) })
    }

    /// Asks the export thread to send everything waiting now (and to stop after, when
    /// `shutdown`), and waits at most `timeout` for it.
    fn flush(&self, shutdown: bool, timeout: Duration) -> OTelSdkResult {
        let deadline = Instant::now() + timeout;
        let mut queue = self.shared.lock();
        if queue.shutdown {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        queue.shutdown = shutdown;
        queue.seal();
        queue.asked += 1;
        let ticket = queue.asked;
        self.shared.work.notify_one();
        while queue.done < ticket {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(OTelSdkError::Timeout(timeout));
            }
            queue = self.shared.flushed.wait_timeout(queue, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        match queue.failure.clone() {
            Some(reason) => Err(OTelSdkError::InternalFailure(reason)),
            None => Ok(()),
        }
    }

    /// Counts a span dropped because the queue was full.
    fn dropped(&self) {
        let mut lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = lost.get_or_insert_with(|| crate::report::Lost {
            spans: 0,
            reason: format!(
                "the export queue was full ({} spans waiting; OTEL_BSP_MAX_QUEUE_SIZE)",
                self.limits.max_queue
            ),
        });
        entry.spans += 1;
    }
}

impl SpanProcessor for EncodingProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, mut span: SpanData) {
        crate::arrays::restore(&mut span.attributes);
        // Encoded into the thread's scratch space, then appended under the queue's lock.
        let keep = |scratch: &mut Vec<u8>| {
            scratch.clear();
            crate::encode::span_message(&span, scratch);
            let mut queue = self.shared.lock();
            if queue.shutdown {
                return true;
            }
            if queue.waiting >= self.limits.max_queue {
                return false;
            }
            crate::encode::append_span_message(scratch, queue.open.spans_of(&span.instrumentation_scope));
            queue.open.spans += 1;
            queue.waiting += 1;
            if queue.open.spans >= self.limits.max_batch {
                queue.seal();
                self.shared.work.notify_one();
            }
            true
        };
        let kept = SCRATCH
            .try_with(|scratch| match scratch.try_borrow_mut() {
                Ok(mut scratch) => keep(&mut scratch),
                Err(_) => keep(&mut Vec::new()),
            })
            .unwrap_or_else(|_| keep(&mut Vec::new()));
        if !kept {
            self.dropped();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.flush(false, FLUSH_TIMEOUT)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.flush(true, timeout)?;
        let worker = self.worker.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(worker) = worker {
            worker
                .join()
                .map_err(|_| OTelSdkError::InternalFailure("the export thread panicked".to_string()))?;
        }
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        *self.resource.lock().unwrap_or_else(PoisonError::into_inner) = resource.clone();
    }
}

impl Drop for EncodingProcessor {
    fn drop(&mut self) {
        // The provider shuts its processors down; should it not, the export thread still ends.
        self.shared.lock().shutdown = true;
        self.shared.work.notify_one();
    }
}

/// The export thread's side.
struct Sender<E> {
    shared: Arc<Shared>,
    exporter: E,
    body: PendingBody,
    lost: LostSpans,
    resource: Arc<Mutex<Resource>>,
}

impl<E: SpanExporter> Sender<E> {
    fn run(self, delay: Duration) {
        // The HTTP stack's own spans, if any, are not exported (as in the SDK's processor).
        let _suppressed = Context::enter_telemetry_suppressed_scope();
        let mut last_export = Instant::now();
        loop {
            let (batches, ticket, shutdown) = {
                let mut queue = self.shared.lock();
                loop {
                    if !queue.full.is_empty() || queue.asked > queue.done || queue.shutdown {
                        break;
                    }
                    let since = last_export.elapsed();
                    if since >= delay {
                        queue.seal();
                        break;
                    }
                    queue = self
                        .shared
                        .work
                        .wait_timeout(queue, delay - since)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                if queue.shutdown {
                    queue.seal();
                }
                let batches: Vec<Batch> = queue.full.drain(..).collect();
                queue.waiting -= batches.iter().map(|batch| batch.spans).sum::<usize>();
                (batches, queue.asked, queue.shutdown)
            };
            last_export = Instant::now();
            let mut failure = None;
            for batch in batches {
                if let Err(error) = self.send(batch) {
                    failure.get_or_insert(error);
                }
            }
            if shutdown {
                let _ = self.exporter.shutdown();
            }
            let mut queue = self.shared.lock();
            if ticket > queue.done {
                queue.done = ticket;
                queue.failure = failure;
                self.shared.flushed.notify_all();
            }
            if shutdown {
                return;
            }
        }
    }

    /// Sends one batch; a failure is counted in `lost` and returned (URL credentials masked).
    fn send(&self, batch: Batch) -> Result<(), String> {
        let request = {
            let resource = self.resource.lock().unwrap_or_else(PoisonError::into_inner);
            let scopes: Vec<(&InstrumentationScope, &[u8])> =
                batch.scopes.iter().map(|(scope, spans)| (scope, spans.as_slice())).collect();
            crate::encode::request(&resource, &scopes)
        };
        *self.body.lock().unwrap_or_else(PoisonError::into_inner) = Some(request.into());
        let result = futures::executor::block_on(self.exporter.export(Vec::new()));
        *self.body.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let Err(error) = result else { return Ok(()) };
        let reason = weft_core::redact::redact_urls(&error.to_string()).into_owned();
        let mut lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        lost.get_or_insert_with(|| crate::report::Lost { spans: 0, reason: reason.clone() }).spans +=
            batch.spans;
        Err(reason)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::borrow::Cow;

    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use prost::Message as _;

    use super::*;

    /// An exporter that keeps the body pending at each export (what the real client sends).
    #[derive(Debug)]
    struct Keeping {
        body: PendingBody,
        sent: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    }

    impl SpanExporter for Keeping {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            assert!(batch.is_empty(), "the batch is sent as bytes, not SpanData");
            let body = self.body.lock().unwrap().clone().expect("a pending body");
            self.sent.lock().unwrap().push(ExportTraceServiceRequest::decode(body).expect("valid protobuf"));
            Ok(())
        }
    }

    fn span(id: u64) -> SpanData {
        let now = std::time::SystemTime::now();
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(7_u128),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Owned(format!("span {id}")),
            start_time: now,
            end_time: now,
            attributes: vec![opentelemetry::KeyValue::new("gen_ai.response.finish_reasons", r#"["stop"]"#)],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("weft").build(),
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_flush_and_shutdown_send_the_rest() {
        let body = PendingBody::default();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let lost = LostSpans::default();
        let limits = Limits { max_queue: 3, max_batch: 2, delay: Duration::from_secs(3600) };
        let exporter = Keeping { body: body.clone(), sent: sent.clone() };
        let mut processor = EncodingProcessor::start(exporter, body, lost.clone(), limits).unwrap();
        processor.set_resource(&Resource::builder_empty().with_service_name("svc").build());
        // The first two fill a batch (sent at once); the export thread may take it before the
        // third ends, so end four and flush: at most three waited, at least one is sent.
        for id in 1..=4 {
            processor.on_end(span(id));
        }
        processor.force_flush().unwrap();
        let kept: usize = sent
            .lock()
            .unwrap()
            .iter()
            .map(|request| request.resource_spans[0].scope_spans[0].spans.len())
            .sum();
        let dropped = lost.lock().unwrap().as_ref().map_or(0, |lost| lost.spans);
        assert_eq!(kept + dropped, 4);
        assert!(kept >= 3, "a batch of two was free to go: {kept} sent");
        processor.on_end(span(5));
        processor.shutdown_with_timeout(Duration::from_secs(5)).unwrap();
        let sent = sent.lock().unwrap();
        let spans: Vec<_> =
            sent.iter().flat_map(|request| request.resource_spans[0].scope_spans[0].spans.clone()).collect();
        assert_eq!(spans.len() + dropped, 5);
        assert!(spans.iter().all(|span| {
            span.attributes[0].value.as_ref().and_then(|value| value.value.as_ref()).is_some_and(|value| {
                matches!(value, opentelemetry_proto::tonic::common::v1::any_value::Value::ArrayValue(_))
            })
        }));
        assert!(sent.iter().all(|request| {
            request.resource_spans[0]
                .resource
                .as_ref()
                .is_some_and(|resource| !resource.attributes.is_empty())
        }));
        // After shutdown: nothing kept, and a second shutdown says so.
        processor.on_end(span(6));
        assert!(matches!(
            processor.shutdown_with_timeout(Duration::from_secs(1)),
            Err(OTelSdkError::AlreadyShutdown)
        ));
    }

    #[test]
    fn limits_are_the_sdks_defaults_and_variables() {
        let defaults = Limits::from_lookup(|_| None);
        assert_eq!(defaults, Limits { max_queue: 2048, max_batch: 512, delay: Duration::from_millis(5000) });
        let set = Limits::from_lookup(|name| match name {
            "OTEL_BSP_MAX_QUEUE_SIZE" => Some("100".to_string()),
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE" => Some("300".to_string()),
            "OTEL_BSP_SCHEDULE_DELAY" => Some("250".to_string()),
            _ => None,
        });
        assert_eq!(set, Limits { max_queue: 100, max_batch: 100, delay: Duration::from_millis(250) });
        let wrong = Limits::from_lookup(|_| Some("lots".to_string()));
        assert_eq!(wrong, defaults);
    }
}
