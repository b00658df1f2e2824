//! W3C trace-context propagation without an OpenTelemetry dependency: a process-wide
//! [`TraceContextPropagator`] hook that an exporter installs (weft-telemetry does, in its setup)
//! and that providers, MCP clients, hosts and workflows call through the functions here.
//!
//! Without a propagator installed (the default) every function is a cheap no-op: nothing is
//! injected, no parent is set, no link is added.

use std::sync::OnceLock;

/// The W3C `traceparent` field (header name, and `_meta` key in MCP requests).
pub const TRACEPARENT: &str = "traceparent";
/// The W3C `tracestate` field.
pub const TRACESTATE: &str = "tracestate";

/// Propagation fields: `(name, value)` pairs such as `("traceparent", "00-…-…-01")`.
pub type TraceFields = Vec<(String, String)>;

/// Turns a `tracing` span's OpenTelemetry context into propagation fields and back. Installed
/// once per process with [`install_propagator`]; weft-telemetry implements it with the
/// OpenTelemetry text-map propagator.
pub trait TraceContextPropagator: Send + Sync + 'static {
    /// The fields (`traceparent`, `tracestate`) that carry `span`'s context; empty when the span
    /// is not exported.
    fn inject(&self, span: &tracing::Span) -> TraceFields;

    /// Makes `span` (just created, not yet entered) continue the remote context `carrier`
    /// holds; `carrier` looks a field up by its lower-case name. Does nothing when the carrier
    /// has no valid context.
    fn continue_remote(&self, span: &tracing::Span, carrier: &dyn Fn(&str) -> Option<String>);

    /// Adds to `span` a link to the context `fields` (from [`TraceContextPropagator::inject`])
    /// describe.
    fn add_link(&self, span: &tracing::Span, fields: &[(String, String)]);
}

static PROPAGATOR: OnceLock<Box<dyn TraceContextPropagator>> = OnceLock::new();

/// Installs the process's propagator. Returns `false` (and keeps the first) when one is
/// already installed.
pub fn install_propagator(propagator: Box<dyn TraceContextPropagator>) -> bool {
    PROPAGATOR.set(propagator).is_ok()
}

/// Whether a propagator is installed.
pub fn propagator_installed() -> bool {
    PROPAGATOR.get().is_some()
}

/// The propagation fields of `span`'s context (empty without a propagator).
pub fn trace_fields(span: &tracing::Span) -> TraceFields {
    match PROPAGATOR.get() {
        Some(propagator) if !span.is_disabled() => propagator.inject(span),
        _ => Vec::new(),
    }
}

/// The propagation fields of the current span's context (empty without a propagator).
/// With a span hook in the current subscriber (see [`super::span_hook`]) the hook answers: its
/// spans and the `tracing` spans current on this thread share one context there.
pub fn current_trace_fields() -> TraceFields {
    if PROPAGATOR.get().is_none() {
        return Vec::new();
    }
    if let Some(fields) = super::span_hook::current_fields() {
        return fields;
    }
    trace_fields(&tracing::Span::current())
}

/// Makes `span` continue the remote context in `carrier` (a lookup by lower-case field name),
/// e.g. an incoming request's `traceparent` header.
pub fn continue_remote(span: &tracing::Span, carrier: &dyn Fn(&str) -> Option<String>) {
    if let Some(propagator) = PROPAGATOR.get() {
        if !span.is_disabled() {
            propagator.continue_remote(span, carrier);
        }
    }
}

/// Links `span` to the context `fields` (from [`trace_fields`]) describe, e.g. a fan-in to
/// the executors whose messages it joins.
pub fn add_link(span: &tracing::Span, fields: &[(String, String)]) {
    if let Some(propagator) = PROPAGATOR.get() {
        if !span.is_disabled() && !fields.is_empty() {
            propagator.add_link(span, fields);
        }
    }
}
