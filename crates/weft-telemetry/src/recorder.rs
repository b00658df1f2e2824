//! Traces kept in memory, for DevUI's trace view (`weft devui`, `weft serve --ui`): a `tracing`
//! layer that records the spans of the recent runs of this process, with their names, parents,
//! start and duration, kind, status and their GenAI, MCP, workflow and HTTP attributes.
//!
//! Bounded: the last [`DEFAULT_MAX_TRACES`] traces that contain a run (an `invoke_agent` or a
//! `workflow.run` span; requests that ran nothing are dropped when they end), at most
//! [`DEFAULT_MAX_SPANS_PER_TRACE`] spans each (more are counted as `dropped_spans`), at most
//! [`MAX_OPEN_TRACES`] traces still going (the oldest is dropped past it), and attribute values
//! cut at [`MAX_ATTRIBUTE_CHARS`] characters. Only Weft's own spans at INFO and above are kept.
//!
//! What is kept of a span is its attributes named `gen_ai.*`, `mcp.*`, `weft.*`, `http.*`,
//! `network.*`, `server.*`, `url.path` and `error.type`, with URL credentials masked. Message
//! content (`gen_ai.input.messages`, …) is among them only when it was opted in
//! (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` or the agent builder's flag): Weft
//! records it on its spans only then. Log events are not kept.
//!
//! The JSON of [`TraceRecorder::recent`] is `{"object": "list", "data": [summary…]}`, newest
//! first; a summary is `{"id", "name", "entity", "conversation", "started_at_ms",
//! "duration_ms", "status", "spans", "usage": {"input_tokens", "output_tokens"}, "models"}` with
//! `status` one of `running`, `ok` or `error`, `duration_ms` null while running, and usage summed
//! over the trace's `chat` spans. [`TraceRecorder::trace`] adds `"dropped_spans"` and `"spans"`:
//! `[{"index", "parent", "name", "kind", "start_ms", "duration_ms", "status", "attributes"}]`,
//! in start order, `parent` being the index of the parent span (null for the root) and
//! `start_ms` counted from the trace's start.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime};

use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// How many traces [`TraceRecorder::new`] keeps.
pub const DEFAULT_MAX_TRACES: usize = 100;
/// How many spans of one trace [`TraceRecorder::new`] keeps.
pub const DEFAULT_MAX_SPANS_PER_TRACE: usize = 1_000;
/// How many traces may be still going at once; past it the oldest is dropped.
pub const MAX_OPEN_TRACES: usize = 1_000;
/// The longest attribute value kept, in characters (longer ones end with `…`).
pub const MAX_ATTRIBUTE_CHARS: usize = 4_096;

/// The span names that make a trace a run worth keeping.
const RUN_SPANS: &[&str] = &["invoke_agent", "workflow.run"];
/// The attribute name prefixes kept (besides [`KEPT_NAMES`]).
const KEPT_PREFIXES: &[&str] = &["gen_ai.", "mcp.", "weft.", "http.", "network.", "server."];
/// The attribute names kept (besides [`KEPT_PREFIXES`]).
const KEPT_NAMES: &[&str] = &["url.path", "error.type"];

/// The recent traces of this process. Cheap to clone (shared); add [`TraceRecorder::layer`] to
/// the `tracing` subscriber, then read [`TraceRecorder::recent`] and [`TraceRecorder::trace`].
#[derive(Clone)]
pub struct TraceRecorder {
    store: Arc<Mutex<Store>>,
}

impl fmt::Debug for TraceRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceRecorder").finish_non_exhaustive()
    }
}

impl Default for TraceRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl TraceRecorder {
    /// A recorder keeping [`DEFAULT_MAX_TRACES`] traces of [`DEFAULT_MAX_SPANS_PER_TRACE`] spans.
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_MAX_TRACES, DEFAULT_MAX_SPANS_PER_TRACE)
    }

    /// A recorder keeping `max_traces` finished traces of at most `max_spans` spans (each at
    /// least 1).
    pub fn with_limits(max_traces: usize, max_spans: usize) -> Self {
        let store = Store {
            max_traces: max_traces.max(1),
            max_spans: max_spans.max(1),
            next_seq: 0,
            open: HashMap::new(),
            done: VecDeque::new(),
        };
        Self { store: Arc::new(Mutex::new(store)) }
    }

    /// The `tracing` layer that records: Weft's spans at INFO and above (not rmcp's own).
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        let filter = Targets::new().with_default(Level::INFO).with_target("rmcp", LevelFilter::OFF);
        RecorderLayer { store: self.store.clone() }.with_filter(filter)
    }

    /// The recent runs, newest first (see the module's docs for the JSON).
    pub fn recent(&self) -> Value {
        let store = self.lock();
        let mut traces: Vec<&Trace> = store.open.values().filter(|trace| trace.has_run).collect();
        traces.extend(store.done.iter());
        traces.sort_by_key(|trace| std::cmp::Reverse(trace.seq));
        let data: Vec<Value> = traces.into_iter().map(Trace::summary).collect();
        json!({"object": "list", "data": data})
    }

    /// One trace with its spans, or `None` when it is not (or no longer) kept.
    pub fn trace(&self, trace_id: &str) -> Option<Value> {
        let store = self.lock();
        let trace = store
            .open
            .values()
            .filter(|trace| trace.has_run)
            .chain(store.done.iter())
            .find(|trace| &*trace.id == trace_id)?;
        let mut value = trace.summary();
        if let Value::Object(map) = &mut value {
            map.insert("dropped_spans".into(), json!(trace.dropped_spans));
            let spans: Vec<Value> =
                trace.spans.iter().enumerate().map(|(index, span)| span.json(index)).collect();
            map.insert("spans".into(), Value::Array(spans));
        }
        Some(value)
    }

    /// The id of the trace `span` belongs to, when this recorder's layer recorded it.
    pub fn trace_id_of(&self, span: &tracing::Span) -> Option<String> {
        span.with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
            let span = registry.span(id)?;
            let extensions = span.extensions();
            extensions.get::<Recorded>().map(|recorded| recorded.trace_id.to_string())
        })
        .flatten()
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves at worst a half-recorded span: keep going.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl weft_core::telemetry::TraceSource for TraceRecorder {
    fn recent(&self) -> Value {
        TraceRecorder::recent(self)
    }

    fn trace(&self, trace_id: &str) -> Option<Value> {
        TraceRecorder::trace(self, trace_id)
    }

    fn trace_id(&self, span: &tracing::Span) -> Option<String> {
        self.trace_id_of(span)
    }
}

