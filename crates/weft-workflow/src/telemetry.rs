//! The workflow's spans, recorded with `tracing` (exported as OpenTelemetry spans when the
//! program sets export up, e.g. with weft-telemetry):
//!
//! - `workflow.run {name}` for a run (a start, a resume or an answer to requests), with the
//!   workflow's name, the run's id and the status it ended in;
//! - `workflow.superstep {n}` for each superstep, child of the run;
//! - `executor.process {id}` for each executor that gets messages in a superstep, child of the
//!   superstep. A fan-in target's span links to the spans of the source executors whose
//!   messages it joins (through weft-core's propagation hook, so only when export is set up),
//!   and names them in `weft.workflow.fan_in.sources` in any case;
//! - requests for outside input are events on the run span: `workflow.request_info` when an
//!   executor asks, `workflow.waiting_for_input` when the run pauses on unanswered requests.

use weft_core::telemetry::propagation::TraceFields;

use crate::request::PendingRequest;

/// `weft.workflow.name`.
pub const WORKFLOW_NAME: &str = "weft.workflow.name";
/// `weft.workflow.run_id`.
pub const WORKFLOW_RUN_ID: &str = "weft.workflow.run_id";
/// `weft.workflow.resumed_from`: the checkpoint a resumed run started from.
pub const WORKFLOW_RESUMED_FROM: &str = "weft.workflow.resumed_from";
/// `weft.workflow.status`: how the run ended (`idle`, `idle_with_pending_requests`, `failed`).
pub const WORKFLOW_STATUS: &str = "weft.workflow.status";
/// `weft.workflow.superstep`: the superstep's number (from 1).
pub const SUPERSTEP: &str = "weft.workflow.superstep";
/// `weft.executor.id`.
pub const EXECUTOR_ID: &str = "weft.executor.id";
/// `weft.executor.deliveries`: how many messages (and answers) the executor handled.
pub const EXECUTOR_DELIVERIES: &str = "weft.executor.deliveries";
/// `weft.workflow.fan_in.sources`: the executors whose messages a fan-in joined, comma-separated.
pub const FAN_IN_SOURCES: &str = "weft.workflow.fan_in.sources";

/// Where a fan-in's joined message came from: the source executor and its span's context.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) executor_id: String,
    pub(crate) fields: TraceFields,
}

/// The span of one run; its parent is the caller's current span.
pub(crate) fn run_span(workflow: &str) -> tracing::Span {
    tracing::info_span!(
        "workflow.run",
        otel.name = %format_args!("workflow.run {workflow}"),
        otel.kind = "internal",
        otel.status_code = tracing::field::Empty,
        weft.workflow.name = workflow,
        weft.workflow.run_id = tracing::field::Empty,
        weft.workflow.resumed_from = tracing::field::Empty,
        weft.workflow.status = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

/// The span of one superstep.
pub(crate) fn superstep_span(number: u64) -> tracing::Span {
    tracing::info_span!(
        "workflow.superstep",
        otel.name = %format_args!("workflow.superstep {number}"),
        otel.kind = "internal",
        otel.status_code = tracing::field::Empty,
        weft.workflow.superstep = i64::try_from(number).unwrap_or(i64::MAX),
        error.type = tracing::field::Empty,
    )
}

/// The span of one executor's work in a superstep, linked to the fan-in sources it joins.
pub(crate) fn executor_span(
    parent: &tracing::Span,
    executor_id: &str,
    number: u64,
    deliveries: usize,
    origins: &[Origin],
) -> tracing::Span {
    let span = tracing::info_span!(
        parent: parent,
        "executor.process",
        otel.name = %format_args!("executor.process {executor_id}"),
        otel.kind = "internal",
        otel.status_code = tracing::field::Empty,
        weft.executor.id = executor_id,
        weft.workflow.superstep = i64::try_from(number).unwrap_or(i64::MAX),
        weft.executor.deliveries = i64::try_from(deliveries).unwrap_or(i64::MAX),
        weft.workflow.fan_in.sources = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    if !origins.is_empty() && !span.is_disabled() {
        let sources: Vec<&str> = origins.iter().map(|origin| origin.executor_id.as_str()).collect();
        span.record(FAN_IN_SOURCES, sources.join(","));
        for origin in origins {
            weft_core::telemetry::propagation::add_link(&span, &origin.fields);
        }
    }
    span
}

/// Records a superstep's duration (`weft.workflow.superstep.duration`).
pub(crate) fn record_superstep(workflow: &str, elapsed: std::time::Duration, failed: bool) {
    use weft_core::telemetry::metrics;
    if !metrics::enabled() {
        return;
    }
    let mut attributes = vec![(WORKFLOW_NAME, workflow)];
    if failed {
        attributes.push(("error.type", "executor_failed"));
    }
    metrics::record_duration(&metrics::WORKFLOW_SUPERSTEP_DURATION, elapsed, &attributes);
}

/// Marks `span` failed.
pub(crate) fn record_error(span: &tracing::Span, error_type: &str) {
    span.record("error.type", error_type);
    span.record("otel.status_code", "error");
}

/// An executor asked the outside for input: an event on the run span.
pub(crate) fn request_event(run: &tracing::Span, request: &PendingRequest) {
    tracing::info!(
        parent: run,
        weft.request.id = request.request_id.as_str(),
        weft.executor.id = request.executor_id.as_str(),
        weft.request.type = request.request_type.as_str(),
        "workflow.request_info"
    );
}

/// The run pauses until `pending` requests are answered: an event on the run span.
pub(crate) fn waiting_event(run: &tracing::Span, pending: usize) {
    tracing::info!(
        parent: run,
        weft.workflow.pending_requests = i64::try_from(pending).unwrap_or(i64::MAX),
        "workflow.waiting_for_input"
    );
}
