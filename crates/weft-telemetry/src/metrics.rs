//! The OpenTelemetry side of weft-core's metrics hook: Weft's histograms on an
//! `SdkMeterProvider` whose periodic reader exports over OTLP beside the spans, flushed at
//! shutdown.

use std::cell::RefCell;
use std::sync::RwLock;

use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry::{KeyValue, Value};
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

/// The live instruments, in the order of [`HISTOGRAMS`]: those of the latest started export,
/// none after shutdown.
static INSTRUMENTS: RwLock<Option<Vec<Histogram<f64>>>> = RwLock::new(None);

thread_local! {
    /// The attributes of this thread's latest measurement, as OpenTelemetry key-values: the
    /// measurements of one model call (its duration, input and output tokens) share most of
    /// theirs, and the next call's are usually the same, so they are converted (and their
    /// values copied) only when they change.
    static LAST_ATTRIBUTES: RefCell<Vec<KeyValue>> = const { RefCell::new(Vec::new()) };
}

/// Makes Weft's measurements go to `provider` (installing weft-core's hook once per process).
pub(crate) fn start(provider: &SdkMeterProvider) {
    let meter = provider.meter(crate::SCOPE);
    let instruments = HISTOGRAMS
        .iter()
        .map(|histogram| {
            let boundaries =
                if histogram.unit == "s" { DURATION_BOUNDARIES.to_vec() } else { TOKEN_BOUNDARIES.to_vec() };
            meter
                .f64_histogram(histogram.name)
                .with_unit(histogram.unit)
                .with_description(histogram.description)
                .with_boundaries(boundaries)
                .build()
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
        let Some(index) = HISTOGRAMS.iter().position(|known| known.name == histogram.name) else { return };
        let Some(instrument) = slot.as_ref().and_then(|instruments| instruments.get(index)) else {
            return;
        };
        LAST_ATTRIBUTES.with_borrow_mut(|last| {
            reuse_or_convert(last, attributes);
            instrument.record(value, last);
        });
    }
}

/// Makes `last` hold `attributes`, keeping the entries that already match.
fn reuse_or_convert(last: &mut Vec<KeyValue>, attributes: Attributes<'_>) {
    last.truncate(attributes.len());
    for (index, (key, value)) in attributes.iter().enumerate() {
        match last.get_mut(index) {
            Some(kept)
                if kept.key.as_str() == *key
                    && matches!(&kept.value, Value::String(text) if text.as_str() == *value) => {}
            Some(kept) => *kept = KeyValue::new(*key, (*value).to_string()),
            None => last.push(KeyValue::new(*key, (*value).to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_converted_and_changed_ones_replaced() {
        let mut last = Vec::new();
        reuse_or_convert(&mut last, &[("a", "1"), ("b", "2")]);
        assert_eq!(last, vec![KeyValue::new("a", "1"), KeyValue::new("b", "2")]);
        reuse_or_convert(&mut last, &[("a", "1"), ("b", "2"), ("c", "3")]);
        assert_eq!(last, vec![KeyValue::new("a", "1"), KeyValue::new("b", "2"), KeyValue::new("c", "3")]);
        reuse_or_convert(&mut last, &[("a", "1"), ("x", "2")]);
        assert_eq!(last, vec![KeyValue::new("a", "1"), KeyValue::new("x", "2")]);
        reuse_or_convert(&mut last, &[("a", "9")]);
        assert_eq!(last, vec![KeyValue::new("a", "9")]);
    }
}
