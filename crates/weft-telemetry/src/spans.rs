//! Weft's own spans (`invoke_agent`, `chat`, `execute_tool`) as OpenTelemetry SDK spans built
//! directly, through weft-core's span hook, instead of `tracing` spans turned into
//! OpenTelemetry ones by `tracing-opentelemetry`: no registry slot, no per-poll registry work,
//! attributes with static keys and typed values (string arrays as arrays), one SDK span built
//! at the start and ended once.
//!
//! The hook serves the subscribers that carry [`DirectSpans`] (the export layer does, see
//! [`crate::Telemetry::layer`]); elsewhere Weft records `tracing` spans as before. Parents:
//! the export layer runs `tracing-opentelemetry` with context activation, so the OpenTelemetry
//! context current on a thread is the innermost span entered there, a `tracing` span or one of
//! these (made current on each poll of the work it covers): a span of either kind takes it as
//! its parent, and the `traceparent` sent from inside one is its own.

use std::sync::Arc;

use opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SdkTracer;
use tracing_subscriber::Layer;
use weft_core::telemetry::ERROR_TYPE;
use weft_core::telemetry::propagation::TraceFields;
use weft_core::telemetry::span_hook::{
    Attribute, AttributeValue, HookSpan, SpanHook, SpanKind, SpanStart, install_span_hook,
    span_hook_installed,
};

/// Installs the hook (once per process).
pub(crate) fn install() {
    if !span_hook_installed() {
        install_span_hook(Box::new(Hook));
    }
}

/// A `tracing` layer that does nothing itself: the span hook finds it in the current
/// subscriber (`Dispatch::downcast_ref`) and starts Weft's spans with its tracer.
#[derive(Debug, Clone)]
pub(crate) struct DirectSpans {
    tracer: SdkTracer,
}

impl DirectSpans {
    /// Weft's spans built with `tracer`.
    pub(crate) fn new(tracer: SdkTracer) -> Self {
        DirectSpans { tracer }
    }

    fn start(&self, start: &SpanStart<'_>) -> Arc<dyn HookSpan> {
        let parent = Context::current();
        // Room for what the call or the run answers (usage, response model and id, …).
        let mut attributes = Vec::with_capacity(start.attributes.len() + 6);
        push_attributes(&mut attributes, start.attributes);
        let kind = match start.kind {
            SpanKind::Client => opentelemetry::trace::SpanKind::Client,
            SpanKind::Internal => opentelemetry::trace::SpanKind::Internal,
        };
        // `{operation} {subject}`, without `format!`'s machinery (about 900 instructions a span).
        let mut name = String::with_capacity(start.operation.len() + 1 + start.subject.len());
        name.push_str(start.operation);
        name.push(' ');
        name.push_str(start.subject);
        let builder = self.tracer.span_builder(name).with_kind(kind).with_attributes(attributes);
        let span = self.tracer.build_with_context(builder, &parent);
        Arc::new(Direct { context: parent.with_span(span) })
    }
}

impl<S: tracing::Subscriber> Layer<S> for DirectSpans {}

/// weft-core's span hook: serves the subscribers that carry [`DirectSpans`].
struct Hook;

impl SpanHook for Hook {
    fn start(&self, start: &SpanStart<'_>) -> Option<Arc<dyn HookSpan>> {
        tracing::dispatcher::get_default(|dispatch| {
            Some(dispatch.downcast_ref::<DirectSpans>()?.start(start))
        })
    }

    fn current_fields(&self) -> Option<TraceFields> {
        tracing::dispatcher::get_default(|dispatch| dispatch.downcast_ref::<DirectSpans>().is_some())
            .then(|| crate::propagation::fields(Context::current().span().span_context()))
    }
}

/// One of Weft's spans: the SDK span, in the context it is made current with.
struct Direct {
    context: Context,
}

impl HookSpan for Direct {
    fn set_attributes(&self, attributes: &[Attribute<'_>]) {
        let mut values = Vec::with_capacity(attributes.len());
        push_attributes(&mut values, attributes);
        self.context.span().set_attributes(values);
    }

    fn set_error(&self, error_type: &str) {
        let span = self.context.span();
        span.set_attribute(KeyValue::new(ERROR_TYPE, error_type.to_string()));
        span.set_status(Status::error(""));
    }

    fn in_scope(&self, work: &mut dyn FnMut()) {
        let _current = self.context.clone().attach();
        work();
    }
}

impl Drop for Direct {
    fn drop(&mut self) {
        self.context.span().end();
    }
}

fn push_attributes(out: &mut Vec<KeyValue>, attributes: &[Attribute<'_>]) {
    for (key, value) in attributes {
        let Some(value) = value else { continue };
        let value = match *value {
            AttributeValue::Str(text) => Value::String(StringValue::from(text.to_string())),
            AttributeValue::Static(text) => Value::String(StringValue::from(text)),
            AttributeValue::Int(number) => Value::I64(number),
            AttributeValue::Float(number) => Value::F64(number),
            AttributeValue::Strings(items) => Value::Array(Array::String(
                items.iter().map(|item| StringValue::from(item.to_string())).collect(),
            )),
        };
        out.push(KeyValue::new(*key, value));
    }
}
