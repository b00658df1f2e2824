//! The OpenTelemetry side of weft-core's metrics hook: Weft's histograms on an
//! `SdkMeterProvider` whose periodic reader exports over OTLP beside the spans, flushed at
//! shutdown.

use std::cell::RefCell;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::metrics::{BoundHistogram, Histogram, MeterProvider as _};
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

/// The live instruments, in the order of [`HISTOGRAMS`], with the generation of the export
/// that made them: those of the latest started export, none after shutdown.
static INSTRUMENTS: RwLock<Option<(u64, Vec<Histogram<f64>>)>> = RwLock::new(None);

/// Counts the exports started, so that a thread's bound instruments of an earlier one are
/// dropped instead of used.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// How many bound instruments a thread keeps (Weft's measurements have a handful of attribute
/// sets: one per provider, model and operation); past it the oldest is dropped.
const MAX_BOUND_PER_THREAD: usize = 32;

/// A histogram bound to one attribute set.
struct Bound {
    generation: u64,
    histogram: usize,
    attributes: Vec<KeyValue>,
    instrument: BoundHistogram<f64>,
}

thread_local! {
    /// This thread's bound instruments, most recently used last. Binding resolves the
    /// attribute set's tracker once; each later measurement with the same attributes writes to
    /// it directly, where `Histogram::record` converts, sorts and hashes the attributes (SipHash)
    /// on every point. The measurements of one model call (its duration, input and output
    /// tokens) and those of the next calls share their attribute sets.
    static BOUND: RefCell<Vec<Bound>> = const { RefCell::new(Vec::new()) };
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
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed) + 1;
    if let Ok(mut slot) = INSTRUMENTS.write() {
        *slot = Some((generation, instruments));
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
        let Some((generation, instruments)) = slot.as_ref() else { return };
        let Some(index) = HISTOGRAMS.iter().position(|known| known.name == histogram.name) else { return };
        let Some(instrument) = instruments.get(index) else { return };
        BOUND.with_borrow_mut(|bound| {
            if bound.first().is_some_and(|first| first.generation != *generation) {
                bound.clear();
            }
            let found = bound.iter().rposition(|entry| {
                entry.histogram == index && same_attributes(&entry.attributes, attributes)
            });
            match found {
                Some(position) => bound[position].instrument.record(value),
                None => {
                    let attributes: Vec<KeyValue> = attributes
                        .iter()
                        .map(|(key, value)| KeyValue::new(*key, (*value).to_string()))
                        .collect();
                    let entry = Bound {
                        generation: *generation,
                        histogram: index,
                        instrument: instrument.bind(&attributes),
                        attributes,
                    };
                    entry.instrument.record(value);
                    if bound.len() >= MAX_BOUND_PER_THREAD {
                        bound.remove(0);
                    }
                    bound.push(entry);
                }
            }
        });
    }
}

/// Whether `kept` (converted from a measurement's attributes) holds exactly `attributes`, in
/// the same order.
fn same_attributes(kept: &[KeyValue], attributes: Attributes<'_>) -> bool {
    kept.len() == attributes.len()
        && kept.iter().zip(attributes).all(|(kept, (key, value))| {
            kept.key.as_str() == *key && matches!(&kept.value, Value::String(text) if text.as_str() == *value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_match_only_the_same_pairs_in_the_same_order() {
        let kept = vec![KeyValue::new("a", "1"), KeyValue::new("b", "2")];
        assert!(same_attributes(&kept, &[("a", "1"), ("b", "2")]));
        assert!(!same_attributes(&kept, &[("a", "1")]));
        assert!(!same_attributes(&kept, &[("a", "1"), ("b", "3")]));
        assert!(!same_attributes(&kept, &[("b", "2"), ("a", "1")]));
        assert!(!same_attributes(&kept, &[("a", "1"), ("b", "2"), ("c", "3")]));
        assert!(!same_attributes(&[KeyValue::new("a", 1)], &[("a", "1")]));
    }
}
