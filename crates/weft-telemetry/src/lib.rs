//! # Weft telemetry export
//!
//! Sends Weft's spans to any OpenTelemetry backend over OTLP (HTTP/protobuf; gRPC with the
//! `grpc` feature). Weft records its spans with `tracing` following the OpenTelemetry GenAI
//! semantic conventions (see `weft::telemetry` names in `weft_core::telemetry`): an
//! `invoke_agent {name}` span per agent run, a `chat {model}` span per model call and an
//! `execute_tool {tool}` span per tool call. With [`Telemetry::layer`] in the subscriber these
//! three are built directly as OpenTelemetry spans (through weft-core's span hook: no `tracing`
//! span, far cheaper per span; see [`Telemetry::layer`] for what the subscriber's other layers
//! then see), and every other `tracing` span is turned into an OpenTelemetry span by
//! `tracing-opentelemetry`; parents and children link across both. All are exported in
//! batches. Workflows (`workflow.run`,
//! `workflow.superstep`, `executor.process`), MCP calls (`tools/call {tool}`, kind CLIENT) and
//! hosted requests (`POST /v1/responses`, kind SERVER) have spans too. Attributes the
//! conventions type as string arrays (`gen_ai.response.finish_reasons`,
//! `gen_ai.request.stop_sequences`) are recorded on the `tracing` spans as JSON text, a field
//! holding no array, and exported as OpenTelemetry string arrays.
//!
//! Export also turns on, through weft-core's hooks: W3C trace-context propagation
//! (`traceparent`/`tracestate` on every provider request and in MCP requests' `params._meta`;
//! hosted requests continue an incoming `traceparent`), and metrics exported beside the spans
//! (`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
//! `mcp.client.operation.duration`, `weft.workflow.superstep.duration`; off with
//! `OTEL_METRICS_EXPORTER=none` or [`TelemetryConfig::metrics`]). Metrics are best effort: a
//! backend that refuses them (Phoenix takes only traces) does not fail the shutdown.
//!
//! [`TraceRecorder`] keeps the spans of the recent runs in memory instead, for DevUI's trace
//! view (no export, no OpenTelemetry SDK at work).
//!
//! Off unless set up: without [`init`] (or [`Telemetry::layer`] in your own subscriber) nothing
//! is exported and nothing of this crate runs. Configuration follows the standard variables
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SDK_DISABLED`), and code can override
//! each of them:
//!
//! ```no_run
//! # fn main() -> Result<(), weft_telemetry::TelemetryError> {
//! use weft_telemetry::TelemetryConfig;
//!
//! let config = TelemetryConfig::from_env()?
//!     .endpoint("http://localhost:6006/v1/traces")
//!     .default_service_name("my-agent");
//! let telemetry = weft_telemetry::init(config)?;
//! // … run agents …
//! telemetry.shutdown()?; // flushes what is pending (dropping the guard does it too)
//! # Ok(()) }
//! ```

