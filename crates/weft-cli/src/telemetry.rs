//! `--otlp` and the OpenTelemetry environment variables: span export for the command's run.

use weft::telemetry::{Telemetry, TelemetryConfig};

use crate::error::CliError;

/// The `service.name` of the CLI's spans when `OTEL_SERVICE_NAME` is not set.
const SERVICE_NAME: &str = "weft";

/// Starts export when `--otlp` or `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` asks for it (and
/// `OTEL_SDK_DISABLED` is not `true`); a disabled [`Telemetry`] otherwise.
pub(crate) fn start(otlp: Option<&str>) -> Result<Telemetry, CliError> {
    let mut config = TelemetryConfig::from_env().map_err(usage)?.default_service_name(SERVICE_NAME);
    if let Some(url) = otlp {
        config = config.endpoint(url);
    }
    if !config.is_requested() {
        return Ok(Telemetry::disabled());
    }
    Telemetry::new(&config).map_err(usage)
}

/// A setting that cannot work (an unknown protocol, a malformed endpoint) is a usage error.
fn usage(error: weft::telemetry::TelemetryError) -> CliError {
    CliError::Usage(format!("cannot export telemetry: {error}"))
}

/// Flushes the pending spans; a failure is a warning (the run's own outcome stands).
pub(crate) fn finish(telemetry: Telemetry) {
    if let Err(error) = telemetry.shutdown() {
        crate::logging::notice(format_args!("warning: {error}"));
    }
}
