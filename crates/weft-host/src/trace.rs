//! A server span per API request (OpenTelemetry HTTP semantic conventions: kind SERVER, named
//! `{method} {route}`, with `http.request.method`, `http.route`, `url.path`, `url.scheme`,
//! `http.response.status_code`, and `error.type` for 5xx answers). It continues the caller's
//! trace when the request carries a W3C `traceparent` (through weft-core's propagation hook:
//! only when export is set up), so the agent spans of a hosted run join the caller's trace.
//! A streamed answer's span ends when its head is sent; the run's spans go on under it.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

/// Runs the request inside its server span; names its trace in the answer when the host keeps
/// traces.
pub(crate) async fn server_span(
    State(state): State<Arc<crate::HostState>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_string();
    let route = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_string());
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.clone(),
    };
    let span = tracing::info_span!(
        "http.server",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = route.as_deref(),
        url.path = request.uri().path(),
        url.scheme = "http",
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    if !span.is_disabled() {
        let headers = request.headers();
        weft_core::telemetry::propagation::continue_remote(&span, &|name| {
            headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string)
        });
    }
    let trace_id = state.traces.as_ref().and_then(|traces| traces.trace_id(&span));
    let mut response = next.run(request).instrument(span.clone()).await;
    if let Some(value) = trace_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert(crate::TRACE_ID_HEADER, value);
    }
    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("error.type", status.as_str());
        span.record("otel.status_code", "error");
    }
    response
}
