//! What to export and where: [`TelemetryConfig`], from code and from the standard OpenTelemetry
//! environment variables.

use std::collections::BTreeMap;

/// `OTEL_SDK_DISABLED`: `true` turns export off, whatever else is configured.
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's base URL (`/v1/traces` is added for HTTP).
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: the full URL traces are sent to.
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (the default) or `grpc`.
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`: the protocol for traces, over the generic one.
pub const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// `OTEL_METRICS_EXPORTER`: `none` turns metrics export off (spans are still exported).
pub const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// `OTEL_SERVICE_NAME`: the `service.name` resource attribute.
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`), the OpenTelemetry default.
    #[default]
    HttpProtobuf,
    /// OTLP/gRPC (`grpc`); needs the `grpc` feature of `weft-telemetry` (`otel-grpc` of
    /// `weft`), and export must start inside a tokio runtime that runs until shutdown (drop the
    /// guard off the runtime's thread, e.g. in `spawn_blocking`, on a current-thread runtime).
    Grpc,
}

impl Protocol {
    /// Parses an `OTEL_EXPORTER_OTLP_PROTOCOL` value.
    pub fn parse(value: &str) -> Result<Self, crate::TelemetryError> {
        match value.trim() {
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "grpc" => Ok(Protocol::Grpc),
            other => Err(crate::TelemetryError::UnsupportedProtocol(other.to_string())),
        }
    }
}

/// Where and how spans are exported. Start from [`TelemetryConfig::from_env`] (the standard
/// variables) or [`TelemetryConfig::default`] (nothing set), then override in code.
///
/// `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES` are read by the exporter and the
/// SDK themselves when export starts; headers and attributes set here are added to them.
#[derive(Debug, Clone, Default)]
pub struct TelemetryConfig {
    pub(crate) endpoint: Option<String>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) service_name: Option<String>,
    pub(crate) attributes: BTreeMap<String, String>,
    pub(crate) disabled: bool,
    pub(crate) from_env_endpoint: bool,
    pub(crate) no_metrics: bool,
}

