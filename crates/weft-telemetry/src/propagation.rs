//! The OpenTelemetry side of weft-core's propagation hook: W3C trace context (`traceparent`,
//! `tracestate`) read from and written to `tracing` spans through `tracing-opentelemetry`.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use weft_core::telemetry::propagation::TraceFields;

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

struct Fields<'a>(&'a mut TraceFields);

impl Injector for Fields<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_string(), value));
    }
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

const FIELDS: [&str; 2] =
    [weft_core::telemetry::propagation::TRACEPARENT, weft_core::telemetry::propagation::TRACESTATE];

impl W3c {
    fn extract(&self, carrier: &dyn Fn(&str) -> Option<String>) -> opentelemetry::Context {
        let values = FIELDS.iter().map(|field| carrier(field).unwrap_or_default()).collect();
        self.0.extract(&Lookup(values))
    }
}

impl weft_core::telemetry::propagation::TraceContextPropagator for W3c {
    fn inject(&self, span: &tracing::Span) -> TraceFields {
        let context = span.context();
        let mut fields = Vec::with_capacity(2);
        if context.span().span_context().is_valid() {
            self.0.inject_context(&context, &mut Fields(&mut fields));
        }
        fields
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
