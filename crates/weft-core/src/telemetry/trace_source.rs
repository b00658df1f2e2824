//! Recent traces kept in the process, as a host serves them (`GET /v1/traces`): a small trait so
//! that the host needs no recorder and the recorder (weft-telemetry's `TraceRecorder`) needs no
//! host. The values are JSON because they only travel to a client; their shape is the
//! recorder's, documented there.

/// The recent traces of this process, read by a host to serve them.
pub trait TraceSource: Send + Sync + 'static {
    /// The recent runs, newest first: `{"object": "list", "data": [summary, …]}`.
    fn recent(&self) -> serde_json::Value;

    /// One trace and its spans, or `None` when it is not (or no longer) kept.
    fn trace(&self, trace_id: &str) -> Option<serde_json::Value>;

    /// The id of the trace `span` belongs to, when it is recorded (to tell a client which trace
    /// its request made).
    fn trace_id(&self, span: &tracing::Span) -> Option<String>;
}