mod arrays;
mod batch;
mod config;
mod direct;
mod encode;
mod metrics;
mod propagation;
mod recorder;
mod report;
mod spans;

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Level;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{self, LevelFilter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

pub use config::{
    OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_METRICS_EXPORTER, OTEL_SDK_DISABLED, OTEL_SERVICE_NAME,
    Protocol, TelemetryConfig,
};
pub use recorder::{
    DEFAULT_MAX_SPANS_PER_TRACE, DEFAULT_MAX_TRACES, MAX_ATTRIBUTE_CHARS, MAX_OPEN_TRACES, TraceRecorder,
};

/// The instrumentation scope Weft's spans are exported under.
pub const SCOPE: &str = "weft";

/// How long [`Telemetry::shutdown`] waits for pending spans to be sent.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Why telemetry could not start or stop.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` names a transport this build does not speak.
    #[error(
        "unsupported OTLP protocol {0:?}: use http/protobuf, or grpc (with weft-telemetry's `grpc` feature)"
    )]
    UnsupportedProtocol(String),
    /// The exporter could not be built (a malformed endpoint or header, …).
    #[error("could not set up the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// OTLP/gRPC was asked for outside a tokio runtime (its connection lives on one).
    #[error("OTLP/gRPC export must be started inside a tokio runtime, which must run until shutdown")]
    NoRuntime,
    /// The HTTP client of the OTLP/HTTP exporter could not be built.
    #[error("could not build the OTLP/HTTP client: {0}")]
    HttpClient(String),
    /// A header set in code is not a valid gRPC metadata entry (its value is not shown).
    #[error("invalid OTLP header {0:?}")]
    InvalidHeader(String),
    /// A global `tracing` subscriber is already installed; add [`Telemetry::layer`] to it instead.
    #[error(
        "a tracing subscriber is already installed: add weft_telemetry::Telemetry::layer() to it instead of calling init"
    )]
    SubscriberAlreadySet,
    /// Pending spans could not all be sent at shutdown (the backend is down or too slow).
    #[error("could not flush the pending spans: {0}")]
    Shutdown(String),
    /// Spans were dropped because the backend refused them or could not be reached.
    #[error("{spans} span(s) could not be sent to the OTLP endpoint: {reason}")]
    Lost {
        /// How many spans were dropped.
        spans: usize,
        /// Why the first batch failed (URL credentials masked).
        reason: String,
    },
}

/// Live export: owns the tracer provider and its batch exporter. Dropping it (or
/// [`Telemetry::shutdown`]) flushes the pending spans. A disabled one does nothing.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    meters: Option<SdkMeterProvider>,
    lost: report::LostSpans,
}

impl Telemetry {
    /// Starts export as `config` says (nothing when it is disabled). Does not install any
    /// `tracing` subscriber: add [`Telemetry::layer`] to yours, or use [`init`].
    pub fn new(config: &TelemetryConfig) -> Result<Self, TelemetryError> {
        if config.disabled {
            return Ok(Telemetry::disabled());
        }
        propagation::install();
        spans::install();
        let lost = report::LostSpans::default();
        let exporter = build_exporter(config, lost.clone())?;
        let mut resource = Resource::builder();
        if let Some(name) = &config.service_name {
            resource = resource.with_service_name(name.clone());
        }
        resource = resource.with_attributes(
            config.attributes.iter().map(|(key, value)| KeyValue::new(key.clone(), value.clone())),
        );
        let resource = resource.build();
        let meters = if config.no_metrics {
            None
        } else {
            let meters = SdkMeterProvider::builder()
                .with_periodic_exporter(build_metric_exporter(config)?)
                .with_resource(resource.clone())
                .build();
            metrics::start(&meters);
            Some(meters)
        };
        let provider = match exporter {
            SpanExport::Encoded(processor) => SdkTracerProvider::builder().with_span_processor(processor),
            SpanExport::Sdk(exporter) => SdkTracerProvider::builder().with_batch_exporter(*exporter),
        };
        let provider = provider.with_resource(resource).build();
        Ok(Telemetry { provider: Some(provider), meters, lost })
    }

    /// A disabled instance: no export.
    pub fn disabled() -> Self {
        Telemetry { provider: None, meters: None, lost: report::LostSpans::default() }
    }

    /// Whether spans are exported.
    pub fn is_enabled(&self) -> bool {
        self.provider.is_some()
    }