impl TelemetryConfig {
    /// The configuration the standard environment variables describe: `OTEL_SDK_DISABLED`,
    /// `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`, `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` and
    /// `OTEL_SERVICE_NAME` (headers and resource attributes are read when export starts).
    pub fn from_env() -> Result<Self, crate::TelemetryError> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        let protocol =
            match var(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL).or_else(|| var(OTEL_EXPORTER_OTLP_PROTOCOL)) {
                Some(value) => Some(Protocol::parse(&value)?),
                None => None,
            };
        let from_env_endpoint =
            var(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).is_some() || var(OTEL_EXPORTER_OTLP_ENDPOINT).is_some();
        Ok(TelemetryConfig {
            protocol,
            service_name: var(OTEL_SERVICE_NAME),
            disabled: var(OTEL_SDK_DISABLED).is_some_and(|value| value.trim().eq_ignore_ascii_case("true")),
            from_env_endpoint,
            no_metrics: var(OTEL_METRICS_EXPORTER)
                .is_some_and(|value| value.trim().eq_ignore_ascii_case("none")),
            ..TelemetryConfig::default()
        })
    }

    /// Sends spans to `url`. For OTLP/HTTP, a URL whose path does not end in `/v1/traces` is
    /// taken as the collector's base and gets `/v1/traces` added
    /// (`http://localhost:6006` → `http://localhost:6006/v1/traces`).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The OTLP transport (default: `http/protobuf`).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Adds a header to every export request (e.g. `authorization`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// The `service.name` resource attribute.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The `service.name` when none was set (in code or by `OTEL_SERVICE_NAME`).
    pub fn default_service_name(mut self, name: impl Into<String>) -> Self {
        if self.service_name.is_none() {
            self.service_name = Some(name.into());
        }
        self
    }

    /// Adds a resource attribute (e.g. `deployment.environment.name`).
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// Exports metrics beside the spans (the default) or not (as `OTEL_METRICS_EXPORTER=none`
    /// does; e.g. for a backend that takes only traces).
    pub fn metrics(mut self, enabled: bool) -> Self {
        self.no_metrics = !enabled;
        self
    }

    /// Turns export off (as `OTEL_SDK_DISABLED=true` does).
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.disabled = disabled;
        self
    }

    /// Whether export was asked for: an endpoint given in code or by the environment, and
    /// export not disabled. The CLI exports only then.
    pub fn is_requested(&self) -> bool {
        !self.disabled && (self.endpoint.is_some() || self.from_env_endpoint)
    }

    /// The transport in use.
    pub(crate) fn protocol_or_default(&self) -> Protocol {
        self.protocol.unwrap_or_default()
    }

    /// The endpoint set in code, made a traces URL for OTLP/HTTP.
    pub(crate) fn traces_endpoint(&self) -> Option<String> {
        self.signal_endpoint("traces")
    }

    /// Where metrics go: the endpoint with `/v1/metrics` for HTTP (in place of a `/v1/traces`
    /// it ends with), as given for gRPC.
    pub(crate) fn metrics_endpoint(&self) -> Option<String> {
        self.signal_endpoint("metrics")
    }

    fn signal_endpoint(&self, signal: &str) -> Option<String> {
        let url = self.endpoint.as_deref()?.trim();
        if self.protocol_or_default() == Protocol::Grpc {
            return Some(url.to_string());
        }
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (url, None),
        };
        let base = base.trim_end_matches('/');
        let base =
            base.strip_suffix("/v1/traces").or_else(|| base.strip_suffix("/v1/metrics")).unwrap_or(base);
        let mut traces = format!("{base}/v1/{signal}");
        if let Some(query) = query {
            traces.push('?');
            traces.push_str(query);
        }
        Some(traces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_base_url_gets_the_traces_path() {
        let config = TelemetryConfig::default().endpoint("http://127.0.0.1:6006");
        assert_eq!(config.traces_endpoint().as_deref(), Some("http://127.0.0.1:6006/v1/traces"));
        let config = TelemetryConfig::default().endpoint("http://127.0.0.1:6006/");
        assert_eq!(config.traces_endpoint().as_deref(), Some("http://127.0.0.1:6006/v1/traces"));
        let config = TelemetryConfig::default().endpoint("http://127.0.0.1:6006/v1/traces");
        assert_eq!(config.traces_endpoint().as_deref(), Some("http://127.0.0.1:6006/v1/traces"));
        let config = TelemetryConfig::default().endpoint("https://otel.example/api?tenant=a");
        assert_eq!(config.traces_endpoint().as_deref(), Some("https://otel.example/api/v1/traces?tenant=a"));
    }

    #[test]
    fn metrics_go_beside_the_traces() {
        for url in ["http://127.0.0.1:6006", "http://127.0.0.1:6006/v1/traces"] {
            let config = TelemetryConfig::default().endpoint(url);
            assert_eq!(config.metrics_endpoint().as_deref(), Some("http://127.0.0.1:6006/v1/metrics"));
        }
    }

    #[test]
    fn a_grpc_endpoint_is_kept_as_given() {
        let config = TelemetryConfig::default().protocol(Protocol::Grpc).endpoint("http://127.0.0.1:4317");
        assert_eq!(config.traces_endpoint().as_deref(), Some("http://127.0.0.1:4317"));
    }

    #[test]
    fn protocols_are_the_standard_names() {
        assert_eq!(Protocol::parse("http/protobuf").ok(), Some(Protocol::HttpProtobuf));
        assert_eq!(Protocol::parse("grpc").ok(), Some(Protocol::Grpc));
        assert!(Protocol::parse("http/json").is_err());
    }

    #[test]
    fn export_is_requested_by_an_endpoint_unless_disabled() {
        assert!(!TelemetryConfig::default().is_requested());
        assert!(TelemetryConfig::default().endpoint("http://x").is_requested());
        assert!(!TelemetryConfig::default().endpoint("http://x").disabled(true).is_requested());
        let from_env = TelemetryConfig { from_env_endpoint: true, ..TelemetryConfig::default() };
        assert!(from_env.is_requested());
    }
}
