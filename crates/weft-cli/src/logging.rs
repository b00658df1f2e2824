//! What the CLI says on stderr besides its answer: notices in its own `weft: …` style (hidden
//! by `-q`), retries of the model server as one such notice, and `tracing` logs filtered by
//! `-v`/`-q` or `RUST_LOG`.

use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::{Field, Visit};
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// The target weft-openai logs each retry of a model request under.
const RETRY_TARGET: &str = "weft_provider::retry";

static QUIET: AtomicBool = AtomicBool::new(false);

/// Whether `-q` was given: notices are not shown.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints `weft: MESSAGE` on stderr, unless `-q` was given.
pub(crate) fn notice(message: fmt::Arguments<'_>) {
    if !quiet() {
        eprintln!("weft: {message}");
    }
}

/// The log filter when `RUST_LOG` is not set: warnings by default (rmcp's and weft-mcp's own
/// reports of a failed connection are left out, as the error line already says it), errors
/// only with `-q`, Weft's debug logs with `-v`, everything's with `-vv`, traces with `-vvv`.
pub(crate) fn default_filter(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error,rmcp=off,weft_mcp=off",
        (false, 0) => "warn,rmcp=off,weft_mcp=error",
        (false, 1) => {
            "warn,weft=debug,weft_core=debug,weft_openai=debug,weft_provider=debug,weft_anthropic=debug,weft_mcp=debug,weft_workflow=debug"
        }
        (false, 2) => "debug",
        (false, _) => "trace",
    }
}

/// Installs the logger: `tracing` events to stderr, filtered by `RUST_LOG` when set (it wins
/// over `-v` and `-q`), else by [`default_filter`]; model-server retries as one notice line.
/// With `telemetry` enabled, the spans are also exported; with `traces`, kept in memory for
/// DevUI (and then Weft's own spans go through `tracing` for export too).
pub(crate) fn init(
    verbose: u8,
    quiet: bool,
    telemetry: &weft::telemetry::Telemetry,
    traces: Option<&weft::telemetry::TraceRecorder>,
) {
    QUIET.store(quiet, Ordering::Relaxed);
    let from_env = std::env::var("RUST_LOG").ok().filter(|value| !value.trim().is_empty());
    let filter = from_env
        .and_then(|value| EnvFilter::try_new(value).ok())
        .unwrap_or_else(|| EnvFilter::new(default_filter(verbose, quiet)));
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter)
        .with_filter(filter_fn(|metadata| metadata.target() != RETRY_TARGET));
    let retries = RetryNotices.with_filter(filter_fn(|metadata| metadata.target() == RETRY_TARGET));
    let _ = Registry::default()
        .with(logs)
        .with(retries)
        // With DevUI's recorder, Weft's spans stay `tracing` spans so that it sees them too;
        // otherwise export builds them directly (cheaper).
        .with(traces.is_none().then(|| telemetry.layer()).flatten())
        .with(traces.is_some().then(|| telemetry.tracing_layer()).flatten())
        .with(traces.map(|traces| traces.layer()))
        .try_init();
}

/// Shows weft-openai's retry events as `weft: model server busy (HTTP 429), retrying in 2s
/// (attempt 2 of 3)`.
struct RetryNotices;

impl<S: tracing::Subscriber> Layer<S> for RetryNotices {
    fn on_event(&self, event: &tracing::Event<'_>, _context: Context<'_, S>) {
        if quiet() {
            return;
        }
        let mut retry = RetryFields::default();
        event.record(&mut retry);
        eprintln!("weft: {}", retry.notice());
    }
}

/// The fields of a retry event.
#[derive(Debug, Default)]
struct RetryFields {
    kind: String,
    status: Option<u64>,
    retry: u64,
    max_retries: u64,
    wait_ms: u64,
}

impl RetryFields {
    /// One line: what went wrong, how long until the next attempt, which attempt it is.
    fn notice(&self) -> String {
        let status = self.status.map(|status| format!(" (HTTP {status})")).unwrap_or_default();
        let what = match self.kind.as_str() {
            "rate limited" => format!("model server busy{status}"),
            "server error" => format!("model server error{status}"),
            "network error" => "cannot reach the model server".to_string(),
            "timed out" => format!("the model server did not answer in time{status}"),
            "stream ended early" => "the model server's answer was cut short".to_string(),
            "" => format!("the model request failed{status}"),
            other => format!("model request failed: {other}{status}"),
        };
        let mut wait = String::new();
        if self.wait_ms % 1000 == 0 {
            let _ = write!(wait, "{}s", self.wait_ms / 1000);
        } else {
            let _ = write!(wait, "{:.1}s", self.wait_ms as f64 / 1000.0);
        }
        format!("{what}, retrying in {wait} (attempt {} of {})", self.retry + 1, self.max_retries + 1)
    }
}

impl Visit for RetryFields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "status" => self.status = Some(value),
            "retry" => self.retry = value,
            "max_retries" => self.max_retries = value,
            "wait_ms" => self.wait_ms = value,
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(value) = u64::try_from(value) {
            self.record_u64(field, value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "kind" {
            self.kind = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "kind" {
            self.kind = format!("{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_is_one_line_in_the_cli_style() {
        let fields = RetryFields {
            kind: "rate limited".into(),
            status: Some(429),
            retry: 1,
            max_retries: 2,
            wait_ms: 2000,
        };
        assert_eq!(fields.notice(), "model server busy (HTTP 429), retrying in 2s (attempt 2 of 3)");
        let fields = RetryFields {
            kind: "network error".into(),
            status: None,
            retry: 1,
            max_retries: 2,
            wait_ms: 450,
        };
        assert_eq!(fields.notice(), "cannot reach the model server, retrying in 0.5s (attempt 2 of 3)");
    }

    #[test]
    fn quiet_and_verbose_pick_the_filter() {
        assert!(default_filter(0, true).starts_with("error"));
        assert!(default_filter(0, false).starts_with("warn"));
        assert!(default_filter(1, false).contains("weft_openai=debug"));
        assert_eq!(default_filter(2, false), "debug");
    }
}