/// Every trace kept.
struct Store {
    max_traces: usize,
    max_spans: usize,
    next_seq: u64,
    /// Traces whose root span is still open, by sequence number.
    open: HashMap<u64, Trace>,
    /// Finished runs, oldest first.
    done: VecDeque<Trace>,
}

impl Store {
    /// Starts a trace; drops the oldest open one past [`MAX_OPEN_TRACES`].
    fn start(&mut self, started: Instant) -> (u64, Arc<str>) {
        if self.open.len() >= MAX_OPEN_TRACES
            && let Some(oldest) = self.open.keys().min().copied()
        {
            self.open.remove(&oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let id: Arc<str> = RandomIdGenerator::default().new_trace_id().to_string().into();
        let trace = Trace {
            id: id.clone(),
            seq,
            started_at: SystemTime::now(),
            started,
            spans: Vec::new(),
            dropped_spans: 0,
            has_run: false,
        };
        self.open.insert(seq, trace);
        (seq, id)
    }

    /// Ends trace `seq` (its root closed): kept when it holds a run.
    fn finish(&mut self, seq: u64) {
        let Some(trace) = self.open.remove(&seq) else { return };
        if !trace.has_run {
            return;
        }
        self.done.push_back(trace);
        while self.done.len() > self.max_traces {
            self.done.pop_front();
        }
    }
}

/// One trace.
struct Trace {
    id: Arc<str>,
    seq: u64,
    started_at: SystemTime,
    started: Instant,
    spans: Vec<SpanData>,
    dropped_spans: u64,
    has_run: bool,
}

impl Trace {
    fn summary(&self) -> Value {
        let root = self.spans.first();
        let run = self.spans.iter().find(|span| RUN_SPANS.contains(&span.kind_name));
        let entity = run.and_then(|span| {
            span.attributes.get("gen_ai.agent.name").or_else(|| span.attributes.get("weft.workflow.name"))
        });
        let conversation = self.spans.iter().find_map(|span| span.attributes.get("gen_ai.conversation.id"));
        let (mut input, mut output) = (0_i64, 0_i64);
        let mut models: Vec<&str> = Vec::new();
        for span in self.spans.iter().filter(|span| span.kind_name == "chat") {
            let count = |name: &str| span.attributes.get(name).and_then(Value::as_i64).unwrap_or(0);
            input = input.saturating_add(count("gen_ai.usage.input_tokens"));
            output = output.saturating_add(count("gen_ai.usage.output_tokens"));
            let model = span
                .attributes
                .get("gen_ai.response.model")
                .or_else(|| span.attributes.get("gen_ai.request.model"))
                .and_then(Value::as_str);
            if let Some(model) = model
                && !models.contains(&model)
            {
                models.push(model);
            }
        }
        let status = match root {
            Some(root) if root.duration.is_none() => "running",
            _ if self.spans.iter().any(|span| span.failed) => "error",
            _ => "ok",
        };
        let started_at_ms = self
            .started_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or(0);
        json!({
            "id": &*self.id,
            "name": root.map(|span| span.name.as_str()),
            "entity": entity,
            "conversation": conversation,
            "started_at_ms": started_at_ms,
            "duration_ms": root.and_then(|span| span.duration).map(millis),
            "status": status,
            "spans": self.spans.len(),
            "usage": {"input_tokens": input, "output_tokens": output},
            "models": models,
        })
    }
}

/// One span.
struct SpanData {
    /// `otel.name` when set, else the span's own name.
    name: String,
    /// The span's `tracing` name (`chat`, `execute_tool`, `mcp`, …).
    kind_name: &'static str,
    /// `otel.kind`.
    kind: Option<String>,
    parent: Option<usize>,
    /// Since the trace's start.
    start: std::time::Duration,
    started: Instant,
    /// `None` while open.
    duration: Option<std::time::Duration>,
    failed: bool,
    attributes: BTreeMap<String, Value>,
}

impl SpanData {
    fn json(&self, index: usize) -> Value {
        json!({
            "index": index,
            "parent": self.parent,
            "name": self.name,
            "kind": self.kind,
            "span": self.kind_name,
            "start_ms": millis(self.start),
            "duration_ms": self.duration.map(millis),
            "status": if self.failed { "error" } else if self.duration.is_none() { "running" } else { "ok" },
            "attributes": self.attributes,
        })
    }
}

fn millis(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1_000.0
}

/// Where a span is kept, in its extensions.
struct Recorded {
    seq: u64,
    trace_id: Arc<str>,
    /// Its index in the trace's spans; `None` when the trace was full.
    index: Option<usize>,
    /// Whether it started its trace.
    root: bool,
}

/// The layer of a [`TraceRecorder`].
struct RecorderLayer {
    store: Arc<Mutex<Store>>,
}

impl RecorderLayer {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S> Layer<S> for RecorderLayer
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let now = Instant::now();
        let parent = span.parent().and_then(|parent| {
            let extensions = parent.extensions();
            extensions.get::<Recorded>().map(|p| (p.seq, p.trace_id.clone(), p.index))
        });
        let metadata = attrs.metadata();
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let mut store = self.lock();
        let (seq, trace_id, parent_index, root) = match parent {
            Some((seq, trace_id, index)) => (seq, trace_id, index, false),
            None => {
                let (seq, trace_id) = store.start(now);
                (seq, trace_id, None, true)
            }
        };
        let max_spans = store.max_spans;
        let index = store.open.get_mut(&seq).and_then(|trace| {
            if trace.spans.len() >= max_spans {
                trace.dropped_spans += 1;
                return None;
            }
            if RUN_SPANS.contains(&metadata.name()) {
                trace.has_run = true;
            }
            trace.spans.push(SpanData {
                name: fields.name.take().unwrap_or_else(|| metadata.name().to_string()),
                kind_name: metadata.name(),
                kind: fields.kind.take(),
                parent: parent_index,
                start: now.saturating_duration_since(trace.started),
                started: now,
                duration: None,
                failed: fields.failed,
                attributes: std::mem::take(&mut fields.attributes),
            });
            Some(trace.spans.len() - 1)
        });
        drop(store);
        span.extensions_mut().insert(Recorded { seq, trace_id, index, root });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let extensions = span.extensions();
        let Some(Recorded { seq, index: Some(index), .. }) = extensions.get::<Recorded>() else { return };
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut store = self.lock();
        let Some(data) = store.open.get_mut(seq).and_then(|trace| trace.spans.get_mut(*index)) else {
            return;
        };
        if let Some(name) = fields.name {
            data.name = name;
        }
        data.failed |= fields.failed;
        data.attributes.append(&mut fields.attributes);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let extensions = span.extensions();
        let Some(recorded) = extensions.get::<Recorded>() else { return };
        let mut store = self.lock();
        if let Some(index) = recorded.index
            && let Some(data) = store.open.get_mut(&recorded.seq).and_then(|trace| trace.spans.get_mut(index))
        {
            data.duration = Some(data.started.elapsed());
        }
        if recorded.root {
            store.finish(recorded.seq);
        }
    }
}

/// The fields of a span worth keeping.
#[derive(Default)]
struct Fields {
    name: Option<String>,
    kind: Option<String>,
    failed: bool,
    attributes: BTreeMap<String, Value>,
}

impl Fields {
    fn keep(&mut self, field: &Field, value: Value) {
        let name = field.name();
        match name {
            "otel.name" => self.name = value.as_str().map(|name| cut(name).into_owned()),
            "otel.kind" => self.kind = value.as_str().map(str::to_string),
            "otel.status_code" => {
                self.failed |= value.as_str().is_some_and(|s| s.eq_ignore_ascii_case("error"))
            }
            _ if KEPT_NAMES.contains(&name)
                || KEPT_PREFIXES.iter().any(|prefix| name.starts_with(prefix)) =>
            {
                if name == "error.type" {
                    self.failed = true;
                }
                self.attributes.insert(name.to_string(), value);
            }
            _ => {}
        }
    }
}

/// A string value cut at [`MAX_ATTRIBUTE_CHARS`], with URL credentials masked.
fn cut(value: &str) -> std::borrow::Cow<'_, str> {
    let value = weft_core::redact::redact_urls(value);
    match value.char_indices().nth(MAX_ATTRIBUTE_CHARS) {
        Some((end, _)) => format!("{}…", &value[..end]).into(),
        None => value,
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.keep(field, Value::String(cut(value).into_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.keep(field, json!(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.keep(field, json!(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.keep(field, json!(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.keep(field, json!(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.keep(field, Value::String(cut(&text).into_owned()));
    }
}
