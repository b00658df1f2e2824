//! The OpenTelemetry side of weft-core's propagation hook: W3C trace context (`traceparent`,
//! `tracestate`) read from and written to `tracing` spans through `tracing-opentelemetry`.

use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceFlags};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use weft_core::telemetry::propagation::{TRACEPARENT, TRACESTATE, TraceFields};

/// Installs the W3C trace-context propagator as weft-core's hook (once per process) and as
/// OpenTelemetry's global text-map propagator.
pub(crate) fn install() {
    if !weft_core::telemetry::propagation::propagator_installed() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        weft_core::telemetry::propagation::install_propagator(Box::new(W3c(TraceContextPropagator::new())));
    }
}

/// W3C trace context over `tracing-opentelemetry` spans.
struct W3c(TraceContextPropagator);

/// The W3C `traceparent` value of `span_context`: `00-{trace id}-{span id}-{flags}`, in
/// lower-case hex (only the sampled flag is propagated, as the SDK's propagator does).
fn traceparent(span_context: &SpanContext) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    fn push_hex(out: &mut String, bytes: &[u8]) {
        for byte in bytes {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    let mut value = String::with_capacity(55);
    value.push_str("00-");
    push_hex(&mut value, &span_context.trace_id().to_bytes());
    value.push('-');
    push_hex(&mut value, &span_context.span_id().to_bytes());
    value.push('-');
    push_hex(&mut value, &[(span_context.trace_flags() & TraceFlags::SAMPLED).to_u8()]);
    value
}

/// The carrier's values of [`FIELDS`], in that order.
struct Lookup(Vec<String>);

impl Extractor for Lookup {
    fn get(&self, key: &str) -> Option<&str> {
        // `Extractor::get` lends a `&str`; the values were looked up beforehand.
        let index = FIELDS.iter().position(|field| field.eq_ignore_ascii_case(key))?;
        self.0.get(index).map(String::as_str).filter(|value| !value.is_empty())
    }

    fn keys(&self) -> Vec<&str> {
        FIELDS.to_vec()
    }
}

const FIELDS: [&str; 2] = [TRACEPARENT, TRACESTATE];

impl W3c {
    fn extract(&self, carrier: &dyn Fn(&str) -> Option<String>) -> opentelemetry::Context {
        let values = FIELDS.iter().map(|field| carrier(field).unwrap_or_default()).collect();
        self.0.extract(&Lookup(values))
    }
}

/// The propagation fields of `span_context`: `traceparent`, and `tracestate` when it holds
/// something; empty when the context is not valid. What `TraceContextPropagator::inject_context`
/// writes, without its `format!` and the `Injector`'s copies: this runs on every provider
/// request.
pub(crate) fn fields(span_context: &SpanContext) -> TraceFields {
    if !span_context.is_valid() {
        return Vec::new();
    }
    let mut fields = Vec::with_capacity(2);
    fields.push((TRACEPARENT.to_string(), traceparent(span_context)));
    let state = span_context.trace_state().header();
    if !state.is_empty() {
        fields.push((TRACESTATE.to_string(), state));
    }
    fields
}

impl weft_core::telemetry::propagation::TraceContextPropagator for W3c {
    fn inject(&self, span: &tracing::Span) -> TraceFields {
        fields(span.context().span().span_context())
    }

    fn continue_remote(&self, span: &tracing::Span, carrier: &dyn Fn(&str) -> Option<String>) {
        let context = self.extract(carrier);
        if context.span().span_context().is_valid() {
            // Fails only when the span is not exported or already started: then there is
            // nothing to continue.
            let _ = span.set_parent(context);
        }
    }

    fn add_link(&self, span: &tracing::Span, fields: &[(String, String)]) {
        let lookup = |name: &str| {
            fields.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.clone())
        };
        let context = self.extract(&lookup);
        let linked = context.span().span_context().clone();
        if linked.is_valid() {
            span.add_link(linked);
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::propagation::{Injector, TextMapPropagator as _};
    use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId, TraceState};

    use super::*;

    struct Fields(Vec<(String, String)>);

    impl Injector for Fields {
        fn set(&mut self, key: &str, value: String) {
            self.0.push((key.to_string(), value));
        }
    }

    #[test]
    fn traceparent_is_what_the_sdk_propagator_writes() {
        for flags in [TraceFlags::SAMPLED, TraceFlags::default(), TraceFlags::new(0xff)] {
            let span_context = SpanContext::new(
                TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap_or(TraceId::INVALID),
                SpanId::from_hex("00f067aa0ba902b7").unwrap_or(SpanId::INVALID),
                flags,
                false,
                TraceState::default(),
            );
            let context = opentelemetry::Context::new().with_remote_span_context(span_context.clone());
            let mut fields = Fields(Vec::new());
            TraceContextPropagator::new().inject_context(&context, &mut fields);
            assert_eq!(fields.0[0], (TRACEPARENT.to_string(), traceparent(&span_context)));
        }
    }
}
