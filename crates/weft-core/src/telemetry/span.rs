//! The span of an agent run, a model call or a tool call: the span hook's when the current
//! subscriber carries one (see [`super::span_hook`]), a `tracing` span otherwise.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::span_hook::{AttributeValue, HookSpan};

/// One of Weft's GenAI spans. Clones are handles on the same span; it ends when the last one is
/// dropped.
#[derive(Clone)]
pub(crate) enum GenAiSpan {
    /// A `tracing` span (no hook in the current subscriber).
    Tracing(tracing::Span),
    /// The hook's span.
    Hook(Arc<dyn HookSpan>),
}

impl GenAiSpan {
    /// Whether nothing is recorded (a disabled `tracing` span): attributes need not be computed.
    pub(crate) fn is_disabled(&self) -> bool {
        match self {
            GenAiSpan::Tracing(span) => span.is_disabled(),
            GenAiSpan::Hook(_) => false,
        }
    }

    /// Records a string attribute.
    pub(crate) fn record(&self, key: &'static str, value: impl AsRef<str>) {
        match self {
            GenAiSpan::Tracing(span) => {
                span.record(key, value.as_ref());
            }
            GenAiSpan::Hook(span) => span.set_attributes(&[(key, Some(AttributeValue::Str(value.as_ref())))]),
        }
    }

    /// Marks the span failed with a low-cardinality `error.type`.
    pub(crate) fn record_error(&self, error_type: &str) {
        match self {
            GenAiSpan::Tracing(span) => {
                span.record(super::ERROR_TYPE, error_type);
                span.record("otel.status_code", "error");
            }
            GenAiSpan::Hook(span) => span.set_error(error_type),
        }
    }

    /// The `tracing` span, when this is one (events name it as their parent).
    pub(crate) fn tracing(&self) -> Option<&tracing::Span> {
        match self {
            GenAiSpan::Tracing(span) => Some(span),
            GenAiSpan::Hook(_) => None,
        }
    }

    /// Runs `work` with this span current (the parent of what `work` starts, and the context it
    /// propagates). `None` only when a span hook broke its contract and did not run `work`.
    pub(crate) fn in_scope<R>(&self, work: impl FnOnce() -> R) -> Option<R> {
        match self {
            GenAiSpan::Tracing(span) => Some(span.in_scope(work)),
            GenAiSpan::Hook(span) => {
                let mut work = Some(work);
                let mut output = None;
                span.in_scope(&mut || output = work.take().map(|work| work()));
                output
            }
        }
    }

    /// `future` running inside this span (current on each poll).
    pub(crate) fn instrument<F: Future>(self, future: F) -> InSpan<F> {
        match self {
            GenAiSpan::Tracing(span) => {
                InSpan::Tracing { inner: tracing::Instrument::instrument(future, span) }
            }
            GenAiSpan::Hook(span) => InSpan::Hook { span, inner: future },
        }
    }
}

/// Runs a future inside a [`GenAiSpan`].
pub(crate) trait InGenAiSpan: Future + Sized {
    /// This future inside `span` (current on each poll).
    fn in_span(self, span: GenAiSpan) -> InSpan<Self> {
        span.instrument(self)
    }
}

impl<F: Future> InGenAiSpan for F {}

pin_project_lite::pin_project! {
    /// A future running inside a [`GenAiSpan`].
    #[project = InSpanProjection]
    pub(crate) enum InSpan<F> {
        /// Inside a `tracing` span.
        Tracing { #[pin] inner: tracing::instrument::Instrumented<F> },
        /// Inside a hook span.
        Hook { span: Arc<dyn HookSpan>, #[pin] inner: F },
    }
}

impl<F: Future> Future for InSpan<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project() {
            InSpanProjection::Tracing { inner } => inner.poll(cx),
            InSpanProjection::Hook { span, inner } => {
                let mut inner = Some(inner);
                let mut output = Poll::Pending;
                span.in_scope(&mut || {
                    if let Some(inner) = inner.take() {
                        output = inner.poll(cx);
                    }
                });
                output
            }
        }
    }
}
