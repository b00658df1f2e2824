//! The OpenTelemetry side of weft-core's metrics hook: Weft's histograms on an
//! `SdkMeterProvider` whose periodic reader exports over OTLP beside the spans, flushed at
//! shutdown.

use std::collections::HashMap;
use std::sync::RwLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use weft_core::telemetry::metrics::{Attributes, HISTOGRAMS, Histogram as WeftHistogram, MetricsRecorder};

/// Bucket boundaries the GenAI semantic conventions advise for token counts.
const TOKEN_BOUNDARIES: [f64; 14] = [
    1.0,
    4.0,
    16.0,
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];
/// Bucket boundaries the GenAI semantic conventions advise for durations, in seconds.
const DURATION_BOUNDARIES: [f64; 14] =
    [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/// The live instruments, by name: those of the latest started export, none after shutdown.
static INSTRUMENTS: RwLock<Option<HashMap<&'static str, Histogram<f64>>>> = RwLock::new(None);

/// Makes Weft's measurements go to `provider` (installing weft-core's hook once per process).
pub(crate) fn start(provider: &SdkMeterProvider) {
    let meter = provider.meter(crate::SCOPE);
    let instruments = HISTOGRAMS
        .iter()
        .map(|histogram| {
            let boundaries =
                if histogram.unit == "s" { DURATION_BOUNDARIES.to_vec() } else { TOKEN_BOUNDARIES.to_vec() };
            let instrument = meter
                .f64_histogram(histogram.name)
                .with_unit(histogram.unit)
                .with_description(histogram.description)
                .with_boundaries(boundaries)
                .build();
            (histogram.name, instrument)
        })
        .collect();
    if let Ok(mut slot) = INSTRUMENTS.write() {
        *slot = Some(instruments);
    }
    weft_core::telemetry::metrics::install_recorder(Box::new(Recorder));
}

/// Stops recording (before the provider shuts down).
pub(crate) fn stop() {
    if let Ok(mut slot) = INSTRUMENTS.write() {
        *slot = None;
    }
}

struct Recorder;

impl MetricsRecorder for Recorder {
    fn record(&self, histogram: &WeftHistogram, value: f64, attributes: Attributes<'_>) {
        let Ok(slot) = INSTRUMENTS.read() else { return };
        let Some(instrument) = slot.as_ref().and_then(|instruments| instruments.get(histogram.name)) else {
            return;
        };
        let attributes: Vec<KeyValue> =
            attributes.iter().map(|(key, value)| KeyValue::new(*key, (*value).to_string())).collect();
        instrument.record(value, &attributes);
    }
}
