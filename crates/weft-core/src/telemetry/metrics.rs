//! Metrics without an OpenTelemetry dependency: Weft's instruments (histograms, named after the
//! OpenTelemetry semantic conventions) and a process-wide [`MetricsRecorder`] hook that an
//! exporter installs (weft-telemetry does, exporting them over OTLP beside the spans).
//!
//! Without a recorder installed (the default) [`record`] is a cheap no-op.

use std::sync::OnceLock;

/// A histogram Weft records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Histogram {
    /// The instrument's name.
    pub name: &'static str,
    /// Its unit (UCUM).
    pub unit: &'static str,
    /// What it measures.
    pub description: &'static str,
}

/// `gen_ai.client.token.usage`: tokens per model call, by `gen_ai.token.type` (`input`,
/// `output`).
pub const TOKEN_USAGE: Histogram = Histogram {
    name: "gen_ai.client.token.usage",
    unit: "{token}",
    description: "Number of input and output tokens used",
};

/// `gen_ai.client.operation.duration`: seconds per GenAI operation, by `gen_ai.operation.name`
/// (`chat` per model call, `execute_tool` per tool call, `invoke_agent` per agent run).
pub const OPERATION_DURATION: Histogram = Histogram {
    name: "gen_ai.client.operation.duration",
    unit: "s",
    description: "GenAI operation duration",
};

/// `mcp.client.operation.duration`: seconds per MCP request, by `mcp.method.name`.
pub const MCP_CLIENT_OPERATION_DURATION: Histogram = Histogram {
    name: "mcp.client.operation.duration",
    unit: "s",
    description: "The duration of the MCP request or notification as observed on the sender",
};

/// `weft.workflow.superstep.duration`: seconds per workflow superstep, by `weft.workflow.name`.
pub const WORKFLOW_SUPERSTEP_DURATION: Histogram = Histogram {
    name: "weft.workflow.superstep.duration",
    unit: "s",
    description: "Duration of one workflow superstep",
};

/// Every histogram Weft records.
pub const HISTOGRAMS: [Histogram; 4] =
    [TOKEN_USAGE, OPERATION_DURATION, MCP_CLIENT_OPERATION_DURATION, WORKFLOW_SUPERSTEP_DURATION];

/// `gen_ai.token.type`: `input` or `output`.
pub const TOKEN_TYPE: &str = "gen_ai.token.type";

/// Attributes of one measurement: `(name, value)` pairs.
pub type Attributes<'a> = &'a [(&'static str, &'a str)];

/// Takes Weft's measurements to a metrics backend. Installed once per process with
/// [`install_recorder`]; weft-telemetry implements it with OpenTelemetry histograms.
pub trait MetricsRecorder: Send + Sync + 'static {
    /// Records `value` in `histogram` with `attributes`.
    fn record(&self, histogram: &Histogram, value: f64, attributes: Attributes<'_>);
}

static RECORDER: OnceLock<Box<dyn MetricsRecorder>> = OnceLock::new();

/// Installs the process's recorder. Returns `false` (and keeps the first) when one is already
/// installed.
pub fn install_recorder(recorder: Box<dyn MetricsRecorder>) -> bool {
    RECORDER.set(recorder).is_ok()
}

/// Whether a recorder is installed (measurements are worth taking).
pub fn enabled() -> bool {
    RECORDER.get().is_some()
}

/// Records `value` in `histogram` (nothing without a recorder).
pub fn record(histogram: &Histogram, value: f64, attributes: Attributes<'_>) {
    if let Some(recorder) = RECORDER.get() {
        recorder.record(histogram, value, attributes);
    }
}

/// Records a duration in seconds.
pub fn record_duration(histogram: &Histogram, elapsed: std::time::Duration, attributes: Attributes<'_>) {
    record(histogram, elapsed.as_secs_f64(), attributes);
}