    /// The `tracing` layer that exports spans (at INFO and above, where Weft's spans are; not
    /// rmcp's own); `None` when disabled (an `Option<Layer>` is itself a layer that does
    /// nothing).
    ///
    /// Weft's own spans (`invoke_agent`, `chat`, `execute_tool`) are then built as
    /// OpenTelemetry spans directly, not as `tracing` spans, which costs far less per span: the
    /// other layers of the subscriber (a log formatter, a [`TraceRecorder`]) do not see them.
    /// Spans of other `tracing` code (yours, workflows', MCP calls', hosted requests') are
    /// exported through `tracing-opentelemetry`, and parents and children link across both
    /// kinds. Use [`Telemetry::tracing_layer`] when the other layers must see Weft's spans too.
    pub fn layer<S>(&self) -> Option<impl Layer<S> + use<S>>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        let provider = self.provider.as_ref()?;
        let layer = otel_layer(provider)
            // Each entered span's OpenTelemetry context is made current (on every poll of an
            // instrumented future), as Weft's direct spans are on each poll of their work: the
            // current context is then the innermost span of either kind, the parent of the
            // next one and what is propagated.
            .with_context_activation(true)
            .and_then(spans::DirectSpans::new(provider.tracer(SCOPE)))
            .with_filter(export_filter());
        Some(layer)
    }

    /// Like [`Telemetry::layer`], except that Weft's own spans stay `tracing` spans (exported
    /// through `tracing-opentelemetry`), so that the subscriber's other layers see them too: a
    /// log formatter showing them as the context of its lines, a [`TraceRecorder`]. Costs more
    /// per span.
    pub fn tracing_layer<S>(&self) -> Option<impl Layer<S> + use<S>>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        let provider = self.provider.as_ref()?;
        // No OpenTelemetry context attached on each enter and detached on each exit (every
        // poll of an instrumented future): a span's parent is found through the `tracing`
        // registry, and propagation reads the span's own context. Code that wants a Weft
        // span's OpenTelemetry context asks the span (`OpenTelemetrySpanExt::context`).
        let layer = otel_layer(provider).with_context_activation(false).with_filter(export_filter());
        Some(layer)
    }

    /// Sends what is pending and stops export; waits at most [`SHUTDOWN_TIMEOUT`]. Reports
    /// spans that could not be sent, during the run or now ([`TelemetryError::Lost`]).
    pub fn shutdown(mut self) -> Result<(), TelemetryError> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), TelemetryError> {
        if let Some(meters) = self.meters.take() {
            metrics::stop();
            // Metrics are best effort: some trace backends (Phoenix) refuse them, and their
            // loss must not turn a run with all its spans delivered into a failure.
            let _ = meters.shutdown_with_timeout(SHUTDOWN_TIMEOUT);
        }
        let Some(provider) = self.provider.take() else { return Ok(()) };
        let flushed = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT).map_err(|error| {
            TelemetryError::Shutdown(weft_core::redact::redact_urls(&error.to_string()).into_owned())
        });
        let lost = self.lost.lock().ok().and_then(|mut lost| lost.take());
        match lost {
            Some(report::Lost { spans, reason }) => Err(TelemetryError::Lost { spans, reason }),
            None => flushed,
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // Errors cannot be returned from drop; `shutdown` reports them.
        let _ = self.shutdown_inner();
    }
}

/// `tracing-opentelemetry`'s layer on `provider`, with only the spans' own attributes: no
/// thread, source location, target or busy/idle timings (noise in a GenAI trace, and bytes on
/// every span).
fn otel_layer<S>(provider: &SdkTracerProvider) -> tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(SCOPE))
        .with_threads(false)
        .with_location(false)
        .with_target(false)
        .with_tracked_inactivity(false)
}

/// What is exported: INFO and above, not rmcp. rmcp's own `serve_inner` span lasts the whole
/// MCP session, outside any request: Weft's MCP client spans describe the calls instead. A
/// `Targets` filter (not a closure) tells `tracing` and `log` that nothing below INFO is
/// wanted, so the DEBUG and TRACE call sites of the HTTP stack (hyper, reqwest, through `log`)
/// stay off instead of being asked on every request.
fn export_filter() -> filter::Targets {
    filter::Targets::new().with_default(Level::INFO).with_target("rmcp", LevelFilter::OFF)
}

/// Starts export and installs a global `tracing` subscriber with only the export layer; returns
/// the guard whose drop (or [`Telemetry::shutdown`]) flushes. A program that has its own
/// subscriber adds [`Telemetry::layer`] to it instead.
pub fn init(config: TelemetryConfig) -> Result<Telemetry, TelemetryError> {
    let telemetry = Telemetry::new(&config)?;
    tracing_subscriber::registry()
        .with(telemetry.layer())
        .try_init()
        .map_err(|_| TelemetryError::SubscriberAlreadySet)?;
    Ok(telemetry)
}

