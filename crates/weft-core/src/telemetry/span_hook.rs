//! Weft's own spans (`invoke_agent`, `chat`, `execute_tool`) created directly by an exporter,
//! without the `tracing` registry in between: a process-wide [`SpanHook`] that an exporter
//! installs (weft-telemetry does, creating OpenTelemetry SDK spans).
//!
//! Each time Weft starts one of its spans it asks the hook, which answers for the current
//! `tracing` subscriber (weft-telemetry: when its export layer is in it). With an answer, the
//! span is the hook's ([`HookSpan`]): its attributes are set with typed values (string arrays
//! as arrays), it is made current on each poll of the work it covers, and it ends when its last
//! handle is dropped. Without a hook or an answer (no subscriber, or a subscriber without the
//! exporter's layer) Weft records a `tracing` span with the same name and fields, as any
//! `tracing` subscriber sees them.
//!
//! A hook's spans and the `tracing` spans of other code nest both ways: the hook keeps the
//! parent of each span it starts and of each `tracing` span started inside one of its spans
//! (weft-telemetry through the OpenTelemetry context made current on each poll).

use std::sync::{Arc, OnceLock};

use super::propagation::TraceFields;

/// A typed attribute value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttributeValue<'a> {
    /// A string.
    Str(&'a str),
    /// A string that lives as long as the program (kept without a copy).
    Static(&'static str),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string array (`gen_ai.response.finish_reasons`, `gen_ai.request.stop_sequences`).
    Strings(&'a [&'a str]),
}

/// One attribute: its semantic-convention name and its value (`None`: not set).
pub type Attribute<'a> = (&'static str, Option<AttributeValue<'a>>);

/// The kind of a span, as OpenTelemetry names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// A call to a remote service (`chat`).
    Client,
    /// Work inside the process (`invoke_agent`, `execute_tool`).
    Internal,
}

/// What a span starts with.
#[derive(Debug, Clone, Copy)]
pub struct SpanStart<'a> {
    /// The operation (`gen_ai.operation.name`): the span's name is `{operation} {subject}`.
    pub operation: &'static str,
    /// What the operation is on: the model, the agent's or the tool's name.
    pub subject: &'a str,
    /// The span's kind.
    pub kind: SpanKind,
    /// Its attributes at the start.
    pub attributes: &'a [Attribute<'a>],
}

/// A span started by a [`SpanHook`]. It ends when it is dropped.
pub trait HookSpan: Send + Sync + 'static {
    /// Sets attributes (those whose value is `None` are skipped).
    fn set_attributes(&self, attributes: &[Attribute<'_>]);

    /// Marks the span failed with a low-cardinality `error.type`.
    fn set_error(&self, error_type: &str);

    /// Runs `work` with the span current on this thread: the parent of the spans (the hook's
    /// and `tracing`'s) started inside it, and the context propagated from it.
    fn in_scope(&self, work: &mut dyn FnMut());
}

/// Creates Weft's own spans. Installed once per process with [`install_span_hook`].
pub trait SpanHook: Send + Sync + 'static {
    /// Starts a span, child of the span current on this thread (the hook's or a `tracing`
    /// span's); `None` when the current subscriber is not the hook's to serve (Weft then
    /// records a `tracing` span).
    fn start(&self, start: &SpanStart<'_>) -> Option<Arc<dyn HookSpan>>;

    /// The propagation fields (`traceparent`, …) of the span current on this thread (empty when
    /// none is); `None` when the current subscriber is not the hook's to serve.
    fn current_fields(&self) -> Option<TraceFields>;
}

static HOOK: OnceLock<Box<dyn SpanHook>> = OnceLock::new();

/// Installs the process's span hook. Returns `false` (and keeps the first) when one is already
/// installed.
pub fn install_span_hook(hook: Box<dyn SpanHook>) -> bool {
    HOOK.set(hook).is_ok()
}

/// Whether a span hook is installed.
pub fn span_hook_installed() -> bool {
    HOOK.get().is_some()
}

/// Starts a span through the hook; `None` without a hook or when it does not serve the current
/// subscriber.
pub fn start(start: &SpanStart<'_>) -> Option<Arc<dyn HookSpan>> {
    HOOK.get()?.start(start)
}

/// The hook's propagation fields of the current span; `None` without a hook or when it does
/// not serve the current subscriber.
pub fn current_fields() -> Option<TraceFields> {
    HOOK.get()?.current_fields()
}