/// How spans are exported.
enum SpanExport {
    /// OTLP/HTTP with the bodies encoded by this crate, each span as it ends (see [`batch`]).
    Encoded(batch::EncodingProcessor),
    /// Through the SDK's batch span processor, opentelemetry-otlp encoding the bodies (gRPC, or
    /// HTTP with compression asked for).
    Sdk(Box<report::Reporting<opentelemetry_otlp::SpanExporter>>),
}

fn build_exporter(config: &TelemetryConfig, lost: report::LostSpans) -> Result<SpanExport, TelemetryError> {
    let endpoint = config.traces_endpoint();
    match config.protocol_or_default() {
        Protocol::HttpProtobuf => {
            // The request bodies are encoded by `encode` and sent by opentelemetry-otlp with
            // this client (see `direct`), unless compression is asked for.
            let body = (!direct::compression_requested()).then(direct::PendingBody::default);
            let mut builder = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
            if let Some(body) = &body {
                builder = builder.with_http_client(direct::PreEncoded::new(body.clone())?);
            }
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if !config.headers.is_empty() {
                builder = builder.with_headers(config.headers.clone().into_iter().collect());
            }
            let exporter = builder.build()?;
            Ok(match body {
                Some(body) => SpanExport::Encoded(batch::EncodingProcessor::start(
                    exporter,
                    body,
                    lost,
                    batch::Limits::from_env(),
                )?),
                None => SpanExport::Sdk(Box::new(report::Reporting::new(exporter, lost))),
            })
        }
        #[cfg(feature = "grpc")]
        Protocol::Grpc => {
            use opentelemetry_otlp::WithTonicConfig as _;
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(TelemetryError::NoRuntime);
            }
            let mut builder = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_protocol(opentelemetry_otlp::Protocol::Grpc);
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if !config.headers.is_empty() {
                builder = builder.with_metadata(grpc_metadata(config)?);
            }
            Ok(SpanExport::Sdk(Box::new(report::Reporting::new(builder.build()?, lost))))
        }
        #[cfg(not(feature = "grpc"))]
        Protocol::Grpc => Err(TelemetryError::UnsupportedProtocol("grpc".to_string())),
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS` as gRPC metadata (traces and metrics send the same headers).
#[cfg(feature = "grpc")]
fn grpc_metadata(config: &TelemetryConfig) -> Result<tonic::metadata::MetadataMap, TelemetryError> {
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (name, value) in &config.headers {
        let invalid = || TelemetryError::InvalidHeader(name.clone());
        let key = tonic::metadata::MetadataKey::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let value = value.parse::<tonic::metadata::MetadataValue<_>>().map_err(|_| invalid())?;
        metadata.insert(key, value);
    }
    Ok(metadata)
}

fn build_metric_exporter(
    config: &TelemetryConfig,
) -> Result<opentelemetry_otlp::MetricExporter, TelemetryError> {
    let endpoint = config.metrics_endpoint();
    match config.protocol_or_default() {
        Protocol::HttpProtobuf => {
            let mut builder = opentelemetry_otlp::MetricExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if !config.headers.is_empty() {
                builder = builder.with_headers(config.headers.clone().into_iter().collect());
            }
            Ok(builder.build()?)
        }
        #[cfg(feature = "grpc")]
        Protocol::Grpc => {
            use opentelemetry_otlp::WithTonicConfig as _;
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(TelemetryError::NoRuntime);
            }
            let mut builder = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_protocol(opentelemetry_otlp::Protocol::Grpc);
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if !config.headers.is_empty() {
                builder = builder.with_metadata(grpc_metadata(config)?);
            }
            Ok(builder.build()?)
        }
        #[cfg(not(feature = "grpc"))]
        Protocol::Grpc => Err(TelemetryError::UnsupportedProtocol("grpc".to_string())),
    }
}
